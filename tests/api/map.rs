//! The endpoints of the map page: compact points, clusters, counts for a view, opening hours,
//! outlines and settings.

use crate::helpers::{Backend, get, spawn_app};
use serde_json::Value;

const NANTES_VIEW: &str = "-1.70,47.15,-1.45,47.30";

fn count(v: &Value) -> u64 {
    v.as_u64().expect("a count")
}

async fn points_list_every_matching_actor_compactly_and_honour_filters(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let all = get(&svc, "/api/v1/map/points").await;
    assert_eq!(all.status.as_u16(), 200);
    let all = all.json();
    let total = get(&svc, "/api/v1/categories").await.json()["total_actors"].clone();
    assert_eq!(all["numberMatched"], total);
    assert_eq!(all["truncated"], false);
    let points = all["points"].as_array().expect("points");
    assert_eq!(points.len() as u64, count(&total));
    let categories = get(&svc, "/api/v1/categories").await.json();
    for p in points.iter().take(200) {
        let p = p.as_array().expect("a point is an array");
        assert_eq!(p.len(), 5);
        let pos = p[3].as_u64().expect("category position") as usize;
        assert!(
            categories["categories"][pos]["parent"].is_null(),
            "markers are coloured by a top-level category"
        );
    }
    // The same filter as the actor list gives the same actors.
    let filtered = get(
        &svc,
        "/api/v1/map/points?category=alimentation&demo=exclude",
    )
    .await
    .json();
    let list = get(
        &svc,
        "/api/v1/actors?category=alimentation&demo=exclude&limit=1000",
    )
    .await
    .json();
    let mut ids: Vec<i64> = filtered["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p[0].as_i64().expect("id"))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, crate::helpers::feature_ids(&list));
    // Demonstration data carry flag bit 0, and excluding it leaves none.
    assert!(
        filtered["points"]
            .as_array()
            .expect("points")
            .iter()
            .all(|p| p[4].as_u64().expect("flags") & 1 == 0)
    );
    assert!(
        points
            .iter()
            .any(|p| p[4].as_u64().expect("flags") & 1 == 1)
    );
}

async fn points_reject_an_unknown_category_with_a_problem(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/map/points?category=boulangerie")
        .await
        .problem(400, Some("category"));
    get(&svc, "/api/v1/map/points?demo=maybe")
        .await
        .problem(400, Some("demo"));
}

async fn clusters_account_for_every_actor_of_the_view_once(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let view = "-5.5,41.0,10.0,51.5";
    let expected = get(&svc, &format!("/api/v1/actors?bbox={view}&limit=1"))
        .await
        .json()["numberMatched"]
        .clone();
    for zoom in [3, 6, 9, 14] {
        let r = get(
            &svc,
            &format!("/api/v1/map/clusters?bbox={view}&zoom={zoom}"),
        )
        .await;
        assert_eq!(r.status.as_u16(), 200);
        let body = r.json();
        assert_eq!(body["numberMatched"], expected);
        let sum: u64 = body["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| {
                let p = &f["properties"];
                let n = if p["cluster"] == true {
                    let b = p["bbox"].as_array().expect("bbox");
                    let c = f["geometry"]["coordinates"]
                        .as_array()
                        .expect("coordinates");
                    let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
                    assert!(b[0].as_f64() <= Some(lon + 1e-5) && Some(lon - 1e-5) <= b[2].as_f64());
                    assert!(b[1].as_f64() <= Some(lat + 1e-5) && Some(lat - 1e-5) <= b[3].as_f64());
                    count(&p["point_count"])
                } else {
                    assert!(p["id"].is_i64() && p["category"].is_string(), "{p}");
                    1
                };
                assert!(
                    p.get("point_count_abbreviated").is_none(),
                    "the page writes counts in its own language: {p}"
                );
                n
            })
            .sum();
        assert_eq!(sum, count(&expected), "zoom {zoom}");
    }
    // Zooming in splits clusters.
    let few = get(&svc, &format!("/api/v1/map/clusters?bbox={view}&zoom=3"))
        .await
        .json();
    let many = get(&svc, &format!("/api/v1/map/clusters?bbox={view}&zoom=9"))
        .await
        .json();
    assert!(few["features"].as_array().map(Vec::len) < many["features"].as_array().map(Vec::len));
}

