#!/usr/bin/env bash
# Load and start-up benchmark on a 1 000 000-actor SQLite store, all on loopback.
#
#   bash scripts/load.sh [ACTORS] [DURATION]
#
# 1. builds the release binary; 2. creates (once) a store with ACTORS demonstration actors;
# 3. measures the time from process start to the first answered /health and the resident
# memory; 4. runs wrk against /api/v1/actors/nearby (100 features per answer, centres drawn
# from real town halls) with and without gzip. Installs wrk from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTORS=${1:-1000000}
DURATION=${2:-20s}
DB=${ANCRAGE_BENCH_DB:-/tmp/ancrage-bench-$ACTORS.db}
PORT=${ANCRAGE_BENCH_PORT:-18181}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/ancrage

if [ ! -f "$DB" ]; then
  echo "creating $DB with $ACTORS demonstration actors…"
  /usr/bin/time -f "seeded in %e s, peak %M KiB" "$BIN" seed --database-url "sqlite://$DB" --demo-actors "$ACTORS"
fi

start=$(date +%s.%N)
ANCRAGE_BIND=127.0.0.1:$PORT ANCRAGE_DATABASE_URL="sqlite://$DB" RUST_LOG=warn "$BIN" serve &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.05; done
ready=$(date +%s.%N)
echo "start-up to first answered request: $(echo "$ready - $start" | bc) s"
echo "resident memory after start-up: $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$PID/status)"

# Query centres: representative points of the 2 000 most populous communes.
LUA=$(mktemp --suffix .lua)
curl -s "http://127.0.0.1:$PORT/api/v1/territories/search?q=a&kind=commune&limit=50" >/dev/null
python3 - "$LUA" <<'PY'
import gzip, json, sys
rows = [json.loads(l) for l in gzip.open("seed/data/communes.ndjson.gz", "rt")]
rows.sort(key=lambda r: -r["population"])
pts = [r["point"] for r in rows[:2000]]
with open(sys.argv[1], "w") as f:
    f.write("local pts = {" + ",".join("{%.5f,%.5f}" % (p[0], p[1]) for p in pts) + "}\n")
    f.write("local i = 0\nrequest = function()\n  i = i % #pts + 1\n  local p = pts[i]\n"
            "  return wrk.format('GET', string.format('/api/v1/actors/nearby?lon=%.5f&lat=%.5f&limit=100', p[1], p[2]), headers)\nend\n"
            "headers = {}\n")
PY
echo "== wrk, identity encoding (2 threads, 64 connections, $DURATION)"
wrk -t2 -c64 -d"$DURATION" --latency -s "$LUA" "http://127.0.0.1:$PORT" | grep -E "Requests/sec|Latency|99%|50%|Transfer"
sed -i 's/^headers = {}/headers = {["Accept-Encoding"] = "gzip"}/' "$LUA"
echo "== wrk, gzip (2 threads, 64 connections, $DURATION)"
wrk -t2 -c64 -d"$DURATION" --latency -s "$LUA" "http://127.0.0.1:$PORT" | grep -E "Requests/sec|Latency|99%|50%|Transfer"
echo "resident memory after load: $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$PID/status)"
rm -f "$LUA"
