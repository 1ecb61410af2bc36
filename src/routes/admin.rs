//! `/api/v1/admin/…`: the administration API. Every request carries an administrator token
//! (`Authorization: Bearer …`), checked by one middleware before any handler runs; the token's
//! name is recorded as the author of every change.

use super::problem::ApiError;
use crate::admin::actions::{self, AdminError};
use crate::admin::token;
use crate::admin::values::Values;
use crate::domain::actor::ActorRecord;
use crate::domain::{ActorId, InputError, Status, TerritoryKind};
use crate::startup::AppState;
use crate::store::Store;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use serde::Deserialize;
use serde_json::{Value, json};

/// The administrator making a request: the name of their token.
#[derive(Debug, Clone)]
pub struct Admin(pub String);

/// Largest page of the administration lists.
const PAGE_MAX: i64 = 500;

/// Registers the administration routes under the API scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(actix_web::middleware::from_fn(require_token))
            .route("/session", web::get().to(session))
            .route("/actors", web::get().to(list_actors))
            .route("/actors", web::post().to(create_actor))
            .route("/actors/{id}", web::get().to(one_actor))
            .route("/actors/{id}", web::patch().to(patch_actor))
            .route("/actors/{id}", web::put().to(put_actor))
            .route("/actors/{id}/archive", web::post().to(archive_actor))
            .route("/actors/{id}/history", web::get().to(history))
            .route("/contributions", web::get().to(list_contributions))
            .route("/contributions/{id}", web::get().to(one_contribution))
            .route(
                "/contributions/{id}/approve",
                web::post().to(approve_contribution),
            )
            .route(
                "/contributions/{id}/reject",
                web::post().to(reject_contribution),
            ),
    );
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Lets through requests with an active administrator token, answers 401 otherwise.
async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refuse = |req: ServiceRequest, e: ApiError| {
        let res = e.error_response();
        Ok(req.into_response(res).map_into_right_body())
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return refuse(
            req,
            ApiError::Internal(anyhow::anyhow!("no application state")),
        );
    };
    let Some(presented) = bearer(&req) else {
        return refuse(
            req,
            ApiError::Unauthorized(
                "send an administrator token as 'Authorization: Bearer TOKEN' (ancrage admin create-token NAME)".into(),
            ),
        );
    };
    match token::authenticate(&state.store, &presented).await {
        Ok(Some(name)) => {
            req.extensions_mut().insert(Admin(name));
            Ok(next.call(req).await?.map_into_left_body())
        }
        Ok(None) => refuse(
            req,
            ApiError::Unauthorized("this token is unknown or revoked".into()),
        ),
        Err(e) => refuse(req, e.into()),
    }
}

fn api(e: AdminError) -> ApiError {
    match e {
        AdminError::NotFound(m) => ApiError::NotFound(m),
        AdminError::Invalid(errors) => ApiError::InvalidFields(errors),
        AdminError::Conflict(m) => ApiError::Conflict(m),
        AdminError::Unavailable(e) => e.into(),
        AdminError::Internal(e) => ApiError::Internal(e),
    }
}

fn parse_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim().parse().map_err(|_| {
        InputError::new(field, format!("'{raw}' is not an id (a whole number)")).into()
    })
}

/// A JSON answer that no cache keeps.
fn private(status: actix_web::http::StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

fn ok(body: &Value) -> HttpResponse {
    private(actix_web::http::StatusCode::OK, body)
}

/// An actor as administrators see it: any status, its editable values apart.
fn actor_json(state: &AppState, r: &ActorRecord) -> Value {
    let snap = state.snapshot.load();
    let commune_name = snap
        .territories
        .find(TerritoryKind::Commune, r.fields.commune.as_str())
        .and_then(|i| snap.territories.get(i))
        .map(|t| t.record.name.clone());
    json!({
        "id": r.id.0,
        "name": r.fields.name,
        "status": r.status.as_str(),
        "source": r.fields.source,
        "source_ref": r.fields.source_ref,
        "demo": r.fields.demo,
        "commune_name": commune_name,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "values": actions::current_values(r),
    })
}

/// A JSON object body (the values of an actor).
fn object(body: Value) -> Result<Values, ApiError> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::InvalidBody(InputError::new(
            "body",
            "a JSON object of actor values is expected",
        ))),
    }
}

/// `GET /api/v1/admin/session`: who the token belongs to.
async fn session(admin: web::ReqData<Admin>) -> HttpResponse {
    ok(&json!({"name": admin.0}))
}

/// Parameters of `GET /api/v1/admin/actors`.
#[derive(Debug, Deserialize)]
struct ActorListParams {
    status: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn page(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(InputError::new("limit", format!("from 1 to {PAGE_MAX}")).into());
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(InputError::new("offset", "0 or more").into());
    }
    Ok((limit, offset))
}

/// `GET /api/v1/admin/actors`: actors of any status (`status` to choose one), recently changed
/// first, optionally whose name contains `q`.
async fn list_actors(
    state: web::Data<AppState>,
    q: web::Query<ActorListParams>,
) -> Result<HttpResponse, ApiError> {
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Status::parse("status", s))
        .transpose()?;
    let (limit, offset) = page(q.limit, q.offset)?;
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let found = state
        .store
        .admin_actors(status, text, limit, offset)
        .await?;
    let actors: Vec<Value> = found
        .records
        .iter()
        .map(|r| actor_json(&state, r))
        .collect();
    Ok(ok(&json!({"total": found.total, "actors": actors})))
}

