#!/usr/bin/env bash
# The test command: installs dependencies, configures, builds and runs every test through ctest.
# Exits non-zero on any failure.
#   deploy/test.sh              Release build in build/
#   deploy/test.sh --sanitize   ASan/UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--sanitize" ]]; then
  build=build-asan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOM_SANITIZE=ON)
fi

deploy/deps.sh
jobs=$(nproc)
cmake -S . -B "$build" -G Ninja "${flags[@]}"
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
