#!/usr/bin/env bash
# The offline pipeline (the main job is deploy/run.sh, the daemons): installs dependencies,
# builds if needed, and runs pom on an embedded RocksDB under ./var/batch: a generated stream of signed commands is ingested by a persistent matcher
# (journal, proofs, snapshots in var/batch/matcher), its proofs are exported from the proof store and
# checked by a persistent verifier (var/batch/verifier), and both roots are printed. Run it again: both
# recover from var/batch and carry on (nothing is applied or verified twice).
#   deploy/batch.sh [EVENTS]      (default 20000; `rm -rf var/batch` starts over)
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-20000}"

deploy/deps.sh
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j"$(nproc)" --target pom_matcher pom_verifier pom_bench

mkdir -p var/batch
cmds="var/batch/demo-${events}.cmds"
if [[ ! -f "$cmds" ]]; then
  build/bin/pom-bench gen --seed 1 --events "$events" --users 100 --markets 3 --out "$cmds" >/dev/null
fi
echo "== matcher: ingest $cmds into var/batch/matcher"
build/bin/pom-matcher ingest --data var/batch/matcher --commands "$cmds" | tee var/batch/matcher.out
echo "== matcher: export proofs from the proof store"
build/bin/pom-matcher proofs --data var/batch/matcher --from 1 --out var/batch/demo.proofs
echo "== verifier: check them, persisting its head in var/batch/verifier"
build/bin/pom-verifier check --data var/batch/verifier --proofs var/batch/demo.proofs --genesis "$cmds.genesis" \
  | tee var/batch/verifier.out
matcher_root=$(grep '^root=' var/batch/matcher.out | tail -1 | cut -d= -f2)
verifier_root=$(grep '^root=' var/batch/verifier.out | tail -1 | cut -d= -f2)
echo "matcher root:  $matcher_root"
echo "verifier root: $verifier_root"
if [[ "$matcher_root" != "$verifier_root" ]]; then
  echo "run.sh: the verifier's root differs from the matcher's" >&2
  exit 1
fi
echo "ok: the verifier agrees with the matcher"
