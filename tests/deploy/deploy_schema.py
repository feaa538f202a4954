"""What the deploy checkers know about pom's daemons: their configuration keys and metric families.

The allowlists live beside this file so that the daemons' own tests can check against the same
lists:
  config_keys.txt      "<daemon> <section.key> <type>" (type: string | int | bool), one a line
  metric_families.txt  "<family> <type>" (type: counter | gauge | histogram), one a line
Runs under Debian 12's /usr/bin/python3 (3.11: tomllib) with python3-yaml.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAEMONS = ("matcher", "verifier")
SECRET_KEYS = {"admin.metrics_token"}

# The documented defaults of the keys the checkers reason about (docs: the daemons' --help).
DEFAULTS = {
    "matcher": {
        "matcher.data": "./var/matcher",
        "matcher.genesis": "",
        "matcher.listen": "127.0.0.1:50051",
        "matcher.verifier": "",
        "websocket.enabled": True,
        "websocket.listen": "127.0.0.1:8080",
        "admin.listen": "127.0.0.1:9151",
        "admin.metrics_token": "",
        "log.file": "",
        "shutdown.drain_timeout_seconds": 10,
    },
    "verifier": {
        "verifier.genesis": "",
        "verifier.data": "./var/verifier",
        "verifier.listen": "127.0.0.1:50052",
        "verifier.matcher": "127.0.0.1:50051",
        "admin.listen": "127.0.0.1:9152",
        "admin.metrics_token": "",
        "log.file": "",
        "shutdown.drain_timeout_seconds": 10,
    },
}


def load_keys(path: Path = HERE / "config_keys.txt") -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {d: {} for d in DAEMONS}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or parts[0] not in DAEMONS or parts[2] not in ("string", "int", "bool"):
            raise SystemExit(f"{path}:{n}: expected '<matcher|verifier> <section.key> <string|int|bool>'")
        keys[parts[0]][parts[1]] = parts[2]
    return keys


def load_families(path: Path = HERE / "metric_families.txt") -> dict[str, str]:
    families: dict[str, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or parts[1] not in ("counter", "gauge", "histogram"):
            raise SystemExit(f"{path}:{n}: expected '<family> <counter|gauge|histogram>'")
        families[parts[0]] = parts[1]
    return families


def type_ok(value: object, type_name: str) -> bool:
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def daemon_of_toml(doc: dict) -> str | None:
    """The daemon a config file is for, by its own section ([matcher] or [verifier])."""
    found = [d for d in DAEMONS if d in doc]
    return found[0] if len(found) == 1 else None


def validate_toml(text: str, daemon: str | None, keys: dict[str, dict[str, str]], where: str,
                  allow_secrets: bool = False) -> tuple[str | None, dict, list[str]]:
    """Parses a daemon's TOML; returns (daemon, {section.key: value}, errors)."""
    errors: list[str] = []
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return daemon, {}, [f"{where}: not valid TOML: {e}"]
    found = daemon_of_toml(doc)
    if daemon is None:
        daemon = found
        if daemon is None:
            return None, {}, [f"{where}: has neither a [matcher] nor a [verifier] section"]
    elif found != daemon:
        errors.append(f"{where}: expected the [{daemon}] section of pom-{daemon}")
    allowed = keys[daemon]
    values: dict[str, object] = {}
    for section, table in doc.items():
        if not isinstance(table, dict):
            errors.append(f"{where}: top-level key '{section}' is not a section; pom-{daemon} has no such key")
            continue
        for name, value in table.items():
            key = f"{section}.{name}"
            if key not in allowed:
                errors.append(f"{where}: unknown key '{key}' (pom-{daemon} rejects it; "
                              f"allowed: tests/deploy/config_keys.txt)")
                continue
            if not type_ok(value, allowed[key]):
                errors.append(f"{where}: '{key}' = {value!r} is not of type {allowed[key]}")
                continue
            if key in SECRET_KEYS and value and not allow_secrets:
                errors.append(f"{where}: secret '{key}' is set in a plain file; pass it in the environment "
                              f"from a credential instead")
            values[key] = value
    return daemon, values, errors


