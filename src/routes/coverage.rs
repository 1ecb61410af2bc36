//! `/api/v1/territories/{kind}/{code}/coverage…`: coverage statistics of a territory (or of
//! France, `france/FR`), as JSON, CSV tables for spreadsheets, and GeoJSON.

use super::GEOJSON;
use super::params::FilterParams;
use super::problem::ApiError;
use super::respond::{self, Cache};
use crate::coverage::{self, ChildLine, CoverageFilter, Figures, Report, Scope};
use crate::domain::{InputError, TerritoryCode, TerritoryKind};
use crate::index::Snapshot;
use crate::startup::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::Arc;

/// Default distance of the zones blanches and of the children's access figure, metres.
pub const DEFAULT_DISTANCE_M: f64 = 10_000.0;
/// Accepted distances, metres.
pub const DISTANCE_RANGE_M: (f64, f64) = (100.0, 100_000.0);

/// Parameters of the coverage routes.
#[derive(Debug, Deserialize)]
pub struct CoverageParams {
    /// Metres: zones blanches are the communes farther than this from every matching actor.
    distance: Option<String>,
    /// Children order: a figure name (see [`SORT_KEYS`]).
    sort: Option<String>,
    /// `asc` or `desc`.
    order: Option<String>,
    /// CSV separator: `semicolon` (default, with decimal commas) or `comma`.
    sep: Option<String>,
    /// CSV column names: `fr` (default) or `en`.
    lang: Option<String>,
    /// CSV only: `block` puts a block of metadata lines (territory, table, date, filters, data
    /// vintages, sources) and an empty line before the table; `none` (default) sends the table
    /// alone.
    meta: Option<String>,
    #[serde(flatten)]
    filter: FilterParams,
}

/// Figures the children can be sorted by.
pub const SORT_KEYS: [&str; 8] = [
    "name",
    "population",
    "actors",
    "actors_per_10000",
    "communes_covered_share",
    "population_covered_share",
    "access_share",
    "median_nearest_m",
];

/// The scope named by a path: a territory, or `france/FR`.
fn scope(snap: &Snapshot, kind: &str, code: &str) -> Result<Scope, ApiError> {
    if kind == "france" {
        return if code.eq_ignore_ascii_case("fr") {
            Ok(Scope::France)
        } else {
            Err(ApiError::NotFound(format!(
                "France has the code 'FR', not '{code}'"
            )))
        };
    }
    let kind = TerritoryKind::parse("kind", kind).map_err(|_| {
        InputError::new(
            "kind",
            "must be one of commune, epci, departement, region, france",
        )
    })?;
    let code = TerritoryCode::parse(kind, "code", code)?;
    snap.territories
        .find(kind, code.code())
        .map(Scope::Territory)
        .ok_or_else(|| ApiError::NotFound(format!("no {kind} has the code '{}'", code.code())))
}

/// What a request asks for, parsed.
struct Asked {
    scope: Scope,
    filter: CoverageFilter,
    distance_m: f64,
    sort: (&'static str, bool),
}

fn parse(snap: &Snapshot, path: &(String, String), q: &CoverageParams) -> Result<Asked, ApiError> {
    parse_with(snap, path, q, false)
}

/// [`parse`], accepting `limit` and `offset` when `paged` (the list of structures).
fn parse_with(
    snap: &Snapshot,
    path: &(String, String),
    q: &CoverageParams,
    paged: bool,
) -> Result<Asked, ApiError> {
    let scope = scope(snap, &path.0, &path.1)?;
    let f = &q.filter;
    for (name, value) in [
        ("q", &f.q),
        ("commune", &f.commune),
        ("epci", &f.epci),
        ("departement", &f.departement),
        ("region", &f.region),
        ("limit", &f.limit),
        ("offset", &f.offset),
        ("open", &f.open),
    ] {
        if paged && matches!(name, "limit" | "offset") {
            continue;
        }
        if value.as_deref().is_some_and(|v| !v.trim().is_empty()) {
            return Err(InputError::new(
                name,
                "is not a coverage parameter (the territory is in the path; filters are category, family, kind and demo)",
            )
            .into());
        }
    }
    let filter = CoverageFilter::from_actor_filter(&f.figures_filter(snap)?);
    let distance_m = match q.distance.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_DISTANCE_M,
        Some(d) => {
            let v: f64 = d.parse().map_err(|_| {
                InputError::new("distance", "must be a number of metres, e.g. 10000")
            })?;
            if !(DISTANCE_RANGE_M.0..=DISTANCE_RANGE_M.1).contains(&v) {
                return Err(InputError::new(
                    "distance",
                    format!(
                        "must be between {} and {} metres",
                        DISTANCE_RANGE_M.0, DISTANCE_RANGE_M.1
                    ),
                )
                .into());
            }
            v
        }
    };
    let key = match q.sort.as_deref().map(str::trim) {
        None | Some("") => "population",
        Some(s) => SORT_KEYS.iter().copied().find(|k| *k == s).ok_or_else(|| {
            InputError::new("sort", format!("must be one of {}", SORT_KEYS.join(", ")))
        })?,
    };
    let descending = match q.order.as_deref().map(str::trim) {
        None | Some("") => key != "name",
        Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(InputError::new("order", "must be asc or desc").into()),
    };
    Ok(Asked {
        scope,
        filter,
        distance_m,
        sort: (key, descending),
    })
}

