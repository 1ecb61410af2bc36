#!/usr/bin/env bash
# The two stores side by side, in one run, on loopback: a private PostgreSQL server (a
# temporary folder, a free port, never the system cluster) next to SQLite files.
#
#   bash scripts/store-bench.sh [ACTORS] [SIRENE_ROWS]
#
# 1. builds the release binary; 2. seeds a SQLite store with ACTORS demonstration actors
#    (once, cached in /tmp); 3. copies it to PostgreSQL (`ancrage store copy`), timed;
# 4. times start-up to the first answered /health on each store; 5. writes a synthetic
#    SIRENE extract of SIRENE_ROWS establishments (scripts/sirene-sample.py) and imports it
#    into a fresh seeded store of each backend, timed (rows per second of the whole run).
# Needs Debian's postgresql package (apt-get install postgresql) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTORS=${1:-1000000}
SIRENE_ROWS=${2:-1000000}
WORK=${ANCRAGE_BENCH_DIR:-/tmp/ancrage-store-bench}
mkdir -p "$WORK"
chmod 755 "$WORK"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cargo build --release --quiet
BIN=target/release/ancrage

# A private server for this run.
PGDIR=$(mktemp -d /tmp/ancrage-bench-pg.XXXXXX)
chmod 755 "$PGDIR"
[ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR"
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$PGDIR" && as_pg "$PG_BIN/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null)
(cd "$PGDIR" && as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
  -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_wal_size=4GB" start >/dev/null)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  (cd "$PGDIR" && as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1) || true
  rm -rf "$PGDIR"
}
trap cleanup EXIT
pg_url() { echo "postgres://postgres@127.0.0.1:$PGPORT/$1"; }
createdb() { "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "CREATE DATABASE $1"; }

DB="$WORK/actors-$ACTORS.db"
if [ ! -f "$DB" ]; then
  echo "== seeding $DB with $ACTORS demonstration actors"
  /usr/bin/time -f "   seeded in %e s" "$BIN" seed --database-url "sqlite://$DB" --demo-actors "$ACTORS" 2>&1 | tail -n 1
fi

echo "== store copy SQLite → PostgreSQL ($ACTORS actors)"
createdb copied
/usr/bin/time -f "   %e s, peak %M KiB" "$BIN" store copy --from "sqlite://$DB" --to "$(pg_url copied)" 2>&1 \
  | grep -E "copied|actors |territories| s, peak"

startup() {
  local url=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local start ready pid
  start=$(date +%s.%N)
  ANCRAGE_BIND=127.0.0.1:$port ANCRAGE_DATABASE_URL=$url ANCRAGE_DEMO_ACTORS=0 RUST_LOG=warn "$BIN" serve &
  pid=$!
  PIDS+=("$pid")
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do sleep 0.05; done
  ready=$(date +%s.%N)
  echo "   $(echo "$ready - $start" | bc) s, resident $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$pid/status)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
echo "== start-up to the first answered request ($ACTORS actors)"
echo "   SQLite:";     startup "sqlite://$DB"
echo "   PostgreSQL:"; startup "$(pg_url copied)"

SIRENE="$WORK/sirene-$SIRENE_ROWS"
if [ ! -f "$SIRENE/StockEtablissement.csv" ]; then
  echo "== writing a synthetic SIRENE extract of $SIRENE_ROWS establishments"
  python3 scripts/sirene-sample.py "$SIRENE" "$SIRENE_ROWS" >/dev/null
fi
# One import into a fresh seeded store at $1; prints its lines and appends "seconds" to $2.
import_into() {
  local url=$1 times=$2 out
  "$BIN" seed --database-url "$url" --demo-actors 0 >/dev/null 2>&1
  out=$(/usr/bin/time -f "   %e s, peak %M KiB" "$BIN" import --database-url "$url" --format sirene \
    --units "$SIRENE/StockUniteLegale.csv" --geo "$SIRENE/GeolocalisationEtablissement.csv" \
    "$SIRENE/StockEtablissement.csv" 2>&1 | grep -E "^read|created| s, peak|merged in")
  echo "$out" | sed 's/^/   /'
  echo "$out" | awk '/ s, peak/ {print $1}' >> "$times"
}
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# The machine is shared and noisy: the two backends take turns, RUNS times, and the medians
# are compared.
RUNS=${ANCRAGE_BENCH_IMPORT_RUNS:-3}
echo "== import of $SIRENE_ROWS SIRENE establishments into a fresh store, $RUNS runs each, in turns"
: > "$WORK/times-sqlite"; : > "$WORK/times-postgres"
for run in $(seq 1 "$RUNS"); do
  rm -f "$WORK/import.db"*
  echo "   run $run, SQLite:";     import_into "sqlite://$WORK/import.db" "$WORK/times-sqlite"
  createdb "imported_$run"
  echo "   run $run, PostgreSQL:"; import_into "$(pg_url "imported_$run")" "$WORK/times-postgres"
  "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "DROP DATABASE imported_$run"
done
sqlite_s=$(median "$WORK/times-sqlite"); pg_s=$(median "$WORK/times-postgres")
echo "   median: SQLite $sqlite_s s ($(echo "$SIRENE_ROWS / $sqlite_s" | bc) rows/s), PostgreSQL $pg_s s ($(echo "$SIRENE_ROWS / $pg_s" | bc) rows/s), PostgreSQL/SQLite rate $(echo "scale=2; $sqlite_s / $pg_s" | bc)"
