#!/usr/bin/env bash
# The one test command: installs dependencies, builds, runs every test.
# Used by the README, by CI (.ci/run) and by developers alike.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh
# The MCP client the guard's end-to-end tests drive: the official TypeScript
# SDK, at the version the committed lockfile pins.
(cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error)
# The web UI's browser tests: puppeteer-core driving Debian's chromium.
(cd tests/ui && npm ci --no-audit --no-fund --loglevel=error)
BUILD_DIR=${BUILD_DIR:-build}
# Tests start their own servers on loopback ports they pick; none needs
# anything left running.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" \
  --timeout 300 "$@"
