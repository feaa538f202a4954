#!/usr/bin/env bash
# Issue 4, acceptance 1: for 10 generated, signed streams of 50,000 events (every command kind),
# `pom-matcher replay` proves every event and `pom-verifier check` verifies every proof, as real
# processes over real files; both end at the same root. Also: a corrupted proof file is refused
# with the failing sequence named, and exits non-zero.
#   replay_verify_test.sh BIN_DIR [STREAMS] [EVENTS]
set -euo pipefail
bin=$1
streams=${2:-10}
events=${3:-50000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for seed in $(seq 1 "$streams"); do
  "$bin/pom-bench" gen --seed "$((seed * 7919))" --events "$events" --users 100 --markets 3 --out "$work/s.cmds" >/dev/null
  replay=$("$bin/pom-matcher" replay --commands "$work/s.cmds" --proofs-out "$work/s.proofs")
  check=$("$bin/pom-verifier" check --proofs "$work/s.proofs" --genesis "$work/s.cmds.genesis")
  matcher_root=$(grep '^root=' <<<"$replay")
  verifier_root=$(grep '^root=' <<<"$check")
  n_events=$(grep '^events=' <<<"$replay" | cut -d= -f2)
  n_proofs=$(grep '^proofs=' <<<"$check" | cut -d= -f2)
  if [[ "$matcher_root" != "$verifier_root" || "$n_events" != "$events" || "$n_proofs" != "$events" ]]; then
    echo "stream $seed: matcher $matcher_root events=$n_events, verifier $verifier_root proofs=$n_proofs" >&2
    exit 1
  fi
  echo "stream $seed: $n_proofs proofs verified, $verifier_root"
done

# A flipped byte in the middle of the last proof file must stop the verifier at that proof.
size=$(stat -c %s "$work/s.proofs")
printf '\xff' | dd of="$work/s.proofs" bs=1 seek=$((size / 2)) conv=notrunc status=none
if out=$("$bin/pom-verifier" check --proofs "$work/s.proofs" --genesis "$work/s.cmds.genesis"); then
  echo "a corrupted proof file was accepted" >&2
  exit 1
fi
grep -q '^rejected sequence=' <<<"$out" || { echo "no failing sequence named: $out" >&2; exit 1; }
echo "corrupted file: $(head -1 <<<"$out")"
echo "$streams passed, 0 failed"
