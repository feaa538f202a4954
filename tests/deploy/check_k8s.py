#!/usr/bin/python3
"""Structural checks of pom's Kubernetes manifests (deploy/k8s), without a cluster.

  /usr/bin/python3 tests/deploy/check_k8s.py deploy/k8s

Reads every *.yaml there and checks that the objects fit together the way pom-matcher and
pom-verifier need: each daemon's TOML (from its ConfigMap) only uses known keys
(tests/deploy/config_keys.txt), its data directory is on the StatefulSet's claimed volume, its
listeners match the container ports, the probes hit /livez and /readyz on its admin port, the
Services select its pods and name real container ports, the two daemons address each other
through those Services, and the grace period outlasts the drain. Prints every problem; exits 1
when there is any.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

import deploy_schema as ds

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                  "PriorityClass", "CustomResourceDefinition"}
WORKLOADS = {"StatefulSet", "Deployment", "DaemonSet"}

problems: list[str] = []


def fail(where: str, msg: str) -> None:
    problems.append(f"{where}: {msg}")


def get(obj, *path, default=None):
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return default
        obj = obj[p]
    return obj


class Pod:
    """A pom daemon's container in a workload, with what the checks learn about it."""

    def __init__(self, where, workload, container, daemon):
        self.where = where
        self.workload = workload
        self.container = container
        self.daemon = daemon
        self.cfg: dict | None = None
        self.ports: dict[str, int] = {}  # name -> containerPort
        self.numbers: set[int] = set()


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: check_k8s.py DIR", file=sys.stderr)
        return 2
    root = Path(sys.argv[1])
    files = sorted(list(root.glob("*.yaml")) + list(root.glob("*.yml")))
    if not files:
        print(f"check_k8s: FAIL: no *.yaml in {root}")
        return 1
    keys = ds.load_keys()

    docs = []  # (where, doc)
    for f in files:
        try:
            loaded = list(yaml.safe_load_all(f.read_text()))
        except yaml.YAMLError as e:
            fail(f.name, f"not valid YAML: {e}")
            continue
        for i, doc in enumerate(loaded):
            if doc is None:
                continue
            kind = doc.get("kind", "?") if isinstance(doc, dict) else "?"
            name = get(doc, "metadata", "name", default="?")
            docs.append((f"{f.name}#{i} {kind}/{name}", doc))

    # -- every document: apiVersion, kind, metadata.name, namespace ---------------------------
    namespaces = {get(d, "metadata", "name") for _, d in docs if isinstance(d, dict) and d.get("kind") == "Namespace"}
    by_kind: dict[str, dict[str, tuple[str, dict]]] = {}
    for where, doc in docs:
        if not isinstance(doc, dict):
            fail(where, "not a mapping")
            continue
        for field in ("apiVersion", "kind"):
            if not doc.get(field):
                fail(where, f"no {field}")
        name = get(doc, "metadata", "name")
        if not name:
            fail(where, "no metadata.name")
        kind = doc.get("kind")
        if kind not in CLUSTER_SCOPED:
            ns = get(doc, "metadata", "namespace")
            if not ns:
                fail(where, "no metadata.namespace")
            elif ns not in namespaces:
                fail(where, f"namespace '{ns}' is not created by these manifests")
        if kind and name:
            if name in by_kind.setdefault(kind, {}):
                fail(where, f"a second {kind} named {name}")
            by_kind[kind][name] = (where, doc)

    configmaps = {n: d.get("data") or {} for n, (_, d) in by_kind.get("ConfigMap", {}).items()}
    secrets = {n: {**(d.get("data") or {}), **(d.get("stringData") or {})}
               for n, (_, d) in by_kind.get("Secret", {}).items()}

    # -- TOML in ConfigMaps: parse, known keys and types, no secrets --------------------------
    tomls: dict[tuple[str, str], tuple[str | None, dict]] = {}
    for name, data in configmaps.items():
        for key, text in data.items():
            if key.endswith(".toml"):
                where = f"ConfigMap/{name} key {key}"
                daemon, values, errs = ds.validate_toml(str(text), None, keys, where)
                for e in errs:
                    problems.append(e)
                tomls[(name, key)] = (daemon, values)

    # -- workloads and their pom containers ----------------------------------------------------
    pods: list[Pod] = []
    workload_labels: dict[str, tuple[str, dict, list[Pod], dict]] = {}
    for kind in WORKLOADS:
        for name, (where, doc) in by_kind.get(kind, {}).items():
            spec = doc.get("spec") or {}
            tmpl = spec.get("template") or {}
            labels = get(tmpl, "metadata", "labels", default={}) or {}
            match = get(spec, "selector", "matchLabels", default={}) or {}
            if not match:
                fail(where, "spec.selector.matchLabels is empty")
            for k, v in match.items():
                if labels.get(k) != v:
                    fail(where, f"selector {k}={v} does not match the pod template's labels {labels}")
            pod_spec = tmpl.get("spec") or {}
            containers = pod_spec.get("containers") or []
            all_ports: dict[str, int] = {}
            for c in containers:
                for p in c.get("ports") or []:
                    if p.get("name"):
                        all_ports[p["name"]] = p.get("containerPort")
            mine = []
            for c in containers:
                argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
                daemon = ds.daemon_of_argv(argv)
                if daemon:
                    pod = Pod(f"{where} container {c.get('name')}", (kind, name, doc), c, daemon)
                    check_container(pod, argv, spec, pod_spec, tmpl, configmaps, secrets, tomls, keys)
                    pods.append(pod)
                    mine.append(pod)
            workload_labels[name] = (where, labels, mine, all_ports)
            if mine:
                check_workload(where, kind, spec, pod_spec, mine, by_kind)

    for daemon in ds.DAEMONS:
        found = [p for p in pods if p.daemon == daemon]
        if len(found) != 1:
            fail("manifests", f"expected one pom-{daemon} container, found {len(found)}")

    # -- Services: selectors and target ports --------------------------------------------------
    services = by_kind.get("Service", {})
    for name, (where, doc) in services.items():
        sel = get(doc, "spec", "selector", default={}) or {}
        if not sel:
            fail(where, "no selector")
            continue
        matched = [w for w, (_, labels, _, _) in workload_labels.items()
                   if all(labels.get(k) == v for k, v in sel.items())]
        if not matched:
            fail(where, f"selector {sel} matches no pod template")
            continue
        for w in matched:
            ports = workload_labels[w][3]
            numbers = set(ports.values())
            for p in get(doc, "spec", "ports", default=[]) or []:
                target = p.get("targetPort", p.get("port"))
                if isinstance(target, str):
                    if target not in ports:
                        fail(where, f"port {p.get('name')}: targetPort '{target}' is not a container port name "
                                    f"of {w} (has {sorted(ports)})")
                elif target not in numbers:
                    fail(where, f"port {p.get('name')}: targetPort {target} is no container port of {w}")

    # -- the daemons address each other through Services --------------------------------------
    for pod in pods:
        if pod.cfg is None:
            continue
        other = "verifier" if pod.daemon == "matcher" else "matcher"
        key = f"{pod.daemon}.{other}"
        addr = pod.cfg.get(key)
        if not addr:
            fail(pod.where, f"{key} is empty: pom-{pod.daemon} must be pointed at pom-{other}")
            continue
        check_address(pod, key, addr, other, pods, services, workload_labels)

    if problems:
        for p in problems:
            print(f"check_k8s: FAIL {p}")
        print(f"check_k8s: {len(problems)} problem(s) in {root}")
        return 1
    summary = ", ".join(f"{p.workload[0]}/{p.workload[1]}" for p in pods)
    print(f"check_k8s: ok: {len(docs)} objects in {len(files)} files; {summary}")
    return 0


