#!/usr/bin/env bash
# Serves the registry on this machine, the way a new user first meets it:
# installs what it needs, builds, starts a private PostgreSQL 15 (its own data
# directory, unix socket only), starts mcpreg-host with libmcpreg.so on
# 127.0.0.1:7443, seeds the quickstart data (project ai-research, repositories
# ai-pypi-local and ai-npm-local with sample packages), and prints the admin
# token (on the first run only) and commands to paste. Ctrl-C stops
# everything it started.
#
# Running it again reuses the database and storage under $MCPREG_HOME
# (default ./.mcpreg). Settings: MCPREG_GRPC_LISTEN (default 127.0.0.1:7443),
# MCPREG_REST_LISTEN (default 127.0.0.1:8080),
# MCPREG_PG_PORT (default 54329; the socket is private, the number only names
# it), MCPREG_RESET=1 to start from an empty database.
#
# Both ports are plain text on loopback by default. MCPREG_SERVE_TLS=1 serves
# them over TLS with a certificate for 127.0.0.1 and localhost from a private
# CA made once in $MCPREG_HOME/tls (clients trust it with
# MCPREG_CA_FILE=$MCPREG_HOME/tls/ca.crt, curl with --cacert); or bring your
# own with MCPREG_TLS_CERT_FILE and MCPREG_TLS_KEY_FILE, and
# MCPREG_TLS_CA_FILE for the CA clients should trust. Listening beyond
# loopback without TLS sends tokens in the clear: don't.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}
LISTEN=${MCPREG_GRPC_LISTEN:-127.0.0.1:7443}
REST_LISTEN=${MCPREG_REST_LISTEN:-127.0.0.1:8080}
MCPREG_HOME=${MCPREG_HOME:-$ROOT/.mcpreg}
PG_PORT=${MCPREG_PG_PORT:-54329}
PG_BIN=/usr/lib/postgresql/15/bin

say() { echo "mcpreg: $*"; }

mkdir -p "$MCPREG_HOME"
MCPREG_HOME=$(cd "$MCPREG_HOME" && pwd)
bash ci/install-deps.sh
say "building into $BUILD_DIR (the first build takes a few minutes)"
if ! bash ci/build.sh >"$MCPREG_HOME/build.log" 2>&1; then
  tail -40 "$MCPREG_HOME/build.log"
  say "the build failed; the whole log is in $MCPREG_HOME/build.log"
  exit 1
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# postgres user and lives where that user can reach it.
if [ "$(id -u)" -eq 0 ]; then
  PG_DIR=${MCPREG_PG_DIR:-/var/lib/mcpreg/pg-$(printf %s "$MCPREG_HOME" | sha256sum | cut -c1-12)}
  as_pg() { runuser -u postgres -- "$@"; }
else
  PG_DIR=${MCPREG_PG_DIR:-$MCPREG_HOME/pg}
  as_pg() { "$@"; }
fi
PG_DATA=$PG_DIR/data
pg_running() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

if [ "${MCPREG_RESET:-0}" = 1 ]; then
  say "MCPREG_RESET=1: removing the database and storage"
  if pg_running; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null; fi
  rm -rf "$PG_DIR" "$MCPREG_HOME/storage" "$MCPREG_HOME/admin-token"
fi

fresh_database=0
if [ ! -f "$PG_DATA/PG_VERSION" ]; then
  say "creating a private PostgreSQL cluster in $PG_DIR"
  mkdir -p "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR"
  chmod 700 "$PG_DIR"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
    --locale=C >"$MCPREG_HOME/initdb.log" 2>&1 ||
    { say "initdb failed; see $MCPREG_HOME/initdb.log"; exit 1; }
  fresh_database=1
fi

TLS_CERT=${MCPREG_TLS_CERT_FILE:-}
TLS_KEY=${MCPREG_TLS_KEY_FILE:-}
TLS_CA=${MCPREG_TLS_CA_FILE:-}
if [ "${MCPREG_SERVE_TLS:-0}" = 1 ] && [ -z "$TLS_CERT" ]; then
  TLS_DIR=$MCPREG_HOME/tls
  if [ ! -f "$TLS_DIR/server.crt" ]; then
    say "making a private CA and a certificate for 127.0.0.1 in $TLS_DIR"
    mkdir -p "$TLS_DIR" && chmod 700 "$TLS_DIR"
    (
      cd "$TLS_DIR"
      key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
      openssl req -x509 $key -days 825 -subj /CN=mcpreg-local-ca \
        -keyout ca.key -out ca.crt
      openssl req $key -subj /CN=localhost -keyout server.key -out server.csr
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' >server.ext
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
        -CAcreateserial -days 825 -extfile server.ext -out server.crt
    ) >"$MCPREG_HOME/tls.log" 2>&1 ||
      { say "openssl failed; see $MCPREG_HOME/tls.log"; exit 1; }
  fi
  TLS_CERT=$TLS_DIR/server.crt TLS_KEY=$TLS_DIR/server.key TLS_CA=$TLS_DIR/ca.crt
fi
TLS_JSON= REGISTRY_TLS_JSON= CLI_TLS= SCHEME=http CURL_TLS= ENV_TLS= NPM_TLS=
if [ -n "$TLS_CERT" ]; then
  TLS_JSON="\"tls\": {\"certFile\": \"$TLS_CERT\", \"keyFile\": \"$TLS_KEY\"},"
  SCHEME=https
  if [ -n "$TLS_CA" ]; then
    REGISTRY_TLS_JSON="\"registryCaFile\": \"$TLS_CA\","
    CLI_TLS="--ca-file $TLS_CA" CURL_TLS="--cacert $TLS_CA " ENV_TLS=" MCPREG_CA_FILE=$TLS_CA"
    NPM_TLS=" 'cafile=$TLS_CA'"
  else
    REGISTRY_TLS_JSON="\"registryTls\": true,"
    CLI_TLS="--tls" ENV_TLS=" MCPREG_TLS=1"
  fi
