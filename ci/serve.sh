#!/usr/bin/env bash
# Builds mcpreg if needed and serves it on this machine: mcpreg-host with
# libmcpreg.so on 127.0.0.1:7443 (override with MCPREG_GRPC_LISTEN). Ctrl-C
# stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh >/dev/null
BUILD_DIR=${BUILD_DIR:-build}
LISTEN=${MCPREG_GRPC_LISTEN:-127.0.0.1:7443}
echo "mcpreg: starting mcpreg-host on $LISTEN (Ctrl-C to stop)"
echo "mcpreg: try   $BUILD_DIR/bin/mcpreg --addr $LISTEN info"
exec "$BUILD_DIR/bin/mcpreg-host" --grpc_listen "$LISTEN" "$@"
