#!/usr/bin/python3
"""Structural checks of pom's deploy files other than the Kubernetes manifests (check_k8s.py).

  check_files.py configs  SRC          deploy/config/*.toml: known keys and types, every key shown
  check_files.py units    SRC          deploy/systemd/*.service against deploy/config/*.toml
  check_files.py compose  SRC FILE     FILE: `docker-compose -f deploy/docker-compose.yml config` output
  check_files.py grafana  SRC          deploy/grafana/pom-dashboard.json
  check_files.py docker   SRC BIN_DIR  deploy/docker/Dockerfile and runtime-deps.sh (packages exist
                                       in apt, and provide every library BIN_DIR's daemons link)
  check_files.py daemons  SRC BIN_DIR FILE   BIN_DIR's pom-matcher and pom-verifier read every
                                       configuration as deployed (deploy/config, the k8s ConfigMaps
                                       with the pods' env, the compose services with theirs; FILE:
                                       the compose config output) with --print-config, and show the
                                       values these checks assume

Prints every problem and exits 1 when there is any.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

import deploy_schema as ds

problems: list[str] = []


def fail(where: str, msg: str) -> None:
    problems.append(f"{where}: {msg}")


def load_config(src: Path, daemon: str, keys) -> dict | None:
    path = src / "deploy" / "config" / f"{daemon}.toml"
    if not path.is_file():
        fail(str(path), "missing")
        return None
    _, values, errs = ds.validate_toml(path.read_text(), daemon, keys, f"deploy/config/{daemon}.toml")
    problems.extend(errs)
    return values


# ---- configs ---------------------------------------------------------------------------------

def check_configs(src: Path) -> str:
    keys = ds.load_keys()
    files = sorted((src / "deploy" / "config").glob("*.toml"))
    names = {f.stem for f in files}
    for daemon in ds.DAEMONS:
        if daemon not in names:
            fail("deploy/config", f"no {daemon}.toml")
    for f in files:
        if f.stem not in ds.DAEMONS:
            fail(str(f), "is neither matcher.toml nor verifier.toml")
            continue
        values = load_config(src, f.stem, keys)
        if values is None:
            continue
        # The examples document every key, so a new key cannot go unexplained.
        missing = sorted(set(keys[f.stem]) - set(values))
        if missing:
            fail(f"deploy/config/{f.name}", f"does not show the keys {missing}")
    return f"{len(files)} example configs, {sum(len(k) for k in keys.values())} allowed keys"


# ---- systemd units ---------------------------------------------------------------------------

def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    section = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1], {})
            continue
        if section is None or "=" not in line:
            fail(path.name, f"unparsable line {line!r}")
            continue
        k, v = line.split("=", 1)
        section.setdefault(k.strip(), []).append(v.strip())
    return out


def check_units(src: Path) -> str:
    keys = ds.load_keys()
    sysusers = src / "deploy" / "systemd" / "pom.sysusers"
    users = set()
    if sysusers.is_file():
        for line in sysusers.read_text().splitlines():
            parts = shlex.split(line, comments=True)
            if len(parts) >= 2 and parts[0] == "u":
                users.add(parts[1])
    else:
        fail("deploy/systemd", "no pom.sysusers")
    for daemon in ds.DAEMONS:
        where = f"pom-{daemon}.service"
        path = src / "deploy" / "systemd" / where
        if not path.is_file():
            fail(where, "missing")
            continue
        unit = parse_unit(path)
        svc, u = unit.get("Service", {}), unit.get("Unit", {})

        def one(k, section=svc):
            v = section.get(k)
            return v[-1] if v else None

        if one("Type") != "notify":
            fail(where, f"Type={one('Type')}: the daemon signals READY=1 after recovery, use Type=notify")
        if one("NotifyAccess") not in ("main", None):
            fail(where, "NotifyAccess must be main")
        exec_start = shlex.split(one("ExecStart") or "")
        if not exec_start or exec_start[0] != f"/usr/local/bin/pom-{daemon}" or "serve" not in exec_start:
            fail(where, f"ExecStart must run /usr/local/bin/pom-{daemon} serve: {exec_start}")
        extra = ds.extra_flags(exec_start)
        if extra:
            fail(where, f"flags {extra} in ExecStart: put settings in the config file")
        conf = ds.config_arg(exec_start)
        values = {}
        if conf != f"/etc/pom/{daemon}.toml":
            fail(where, f"--config {conf}: expected /etc/pom/{daemon}.toml (deploy/config/{daemon}.toml)")
        else:
            values = load_config(src, daemon, keys) or {}
        cfg = ds.effective(daemon, values)
        state = one("StateDirectory")
        data = cfg.get(f"{daemon}.data")
        if not state or f"/var/lib/{state}" != data:
            fail(where, f"StateDirectory={state} but {daemon}.data = {data}: they must be the same directory")
        log_file = cfg.get("log.file")
        logs = one("LogsDirectory")
        if log_file and not (logs and ds.under(log_file, f"/var/log/{logs}")):
            fail(where, f"log.file = {log_file} is not under LogsDirectory=/var/log/{logs}")
        if one("User") not in users:
            fail(where, f"User={one('User')} is not created by deploy/systemd/pom.sysusers {sorted(users)}")
        drain = cfg.get("shutdown.drain_timeout_seconds")
        stop = ds.duration_seconds(one("TimeoutStopSec"))
        if stop is None or not isinstance(drain, int) or not stop > drain:
            fail(where, f"TimeoutStopSec={one('TimeoutStopSec')} must exceed shutdown.drain_timeout_seconds {drain}")
        start = ds.duration_seconds(one("TimeoutStartSec"))
        if daemon == "matcher" and (start is None or start < 600):
            fail(where, f"TimeoutStartSec={one('TimeoutStartSec')}: recovery can take minutes (want >= 10min)")
        if not one("WatchdogSec"):
            fail(where, "no WatchdogSec")
        if one("Restart") not in ("on-failure", "always", "on-abnormal"):
            fail(where, f"Restart={one('Restart')}")
        nofile = one("LimitNOFILE")
        if not nofile or not nofile.isdigit() or int(nofile) < 65536:
            fail(where, f"LimitNOFILE={nofile}: RocksDB needs many open files (>= 65536)")
        for k, want in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                        ("PrivateTmp", "yes")):
            if one(k) != want:
                fail(where, f"{k}={one(k)}, want {want}")
        wants = " ".join(u.get("Wants", []) + u.get("After", []))
        if "network-online.target" not in wants:
            fail(where, "not Wants=/After=network-online.target")
        if daemon == "verifier":
            for k in ("Requires", "BindsTo", "PartOf", "Requisite"):
                if any("pom-matcher" in v for v in u.get(k, [])):
                    fail(where, f"{k}=pom-matcher.service: the matcher may be on another host")
        if "WantedBy" not in unit.get("Install", {}):
            fail(where, "no [Install] WantedBy=")
    return "2 units"


# ---- docker-compose --------------------------------------------------------------------------

def check_compose(src: Path, rendered: Path) -> str:
    keys = ds.load_keys()
    doc = yaml.safe_load(rendered.read_text())
    services = doc.get("services") or {}
    named_volumes = set((doc.get("volumes") or {}).keys())
    found = {}
    for daemon in ds.DAEMONS:
        names = [n for n, s in services.items() if ds.daemon_of_argv([str(a) for a in s.get("command") or []]) == daemon]
        if daemon not in services:
            fail("compose", f"no service '{daemon}'")
            continue
        if names != [daemon]:
            fail("compose", f"pom-{daemon} must run in exactly the service '{daemon}' (runs in {names})")
        found[daemon] = services[daemon]
    cfgs = {}
    for daemon, s in found.items():
        where = f"compose service {daemon}"
        argv = [str(a) for a in s.get("command") or []]
        if "serve" not in argv:
            fail(where, "does not run serve")
        extra = ds.extra_flags(argv)
        if extra:
            fail(where, f"flags {extra} in command: use the config file or the environment")
        mounts = []  # (source, target, is_named_volume)
        for v in s.get("volumes") or []:
            if isinstance(v, str):
                parts = v.split(":")
                source, target = parts[0], parts[1] if len(parts) > 1 else parts[0]
            else:
                source, target = v.get("source", ""), v.get("target", "")
            mounts.append((source, target, not source.startswith("/") and not source.startswith(".")))
        env = {k: (None if v is None else str(v)) for k, v in (s.get("environment") or {}).items()}
        conf = ds.config_arg(argv) or env.get(f"POM_{daemon.upper()}_CONFIG")
        values = {}
        bind = [m for m in mounts if m[1] == conf and not m[2]]
        if not conf or not bind:
            fail(where, f"--config {conf} is not a bind-mounted file")
        else:
            path = Path(bind[0][0])
            if not path.is_file():
                fail(where, f"--config {conf}: bind source {path} does not exist")
            else:
                _, values, errs = ds.validate_toml(path.read_text(), daemon, keys, str(path.relative_to(src)
                                                   if path.is_relative_to(src) else path))
                problems.extend(errs)
        values, errs = ds.apply_env(daemon, values, env, keys, where)
        problems.extend(errs)
        cfg = ds.effective(daemon, values)
        cfgs[daemon] = cfg

        data = cfg.get(f"{daemon}.data")
        on_volume = [m for m in mounts if m[2] and isinstance(data, str) and ds.under(data, m[1])]
        if not on_volume:
            fail(where, f"{daemon}.data = {data} is not on a named volume ({mounts})")
        elif on_volume[0][0] not in named_volumes:
            fail(where, f"volume {on_volume[0][0]} is not declared under volumes:")
        genesis = cfg.get(f"{daemon}.genesis")
        if daemon == "verifier" and not genesis:
            fail(where, "verifier.genesis is required")
        if genesis and not any(ds.under(genesis, m[1]) for m in mounts):
            fail(where, f"{daemon}.genesis = {genesis} is on no mounted volume")

        listen_ports = set()
        for k in ds.listen_keys(daemon, cfg):
            hp = ds.split_addr(cfg.get(k))
            if hp is None:
                fail(where, f"{k} = {cfg.get(k)!r} is not HOST:PORT")
                continue
            listen_ports.add(hp[1])
            if hp[0] not in ("0.0.0.0", "[::]", ""):
                fail(where, f"{k} = {cfg.get(k)}: bind 0.0.0.0 in a container")
        for p in s.get("ports") or []:
            target = int(str(p.get("target") if isinstance(p, dict) else p).split("/")[0].split(":")[-1])
            if target not in listen_ports:
                fail(where, f"publishes port {target}, which the daemon does not listen on {sorted(listen_ports)}")

        admin = ds.split_addr(cfg.get("admin.listen"))
        hc = s.get("healthcheck") or {}
        test = hc.get("test") or []
        test = " ".join(test) if isinstance(test, list) else str(test)
        if hc.get("disable") or not admin or not re.search(rf"//(127\.0\.0\.1|localhost):{admin[1]}/readyz\b", test):
            fail(where, f"healthcheck must GET http://127.0.0.1:{admin[1] if admin else '?'}/readyz (is {test!r})")
        start_period = ds.duration_seconds(hc.get("start_period"))
        if daemon == "matcher" and (start_period is None or start_period < 300):
            fail(where, f"healthcheck start_period {hc.get('start_period')}: recovery can take minutes (>= 5m)")
        grace = ds.duration_seconds(s.get("stop_grace_period", "10s"))
        drain = cfg.get("shutdown.drain_timeout_seconds")
        if grace is None or not isinstance(drain, int) or not grace > drain:
            fail(where, f"stop_grace_period {s.get('stop_grace_period', '10s (default)')} must exceed "
                        f"shutdown.drain_timeout_seconds {drain}")
        if s.get("stop_signal", "SIGTERM") != "SIGTERM":
            fail(where, f"stop_signal {s.get('stop_signal')}: the daemons drain on SIGTERM")

    # The two address each other by service name.
    for daemon, other in (("matcher", "verifier"), ("verifier", "matcher")):
        if daemon not in cfgs or other not in cfgs:
            continue
        key = f"{daemon}.{other}"
        hp = ds.split_addr(cfgs[daemon].get(key))
        want = ds.split_addr(cfgs[other].get(f"{other}.listen"))
        if hp is None or want is None or hp[0] != other or hp[1] != want[1]:
            fail(f"compose service {daemon}", f"{key} = {cfgs[daemon].get(key)!r}: expected "
                                              f"{other}:{want[1] if want else '?'} (the {other} service's gRPC)")
    if "matcher" in found and "verifier" in found:
        vm = {m.split(":")[0] for m in found["matcher"].get("volumes") or [] if isinstance(m, str)}
        vv = {m.split(":")[0] for m in found["verifier"].get("volumes") or [] if isinstance(m, str)}
        for d in ("matcher", "verifier"):
            data = cfgs.get(d, {}).get(f"{d}.data")
            vols = [m.split(":")[0] for m in found[d].get("volumes") or []
                    if isinstance(m, str) and isinstance(data, str) and ds.under(data, m.split(":")[1])]
            if vols and vols[0] in (vm & vv):
                fail("compose", f"{d}'s data volume {vols[0]} is shared by both daemons")
    return f"services {sorted(services)}"


# ---- Grafana ---------------------------------------------------------------------------------

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
                "unless", "offset", "inf", "nan"}


def metric_names(expr: str) -> list[str]:
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)      # strings
    e = re.sub(r"\{[^}]*\}", "", e)                       # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                      # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                     # dashboard variables
    names = []
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue
        names.append(word)
    return names


def check_grafana(src: Path) -> str:
    families = ds.load_families()
    path = src / "deploy" / "grafana" / "pom-dashboard.json"
    where = "deploy/grafana/pom-dashboard.json"
    try:
        dash = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        fail(where, f"not valid JSON: {e}")
        return ""
    for k in ("title", "uid", "schemaVersion", "panels", "templating"):
        if k not in dash:
            fail(where, f"no '{k}'")
    if not isinstance(dash.get("schemaVersion"), int) or dash.get("schemaVersion", 0) < 30:
        fail(where, f"schemaVersion {dash.get('schemaVersion')!r}: want >= 30")
    ds_vars = {v.get("name") for v in (dash.get("templating") or {}).get("list", [])
               if v.get("type") == "datasource" and v.get("query") == "prometheus"}
    ds_vars |= {i.get("name") for i in dash.get("__inputs", []) if i.get("pluginId") == "prometheus"}
    if not ds_vars:
        fail(where, "no Prometheus datasource template variable")
    refs = {f"${{{v}}}" for v in ds_vars} | {f"${v}" for v in ds_vars}

    def ds_ok(d):
        if d is None:
            return True
        if isinstance(d, str):
            return d in refs
        return d.get("type") == "prometheus" and d.get("uid") in refs

    panels = []

    def walk(ps):
        for p in ps or []:
            panels.append(p)
            walk(p.get("panels"))

    walk(dash.get("panels"))
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)) or None in ids:
        fail(where, "panel ids missing or not unique")
    boxes = []
    for p in dash.get("panels") or []:
        gp = p.get("gridPos") or {}
        if all(isinstance(gp.get(k), int) for k in ("h", "w", "x", "y")):
            if gp["x"] + gp["w"] > 24:
                fail(f"{where} panel {p.get('id')}", "wider than the 24-column grid")
            for q, g in boxes:
                if (gp["x"] < g["x"] + g["w"] and g["x"] < gp["x"] + gp["w"]
                        and gp["y"] < g["y"] + g["h"] and g["y"] < gp["y"] + gp["h"]):
                    fail(f"{where} panel {p.get('id')}", f"overlaps panel {q.get('id')}")
            boxes.append((p, gp))
    used = set()
    for p in panels:
        pw = f"{where} panel {p.get('id')} {p.get('title')!r}"
        gp = p.get("gridPos") or {}
        if not all(k in gp for k in ("h", "w", "x", "y")):
            fail(pw, "no gridPos h/w/x/y")
        if p.get("type") == "row":
            continue
        if not ds_ok(p.get("datasource")):
            fail(pw, f"datasource {p.get('datasource')!r} is not the template variable {sorted(refs)}")
        targets = p.get("targets") or []
        if not targets:
            fail(pw, "no targets")
        ref_ids = [t.get("refId") for t in targets]
        if len(ref_ids) != len(set(ref_ids)):
            fail(pw, "refIds not unique")
        for t in targets:
            expr = t.get("expr", "")
            if not expr:
                fail(pw, f"target {t.get('refId')} has no expr")
                continue
            if not ds_ok(t.get("datasource")):
                fail(pw, f"target datasource {t.get('datasource')!r} is not the template variable")
            for name in metric_names(expr):
                family, kind = name, families.get(name)
                m = re.fullmatch(r"(.+)_(bucket|sum|count)", name)
                if kind is None and m and families.get(m.group(1)) == "histogram":
                    family, kind = m.group(1), "histogram"
                if kind is None:
                    fail(pw, f"metric '{name}' in {expr!r} is not a family of tests/deploy/metric_families.txt")
                    continue
                used.add(family)
                if kind == "histogram" and name == family:
                    fail(pw, f"histogram '{name}' has no series of its own: use _bucket/_sum/_count")
                if kind == "gauge" and re.search(rf"\b(rate|irate|increase)\s*\(\s*{name}\b", expr):
                    fail(pw, f"rate/increase over the gauge '{name}'")
            if "histogram_quantile" in expr and ("_bucket" not in expr or not re.search(r"\ble\b", expr)):
                fail(pw, f"histogram_quantile needs a _bucket series summed by (le): {expr!r}")
    faulty = [p for p in panels if p.get("type") == "stat"
              and any("pom_verifier_faulty" in t.get("expr", "") for t in p.get("targets") or [])]
    if not faulty:
        fail(where, "no stat panel for pom_verifier_faulty")
    for p in faulty:
        steps = (((p.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds") or {}).get("steps") or []
        if not any(s.get("color") == "red" and s.get("value") is not None and s["value"] <= 1 for s in steps):
            fail(f"{where} panel {p.get('id')}", "the faulty stat does not turn red at 1")
    unused = sorted(set(families) - used)
    note = f"; not on the dashboard: {', '.join(unused)}" if unused else "; every family is on it"
    return f"{len(panels)} panels, {len(used)} metric families{note}"


# ---- Dockerfile ------------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    out, buf = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})


def check_docker(src: Path, bin_dir: Path) -> str:
    where = "deploy/docker/Dockerfile"
    path = src / where
    if not path.is_file():
        fail(where, "missing")
        return ""
    stages = []  # [name, base, [(instr, args)]]
    for instr, args in dockerfile_instructions(path.read_text()):
        if instr == "FROM":
            parts = [a for a in args.split() if not a.startswith("--")]
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else None
            stages.append([name, parts[0] if parts else "", []])
        elif not stages:
            if instr != "ARG":
                fail(where, f"{instr} before the first FROM")
        else:
            stages[-1][2].append((instr, args))
    if len(stages) < 2:
        fail(where, f"{len(stages)} stage(s): expected a multi-stage build (build, runtime)")
        return ""
    names = set()
    for name, base, _ in stages:
        if base not in names and not re.fullmatch(r"debian:(12|bookworm)(-slim)?(@sha256:[0-9a-f]{64})?", base):
            fail(where, f"FROM {base}: expected debian:12 / debian:12-slim or an earlier stage")
        if name:
            names.add(name)
    runs = {i: " ".join(a for ins, a in st[2] if ins == "RUN") for i, st in enumerate(stages)}
    build = [i for i, st in enumerate(stages)
             if "deploy/deps.sh" in runs[i] and "deploy/build.sh" in runs[i]]
    if not build:
        fail(where, "no stage RUNs deploy/deps.sh and deploy/build.sh (the scripts deploy/test.sh uses)")
    final_name, final_base, final = stages[-1]
    if not re.fullmatch(r"debian:(12|bookworm)-slim(@sha256:[0-9a-f]{64})?", final_base):
        fail(where, f"the final stage is FROM {final_base}: expected debian:12-slim")
    if "runtime-deps.sh" not in runs[len(stages) - 1]:
        fail(where, "the final stage does not RUN deploy/docker/runtime-deps.sh")
    build_names = {stages[i][0] for i in build} | {str(i) for i in build}
    copies = [a for ins, a in final if ins == "COPY"]
    if not any(re.search(r"--from=(\S+)", c) and re.search(r"--from=(\S+)", c).group(1) in build_names
               and c.split()[-1].rstrip("/") == "/usr/local/bin" for c in copies):
        fail(where, "the final stage does not COPY the binaries from the build stage to /usr/local/bin")
    users = [a for ins, a in final if ins == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        fail(where, f"the final stage runs as {users[-1] if users else 'root (no USER)'}: expected a non-root USER")
    if ("STOPSIGNAL", "SIGTERM") not in final:
        fail(where, "the final stage has no STOPSIGNAL SIGTERM")
    if not any(ins == "VOLUME" and "/var/lib/pom" in a for ins, a in final):
        fail(where, "no VOLUME /var/lib/pom")
    exposed = {int(p.split("/")[0]) for ins, a in final if ins == "EXPOSE" for p in a.split()}
    keys = ds.load_keys()
    want = set()
    for daemon in ds.DAEMONS:
        cfg = ds.effective(daemon, load_config(src, daemon, keys) or {})
        for k in ds.listen_keys(daemon, cfg):
            hp = ds.split_addr(cfg.get(k))
            if hp:
                want.add(hp[1])
    if exposed != want:
        fail(where, f"EXPOSE {sorted(exposed)}: the daemons listen on {sorted(want)} (deploy/config)")
    for st in stages:
        for ins, a in st[2]:
            if ins in ("COPY", "ADD") and "--from" not in a:
                for s in [x for x in a.split() if not x.startswith("--")][:-1]:
                    if s != "." and not (src / s).exists():
                        fail(where, f"{ins} {s}: no such file in the repository")

    # runtime-deps.sh: every package has an installation candidate in Debian 12.
    script = src / "deploy" / "docker" / "runtime-deps.sh"
    listed = run(["bash", str(script), "--list"])
    packages = listed.stdout.split()
    if listed.returncode != 0 or not packages:
        fail(str(script), f"--list failed: {listed.stderr.strip()}")
        return ""
    policy = run(["apt-cache", "policy", *packages]).stdout
    candidates = dict(re.findall(r"^(\S+):\n(?:.*\n)*?\s+Candidate: (\S+)", policy, re.M))
    for p in packages:
        c = candidates.get(p)
        if c is None or c == "(none)":
            fail("deploy/docker/runtime-deps.sh", f"package '{p}' has no installation candidate in apt "
                                                  f"(apt-cache policy {p}; are the lists updated?)")
    # ... and together, with what they depend on, provide every library the daemons load.
    deps = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                "--no-breaks", "--no-replaces", "--no-enhances", *packages]).stdout
    closure = {re.sub(r":\w+$", "", line.strip("<>")) for line in deps.splitlines() if line and not line[0].isspace()}
    linked: dict[str, set[str]] = {}
    binaries = ["pom-matcher", "pom-verifier", "pom-cli"]
    for b in binaries:
        exe = bin_dir / b
        if not os.access(exe, os.X_OK):
            fail(str(exe), "missing: build first (deploy/build.sh)")
            continue
        out = run(["ldd", str(exe)])
        for line in out.stdout.splitlines():
            if "not found" in line:
                fail(b, f"ldd: {line.strip()}")
                continue
            m = re.search(r"(/\S+)\s+\(0x", line)
            if m:
                lib = os.path.realpath(m.group(1))
                linked.setdefault(lib, set()).add(b)
    owners: dict[str, set[str]] = {}
    if linked:
        # One dpkg -S for all: Debian 12 is /usr-merged, so a library resolved under /usr/lib may be
        # registered under /lib (or the other way round).
        alt = {}
        for lib in linked:
            alt[lib] = [lib, lib[4:] if lib.startswith("/usr/") else "/usr" + lib]
        found = run(["dpkg", "-S", *[p for v in alt.values() for p in v]]).stdout
        by_path = {}
        for line in found.splitlines():
            pkgs, _, p = line.partition(": ")
            by_path[p.strip()] = pkgs.split(",")[0].split(":")[0].strip()
        for lib, users_of in sorted(linked.items()):
            pkg = next((by_path[p] for p in alt[lib] if p in by_path), None)
            if pkg is None:
                fail(lib, f"(linked by {', '.join(sorted(users_of))}) belongs to no Debian package")
                continue
            owners.setdefault(pkg, set()).add(os.path.basename(lib))
    for pkg, libs in sorted(owners.items()):
        if pkg not in closure:
            fail("deploy/docker/runtime-deps.sh", f"does not install {pkg} ({', '.join(sorted(libs))}), "
                                                  f"which the daemons link")
    direct = {p for p in owners}
    unlinked = sorted(p for p in packages if p not in direct and p != "curl")
    note = f"; listed, not linked yet: {', '.join(unlinked)}" if unlinked else ""
    return (f"{len(stages)} stages, {len(packages)} runtime packages, {len(owners)} packages of linked "
            f"libraries covered{note}")


# ---- the real daemons read every configuration as deployed ----------------------------------

def deployed_configs(src: Path, compose: Path):
    """(where, daemon, toml text, literal environment) of each place pom runs from these files."""
    import check_k8s
    out = []
    for daemon in ds.DAEMONS:
        f = src / "deploy" / "config" / f"{daemon}.toml"
        out.append((f"deploy/config/{daemon}.toml", daemon, f.read_text(), {}))
    # Kubernetes: the ConfigMap the container's --config comes from, and its literal env.
    docs = [d for f in sorted((src / "deploy" / "k8s").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text())
            if isinstance(d, dict)]
    cms = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d.get("kind") == "ConfigMap"}
    for d in docs:
        if d.get("kind") not in ("StatefulSet", "Deployment", "DaemonSet"):
            continue
        pod = d["spec"]["template"]["spec"]
        for c in pod.get("containers") or []:
            argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
            daemon = ds.daemon_of_argv(argv)
            if not daemon:
                continue
            where = f"k8s {d['kind']}/{d['metadata']['name']}"
            files = check_k8s.mounted_files(pod, c, cms, {}, where)
            ref = files.get(ds.config_arg(argv) or "")
            if not ref:
                fail(where, "--config is not a mounted ConfigMap key (check_k8s.py says more)")
                continue
            env = {e["name"]: str(e["value"]) for e in c.get("env") or [] if "value" in e}
            # Values from Secrets: something, so that the daemon's handling of the key is exercised.
            env.update({e["name"]: "secret-from-k8s" for e in c.get("env") or [] if "secretKeyRef" in (e.get("valueFrom") or {})})
            out.append((where, daemon, cms[ref[1]][ref[2]], env))
    # docker-compose: the bind-mounted file and the service's environment.
    rendered = yaml.safe_load(compose.read_text())
    for name, svc in (rendered.get("services") or {}).items():
        argv = [str(a) for a in svc.get("command") or []]
        daemon = ds.daemon_of_argv(argv)
        if not daemon:
            continue
        conf = ds.config_arg(argv)
        binds = [v.split(":")[0] for v in svc.get("volumes") or [] if isinstance(v, str) and v.split(":")[1] == conf]
        if not binds or not Path(binds[0]).is_file():
            fail(f"compose service {name}", f"--config {conf} is not a bind-mounted file")
            continue
        env = {k: "" if v is None else str(v) for k, v in (svc.get("environment") or {}).items()}
        out.append((f"compose service {name}", daemon, Path(binds[0]).read_text(), env))
    return out


def check_daemons(src: Path, bin_dir: Path, compose: Path) -> str:
    keys = ds.load_keys()
    jobs = deployed_configs(src, compose)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (where, daemon, text, env) in enumerate(jobs):
            exe = bin_dir / f"pom-{daemon}"
            if not os.access(exe, os.X_OK):
                fail(str(exe), "missing: build first (deploy/build.sh)")
                return ""
            conf = Path(tmp) / f"{i}-{daemon}.toml"
            conf.write_text(text)
            clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", **env}
            r = subprocess.run([str(exe), "serve", "--config", str(conf), "--print-config"], capture_output=True,
                               text=True, env=clean, timeout=60)
            if r.returncode != 0:
                fail(where, f"pom-{daemon} serve --print-config exits {r.returncode}: {r.stderr.strip()[:300]}")
                continue
            try:
                printed = tomllib.loads(r.stdout)
            except tomllib.TOMLDecodeError as e:
                fail(where, f"pom-{daemon} --print-config printed no TOML: {e}")
                continue
            shown = {f"{sec}.{k}": v for sec, t in printed.items() if isinstance(t, dict) for k, v in t.items()}
            _, values, errs = ds.validate_toml(text, daemon, keys, where, allow_secrets=True)
            values, errs2 = ds.apply_env(daemon, values, env, keys, where)
            problems.extend(errs + errs2)
            # What these checks believe the daemon runs with is what it says it runs with.
            for key, want in ds.effective(daemon, values).items():
                if key in ds.SECRET_KEYS:
                    if want and shown.get(key) != "<redacted>":
                        fail(where, f"pom-{daemon} --print-config shows {key} unredacted")
                    continue
                if shown.get(key) != want:
                    fail(where, f"{key}: the checks assume {want!r}, pom-{daemon} --print-config says "
                                f"{shown.get(key)!r}")
            extra = sorted(set(shown) - set(keys[daemon]))
            if extra:
                fail(where, f"pom-{daemon} --print-config shows keys missing from tests/deploy/config_keys.txt: {extra}")
    return f"pom-matcher and pom-verifier accept all {len(jobs)} deployed configurations"


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    args = [Path(a).resolve() for a in sys.argv[2:]]
    checks = {"configs": (check_configs, 1), "units": (check_units, 1), "compose": (check_compose, 2),
              "grafana": (check_grafana, 1), "docker": (check_docker, 2),
              "daemons": (check_daemons, 3)}
    if what not in checks or len(args) != checks[what][1]:
        print(__doc__, file=sys.stderr)
        return 2
    summary = checks[what][0](*args)
    if problems:
        for p in problems:
            print(f"check_files {what}: FAIL {p}")
        return 1
    print(f"check_files {what}: ok: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