fi

HOST_PID=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$HOST_PID" ] && kill -0 "$HOST_PID" 2>/dev/null; then
    kill -TERM "$HOST_PID" 2>/dev/null || true
    wait "$HOST_PID" 2>/dev/null || true
  fi
  if pg_running; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
    say "stopped mcpreg-host and PostgreSQL"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if pg_running; then
  say "PostgreSQL in $PG_DIR is already running; using it"
else
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgresql.log" -w \
    -o "-c listen_addresses='' -k $PG_DIR -p $PG_PORT" start >/dev/null ||
    { say "PostgreSQL did not start; see $PG_DIR/postgresql.log"; exit 1; }
fi
psql_q() { as_pg "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -tAq "$@"; }
if [ "$(psql_q -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'mcpreg'")" != 1 ]; then
  psql_q -d postgres -c "CREATE DATABASE mcpreg"
  fresh_database=1
fi

TOKEN_FILE=$MCPREG_HOME/admin-token
# A new database bootstraps a new admin; a token file left from an older
# database would only be a dead token.
[ "$fresh_database" = 1 ] && rm -f "$TOKEN_FILE"
had_token=0
[ -f "$TOKEN_FILE" ] && had_token=1

cat >"$MCPREG_HOME/host.json" <<JSON
{
  "grpcListen": "$LISTEN",
  "restListen": "$REST_LISTEN",
  $TLS_JSON
  "pluginConfig": {
    "database": {"conninfo": "host=$PG_DIR port=$PG_PORT dbname=mcpreg user=postgres"},
    "storageRoot": "$MCPREG_HOME/storage",
    "bootstrap": {"adminTokenFile": "$TOKEN_FILE", "adminPrincipal": "admin"},
    "quickstart": true,
    "registryAddress": "$LISTEN",
    "packageBaseUrl": "$SCHEME://$REST_LISTEN",
    $REGISTRY_TLS_JSON
    "guardCommand": "$ROOT/$BUILD_DIR/bin/mcpreg"
  }
}
JSON

"$BUILD_DIR/bin/mcpreg-host" --config "$MCPREG_HOME/host.json" &
HOST_PID=$!
for _ in $(seq 1 120); do
  if ! kill -0 "$HOST_PID" 2>/dev/null; then
    wait "$HOST_PID" || true
    HOST_PID=
    say "mcpreg-host exited; its messages are above"
    exit 1
  fi
  "$BUILD_DIR/bin/mcpreg" --addr "$LISTEN" $CLI_TLS --timeout 1 health >/dev/null 2>&1 && break
  sleep 0.5
done

CLI=$BUILD_DIR/bin/mcpreg
echo
say "serving gRPC on $LISTEN and REST on $SCHEME://$REST_LISTEN${TLS_CERT:+ (TLS)}"
say "web UI: $SCHEME://$REST_LISTEN/ui/ (sign in with an access token, e.g. the admin one)"
say "data in $MCPREG_HOME, PostgreSQL in $PG_DIR"
if [ "$had_token" = 0 ] && [ -f "$TOKEN_FILE" ]; then
  say "admin token (shown this once; also in $TOKEN_FILE, mode 0600):"
  echo
  echo "    $(cat "$TOKEN_FILE")"
  echo
else
  say "the admin token is in $TOKEN_FILE (created on the first run)"
fi
cat <<EOF2
Paste into another terminal — the platform page's registration with curl:

    curl -sS ${CURL_TLS}-X POST $SCHEME://$REST_LISTEN/ml/core/api/v1/mcp-registry/custom-server \\
      -H "Authorization: Bearer \$(cat $TOKEN_FILE)" \\
      -H 'Content-Type: application/json' --data @examples/register-pypi.json

and the same with the CLI, then a look around:

    export MCPREG_ADDR=$LISTEN MCPREG_TOKEN=\$(cat $TOKEN_FILE)$ENV_TLS
    $CLI register --json examples/register-pypi.json
    $CLI register --json examples/register-npm.json
    $CLI --project ai-research list
    $CLI --project ai-research get --name mcp-server
    $CLI --project ai-research unregister --name mcp-server

publish a package of your own with npm (the token as npm's _authToken; a
published version is never replaced), then register it by its path in the
repository (docs/repositories.md):

    printf '%s\\n' 'registry=$SCHEME://$REST_LISTEN/api/npm/ai-npm-local/' \\
      '//$REST_LISTEN/api/npm/ai-npm-local/:_authToken=\${MCPREG_TOKEN}' >$MCPREG_HOME/npmrc
    npm publish ./examples/hello-mcp --userconfig $MCPREG_HOME/npmrc
    $CLI register --project ai-research --repo ai-npm-local \\
      --path hello-mcp/-/hello-mcp-1.0.0.tgz --description "Says hello" --version 1.0.0

and run a governed server the way an IDE does — through the guard, which
checks every tool call with the registry (zero trust: allow a tool first):

    $CLI --project ai-research policy set --server simple-mcp --mode allow-list --tool echo
    $CLI --project ai-research client-config --server simple-mcp --client cursor
    printf '%s\\n' '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}' \\
      | $CLI --project ai-research guard --server simple-mcp

Ready for load balancers: $SCHEME://$REST_LISTEN/readyz (and /healthz).
Ctrl-C stops mcpreg-host and PostgreSQL.
EOF2
wait "$HOST_PID" || true
HOST_PID=
