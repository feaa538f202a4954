#!/usr/bin/env bash
# Configures and builds pom (deploy/test.sh, deploy/run.sh and the Dockerfile's build stage all
# build through this script). Needs deploy/deps.sh to have run.
#   deploy/build.sh              Release build in build/
#   deploy/build.sh --sanitize   ASan/UBSan build in build-asan/
# Prints the build directory as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${POM_BUILD_DIR:-build}
flags=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--sanitize" ]]; then
  build=build-asan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOM_SANITIZE=ON)
fi
jobs=$(nproc)
cmake -S . -B "$build" -G Ninja "${flags[@]}" >&2
cmake --build "$build" -j"$jobs" >&2
echo "$build"