def mounted_files(pod_spec, container, configmaps, secrets, where):
    """Maps each file path the container sees from a ConfigMap or Secret to (kind, name, key)."""
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    files: dict[str, tuple[str, str, str]] = {}

    def source(kind, ref, items, mount, sub_path):
        name = ref.get("name")
        store = configmaps if kind == "ConfigMap" else secrets
        if name not in store:
            if ref.get("optional") is True:
                return
            fail(where, f"mounts {kind} {name}, which is not in the manifests")
            return
        data = store[name]
        pairs = [(i.get("key"), i.get("path")) for i in items] if items else [(k, k) for k in data]
        for key, path in pairs:
            if key not in data:
                fail(where, f"mounts key '{key}' of {kind} {name}, which has no such key (has {sorted(data)})")
                continue
            if sub_path is not None:
                if path == sub_path:
                    files[mount] = (kind, name, key)
            else:
                files[f"{mount.rstrip('/')}/{path}"] = (kind, name, key)

    for m in container.get("volumeMounts") or []:
        v = volumes.get(m.get("name"))
        mount, sub = m.get("mountPath", ""), m.get("subPath")
        if v is None:
            continue  # a claim template, checked elsewhere
        if "configMap" in v:
            source("ConfigMap", v["configMap"], v["configMap"].get("items"), mount, sub)
        elif "secret" in v:
            ref = {"name": v["secret"].get("secretName"), "optional": v["secret"].get("optional")}
            source("Secret", ref, v["secret"].get("items"), mount, sub)
        elif "projected" in v:
            for s in get(v, "projected", "sources", default=[]) or []:
                if "configMap" in s:
                    source("ConfigMap", s["configMap"], s["configMap"].get("items"), mount, sub)
                elif "secret" in s:
                    source("Secret", s["secret"], s["secret"].get("items"), mount, sub)
    return files