async fn compute(snap: &Arc<Snapshot>, a: &Asked) -> Result<Arc<Report>, ApiError> {
    let snap = Arc::clone(snap);
    let (scope, filter, distance) = (a.scope, a.filter, a.distance_m);
    web::block(move || coverage::report(&snap, scope, &filter, distance))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("coverage computation: {e}")))
}

fn sort_key(c: &ChildLine, key: &str) -> f64 {
    let f = &c.figures;
    let v = match key {
        "population" => Some(f.population as f64),
        "actors" => Some(f.actors as f64),
        "actors_per_10000" => f.actors_per_10000,
        "communes_covered_share" => f.communes_covered_share,
        "population_covered_share" => f.population_covered_share,
        "access_share" => f.access.and_then(|a| a.share),
        "median_nearest_m" => f.access.and_then(|a| a.median_nearest_m),
        _ => None,
    };
    v.unwrap_or(f64::NAN)
}

/// Children in the requested order (missing values last).
fn sorted_children<'a>(r: &'a Report, (key, descending): (&str, bool)) -> Vec<&'a ChildLine> {
    let mut v: Vec<&ChildLine> = r.children.iter().collect();
    v.sort_by(|a, b| {
        let ord = if key == "name" {
            let (x, y) = (
                a.territory.name.as_deref().unwrap_or("~"),
                b.territory.name.as_deref().unwrap_or("~"),
            );
            crate::index::text::fold(x).cmp(&crate::index::text::fold(y))
        } else {
            let (x, y) = (sort_key(a, key), sort_key(b, key));
            match (x.is_nan(), y.is_nan()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => return std::cmp::Ordering::Greater,
                (false, true) => return std::cmp::Ordering::Less,
                _ => x.total_cmp(&y),
            }
        };
        if descending { ord.reverse() } else { ord }
    });
    v
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(flatten)]
    report: &'a Report,
    /// When this report was computed (RFC 3339 UTC).
    generated_at: &'a str,
    vintages: Provenance,
    filters: Echo,
    sort: Echo2,
    #[serde(rename = "children")]
    sorted_children: Vec<&'a ChildLine>,
}

#[derive(Serialize)]
struct Echo {
    category: Option<Vec<String>>,
    /// The categories as chosen: those of `category` whose parent is not in it.
    #[serde(skip)]
    chosen: Vec<String>,
    family: Option<Vec<&'static str>>,
    kind: Vec<&'static str>,
    demo: &'static str,
}

/// The vintages of the reference data, and when the actors last changed.
#[derive(Serialize)]
struct Provenance {
    #[serde(flatten)]
    reference: crate::seed::territories::Vintages,
    /// When the most recently changed published actor changed (RFC 3339 UTC).
    actors_changed_at: Option<String>,
}

fn provenance(snap: &Snapshot) -> Provenance {
    Provenance {
        reference: crate::seed::territories::VINTAGES,
        actors_changed_at: snap.actors.changed_at().map(str::to_owned),
    }
}

/// Now, RFC 3339 UTC to the second.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::domain::hours::rfc3339_utc(secs)
}

#[derive(Serialize)]
struct Echo2 {
    by: &'static str,
    order: &'static str,
}

fn echo(snap: &Snapshot, f: &CoverageFilter) -> Echo {
    let slugs: Vec<&str> = f.categories.map_or_else(Vec::new, |c| {
        snap.catalog.slugs(crate::domain::CategorySet(c)).collect()
    });
    Echo {
        category: f
            .categories
            .map(|_| slugs.iter().map(|s| (*s).to_owned()).collect()),
        chosen: slugs
            .iter()
            .filter(|slug| {
                let parent = snap
                    .catalog
                    .position(slug)
                    .and_then(|p| snap.catalog.defs().get(p))
                    .and_then(|d| d.parent.as_deref());
                parent.is_none_or(|p| !slugs.contains(&p))
            })
            .map(|s| (*s).to_owned())
            .collect(),
        family: f.families.map(|s| {
            crate::domain::Family::ALL
                .iter()
                .filter(|fam| crate::domain::FamilySet(s).contains(**fam))
                .map(|fam| fam.as_str())
                .collect()
        }),
        kind: crate::domain::KindSet(f.kinds).slugs().collect(),
        demo: if f.exclude_demo { "exclude" } else { "include" },
    }
}

/// `GET /api/v1/territories/{kind}/{code}/coverage`: the coverage report as JSON.
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<CoverageParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let asked = parse(&snap, &path, &q)?;
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let r = compute(&snap, &asked).await?;
    let generated_at = now_utc();
    let body = Body {
        report: &r,
        generated_at: &generated_at,
        vintages: provenance(&snap),
        filters: echo(&snap, &asked.filter),
        sort: Echo2 {
            by: asked.sort.0,
            order: if asked.sort.1 { "desc" } else { "asc" },
        },
        sorted_children: sorted_children(&r, asked.sort),
    };
    respond::json(&req, "coverage", &body, Cache::Short, Some(&etag))
}

/// The actors a report counts, computed off the workers.
async fn structures_of(
    snap: &Arc<Snapshot>,
    a: &Asked,
) -> Result<Vec<crate::index::actors::ActorIdx>, ApiError> {
    let snap = Arc::clone(snap);
    let (scope, filter) = (a.scope, a.filter);
    web::block(move || coverage::structures(&snap, scope, &filter))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("coverage structures: {e}")))
}