async fn clusters_need_a_view_and_a_zoom_in_range(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/map/clusters?zoom=5")
        .await
        .problem(400, Some("bbox"));
    get(&svc, "/api/v1/map/clusters?bbox=1,2,3")
        .await
        .problem(400, Some("bbox"));
    get(&svc, "/api/v1/map/clusters?bbox=-5,41,10,51")
        .await
        .problem(400, Some("zoom"));
    get(&svc, "/api/v1/map/clusters?bbox=-5,41,10,51&zoom=31")
        .await
        .problem(400, Some("zoom"));
    get(&svc, "/api/v1/map/clusters?bbox=-5,41,10,51&zoom=far")
        .await
        .problem(400, Some("zoom"));
}

async fn facets_count_the_view_and_each_ignores_its_own_filter(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let listed = |q: String| {
        let svc = &svc;
        async move {
            get(
                svc,
                &format!("/api/v1/actors?bbox={NANTES_VIEW}&limit=1{q}"),
            )
            .await
            .json()["numberMatched"]
                .clone()
        }
    };
    let r = get(
        &svc,
        &format!("/api/v1/map/facets?bbox={NANTES_VIEW}&category=alimentation&family=association"),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200);
    let f = r.json();
    assert_eq!(
        f["numberMatched"],
        listed("&category=alimentation&family=association".into()).await
    );
    // Category counts ignore the category filter but keep the family filter.
    for slug in [
        "alimentation",
        "epicerie-solidaire",
        "reemploi",
        "tiers-lieux",
    ] {
        assert_eq!(
            f["categories"][slug],
            listed(format!("&category={slug}&family=association")).await,
            "{slug}"
        );
    }
    // Family counts ignore the family filter but keep the category filter.
    for family in ["association", "cooperative", "mutuelle"] {
        assert_eq!(
            f["families"][family],
            listed(format!("&category=alimentation&family={family}")).await,
            "{family}"
        );
    }
    assert_eq!(
        f["kinds"]["tiers-lieu"],
        listed("&category=alimentation&family=association&kind=tiers-lieu".into()).await
    );
    assert!(count(&f["demo"]) <= count(&f["numberMatched"]));
    // Without a box the counts are those of the whole catalogue.
    let whole = get(&svc, "/api/v1/map/facets").await.json();
    let categories = get(&svc, "/api/v1/categories").await.json();
    for c in categories["categories"].as_array().expect("categories") {
        assert_eq!(
            whole["categories"][c["slug"].as_str().expect("slug")],
            c["count"]
        );
    }
}

async fn facets_reject_a_bad_box(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/map/facets?bbox=10,50,5,40")
        .await
        .problem(400, Some("bbox"));
    get(&svc, "/api/v1/map/facets?family=sarl")
        .await
        .problem(400, Some("family"));
}

async fn hours_are_given_for_published_actors_and_bad_ids_are_refused(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let page = get(&svc, "/api/v1/actors?limit=50").await.json();
    let ids = crate::helpers::feature_ids(&page);
    let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let r = get(
        &svc,
        &format!("/api/v1/map/hours?ids={},999999999", list.join(",")),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200);
    let hours = r.json()["hours"].clone();
    let obj = hours.as_object().expect("hours object");
    assert_eq!(obj.len(), ids.len(), "unknown ids are left out");
    let id = ids[0];
    let detail = get(&svc, &format!("/api/v1/actors/{id}")).await.json();
    assert_eq!(hours[id.to_string()], detail["properties"]["opening_hours"]);
    assert!(
        obj.values().any(Value::is_string),
        "demo actors have opening hours"
    );

    get(&svc, "/api/v1/map/hours")
        .await
        .problem(400, Some("ids"));
    get(&svc, "/api/v1/map/hours?ids=1,deux")
        .await
        .problem(400, Some("ids"));
    let too_many: Vec<String> = (1..=201).map(|i| i.to_string()).collect();
    get(
        &svc,
        &format!("/api/v1/map/hours?ids={}", too_many.join(",")),
    )
    .await
    .problem(400, Some("ids"));
}

