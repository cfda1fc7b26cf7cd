#!/usr/bin/env bash
# Installs exactly the Debian 12 packages mcpreg needs to build, test and
# serve. Idempotent: when everything is present it changes nothing and does
# not touch the network.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format
  # fuzzing (ci/fuzz.sh): clang with the libFuzzer runtime
  clang libclang-rt-14-dev
  # libraries (-dev packages)
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libpqxx-dev libre2-dev libarchive-dev libcpp-httplib-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  # runtime: the embedded database, and tools the tests call
  postgresql-15 postgresql-contrib openssl curl
  # the sample packages the quickstart seeds are run by the tests
  python3 nodejs
  # the package clients the npm/PyPI endpoints are proven with: twine and
  # pip (npm comes with nodejs, below)
  twine python3-pip
  # the browser the web UI's end-to-end tests drive (puppeteer-core)
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm comes with nodejs from some sources (NodeSource) and separately from
# Debian's: only ask for Debian's when there is none.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