/// One structure a report counts.
#[derive(Serialize)]
struct StructureLine<'a> {
    id: i64,
    name: String,
    commune: CommuneRef<'a>,
    categories: Vec<&'a str>,
    family: &'static str,
    kinds: Vec<&'static str>,
    /// `[lon, lat]`, degrees.
    location: [f64; 2],
    /// How precisely the point is known: `address`, `street`, `commune` (the point only says
    /// which commune), `manual`.
    precision: &'static str,
    demo: bool,
}

#[derive(Serialize)]
struct CommuneRef<'a> {
    code: &'a str,
    name: &'a str,
}

fn structure_line(snap: &Snapshot, a: crate::index::actors::ActorIdx) -> StructureLine<'_> {
    let e = snap.actors.entry(a);
    let commune = snap.territories.get(e.commune);
    StructureLine {
        id: e.id.0,
        name: snap.actors.name(a),
        commune: CommuneRef {
            code: commune.map_or("", |c| c.record.code.as_str()),
            name: commune.map_or("", |c| c.record.name.as_str()),
        },
        categories: snap.catalog.slugs(e.categories).collect(),
        family: e.family.as_str(),
        kinds: e.kinds.slugs().collect(),
        location: e.location.rounded(),
        precision: e.precision.as_str(),
        demo: e.demo,
    }
}

/// `GET /api/v1/territories/{kind}/{code}/coverage/structures`: the structures the report
/// counts, by commune then name, one page (`limit`, `offset`) with the total.
pub async fn structures(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<CoverageParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let asked = parse_with(&snap, &path, &q, true)?;
    let page = q.filter.page()?;
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let all = structures_of(&snap, &asked).await?;
    let lines: Vec<StructureLine<'_>> = all
        .iter()
        .skip(page.offset)
        .take(page.limit)
        .map(|&a| structure_line(&snap, a))
        .collect();
    let body = serde_json::json!({
        "total": all.len(),
        "limit": page.limit,
        "offset": page.offset,
        "filters": echo(&snap, &asked.filter),
        "structures": lines,
    });
    respond::json(&req, "structures", &body, Cache::Short, Some(&etag))
}

/// `GET /api/v1/territories/{kind}/{code}/coverage/{file}`: one table as CSV
/// (`figures.csv`, `categories.csv`, `families.csv`, `access.csv`, `parents.csv`,
/// `similar.csv`, `children.csv`, `zones-blanches.csv`, `structures.csv`) or GeoJSON
/// (`children.geojson`, `zones-blanches.geojson`, `structures.geojson`).
pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    q: web::Query<CoverageParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let (kind, code, file) = path.into_inner();
    let asked = parse(&snap, &(kind.clone(), code.clone()), &q)?;
    let (table, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let table = Table::parse(table)
        .ok_or_else(|| ApiError::NotFound(format!("no coverage table named '{table}'")))?;
    let format = match ext {
        "csv" => Format::Csv(CsvStyle::parse(
            q.sep.as_deref(),
            q.lang.as_deref(),
            q.meta.as_deref(),
        )?),
        "geojson"
            if matches!(
                table,
                Table::Children | Table::ZonesBlanches | Table::Structures
            ) =>
        {
            Format::GeoJson
        }
        _ => {
            return Err(ApiError::NotFound(format!(
                "no export '{file}': tables are figures, categories, families, access, parents, similar, children, zones-blanches and structures as .csv; children, zones-blanches and structures also as .geojson"
            )));
        }
    };
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let r = compute(&snap, &asked).await?;
    let listed = if table == Table::Structures {
        structures_of(&snap, &asked).await?
    } else {
        Vec::new()
    };
    let generated_at = now_utc();
    let filters = echo(&snap, &asked.filter);
    let name = file_name(&r.territory, table, &filters, r.distance_m, &generated_at);
    match format {
        Format::Csv(style) => {
            let mut body = Vec::new();
            // A byte-order mark, so spreadsheet software reads the file as UTF-8.
            body.extend_from_slice("\u{feff}".as_bytes());
            if style.meta {
                let about = About {
                    report: &r,
                    table,
                    filters: &filters,
                    generated_at: &generated_at,
                    provenance: provenance(&snap),
                };
                write_csv(
                    &mut body,
                    style,
                    &[],
                    &meta_rows(&snap, &about, style.english),
                );
                body.extend_from_slice(b"\r\n");
            }
            if table == Table::Structures {
                structures_csv(&mut body, &snap, &listed, style);
            } else {
                csv(&mut body, &snap, &r, table, style, asked.sort);
            }
            let mut res = respond::ok(
                &req,
                "text/csv; charset=utf-8",
                body,
                Cache::Short,
                Some(&etag),
            );
            if let Ok(v) =
                header::HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\""))
            {
                res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(res)
        }
        Format::GeoJson => {
            let mut body = Vec::new();
            let about = About {
                report: &r,
                table,
                filters: &filters,
                generated_at: &generated_at,
                provenance: provenance(&snap),
            };
            match table {
                Table::Children => children_geojson(&mut body, &snap, &r, asked.sort, &about),
                Table::Structures => structures_geojson(&mut body, &snap, &listed, &about),
                _ => zones_geojson(&mut body, &snap, &r, &about),
            }
            let mut res = respond::ok(&req, GEOJSON, body, Cache::Short, Some(&etag));
            if let Ok(v) =
                header::HeaderValue::from_str(&format!("attachment; filename=\"{name}.geojson\""))
            {
                res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(res)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Figures,
    Categories,
    Families,
    Access,
    Parents,
    Similar,
    Children,
    ZonesBlanches,
    Structures,
}

impl Table {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "figures" => Self::Figures,
            "categories" => Self::Categories,
            "families" => Self::Families,
            "access" => Self::Access,
            "parents" => Self::Parents,
            "similar" => Self::Similar,
            "children" => Self::Children,
            "zones-blanches" => Self::ZonesBlanches,
            "structures" => Self::Structures,
            _ => return None,
        })
    }
    /// What the table holds, for the metadata block.
    fn title(self, english: bool) -> &'static str {
        match (self, english) {
            (Self::Figures, false) => "chiffres clés",
            (Self::Figures, true) => "key figures",
            (Self::Categories, false) => "structures par catégorie",
            (Self::Categories, true) => "actors by category",
            (Self::Families, false) => "structures par statut",
            (Self::Families, true) => "actors by legal status",
            (Self::Access, false) => "accès de la population",
            (Self::Access, true) => "access of the population",
            (Self::Parents, false) => "comparaison avec les territoires parents",
            (Self::Parents, true) => "comparison with the parent territories",
            (Self::Similar, false) => "comparaison avec des territoires semblables",
            (Self::Similar, true) => "comparison with similar territories",
            (Self::Structures, false) => "structures comptées",
            (Self::Structures, true) => "actors counted",
            (Self::Children, false) => "détail par territoire",
            (Self::Children, true) => "detail by territory",
            (Self::ZonesBlanches, false) => "zones blanches",
            (Self::ZonesBlanches, true) => "zones blanches (communes far from any actor)",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Figures => "chiffres",
            Self::Categories => "categories",
            Self::Families => "familles",
            Self::Access => "acces",
            Self::Parents => "comparaison",
            Self::Similar => "semblables",
            Self::Structures => "structures",
            Self::Children => "detail",
            Self::ZonesBlanches => "zones-blanches",
        }
    }
}