def check_container(pod, argv, spec, pod_spec, tmpl, configmaps, secrets, tomls, keys):
    where, c, daemon = pod.where, pod.container, pod.daemon
    if "serve" not in argv:
        fail(where, f"does not run `pom-{daemon} serve`: {argv}")
    extra = ds.extra_flags(argv)
    if extra:
        fail(where, f"flags {extra} on the command line: put settings in the ConfigMap's TOML")
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    claims = {get(t, "metadata", "name") for t in spec.get("volumeClaimTemplates") or []}
    mounts = c.get("volumeMounts") or []
    for m in mounts:
        if m.get("name") not in volumes and m.get("name") not in claims:
            fail(where, f"volumeMount '{m.get('name')}' names no volume and no volumeClaimTemplate")
    files = mounted_files(pod_spec, c, configmaps, secrets, where)

    # The config file, from a mounted ConfigMap.
    path = ds.config_arg(argv)
    env_list = c.get("env") or []
    env: dict[str, str | None] = {}
    for e in env_list:
        if "value" in e:
            env[e["name"]] = str(e["value"])
        else:
            env[e["name"]] = None
            ref = get(e, "valueFrom", "configMapKeyRef") or get(e, "valueFrom", "secretKeyRef")
            if ref:
                kind = "ConfigMap" if get(e, "valueFrom", "configMapKeyRef") else "Secret"
                store = configmaps if kind == "ConfigMap" else secrets
                if ref.get("name") not in store:
                    if ref.get("optional") is not True:
                        fail(where, f"env {e['name']} refers to {kind} {ref.get('name')}, not in the manifests")
                elif ref.get("key") not in store[ref["name"]]:
                    fail(where, f"env {e['name']} refers to missing key '{ref.get('key')}' of {kind} {ref['name']}")
                elif kind == "ConfigMap":
                    env[e["name"]] = str(store[ref["name"]][ref["key"]])
    if path is None:
        path = env.get(f"POM_{daemon.upper()}_CONFIG")
    if not path:
        fail(where, f"no --config FILE (pom-{daemon} would run on its defaults)")
        return
    if path not in files or files[path][0] != "ConfigMap":
        fail(where, f"--config {path} is not a file mounted from a ConfigMap (mounted: {sorted(files)})")
        return
    _, cm, key = files[path]
    if (cm, key) not in tomls:
        fail(where, f"--config {path} comes from ConfigMap {cm} key {key}, which is not a .toml key")
        return
    toml_daemon, values = tomls[(cm, key)]
    if toml_daemon != daemon:
        fail(where, f"--config {path} (ConfigMap {cm}) is a pom-{toml_daemon} configuration")
        return
    values, errs = ds.apply_env(daemon, values, env, keys, where)
    problems.extend(errs)
    cfg = ds.effective(daemon, values)
    pod.cfg = cfg

    # Data on the claimed volume.
    data = cfg.get(f"{daemon}.data")
    if not isinstance(data, str) or not data.startswith("/"):
        fail(where, f"{daemon}.data = {data!r}: must be an absolute path on the claimed volume")
    else:
        on_claim = [m for m in mounts if m.get("name") in claims and not m.get("subPath")
                    and ds.under(data, m.get("mountPath", ""))]
        if not on_claim:
            fail(where, f"{daemon}.data = {data} is not under the mountPath of a volumeClaimTemplate "
                        f"(claims {sorted(claims)}, mounts {[(m.get('name'), m.get('mountPath')) for m in mounts]})")
        else:
            longest = max(len(m.get("mountPath", "")) for m in mounts if ds.under(data, m.get("mountPath", "")))
            if longest > len(on_claim[0].get("mountPath", "")):
                fail(where, f"{daemon}.data = {data} is hidden by another mount below the claimed volume")

    # Genesis, a mounted file.
    genesis = cfg.get(f"{daemon}.genesis")
    if daemon == "verifier" and not genesis:
        fail(where, "verifier.genesis is required")
    if genesis and genesis not in files:
        fail(where, f"{daemon}.genesis = {genesis} is not a file mounted from a ConfigMap or Secret")

    # Listeners and container ports.
    ports = c.get("ports") or []
    for p in ports:
        if p.get("name"):
            if p["name"] in pod.ports:
                fail(where, f"container port name '{p['name']}' used twice")
            pod.ports[p["name"]] = p.get("containerPort")
        pod.numbers.add(p.get("containerPort"))
    listened = set()
    for k in ds.listen_keys(daemon, cfg):
        hp = ds.split_addr(cfg.get(k))
        if hp is None:
            fail(where, f"{k} = {cfg.get(k)!r} is not HOST:PORT")
            continue
        host, port = hp
        listened.add(port)
        if host not in ("0.0.0.0", "[::]", ""):
            fail(where, f"{k} = {cfg.get(k)}: bind 0.0.0.0 in a pod (probes and Services cannot reach {host})")
        if port not in pod.numbers:
            fail(where, f"{k} = {cfg.get(k)}: no containerPort {port} (ports: {sorted(pod.numbers)})")
    for n in pod.numbers - listened:
        fail(where, f"containerPort {n} is none of the daemon's listen ports {sorted(listened)}")
    admin = ds.split_addr(cfg.get("admin.listen"))
    admin_port = admin[1] if admin else None

    # Probes.
    def probe(kind, paths):
        pr = c.get(kind)
        if not pr:
            fail(where, f"no {kind}")
            return None
        hg = pr.get("httpGet")
        if not hg:
            fail(where, f"{kind} is not an httpGet on the admin port")
            return None
        if hg.get("path") not in paths:
            fail(where, f"{kind} path {hg.get('path')!r}: expected {' or '.join(paths)}")
        port = hg.get("port")
        number = pod.ports.get(port) if isinstance(port, str) else port
        if number is None:
            fail(where, f"{kind} port {port!r} names no container port")
        elif number != admin_port:
            fail(where, f"{kind} port {port!r} = {number} is not admin.listen's port {admin_port}")
        return pr

    probe("livenessProbe", ["/livez"])
    probe("readinessProbe", ["/readyz"])
    sp = probe("startupProbe", ["/readyz", "/livez"])
    if sp and daemon == "matcher":
        allowed = sp.get("periodSeconds", 10) * sp.get("failureThreshold", 3)
        if allowed < 600:
            fail(where, f"startupProbe allows {allowed}s: the matcher's recovery can take minutes (want >= 600s)")

    # Prometheus scrape annotations.
    ann = get(tmpl, "metadata", "annotations", default={}) or {}
    if str(ann.get("prometheus.io/scrape")) != "true":
        fail(where, "pod annotation prometheus.io/scrape is not \"true\"")
    if str(ann.get("prometheus.io/port")) != str(admin_port):
        fail(where, f"pod annotation prometheus.io/port = {ann.get('prometheus.io/port')!r}, "
                    f"admin.listen's port is {admin_port}")
    if ann.get("prometheus.io/path") != "/metrics":
        fail(where, "pod annotation prometheus.io/path is not /metrics")

    # Shutdown.
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    drain = cfg.get("shutdown.drain_timeout_seconds")
    if isinstance(drain, int) and not grace > drain:
        fail(where, f"terminationGracePeriodSeconds {grace} must exceed shutdown.drain_timeout_seconds {drain}")

    # Non-root, no privileges.
    run_as_non_root = get(c, "securityContext", "runAsNonRoot", default=get(pod_spec, "securityContext", "runAsNonRoot"))
    if run_as_non_root is not True:
        fail(where, "runAsNonRoot is not true")
    if get(c, "securityContext", "allowPrivilegeEscalation") is not False:
        fail(where, "securityContext.allowPrivilegeEscalation is not false")


