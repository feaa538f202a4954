#!/usr/bin/python3
"""Bad input against pom's WebSocket gateway (docs/websocket-api.md), from an independent
Python client: malformed JSON, wrong types, huge numbers, too many decimals, negative amounts,
unknown methods, bad and replayed signatures, stale nonces, oversized frames, floods, too many
subscriptions and connections, half-open connections. Each case must get its documented error
or close code; the server must keep serving other clients; and no rejected request may change
any state (the event sequence and the balances are compared before and after).

    ws_bad_input_test.py BIN_DIR
"""
import asyncio
import json
import os
import socket
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pomws import (CHECKS, MARKET, Client, Daemons, check, market_bytes, place_body, run, u64)  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/bin"
FRAME_LIMIT = 4096


async def expect_error(client, payload, code, name):
    """Sends `payload` (a request dict, or raw text) and expects error `code`."""
    rid = client.next_id
    client.next_id += 1
    if isinstance(payload, dict):
        payload = dict(payload, id=rid)
        fut = asyncio.get_event_loop().create_future()
        client.pending[rid] = fut
        await client.ws.send(json.dumps(payload))
        msg = await asyncio.wait_for(fut, 10)
    else:
        # Raw text: the reply has no usable id (null), so it arrives as a pushed message.
        await client.ws.send(payload)
        msg = await asyncio.wait_for(client.pushed.get(), 10)
        while "channel" in msg:  # heartbeats and other pushes
            msg = await asyncio.wait_for(client.pushed.get(), 10)
    check("error" in msg, "%s: expected error %d, got %s" % (name, code, msg))
    check(msg["error"]["code"] == code, "%s: expected error %d, got %s" % (name, code, msg["error"]))
    check("rate_limit" in msg, "%s: the error carries the rate-limit usage" % name)


async def expect_close(ws, code, name):
    closed = None
    deadline = time.time() + 20
    try:
        while time.time() < deadline:  # heartbeats may come first
            await asyncio.wait_for(ws.recv(), 10)
    except websockets.ConnectionClosed as e:
        closed = e.rcvd.code if e.rcvd else None
    check(closed == code, "%s: expected close %d, got %s" % (name, code, closed))


async def state(client):
    """The gateway's last event and the account's balances: what no rejected request may change."""
    seq = (await client.ok("ping"))["sequence"]
    balances = (await client.ok("balances"))["balances"]
    return seq, balances