def env_name(daemon: str, key: str) -> str:
    section, name = key.split(".", 1)
    if section == daemon:
        return f"POM_{daemon.upper()}_{name.upper()}"
    return f"POM_{daemon.upper()}_{section.upper()}_{name.upper()}"


def apply_env(daemon: str, values: dict, env: dict[str, str | None], keys: dict[str, dict[str, str]],
              where: str) -> tuple[dict, list[str]]:
    """Overlays POM_<DAEMON>_* variables (None: value not known here, e.g. from a Secret)."""
    errors: list[str] = []
    by_env = {env_name(daemon, k): k for k in keys[daemon]}
    prefix = f"POM_{daemon.upper()}_"
    out = dict(values)
    for name, raw in env.items():
        if name == prefix + "CONFIG" or not name.startswith(prefix):
            continue
        key = by_env.get(name)
        if key is None:
            errors.append(f"{where}: environment variable {name} names no key of pom-{daemon}")
            continue
        if raw is None:
            out[key] = None
            continue
        t = keys[daemon][key]
        if t == "int":
            try:
                out[key] = int(raw)
            except ValueError:
                errors.append(f"{where}: {name}={raw!r} is not an integer")
        elif t == "bool":
            if raw not in ("true", "false"):
                errors.append(f"{where}: {name}={raw!r} is not true or false")
            else:
                out[key] = raw == "true"
        else:
            out[key] = raw
    return out, errors


def effective(daemon: str, values: dict) -> dict:
    out = dict(DEFAULTS[daemon])
    out.update(values)
    return out


def listen_keys(daemon: str, cfg: dict) -> list[str]:
    """The keys whose addresses the daemon listens on."""
    if daemon == "matcher":
        out = ["matcher.listen", "admin.listen"]
        if cfg.get("websocket.enabled", True):
            out.insert(1, "websocket.listen")
        return out
    return ["verifier.listen", "admin.listen"]


_ADDR = re.compile(r"^(\[[0-9a-fA-F:]*\]|[A-Za-z0-9_.-]*):([0-9]{1,5})$")


def split_addr(addr: object) -> tuple[str, int] | None:
    if not isinstance(addr, str):
        return None
    m = _ADDR.match(addr)
    if not m or not 0 < int(m.group(2)) < 65536:
        return None
    return m.group(1), int(m.group(2))


def under(path: str, root: str) -> bool:
    path, root = path.rstrip("/"), root.rstrip("/")
    return path == root or path.startswith(root + "/")


def config_arg(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--config="):
            return a.split("=", 1)[1]
    return None


def daemon_of_argv(argv: list[str]) -> str | None:
    if not argv:
        return None
    base = str(argv[0]).rsplit("/", 1)[-1]
    for d in DAEMONS:
        if base == f"pom-{d}":
            return d
    return None


def extra_flags(argv: list[str]) -> list[str]:
    """Flags other than --config: settings belong in the config file or the environment."""
    out = []
    skip = False
    for a in argv[1:]:
        if skip:
            skip = False
            continue
        if a == "--config":
            skip = True
        elif a.startswith("--config="):
            pass
        elif a.startswith("-"):
            out.append(a)
    return out


def duration_seconds(text: object) -> float | None:
    """'30s', '1m30s', '10m', '1h', '15min', '30' (seconds), '500ms'."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not text.strip():
        return None
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400,
             "us": 1e-6}
    total = 0.0
    s = text.strip().replace(" ", "")
    if re.fullmatch(r"[0-9.]+", s):
        return float(s)
    pos = 0
    for m in re.finditer(r"([0-9.]+)([a-z]+)", s):
        if m.start() != pos or m.group(2) not in units:
            return None
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    return total if pos == len(s) else None
