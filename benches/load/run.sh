#!/usr/bin/env bash
# The load benchmark (issue 9): builds in release mode, then measures side by side with wrk
# (2 threads, 32 connections, 10 s, loopback) a bare-axum baseline and portcullis on each
# scenario, drives the authorization-code flow, runs the memory soak, and appends the table
# (with the machine and date) to BENCHMARKS.md and the plot to benches/load/results.svg.
#
#   bash benches/load/run.sh
#
# Environment: PORTCULLIS_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/test;
# the PostgreSQL row is left out with a note when it does not answer), DURATION (seconds per
# scenario, default 10), SOAK_TOKENS (default 10000000; 0 skips the soak), NO_APPEND=1 to
# print the results without touching BENCHMARKS.md, PORT (default 38471).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
DURATION=${DURATION:-10}
SOAK_TOKENS=${SOAK_TOKENS:-10000000}
PORT=${PORT:-38471}
BASE="http://127.0.0.1:$PORT"
export PORTCULLIS_TEST_POSTGRES=${PORTCULLIS_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}

if ! command -v wrk >/dev/null; then
  echo "wrk is missing: installing the Debian package"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get install -y wrk || { $SUDO apt-get update && $SUDO apt-get install -y wrk; }
fi
for tool in curl cargo; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

echo "== building (release)"
cargo build --release -p load-server -p load-baseline
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
SERVER="$TARGET_DIR/release/load-server"
BASELINE="$TARGET_DIR/release/load-baseline"

WORK=$(mktemp -d)
RESULTS="$WORK/results.tsv"
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# start <command...>: starts a server in the background, waits for its "ready" line.
start() {
  "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    if grep -q '^ready' "$WORK/server.out" 2>/dev/null; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      cat "$WORK/server.err" >&2; SERVER_PID=; return 1
    fi
    sleep 0.1
  done
  echo "server did not start" >&2; cat "$WORK/server.err" >&2; return 1
}

stop() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# The ready line's key=value.
ready() { sed -n "s/^ready.* $1=\([^ ]*\).*/\1/p" "$WORK/server.out"; }

peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"; }

# record <name> <RESULT line>: appends a row with the server's peak RSS.
record() {
  local name=$1; shift
  read -r _ rps p50 p99 non2xx socket <<<"$*"
  local failed=$((non2xx + socket))
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "$(peak_rss_kib)" "$failed" >>"$RESULTS"
  printf '   %-48s %10s req/s  p50 %7s ms  p99 %7s ms  failed %s\n' "$name" "$rps" "$p50" "$p99" "$failed"
}

# load <name> <path> [method body auth]: wrk against the running server.
load() {
  local name=$1 path=$2
  local line
  line=$(WRK_METHOD=${3:-GET} WRK_BODY=${4:-} WRK_AUTH=${5:-} \
    wrk -t2 -c32 -d"${DURATION}s" -s "$ROOT/benches/load/wrk.lua" "$BASE$path" | grep '^RESULT')
  record "$name" "$line"
}

basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }

CC_BODY='grant_type=client_credentials&scope=api'

# A client-credentials token from the running server.
token() {
  curl -sf -H "Authorization: $AUTH" -d "$CC_BODY" "$BASE/oauth/token" \
    | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}

echo "== load: wrk -t2 -c32 -d${DURATION}s against 127.0.0.1:$PORT"

start "$BASELINE" "127.0.0.1:$PORT" bench-m2m baseline-secret
load "bare axum baseline (token-shaped JSON)" /oauth/token POST "$CC_BODY" "$(basic bench-m2m baseline-secret)"
stop

# client_credentials <name> <serve options...>
client_credentials() {
  local name=$1; shift
  start "$SERVER" serve --bind "127.0.0.1:$PORT" "$@" || return 1
  AUTH=$(basic "$(ready client_id)" "$(ready client_secret)")
  load "$name" /oauth/token POST "$CC_BODY" "$AUTH"
  stop
}

client_credentials "client_credentials, opaque, memory" --store memory --format opaque
client_credentials "client_credentials, opaque, SQLite" --store sqlite --format opaque \
  --sqlite-path "$WORK/load.db"
