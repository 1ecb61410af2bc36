use crate::helpers::{Backend, feature_ids, get, spawn_app};

fn first(body: &serde_json::Value) -> (String, String) {
    let p = &body["features"][0]["properties"];
    (
        p["kind"].as_str().unwrap_or("").to_owned(),
        p["code"].as_str().unwrap_or("").to_owned(),
    )
}

async fn search_finds_communes_by_name_postcode_and_code_accent_insensitively(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let nantes = get(&svc, "/api/v1/territories/search?q=nantes")
        .await
        .json();
    assert_eq!(first(&nantes), ("commune".into(), "44109".into()));
    assert_eq!(nantes["features"][0]["geometry"]["type"], "Point");
    assert_eq!(
        nantes["features"][0]["bbox"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        first(&get(&svc, "/api/v1/territories/search?q=44000").await.json()),
        ("commune".into(), "44109".into())
    );
    for q in ["saint-etienne", "SAINT ÉTIENNE", "st etienne"] {
        let body = get(
            &svc,
            &format!(
                "/api/v1/territories/search?q={}",
                q.replace(' ', "%20").replace('É', "%C3%89")
            ),
        )
        .await
        .json();
        assert_eq!(first(&body), ("commune".into(), "42218".into()), "{q}");
    }
    assert_eq!(
        first(
            &get(&svc, "/api/v1/territories/search?q=loire-atlantique")
                .await
                .json()
        ),
        ("departement".into(), "44".into())
    );
    assert_eq!(
        first(
            &get(&svc, "/api/v1/territories/search?q=bretagne&kind=region")
                .await
                .json()
        ),
        ("region".into(), "53".into())
    );
    let epci = get(
        &svc,
        "/api/v1/territories/search?q=nantes%20metropole&kind=epci",
    )
    .await
    .json();
    assert_eq!(first(&epci), ("epci".into(), "244400404".into()));
    let limited = get(&svc, "/api/v1/territories/search?q=saint&limit=3")
        .await
        .json();
    assert_eq!(limited["numberReturned"], 3);
}

/// `(code, matched)` of every result, in order.
fn codes_and_reasons(body: &serde_json::Value) -> Vec<(String, String)> {
    body["features"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let p = &f["properties"];
                    (
                        p["code"].as_str().unwrap_or("").to_owned(),
                        p["matched"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn five_digits_find_the_communes_of_the_postcode_before_the_commune_of_that_code(
    store: Backend,
) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let pair = |code: &str, why: &str| (code.to_owned(), why.to_owned());
    // 44150 is the postcode of Ancenis-Saint-Géréon and Vair-sur-Loire, and the INSEE code of
    // Saint-Aignan-Grandlieu (postcode 44860).
    let body = get(&svc, "/api/v1/territories/search?q=44150").await.json();
    assert_eq!(
        codes_and_reasons(&body),
        vec![
            pair("44003", "postcode"),
            pair("44163", "postcode"),
            pair("44150", "code")
        ]
    );
    assert_eq!(
        body["features"][0]["properties"]["name"],
        "Ancenis-Saint-Géréon"
    );
    assert_eq!(body["features"][2]["properties"]["postcodes"][0], "44860");
    let spaced = get(&svc, "/api/v1/territories/search?q=44%20150&kind=commune")
        .await
        .json();
    assert_eq!(codes_and_reasons(&spaced), codes_and_reasons(&body));
    // Le Manoir's code is also its postcode, shared with 31 other communes: it appears once.
    let shared = get(&svc, "/api/v1/territories/search?q=14400&limit=50")
        .await
        .json();
    let results = codes_and_reasons(&shared);
    assert_eq!(shared["numberReturned"], 32);
    assert_eq!(results.len(), 32);
    assert_eq!(results[0], pair("14047", "postcode"), "Bayeux, the largest");
    assert_eq!(
        results.iter().filter(|(c, _)| c == "14400").count(),
        1,
        "{results:?}"
    );
    assert!(
        results.iter().all(|(_, why)| why == "postcode"),
        "{results:?}"
    );
    // Names and other codes say so too.
    let nantes = get(&svc, "/api/v1/territories/search?q=nantes&limit=3")
        .await
        .json();
    assert_eq!(codes_and_reasons(&nantes)[0], pair("44109", "name"));
    let departement = get(&svc, "/api/v1/territories/search?q=44&kind=departement")
        .await
        .json();
    assert_eq!(codes_and_reasons(&departement), vec![pair("44", "code")]);
    let epci = get(&svc, "/api/v1/territories/search?q=244400404")
        .await
        .json();
    assert_eq!(codes_and_reasons(&epci), vec![pair("244400404", "code")]);
}

async fn a_territory_is_a_feature_with_its_polygon_and_parents(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let r = get(&svc, "/api/v1/territories/commune/44109").await;
    assert_eq!(r.status, 200);
    let f = r.json();
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    let p = &f["properties"];
    assert_eq!(p["name"], "Nantes");
    assert_eq!(p["epci"]["code"], "244400404");
    assert_eq!(p["departement"]["code"], "44");
    assert_eq!(p["region"]["code"], "52");
    assert!(
        p["area_m2"].as_f64().expect("area") > 60e6 && p["area_m2"].as_f64().expect("area") < 70e6
    );
    let region = get(&svc, "/api/v1/territories/region/52").await.json();
    assert_eq!(region["properties"]["name"], "Pays de la Loire");
    assert_eq!(
        region["properties"]["region"],
        serde_json::Value::Null,
        "a région is not its own parent"
    );
    assert!(region["properties"]["commune_count"].as_u64().expect("n") > 1000);
    let corsica = get(&svc, "/api/v1/territories/departement/2a").await.json();
    assert_eq!(corsica["properties"]["code"], "2A");
}

async fn territory_actors_are_those_whose_commune_belongs_to_it(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let epci = get(&svc, "/api/v1/territories/epci/244400404/actors?limit=1000")
        .await
        .json();
    let by_filter = get(&svc, "/api/v1/actors?epci=244400404&limit=1000")
        .await
        .json();
    assert_eq!(feature_ids(&epci), feature_ids(&by_filter));
    assert!(epci["numberMatched"].as_u64().expect("n") > 10);
    let nantes = get(&svc, "/api/v1/territories/commune/44109/actors?limit=1000")
        .await
        .json();
    for f in nantes["features"].as_array().expect("features") {
        assert_eq!(f["properties"]["commune"]["code"], "44109");
    }
    let sub = nantes["numberMatched"].as_u64().expect("n");
    assert!(sub < epci["numberMatched"].as_u64().expect("n"));
    let detail = get(&svc, "/api/v1/territories/epci/244400404").await.json();
    assert_eq!(detail["properties"]["actor_count"], epci["numberMatched"]);
}

async fn locate_returns_the_commune_and_its_parents(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let body = get(&svc, "/api/v1/locate?lon=-1.5536&lat=47.2184")
        .await
        .json();
    let kinds: Vec<(String, String)> = body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            (
                f["properties"]["kind"].as_str().unwrap_or("").into(),
                f["properties"]["code"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("commune".into(), "44109".into()),
            ("epci".into(), "244400404".into()),
            ("departement".into(), "44".into()),
            ("region".into(), "52".into())
        ]
    );
    let reunion = get(&svc, "/api/v1/locate?lon=55.4504&lat=-20.8823")
        .await
        .json();
    assert_eq!(reunion["features"][0]["properties"]["code"], "97411");
}

on_both_stores!(
    search_finds_communes_by_name_postcode_and_code_accent_insensitively,
    five_digits_find_the_communes_of_the_postcode_before_the_commune_of_that_code,
    a_territory_is_a_feature_with_its_polygon_and_parents,
    territory_actors_are_those_whose_commune_belongs_to_it,
    locate_returns_the_commune_and_its_parents,
);
