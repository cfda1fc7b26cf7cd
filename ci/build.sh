#!/usr/bin/env bash
# Configures and builds mcpreg into ./build (override with BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
  -DMCPREG_WERROR=ON "$@"
cmake --build "$BUILD_DIR" -j "$(nproc)"
