#!/usr/bin/env bash
# The main job: installs dependencies, builds if needed, and runs pom-matcher and pom-verifier as
# daemons on embedded RocksDB under ./var, with a development genesis (demo users with chain-side
# funds, the operator's key) and a demo market 1/2 where the demo users have deposits. Prints where
# to connect and pom-cli examples, then runs until Ctrl-C (or SIGTERM), which stops both cleanly.
# Run it again: both recover from ./var and carry on (`rm -rf var` starts over).
#
#   deploy/run.sh
# Environment (all optional):
#   POM_VAR=DIR             state directory (default ./var)
#   POM_MATCHER_PORT=N      matcher gRPC port (default 50051)
#   POM_VERIFIER_PORT=N     verifier gRPC port (default 50052)
#   POM_WS_PORT=N           matcher WebSocket port (default 8080)
#   POM_MATCHER_ADMIN_PORT=N, POM_VERIFIER_ADMIN_PORT=N
#                           admin HTTP ports: /metrics, /livez, /readyz (default 9151, 9152)
#   POM_BIN_DIR=DIR         use these binaries instead of installing and building (tests)
set -euo pipefail
cd "$(dirname "$0")/.."
var="${POM_VAR:-./var}"
matcher_port="${POM_MATCHER_PORT:-50051}"
verifier_port="${POM_VERIFIER_PORT:-50052}"
ws_port="${POM_WS_PORT:-8080}"
matcher_admin_port="${POM_MATCHER_ADMIN_PORT:-9151}"
verifier_admin_port="${POM_VERIFIER_ADMIN_PORT:-9152}"

if [[ -z "${POM_BIN_DIR:-}" ]]; then
  deploy/deps.sh
  if [[ ! -f build/build.ninja ]]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build build -j"$(nproc)" --target pom_matcher pom_verifier pom_cli
  bin="$PWD/build/bin"
else
  bin="$POM_BIN_DIR"
fi
cli=("$bin/pom-cli" --matcher "127.0.0.1:$matcher_port" --verifier "127.0.0.1:$verifier_port")

mkdir -p "$var/dev"
if [[ ! -f "$var/dev/genesis.json" ]]; then
  "$bin/pom-cli" dev-genesis --dir "$var/dev" --users 3 --currencies 1,2 --amount 1000000 >"$var/dev/accounts.txt"
fi

pids=()
stop() {
  trap '' INT TERM  # a second Ctrl-C must not cut the clean stop short
  echo
  echo "run.sh: stopping pom-matcher and pom-verifier"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  status=0
  for pid in "${pids[@]}"; do
    while :; do
      rc=0
      wait "$pid" || rc=$?
      # A signal that arrives during `wait` ends it early (status > 128) while the daemon still
      # drains: wait again.
      if ((rc > 128)) && kill -0 "$pid" 2>/dev/null; then continue; fi
      break
    done
    ((rc == 0)) || status=$rc
  done
  echo "run.sh: stopped (exit $status)"
  exit "$status"
}
trap stop INT TERM

"$bin/pom-verifier" serve --genesis "$var/dev/genesis.json" --data "$var/verifier" \
  --listen "127.0.0.1:$verifier_port" --matcher "127.0.0.1:$matcher_port" \
  --admin-listen "127.0.0.1:$verifier_admin_port" --log-format text >"$var/verifier.log" 2>&1 &
pids+=($!)
"$bin/pom-matcher" serve --genesis "$var/dev/genesis.json" --data "$var/matcher" \
  --listen "127.0.0.1:$matcher_port" --verifier "127.0.0.1:$verifier_port" \
  --ws-listen "127.0.0.1:$ws_port" --admin-listen "127.0.0.1:$matcher_admin_port" --log-format text \
  >"$var/matcher.log" 2>&1 &
pids+=($!)

wait_for() {  # file text
  for _ in $(seq 1 600); do
    if grep -q "$2" "$1" 2>/dev/null; then return 0; fi
    for pid in "${pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "run.sh: a daemon exited; see $var/matcher.log and $var/verifier.log" >&2
        cat "$var/matcher.log" "$var/verifier.log" >&2
        stop
      fi
    done
    sleep 0.1
  done
  echo "run.sh: timed out waiting for '$2' in $1" >&2
  stop
}
wait_for "$var/verifier.log" "listening port="
wait_for "$var/matcher.log" "listening port="

# First start: the demo market and the demo users' deposits.
if [[ ! -f "$var/dev/ready" ]]; then
  "${cli[@]}" market-create --key "$var/dev/operator.key" --market 1/2 --price-decimals 2 --amount-decimals 3 \
    --maker-fee-ppm 1000 --taker-fee-ppm 2000 --max-makers 100 >/dev/null
  for u in 1 2 3; do
    "${cli[@]}" deposit --key "$var/dev/user$u.key" --currency 1 --amount 1000 --wait >/dev/null
    "${cli[@]}" deposit --key "$var/dev/user$u.key" --currency 2 --amount 100000 --wait >/dev/null
  done
  touch "$var/dev/ready"
fi

ex="$bin/pom-cli"
if [[ "$matcher_port" != 50051 || "$verifier_port" != 50052 ]]; then
  ex="$ex --matcher 127.0.0.1:$matcher_port --verifier 127.0.0.1:$verifier_port"
fi
cat <<EOF
pom is running (state in $var; logs $var/matcher.log, $var/verifier.log)
  matcher  gRPC 127.0.0.1:$matcher_port   (pom.v1.Matcher, grpc.health.v1, reflection)
  verifier gRPC 127.0.0.1:$verifier_port   (pom.v1.Verifier, grpc.health.v1, reflection)
  traders  WebSocket ws://127.0.0.1:$ws_port   (JSON; docs/websocket-api.md)
  admin    http://127.0.0.1:$matcher_admin_port, :$verifier_admin_port   (/metrics, /livez, /readyz; docs/operations.md)
  demo market 1/2 (base currency 1, quote currency 2); demo keys in $var/dev (user1.key .. user3.key)
Try, in another terminal:
  $ex place --key $var/dev/user1.key --market 1/2 --side sell --price 100 --amount 2
  $ex place --key $var/dev/user2.key --market 1/2 --side buy --price 100 --amount 2
  $ex book --market 1/2
  $ex balances --key $var/dev/user2.key
  $ex head
Ctrl-C stops both.
ready
EOF
wait -n "${pids[@]}" || true
stop
