//! Deterministic demonstration actors: spread over communes in proportion to population,
//! over every category and family. Every one is flagged `demo` and says so in its name.

use crate::domain::actor::{ActorFields, Kind, KindSet};
use crate::domain::{Catalog, Family, GeocodePrecision, InseeCode, LonLat, TerritoryKind};
use crate::index::territories::Territories;

/// The seed of the demonstration set shipped on first start.
pub const DEFAULT_SEED: u64 = 0x0A4C_4A6E;

/// Source name of demonstration actors.
pub const SOURCE: &str = "démonstration";

/// SplitMix64: tiny, fast and stable across platforms and crate versions, so a seed always
/// yields the same actors.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Uniform index below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// Communes with their cumulative population, to draw a commune in proportion to population.
pub struct PopulationSampler {
    communes: Vec<u32>,
    cumulative: Vec<u64>,
}

impl PopulationSampler {
    /// Builds the sampler over every commune with a polygon.
    #[must_use]
    pub fn new(territories: &Territories) -> Self {
        let mut communes = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0_u64;
        for (i, t) in territories.all().iter().enumerate() {
            if t.kind == TerritoryKind::Commune
                && t.record.geometry.is_some()
                && t.record.population > 0
            {
                total += t.record.population;
                communes.push(i as u32);
                cumulative.push(total);
            }
        }
        Self {
            communes,
            cumulative,
        }
    }

    /// Draws a commune index (in [`Territories`]) in proportion to population.
    pub fn draw(&self, rng: &mut Rng) -> Option<u32> {
        let total = *self.cumulative.last()?;
        let r = rng.next_u64() % total;
        let i = self.cumulative.partition_point(|&c| c <= r);
        self.communes.get(i).copied()
    }

    /// A point drawn uniformly in the commune's polygon (rejection sampling in its bounding
    /// box), or the commune's representative point if the polygon is too thin to hit.
    pub fn point_in(
        &self,
        territories: &Territories,
        commune: u32,
        rng: &mut Rng,
    ) -> Option<LonLat> {
        let shape = territories.commune_shape(commune)?;
        let b = shape.bbox();
        for _ in 0..64 {
            let p = LonLat::new(
                b.west + rng.unit() * (b.east - b.west),
                b.south + rng.unit() * (b.north - b.south),
            )
            .ok()?;
            if shape.covers(p) {
                return Some(p);
            }
        }
        territories
            .get(commune)
            .and_then(crate::index::territories::Territory::point)
    }
}

const PLACE_NAMES: [&str; 16] = [
    "La Ruche",
    "L'Escale",
    "Le Relais",
    "La Fabrique",
    "L'Atelier",
    "Le Champ commun",
    "La Passerelle",
    "Les Communs",
    "La Grange",
    "Le Maillon",
    "La Boussole",
    "Le Chantier",
    "L'Étincelle",
    "La Canopée",
    "Le Quai",
    "La Filature",
];

const HOURS: [Option<&str>; 8] = [
    Some("Mo-Fr 09:00-17:00"),
    Some("Tu-Sa 10:00-18:00"),
    Some("We,Sa 14:00-18:00"),
    Some("Mo-Fr 09:00-12:00,14:00-18:00"),
    Some("Sa 09:00-13:00"),
    Some("Mo-Su 08:00-20:00"),
    Some("Tu,Th 17:00-20:00; Sa 10:00-12:00"),
    None,
];

/// Generates `count` demonstration actors, reproducibly for a given `seed`.
#[must_use]
pub fn generate(
    catalog: &Catalog,
    territories: &Territories,
    count: usize,
    seed: u64,
) -> Vec<ActorFields> {
    let sampler = PopulationSampler::new(territories);
    let mut rng = Rng::new(seed);
    let leaves: Vec<usize> = (0..catalog.defs().len())
        .filter(|&i| catalog.defs()[i].parent.is_some())
        .collect();
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let Some(commune) = sampler.draw(&mut rng) else {
            break;
        };
        let Some(t) = territories.get(commune) else {
            break;
        };
        let Some(location) = sampler.point_in(territories, commune, &mut rng) else {
            continue;
        };
        let Ok(code) = InseeCode::parse("commune", &t.record.code) else {
            continue;
        };
        let leaf = &catalog.defs()[leaves[rng.below(leaves.len())]];
        let mut categories = vec![leaf.slug.clone()];
        if rng.unit() < 0.15 {
            let other = &catalog.defs()[leaves[rng.below(leaves.len())]];
            if other.slug != leaf.slug {
                categories.push(other.slug.clone());
            }
        }
        let family = family_for(&leaf.slug, &mut rng);
        let mut kinds = KindSet::default();
        for slug in &categories {
            let parent = catalog
                .position(slug)
                .and_then(|i| catalog.defs()[i].parent.as_deref());
            let kind = match (slug.as_str(), parent) {
                ("ptce", _) => Some(Kind::Ptce),
                (_, Some("tiers-lieux")) => Some(Kind::TiersLieu),
                (_, Some("accompagnement-reseaux")) => Some(Kind::Reseau),
                _ => None,
            };
            if let Some(k) = kind {
                kinds.0 |= KindSet::of(k).0;
            }
        }
        let place = PLACE_NAMES[rng.below(PLACE_NAMES.len())];
        out.push(ActorFields {
            name: format!("{place} – {} (démo)", leaf.label_fr),
            description: Some(format!(
                "Structure fictive de démonstration : {} à {}. Ces données ne décrivent pas un lieu réel.",
                leaf.label_fr.to_lowercase(),
                t.record.name
            )),
            categories,
            family,
            kinds,
            siret: None,
            street: None,
            postcode: t.record.postcodes.first().cloned(),
            commune: code,
            location,
            precision: GeocodePrecision::Commune,
            website: None,
            email: None,
            phone: None,
            opening_hours: HOURS[rng.below(HOURS.len())].map(str::to_owned),
            accessibility: None,
            source: SOURCE.to_owned(),
            source_ref: Some(format!("demo-{seed:x}-{n}")),
            demo: true,
        });
    }
    out
}

fn family_for(leaf: &str, rng: &mut Rng) -> Family {
    match leaf {
        "banque-cooperative" | "cae" => Family::Cooperative,
        "mutuelle-sante" => Family::Mutuelle,
        "energie-citoyenne" if rng.unit() < 0.7 => Family::Cooperative,
        _ => {
            let r = rng.unit();
            if r < 0.70 {
                Family::Association
            } else if r < 0.82 {
                Family::Cooperative
            } else if r < 0.92 {
                Family::EntrepriseEss
            } else if r < 0.96 {
                Family::Fondation
            } else if r < 0.98 {
                Family::Mutuelle
            } else {
                Family::Autre
            }
        }
    }
}
