#!/usr/bin/python3
"""An independent WebSocket client of pom (docs/websocket-api.md), written from the docs alone:
Debian's python3-websockets and python3-nacl, no pom code.

Starts pom-verifier and pom-matcher on loopback with a development genesis, then: logs two
traders on by signing their session challenges, keeps a local book of market 1/2 from a snapshot
and deltas and checks the CRC32 of every book message and the per-market sequence, places signed
orders that trade, checks executions (sequence and root), cancels, checks open orders and order
status by client order id (also after a reconnect), and verifies its account proof — the
multiproof of docs/protocol.md section 5, run here in Python — against the verifier's root.

    ws_client_test.py BIN_DIR
"""
import asyncio
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import nacl.signing
import websockets

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/bin"
SCALE = 10**18
MARKET = "1/2"
checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dec(text):
    """A decimal string to an integer in units of 10^-18."""
    whole, _, frac = text.partition(".")
    return int(whole) * SCALE + int((frac + "0" * 18)[:18] or "0")


def fmt(v):
    """The canonical decimal string of an integer in units of 10^-18 (as the server writes)."""
    whole, frac = divmod(v, SCALE)
    frac_text = ("%018d" % frac).rstrip("0")
    return "%d.%s" % (whole, frac_text) if frac_text else "%d" % whole


# ---- Signing (docs/protocol.md section 7) ----

def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def u128(v):
    return v.to_bytes(16, "little")


def market_bytes(market):
    base, quote = market.split("/")
    return u32(int(base)) + u32(int(quote))


def signing_bytes(prover, kind, signer, nonce, body):
    return b"pom.cmd.v1" + prover + bytes([kind]) + signer + u64(nonce) + body


SIDES = {"buy": 0, "sell": 1}


def place_body(market, side, price, amount, coid):
    # limit, GTC, cancel-taker
    return (market_bytes(market) + bytes([SIDES[side], 0, 0, 0]) + u128(dec(price)) + u128(dec(amount)) + u64(coid))


# ---- The multiproof of docs/protocol.md sections 4-5, over SHA-256 ----

def H(data):
    return hashlib.sha256(data).digest()


ZERO = bytes(32)


