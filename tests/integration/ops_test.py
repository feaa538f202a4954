#!/usr/bin/python3
"""Operations on real processes (docs/operations.md): configuration layers and errors of the real
binaries, /livez and /readyz around recovery, systemd notification (READY, WATCHDOG, STOPPING)
on a real notify socket, /metrics scraped during a WebSocket workload (every family of
tests/deploy/metric_families.txt, values that agree with the workload, no account/order/hash in
labels, the bearer token), JSON logs without secrets, and SIGTERM under load: exit 0 within the
drain deadline, WebSockets closed with 1001, the verifier's feed ended with UNAVAILABLE, and no
acknowledged order lost across the restart.

    ops_test.py BIN_DIR SRC_DIR
"""
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pomws import CHECKS, MARKET, Client, check, free_port, kv, run  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/bin"
SRC = sys.argv[2] if len(sys.argv) > 2 else "."
TOKEN = "tok-" + os.urandom(12).hex()
DRAIN = 5  # shutdown.drain_timeout_seconds in the matcher's config file


def http(port, path, token=None):
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def parse_metrics(text):
    """{(name, frozenset(labels)): value} and {family: type}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
            check(m is not None, "a well-formed sample line: %r" % line)
            labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), None)


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


class Notify:
    """A systemd notify socket: the datagrams a daemon sends to $NOTIFY_SOCKET, read as they come
    (as systemd does) on a thread."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.messages = []
        self.lock = threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        while True:
            try:
                message = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(message)

    def drain(self):
        time.sleep(0.1)
        with self.lock:
            return list(self.messages)

    def seen(self, text):
        return any(text in m.split("\n") for m in self.drain())