enum Format {
    Csv(CsvStyle),
    GeoJson,
}

/// Separator, decimal mark, column language and metadata block of a CSV export.
#[derive(Debug, Clone, Copy)]
struct CsvStyle {
    sep: u8,
    english: bool,
    meta: bool,
}

impl CsvStyle {
    fn parse(sep: Option<&str>, lang: Option<&str>, meta: Option<&str>) -> Result<Self, ApiError> {
        let meta = match meta.map(str::trim) {
            None | Some("" | "none") => false,
            Some("block") => true,
            Some(_) => {
                return Err(InputError::new("meta", "must be none (default) or block").into());
            }
        };
        let sep = match sep.map(str::trim) {
            None | Some("" | "semicolon" | ";") => b';',
            Some("comma" | ",") => b',',
            Some(_) => {
                return Err(InputError::new("sep", "must be semicolon (default) or comma").into());
            }
        };
        let english = match lang.map(str::trim) {
            None | Some("" | "fr") => false,
            Some("en") => true,
            Some(_) => return Err(InputError::new("lang", "must be fr or en").into()),
        };
        Ok(Self { sep, english, meta })
    }
}

/// One CSV cell.
enum Cell {
    Text(String),
    Int(u64),
    /// A number with this many decimals; empty when missing.
    Num(Option<f64>, usize),
    /// A share (0 to 1) written as a percentage with one decimal.
    Pct(Option<f64>),
}

/// Writes a header line (unless `header` is empty) and rows.
fn write_csv(out: &mut Vec<u8>, style: CsvStyle, header: &[&str], rows: &[Vec<Cell>]) {
    let text = |out: &mut Vec<u8>, s: &str| {
        if s.bytes()
            .any(|b| b == style.sep || b == b'"' || b == b'\n' || b == b'\r')
        {
            out.push(b'"');
            out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(s.as_bytes());
        }
    };
    for (i, h) in header.iter().enumerate() {
        if i > 0 {
            out.push(style.sep);
        }
        text(out, h);
    }
    if !header.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(style.sep);
            }
            let number = |out: &mut Vec<u8>, v: f64, decimals: usize| {
                let s = format!("{v:.decimals$}");
                // With ';' the file is for French spreadsheets: decimal comma.
                let s = if style.sep == b';' {
                    s.replace('.', ",")
                } else {
                    s
                };
                out.extend_from_slice(s.as_bytes());
            };
            match cell {
                Cell::Text(s) => text(out, s),
                Cell::Int(n) => {
                    let _ = write!(out, "{n}");
                }
                Cell::Num(Some(v), d) if v.is_finite() => number(out, *v, *d),
                Cell::Pct(Some(v)) if v.is_finite() => number(out, v * 100.0, 1),
                Cell::Num(..) | Cell::Pct(_) => {}
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

fn figure_cells(f: &Figures) -> Vec<Cell> {
    vec![
        Cell::Int(f.population),
        Cell::Num(f.population_published.map(|p| p as f64), 0),
        Cell::Num(Some(f.area_m2 / 1e6), 1),
        Cell::Int(u64::from(f.communes)),
        Cell::Int(f.actors),
        Cell::Num(f.actors_per_10000, 2),
        Cell::Int(u64::from(f.communes_covered)),
        Cell::Pct(f.communes_covered_share),
        Cell::Int(f.population_covered),
        Cell::Pct(f.population_covered_share),
    ]
}

fn figure_header(english: bool) -> Vec<&'static str> {
    if english {
        vec![
            "population (sum of the communes' populations légales)",
            "published population (DGCL, EPCI only)",
            "area (km²)",
            "communes",
            "actors",
            "actors per 10,000 inhabitants",
            "communes covered",
            "communes covered (%)",
            "population covered",
            "population covered (%)",
        ]
    } else {
        vec![
            "population (somme des populations légales des communes)",
            "population publiée (DGCL, EPCI seulement)",
            "superficie (km²)",
            "communes",
            "structures",
            "structures pour 10 000 habitants",
            "communes couvertes",
            "communes couvertes (%)",
            "population couverte",
            "population couverte (%)",
        ]
    }
}

