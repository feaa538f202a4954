#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (-fsanitize=fuzzer,address,undefined) and runs each
# for SECONDS seconds (default 60) from a corpus seeded with real proofs and decimals.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     TARGET: multiproof decimal proof_decoder (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(multiproof decimal proof_decoder)

deploy/deps.sh --fuzz
build=build-fuzz
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DPOM_FUZZ=ON -DPOM_BUILD_BENCH=OFF >/dev/null
for t in "${targets[@]}"; do
  ninja -C "$build" "fuzz_$t" "fuzz_${t}_replay"
  corpus="$build/corpus/$t"
  "$build/tests/fuzz_${t}_replay" --write-corpus "$corpus"
  mkdir -p "$build/findings/$t"
  echo "== fuzz_$t for ${seconds}s"
  "$build/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t/" 2>&1 | tail -n 12
done
