#!/usr/bin/python3
"""Helpers for pom's WebSocket client tests, written from docs/websocket-api.md and
docs/protocol.md alone (Debian's python3-websockets and python3-nacl, no pom code): the signing
encoding, the multiproof, the book checksum, a client, and the daemons on loopback."""
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

SCALE = 10**18
MARKET = "1/2"
CHECKS = [0]


def check(condition, what):
    CHECKS[0] += 1
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
        self.resyncs = 0
        self.book_market = None
        self.book_epoch = None

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
        # One local book per client: the first market it gets a snapshot of.
        if self.book_market is None and msg["type"] == "snapshot":
            self.book_market = msg["market"]
        if msg["market"] != self.book_market:
            return
        levels = lambda side: {dec(p): dec(a) for p, a in msg[side]}
        if msg["type"] == "snapshot":
            self.book = {"bids": levels("bids"), "asks": levels("asks")}
            self.book_seq = msg["seq"]
            self.book_epoch = msg["epoch"]
        elif msg["type"] == "delta":
            check(msg["epoch"] == self.book_epoch, "a delta of the snapshot's epoch")
            check(msg["seq"] == self.book_seq + 1, "book %s sequence grows by 1: %s after %s" % (msg["market"], msg["seq"], self.book_seq))
            self.book_seq = msg["seq"]
            for side in ("bids", "asks"):
                for p, a in msg[side]:
                    if dec(a) == 0:
                        self.book[side].pop(dec(p), None)
                    else:
                        self.book[side][dec(p)] = dec(a)
        else:
            self.resyncs += 1  # a snapshot follows
            return
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




class Daemons:
    """pom-verifier and pom-matcher on free loopback ports, with a development genesis of
    `users` users; the market 1/2 created and `deposits` [(user, currency, amount)] made."""

    def __init__(self, bin_dir, users=2, deposits=(), matcher_args=()):
        self.bin = bin_dir
        self.work = tempfile.mkdtemp(prefix="pom-ws-")
        self.procs = []
        self.mport, self.vport, self.wsport = free_port(), free_port(), free_port()
        os.mkdir(self.work + "/dev")
        run(os.path.join(bin_dir, "pom-cli"), "dev-genesis", "--dir", self.work + "/dev", "--users", str(users))
        genesis = self.work + "/dev/genesis.json"
        self.procs.append(subprocess.Popen(
            [os.path.join(bin_dir, "pom-verifier"), "serve", "--genesis", genesis, "--data", self.work + "/verifier",
             "--listen", "127.0.0.1:%d" % self.vport, "--matcher", "127.0.0.1:%d" % self.mport,
             "--admin-listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        self.matcher_cmd = [os.path.join(bin_dir, "pom-matcher"), "serve", "--genesis", genesis, "--data",
                            self.work + "/matcher", "--listen", "127.0.0.1:%d" % self.mport, "--verifier",
                            "127.0.0.1:%d" % self.vport, "--ws-listen", "127.0.0.1:%d" % self.wsport,
                            "--admin-listen", "127.0.0.1:0"] + list(matcher_args)
        self.procs.append(subprocess.Popen(self.matcher_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        for p in self.procs:
            while b"listening port=" not in p.stdout.readline():
                if p.poll() is not None:
                    raise AssertionError("a daemon did not start")
        self.cli = [os.path.join(bin_dir, "pom-cli"), "--matcher", "127.0.0.1:%d" % self.mport,
                    "--verifier", "127.0.0.1:%d" % self.vport]
        run(*self.cli, "market-create", "--key", self.work + "/dev/operator.key", "--market", MARKET,
            "--price-decimals", "2", "--amount-decimals", "3", "--maker-fee-ppm", "1000", "--taker-fee-ppm", "2000")
        for user, currency, amount in deposits:
            run(*self.cli, "deposit", "--key", self.work + "/dev/user%d.key" % user, "--currency", str(currency),
                "--amount", amount, "--wait")
        self.url = "ws://127.0.0.1:%d" % self.wsport

    def restart_matcher(self):
        """Stops pom-matcher cleanly and starts it again on the same data directory and ports."""
        old = self.procs[1]
        old.terminate()
        check(old.wait(10) == 0, "pom-matcher stops cleanly")
        self.procs[1] = subprocess.Popen(self.matcher_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        while b"listening port=" not in self.procs[1].stdout.readline():
            if self.procs[1].poll() is not None:
                raise AssertionError("pom-matcher did not restart")

    def seed(self, user):
        return bytes.fromhex(open(self.work + "/dev/user%d.key" % user).read().strip())

    def stop(self):
        for p in self.procs:
            p.terminate()
        codes = [p.wait(10) for p in self.procs]
        shutil.rmtree(self.work, ignore_errors=True)
        return codes

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(self.work, ignore_errors=True)
