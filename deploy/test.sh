#!/usr/bin/env bash
# The test command: installs dependencies, configures, builds and runs every test through ctest.
# Exits non-zero on any failure.
#   deploy/test.sh              Release build in build/
#   deploy/test.sh --sanitize   ASan/UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/deps.sh
build=$(deploy/build.sh "$@" | tail -n 1)
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
