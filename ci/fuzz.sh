#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (+ASan/UBSan) into ./build-fuzz and
# runs each for FUZZ_SECONDS (default 20) from its seed corpus in
# fuzz/corpus/<name>/. New inputs go to a scratch corpus, not the repo; a
# crash leaves its reproducer in build-fuzz/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-20}
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMCPREG_FUZZ=ON \
  -DMCPREG_SANITIZE=address,undefined -DMCPREG_BUILD_TESTS=OFF \
  -DMCPREG_BUILD_BENCH=OFF >/dev/null
targets=(register_validation safe_path package_manifest bounded_archive
  rest_transcoding multipart argument_conditions)
cmake --build "$BUILD_DIR" -j "$(nproc)" \
  --target "${targets[@]/%/_fuzzer}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  echo "fuzz: $t for ${SECONDS_EACH}s"
  (cd "$BUILD_DIR" && "./bin/${t}_fuzzer" -max_total_time="$SECONDS_EACH" \
     -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
     "$scratch" "../fuzz/corpus/$t" 2>&1 | tail -8)
  rm -rf "$scratch"
done
