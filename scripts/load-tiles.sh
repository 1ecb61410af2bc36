#!/usr/bin/env bash
# Actor tiles and view counts over HTTP on loopback, on a 1 000 000-actor SQLite store.
#
#   bash scripts/load-tiles.sh [ACTORS] [DURATION]
#
# 1. builds the release binary; 2. creates (once) a store with ACTORS demonstration actors
# (shared with scripts/load.sh); 3. runs wrk (2 threads, 2 connections, then 64) against:
#   - the tiles of the France view (zoom 5) and of city views (zoom 13, centres of the 2 000
#     most populous communes), each request with a filter drawn from many combinations of
#     category, family, kind and demo and a parameter that makes each address new, so that
#     every one is encoded afresh ("cold"), then with no filter, so that they come from the
#     hot-tile cache ("hot");
#   - /api/v1/map/facets of the France view and of city views, with the same filters;
# 4. times the former JSON clusters of the France view with curl, for the ratio.
# Installs wrk from Debian if missing. Figures are latencies as wrk reports them (p50, p99).
set -euo pipefail
cd "$(dirname "$0")/.."
ACTORS=${1:-1000000}
DURATION=${2:-20s}
DB=${ANCRAGE_BENCH_DB:-/tmp/ancrage-bench-$ACTORS.db}
PORT=${ANCRAGE_BENCH_PORT:-18182}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/ancrage

if [ ! -f "$DB" ]; then
  echo "creating $DB with $ACTORS demonstration actors…"
  /usr/bin/time -f "seeded in %e s, peak %M KiB" "$BIN" seed --database-url "sqlite://$DB" --demo-actors "$ACTORS"
fi

ANCRAGE_BIND=127.0.0.1:$PORT ANCRAGE_DATABASE_URL="sqlite://$DB" RUST_LOG=warn "$BIN" serve &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.1; done
echo "resident memory after start-up: $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$PID/status)"

LUA_DIR=$(mktemp -d)
python3 - "$LUA_DIR" <<'PY'
import gzip, json, math, sys
out = sys.argv[1]
rows = [json.loads(l) for l in gzip.open("seed/data/communes.ndjson.gz", "rt")]
rows.sort(key=lambda r: -r["population"])
centres = [r["point"] for r in rows[:2000]]

def tile(lon, lat, z):
    n = 2 ** z
    lat = max(-85.0511, min(85.0511, lat))
    x = (lon + 180) / 360 * n
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n
    return x, y

def view(lon, lat, z):
    x, y = tile(lon, lat, z)
    hw, hh = 1280 / 512 / 2, 800 / 512 / 2
    return [(z, tx, ty) for tx in range(int(x - hw), int(x + hw) + 1) for ty in range(int(y - hh), int(y + hh) + 1)]

france = view(2.2, 46.2, 5)
city = [t for c in centres[:500] for t in view(c[0], c[1], 13)]
def box(lon, lat, z):
    # The 1280 x 800 view at zoom z (512-pixel tiles), degrees.
    dx = 1280 / 512 / 2 ** z * 360 / 2
    dy = dx * 800 / 1280 * math.cos(math.radians(lat))
    return "%.4f,%.4f,%.4f,%.4f" % (lon - dx, lat - dy, lon + dx, lat + dy)
boxes = [box(c[0], c[1], 13) for c in centres]
lua_list = lambda items: "{" + ",".join(items) + "}"
filters = r'''
local cats = {"alimentation","reemploi","mobilite","habitat","emploi-insertion","finance-solidaire","sante-social","culture-loisirs","education-formation","environnement-energie","numerique","tiers-lieux","accompagnement-reseaux","epicerie-solidaire","repair-cafe","ressourcerie","fablab","coworking"}
local fams = {"","association","cooperative","mutuelle","fondation","entreprise-ess"}
local function filter()
  local q = {}
  local n = math.random(0, 3)
  if n > 0 then
    local chosen = {}
    for i = 1, n do chosen[#chosen + 1] = cats[math.random(#cats)] end
    q[#q + 1] = "category=" .. table.concat(chosen, ",")
  end
  local f = fams[math.random(#fams)]
  if f ~= "" then q[#q + 1] = "family=" .. f end
  if math.random() < 0.2 then q[#q + 1] = "kind=tiers-lieu" end
  if math.random() < 0.3 then q[#q + 1] = "demo=exclude" end
  return table.concat(q, "&")
end
headers = {["Accept-Encoding"] = "gzip"}
'''
def write(name, body):
    with open(f"{out}/{name}.lua", "w") as f:
        f.write(filters + body)
tiles = lambda ts: lua_list("{%d,%d,%d}" % t for t in ts)
for name, ts in [("france", france), ("city", city)]:
    # `fresh` is not a filter: it makes every address new, so no answer comes from the cache.
    write(f"tiles-{name}-cold", f"local ts = {tiles(ts)}\nrequest = function()\n  local t = ts[math.random(#ts)]\n  return wrk.format('GET', string.format('/tiles/actors/%d/%d/%d.mvt?%s&fresh=%d', t[1], t[2], t[3], filter(), math.random(1000000000)), headers)\nend\n")
    write(f"tiles-{name}-hot", f"local ts = {tiles(ts)}\nrequest = function()\n  local t = ts[math.random(#ts)]\n  return wrk.format('GET', string.format('/tiles/actors/%d/%d/%d.mvt', t[1], t[2], t[3]), headers)\nend\n")
write("facets-france", "request = function()\n  return wrk.format('GET', '/api/v1/map/facets?bbox=-5.2,41.3,9.6,51.1&' .. filter(), headers)\nend\n")
write("facets-city", f"local bs = {lua_list(repr(b).replace(chr(39), chr(34)) for b in boxes)}\nrequest = function()\n  return wrk.format('GET', '/api/v1/map/facets?bbox=' .. bs[math.random(#bs)] .. '&' .. filter(), headers)\nend\n")
PY

run() {
  local name=$1 conns=$2
  printf '%-22s %3s conn: ' "$name" "$conns"
  wrk -t2 -c"$conns" -d"$DURATION" --latency -s "$LUA_DIR/$name.lua" "http://127.0.0.1:$PORT" |
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%8s req/s  p50 %8s  p99 %8s\n", rps, p50, p99}'
}
for conns in 2 64; do
  for name in tiles-france-cold tiles-city-cold tiles-france-hot tiles-city-hot facets-france facets-city; do
    run "$name" "$conns"
  done
done
echo "hot-tile cache and memory after load: $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$PID/status)"

# (The former counts are gone from the server: `cargo bench --bench tiles` times them in-process.)
echo "== the former JSON clusters of the France view (curl, 5 times)"
for path in "/api/v1/map/clusters?bbox=-5.2,41.3,9.6,51.1&zoom=5&category=alimentation"; do
  for i in 1 2 3 4 5; do
    curl -s -o /dev/null -w "%{time_total}\n" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT$path&n=$i"
  done | sort -n | awk -v p="$path" '{t[NR]=$1} END {printf "%s: median %.1f ms\n", p, t[3]*1000}'
done
rm -rf "$LUA_DIR"