fn label(snap: &Snapshot, slug: &str, english: bool) -> String {
    snap.catalog
        .position(slug)
        .and_then(|p| snap.catalog.defs().get(p))
        .map_or_else(
            || slug.to_owned(),
            |d| {
                if english {
                    d.label_en.clone()
                } else {
                    d.label_fr.clone()
                }
            },
        )
}

fn csv(
    out: &mut Vec<u8>,
    snap: &Snapshot,
    r: &Report,
    table: Table,
    style: CsvStyle,
    sort: (&'static str, bool),
) {
    let en = style.english;
    let named = |n: &coverage::Named| {
        vec![
            Cell::Text(n.kind.to_owned()),
            Cell::Text(n.code.clone().unwrap_or_default()),
            Cell::Text(n.name.clone().unwrap_or_else(|| {
                if en {
                    "Communes outside any EPCI".into()
                } else {
                    "Communes hors EPCI".into()
                }
            })),
        ]
    };
    let ident: Vec<&str> = if en {
        vec!["kind", "code", "name"]
    } else {
        vec!["type", "code", "nom"]
    };
    match table {
        Table::Figures | Table::Parents => {
            let header: Vec<&str> = ident.iter().copied().chain(figure_header(en)).collect();
            let mut rows = vec![
                named(&r.territory)
                    .into_iter()
                    .chain(figure_cells(&r.figures))
                    .collect(),
            ];
            if table == Table::Parents {
                rows.extend(r.parents.iter().map(|p| {
                    named(&p.territory)
                        .into_iter()
                        .chain(figure_cells(&p.figures))
                        .collect()
                }));
            }
            write_csv(out, style, &header, &rows);
        }
        Table::Similar => {
            let mut header: Vec<&str> = ident.clone();
            header.push(if en { "relation" } else { "lien" });
            header.extend(figure_header(en));
            let mut rows = vec![{
                let mut row = named(&r.territory);
                row.push(Cell::Text(
                    if en {
                        "this territory"
                    } else {
                        "ce territoire"
                    }
                    .into(),
                ));
                row.extend(figure_cells(&r.figures));
                row
            }];
            rows.extend(r.similar.iter().map(|c| {
                let mut row = named(&c.territory);
                row.push(Cell::Text(
                    match (c.relation, en) {
                        (coverage::Relation::Sibling, false) => "même territoire parent",
                        (coverage::Relation::Sibling, true) => "same parent territory",
                        (coverage::Relation::SimilarPopulation, false) => "population proche",
                        (coverage::Relation::SimilarPopulation, true) => "similar population",
                    }
                    .into(),
                ));
                row.extend(figure_cells(&c.figures));
                row
            }));
            write_csv(out, style, &header, &rows);
        }
        // Written by `structures_csv`, from the list of actors.
        Table::Structures => {}
        Table::Categories | Table::Families => {
            // The figure columns from "actors" on (after population, published population, area
            // and communes).
            let header: Vec<&str> = if en {
                vec!["slug", "label", "parent"]
            } else {
                vec!["identifiant", "libellé", "parent"]
            }
            .into_iter()
            .chain(figure_header(en).into_iter().skip(4))
            .collect();
            let lines = if table == Table::Categories {
                &r.by_category
            } else {
                &r.by_family
            };
            let rows: Vec<Vec<Cell>> = lines
                .iter()
                .map(|l| {
                    let lab = if table == Table::Categories {
                        label(snap, &l.slug, en)
                    } else {
                        family_label(&l.slug, en)
                    };
                    vec![
                        Cell::Text(l.slug.clone()),
                        Cell::Text(lab),
                        Cell::Text(l.parent.clone().unwrap_or_default()),
                        Cell::Int(l.actors),
                        Cell::Num(l.actors_per_10000, 2),
                        Cell::Int(u64::from(l.communes_covered)),
                        Cell::Pct(l.communes_covered_share),
                        Cell::Int(l.population_covered),
                        Cell::Pct(l.population_covered_share),
                    ]
                })
                .collect();
            write_csv(out, style, &header, &rows);
        }
        Table::Access => {
            let mut header: Vec<String> = vec![if en { "category" } else { "catégorie" }.into()];
            for s in coverage::ACCESS_STEPS_M {
                let km = s / 1000.0;
                header.push(if en {
                    format!("population within {km} km (%)")
                } else {
                    format!("population à moins de {km} km (%)")
                });
            }
            header.push(
                if en {
                    "median distance to the nearest (m)"
                } else {
                    "distance médiane à la plus proche (m)"
                }
                .into(),
            );
            let rows: Vec<Vec<Cell>> = r
                .access
                .iter()
                .map(|a| {
                    let mut row = vec![Cell::Text(a.category.as_ref().map_or_else(
                        || {
                            if en {
                                "any actor".into()
                            } else {
                                "toutes structures".into()
                            }
                        },
                        |s| label(snap, s, en),
                    ))];
                    row.extend(a.within.iter().map(|w| Cell::Pct(w.share)));
                    row.push(Cell::Num(a.median_nearest_m, 0));
                    row
                })
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            write_csv(out, style, &header, &rows);
        }
        Table::Children => {
            let access_label = if en {
                format!("population within {} km (%)", r.distance_m / 1000.0)
            } else {
                format!("population à moins de {} km (%)", r.distance_m / 1000.0)
            };
            let mut header: Vec<&str> = ident.clone();
            header.push(if en { "whole" } else { "entier" });
            header.extend(figure_header(en));
            header.push(&access_label);
            header.push(if en {
                "median distance to the nearest (m)"
            } else {
                "distance médiane à la plus proche (m)"
            });
            let rows: Vec<Vec<Cell>> = sorted_children(r, sort)
                .into_iter()
                .map(|c| {
                    let mut row = named(&c.territory);
                    row.push(Cell::Text(
                        match (c.whole, en) {
                            (true, true) => "yes",
                            (false, true) => "no",
                            (true, false) => "oui",
                            (false, false) => "non",
                        }
                        .into(),
                    ));
                    row.extend(figure_cells(&c.figures));
                    row.push(Cell::Pct(c.figures.access.and_then(|a| a.share)));
                    row.push(Cell::Num(
                        c.figures.access.and_then(|a| a.median_nearest_m),
                        0,
                    ));
                    row
                })
                .collect();
            write_csv(out, style, &header, &rows);
        }
        Table::ZonesBlanches => {
            let header: Vec<&str> = if en {
                vec!["code", "name", "population", "nearest actor (m)"]
            } else {
                vec!["code", "nom", "population", "structure la plus proche (m)"]
            };
            let rows: Vec<Vec<Cell>> = r
                .zones_blanches
                .iter()
                .map(|z| {
                    vec![
                        Cell::Text(z.code.clone()),
                        Cell::Text(z.name.clone()),
                        Cell::Int(z.population),
                        Cell::Num(z.nearest_m, 0),
                    ]
                })
                .collect();
            write_csv(out, style, &header, &rows);
        }
    }
}

/// What a download is: its report and table, when it was made, with which filters, from
/// which data.
struct About<'a> {
    report: &'a Report,
    table: Table,
    filters: &'a Echo,
    generated_at: &'a str,
    provenance: Provenance,
}