def bit(k, i):
    return (k[i // 8] >> (i % 8)) & 1


def parent_path(k, h):
    if h >= 255:
        return ZERO
    b = bytearray(k)
    for i in range(h + 1):
        b[i // 8] &= ~(1 << (i % 8)) & 0xFF
    return bytes(b)


def is_empty(n):
    return n[0] == "v" and n[1] == ZERO


def node_hash(n):
    return n[1] if n[0] == "v" else H(b"\x02" + n[1] + n[2] + bytes([n[3]]))


def with_bit(z, h):
    b = bytearray(z)
    b[h // 8] |= 1 << (h % 8)
    return bytes(b)


def merge_with_zero(h, key, n, right):
    if n[0] == "v":
        base = H(bytes([h]) + key + n[1])
        return ("m", base, with_bit(ZERO, h) if right else ZERO, 1)
    return ("m", n[1], with_bit(n[2], h) if right else n[2], (n[3] + 1) % 256)


def merge(h, key, left, right):
    if is_empty(left) and is_empty(right):
        return ("v", ZERO)
    if is_empty(left):
        return merge_with_zero(h, key, right, True)
    if is_empty(right):
        return merge_with_zero(h, key, left, False)
    return ("v", H(b"\x01" + bytes([h]) + key + node_hash(left) + node_hash(right)))


def multiproof_root(program, leaves):
    """leaves: [(tree key, value)]; returns the root the program proves."""
    leaves = sorted(leaves, key=lambda kv: int.from_bytes(kv[0], "little"))
    stack, li, pc = [], 0, 0
    empty = ("v", ZERO)

    def lift(h, k, n, s):
        pk = parent_path(k, h)
        return (h + 1, pk, merge(h, pk, n, s) if bit(k, h) == 0 else merge(h, pk, s, n))

    while pc < len(program):
        op = program[pc]
        pc += 1
        if op == 0x4C:
            k, v = leaves[li]
            li += 1
            stack.append((0, k, ("v", v)))
        elif op == 0x50:
            h, k, n = stack.pop()
            stack.append(lift(h, k, n, ("v", program[pc:pc + 32])))
            pc += 32
        elif op == 0x51:
            s = ("m", program[pc + 1:pc + 33], program[pc + 33:pc + 65], program[pc])
            pc += 65
            h, k, n = stack.pop()
            stack.append(lift(h, k, n, s))
        elif op == 0x48:
            hb, kb, nb = stack.pop()
            ha, ka, na = stack.pop()
            assert ha == hb and parent_path(ka, ha) == parent_path(kb, hb) and bit(ka, ha) == 0 and bit(kb, hb) == 1
            pk = parent_path(ka, ha)
            stack.append((ha + 1, pk, merge(ha, pk, na, nb)))
        elif op == 0x4F:
            count = program[pc] or 256
            pc += 1
            h, k, n = stack.pop()
            assert h + count <= 256
            for _ in range(count):
                h, k, n = lift(h, k, n, empty)
            stack.append((h, k, n))
        else:
            raise AssertionError("bad opcode %#x" % op)
    assert len(stack) == 1 and stack[0][0] == 256 and li == len(leaves), "malformed multiproof"
    return node_hash(stack[0][2])


# ---- The book checksum (docs/websocket-api.md) ----

def checksum(book):
    bids = sorted(book["bids"].items(), key=lambda kv: -kv[0])[:10]
    asks = sorted(book["asks"].items(), key=lambda kv: kv[0])[:10]
    text = "".join("b%s:%s;" % (fmt(p), fmt(a)) for p, a in bids) + "".join("a%s:%s;" % (fmt(p), fmt(a)) for p, a in asks)
    return zlib.crc32(text.encode())


class Client:
    def __init__(self, url, seed=None):
        self.url = url
        self.key = nacl.signing.SigningKey(seed) if seed else None
        self.next_id = 1
        self.pending = {}
        self.pushed = asyncio.Queue()
        self.book = None
        self.book_seq = None

    async def connect(self):
        self.ws = await websockets.connect(self.url, max_size=2**24)
        hello = json.loads(await self.ws.recv())
        check(hello["channel"] == "session" and len(bytes.fromhex(hello["challenge"])) == 32, "session message")
        self.challenge = bytes.fromhex(hello["challenge"])
        self.prover = bytes.fromhex(hello["prover_id"])
        self.reader = asyncio.ensure_future(self.read_loop())

    async def read_loop(self):
        async for text in self.ws:
            msg = json.loads(text)
            if "id" in msg and msg["id"] in self.pending:
                self.pending.pop(msg["id"]).set_result(msg)
            elif msg.get("channel") == "book":
                self.on_book(msg)
            else:
                await self.pushed.put(msg)

    def on_book(self, msg):
        levels = lambda side: {dec(p): dec(a) for p, a in msg[side]}
        if msg["type"] == "snapshot":
            self.book = {"bids": levels("bids"), "asks": levels("asks")}
            self.book_seq = msg["seq"]
        elif msg["type"] == "delta":
            check(msg["seq"] == self.book_seq + 1, "book sequence grows by 1: %s after %s" % (msg["seq"], self.book_seq))
            self.book_seq = msg["seq"]
            for side in ("bids", "asks"):
                for p, a in msg[side]:
                    if dec(a) == 0:
                        self.book[side].pop(dec(p), None)
                    else:
                        self.book[side][dec(p)] = dec(a)
        else:
            return  # resync: a snapshot follows
        check(checksum(self.book) == msg["checksum"], "book checksum after seq %s" % msg["seq"])

    async def call(self, method, params=None):
        rid = self.next_id
        self.next_id += 1
        fut = asyncio.get_event_loop().create_future()
        self.pending[rid] = fut
        await self.ws.send(json.dumps({"id": rid, "method": method, "params": params or {}}))
        msg = await asyncio.wait_for(fut, 10)
        check("rate_limit" in msg, "every response carries the rate-limit usage")
        return msg

    async def ok(self, method, params=None):
        msg = await self.call(method, params)
        check("result" in msg, "%s: %s" % (method, msg.get("error")))
        return msg["result"]

    @property
    def account(self):
        return bytes(self.key.verify_key)

    async def logon(self):
        signature = self.key.sign(b"pom.logon.v1" + self.prover + self.challenge).signature
        return await self.ok("logon", {"account": self.account.hex(), "signature": signature.hex()})

    def signed(self, kind, body, nonce):
        return self.key.sign(signing_bytes(self.prover, kind, self.account, nonce, body)).signature.hex()

    async def place(self, side, price, amount, coid, nonce):
        body = place_body(MARKET, side, price, amount, coid)
        return await self.call("place", {"market": MARKET, "side": side, "price": price, "amount": amount,
                                         "client_order_id": coid, "nonce": str(nonce),
                                         "signature": self.signed(0, body, nonce)})

    async def cancel(self, order_id, nonce):
        body = market_bytes(MARKET) + u64(order_id)
        return await self.call("cancel", {"market": MARKET, "order_id": order_id, "nonce": nonce,
                                          "signature": self.signed(1, body, nonce)})

    async def next_push(self, channel, timeout=10):
        deadline = time.time() + timeout
        while True:
            msg = await asyncio.wait_for(self.pushed.get(), max(0.1, deadline - time.time()))
            if msg.get("channel") == channel:
                return msg

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def kv(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and " " not in line.split("=", 1)[0])


async def scenario(work, mport, vport, wsport):
    cli = [os.path.join(BIN, "pom-cli"), "--matcher", "127.0.0.1:%d" % mport, "--verifier", "127.0.0.1:%d" % vport]
    run(*cli, "market-create", "--key", work + "/dev/operator.key", "--market", MARKET, "--price-decimals", "2",
        "--amount-decimals", "3", "--maker-fee-ppm", "1000", "--taker-fee-ppm", "2000")
    run(*cli, "deposit", "--key", work + "/dev/user1.key", "--currency", "1", "--amount", "100", "--wait")
    run(*cli, "deposit", "--key", work + "/dev/user2.key", "--currency", "2", "--amount", "100000", "--wait")
    seeds = [bytes.fromhex(open(work + "/dev/user%d.key" % u).read().strip()) for u in (1, 2)]
    url = "ws://127.0.0.1:%d" % wsport

    watcher = Client(url)
    await watcher.connect()
    check((await watcher.call("place", {}))["error"]["code"] == 1006, "private methods need a logon")
    await watcher.ok("subscribe", {"channel": "book", "market": MARKET})
    await watcher.ok("subscribe", {"channel": "trades", "market": MARKET})

    alice, bob = Client(url, seeds[0]), Client(url, seeds[1])
    for c in (alice, bob):
        await c.connect()
        bad = await c.call("logon", {"account": c.account.hex(), "signature": "00" * 64})
        check(bad["error"]["code"] == 1007, "a bad logon signature is refused")
        check((await c.logon())["account"] == c.account.hex(), "logon")
        await c.ok("subscribe", {"channel": "executions"})

    nonce = int(time.time() * 1e6)
    # Alice rests two asks; Bob takes the first and part of the second.
    a1 = await alice.place("sell", "100", "2", 11, nonce + 1)
    a2 = await alice.place("sell", "101", "3", 12, nonce + 2)
    check(a1["result"]["status"] == "accepted" and a1["result"]["resting"] == "2", "a resting ask: %s" % a1)
    forged = await bob.call("place", {"market": MARKET, "side": "buy", "price": "101", "amount": "1",
                                      "nonce": nonce + 3, "signature": "11" * 64})
    check(forged["error"]["code"] == 1008, "a badly signed order is refused")
    b1 = await bob.place("buy", "101", "4", 21, nonce + 4)
    fills = b1["result"]["fills"]
    check(len(fills) == 2 and fills[0]["price"] == "100" and fills[0]["amount"] == "2" and fills[1]["amount"] == "2",
          "the buy takes both levels at the makers' prices: %s" % fills)
    # Resending a client order id returns the original result.
    again = await bob.place("buy", "101", "4", 21, nonce + 5)
    check(again["result"]["duplicate"] and again["result"]["sequence"] == b1["result"]["sequence"],
          "a resent client order id answers the original order")
    # Alice's executions: two fills, each with its sequence and root.
    fill = await alice.next_push("executions")
    while fill["kind"] != "fill":
        fill = await alice.next_push("executions")
    check(fill["sequence"] == b1["result"]["sequence"] and fill["root"] == b1["result"]["root"], "a maker fill carries the event's sequence and root")
    trade = await watcher.next_push("trades")
    while trade["event"] != b1["result"]["sequence"]:
        trade = await watcher.next_push("trades")
    check(len(trade["trades"]) == 2 and trade["trades"][0]["taker_side"] == "buy", "trades")
    # Alice cancels what is left of her second ask.
    open_orders = await alice.ok("open_orders")
    check([o["order_id"] for o in open_orders["orders"]] == [a2["result"]["order_id"]], "one open order left")
    cancelled = await alice.cancel(a2["result"]["order_id"], nonce + 6)
    check(cancelled["result"]["status"] == "accepted" and cancelled["result"]["cancelled"] == [a2["result"]["order_id"]], "cancel")
    check((await alice.ok("open_orders"))["orders"] == [], "nothing open after the cancel")
    status = await alice.ok("order_status", {"client_order_id": 12})
    check(status["sequence"] == a2["result"]["sequence"] and not status["open"], "order status by client order id")
    # The local book, kept from snapshot + deltas (every checksum checked), is empty now.
    await asyncio.sleep(0.3)
    check(watcher.book == {"bids": {}, "asks": {}}, "the local book: %s" % watcher.book)

    # The account proof, verified here, against the verifier's root at the same sequence.
    proof = await bob.ok("account_proof")
    leaves = [(H(bytes.fromhex(l["raw_key"])), bytes.fromhex(l["value"])) for l in proof["leaves"]]
    root = multiproof_root(bytes.fromhex(proof["multiproof"]), leaves)
    check(root.hex() == proof["root"], "the multiproof gives the proof's root")
    bob_base = [b for b in proof["balances"] if b["currency"] == 1][0]
    check(bob_base["available"] == "3.992", "Bob received 4 less the 0.2%% taker fee: %s" % bob_base)
    leaf = [l for l in proof["leaves"] if l["raw_key"] == ("00" + bob.account.hex() + u32(1).hex())][0]
    check(int.from_bytes(bytes.fromhex(leaf["value"])[:16], "little") == dec("3.992"), "the balance is the proven leaf")
    head = {}
    for _ in range(100):
        head = kv(run(*cli, "head"))
        if int(head["verifier_sequence"]) >= proof["sequence"]:
            break
        time.sleep(0.05)
    check(int(head["verifier_sequence"]) == proof["sequence"], "the verifier reached the proof's sequence")
    check(head["verifier_root"] == proof["root"], "the account proof's root is the verifier's root")

    # Reconnect: Bob drops, comes back, resends his client order id and gets the original result;
    # the watcher's book resyncs from a new snapshot.
    await bob.close()
    bob2 = Client(url, seeds[1])
    await bob2.connect()
    await bob2.logon()
    again = await bob2.place("buy", "101", "4", 21, nonce + 7)
    check(again["result"]["duplicate"] and again["result"]["sequence"] == b1["result"]["sequence"], "after a reconnect")
    await watcher.close()
    watcher2 = Client(url)
    await watcher2.connect()
    await watcher2.ok("subscribe", {"channel": "book", "market": MARKET})
    await asyncio.sleep(0.2)
    check(watcher2.book == {"bids": {}, "asks": {}} and watcher2.book_seq == watcher.book_seq, "the resynced book")
    for c in (alice, bob2, watcher2):
        await c.close()


def main():
    work = tempfile.mkdtemp(prefix="pom-ws-")
    procs = []
    try:
        mport, vport, wsport = free_port(), free_port(), free_port()
        os.mkdir(work + "/dev")
        run(os.path.join(BIN, "pom-cli"), "dev-genesis", "--dir", work + "/dev", "--users", "2")
        genesis = work + "/dev/genesis.json"
        procs.append(subprocess.Popen([os.path.join(BIN, "pom-verifier"), "serve", "--genesis", genesis, "--data",
                                       work + "/verifier", "--listen", "127.0.0.1:%d" % vport, "--matcher",
                                       "127.0.0.1:%d" % mport], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([os.path.join(BIN, "pom-matcher"), "serve", "--genesis", genesis, "--data",
                                       work + "/matcher", "--listen", "127.0.0.1:%d" % mport, "--verifier",
                                       "127.0.0.1:%d" % vport, "--ws-listen", "127.0.0.1:%d" % wsport],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        for p in procs:
            while b"listening port=" not in p.stdout.readline():
                pass
        asyncio.get_event_loop().run_until_complete(scenario(work, mport, vport, wsport))
        for p in procs:
            p.terminate()
        for p in procs:
            check(p.wait(10) == 0, "a daemon stops cleanly")
        print("%d passed, 0 failed" % checks)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
