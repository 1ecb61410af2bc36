//! Coverage routes on the seeded store: the report, its exports, its errors, and that a change
//! of actors is seen at once.

use crate::helpers::{Backend, get, insert_published, spawn_app};

const DEP44: &str = "/api/v1/territories/departement/44/coverage";

async fn a_departement_report_adds_up_and_compares_with_its_parents(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let r = get(&svc, DEP44).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(r.header("etag").is_some());
    let b = r.json();
    assert_eq!(b["territory"]["code"], "44");
    assert_eq!(b["territory"]["name"], "Loire-Atlantique");
    let f = &b["figures"];
    assert_eq!(f["communes"], 207);
    // Each legal status says which communes and people it covers, within the whole's figures.
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().expect(k);
    let mut families_actors = 0;
    for fam in b["by_family"].as_array().expect("by_family") {
        families_actors += n(fam, "actors");
        assert!(
            n(fam, "communes_covered") <= n(f, "communes_covered"),
            "{fam}"
        );
        assert!(
            n(fam, "population_covered") <= n(f, "population_covered"),
            "{fam}"
        );
        assert_eq!(
            n(fam, "actors") > 0,
            n(fam, "communes_covered") > 0,
            "{fam}"
        );
        assert!(fam["communes_covered_share"].is_number(), "{fam}");
        assert!(fam["population_covered_share"].is_number(), "{fam}");
    }
    assert_eq!(
        families_actors,
        n(f, "actors"),
        "every actor has one family"
    );
    let parents: Vec<&str> = b["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(parents, ["region", "france"]);
    assert_eq!(b["children_kind"], "epci");
    let children = b["children"].as_array().expect("children");
    let sum = |key: &str| -> u64 {
        children
            .iter()
            .map(|c| c[key].as_u64().expect("number"))
            .sum()
    };
    for key in [
        "population",
        "communes",
        "actors",
        "communes_covered",
        "population_covered",
    ] {
        assert_eq!(sum(key), f[key].as_u64().expect("number"), "{key}");
    }
    // Default order: most populated first; Nantes Métropole leads.
    assert_eq!(children[0]["name"], "Nantes Métropole");
    let pops: Vec<u64> = children
        .iter()
        .map(|c| c["population"].as_u64().expect("pop"))
        .collect();
    assert!(pops.windows(2).all(|w| w[0] >= w[1]), "{pops:?}");
    // Access lines: any actor, then each of the 13 top-level categories.
    assert_eq!(b["access"].as_array().expect("access").len(), 14);
    assert_eq!(b["access"][0]["within"].as_array().expect("steps").len(), 4);
    assert_eq!(b["distance_m"], 10000.0);
    // Figures leave demonstration data out unless asked.
    assert_eq!(b["filters"]["demo"], "exclude");
    let with_demo = get(&svc, &format!("{DEP44}?demo=include")).await.json();
    assert_eq!(with_demo["filters"]["demo"], "include");
    assert!(
        with_demo["figures"]["actors"].as_u64() > f["actors"].as_u64(),
        "the seeded store holds demonstration data"
    );

    let by_name = get(&svc, &format!("{DEP44}?sort=name&order=asc"))
        .await
        .json();
    let names: Vec<String> = by_name["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| ancrage::index::text::fold(c["name"].as_str().unwrap_or("~")))
        .collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
}

async fn filters_and_distance_shape_the_report(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let all = get(&svc, DEP44).await.json();
    let food = get(
        &svc,
        &format!("{DEP44}?category=alimentation&demo=exclude&distance=5000"),
    )
    .await
    .json();
    assert!(food["figures"]["actors"].as_u64() < all["figures"]["actors"].as_u64());
    assert_eq!(food["filters"]["category"][0], "alimentation");
    assert_eq!(food["filters"]["demo"], "exclude");
    assert_eq!(food["distance_m"], 5000.0);
    for z in food["zones_blanches"].as_array().expect("zones") {
        assert!(z["nearest_m"].as_f64().is_none_or(|d| d > 5000.0), "{z}");
    }
    // A larger distance never finds more zones blanches.
    let wide = get(
        &svc,
        &format!("{DEP44}?category=alimentation&demo=exclude&distance=20000"),
    )
    .await
    .json();
    assert!(
        wide["zones_blanches"].as_array().map(Vec::len)
            <= food["zones_blanches"].as_array().map(Vec::len)
    );
}

async fn france_and_a_commune_are_scopes_too(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let fr = get(
        &svc,
        "/api/v1/territories/france/FR/coverage?category=tiers-lieux",
    )
    .await;
    assert_eq!(fr.status, 200);
    let fr = fr.json();
    assert_eq!(fr["territory"]["kind"], "france");
    assert_eq!(fr["figures"]["communes"], 34_875);
    assert_eq!(fr["children_kind"], "region");
    assert_eq!(fr["children"].as_array().map(Vec::len), Some(18));
    assert_eq!(fr["parents"].as_array().map(Vec::len), Some(0));
    let nantes = get(&svc, "/api/v1/territories/commune/44109/coverage")
        .await
        .json();
    assert_eq!(nantes["children_kind"], serde_json::Value::Null);
    let parents: Vec<&str> = nantes["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(parents, ["epci", "departement", "region", "france"]);
}

async fn tables_export_as_csv_for_french_spreadsheets_and_as_geojson(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let r = get(&svc, &format!("{DEP44}/children.csv")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    // The file name says what the file holds, down to the day it was made.
    let day = get(&svc, DEP44).await.json()["generated_at"]
        .as_str()
        .expect("generated_at")[..10]
        .to_owned();
    assert_eq!(
        r.header("content-disposition"),
        Some(format!(
            "attachment; filename=\"couverture_departement-44_detail_10km_{day}.csv\""
        ))
    );
    assert!(
        r.bytes.starts_with("\u{feff}".as_bytes()),
        "byte-order mark"
    );
    let text = String::from_utf8(r.bytes[3..].to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with(
            "type;code;nom;entier;population (somme des populations légales des communes);\
             population publiée (DGCL, EPCI seulement);superficie"
        ),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 17, "header and one line per EPCI part");
    let nantes = lines
        .iter()
        .find(|l| l.contains("Nantes Métropole"))
        .expect("Nantes");
    // Decimal commas with ';'.
    let per_10000 = nantes.split(';').nth(9).expect("column");
    assert!(
        per_10000.contains(',') && !per_10000.contains('.'),
        "{nantes}"
    );

    let r = get(&svc, &format!("{DEP44}/children.csv?sep=comma&lang=en")).await;
    let text = String::from_utf8(r.bytes[3..].to_vec()).expect("UTF-8");
    let first = text.lines().next().expect("header");
    assert!(
        first.starts_with(
            "kind,code,name,whole,population (sum of the communes' populations légales),"
        ),
        "{first}"
    );
    assert!(
        first.contains("\"actors per 10,000 inhabitants\""),
        "quoted: {first}"
    );

    for table in [
        "figures",
        "categories",
        "families",
        "access",
        "parents",
        "zones-blanches",
    ] {
        let r = get(&svc, &format!("{DEP44}/{table}.csv")).await;
        assert_eq!(r.status, 200, "{table}");
        assert!(r.bytes.len() > 10, "{table}");
    }

    let g = get(&svc, &format!("{DEP44}/children.geojson")).await;
    assert_eq!(
        g.header("content-type").as_deref(),
        Some("application/geo+json")
    );
    assert_eq!(
        g.header("content-disposition"),
        Some(format!(
            "attachment; filename=\"couverture_departement-44_detail_10km_{day}.geojson\""
        ))
    );
    let g = g.json();
    // What the file is, in a foreign member (RFC 7946 § 6.1).
    let meta = &g["metadata"];
    assert_eq!(meta["territory"]["code"], "44", "{meta}");
    assert_eq!(meta["table"], "detail");
    assert_eq!(meta["filters"]["demo"], "exclude");
    assert_eq!(meta["vintages"]["cog"], 2026);
    assert_eq!(meta["vintages"]["populations_legales"], 2023);
    assert!(
        meta["generated_at"]
            .as_str()
            .is_some_and(|t| t.starts_with(&day))
    );
    assert_eq!(g["type"], "FeatureCollection");
    assert_eq!(g["features"].as_array().map(Vec::len), Some(17));
    assert_eq!(g["features"][0]["geometry"]["type"], "MultiPolygon");
    assert!(g["features"][0]["properties"]["actors_per_10000"].is_number());
    let z = get(
        &svc,
        &format!("{DEP44}/zones-blanches.geojson?distance=3000"),
    )
    .await
    .json();
    assert!(!z["features"].as_array().expect("features").is_empty());
}

/// A report states which data its figures describe; a download with `meta=block` states it
/// too, with the filters and the date, and its name carries the filters.
async fn reports_and_downloads_state_their_filters_date_and_data_vintages(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let report = get(&svc, DEP44).await.json();
    let v = &report["vintages"];
    assert_eq!(v["cog"], 2026, "{v}");
    assert_eq!(v["populations_legales"], 2023);
    assert_eq!(v["populations_in_force_from"], "2026-01-01");
    assert_eq!(v["epci"], 2026);
    assert!(
        v["outlines"]
            .as_str()
            .is_some_and(|o| o.contains("ADMIN EXPRESS"))
    );
    let changed = v["actors_changed_at"]
        .as_str()
        .expect("the seeded actors changed once")
        .to_owned();
    assert_eq!(changed.len(), "2026-12-02T10:00:00Z".len(), "{changed}");
    let generated = report["generated_at"]
        .as_str()
        .expect("generated_at")
        .to_owned();
    assert!(changed <= generated, "{changed} <= {generated}");

    let query = "category=alimentation&family=association&demo=include&distance=2500&meta=block";
    let r = get(&svc, &format!("{DEP44}/children.csv?{query}")).await;
    assert_eq!(r.status, 200);
    let day = &generated[..10];
    assert_eq!(
        r.header("content-disposition"),
        Some(format!(
            "attachment; filename=\"couverture_departement-44_detail_alimentation_association_demo_2500m_{day}.csv\""
        ))
    );
    assert!(
        r.bytes.starts_with("\u{feff}".as_bytes()),
        "byte-order mark first"
    );
    let text = String::from_utf8(r.bytes[3..].to_vec()).expect("UTF-8");
    let (block, table) = text
        .split_once("\r\n\r\n")
        .expect("an empty line after the block");
    let lines: Vec<&str> = block.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "Ancrage — couverture de;Loire-Atlantique (département 44)"
    );
    assert_eq!(lines[1], "tableau;détail par territoire");
    assert!(
        lines[2].starts_with(&format!("établi le (UTC);{day}T")),
        "{}",
        lines[2]
    );
    let filters = lines[3];
    for part in [
        "catégorie : Alimentation",
        "statut : Association",
        "données de démonstration incluses",
        "à plus de 2,5 km",
    ] {
        assert!(filters.contains(part), "{part} in {filters}");
    }
    assert!(
        block.contains("populations légales 2023 de l'INSEE (en vigueur au 2026-01-01)"),
        "{block}"
    );
    assert!(block.contains("Code officiel géographique 2026"), "{block}");
    assert!(
        block.contains("EPCI à fiscalité propre au 1er janvier 2026"),
        "{block}"
    );
    assert!(
        block.contains(&format!(
            "dernière modification des structures (UTC);{changed}"
        )),
        "{block}"
    );
    assert!(table.starts_with("type;code;nom;entier;"), "{table}");
    // The table after the block is the one sent alone.
    let bare = get(&svc, &format!("{DEP44}/children.csv?category=alimentation&family=association&demo=include&distance=2500")).await;
    assert_eq!(table.as_bytes(), &bare.bytes[3..]);

    // In English too.
    let r = get(
        &svc,
        &format!("{DEP44}/figures.csv?meta=block&lang=en&sep=comma"),
    )
    .await;
    let text = String::from_utf8(r.bytes[3..].to_vec()).expect("UTF-8");
    assert!(
        text.starts_with("Ancrage — coverage of,Loire-Atlantique (département (county) 44)\r\n"),
        "{text}"
    );
    assert!(text.contains("demonstration data excluded"), "{text}");
}

async fn bad_input_gets_a_problem_naming_the_rule(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/territories/canton/4401/coverage")
        .await
        .problem(400, Some("kind"));
    get(&svc, "/api/v1/territories/departement/4A/coverage")
        .await
        .problem(400, Some("code"));
    get(&svc, "/api/v1/territories/departement/96/coverage")
        .await
        .problem(404, None);
    get(&svc, "/api/v1/territories/france/DE/coverage")
        .await
        .problem(404, None);
    for (query, field) in [
        ("distance=loin", "distance"),
        ("distance=10", "distance"),
        ("distance=500000", "distance"),
        ("sort=beauty", "sort"),
        ("order=up", "order"),
        ("category=boulangerie", "category"),
        ("q=nantes", "q"),
        ("limit=10", "limit"),
    ] {
        get(&svc, &format!("{DEP44}?{query}"))
            .await
            .problem(400, Some(field));
    }
    get(&svc, &format!("{DEP44}/children.csv?sep=tab"))
        .await
        .problem(400, Some("sep"));
    get(&svc, &format!("{DEP44}/children.csv?lang=de"))
        .await
        .problem(400, Some("lang"));
    get(&svc, &format!("{DEP44}/children.csv?meta=yes"))
        .await
        .problem(400, Some("meta"));
    get(&svc, &format!("{DEP44}/secrets.csv"))
        .await
        .problem(404, None);
    get(&svc, &format!("{DEP44}/figures.geojson"))
        .await
        .problem(404, None);
}

async fn a_new_actor_changes_the_figures_at_once(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let url = "/api/v1/territories/commune/44109/coverage?category=cafe-associatif";
    let before = get(&svc, url).await;
    let n = before.json()["figures"]["actors"].as_u64().expect("count");
    insert_published(&app, |f| {
        f.name = "Café associatif de test".into();
        f.categories = vec!["cafe-associatif".into()];
        f.commune = ancrage::domain::InseeCode::parse("c", "44109").expect("code");
        f.location = ancrage::domain::LonLat::new(-1.5536, 47.2184).expect("point");
        f.demo = false;
        f.source_ref = Some("test-coverage".into());
    })
    .await;
    app.state.refresh_actors().await.expect("refresh");
    let after = get(&svc, url).await;
    assert_ne!(after.header("etag"), before.header("etag"));
    let after = after.json();
    assert_eq!(after["figures"]["actors"].as_u64(), Some(n + 1));
    // The date of the last change moves with it (never back).
    let changed = |r: &serde_json::Value| {
        r["vintages"]["actors_changed_at"]
            .as_str()
            .map(str::to_owned)
    };
    assert!(changed(&after) >= changed(&before.json()) && changed(&after).is_some());
}

/// Every figure per inhabitant uses the sum of the communes' populations; an EPCI's report and
/// downloads also give the population DGCL publishes for it, named as such, and nothing else
/// does.
async fn an_epci_shows_the_population_dgcl_publishes_beside_the_sum_of_its_communes(
    store: Backend,
) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let epci = "/api/v1/territories/epci/244400404/coverage";
    let b = get(&svc, epci).await.json();
    let f = &b["figures"];
    let sum: u64 = b["children"]
        .as_array()
        .expect("communes")
        .iter()
        .map(|c| c["population"].as_u64().expect("population"))
        .sum();
    assert_eq!(
        f["population"].as_u64(),
        Some(sum),
        "the sum of the communes"
    );
    assert_eq!(f["population"], 689_456);
    assert_eq!(f["population_published"], 683_981, "DGCL's figure");
    let per_10000 = f["actors"].as_f64().expect("actors") * 1e4 / 689_456.0;
    assert!((f["actors_per_10000"].as_f64().expect("density") - per_10000).abs() < 1e-9);
    // Communes, départements, régions and France publish none of their own here.
    for c in b["children"].as_array().expect("communes") {
        assert!(c["population_published"].is_null(), "{c}");
    }
    for p in b["parents"].as_array().expect("parents") {
        assert!(p["population_published"].is_null(), "{p}");
    }
    // The EPCI of a département: whole ones carry DGCL's figure, parts of one do not.
    let dep = get(&svc, DEP44).await.json();
    assert!(dep["figures"]["population_published"].is_null());
    let children = dep["children"].as_array().expect("EPCI");
    for c in children {
        assert_eq!(
            c["population_published"].is_u64(),
            c["whole"] == true && c["code"].is_string(),
            "{c}"
        );
    }
    let nm = children
        .iter()
        .find(|c| c["code"] == "244400404")
        .expect("Nantes Métropole");
    assert_eq!(nm["population_published"], 683_981);
    // Downloads name which population each column is.
    let csv = get(&svc, &format!("{epci}/figures.csv")).await;
    let text = String::from_utf8(csv.bytes[3..].to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let header: Vec<&str> = lines[0].split(';').collect();
    let row: Vec<&str> = lines[1].split(';').collect();
    assert_eq!(
        &header[3..5],
        [
            "population (somme des populations légales des communes)",
            "population publiée (DGCL, EPCI seulement)"
        ]
    );
    assert_eq!(&row[3..5], ["689456", "683981"], "{}", lines[1]);
    let en = get(&svc, &format!("{epci}/figures.csv?lang=en&sep=comma")).await;
    let text = String::from_utf8(en.bytes[3..].to_vec()).expect("UTF-8");
    assert!(
        text.contains(
            ",population (sum of the communes' populations légales),\"published population (DGCL, EPCI only)\","
        ),
        "{text}"
    );
    // The territory itself, as GeoJSON.
    let t = get(&svc, "/api/v1/territories/epci/244400404").await.json();
    assert_eq!(t["properties"]["population_published"], 683_981, "{t}");
    let c = get(&svc, "/api/v1/territories/commune/44109").await.json();
    assert!(c["properties"]["population_published"].is_null(), "{c}");
}

/// The report lists the structures it counts: the same ones, commune by commune, in a page,
/// a CSV and a GeoJSON download.
async fn a_report_lists_the_structures_it_counts(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let epci = "/api/v1/territories/epci/244400404/coverage";
    for query in ["", "?demo=include", "?category=alimentation&demo=include"] {
        let report = get(&svc, &format!("{epci}{query}")).await.json();
        let sep = if query.is_empty() { '?' } else { '&' };
        let list = get(&svc, &format!("{epci}/structures{query}{sep}limit=1000"))
            .await
            .json();
        let items = list["structures"].as_array().expect("structures");
        assert_eq!(list["total"], report["figures"]["actors"], "{query}");
        assert_eq!(items.len() as u64, list["total"].as_u64().expect("total"));
        // Commune by commune, the list holds what the children table counts.
        let mut per_commune: std::collections::BTreeMap<String, u64> = Default::default();
        for s in items {
            *per_commune
                .entry(s["commune"]["code"].as_str().expect("code").to_owned())
                .or_default() += 1;
            assert!(s["name"].as_str().is_some_and(|n| !n.is_empty()), "{s}");
            assert!(s["categories"].as_array().is_some_and(|c| !c.is_empty()));
            if query.is_empty() {
                assert_eq!(s["demo"], false, "demonstration data is left out: {s}");
            }
        }
        for c in report["children"].as_array().expect("children") {
            let code = c["code"].as_str().expect("code");
            assert_eq!(
                per_commune.get(code).copied().unwrap_or(0),
                c["actors"].as_u64().expect("actors"),
                "{code} {query}"
            );
        }
        // Ordered by commune name, then name.
        let key = |s: &serde_json::Value| {
            (
                s["commune"]["name"].as_str().unwrap_or("").to_lowercase(),
                s["name"].as_str().unwrap_or("").to_owned(),
            )
        };
        assert!(
            items.windows(2).all(|w| key(&w[0]).0 <= key(&w[1]).0),
            "by commune"
        );
        if query == "?demo=include" {
            assert!(items.len() > 3, "enough to page through");
            let page = get(&svc, &format!("{epci}/structures{query}&limit=2&offset=1"))
                .await
                .json();
            assert_eq!(page["structures"].as_array().map(Vec::len), Some(2));
            assert_eq!(page["structures"][0], items[1]);
            assert_eq!(page["structures"][1], items[2]);
            // Downloads: the same structures, named as such.
            let csv = get(&svc, &format!("{epci}/structures.csv{query}")).await;
            assert_eq!(csv.status, 200);
            let name = csv.header("content-disposition").expect("file name");
            assert!(
                name.contains("couverture_epci-244400404_structures_demo_10km_"),
                "{name}"
            );
            let text = String::from_utf8(csv.bytes[3..].to_vec()).expect("UTF-8");
            let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
            assert_eq!(
                lines[0],
                "identifiant;nom;code commune;commune;catégories;statut;types;localisation connue à;démonstration;longitude;latitude"
            );
            assert_eq!(lines.len(), 1 + items.len());
            let first = lines[1];
            assert!(
                first.starts_with(&format!("{};", items[0]["id"])),
                "{first}"
            );
            assert!(first.contains(items[0]["commune"]["name"].as_str().expect("commune")));
            let gj = get(&svc, &format!("{epci}/structures.geojson{query}"))
                .await
                .json();
            let features = gj["features"].as_array().expect("features");
            assert_eq!(features.len(), items.len());
            assert_eq!(features[0]["geometry"]["type"], "Point");
            assert_eq!(features[0]["geometry"]["coordinates"], items[0]["location"]);
            assert_eq!(features[0]["properties"]["name"], items[0]["name"]);
            assert_eq!(gj["metadata"]["table"], "structures");
        }
    }
    get(&svc, &format!("{epci}/structures?limit=0"))
        .await
        .problem(400, Some("limit"));
    get(&svc, &format!("{epci}/structures?q=cafe"))
        .await
        .problem(400, Some("q"));
}

/// The report compares the territory with its siblings in the parent and with territories of
/// the same kind and closest population elsewhere, with the same figures as their own reports.
async fn a_report_compares_with_similar_territories(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let b = get(&svc, &format!("{DEP44}?demo=include")).await.json();
    let similar = b["similar"].as_array().expect("similar");
    let codes = |rel: &str| -> Vec<String> {
        similar
            .iter()
            .filter(|s| s["relation"] == rel)
            .map(|s| s["code"].as_str().expect("code").to_owned())
            .collect()
    };
    let mut siblings = codes("sibling");
    siblings.sort();
    assert_eq!(siblings, ["49", "53", "72", "85"], "Pays de la Loire");
    // Oracle for the closest populations: every département's population, from the régions'
    // reports.
    let france = get(&svc, "/api/v1/territories/france/FR/coverage")
        .await
        .json();
    let mut deps: Vec<(String, String, u64)> = Vec::new();
    for r in france["children"].as_array().expect("régions") {
        let code = r["code"].as_str().expect("code");
        let rep = get(&svc, &format!("/api/v1/territories/region/{code}/coverage"))
            .await
            .json();
        for d in rep["children"].as_array().expect("départements") {
            deps.push((
                code.to_owned(),
                d["code"].as_str().expect("code").to_owned(),
                d["population"].as_u64().expect("population"),
            ));
        }
    }
    let p0 = b["figures"]["population"].as_f64().expect("population");
    let mut others: Vec<&(String, String, u64)> = deps.iter().filter(|d| d.0 != "52").collect();
    others.sort_by(|x, y| {
        let c = |d: &&(String, String, u64)| (d.2.max(1) as f64 / p0).ln().abs();
        c(x).total_cmp(&c(y))
    });
    let mut expected: Vec<String> = others.iter().take(5).map(|d| d.1.clone()).collect();
    expected.sort();
    let mut got = codes("similar_population");
    got.sort();
    assert_eq!(got, expected);
    // Their figures are those of their own reports.
    for s in similar {
        let own = get(
            &svc,
            &format!(
                "/api/v1/territories/departement/{}/coverage?demo=include",
                s["code"].as_str().expect("code")
            ),
        )
        .await
        .json();
        assert_eq!(s["actors"], own["figures"]["actors"], "{s}");
        assert_eq!(s["population"], own["figures"]["population"], "{s}");
    }
    // A commune is compared with the other communes of its EPCI (at most 12).
    let nantes = get(&svc, "/api/v1/territories/commune/44109/coverage")
        .await
        .json();
    let epci = get(&svc, "/api/v1/territories/epci/244400404/coverage")
        .await
        .json();
    let members: Vec<&str> = epci["children"]
        .as_array()
        .expect("communes")
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    let sib: Vec<&serde_json::Value> = nantes["similar"]
        .as_array()
        .expect("similar")
        .iter()
        .filter(|s| s["relation"] == "sibling")
        .collect();
    assert_eq!(sib.len(), 12);
    for s in &sib {
        let code = s["code"].as_str().expect("code");
        assert!(members.contains(&code) && code != "44109", "{code}");
    }
    // The CSV puts the territory first, then the compared ones.
    let csv = get(&svc, &format!("{DEP44}/similar.csv?demo=include")).await;
    let text = String::from_utf8(csv.bytes[3..].to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("type;code;nom;lien;population"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("departement;44;Loire-Atlantique;ce territoire;"));
    assert_eq!(lines.len(), 2 + similar.len());
    assert!(
        lines
            .iter()
            .any(|l| l.contains(";49;Maine-et-Loire;même territoire parent;"))
    );
    // France has nothing of its kind to compare with.
    assert_eq!(france["similar"], serde_json::json!([]));
}

on_both_stores!(
    a_report_lists_the_structures_it_counts,
    a_report_compares_with_similar_territories,
    reports_and_downloads_state_their_filters_date_and_data_vintages,
    an_epci_shows_the_population_dgcl_publishes_beside_the_sum_of_its_communes,
    a_departement_report_adds_up_and_compares_with_its_parents,
    filters_and_distance_shape_the_report,
    france_and_a_commune_are_scopes_too,
    tables_export_as_csv_for_french_spreadsheets_and_as_geojson,
    bad_input_gets_a_problem_naming_the_rule,
    a_new_actor_changes_the_figures_at_once,
);