/// The territory as a reader names it: « Loire-Atlantique (département 44) ».
fn territory_title(n: &coverage::Named, english: bool) -> String {
    let kind = match (n.kind, english) {
        ("commune", _) => "commune",
        ("epci", _) => "EPCI",
        ("departement", false) => "département",
        ("departement", true) => "département (county)",
        ("region", false) => "région",
        ("region", true) => "région (region)",
        (_, _) => "France",
    };
    match (&n.name, &n.code) {
        (Some(name), Some(code)) if n.kind != "france" => format!("{name} ({kind} {code})"),
        (Some(name), _) => name.clone(),
        _ => kind.to_owned(),
    }
}

/// The active filters in words: « catégorie : Alimentation ; statut : tous ; … ».
fn filters_text(snap: &Snapshot, a: &About<'_>, english: bool) -> String {
    let f = a.filters;
    let list = |v: Vec<String>, all: &str| {
        if v.is_empty() {
            all.to_owned()
        } else {
            v.join(", ")
        }
    };
    let categories = list(
        f.chosen.iter().map(|c| label(snap, c, english)).collect(),
        if english { "all" } else { "toutes" },
    );
    let families = list(
        f.family
            .iter()
            .flatten()
            .map(|x| family_label(x, english))
            .collect(),
        if english { "all" } else { "tous" },
    );
    let km = a.report.distance_m / 1000.0;
    let km = if english {
        km.to_string()
    } else {
        km.to_string().replace('.', ",")
    };
    let mut parts = if english {
        vec![
            format!("category: {categories}"),
            format!("legal status: {families}"),
        ]
    } else {
        vec![
            format!("catégorie : {categories}"),
            format!("statut : {families}"),
        ]
    };
    if !f.kind.is_empty() {
        parts.push(format!(
            "{}{}",
            if english { "kind: " } else { "type : " },
            f.kind.join(", ")
        ));
    }
    parts.push(match (f.demo == "exclude", english) {
        (true, false) => "données de démonstration exclues".into(),
        (false, false) => "données de démonstration incluses".into(),
        (true, true) => "demonstration data excluded".into(),
        (false, true) => "demonstration data included".into(),
    });
    parts.push(if english {
        format!("zones blanches: communes more than {km} km from any matching actor")
    } else {
        format!("zones blanches : communes à plus de {km} km de toute structure retenue")
    });
    parts.join(" ; ")
}

