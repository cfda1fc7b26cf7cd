#!/usr/bin/env bash
# Builds mcpreg with AddressSanitizer + UndefinedBehaviorSanitizer into
# ./build-asan and runs the whole suite there. Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-asan}
BUILD_DIR=$BUILD_DIR BUILD_TYPE=RelWithDebInfo bash ci/build.sh \
  -DMCPREG_SANITIZE=address,undefined -DMCPREG_BUILD_BENCH=OFF
# The plugin is dlopen'ed by the host, and libpq/gRPC start threads we do not
# own: report real leaks in our code, not their process-lifetime allocations.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_odr_violation=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/ci/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" --timeout 300