def check_workload(where, kind, spec, pod_spec, pods, by_kind):
    daemons = {p.daemon for p in pods}
    if kind != "StatefulSet":
        fail(where, f"pom-{'/'.join(sorted(daemons))} keeps state: it must be a StatefulSet, not a {kind}")
        return
    if "matcher" in daemons and spec.get("replicas") != 1:
        fail(where, f"replicas = {spec.get('replicas')!r}: the matcher is a single writer, it must be exactly 1")
    if spec.get("podManagementPolicy", "OrderedReady") != "OrderedReady":
        fail(where, "podManagementPolicy must be OrderedReady")
    if get(spec, "updateStrategy", "type", default="RollingUpdate") != "RollingUpdate":
        fail(where, "updateStrategy must be RollingUpdate")
    claims = spec.get("volumeClaimTemplates") or []
    if not claims:
        fail(where, "no volumeClaimTemplates: the daemon's state would not survive the pod")
    used = {m.get("name") for p in pods for m in p.container.get("volumeMounts") or []}
    for t in claims:
        n = get(t, "metadata", "name")
        if n not in used:
            fail(where, f"volumeClaimTemplate '{n}' is mounted by no container")
        if "ReadWriteOnce" not in (get(t, "spec", "accessModes", default=[]) or []) and \
                "ReadWriteOncePod" not in (get(t, "spec", "accessModes", default=[]) or []):
            fail(where, f"volumeClaimTemplate '{n}' is not ReadWriteOnce(Pod)")
        if not get(t, "spec", "resources", "requests", "storage"):
            fail(where, f"volumeClaimTemplate '{n}' requests no storage")
    if pod_spec.get("enableServiceLinks") is not False:
        fail(where, "enableServiceLinks must be false: Service links inject POM_MATCHER_*/POM_VERIFIER_* "
                    "variables, the daemons' configuration prefix")
    svc_name = spec.get("serviceName")
    svc = by_kind.get("Service", {}).get(svc_name)
    if svc is None:
        fail(where, f"serviceName '{svc_name}' is not a Service in the manifests")
    elif get(svc[1], "spec", "clusterIP") != "None":
        fail(where, f"serviceName '{svc_name}' is not a headless Service (clusterIP: None)")


