//! The JSON API.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gdap_core::TenantId;
use gdap_onboard::{ManagedTenant, RelationshipTemplate, TenantStore as _};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::actions::{self, Action};
use crate::app::{AppState, BODY_LIMIT};
use crate::auth::Principal;
use crate::cloud::Connected;
use crate::error::ApiError;
use crate::jobs::{self, explain_ctx};

pub(crate) type ApiResult = Result<Response, ApiError>;

/// Parses an optional JSON body: empty → `None`; otherwise JSON is required.
pub(crate) fn parse_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Option<T>, ApiError> {
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "bodyTooLarge",
                "Body too large",
                format!("the body is larger than {BODY_LIMIT} bytes"),
            )
        } else {
            ApiError::bad_request("invalidBody", r.body_text())
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupportedMediaType",
            "Unsupported media type",
            "send the body as JSON with `Content-Type: application/json`",
        ));
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        ApiError::bad_request(
            "invalidJson",
            format!("the body is not valid JSON for this route: {e}"),
        )
    })
}

pub(crate) fn tenant_id(raw: &str) -> Result<TenantId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::bad_request(
            "invalidTenantId",
            format!("{raw:?} is not a tenant id (a GUID)"),
        )
    })
}

pub(crate) fn connected(state: &AppState) -> Result<Connected, ApiError> {
    state.connection().ok_or_else(ApiError::not_connected)
}

pub(crate) fn ok<T: serde::Serialize>(v: T) -> ApiResult {
    Ok(Json(v).into_response())
}

/// 404 for unknown routes.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// `GET /api/me`.
pub(crate) async fn me(Extension(p): Extension<Principal>) -> ApiResult {
    ok(json!({ "email": p.email, "role": p.role.as_str() }))
}

/// `GET /api/connection`.
pub(crate) async fn connection(State(state): State<AppState>) -> ApiResult {
    let row = state
        .db
        .load_connection()
        .await
        .map_err(ApiError::internal)?;
    ok(json!({
        "connected": state.connection().is_some(),
        "userEmail": row.as_ref().and_then(|r| r.user_email.clone()),
        "partnerTenantId": row.as_ref().and_then(|r| r.partner_tenant_id.clone()),
        "connectedAt": row.as_ref().map(|r| r.connected_at.clone()),
    }))
}

/// The table: synced first when stale (the seed's "sync on open"), one sync at a time.
pub(crate) async fn load_table(
    state: &AppState,
    force: bool,
) -> Result<(Vec<ManagedTenant>, Vec<String>), ApiError> {
    let mut warnings = Vec::new();
    if let Some(c) = state.connection()
        && (force || state.is_stale())
    {
        let _g = state.sync_lock.lock().await;
        if force || state.is_stale() {
            match c.orchestrator.sync().await {
                Ok(report) => {
                    state.mark_synced(Some(std::time::Instant::now()));
                    warnings.extend(report.warnings.iter().map(|w| w.to_string()));
                    return Ok((report.tenants, warnings));
                }
                Err(e) if force => {
                    return Err(ApiError::from_onboard(&e, &explain_ctx(state, None)));
                }
                Err(e) => {
                    let entry = ApiError::from_onboard(&e, &explain_ctx(state, None));
                    tracing::warn!(error = %e, "sync on open failed; showing the last synced table");
                    warnings.push(entry.body.message);
                }
            }
        }
    }
    let rows = state.store.load_rows().await.map_err(ApiError::internal)?;
    Ok((rows, warnings))
}

#[derive(Deserialize)]
pub(crate) struct TenantsQuery {
    sync: Option<bool>,
}

/// `GET /api/tenants`.
pub(crate) async fn tenants(
    State(state): State<AppState>,
    Query(q): Query<TenantsQuery>,
) -> ApiResult {
    let (rows, warnings) = if q.sync == Some(false) {
        (
            state.store.load_rows().await.map_err(ApiError::internal)?,
            Vec::new(),
        )
    } else {
        load_table(&state, false).await?
    };
    let billable = rows.iter().filter(|r| r.is_billable()).count();
    ok(json!({
        "connected": state.connection().is_some(),
        "tenants": rows,
        "billableCount": billable,
        "warnings": warnings,
    }))
}