async fn outlines_draw_every_departement_and_the_communes_of_a_view(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let deps = get(&svc, "/api/v1/map/outlines/departements").await;
    assert_eq!(deps.status.as_u16(), 200);
    assert!(
        deps.header("cache-control")
            .is_some_and(|c| c.contains("max-age=86400"))
    );
    let deps = deps.json();
    let features = deps["features"].as_array().expect("features");
    assert_eq!(features.len(), 101);
    assert!(
        features
            .iter()
            .any(|f| f["properties"]["name"] == "Loire-Atlantique")
    );
    assert!(
        features
            .iter()
            .all(|f| f["geometry"]["type"] == "MultiPolygon")
    );

    let communes = get(
        &svc,
        &format!("/api/v1/map/outlines/communes?bbox={NANTES_VIEW}"),
    )
    .await
    .json();
    assert_eq!(communes["truncated"], false);
    let codes: Vec<&str> = communes["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"44109") && codes.contains(&"44162"),
        "Nantes and Saint-Herblain"
    );
    // A whole-country view holds too many communes to draw.
    let france = get(&svc, "/api/v1/map/outlines/communes?bbox=-5,41,10,51")
        .await
        .json();
    assert_eq!(france["truncated"], true);
    assert_eq!(france["features"].as_array().map(Vec::len), Some(0));
    get(&svc, "/api/v1/map/outlines/communes")
        .await
        .problem(400, Some("bbox"));
}

async fn one_outline_is_simplified_but_keeps_its_box_and_name(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let exact = get(&svc, "/api/v1/territories/region/52").await.json();
    let r = get(&svc, "/api/v1/map/outlines/region/52").await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(
        r.bytes.len() < exact.to_string().len(),
        "smaller than the exact polygon"
    );
    let simple = r.json();
    assert_eq!(simple["properties"]["name"], "Pays de la Loire");
    for (a, b) in simple["bbox"]
        .as_array()
        .expect("bbox")
        .iter()
        .zip(exact["bbox"].as_array().expect("bbox"))
    {
        assert!((a.as_f64().expect("n") - b.as_f64().expect("n")).abs() < 1e-4);
    }
    get(&svc, "/api/v1/map/outlines/commune/44999")
        .await
        .problem(404, None);
    get(&svc, "/api/v1/map/outlines/canton/12")
        .await
        .problem(400, Some("kind"));
}

async fn the_map_configuration_defaults_to_the_offline_style_without_report_link(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let c = get(&svc, "/api/v1/map/config").await.json();
    assert!(
        c["basemap_style"].is_null() && c["report_email"].is_null(),
        "{c}"
    );
    assert_eq!(c["points_limit"], 8_000);
    assert!(count(&c["total_actors"]) > 5_000);
    // The store's real places are the published ones less the demonstration data.
    let real = get(&svc, "/api/v1/actors?limit=1&demo=exclude")
        .await
        .json()["numberMatched"]
        .clone();
    let demo = count(&c["demo_actors"]);
    assert!(demo > 0, "the seeded store holds demonstration data: {c}");
    assert_eq!(count(&c["total_actors"]) - demo, count(&real), "{c}");
}

/// Slugs in catalog order and, for each position, the position of its top-level category.
fn catalog_roots(categories: &Value) -> (Vec<String>, Vec<usize>) {
    let defs = categories["categories"].as_array().expect("categories");
    let slugs: Vec<String> = defs
        .iter()
        .map(|c| c["slug"].as_str().expect("slug").to_owned())
        .collect();
    let position = |slug: &str| slugs.iter().position(|s| s == slug).expect("known slug");
    let roots = (0..defs.len())
        .map(|mut i| {
            while let Some(parent) = defs[i]["parent"].as_str() {
                i = position(parent);
            }
            i
        })
        .collect();
    (slugs, roots)
}

