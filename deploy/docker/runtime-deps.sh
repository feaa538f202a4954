#!/usr/bin/env bash
# Installs the Debian 12 shared libraries that pom-matcher, pom-verifier and pom-cli load at run
# time, plus curl for container health checks. The runtime image (deploy/docker/Dockerfile) runs it
# as root on debian:12-slim; tests/deploy/check_deploy.sh checks that every package exists and that
# together (with their dependencies) they provide every library the built binaries link.
#   deploy/docker/runtime-deps.sh          install, then clean apt's caches
#   deploy/docker/runtime-deps.sh --list   print the package names, one a line
set -euo pipefail

packages=(
  # C and C++ runtime
  libc6 libgcc-s1 libstdc++6
  # gRPC, protobuf, Abseil (pom's services and the wire format)
  libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623
  # crypto and hashing
  libssl3 libsodium23 libxxhash0
  # RocksDB is linked statically; its compression libraries are not
  libsnappy1v5 libbz2-1.0 liblz4-1 libzstd1 zlib1g
  # operations: logs, metrics, config, systemd notify (toml++ as Debian builds it is a shared library)
  libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libtomlplusplus3 libsystemd0
  # health checks (HEALTHCHECK, docker-compose)
  curl
)

if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/*
