#!/usr/bin/env bash
# The main job: installs dependencies, builds if needed, and runs pom.
# For now this runs the demo of common/ (tree, multiproof, money, keys) and prints its roots;
# the matcher and verifier daemons replace it as their issues land.
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/deps.sh
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build -j"$(nproc)" --target pom_matcher
exec build/bin/pom-matcher demo
