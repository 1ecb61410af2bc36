//! HTTP routes: one module per resource, one route table shared by the binary and the tests.
//! Handlers parse input into domain types, ask the snapshot or the store, and serialise.

pub mod actors;
pub mod admin;
pub mod basemap;
pub mod categories;
pub mod contributions;
pub mod coverage;
pub mod discovery;
pub mod docs;
pub mod export;
pub mod geojson;
pub mod health;
pub mod limit;
pub mod map;
pub mod oembed;
pub mod outline_tiles;
pub mod params;
pub mod policy;
pub mod problem;
pub mod respond;
pub mod territories;
pub mod tiles;

use actix_web::web;

/// Media type of GeoJSON responses.
pub const GEOJSON: &str = "application/geo+json";

/// Largest accepted JSON request body, in bytes (a 10 000-vertex polygon fits in ~400 KB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY_BYTES)
                .content_type(|mime| {
                    mime.essence_str() == "application/json"
                        || mime.essence_str() == "application/geo+json"
                })
                .error_handler(problem::json_error),
        )
        .route("/health", web::get().to(health::health))
        .route("/oembed", web::get().to(oembed::oembed))
        .configure(basemap::configure)
        .configure(tiles::configure)
        .configure(outline_tiles::configure)
        .service(
            web::scope("/api/v1")
                .route("/openapi.json", web::get().to(docs::openapi))
                .route("/docs", web::get().to(crate::assets::serve))
                .route("/actors", web::get().to(actors::list))
                .route("/actors.csv", web::get().to(export::csv))
                .route("/actors.geojson", web::get().to(export::geojson))
                .route("/actors/nearby", web::get().to(actors::nearby))
                .route("/actors/within", web::post().to(actors::within))
                .route("/actors/{id}", web::get().to(actors::one))
                .route("/categories", web::get().to(categories::list))
                .route("/territories/search", web::get().to(territories::search))
                .route(
                    "/territories/{kind}/{code}",
                    web::get().to(territories::one),
                )
                .route(
                    "/territories/{kind}/{code}/actors",
                    web::get().to(territories::actors),
                )
                .route(
                    "/territories/{kind}/{code}/coverage",
                    web::get().to(coverage::report),
                )
                .route(
                    "/territories/{kind}/{code}/coverage/structures",
                    web::get().to(coverage::structures),
                )
                .route(
                    "/territories/{kind}/{code}/coverage/{file}",
                    web::get().to(coverage::export),
                )
                .route("/locate", web::get().to(territories::locate))
                .configure(map::configure)
                .configure(admin::configure)
                .configure(contributions::configure)
                .default_service(web::to(api_not_found)),
        )
        .default_service(web::to(crate::assets::serve));
}

async fn api_not_found(
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, problem::ApiError> {
    Err(problem::ApiError::NotFound(format!(
        "no API resource at {} {} (see /api/v1/docs)",
        req.method(),
        req.path()
    )))
}