async def scenario(d):
    run(*d.cli, "market-create", "--key", d.work + "/dev/operator.key", "--market", "3/4", "--price-decimals", "2",
        "--amount-decimals", "3")
    alice = Client(d.url, d.seed(1))
    await alice.connect()
    await alice.logon()
    anon = Client(d.url)
    await anon.connect()
    probe = Client(d.url)  # another client that must stay served throughout
    await probe.connect()

    nonce = int(time.time() * 1e6)
    good = await alice.place("sell", "100", "1", 0, nonce)
    check(good["result"]["status"] == "accepted", "a good order first")
    before = await state(alice)

    def place(**changes):
        """A correctly signed place request for nonce+10, then `changes` applied (None removes)."""
        n = nonce + 10
        params = {"market": MARKET, "side": "sell", "price": "100", "amount": "1", "client_order_id": 0,
                  "nonce": str(n), "signature": alice.signed(0, place_body(MARKET, "sell", "100", "1", 0), n)}
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = v
        return {"method": "place", "params": params}

    cases = []
    # -- malformed JSON: 1000
    for text in ["", "{", "}", "nul", "[1,2", '{"id":1,', "\x00", "{'id':1}", "tru", '{"id":1 "method":"ping"}',
                 '{"id":1,}', "NaN", "Infinity", '{"id":01}', '"unterminated', "[" * 3000, '{"id":1,"method":"ping"',
                 "\u00ff\u00fe", '{"id":1,"method":"ping"}}', "1 2"]:
        cases.append(("json %r" % text[:20], anon, text, 1000))
    # -- not a request: 1001
    for text in ["[]", "[1]", "42", '"ping"', "null", "true", '{"method":"ping"}', '{"id":1.5,"method":"ping"}',
                 '{"id":true,"method":"ping"}', '{"id":{},"method":"ping"}', '{"id":[1],"method":"ping"}',
                 json.dumps({"id": "x" * 65, "method": "ping"}), '{"id":null,"method":"ping"}']:
        cases.append(("request %s" % text[:30], anon, text, 1001))
    for req in [{"params": {}}, {"method": 5}, {"method": None}, {"method": ["ping"]}, {"method": "ping", "params": []},
                {"method": "ping", "params": "x"}, {"method": "ping", "params": 3}]:
        cases.append(("request %s" % json.dumps(req)[:30], anon, req, 1001))
    # -- unknown methods: 1002
    for m in ["foo", "", "PLACE", "place ", "Ping", "x" * 500, "logon\u0000", "balances/all"]:
        cases.append(("method %r" % m[:20], anon, {"method": m}, 1002))
    # -- private without logon: 1006
    for m in ["place", "cancel", "amend", "balances", "open_orders", "order_status", "account_proof"]:
        cases.append(("%s without logon" % m, anon, {"method": m, "params": {}}, 1006))
    cases.append(("executions without logon", anon, {"method": "subscribe", "params": {"channel": "executions"}}, 1006))
    # -- logon: 1003 (shape) and 1007 (refused)
    acct = alice.account.hex()
    for params, code in [({}, 1003), ({"account": acct}, 1003), ({"account": "zz" * 32, "signature": "00" * 64}, 1003),
                         ({"account": acct[:-2], "signature": "00" * 64}, 1003), ({"account": acct, "signature": "00"}, 1003),
                         ({"account": 5, "signature": "00" * 64}, 1003), ({"account": acct, "signature": "00" * 64}, 1007),
                         ({"account": acct, "signature": alice.key.sign(b"pom.logon.v1" + alice.prover + bytes(32)).signature.hex()}, 1007)]:
        cases.append(("logon %s" % json.dumps(params)[:40], anon, {"method": "logon", "params": params}, code))
    cases.append(("logon twice", alice, {"method": "logon", "params": {"account": acct, "signature": "00" * 64}}, 1007))
    # -- place parameters: 1003 and 1004
    for changes, code in [({"market": None}, 1003), ({"market": "1"}, 1003), ({"market": "a/b"}, 1003), ({"market": "-1/2"}, 1003),
                          ({"market": "1/2/3"}, 1003), ({"market": 12}, 1003), ({"market": "1/"}, 1003), ({"market": "99999999999/2"}, 1003),
                          ({"side": "hold"}, 1003), ({"side": 1}, 1003), ({"side": None}, 1003), ({"type": "stop"}, 1003),
                          ({"time_in_force": "day"}, 1003), ({"stp": "x"}, 1003), ({"amount": None}, 1003),
                          ({"amount": 1}, 1004), ({"amount": "-1"}, 1004), ({"amount": "+1"}, 1004), ({"amount": "1e3"}, 1004),
                          ({"amount": "1.0000000000000000001"}, 1004), ({"amount": ""}, 1004), ({"amount": "abc"}, 1004),
                          ({"amount": "340282366920938463464"}, 1004), ({"amount": "1,5"}, 1004), ({"amount": " 1"}, 1004),
                          ({"amount": "0x10"}, 1004), ({"amount": "1.2.3"}, 1004), ({"price": None}, 1003), ({"price": 100}, 1004),
                          ({"price": "-100"}, 1004), ({"price": "1e2"}, 1004), ({"price": "99999999999999999999999999"}, 1004),
                          ({"type": "market"}, 1003), ({"nonce": None}, 1003), ({"nonce": -5}, 1004), ({"nonce": 1.5}, 1004),
                          ({"nonce": "abc"}, 1004), ({"nonce": "18446744073709551616"}, 1004), ({"nonce": "-1"}, 1004),
                          ({"signature": None}, 1003), ({"signature": "ab"}, 1003), ({"signature": "zz" * 64}, 1003),
                          ({"signature": 7}, 1003), ({"client_order_id": "x"}, 1004), ({"client_order_id": -1}, 1004)]:
        cases.append(("place %s" % json.dumps(changes)[:40], alice, place(**changes), code))
    # -- bad signatures (well-formed requests): 1008
    other = Client(d.url, d.seed(2))
    await other.connect()
    n = nonce + 10
    for name, changes in [("random signature", {"signature": "11" * 64}),
                          ("signed for another amount", {"amount": "2"}),
                          ("signed for another price", {"price": "101"}),
                          ("signed for another side", {"side": "buy"}),
                          ("signed for another nonce", {"nonce": str(n + 1)}),
                          ("signed for another client order id", {"client_order_id": 5}),
                          ("signed by another key", {"signature": other.signed(0, place_body(MARKET, "sell", "100", "1", 0), n)}),
                          ("signed for another market", {"market": "3/4"})]:
        cases.append(("place %s" % name, alice, place(**changes), 1008))
    cancel_sig = alice.signed(1, market_bytes(MARKET) + u64(1), n)
    cases.append(("cancel with a place signature", alice,
                  {"method": "cancel", "params": {"market": MARKET, "order_id": 2, "nonce": n, "signature": cancel_sig}}, 1008))
    cases.append(("cancel without order_id", alice,
                  {"method": "cancel", "params": {"market": MARKET, "nonce": n, "signature": cancel_sig}}, 1003))
    cases.append(("amend without amount", alice,
                  {"method": "amend", "params": {"market": MARKET, "order_id": 2, "nonce": n, "signature": cancel_sig}}, 1003))
    # -- stale nonce (a new command with a used nonce): 1009
    stale = nonce - 5
    cases.append(("stale nonce", alice, {"method": "place", "params": {
        "market": MARKET, "side": "sell", "price": "100", "amount": "1", "nonce": stale,
        "signature": alice.signed(0, place_body(MARKET, "sell", "100", "1", 0), stale)}}, 1009))
    # -- subscriptions and queries: 1003, 1011, 1013
    for params, code in [({}, 1003), ({"channel": "foo"}, 1003), ({"channel": "book"}, 1003),
                         ({"channel": "book", "market": "7/8"}, 1011), ({"channel": "trades", "market": "x"}, 1003)]:
        cases.append(("subscribe %s" % json.dumps(params), anon, {"method": "subscribe", "params": params}, code))
    for params, code in [({}, 1003), ({"order_id": 1, "client_order_id": 1}, 1003), ({"client_order_id": 424242}, 1013),
                         ({"order_id": 999999999}, 1013), ({"order_id": "x"}, 1004)]:
        cases.append(("order_status %s" % json.dumps(params), alice, {"method": "order_status", "params": params}, code))

    for name, client, payload, code in cases:
        await expect_error(client, payload, code, name)
    check(len(cases) >= 100, "at least 100 request cases: %d" % len(cases))
    check((await probe.ok("ping"))["sequence"] == before[0], "the probe is served")

    # A replayed signature (the identical command again) returns the original, changes nothing.
    replay = await alice.place("sell", "100", "1", 0, nonce)
    check(replay["result"]["duplicate"] and replay["result"]["sequence"] == good["result"]["sequence"], "a replay is the original")
    check(await state(alice) == before, "no rejected request changed any state")

    # -- too many subscriptions (limit 3 in this run): 1010
    subs = Client(d.url)
    await subs.connect()
    for channel, market in [("book", "1/2"), ("trades", "1/2"), ("book", "3/4")]:
        await subs.ok("subscribe", {"channel": channel, "market": market})
    await expect_error(subs, {"method": "subscribe", "params": {"channel": "trades", "market": "3/4"}}, 1010, "4th subscription")

    # -- an oversized frame: close 1009, others unaffected
    big = Client(d.url)
    await big.connect()
    big.reader.cancel()
    await big.ws.send(json.dumps({"id": 1, "method": "ping", "params": {"pad": "x" * FRAME_LIMIT}}))
    await expect_close(big.ws, 1009, "oversized frame")

    # -- a flood: rate-limited (1005), then closed with 1008
    flood = Client(d.url)
    await flood.connect()  # its reader keeps reading, so only the flood itself can close it
    for i in range(4000):
        try:
            await flood.ws.send(json.dumps({"id": 100000 + i, "method": "ping"}))
        except websockets.ConnectionClosed:
            break
        if i % 8 == 0:
            await asyncio.sleep(0.0005)  # let the reader run: this client reads, it only sends too much
    try:
        await asyncio.wait_for(flood.reader, 30)
    except (websockets.ConnectionClosed, asyncio.TimeoutError):
        pass
    closed = flood.ws.close_code
    limited = 0
    while not flood.pushed.empty():
        if flood.pushed.get_nowait().get("error", {}).get("code") == 1005:
            limited += 1
    check(closed == 1008, "a flood closes with 1008: %s" % closed)
    check(limited > 0, "a flood is rate-limited before it is closed")

    # -- too many connections from one address (limit 40 here): close 1013
    extra = []
    for _ in range(40):
        c = await websockets.connect(d.url)
        extra.append(c)
    closed_with = None
    for c in extra:
        try:
            await asyncio.wait_for(c.recv(), 2)
        except websockets.ConnectionClosed as e:
            closed_with = e.rcvd.code if e.rcvd else None
        except asyncio.TimeoutError:
            pass
    check(closed_with == 1013, "connections past the per-address limit close with 1013: %s" % closed_with)
    for c in extra:
        await c.close()

    # -- a slow reader (a small receive buffer, then no reads) gets a resync and a snapshot,
    #    and nothing is skipped silently: every message's sequence and checksum still check
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", d.wsport))
    slow = Client(d.url)
    slow.ws = await websockets.connect(d.url, sock=sock, max_queue=1, read_limit=1024)
    json.loads(await slow.ws.recv())  # the session message
    await slow.ws.send(json.dumps({"id": 1, "method": "subscribe", "params": {"channel": "book", "market": MARKET}}))
    while slow.book is None:
        msg = json.loads(await slow.ws.recv())
        if msg.get("channel") == "book":
            slow.on_book(msg)
    # Now it stops reading while Alice adds 2000 price levels, one book delta each.
    for i in range(2000):
        r = await alice.place("sell", "%d.%02d" % (200 + i // 100, i % 100), "0.01", 0, nonce + 100 + i)
        check(r["result"]["status"] == "accepted", "a new level")
    slow.reader = asyncio.ensure_future(slow.read_loop())
    fresh = Client(d.url)
    await fresh.connect()
    await fresh.ok("subscribe", {"channel": "book", "market": MARKET})
    deadline = time.time() + 30
    while time.time() < deadline and (slow.book != fresh.book or slow.book_seq != fresh.book_seq):
        await asyncio.sleep(0.1)
    check(slow.resyncs >= 1, "the slow reader was told to resync")
    check(slow.book == fresh.book and slow.book_seq == fresh.book_seq, "the slow reader's book caught up exactly")
    check(len(fresh.book["asks"]) == 2001, "2001 ask levels")
    before = await state(alice)  # the levels are real events; later checks compare against this
    await slow.close()
    await fresh.close()

    # -- half-open connections (TCP, no WebSocket handshake) do not hold anyone up
    raw = [socket.create_connection(("127.0.0.1", d.wsport)) for _ in range(5)]
    check((await probe.ok("ping"))["sequence"] == before[0], "the probe is served next to half-open connections")
    # ... and the server drops them after the handshake timeout (2 s in this run)
    for s in raw:
        s.settimeout(10)
        started = time.time()
        try:
            data = s.recv(1)
        except (ConnectionResetError, socket.timeout):
            data = None
        check(data == b"" or data is None and time.time() - started < 9, "a half-open connection is dropped")
        s.close()
    check(await state(alice) == before, "still no state change")
    for c in (alice, anon, probe, other, subs):
        await c.close()


def main():
    d = Daemons(BIN, users=2, deposits=[(1, 1, "100")],
                matcher_args=["--ws-max-subscriptions", "3", "--ws-max-connections-per-address", "40",
                              "--ws-max-queued", "16", "--ws-handshake-timeout", "2",
                              "--ws-max-frame-bytes", str(FRAME_LIMIT), "--ws-rate", "500"])
    try:
        asyncio.get_event_loop().run_until_complete(scenario(d))
        check(d.stop() == [0, 0], "both daemons stop cleanly")
    except BaseException:
        d.kill()
        raise
    print("%d passed, 0 failed" % CHECKS[0])


if __name__ == "__main__":
    main()
