#!/usr/bin/env bash
# Issue 6, acceptance 4: deploy/run.sh as the README says. Starts it under `timeout`, waits until
# it prints "ready", drives one trade between two demo users through pom-cli, checks the
# verifier's head reaches the matcher's, then presses Ctrl-C (SIGINT) and expects both daemons
# to stop cleanly (run.sh exits 0, no daemon left).
# When BIN_DIR is SOURCE/build/bin, run.sh runs exactly as a user runs it (deps.sh, then a build
# that finds everything up to date); otherwise (e.g. the sanitizer build) it is given
# POM_BIN_DIR so it uses that build's binaries.
#   run_sh_test.sh SOURCE_DIR BIN_DIR
set -euo pipefail
set -m  # run.sh gets its own process group and keeps SIGINT, as in a terminal
src=$(cd "$1" && pwd)
bin=$(cd "$2" && pwd)
work=$(mktemp -d)
runsh_pid=""
cleanup() {
  if [[ -n "$runsh_pid" ]] && kill -0 "$runsh_pid" 2>/dev/null; then kill -TERM "$runsh_pid" || true; fi
  pkill -KILL -f "$work/var" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  while true; do
    local p=$((20000 + RANDOM % 30000))
    if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}
mport=$(free_port)
vport=$(free_port)
while [[ "$vport" == "$mport" ]]; do vport=$(free_port); done
wport=$(free_port)
while [[ "$wport" == "$mport" || "$wport" == "$vport" ]]; do wport=$(free_port); done

env_args=(POM_VAR="$work/var" POM_MATCHER_PORT="$mport" POM_VERIFIER_PORT="$vport" POM_WS_PORT="$wport"
          POM_MATCHER_ADMIN_PORT="$(free_port)" POM_VERIFIER_ADMIN_PORT="$(free_port)")
if [[ "$bin" != "$src/build/bin" ]]; then env_args+=(POM_BIN_DIR="$bin"); fi
env "${env_args[@]}" timeout 300 "$src/deploy/run.sh" >"$work/run.out" 2>&1 &
runsh_pid=$!

for _ in $(seq 1 1200); do
  grep -q '^ready$' "$work/run.out" 2>/dev/null && break
  if ! kill -0 "$runsh_pid" 2>/dev/null; then echo "run.sh exited early:"; cat "$work/run.out"; exit 1; fi
  sleep 0.1
done
grep -q '^ready$' "$work/run.out" || { echo "run.sh never became ready:"; cat "$work/run.out"; exit 1; }
grep -q "matcher  gRPC 127.0.0.1:$mport" "$work/run.out"
grep -q "pom-cli .*place --key" "$work/run.out"

cli=("$bin/pom-cli" --matcher "127.0.0.1:$mport" --verifier "127.0.0.1:$vport")
keys="$work/var/dev"
sell=$("${cli[@]}" place --key "$keys/user1.key" --market 1/2 --side sell --price 100 --amount 2)
buy=$("${cli[@]}" place --key "$keys/user2.key" --market 1/2 --side buy --price 100 --amount 2)
echo "$sell"
echo "$buy"
grep -q '^result=accepted$' <<<"$sell"
grep -q '^fill maker_order=.* price=100 amount=2$' <<<"$buy"
balances=$("${cli[@]}" balances --key "$keys/user2.key")
echo "$balances"
grep -q '^proof=verified$' <<<"$balances"
# user2 bought 2 base (taker fee 0.2%: 1.996 received) on top of the 1000 deposited.
grep -q '^currency=1 available=1001.996 ' <<<"$balances"

in_sync=no
for _ in $(seq 1 100); do
  head=$("${cli[@]}" head)
  if grep -q '^in_sync=yes$' <<<"$head"; then in_sync=yes; break; fi
  sleep 0.1
done
echo "$head"
[[ "$in_sync" == yes ]]

kill -INT -- "-$runsh_pid"  # the whole process group, as Ctrl-C in a terminal does
status=0
wait "$runsh_pid" || status=$?
runsh_pid=""
cat "$work/run.out" | tail -3
if [[ "$status" != 0 ]]; then echo "run.sh exited $status after Ctrl-C"; exit 1; fi
if pgrep -f "$work/var" >/dev/null; then echo "a daemon outlived run.sh"; exit 1; fi
grep -q '^stopped$' "$work/var/matcher.log"
grep -q '^stopped$' "$work/var/verifier.log"
echo "ok: run.sh started both daemons, a trade went through, Ctrl-C stopped both"