/// The top-level position of a listed actor's first category in catalog order (an
/// independent oracle of the unfiltered colour).
fn first_root(feature: &Value, slugs: &[String], roots: &[usize]) -> usize {
    let first = feature["properties"]["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| {
            slugs
                .iter()
                .position(|s| Some(s.as_str()) == c.as_str())
                .expect("known slug")
        })
        .min()
        .expect("an actor has a category");
    roots[first]
}

fn colours_by_id(points: &Value) -> std::collections::HashMap<i64, u64> {
    points["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| (p[0].as_i64().expect("id"), count(&p[3])))
        .collect()
}

async fn markers_take_the_colour_of_the_category_filter_that_shows_them(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let (slugs, roots) = catalog_roots(&get(&svc, "/api/v1/categories").await.json());
    let position = |slug: &str| slugs.iter().position(|s| s == slug).expect("known slug");
    let unfiltered = colours_by_id(&get(&svc, "/api/v1/map/points").await.json());
    // Without a category filter a marker takes the colour of its first category.
    let nantes = get(
        &svc,
        &format!("/api/v1/actors?bbox={NANTES_VIEW}&limit=1000"),
    )
    .await
    .json();
    let listed = nantes["features"].as_array().expect("features");
    assert!(listed.len() > 20, "{} actors around Nantes", listed.len());
    for f in listed {
        let id = f["id"].as_i64().expect("id");
        assert_eq!(
            unfiltered[&id],
            first_root(f, &slugs, &roots) as u64,
            "actor {id}"
        );
    }
    // With one, it takes the colour of the filter's top-level category, even for actors whose
    // first category lies elsewhere.
    let (mut recoloured, mut singles_recoloured) = (0, 0);
    for slug in [
        "alimentation",
        "epicerie-solidaire",
        "reemploi",
        "tiers-lieux",
    ] {
        let root = roots[position(slug)] as u64;
        let points = get(&svc, &format!("/api/v1/map/points?category={slug}"))
            .await
            .json();
        let colours = colours_by_id(&points);
        assert!(!colours.is_empty(), "{slug}");
        for (id, colour) in &colours {
            assert_eq!(*colour, root, "actor {id} shown by {slug}");
        }
        recoloured += colours.keys().filter(|id| unfiltered[*id] != root).count();
        // The same for the single actors of the server's clusters.
        let clusters = get(
            &svc,
            &format!("/api/v1/map/clusters?bbox=-5.5,41.0,10.0,51.5&zoom=14&category={slug}"),
        )
        .await
        .json();
        let singles: Vec<&Value> = clusters["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| &f["properties"])
            .filter(|p| p["cluster"] != true)
            .collect();
        assert!(
            singles.len() > 10,
            "{slug}: {} single actors",
            singles.len()
        );
        for p in &singles {
            assert_eq!(
                p["category"].as_str(),
                Some(slugs[root as usize].as_str()),
                "{p}"
            );
        }
        singles_recoloured += singles
            .iter()
            .filter(|p| unfiltered[&p["id"].as_i64().expect("id")] != root)
            .count();
    }
    assert!(
        recoloured > 0 && singles_recoloured > 0,
        "the seed holds actors of several top-level categories: {recoloured}, {singles_recoloured}"
    );
}

async fn actors_sharing_one_point_stay_a_cluster_whose_box_is_that_point(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let found = get(&svc, "/api/v1/actors?q=Solilab&limit=1").await.json();
    let solilab = &found["features"][0];
    assert_eq!(solilab["properties"]["name"], "Le Solilab");
    assert_eq!(solilab["properties"]["precision"], "commune");
    let c = solilab["geometry"]["coordinates"]
        .as_array()
        .expect("coordinates");
    let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
    let around = format!(
        "{:.5},{:.5},{:.5},{:.5}",
        lon - 1e-4,
        lat - 1e-4,
        lon + 1e-4,
        lat + 1e-4
    );
    let here = get(&svc, &format!("/api/v1/actors?bbox={around}&limit=50"))
        .await
        .json();
    let names: Vec<&str> = here["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| f["geometry"]["coordinates"] == solilab["geometry"]["coordinates"])
        .filter_map(|f| f["properties"]["name"].as_str())
        .collect();
    assert!(
        names.contains(&"CRESS Pays de la Loire") && names.len() >= 2,
        "{names:?}"
    );
    // Even at the deepest zoom they make one cluster, and its box is their point.
    let deepest = get(&svc, &format!("/api/v1/map/clusters?bbox={around}&zoom=24"))
        .await
        .json();
    let cluster = deepest["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["cluster"] == true)
        .expect("a cluster");
    assert_eq!(
        count(&cluster["properties"]["point_count"]),
        names.len() as u64
    );
    let b: Vec<f64> = cluster["properties"]["bbox"]
        .as_array()
        .expect("bbox")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    assert!(b[0] == b[2] && b[1] == b[3], "{b:?}");
    assert!(
        (b[0] - lon).abs() < 1e-5 && (b[1] - lat).abs() < 1e-5,
        "{b:?}"
    );
}

/// Every facet count is the number of actors the list finds with that value chosen instead
/// (a category or family replacing the filter's own, a kind added to the filter's).
async fn each_facet_equals_the_count_of_the_list_with_that_value_chosen(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let count = |q: String| {
        let svc = &svc;
        async move {
            get(svc, &format!("/api/v1/actors?limit=1&{q}"))
                .await
                .json()["numberMatched"]
                .as_u64()
                .expect("a count")
        }
    };
    for (bbox, filters) in [
        (
            Some(NANTES_VIEW),
            "category=alimentation&family=association",
        ),
        (Some("-5.2,41.3,9.6,51.1"), "demo=exclude"),
        (None, "kind=tiers-lieu"),
        (
            Some("-2.6,46.8,-0.9,47.9"),
            "family=cooperative&category=reemploi,culture-loisirs",
        ),
    ] {
        let view = bbox.map(|b| format!("bbox={b}&")).unwrap_or_default();
        let facets = get(&svc, &format!("/api/v1/map/facets?{view}{filters}"))
            .await
            .json();
        let without = |name: &str| {
            filters
                .split('&')
                .filter(|p| !p.starts_with(&format!("{name}=")))
                .collect::<Vec<_>>()
                .join("&")
        };
        assert_eq!(
            facets["numberMatched"].as_u64(),
            Some(count(format!("{view}{filters}")).await)
        );
        for slug in [
            "alimentation",
            "epicerie-solidaire",
            "reemploi",
            "tiers-lieux",
            "numerique",
        ] {
            let want = count(format!("{view}{}&category={slug}", without("category"))).await;
            assert_eq!(
                facets["categories"][slug].as_u64(),
                Some(want),
                "{filters} {slug}"
            );
        }
        for family in ["association", "cooperative", "fondation"] {
            let want = count(format!("{view}{}&family={family}", without("family"))).await;
            assert_eq!(
                facets["families"][family].as_u64(),
                Some(want),
                "{filters} {family}"
            );
        }
        let kinds = filters
            .split('&')
            .find_map(|p| p.strip_prefix("kind="))
            .map(|k| format!("{k},"))
            .unwrap_or_default();
        for kind in ["tiers-lieu", "ptce", "reseau"] {
            let want = count(format!("{view}{}&kind={kinds}{kind}", without("kind"))).await;
            assert_eq!(
                facets["kinds"][kind].as_u64(),
                Some(want),
                "{filters} {kind}"
            );
        }
    }
}

on_both_stores!(
    points_list_every_matching_actor_compactly_and_honour_filters,
    points_reject_an_unknown_category_with_a_problem,
    clusters_account_for_every_actor_of_the_view_once,
    clusters_need_a_view_and_a_zoom_in_range,
    facets_count_the_view_and_each_ignores_its_own_filter,
    facets_reject_a_bad_box,
    each_facet_equals_the_count_of_the_list_with_that_value_chosen,
    hours_are_given_for_published_actors_and_bad_ids_are_refused,
    outlines_draw_every_departement_and_the_communes_of_a_view,
    one_outline_is_simplified_but_keeps_its_box_and_name,
    the_map_configuration_defaults_to_the_offline_style_without_report_link,
    markers_take_the_colour_of_the_category_filter_that_shows_them,
    actors_sharing_one_point_stay_a_cluster_whose_box_is_that_point,
);