/// The metadata block of a CSV download: one `label;value` line each.
fn meta_rows(snap: &Snapshot, a: &About<'_>, english: bool) -> Vec<Vec<Cell>> {
    let v = &a.provenance.reference;
    let changed = a.provenance.actors_changed_at.clone().unwrap_or_else(|| {
        if english {
            "no actor".into()
        } else {
            "aucune structure".into()
        }
    });
    let lines: Vec<(&str, String)> = if english {
        vec![
            (
                "Ancrage — coverage of",
                territory_title(&a.report.territory, true),
            ),
            ("table", a.table.title(true).to_owned()),
            ("made on (UTC)", a.generated_at.to_owned()),
            ("filters", filters_text(snap, a, true)),
            (
                "populations",
                format!(
                    "INSEE populations légales {} (in force from {}); a territory's population is the sum of its communes'",
                    v.populations_legales, v.populations_in_force_from
                ),
            ),
            (
                "communes and codes",
                format!("INSEE Code officiel géographique {}", v.cog),
            ),
            (
                "EPCI",
                format!("DGCL, EPCI à fiscalité propre as at 1 January {}", v.epci),
            ),
            ("outlines and areas", v.outlines.to_owned()),
            ("actors last changed (UTC)", changed),
            (
                "sources",
                format!(
                    "IGN ADMIN EXPRESS, INSEE (COG, populations légales), La Poste, DGCL, via {} (Licence Ouverte 2.0); actors: Ancrage contributors",
                    v.inputs
                ),
            ),
        ]
    } else {
        vec![
            (
                "Ancrage — couverture de",
                territory_title(&a.report.territory, false),
            ),
            ("tableau", a.table.title(false).to_owned()),
            ("établi le (UTC)", a.generated_at.to_owned()),
            ("filtres", filters_text(snap, a, false)),
            (
                "populations",
                format!(
                    "populations légales {} de l'INSEE (en vigueur au {}) ; la population d'un territoire est la somme de celles de ses communes",
                    v.populations_legales, v.populations_in_force_from
                ),
            ),
            (
                "communes et codes",
                format!("Code officiel géographique {} de l'INSEE", v.cog),
            ),
            (
                "EPCI",
                format!("DGCL, EPCI à fiscalité propre au 1er janvier {}", v.epci),
            ),
            ("contours et superficies", v.outlines.to_owned()),
            ("dernière modification des structures (UTC)", changed),
            (
                "sources",
                format!(
                    "IGN ADMIN EXPRESS, INSEE (COG, populations légales), La Poste, DGCL, via {} (Licence Ouverte 2.0) ; structures : contributeurs d'Ancrage",
                    v.inputs
                ),
            ),
        ]
    };
    lines
        .into_iter()
        .map(|(k, v)| vec![Cell::Text(k.to_owned()), Cell::Text(v)])
        .collect()
}

/// The download's file name, which says what it holds:
/// `couverture_epci-244400552_detail_alimentation_10km_2026-12-02`: territory, table, then
/// the filters (categories, families and kinds joined by `+`, `demo` when demonstration data is
/// included), the distance and the date (UTC).
fn file_name(
    territory: &coverage::Named,
    table: Table,
    f: &Echo,
    distance_m: f64,
    generated_at: &str,
) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut parts = vec!["couverture".to_owned()];
    parts.push(match &territory.code {
        Some(code) if territory.kind != "france" => format!("{}-{}", territory.kind, safe(code)),
        _ => "france".to_owned(),
    });
    parts.push(table.name().to_owned());
    for set in [
        f.chosen.iter().map(|c| safe(c)).collect::<Vec<_>>(),
        f.family.iter().flatten().map(|x| safe(x)).collect(),
        f.kind.iter().map(|k| safe(k)).collect(),
    ] {
        if !set.is_empty() {
            parts.push(set.join("+"));
        }
    }
    if f.demo == "include" {
        parts.push("demo".to_owned());
    }
    parts.push(if distance_m % 1000.0 == 0.0 {
        format!("{}km", distance_m / 1000.0)
    } else {
        format!("{}m", distance_m.round())
    });
    parts.push(generated_at.get(..10).unwrap_or(generated_at).to_owned());
    parts.join("_")
}