def check_address(pod, key, addr, other, pods, services, workload_labels):
    hp = ds.split_addr(addr)
    if hp is None:
        fail(pod.where, f"{key} = {addr!r} is not HOST:PORT")
        return
    host, port = hp
    ns = get(pod.workload[2], "metadata", "namespace")
    name = host
    for suffix in (f".{ns}.svc.cluster.local", f".{ns}.svc", f".{ns}"):
        if host.endswith(suffix):
            name = host[: -len(suffix)]
            break
    if name not in services:
        fail(pod.where, f"{key} = {addr}: '{name}' is not a Service in the manifests")
        return
    swhere, sdoc = services[name]
    targets = [p for p in pods if p.daemon == other]
    if not targets:
        return
    target = targets[0]
    sel = get(sdoc, "spec", "selector", default={}) or {}
    labels = workload_labels[target.workload[1]][1]
    if not sel or not all(labels.get(k) == v for k, v in sel.items()):
        fail(pod.where, f"{key} = {addr}: Service {name} does not select the pom-{other} pods")
        return
    sport = [p for p in get(sdoc, "spec", "ports", default=[]) or [] if p.get("port") == port]
    if not sport:
        fail(pod.where, f"{key} = {addr}: Service {name} has no port {port}")
        return
    t = sport[0].get("targetPort", port)
    number = target.ports.get(t) if isinstance(t, str) else t
    grpc = ds.split_addr((target.cfg or {}).get(f"{other}.listen"))
    if grpc and number != grpc[1]:
        fail(pod.where, f"{key} = {addr}: Service {name} port {port} leads to {number}, "
                        f"not pom-{other}'s gRPC port {grpc[1]}")


if __name__ == "__main__":
    sys.exit(main())
