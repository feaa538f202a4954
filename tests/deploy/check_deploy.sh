#!/usr/bin/env bash
# Offline checks of pom's deploy files (ctest: deploy_files_test). No docker engine, cluster or
# systemd instance is needed: each file is checked with the tool that reads it, then for fitting
# together with the daemons' contract (tests/deploy/config_keys.txt, metric_families.txt).
#   tests/deploy/check_deploy.sh SRC_DIR BIN_DIR          every check, then the self-test
#   tests/deploy/check_deploy.sh --only CHECK SRC_DIR BIN_DIR
# CHECK: units compose yaml k8s grafana configs docker daemons. BIN_DIR holds the built pom-matcher,
# pom-verifier and pom-cli. Tools (deploy/deps.sh installs them): systemd (systemd-analyze,
# systemd-sysusers), yamllint, docker-compose, Debian's /usr/bin/python3 with python3-yaml, apt's
# package lists (apt-cache).
#
# The self-test breaks copies of the files (never the files themselves) in ways each check must
# catch, and fails if one of them passes.
set -euo pipefail

fail() {
  echo "check_deploy: FAIL: $*" >&2
  exit 1
}

only=all
if [[ "${1:-}" == "--only" ]]; then
  only=${2:?--only CHECK}
  shift 2
fi
[[ $# -eq 2 ]] || fail "usage: check_deploy.sh [--only CHECK] SRC_DIR BIN_DIR"
src=$(cd "$1" && pwd) || fail "no source directory $1"
bin=$(cd "$2" 2>/dev/null && pwd) || fail "no binary directory $2: build first (deploy/build.sh)"
here="$src/tests/deploy"
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check_tools() {
  local t
  for t in systemd-analyze systemd-sysusers yamllint docker-compose apt-cache dpkg ldd; do
    command -v "$t" >/dev/null || fail "$t is not installed (deploy/deps.sh installs it)"
  done
  "$py" -c 'import tomllib, yaml' 2>/dev/null || fail "$py needs python3-yaml (and Python >= 3.11 for tomllib)"
}

# 1. systemd units: systemd-analyze verify and security, the sysusers file, the unit's fit with the config.
check_units() {
  local d out rc=0 t="$work/units"
  mkdir -p "$t/root/etc"
  for d in pom-matcher pom-verifier; do
    [[ -x "$bin/$d" ]] || fail "units: $bin/$d does not exist: build first (deploy/build.sh)"
    # systemd-analyze checks that ExecStart= exists: point it at the built binaries.
    sed "s|/usr/local/bin/|$bin/|g" "$src/deploy/systemd/$d.service" >"$t/$d.service"
  done
  out=$(systemd-analyze verify --man=no --generators=no "$t/pom-matcher.service" "$t/pom-verifier.service" 2>&1) || rc=$?
  if ((rc != 0)) || grep -q 'pom-' <<<"$out"; then
    fail "units: systemd-analyze verify (exit $rc):"$'\n'"$(grep 'pom-' <<<"$out" || echo "$out")"
  fi
  [[ -z "$out" ]] || echo "  (systemd-analyze said, about no pom unit: $(head -c 300 <<<"$out"))"
  for d in pom-matcher pom-verifier; do
    # Exposure 0-100 (shown as 0.0-10.0): at most 2.0, "OK".
    out=$(systemd-analyze security --offline=yes --threshold=20 "$t/$d.service" 2>&1) ||
      fail "units: $d.service is exposed above 2.0 (systemd-analyze security):"$'\n'"$(grep -E '^(✗|→)' <<<"$out" | tail -12)"
  done
  out=$(systemd-sysusers --root="$t/root" "$src/deploy/systemd/pom.sysusers" 2>&1) ||
    fail "units: systemd-sysusers rejects pom.sysusers: $out"
  grep -q '^pom:x:10001:10001:' "$t/root/etc/passwd" ||
    fail "units: pom.sysusers does not create pom with uid/gid 10001 (as in the image)"
  "$py" "$here/check_files.py" units "$src"
  echo "  systemd-analyze verify: clean; security exposure <= 2.0; pom.sysusers: pom 10001:10001"
}

# 2. docker-compose: the file as docker-compose reads it, then how the services fit together.
render_compose() {
  local out
  out=$(cd "$src/deploy" && env -u POM_IMAGE -u POM_METRICS_TOKEN \
    docker-compose -f docker-compose.yml config 2>&1 >"$work/compose.yml") ||
    fail "compose: docker-compose config: $out"
}
check_compose() {
  render_compose
  "$py" "$here/check_files.py" compose "$src" "$work/compose.yml" || fail "compose: check_files.py compose"
}

# 3. YAML lint, and the Kubernetes manifests' structure.
check_yaml() {
  yamllint --strict -c "$here/yamllint.yml" "$src"/deploy/k8s/*.yaml "$src/deploy/docker-compose.yml" ||
    fail "yaml: yamllint"
  local manifests=("$src"/deploy/k8s/*.yaml)
  echo "  yamllint: clean (${#manifests[@]} manifests, docker-compose.yml)"
}
check_k8s() {
  "$py" "$here/check_k8s.py" "$src/deploy/k8s" || fail "k8s: check_k8s.py"
}

# 7. The built daemons themselves read each configuration as deployed (--print-config) and show
# the effective values the checks above reason about.
check_daemons() {
  local d
  for d in pom-matcher pom-verifier; do
    [[ -x "$bin/$d" ]] || fail "daemons: $bin/$d does not exist: build first (deploy/build.sh)"
  done
  render_compose
  "$py" "$here/check_files.py" daemons "$src" "$bin" "$work/compose.yml" || fail "daemons: check_files.py daemons"
}

# 4-6. The dashboard, the example configs, the Dockerfile and its runtime packages.
check_py() {
  "$py" "$here/check_files.py" "$1" "$src" ${2:+"$2"} || fail "$1: check_files.py $1"
}

run_check() {
  case "$1" in
    units) check_units ;;
    compose) check_compose ;;
    yaml) check_yaml ;;
    k8s) check_k8s ;;
    grafana) check_py grafana ;;
    configs) check_py configs ;;
    docker) check_py docker "$bin" ;;
    daemons) check_daemons ;;
    *) fail "unknown check $1" ;;
  esac
}

checks=(units compose yaml k8s grafana configs docker daemons)
check_tools
if [[ "$only" != all ]]; then
  run_check "$only"
  exit 0
fi
for c in "${checks[@]}"; do
  echo "== $c"
  run_check "$c"
done

# ---- self-test: each check fails on a broken copy ---------------------------------------------
echo "== self-test: broken copies"
n=0
mutate() { # CHECK FILE SED-SCRIPT WHAT
  local check=$1 file=$2 script=$3 what=$4 t out
  t=$(mktemp -d "$work/mutant.XXXX")
  mkdir -p "$t/tests"
  cp -r "$src/deploy" "$t/deploy"
  cp -r "$here" "$t/tests/deploy"
  sed -i -e "$script" "$t/$file"
  cmp -s "$src/$file" "$t/$file" && fail "self-test: '$what' changes nothing in $file (stale sed script?)"
  if out=$(bash "$t/tests/deploy/check_deploy.sh" --only "$check" "$t" "$bin" 2>&1); then
    fail "self-test: the $check check passes on a copy with $what:"$'\n'"$out"
  fi
  printf '  %-8s %-50s -> %s\n' "$check" "$what" \
    "$(grep -m1 -A1 -E 'FAIL|rror' <<<"$out" | sed -e "s|$t/||g" -e 's|/tmp/[^ ]*/||g' -e 's/^check_[a-z_]*\( [a-z]*\)\?: FAIL:\? //' |
      tr -s ' \n' ' ' | cut -c1-120)"
  n=$((n + 1))
  rm -rf "$t"
}
S=deploy/systemd
mutate units $S/pom-matcher.service 's|^ExecStart=/usr/local/bin/pom-matcher|&d|' "an ExecStart binary that does not exist"
mutate units $S/pom-verifier.service 's/^RestartSec=5s/RestartSecs=5s/' "a misspelt key (RestartSecs=)"
mutate units $S/pom-matcher.service '/^SystemCallFilter=/d; /^RestrictAddressFamilies=/d; /^PrivateUsers=/d' "hardening taken out"
mutate units $S/pom-matcher.service 's/^TimeoutStopSec=30s/TimeoutStopSec=5s/' "TimeoutStopSec under the drain timeout"
mutate units $S/pom-matcher.service 's|^StateDirectory=pom/matcher|StateDirectory=pom/match|' "a StateDirectory that is not matcher.data"
mutate units $S/pom-verifier.service 's/^After=pom-matcher.service/Requires=pom-matcher.service/' "Requires=pom-matcher.service"
mutate units $S/pom.sysusers 's/^u pom 10001:10001/u pom 999:999/' "a user that is not uid 10001"
C=deploy/docker-compose.yml
mutate compose $C 's|9151/readyz|9151/livez|' "a matcher healthcheck on /livez"
mutate compose $C 's|POM_VERIFIER_MATCHER: matcher:50051|POM_VERIFIER_MATCHER: matcher:50061|' "the verifier pointed at a wrong port"
mutate compose $C 's|POM_MATCHER_VERIFIER: verifier:50052|POM_MATCHER_VERIFIER: 127.0.0.1:50052|' "the matcher pointed at itself for the verifier"
mutate compose $C 's/^  stop_grace_period: 30s/  stop_grace_period: 5s/' "stop_grace_period under the drain timeout"
mutate compose $C 's|matcher-data:/var/lib/pom$|matcher-data:/var/lib/pom-state|' "matcher.data off its volume"
mutate compose $C 's/POM_MATCHER_LISTEN:/POM_MATCHER_LISTN:/' "an environment variable of no key"
mutate compose $C 's/^services:$/services: [/' "YAML docker-compose cannot read"
K=deploy/k8s
mutate yaml $K/20-matcher.yaml 's/^  replicas: 1$/&  /' "trailing spaces"
mutate k8s $K/20-matcher.yaml '/^  selector:$/{n;s/pom-matcher$/pom-matchr/}' "Service selectors that match no pod"
mutate k8s $K/20-matcher.yaml 's/targetPort: ws$/targetPort: websocket/' "a targetPort naming no container port"
mutate k8s $K/20-matcher.yaml 's|path: /livez|path: /healthz|' "a liveness probe off /livez"
mutate k8s $K/30-verifier.yaml '0,/path: \/readyz/ s|path: /readyz|path: /ready|' "a startup probe off /readyz and /livez"
mutate k8s $K/20-matcher.yaml 's/^  replicas: 1$/  replicas: 2/' "two matcher replicas"
mutate k8s $K/20-matcher.yaml 's|^              mountPath: /var/lib/pom$|              mountPath: /var/lib/pom-state|' "matcher.data off the claimed volume"
mutate k8s $K/20-matcher.yaml 's/containerPort: 8080/containerPort: 8081/' "a container port the TOML does not listen on"
mutate k8s $K/20-matcher.yaml 's/- key: matcher.toml/- key: matcher.tml/' "a mounted ConfigMap key that does not exist"
mutate k8s $K/20-matcher.yaml 's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: 10/' "a grace period not above the drain"
mutate k8s $K/20-matcher.yaml 's/prometheus.io\/port: "9151"/prometheus.io\/port: "9152"/' "a scrape port that is not admin's"
mutate k8s $K/20-matcher.yaml '/enableServiceLinks: false/d' "Service links (POM_MATCHER_* variables) on"
mutate k8s $K/30-verifier.yaml 's/^  namespace: pom$//' "objects without a namespace"
mutate k8s $K/10-config.yaml 's/^    threads = 2$/&\n    thread = 2/' "an unknown key in the verifier's TOML"
mutate k8s $K/10-config.yaml 's/^    snapshot_interval = 100000$/    snapshot_interval = "100000"/' "a string where the TOML wants an integer"
mutate k8s $K/10-config.yaml 's/matcher = "pom-matcher:50051"/matcher = "pom-matcher-api:50051"/' "the verifier pointed at no Service"
mutate k8s $K/10-config.yaml 's/^    listen = "0.0.0.0:9151"/    listen = "127.0.0.1:9151"/' "admin on loopback in a pod"
G=deploy/grafana/pom-dashboard.json
mutate grafana $G 's/pom_matcher_events_total/pom_matcher_event_total/' "a metric family that does not exist"
mutate grafana $G '0,/"targets": \[/ s/"targets": \[/"targetz": [/' "a panel without targets"
mutate grafana $G 's/(rate(pom_verifier_verify_seconds_bucket/(rate(pom_verifier_verify_seconds/' "a quantile of a histogram without _bucket"
mutate grafana $G '1s/^{/{,/' "invalid JSON"
mutate configs deploy/config/matcher.toml 's/^queue_limit = /queue_limits = /' "an unknown key"
mutate configs deploy/config/verifier.toml 's/^threads = 2/threads = "2"/' "a value of the wrong type"
mutate configs deploy/config/matcher.toml 's/^metrics_token = ""/metrics_token = "hunter2"/' "a secret in the file"
mutate configs deploy/config/matcher.toml '/^max_batch = /d' "a key the example does not show"
D=deploy/docker
mutate docker $D/Dockerfile 's/^USER 10001:10001/USER root/' "USER root"
mutate docker $D/Dockerfile 's|^RUN deploy/deps.sh|RUN true|' "a build stage without deploy/deps.sh"
mutate docker $D/Dockerfile 's/^FROM debian:12-slim AS runtime/FROM ubuntu:22.04 AS runtime/' "a non-Debian-12 base"
mutate docker $D/Dockerfile 's/^EXPOSE 50051 50052 8080 9151 9152/EXPOSE 50051 50052 8080/' "admin ports not exposed"
mutate docker $D/runtime-deps.sh 's/libsodium23/libsodium42/' "a package apt does not have"
mutate docker $D/runtime-deps.sh 's/ libspdlog1.10//' "a linked library's package left out"
mutate daemons $K/10-config.yaml 's/^    tree = "memory"$/    tree = "disk"/' "a value pom-matcher refuses (tree = disk)"
mutate daemons tests/deploy/deploy_schema.py 's/"log.file": "",/"log.file": "x.log",/' "a default the checks assume wrongly"
echo "  $n broken copies, each caught"
echo "check_deploy: ok"