/// `POST /api/sync`.
pub(crate) async fn sync(State(state): State<AppState>) -> ApiResult {
    connected(&state)?;
    let (rows, warnings) = load_table(&state, true).await?;
    ok(json!({ "tenants": rows, "warnings": warnings }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SingleBody {
    /// Plan only: the writes the workflow would do, nothing written.
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DryRunQuery {
    dry_run: Option<bool>,
}

async fn run_one(
    state: &AppState,
    raw: &str,
    action: Action,
    q: &DryRunQuery,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let t = tenant_id(raw)?;
    let body: SingleBody = parse_body(headers, body)?.unwrap_or_default();
    let c = connected(state)?;
    if body.dry_run || q.dry_run == Some(true) {
        return actions::plan(state, &c, action, &[t]).await;
    }
    let Some(_guard) = state.locks.try_acquire(t) else {
        return Err(ApiError::conflict(
            "tenantBusy",
            format!("an action is already running for tenant {t}; wait for it to finish"),
        ));
    };
    actions::run_single(state, &c, action, t).await
}

/// `POST /api/tenants/{id}/onboard` (`?dryRun=true` plans only).
pub(crate) async fn onboard_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DryRunQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    run_one(&state, &id, Action::Onboard, &q, &headers, body).await
}

/// `POST /api/tenants/{id}/migrate` (`?dryRun=true` plans only).
pub(crate) async fn migrate_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DryRunQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    run_one(&state, &id, Action::Migrate, &q, &headers, body).await
}

/// `POST /api/tenants/{id}/refresh-email-perms` (`?dryRun=true` plans only).
pub(crate) async fn refresh_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DryRunQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    run_one(&state, &id, Action::RefreshEmail, &q, &headers, body).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BatchBody {
    tenant_ids: Vec<String>,
    /// Plan only (also `?dryRun=true`).
    #[serde(default)]
    dry_run: bool,
}

async fn batch(
    state: &AppState,
    p: &Principal,
    q: &DryRunQuery,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    action: Action,
) -> ApiResult {
    let body: BatchBody = parse_body(headers, body)?.ok_or_else(|| {
        ApiError::bad_request(
            "invalidBody",
            "send {\"tenantIds\": [\"<tenant id>\", ...]}",
        )
    })?;
    if body.tenant_ids.is_empty() {
        return Err(ApiError::bad_request(
            "invalidBody",
            "tenantIds is empty: select at least one tenant",
        ));
    }
    if body.tenant_ids.len() > 1000 {
        return Err(ApiError::bad_request(
            "invalidBody",
            "at most 1000 tenants per job",
        ));
    }
    let ids = body
        .tenant_ids
        .iter()
        .map(|t| tenant_id(t))
        .collect::<Result<Vec<_>, _>>()?;
    let c = connected(state)?;
    if body.dry_run || q.dry_run == Some(true) {
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<TenantId> = ids.into_iter().filter(|t| seen.insert(*t)).collect();
        return actions::plan(state, &c, action, &ids).await;
    }
    let id = jobs::start(state, action, ids, &p.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/jobs/{id}"))],
        Json(json!({ "jobId": id, "runId": id, "status": "running" })),
    )
        .into_response())
}

/// `POST /api/onboard` (`?dryRun=true` or `"dryRun": true` plans only).
pub(crate) async fn onboard_batch(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<DryRunQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    batch(&state, &p, &q, &headers, body, Action::Onboard).await
}

/// `POST /api/migrate` (`?dryRun=true` or `"dryRun": true` plans only).
pub(crate) async fn migrate_batch(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<DryRunQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    batch(&state, &p, &q, &headers, body, Action::Migrate).await
}

/// `GET /api/jobs/{id}`.
pub(crate) async fn job(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let Some((job, items)) = state.db.job(&id).await.map_err(ApiError::internal)? else {
        return Err(ApiError::not_found(format!("no job {id}")));
    };
    let count = |s: &str| items.iter().filter(|i| i.status == s).count();
    ok(json!({
        "job": job,
        "counts": {
            "total": items.len(),
            "pending": count("pending"),
            "running": count("running"),
            "done": count("done"),
            "failed": count("failed"),
            "skipped": count("skipped"),
        },
        "items": items,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RequestBody {
    /// A template name (`app-install` default) — see `RelationshipTemplate::builtin()`.
    template: Option<String>,
    name_hint: Option<String>,
    /// New request with every required role even when Ready ("Re-request Permissions").
    #[serde(default)]
    re_request: bool,
}

/// `POST /api/tenants/{id}/request-permissions`.
pub(crate) async fn request_permissions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let t = tenant_id(&id)?;
    let body: Option<RequestBody> = parse_body(&headers, body)?;
    let c = connected(&state)?;
    let ctx = explain_ctx(&state, Some(t));
    let outcome = match body {
        Some(RequestBody {
            re_request: true, ..
        }) => c.orchestrator.re_request_permissions(t).await,
        Some(RequestBody {
            template,
            name_hint,
            ..
        }) => {
            let template = match template.as_deref() {
                None => RelationshipTemplate::app_install(),
                Some(name) => RelationshipTemplate::builtin()
                    .into_iter()
                    .find(|x| template_matches(x, name))
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "unknownTemplate",
                            format!("no relationship template {name:?}"),
                        )
                    })?,
            };
            c.orchestrator
                .request_permissions(t, &template, name_hint.as_deref())
                .await
        }
        None => {
            c.orchestrator
                .request_permissions(t, &RelationshipTemplate::app_install(), None)
                .await
        }
    }
    .map_err(|e| ApiError::from_onboard(&e, &ctx))?;
    ok(outcome)
}

fn template_matches(t: &RelationshipTemplate, name: &str) -> bool {
    t.short_name.eq_ignore_ascii_case(name) || t.task.eq_ignore_ascii_case(name)
}

/// `GET /api/my-tenant`.
pub(crate) async fn my_tenant(State(state): State<AppState>) -> ApiResult {
    let c = connected(&state)?;
    let record = c
        .orchestrator
        .own_tenant()
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    ok(json!({
        "tenant": record,
        "detectedTenantId": c.account.partner_tenant_id,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct EnableBody {
    tenant_id: Option<String>,
    display_name: Option<String>,
}

/// `POST /api/my-tenant/enable`: 409 on a second partner tenant.
pub(crate) async fn my_tenant_enable(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: Option<EnableBody> = parse_body(&headers, body)?;
    let c = connected(&state)?;
    let (tid, name) = match body {
        Some(b) => (b.tenant_id, b.display_name),
        None => (None, None),
    };
    let tenant = match tid {
        Some(t) => tenant_id(&t)?,
        None => c.account.partner_tenant_id.ok_or_else(|| {
            ApiError::bad_request(
                "invalidBody",
                "no partner tenant detected: send {\"tenantId\": \"...\"}",
            )
        })?,
    };
    let record = c
        .orchestrator
        .enable_own_tenant(tenant, name.as_deref())
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, Some(tenant))))?;
    state.mark_synced(None);
    ok(json!({ "tenant": record }))
}

/// `POST /api/my-tenant/disable`.
pub(crate) async fn my_tenant_disable(State(state): State<AppState>) -> ApiResult {
    let c = connected(&state)?;
    let removed = c
        .orchestrator
        .disable_own_tenant()
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    state.mark_synced(None);
    ok(json!({ "removed": removed }))
}

/// `DELETE /api/tenants/{id}`: 403 for the own partner tenant (seed 003).
pub(crate) async fn delete_tenant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    let t = tenant_id(&id)?;
    let c = connected(&state)?;
    let existed = c
        .orchestrator
        .delete_tenant(t)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, Some(t))))?;
    ok(json!({ "deleted": existed }))
}

/// `GET /api/expiring`.
pub(crate) async fn expiring(State(state): State<AppState>) -> ApiResult {
    let c = connected(&state)?;
    let report = c
        .orchestrator
        .expiry_report()
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    ok(report)
}

/// `GET /api/audit`.
pub(crate) async fn audit(State(state): State<AppState>) -> ApiResult {
    let c = connected(&state)?;
    let report = c
        .orchestrator
        .least_privilege_audit(&RelationshipTemplate::least_privilege())
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    ok(report)
}
