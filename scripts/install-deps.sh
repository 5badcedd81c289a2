#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages that building and testing cryo needs.
# Idempotent: when every package is installed already it returns at once, without apt.
set -euo pipefail

PACKAGES=(
  build-essential      # gcc, g++, make, libc headers
  cmake                # 3.25 or newer
  pkg-config
  libprotobuf-dev      # the image schema (src/image/cryo.proto)
  protobuf-compiler    # protoc
  libcli11-dev         # the command line
  libspdlog-dev        # logging
  libfmt-dev           # formatting
  libxxhash-dev        # XXH3 checksums of the image
  nlohmann-json3-dev   # --json output
  libgtest-dev         # the tests
  libgmock-dev
  python3              # a test target program; scripts/demo.sh
  xz-utils             # a multi-threaded real program checkpointed by the tests (xz -T2)
  redis-server         # a real server checkpointed by the tests (loopback only)
  redis-tools          # redis-cli, to load and read it back
  libc6-dev
  libgrpc++-dev        # cryod's API and the node commands of cryo (gRPC, src/node/cryod.proto)
  protobuf-compiler-grpc  # grpc_cpp_plugin: generates the gRPC service code
  libtoml11-dev        # cryod's configuration file (TOML, header-only)
  libssl-dev           # `cryo certs`: the cluster CA and node certificates (OpenSSL)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (sudo bash scripts/install-deps.sh) to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