class Daemon:
    def __init__(self, name, args, work, env=None):
        self.name = name
        self.out = open(os.path.join(work, name + ".out"), "a")
        self.err_path = os.path.join(work, name + ".log")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([os.path.join(BIN, name)] + args, stdout=subprocess.PIPE,
                                     stderr=open(self.err_path, "a"), env=full_env)
        self.lines = []

    def wait_for(self, prefix, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                raise AssertionError("%s exited: %s" % (self.name, open(self.err_path).read()[-2000:]))
            self.lines.append(line)
            if line.startswith(prefix):
                return line.strip().split("=", 1)[1]
        raise AssertionError("%s: no %r" % (self.name, prefix))


def config_checks(work):
    """The real binaries: errors name the problem; flags override the file; env overrides both."""
    matcher, verifier = os.path.join(BIN, "pom-matcher"), os.path.join(BIN, "pom-verifier")

    def serve(binary, *args, env=None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("POM_")}
        full_env.update(env or {})
        return subprocess.run([binary, "serve"] + list(args), capture_output=True, text=True, env=full_env,
                              timeout=30)

    def write(name, text):
        path = os.path.join(work, name)
        open(path, "w").write(text)
        return path

    bad = {
        "[matcher]\nlisten = \"127.0.0.1:1\"\nmax_batchh = 3\n": "unknown key 'matcher.max_batchh'",
        "[matcher]\nmax_batch = \"lots\"\n": "matcher.max_batch expects an integer, got a string",
        "[websocket]\nenabled = 1\n": "websocket.enabled expects a boolean, got an integer",
        "[matcher]\ntree = \"disk\"\n": "is not one of memory, rocksdb",
        "[matcher]\nmax_batch = 0\n": "matcher.max_batch = 0 is out of range",
        "[metrics]\nport = 9\n": "unknown section [metrics]",
        "[matcher\n": "config file",
    }
    for i, (text, message) in enumerate(bad.items()):
        r = serve(matcher, "--config", write("bad%d.toml" % i, text))
        check(r.returncode == 2 and message in r.stderr, "bad config %r: exit 2 naming it (%r): %s" % (text, message, r.stderr))
    r = serve(verifier, "--data", work + "/nowhere")
    check(r.returncode == 2 and "missing required value verifier.genesis" in r.stderr and "POM_VERIFIER_GENESIS" in r.stderr,
          "the verifier without a genesis names the missing value: %s" % r.stderr)
    r = serve(matcher, "--max-batch", "many")
    check(r.returncode == 2 and "--max-batch" in r.stderr, "a bad flag value is named: %s" % r.stderr)
    r = serve(matcher, "--no-such-flag")
    check(r.returncode == 2 and "--no-such-flag" in r.stderr, "an unknown flag is named: %s" % r.stderr)
    r = serve(matcher, env={"POM_MATCHER_QUEUE_LIMIT": "x"})
    check(r.returncode == 2 and "POM_MATCHER_QUEUE_LIMIT" in r.stderr, "a bad variable is named: %s" % r.stderr)

    good = write("good.toml", "[matcher]\nmax_batch = 10\nqueue_limit = 1000\nlisten = \"127.0.0.1:1\"\n"
                              "[admin]\nmetrics_token = \"%s\"\n" % TOKEN)
    r = serve(matcher, "--config", good, "--max-batch", "20", "--listen", "127.0.0.1:2", "--print-config",
              env={"POM_MATCHER_MAX_BATCH": "30"})
    check(r.returncode == 0, "print-config exits 0: %s" % r.stderr)
    out = r.stdout
    check("max_batch = 30  # env POM_MATCHER_MAX_BATCH" in out, "the environment overrides flag and file:\n" + out)
    check('listen = "127.0.0.1:2"  # flag --listen' in out, "a flag overrides the file")
    check("queue_limit = 1000  # file" in out, "the file overrides the default")
    check('metrics_token = "<redacted>"' in out and TOKEN not in out, "the token is redacted")

    # The schemas are what the deploy files' checks expect (tests/deploy/config_keys.txt).
    expected = {}
    for line in open(os.path.join(SRC, "tests/deploy/config_keys.txt")):
        parts = line.split()
        if len(parts) == 3 and not line.startswith("#"):
            expected.setdefault(parts[0], set()).add(parts[1])
    for daemon, binary, args in (("matcher", matcher, []), ("verifier", verifier, ["--genesis", "g.json"])):
        r = serve(binary, "--print-config", *args)
        keys, section = set(), None
        for line in r.stdout.splitlines():
            if line.startswith("["):
                section = line.strip("[]")
            elif " = " in line and not line.startswith("#"):
                keys.add(section + "." + line.split(" = ")[0])
        check(keys == expected[daemon], "pom-%s's keys equal config_keys.txt: only in the binary %s, only in the file %s"
              % (daemon, sorted(keys - expected[daemon]), sorted(expected[daemon] - keys)))


def raw(port, payload, read=True):
    """Sends raw bytes to the admin port; returns what came back before the server closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(payload)
        if not read:
            return b""
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return b""
    finally:
        s.close()


def admin_bad_input(port):
    """Garbage, oversized and idle connections get an error or a closed socket; the endpoint
    keeps answering."""
    check(raw(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").startswith(b"HTTP/1.1 405"),
          "POST is 405")
    check(raw(port, b"HEAD /livez HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200"), "HEAD /livez")
    for garbage in (b"\x00\xff\x16\x03\x01garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"GET /livez HTTP/1.1\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n",
                    b"GET /livez HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n" + b"x" * 10000):
        reply = raw(port, garbage)
        check(not reply.startswith(b"HTTP/1.1 200"), "garbage is not served: %r -> %r" % (garbage[:30], reply[:40]))
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]  # never send a byte
    check(http(port, "/livez") == (200, "ok\n"), "idle connections do not block the admin endpoint")
    for s in idle:
        s.close()


async def trader(url, seed, coid_base, nonce_base, acked, errors, stop, side):
    c = Client(url, seed)
    await c.connect()
    await c.logon()
    n = 0
    try:
        while not stop.is_set():
            n += 1
            coid = coid_base + n
            price = "100" if side == "sell" else "101"
            msg = await c.place(side, price, "1", coid, nonce_base + n)
            if "result" in msg:
                acked.append((seed, coid, msg["result"]["sequence"]))
            else:
                errors.append(msg["error"]["code"])
    except Exception:  # the server went away mid-call: the close code is checked by the caller
        pass
    return c


async def main_async():
    work = tempfile.mkdtemp(prefix="pom-ops-")
    procs = []
    try:
        config_checks(work)
        os.mkdir(work + "/dev")
        run(os.path.join(BIN, "pom-cli"), "dev-genesis", "--dir", work + "/dev", "--users", "4")
        genesis = work + "/dev/genesis.json"
        mport, vport, wsport = free_port(), free_port(), free_port()
        notify = Notify(work + "/notify.sock")
        mconfig = os.path.join(work, "matcher.toml")
        open(mconfig, "w").write(
            "[matcher]\ndata = \"%s\"\ngenesis = \"%s\"\nlisten = \"127.0.0.1:%d\"\nverifier = \"127.0.0.1:%d\"\n"
            "[websocket]\nlisten = \"127.0.0.1:%d\"\nrate = 100000\n[admin]\nlisten = \"127.0.0.1:0\"\n"
            "[shutdown]\ndrain_timeout_seconds = %d\n" % (work + "/matcher", genesis, mport, vport, wsport, DRAIN))
        verifier = Daemon("pom-verifier", ["serve", "--genesis", genesis, "--data", work + "/verifier", "--listen",
                                           "127.0.0.1:%d" % vport, "--matcher", "127.0.0.1:%d" % mport,
                                           "--admin-listen", "127.0.0.1:0"], work)
        procs.append(verifier.proc)
        vadmin = int(verifier.wait_for("admin port="))
        verifier.wait_for("listening port=")

        # Readiness only after recovery (recovery is held back 1.5 s here to observe it).
        menv = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000", "POM_MATCHER_ADMIN_METRICS_TOKEN": TOKEN,
                "POM_MATCHER_LISTN": "typo"}
        matcher = Daemon("pom-matcher", ["serve", "--config", mconfig, "--test-recovery-delay-ms", "1500"], work, menv)
        procs.append(matcher.proc)
        madmin = int(matcher.wait_for("admin port="))
        check(http(madmin, "/livez") == (200, "ok\n"), "/livez answers during recovery")
        status, body = http(madmin, "/readyz")
        check(status == 503 and "recovering" in body, "/readyz is 503 while recovering: %s %s" % (status, body))
        time.sleep(0.5)
        check(not notify.seen("READY=1"), "no READY=1 before recovery")
        check(any("WATCHDOG=1" in m for m in notify.drain()), "watchdog pings during recovery too")
        matcher.wait_for("listening port=")
        deadline = time.time() + 5
        while http(madmin, "/readyz")[0] != 200 and time.time() < deadline:
            time.sleep(0.05)
        check(http(madmin, "/readyz") == (200, "ready\n"), "/readyz turns 200 after recovery")
        time.sleep(0.5)
        check(notify.seen("READY=1"), "READY=1 after recovery: %s" % notify.messages)
        check(sum(m.count("WATCHDOG=1") for m in notify.drain()) >= 1, "watchdog pings: %s" % notify.messages)
        check(http(madmin, "/nope")[0] == 404, "unknown admin paths are 404")
        admin_bad_input(madmin)
        check(http(vadmin, "/readyz") == (200, "ready\n"), "the verifier is ready")

        # A workload: a market, deposits, traders on the WebSocket, a forged order, a bad cancel.
        cli = [os.path.join(BIN, "pom-cli"), "--matcher", "127.0.0.1:%d" % mport, "--verifier", "127.0.0.1:%d" % vport]
        run(*cli, "market-create", "--key", work + "/dev/operator.key", "--market", MARKET, "--price-decimals", "2",
            "--amount-decimals", "3", "--maker-fee-ppm", "1000", "--taker-fee-ppm", "2000")
        for user in range(1, 5):
            for currency in (1, 2):
                run(*cli, "deposit", "--key", work + "/dev/user%d.key" % user, "--currency", str(currency),
                    "--amount", "1000000", "--wait")
        seeds = [bytes.fromhex(open(work + "/dev/user%d.key" % u).read().strip()) for u in range(1, 5)]
        url = "ws://127.0.0.1:%d" % wsport
        nonce = int(time.time() * 1e6)
        bad = Client(url, seeds[0])
        await bad.connect()
        await bad.logon()
        forged = await bad.call("place", {"market": MARKET, "side": "buy", "price": "1", "amount": "1",
                                          "nonce": nonce, "signature": "11" * 64})
        check(forged["error"]["code"] == 1008, "a forged order is refused")
        missing = await bad.cancel(999999, nonce + 1)
        check("result" in missing, "a cancel of a missing order is sequenced as a business reject: %s" % missing)
        await bad.close()

        status, _ = http(madmin, "/metrics")
        check(status == 401, "/metrics needs the token")
        check(http(madmin, "/metrics", "wrong")[0] == 401, "a wrong token is refused")

        acked, errors, stop = [], [], asyncio.Event()
        tasks = [asyncio.ensure_future(trader(url, seeds[i], (i + 1) * 1_000_000, nonce + 10 + i * 1_000_000,
                                              acked, errors, stop, "sell" if i % 2 else "buy")) for i in range(4)]
        while len(acked) < 200 or len({seed for seed, _, _ in acked}) < 4:  # every trader is trading
            await asyncio.sleep(0.05)
        deadline = time.time() + 5
        while True:  # the closed client's connection may still be on its way out
            status, text = http(madmin, "/metrics", TOKEN)
            check(status == 200, "/metrics with the token")
            m, mtypes = parse_metrics(text)
            if value(m, "pom_matcher_websocket_connections") == 4 or time.time() > deadline:
                break
            await asyncio.sleep(0.05)
        placed = len(acked)
        check(value(m, "pom_matcher_websocket_connections") == 4, "4 WebSocket connections during the load")
        check(value(m, "pom_matcher_ready") == 1 and value(m, "pom_matcher_halted") == 0, "ready, not halted")
        check(value(m, "pom_matcher_events_total", kind="market_create") == 1, "one market created")
        check(value(m, "pom_matcher_events_total", kind="deposit") == 8, "eight deposits")
        check(value(m, "pom_matcher_events_total", kind="cancel") == 1, "one cancel")
        check(value(m, "pom_matcher_events_total", kind="place") >= placed, "every acknowledged order counted")
        check(value(m, "pom_matcher_rejects_total", code="order_not_found") == 1, "the bad cancel's reject code")
        events = total(m, "pom_matcher_events_total")
        built = value(m, "pom_matcher_proof_build_seconds_count")
        check(events <= built <= events + 256, "a proof built per event (%s events, %s proofs)" % (events, built))
        check(value(m, "pom_matcher_proof_bytes_total") > 1000 * built / 10, "proof bytes counted")
        syncs = value(m, "pom_matcher_journal_syncs_total")
        check(1 <= syncs <= built and abs(value(m, "pom_matcher_journal_sync_seconds_count") - syncs) <= 1,
              "group commits: %s syncs for %s events" % (syncs, built))
        check(value(m, "pom_matcher_submit_seconds_count") >= placed, "submit latency observed per command")
        # The sequence gauge is published after each group commit's answers: at most a batch behind.
        check(value(m, "pom_matcher_queue_depth") >= 0 and value(m, "pom_matcher_sequence") + 256 >= events,
              "queue depth and sequence")
        check(value(m, "pom_matcher_proof_subscribers") >= 1, "the verifier's proof stream: %s" % value(m, "pom_matcher_proof_subscribers"))
        check(value(m, "pom_matcher_websocket_requests_total", method="place") >= placed + 1, "place requests")
        check(value(m, "pom_matcher_websocket_requests_total", method="logon") == 5, "logon requests")
        check(value(m, "pom_matcher_websocket_errors_total", code="1008") == 1, "the forged order's error code")
        check(value(m, "pom_matcher_recovery_seconds") >= 0, "recovery time")
        for (name, labels), _ in list(m.items()):
            for key, val in labels:
                check(not re.search(r"[0-9a-fA-F]{16,}", val) and len(val) < 32,
                      "label %s=%r of %s carries no account, order or hash" % (key, val, name))
        check(not any(n.endswith("_total") and mtypes.get(n) != "counter" for n, _ in m if n in mtypes),
              "only counters end in _total")
        v, _ = parse_metrics(http(vadmin, "/metrics")[1])
        check(value(v, "pom_verifier_proofs_verified_total") > 0 and value(v, "pom_verifier_matcher_head_sequence") > 0
              and value(v, "pom_verifier_lag_events") >= 0, "the verifier's progress during the load")
        print("metrics during the load: %d events, %d syncs, %d orders acknowledged" % (events, syncs, placed))

        # SIGTERM under load, with /metrics and /readyz scraped all through the drain.
        scrapes = {"ok": 0, "draining": 0}

        def scrape_through_drain():
            while matcher.proc.poll() is None:
                try:
                    if http(madmin, "/metrics", TOKEN)[0] == 200:
                        scrapes["ok"] += 1
                    if http(madmin, "/readyz")[0] == 503:
                        scrapes["draining"] += 1
                except OSError:
                    pass  # the admin port closes at the end of the drain
        scraper = threading.Thread(target=scrape_through_drain)
        scraper.start()
        time.sleep(0.2)
        sent = time.time()
        matcher.proc.send_signal(signal.SIGTERM)
        code = matcher.proc.wait(DRAIN + 5)
        scraper.join()
        check(scrapes["ok"] > 0, "scrapes during the load and the drain: %s" % scrapes)
        took = time.time() - sent
        check(code == 0, "pom-matcher exits 0 on SIGTERM under load (got %s)" % code)
        check(took < DRAIN, "... within the drain deadline (%.2f s < %d s)" % (took, DRAIN))
        stop.set()
        clients = await asyncio.gather(*tasks)
        for c in clients:
            await asyncio.sleep(0)
            check(c.ws.close_code == 1001, "the WebSocket closed with 1001 going away (got %s)" % c.ws.close_code)
        check(set(errors) <= {1012}, "orders refused during the drain get 1012 unavailable only: %s" % set(errors))
        check(notify.seen("STOPPING=1"), "STOPPING=1 on SIGTERM")
        print("sigterm: %d orders acknowledged, %d refused while draining, exit 0 after %.2f s" % (len(acked), len(errors), took))

        # The verifier saw its feed end with UNAVAILABLE (14).
        deadline = time.time() + 5
        while time.time() < deadline and '"code":14' not in open(verifier.err_path).read():
            time.sleep(0.1)
        check('"code":14' in open(verifier.err_path).read(), "the proof stream ended with UNAVAILABLE")

        # Restart: every acknowledged order is there, at the sequence it was acknowledged with.
        matcher = Daemon("pom-matcher", ["serve", "--config", mconfig], work, {"POM_MATCHER_ADMIN_METRICS_TOKEN": TOKEN})
        procs.append(matcher.proc)
        madmin = int(matcher.wait_for("admin port="))
        matcher.wait_for("listening port=")
        by_seed = {}
        for seed, coid, seq in acked:
            by_seed.setdefault(seed, []).append((coid, seq))
        for seed, orders in by_seed.items():
            c = Client(url, seed)
            await c.connect()
            await c.logon()
            for coid, seq in orders:
                r = await c.ok("order_status", {"market": MARKET, "client_order_id": coid})
                check(r["order_id"] == seq or r.get("sequence") == seq,
                      "acknowledged order %d is at sequence %d after the restart: %s" % (coid, seq, r))
            await c.close()
        print("restart: all %d acknowledged orders found at their sequences" % len(acked))
        c = Client(url, seeds[0])
        await c.connect()
        await c.logon()
        after = await c.place("buy", "99", "1", 77_000_000, nonce + 77_000_000)
        check("result" in after, "the restarted matcher takes orders: %s" % after)
        await c.close()

        # Metrics after the workload, once the verifier caught up.
        deadline = time.time() + 20
        while time.time() < deadline:
            head = kv(run(*cli, "head"))
            if head["in_sync"] == "yes":
                break
            time.sleep(0.1)
        check(head["in_sync"] == "yes", "the verifier caught up: %s" % head)
        seq = int(head["matcher_sequence"])
        m, mtypes = parse_metrics(http(madmin, "/metrics", TOKEN)[1])
        v, vtypes = parse_metrics(http(vadmin, "/metrics")[1])
        families = [line.split() for line in open(os.path.join(SRC, "tests/deploy/metric_families.txt"))
                    if line.strip() and not line.startswith("#")]
        for name, kind in families:
            types = mtypes if name.startswith("pom_matcher_") else vtypes
            check(types.get(name) == kind, "family %s is exported as a %s (got %s)" % (name, kind, types.get(name)))
        check(value(m, "pom_matcher_sequence") == seq, "pom_matcher_sequence is the head")
        check(value(m, "pom_matcher_recovery_replayed_events") == 0, "a clean stop wrote a snapshot: nothing replayed")
        check(value(m, "pom_matcher_ready") == 1, "ready after the restart")
        # Counters restart with the process: this one has seen no event yet.
        check(total(m, "pom_matcher_events_total") == 1 and value(m, "pom_matcher_events_total", kind="place") == 1,
              "the restarted matcher counts its own events")
        check(value(m, "pom_matcher_websocket_requests_total", method="order_status") == len(acked)
              and value(m, "pom_matcher_websocket_requests_total", method="logon") == len(by_seed) + 1,
              "requests by method after the restart")
        check(value(v, "pom_verifier_head_sequence") == seq and value(v, "pom_verifier_lag_events") == 0,
              "the verifier's head and lag")
        check(value(v, "pom_verifier_proofs_verified_total") == seq and value(v, "pom_verifier_verify_seconds_count") == seq,
              "the verifier verified every proof, each timed")
        check(value(v, "pom_verifier_faulty") == 0 and value(v, "pom_verifier_following") == 1, "following, not faulty")
        check(value(v, "pom_verifier_reconnects_total") >= 1, "the matcher's restart was a reconnect")
        check(value(v, "pom_verifier_commits_total") >= 1 and abs(value(v, "pom_verifier_commit_seconds_count") - value(v, "pom_verifier_commits_total")) <= 1,
              "head commits")
        check(value(v, "pom_verifier_ready") == 1, "the verifier's ready gauge")
        return work, procs, verifier, seq
    except BaseException:
        for p in procs:
            if p.poll() is None:
                p.kill()
        raise


def main():
    work, procs, verifier, seq = asyncio.run(main_async())
    try:
        verifier.proc.send_signal(signal.SIGTERM)
        check(verifier.proc.wait(10) == 0, "pom-verifier exits 0 on SIGTERM")
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                check(p.wait(10) == 0, "every daemon exits 0")
        logs_checks(work)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("ops_test: %d checks passed" % CHECKS[0])


def logs_checks(work):
    for name in ("pom-matcher", "pom-verifier"):
        text = open(os.path.join(work, name + ".log")).read()
        check(TOKEN not in text, "%s's logs hold no secret" % name)
        msgs = []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError("%s: a log line that is not JSON: %r" % (name, line))
            check({"ts", "level", "daemon", "msg"} <= set(record), "%s: a log record has ts, level, daemon, msg" % name)
            check(record["daemon"] == name and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", record["ts"]),
                  "%s: daemon name and UTC timestamp: %r" % (name, record))
            msgs.append(record["msg"])
        for wanted in ("starting", "ready", "draining", "stopped"):
            check(wanted in msgs, "%s logged %r: %s" % (name, wanted, msgs))
    records = [json.loads(l) for l in open(os.path.join(work, "pom-matcher.log"))]
    check(any(r["level"] == "warning" and r.get("name") == "POM_MATCHER_LISTN" for r in records),
          "an unknown POM_MATCHER_* variable is warned about")
    matcher_msgs = [r["msg"] for r in records]
    check("recovered" in matcher_msgs and "matcher stopped" in matcher_msgs, "the matcher logged recovery and its stop")


if __name__ == "__main__":
    main()