/// The `metadata` foreign member of a GeoJSON download (RFC 7946 §6.1).
fn geojson_metadata(out: &mut Vec<u8>, snap: &Snapshot, a: &About<'_>) {
    let meta = serde_json::json!({
        "territory": &a.report.territory,
        "table": a.table.name(),
        "generated_at": a.generated_at,
        "filters": a.filters,
        "filters_text": filters_text(snap, a, false),
        "distance_m": a.report.distance_m,
        "vintages": &a.provenance,
    });
    out.extend_from_slice(br#","metadata":"#);
    let _ = serde_json::to_writer(&mut *out, &meta);
}

fn family_label(slug: &str, english: bool) -> String {
    let (fr, en) = match slug {
        "association" => ("Association", "Association"),
        "cooperative" => ("Coopérative", "Cooperative"),
        "mutuelle" => ("Mutuelle", "Mutual"),
        "fondation" => ("Fondation", "Foundation"),
        "entreprise-ess" => ("Entreprise de l'ESS / ESUS", "SSE company"),
        _ => ("Collectivité ou autre", "Local authority or other"),
    };
    if english { en } else { fr }.to_owned()
}

/// Child territories as a FeatureCollection: outline (the child's own, or its communes inside
/// the territory when it straddles the border) and every figure as properties.
fn children_geojson(
    out: &mut Vec<u8>,
    snap: &Snapshot,
    r: &Report,
    sort: (&'static str, bool),
    about: &About<'_>,
) {
    out.extend_from_slice(br#"{"type":"FeatureCollection","features":["#);
    for (i, c) in sorted_children(r, sort).into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"type":"Feature","geometry":"#);
        let shape = c
            .idx
            .filter(|_| c.whole)
            .and_then(|i| snap.territories.get(i))
            .and_then(|t| t.record.geometry.as_ref());
        match shape {
            Some(g) => crate::domain::territory::write_area_geometry(out, g),
            None => {
                // The communes of the child inside the territory.
                let parts: Vec<geo::Polygon<f64>> = c
                    .communes
                    .iter()
                    .filter_map(|&m| snap.territories.get(m))
                    .filter_map(|t| t.record.geometry.as_ref())
                    .flat_map(|g| g.0.iter().cloned())
                    .collect();
                crate::domain::territory::write_area_geometry(out, &geo::MultiPolygon(parts));
            }
        }
        out.extend_from_slice(br#","properties":"#);
        let _ = serde_json::to_writer(&mut *out, c);
        out.push(b'}');
    }
    out.push(b']');
    geojson_metadata(out, snap, about);
    out.push(b'}');
}

/// The structures a report counts, one line each.
fn structures_csv(
    out: &mut Vec<u8>,
    snap: &Snapshot,
    listed: &[crate::index::actors::ActorIdx],
    style: CsvStyle,
) {
    let en = style.english;
    let header: Vec<&str> = if en {
        vec![
            "id",
            "name",
            "commune code",
            "commune",
            "categories",
            "legal status",
            "kinds",
            "location known to",
            "demonstration",
            "longitude",
            "latitude",
        ]
    } else {
        vec![
            "identifiant",
            "nom",
            "code commune",
            "commune",
            "catégories",
            "statut",
            "types",
            "localisation connue à",
            "démonstration",
            "longitude",
            "latitude",
        ]
    };
    let rows: Vec<Vec<Cell>> = listed
        .iter()
        .map(|&a| {
            let l = structure_line(snap, a);
            vec![
                Cell::Text(l.id.to_string()),
                Cell::Text(l.name),
                Cell::Text(l.commune.code.to_owned()),
                Cell::Text(l.commune.name.to_owned()),
                Cell::Text(
                    l.categories
                        .iter()
                        .map(|c| label(snap, c, en))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::Text(family_label(l.family, en)),
                Cell::Text(l.kinds.join(", ")),
                Cell::Text(
                    match (l.precision, en) {
                        ("address", false) => "l'adresse",
                        ("address", true) => "the address",
                        ("street", false) => "la rue",
                        ("street", true) => "the street",
                        ("commune", false) => "la commune",
                        ("commune", true) => "the commune",
                        (_, false) => "placée à la main",
                        (_, true) => "placed by hand",
                    }
                    .into(),
                ),
                Cell::Text(
                    match (l.demo, en) {
                        (true, false) => "oui",
                        (false, false) => "non",
                        (true, true) => "yes",
                        (false, true) => "no",
                    }
                    .into(),
                ),
                Cell::Num(Some(l.location[0]), 7),
                Cell::Num(Some(l.location[1]), 7),
            ]
        })
        .collect();
    write_csv(out, style, &header, &rows);
}

/// The structures a report counts as a FeatureCollection of points.
fn structures_geojson(
    out: &mut Vec<u8>,
    snap: &Snapshot,
    listed: &[crate::index::actors::ActorIdx],
    about: &About<'_>,
) {
    out.extend_from_slice(br#"{"type":"FeatureCollection","features":["#);
    for (i, &a) in listed.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let l = structure_line(snap, a);
        let _ = write!(
            out,
            r#"{{"type":"Feature","id":{},"geometry":{{"type":"Point","coordinates":[{},{}]}},"properties":"#,
            l.id, l.location[0], l.location[1]
        );
        let _ = serde_json::to_writer(&mut *out, &l);
        out.push(b'}');
    }
    out.push(b']');
    geojson_metadata(out, snap, about);
    out.push(b'}');
}

/// Zones blanches as a FeatureCollection of commune outlines.
fn zones_geojson(out: &mut Vec<u8>, snap: &Snapshot, r: &Report, about: &About<'_>) {
    out.extend_from_slice(br#"{"type":"FeatureCollection","features":["#);
    for (i, z) in r.zones_blanches.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"type":"Feature","geometry":"#);
        match snap
            .territories
            .get(z.idx)
            .and_then(|t| t.record.geometry.as_ref())
        {
            Some(g) => crate::domain::territory::write_area_geometry(out, g),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(br#","properties":"#);
        let _ = serde_json::to_writer(&mut *out, z);
        out.push(b'}');
    }
    out.push(b']');
    geojson_metadata(out, snap, about);
    out.push(b'}');
}
