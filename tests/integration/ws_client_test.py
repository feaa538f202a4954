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
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pomws import (CHECKS, MARKET, Client, Daemons, H, check, dec, kv, market_bytes, multiproof_root, run, u32, u64)  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/bin"


async def scenario(d):
    cli = d.cli
    seeds = [d.seed(1), d.seed(2)]
    url = d.url

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

    # pom-cli over the WebSocket: the book (checksum checked), the account proof checked against
    # the verifier's root, and executions as they happen.
    book = run(*cli, "--ws", url, "watch-book", "--market", MARKET, "--count", "1")
    check("snapshot seq=%d checksum=ok" % watcher.book_seq in book, "pom-cli watch-book: %s" % book)
    proof_out = kv(run(*cli, "--ws", url, "account-proof", "--key", d.work + "/dev/user2.key"))
    check(proof_out.get("proof") == "verified" and proof_out.get("verifier_root") == "match", "pom-cli account-proof: %s" % proof_out)
    watch = subprocess.Popen(cli + ["--ws", url, "executions", "--key", d.work + "/dev/user1.key", "--count", "1"],
                             stdout=subprocess.PIPE, text=True)
    await asyncio.sleep(0.5)
    placed = await alice.place("sell", "150", "1", 0, nonce + 30)
    out, _ = watch.communicate(timeout=10)
    execution = json.loads(out.strip().splitlines()[-1])
    check(execution["sequence"] == placed["result"]["sequence"] and execution["kind"] == "order", "pom-cli executions: %s" % out)
    cancelled = await alice.cancel(placed["result"]["order_id"], nonce + 31)
    check(cancelled["result"]["status"] == "accepted", "cancel the order pom-cli saw")

    # Reconnect: Bob drops, comes back, resends his client order id and gets the original result;
    # the watcher's book resyncs from a new snapshot.
    await bob.close()
    bob2 = Client(url, seeds[1])
    await bob2.connect()
    await bob2.logon()
    again = await bob2.place("buy", "101", "4", 21, nonce + 7)
    check(again["result"]["duplicate"] and again["result"]["sequence"] == b1["result"]["sequence"], "after a reconnect")
    # ... and after a restart of the matcher, the same answer (the client order id index is durable).
    await bob2.close()
    await watcher.close()
    d.restart_matcher()
    bob2 = Client(url, seeds[1])
    await bob2.connect()
    await bob2.logon()
    again = await bob2.place("buy", "101", "4", 21, nonce + 8)
    check(again["result"]["duplicate"] and again["result"]["sequence"] == b1["result"]["sequence"], "after a matcher restart")
    status = await bob2.ok("order_status", {"client_order_id": 21})
    check(status["sequence"] == b1["result"]["sequence"] and status["fills"] == b1["result"]["fills"], "order status after a restart")
    watcher2 = Client(url)
    await watcher2.connect()
    await watcher2.ok("subscribe", {"channel": "book", "market": MARKET})
    await asyncio.sleep(0.2)
    check(watcher2.book == {"bids": {}, "asks": {}}, "the resynced book")
    check(watcher2.book_epoch != watcher.book_epoch, "a restarted matcher's book messages carry a new epoch")

    # cancel_all: three resting bids, then one request of three signed cancels.
    ids = []
    for i, price in enumerate(["90", "91", "92"]):
        r = await bob2.place("buy", price, "1", 100 + i, nonce + 10 + i)
        check(r["result"]["resting"] == "1", "a resting bid")
        ids.append(r["result"]["order_id"])
    await asyncio.sleep(0.2)
    check(sorted(watcher2.book["bids"]) == [dec("90"), dec("91"), dec("92")], "three bids in the local book")
    cancels = [{"order_id": oid, "nonce": nonce + 20 + i,
                "signature": bob2.signed(1, market_bytes(MARKET) + u64(oid), nonce + 20 + i)} for i, oid in enumerate(ids)]
    bad = [dict(c) for c in cancels]
    bad[1]["signature"] = "22" * 64
    refused = await bob2.call("cancel_all", {"market": MARKET, "orders": bad})
    check(refused["error"]["code"] == 1008 and "orders[1]" in refused["error"]["message"], "one bad cancel refuses the batch")
    check(len((await bob2.ok("open_orders"))["orders"]) == 3, "nothing was cancelled by the refused batch")
    done = await bob2.ok("cancel_all", {"market": MARKET, "orders": cancels})
    check([r["cancelled"] for r in done["results"]] == [[oid] for oid in ids], "cancel_all: %s" % done)
    check((await bob2.ok("open_orders"))["orders"] == [], "nothing open after cancel_all")
    await asyncio.sleep(0.2)
    check(watcher2.book == {"bids": {}, "asks": {}}, "the local book after cancel_all")
    for c in (alice, bob2, watcher2):
        await c.close()


def main():
    d = Daemons(BIN, users=2, deposits=[(1, 1, "100"), (2, 2, "100000")])
    try:
        asyncio.get_event_loop().run_until_complete(scenario(d))
        check(d.stop() == [0, 0], "both daemons stop cleanly")
    except BaseException:
        d.kill()
        raise
    print("%d passed, 0 failed" % CHECKS[0])


if __name__ == "__main__":
    main()
