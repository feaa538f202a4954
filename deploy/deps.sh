#!/usr/bin/env bash
# Installs every Debian 12 package that pom's build, tests and benchmarks need.
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  # libraries (DESIGN.md "Machine and dependencies")
  libboost-dev libabsl-dev libxxhash-dev libssl-dev librocksdb-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libsodium-dev
  # operations: config, logs, metrics, systemd notify
  libtomlplusplus-dev libcli11-dev libspdlog-dev prometheus-cpp-dev libsystemd-dev
  # tests and benchmarks
  zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  # the WebSocket client tests (Debian's /usr/bin/python3)
  python3-websockets python3-nacl
  # the deploy files' offline checks (tests/deploy): units, compose, Kubernetes manifests
  systemd yamllint docker-compose python3-yaml curl
)
# Fuzzers (tests/fuzz) build with clang-14's libFuzzer; pass --fuzz to install it.
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "deps.sh: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