/// `POST /api/v1/admin/actors`: creates an actor (source `admin`); 201.
async fn create_actor(
    state: web::Data<AppState>,
    admin: web::ReqData<Admin>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let values = object(body.into_inner())?;
    let r = actions::create(&state, &admin.0, &values)
        .await
        .map_err(api)?;
    Ok(private(
        actix_web::http::StatusCode::CREATED,
        &actor_json(&state, &r),
    ))
}

/// `GET /api/v1/admin/actors/{id}`: one actor, any status.
async fn one_actor(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ActorId(parse_id("id", &path)?);
    let r = state
        .store
        .actor(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no actor has the id {id}")))?;
    Ok(ok(&actor_json(&state, &r)))
}

async fn update(
    state: &AppState,
    admin: &Admin,
    path: &str,
    body: Value,
    replace: bool,
) -> Result<HttpResponse, ApiError> {
    let id = ActorId(parse_id("id", path)?);
    let values = object(body)?;
    let r = actions::update(state, &admin.0, id, &values, replace)
        .await
        .map_err(api)?;
    Ok(ok(&actor_json(state, &r)))
}

/// `PATCH /api/v1/admin/actors/{id}`: new values for the fields given.
async fn patch_actor(
    state: web::Data<AppState>,
    admin: web::ReqData<Admin>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    update(&state, &admin, &path, body.into_inner(), false).await
}

/// `PUT /api/v1/admin/actors/{id}`: all the values of an actor (missing ones are emptied).
async fn put_actor(
    state: web::Data<AppState>,
    admin: web::ReqData<Admin>,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    update(&state, &admin, &path, body.into_inner(), true).await
}

/// `POST /api/v1/admin/actors/{id}/archive`: archives an actor.
async fn archive_actor(
    state: web::Data<AppState>,
    admin: web::ReqData<Admin>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ActorId(parse_id("id", &path)?);
    let r = actions::archive(&state, &admin.0, id).await.map_err(api)?;
    Ok(ok(&actor_json(&state, &r)))
}

/// `GET /api/v1/admin/actors/{id}/history`: who changed what and when, oldest first.
async fn history(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ActorId(parse_id("id", &path)?);
    if state.store.actor(id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no actor has the id {id}")));
    }
    let entries = state.store.history(id).await?;
    Ok(ok(&json!({"actor_id": id.0, "entries": entries})))
}

/// Parameters of `GET /api/v1/admin/contributions`.
#[derive(Debug, Deserialize)]
struct ContributionListParams {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/v1/admin/contributions`: contributions, oldest first, each with its diff.
async fn list_contributions(
    state: web::Data<AppState>,
    q: web::Query<ContributionListParams>,
) -> Result<HttpResponse, ApiError> {
    let status = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = status
        && !matches!(s, "pending" | "approved" | "rejected")
    {
        return Err(InputError::new(
            "status",
            format!("unknown value '{s}' (expected one of: pending, approved, rejected)"),
        )
        .into());
    }
    let (limit, offset) = page(q.limit, q.offset)?;
    let found = state.store.contributions(status, limit, offset).await?;
    let mut out = Vec::with_capacity(found.len());
    for c in &found {
        out.push(actions::review(&state, c).await.map_err(api)?);
    }
    Ok(ok(&json!({"contributions": out})))
}

async fn reviewed(state: &AppState, id: i64) -> Result<Value, ApiError> {
    let c = state
        .store
        .contribution(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no contribution has the id {id}")))?;
    actions::review(state, &c).await.map_err(api)
}

/// `GET /api/v1/admin/contributions/{id}`: one contribution with its diff.
async fn one_contribution(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &path)?;
    Ok(ok(&reviewed(&state, id).await?))
}

/// Body of an approval: the moderator's edited values, if any.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    values: Option<Values>,
}

/// Body of a rejection.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: Option<String>,
}

/// Reads an optional JSON body (an empty body is the default value).
fn optional_body<T: Default + serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::MalformedBody(format!("the body is not valid JSON: {e}")))
}

/// `POST /api/v1/admin/contributions/{id}/approve`: applies it (with `values` when edited).
async fn approve_contribution(
    state: web::Data<AppState>,
    admin: web::ReqData<Admin>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &path)?;
    let b: ApproveBody = optional_body(&body)?;
    let r = actions::approve(&state, &admin.0, id, b.values.as_ref())
        .await
        .map_err(api)?;
    let contribution = reviewed(&state, id).await?;
    Ok(ok(
        &json!({"contribution": contribution, "actor": actor_json(&state, &r)}),
    ))
}

/// `POST /api/v1/admin/contributions/{id}/reject`: rejects it with a `reason`.
async fn reject_contribution(
    state: web::Data<AppState>,
    admin: web::ReqData<Admin>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &path)?;
    let b: RejectBody = optional_body(&body)?;
    actions::reject(&state, &admin.0, id, b.reason.as_deref())
        .await
        .map_err(api)?;
    Ok(ok(&reviewed(&state, id).await?))
}