if ! client_credentials "client_credentials, opaque, PostgreSQL" --store postgres --format opaque; then
  echo "   (PostgreSQL at $PORTCULLIS_TEST_POSTGRES did not answer: row left out)"
fi
client_credentials "client_credentials, JWT ES256, memory" --store memory --format es256
client_credentials "client_credentials, JWT EdDSA, memory" --store memory --format eddsa

start "$SERVER" serve --bind "127.0.0.1:$PORT" --store memory --format opaque
AUTH=$(basic "$(ready client_id)" "$(ready client_secret)")
TOKEN=$(token)
curl -sf -H "Authorization: $AUTH" -d "token=$TOKEN" "$BASE/oauth/introspect" | grep -q '"active":true' \
  || { echo "introspection of a fresh token is not active" >&2; exit 1; }
load "introspection (active opaque token), memory" /oauth/introspect POST "token=$TOKEN" "$AUTH"
stop

start "$SERVER" serve --bind "127.0.0.1:$PORT" --store memory --format opaque
AUTH=$(basic "$(ready client_id)" "$(ready client_secret)")
TOKEN=$(token)
curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/store" >/dev/null
load "protected route, opaque token, store lookup" /api/store GET "" "Bearer $TOKEN"
stop

start "$SERVER" serve --bind "127.0.0.1:$PORT" --store memory --format es256
AUTH=$(basic "$(ready client_id)" "$(ready client_secret)")
TOKEN=$(token)
curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/api/jwt" >/dev/null
load "protected route, JWT ES256, local validation" /api/jwt GET "" "Bearer $TOKEN"
stop

start "$SERVER" serve --bind "127.0.0.1:$PORT" --store memory --format opaque
line=$("$SERVER" flows --target "$BASE" --web-secret "$(ready web_secret)" \
  --connections 32 --duration "$DURATION" | grep '^RESULT')
record "authorization-code flows/s (6 requests each), memory" "$line"
stop

# The baseline again: the machine's state drifts (other work, disk, thermal), and the
# ratios are taken against the higher of the two baseline rows, the conservative choice.
start "$BASELINE" "127.0.0.1:$PORT" bench-m2m baseline-secret
load "bare axum baseline, again at the end" /oauth/token POST "$CC_BODY" "$(basic bench-m2m baseline-secret)"
stop

SOAK_LINES=
if [ "$SOAK_TOKENS" != 0 ]; then
  echo "== soak: $SOAK_TOKENS client-credentials tokens in process, 300 s lifetime, 1 ms of simulated time each"
  "$SERVER" soak --tokens "$SOAK_TOKENS" | tee "$WORK/soak.out"
  SOAK_LINES=$(grep '^SOAK' "$WORK/soak.out" || true)
fi

SVG="$ROOT/benches/load/results.svg"
TABLE=$("$SERVER" report --input "$RESULTS" --svg "$SVG")
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
{
  echo
  echo "## Load run of $DATE (\`bash benches/load/run.sh\`)"
  echo
  echo "Machine: $(nproc) CPUs ($CPU), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM;"
  echo "wrk and the server on the same machine over loopback, wrk 2 threads, 32 connections, ${DURATION} s per row."
  echo "Each row is a fresh server process; p50/p99 are wrk's (the flow row: the driver's, per flow)."
  echo "The baseline runs first and last; ratios are to the higher of the two."
  echo "Plot: [benches/load/results.svg](benches/load/results.svg)."
  echo
  echo "$TABLE"
  if [ -n "$SOAK_LINES" ]; then
    echo
    echo "Memory soak (memory store, tokens live 300 s on a simulated clock advancing 1 ms per token):"
    echo
    echo "$SOAK_LINES" | while read -r _ count kib; do
      echo "- RSS after $count tokens: $(awk -v k="$kib" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
    done
  fi
} >"$WORK/section.md"

cat "$WORK/section.md"
if [ "${NO_APPEND:-0}" != 1 ]; then
  cat "$WORK/section.md" >>"$ROOT/BENCHMARKS.md"
  echo "appended to BENCHMARKS.md; plot in $SVG"
fi
