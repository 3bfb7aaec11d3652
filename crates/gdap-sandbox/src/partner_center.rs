//! Fake Partner Center under `{base}/partnercenter`: customers, application consents (CPV) and
//! the webhook registration (partner-center.md §2, §3, §4, §5, §6).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::auth::{Caller, pc_caller, pc_fault};
use crate::state::{AppState, Core, Shared, StoredResponse};
use crate::stats::{Replayed, mark_duplicate};
use crate::util::{Query, ReqCtx, header_str, is_guid, json_response, with_header};
use crate::well_known::roles as r;
use crate::world::{Consent, Event, Ms, Webhook, World};

const PC_JSON: &str = "application/json; charset=utf-8";
/// Description Partner Center relays for a consent that already exists.
pub const PERMISSION_ENTRY_EXISTS: &str = "Permission entry already exists.";
const WEBHOOK_EVENTS: &[&str] = &[
    "test-created",
    "subscription-updated",
    "granular-admin-relationship-approved",
    "granular-admin-relationship-activated",
    "granular-admin-relationship-terminated",
    "granular-admin-relationship-expired",
    "granular-admin-access-assignment-created",
    "granular-admin-access-assignment-activated",
    "granular-admin-access-assignment-updated",
    "granular-admin-access-assignment-deleted",
    "dap-admin-relationship-approved",
    "dap-admin-relationship-terminated",
    "reseller-relationship-accepted-by-customer",
    "indirect-reseller-relationship-accepted-by-customer",
];

/// Request/correlation ids echoed on every Partner Center response.
struct PcIds {
    request_id: String,
    correlation_id: String,
    /// Whether the caller sent an `MS-RequestId` (idempotency key).
    client_sent_request_id: bool,
}

impl PcIds {
    fn new(headers: &HeaderMap, ctx: &ReqCtx) -> PcIds {
        let rid = header_str(headers, "ms-requestid").map(str::to_string);
        PcIds {
            client_sent_request_id: rid.is_some(),
            request_id: rid.unwrap_or_else(|| ctx.request_id.clone()),
            correlation_id: header_str(headers, "ms-correlationid")
                .map_or_else(|| ctx.client_request_id.clone(), str::to_string),
        }
    }

    fn finish(&self, resp: Response, caller: Option<&Caller>) -> Response {
        let resp = with_header(resp, "ms-requestid", &self.request_id);
        let resp = with_header(resp, "ms-correlationid", &self.correlation_id);
        let resp = with_header(
            resp,
            "ms-cv",
            &format!("sbx.{}", &self.request_id[..8.min(self.request_id.len())]),
        );
        match caller {
            Some(c) if c.user.is_some() => with_header(
                resp,
                "ismfacompliant",
                if c.has_mfa() { "true" } else { "false" },
            ),
            _ => resp,
        }
    }
}

/// Runs `handle` for an authenticated Partner Center caller; every answer carries the ids.
fn pc_handler(
    s: &AppState,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    handle: impl FnOnce(&mut Core, Ms, &Caller, &PcIds) -> Response,
) -> Response {
    let ids = PcIds::new(headers, ctx);
    let now = s.now();
    let mut core = s.lock();
    let caller = match pc_caller(&core, &s.config, headers, now) {
        Ok(c) => c,
        Err(e) => return ids.finish(e, None),
    };
    let resp = handle(&mut core, now, &caller, &ids);
    ids.finish(resp, Some(&caller))
}

fn json_ok(status: StatusCode, v: &Value) -> Response {
    json_response(status, v, PC_JSON)
}

/// Case-insensitive object key lookup (PC accepts camelCase and PascalCase).
fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

#[derive(serde::Serialize)]
struct Attributes {
    #[serde(rename = "objectType")]
    object_type: &'static str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CompanyProfileOut<'a> {
    tenant_id: &'a str,
    domain: &'a str,
    company_name: &'a str,
    attributes: Attributes,
}

#[derive(serde::Serialize)]
struct LinkOut {
    uri: String,
    method: &'static str,
    headers: Vec<Value>,
}

#[derive(serde::Serialize)]
struct SelfLinks {
    #[serde(rename = "self")]
    self_: LinkOut,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerOut<'a> {
    id: &'a str,
    commerce_id: &'a str,
    company_profile: CompanyProfileOut<'a>,
    relationship_to_partner: &'a str,
    allow_delegated_access: bool,
    links: SelfLinks,
    attributes: Attributes,
}

fn customer_out(w: &World, t: usize) -> CustomerOut<'_> {
    let tn = &w.tenants[t];
    CustomerOut {
        id: &tn.id,
        commerce_id: &tn.id,
        company_profile: CompanyProfileOut {
            tenant_id: &tn.id,
            domain: &tn.domain,
            company_name: &tn.display_name,
            attributes: Attributes {
                object_type: "CustomerCompanyProfile",
            },
        },
        relationship_to_partner: tn.relationship_to_partner,
        allow_delegated_access: true,
        links: SelfLinks {
            self_: LinkOut {
                uri: format!("/v1/customers/{}", tn.id),
                method: "GET",
                headers: Vec::new(),
            },
        },
        attributes: Attributes {
            object_type: "Customer",
        },
    }
}

fn render_customer(w: &World, t: usize) -> Value {
    serde_json::to_value(customer_out(w, t)).unwrap_or(Value::Null)
}

fn customers_of(w: &World) -> impl Iterator<Item = usize> + '_ {
    (0..w.tenants.len()).filter(|t| !w.tenants[*t].is_own)
}

fn encode_continuation(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("pc1,{offset}/seek="))
}

fn decode_continuation(tok: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(tok.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    s.strip_prefix("pc1,")?.strip_suffix("/seek=")?.parse().ok()
}

fn tenant_not_found(id: &str) -> Response {
    pc_fault(
        StatusCode::NOT_FOUND,
        60003,
        &format!("Tenant not found: the customer '{id}' could not be found for this partner."),
    )
}

fn find_customer(w: &World, id: &str) -> Result<usize, Response> {
    w.tenant_idx(id)
        .filter(|t| !w.tenants[*t].is_own)
        .ok_or_else(|| tenant_not_found(id))
}

/// `GET /v1/customers?size=n` with seek paging (`MS-ContinuationToken` + `seekOperation=Next`).
pub(crate) async fn list_customers(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, _, _, _| {
        let q = Query::parse(raw.as_deref());
        let size = match q.get("size").map(|v| v.parse::<usize>()) {
            None => 40,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            Some(_) => {
                return pc_fault(
                    StatusCode::BAD_REQUEST,
                    800002,
                    "Invalid request input: size must be between 1 and 1000.",
                );
            }
        };
        let seek = q
            .get("seekOperation")
            .is_some_and(|v| v.eq_ignore_ascii_case("next"));
        let offset = match (seek, header_str(&headers, "ms-continuationtoken")) {
            (true, Some(tok)) => match decode_continuation(tok) {
                Some(o) => o,
                None => {
                    return pc_fault(
                        StatusCode::BAD_REQUEST,
                        800002,
                        "Invalid request input: the continuation token is invalid.",
                    );
                }
            },
            (true, None) => {
                return pc_fault(
                    StatusCode::BAD_REQUEST,
                    800002,
                    "Invalid request input: seekOperation=Next needs an MS-ContinuationToken header.",
                );
            }
            _ => 0,
        };
        let w = &core.world;
        let mut it = customers_of(w).skip(offset);
        let items: Vec<CustomerOut<'_>> =
            it.by_ref().take(size).map(|t| customer_out(w, t)).collect();
        let more = it.next().is_some();
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Page<'a> {
            total_count: usize,
            items: Vec<CustomerOut<'a>>,
            links: Value,
            attributes: Attributes,
            #[serde(skip_serializing_if = "Option::is_none")]
            continuation_token: Option<String>,
        }
        let mut links = json!({"self": {"uri": format!("/v1/customers?size={size}"), "method": "GET", "headers": []}});
        let mut continuation_token = None;
        if more {
            let tok = encode_continuation(offset + size);
            links["next"] = json!({
                "uri": format!("/v1/customers?size={size}&seekOperation=Next"),
                "method": "GET",
                "headers": [{"key": "MS-ContinuationToken", "value": tok}],
            });
            continuation_token = Some(tok);
        }
        let body = Page {
            total_count: items.len(),
            items,
            links,
            attributes: Attributes {
                object_type: "Collection",
            },
            continuation_token,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (StatusCode::OK, bytes).into_response();
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static(PC_JSON),
        );
        resp
    })
}

/// `GET /v1/customers/{id}`.
pub(crate) async fn get_customer(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, _, _, _| {
        match find_customer(&core.world, &id) {
            Ok(t) => json_ok(StatusCode::OK, &render_customer(&core.world, t)),
            Err(e) => e,
        }
    })
}

/// Checks that the caller may manage consents in customer `t`: App+User token, AdminAgents, and
/// an Application Administrator / Cloud Application Administrator / Global Administrator role via
/// an active GDAP assignment.
fn consent_permission(w: &World, c: &Caller, t: usize) -> Result<(), Response> {
    let Some(user) = c.user.as_ref().and_then(|u| w.user_by_id(u)) else {
        return Err(pc_fault(
            StatusCode::FORBIDDEN,
            2032,
            "Access denied: application consents require an App+User token.",
        ));
    };
    if !user
        .groups
        .iter()
        .any(|g| g.eq_ignore_ascii_case(&w.partner.admin_agents))
    {
        return Err(pc_fault(
            StatusCode::FORBIDDEN,
            2032,
            "Access denied: the user is not a member of the AdminAgents group.",
        ));
    }
    let roles = w.user_roles(t, &user.id);
    let ok = [
        r::APPLICATION_ADMINISTRATOR,
        r::CLOUD_APPLICATION_ADMINISTRATOR,
        r::GLOBAL_ADMINISTRATOR,
    ]
    .iter()
    .any(|x| roles.contains(*x));
    if !ok {
        return Err(pc_fault(
            StatusCode::FORBIDDEN,
            2032,
            "Access denied: the user has no GDAP role that allows application consent (Application Administrator, Cloud Application Administrator or Global Administrator) in this customer.",
        ));
    }
    Ok(())
}

fn replay_key(method: &str, path: &str, ids: &PcIds) -> Option<(String, String)> {
    ids.client_sent_request_id.then(|| {
        (
            format!("{method} {}", path.to_ascii_lowercase()),
            ids.request_id.clone(),
        )
    })
}

fn stored_to_response(st: &StoredResponse) -> Response {
    let status = StatusCode::from_u16(st.status).unwrap_or(StatusCode::OK);
    let mut resp = match &st.body {
        Some(b) => json_ok(status, b),
        None => status.into_response(),
    };
    resp.extensions_mut().insert(Replayed);
    resp
}

fn store(core: &mut Core, key: Option<(String, String)>, resp: &Response, body: Option<Value>) {
    if let Some(k) = key {
        core.pc_replay.insert(
            k,
            StoredResponse {
                status: resp.status().as_u16(),
                body,
            },
        );
    }
}

/// An answer and the JSON body to store for replays.
type Answer = (Response, Option<Value>);

/// Answers a repeated `MS-RequestId` with the stored answer; otherwise runs `write` and stores
/// its answer (success or error) under `key`.
fn idempotent(
    core: &mut Core,
    key: Option<(String, String)>,
    write: impl FnOnce(&mut Core) -> Result<Answer, Answer>,
) -> Response {
    if let Some(st) = key.as_ref().and_then(|k| core.pc_replay.get(k)) {
        return stored_to_response(st);
    }
    let (resp, body) = write(core).unwrap_or_else(|e| e);
    store(core, key, &resp, body);
    resp
}

/// `POST /v1/customers/{id}/applicationconsents`.
pub(crate) async fn create_consent(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, now, caller, ids| {
        let key = replay_key(
            "POST",
            &format!("/v1/customers/{id}/applicationconsents"),
            ids,
        );
        idempotent(core, key, |core| {
            create_consent_inner(core, &s, now, caller, &id, &body)
                .map(|(resp, body)| (resp, Some(body)))
        })
    })
}

type Outcome = Result<(Response, Value), Answer>;

fn fault(status: StatusCode, code: i64, description: &str) -> Answer {
    let body = json!({"code": code, "description": description, "data": [], "source": "PartnerFD"});
    (json_ok(status, &body), Some(body))
}

fn create_consent_inner(
    core: &mut Core,
    s: &AppState,
    now: Ms,
    c: &Caller,
    id: &str,
    body: &[u8],
) -> Outcome {
    let w = &mut core.world;
    let Some(t) = w.tenant_idx(id).filter(|t| !w.tenants[*t].is_own) else {
        return Err(fault(
            StatusCode::NOT_FOUND,
            60003,
            &format!("Tenant not found: the customer '{id}' could not be found for this partner."),
        ));
    };
    consent_permission(w, c, t).map_err(|e| (e, None))?;
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err(fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: the body is not valid JSON.",
        ));
    };
    let app_id = get_ci(&v, "applicationId")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !is_guid(app_id) {
        return Err(fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: applicationId must be a GUID.",
        ));
    }
    if !w.apps[c.app].app_id.eq_ignore_ascii_case(app_id) {
        return Err(fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: the applicationId does not match the application of the access token.",
        ));
    }
    let Some(app) = w.app_idx(app_id) else {
        return Err(fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: unknown applicationId.",
        ));
    };
    let grants = get_ci(&v, "applicationGrants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if grants.is_empty() {
        return Err(fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: applicationGrants must not be empty.",
        ));
    }
    let mut resolved: Vec<(usize, String)> = Vec::new();
    let mut echo: Vec<Value> = Vec::new();
    let mut posted: Vec<(String, String)> = Vec::new();
    for g in &grants {
        let ent = get_ci(g, "enterpriseApplicationId")
            .and_then(Value::as_str)
            .unwrap_or("");
        let scope = get_ci(g, "scope").and_then(Value::as_str).unwrap_or("");
        if !is_guid(ent) {
            return Err(fault(
                StatusCode::BAD_REQUEST,
                800002,
                "Invalid request input: enterpriseApplicationId must be a GUID.",
            ));
        }
        let Some(res_app) = w
            .app_idx(ent)
            .filter(|a| w.tenants[t].sp_by_app(*a).is_some())
        else {
            return Err(fault(
                StatusCode::BAD_REQUEST,
                800002,
                &format!(
                    "Invalid request input: the enterprise application '{ent}' was not found in the customer tenant."
                ),
            ));
        };
        let names: Vec<&str> = scope
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .collect();
        if names.is_empty() {
            return Err(fault(
                StatusCode::BAD_REQUEST,
                800002,
                "Invalid request input: scope must not be empty.",
            ));
        }
        if let Some(bad) = names.iter().find(|n| !w.apps[res_app].has_scope(n)) {
            return Err(fault(
                StatusCode::BAD_REQUEST,
                800002,
                &format!(
                    "Invalid request input: the scope '{bad}' is not valid for enterprise application '{ent}'."
                ),
            ));
        }
        resolved.push((res_app, names.join(" ")));
        posted.push((ent.to_ascii_lowercase(), scope.to_string()));
        echo.push(json!({"enterpriseApplicationId": ent, "scope": scope}));
    }
    let has_record = w.tenants[t]
        .consents
        .iter()
        .any(|x| x.application_id.eq_ignore_ascii_case(app_id));
    let has_grant = w.tenants[t].sp_by_app(app).is_some_and(|sp| {
        resolved.iter().any(|(res_app, _)| {
            let res = w.tenants[t]
                .sp_by_app(*res_app)
                .map(|x| x.id.clone())
                .unwrap_or_default();
            w.tenants[t].grants.iter().any(|g| {
                g.client_id == sp.id && g.resource_id == res && g.consent_type == "AllPrincipals"
            })
        })
    });
    if has_record || has_grant {
        let status =
            StatusCode::from_u16(s.config.duplicate_consent_status).unwrap_or(StatusCode::CONFLICT);
        let (resp, body) = fault(status, 800002, PERMISSION_ENTRY_EXISTS);
        return Err((mark_duplicate(resp, "applicationConsent"), body));
    }
    let display_name = get_ci(&v, "displayName")
        .and_then(Value::as_str)
        .map(str::to_string);
    w.tenants[t].consents.push(Consent {
        application_id: app_id.to_ascii_lowercase(),
        display_name: display_name.clone(),
        grants: posted,
        created: now,
    });
    if s.config.consent_delay == 0 {
        w.materialize_consent(t, app, &resolved, now);
    } else {
        w.schedule(
            now + s.config.consent_delay,
            Event::ConsentMaterialize {
                tenant: t,
                app,
                grants: resolved,
            },
        );
    }
    let mut body = Map::new();
    body.insert("applicationId".into(), json!(app_id));
    body.insert("displayName".into(), json!(display_name));
    body.insert("applicationGrants".into(), Value::Array(echo));
    let body = Value::Object(body);
    Ok((json_ok(StatusCode::CREATED, &body), body))
}

fn render_consent(c: &Consent) -> Value {
    json!({
        "applicationId": c.application_id,
        "displayName": c.display_name,
        "applicationGrants": c.grants.iter().map(|(e, s)| json!({"enterpriseApplicationId": e, "scope": s})).collect::<Vec<_>>(),
    })
}

/// `GET /v1/customers/{id}/applicationconsents` (sandbox inspection route; not in the public API).
pub(crate) async fn list_consents(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, _, _, _| {
        match find_customer(&core.world, &id) {
            Ok(t) => {
                let items: Vec<Value> = core.world.tenants[t]
                    .consents
                    .iter()
                    .map(render_consent)
                    .collect();
                json_ok(
                    StatusCode::OK,
                    &json!({"totalCount": items.len(), "items": items, "attributes": {"objectType": "Collection"}}),
                )
            }
            Err(e) => e,
        }
    })
}

/// `GET /v1/customers/{id}/applicationconsents/{appId}` (sandbox inspection route).
pub(crate) async fn get_consent(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, app_id)): Path<(String, String)>,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, _, _, _| {
        match find_customer(&core.world, &id) {
            Ok(t) => match core.world.tenants[t]
                .consents
                .iter()
                .find(|c| c.application_id.eq_ignore_ascii_case(&app_id))
            {
                Some(c) => json_ok(StatusCode::OK, &render_consent(c)),
                None => pc_fault(
                    StatusCode::NOT_FOUND,
                    1000,
                    "Not found: no application consent for this application.",
                ),
            },
            Err(e) => e,
        }
    })
}

/// `DELETE /v1/customers/{id}/applicationconsents/{appId}`: removes the consent record and the
/// app's AllPrincipals grants; keeps the service principal (partner-center.md §3.2).
pub(crate) async fn delete_consent(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, app_id)): Path<(String, String)>,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, _, caller, ids| {
        let key = replay_key(
            "DELETE",
            &format!("/v1/customers/{id}/applicationconsents/{app_id}"),
            ids,
        );
        idempotent(core, key, |core| {
            let w = &mut core.world;
            let t = find_customer(w, &id).map_err(|e| (e, None))?;
            consent_permission(w, caller, t).map_err(|e| (e, None))?;
            let before = w.tenants[t].consents.len();
            w.tenants[t]
                .consents
                .retain(|c| !c.application_id.eq_ignore_ascii_case(&app_id));
            if w.tenants[t].consents.len() == before {
                return Err(fault(
                    StatusCode::NOT_FOUND,
                    1000,
                    "Not found: no application consent exists for this application.",
                ));
            }
            if let Some(app) = w.app_idx(&app_id)
                && let Some(sp) = w.tenants[t].sp_by_app(app).map(|x| x.id.clone())
            {
                w.tenants[t]
                    .grants
                    .retain(|g| !(g.client_id == sp && g.consent_type == "AllPrincipals"));
            }
            Ok((StatusCode::NO_CONTENT.into_response(), None))
        })
    })
}

// ------------------------------------------------------------------ webhooks

fn render_webhook(w: &World, h: &Webhook) -> Value {
    json!({
        "subscriberId": h.subscriber_id,
        "webhookUrl": h.url,
        "webhookEvents": h.events,
        "lastModifiedTimestamp": w.fmt_time(h.last_modified),
    })
}

fn parse_webhook(body: &[u8]) -> Result<(String, Vec<String>), Response> {
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        pc_fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: the body is not valid JSON.",
        )
    })?;
    let url = get_ci(&v, "webhookUrl")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ok_url = url::Url::parse(url).is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http");
    if !ok_url {
        return Err(pc_fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: WebhookUrl must be an absolute http(s) URL.",
        ));
    }
    let events: Vec<String> = get_ci(&v, "webhookEvents")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if events.is_empty() {
        return Err(pc_fault(
            StatusCode::BAD_REQUEST,
            800002,
            "Invalid request input: WebhookEvents must not be empty.",
        ));
    }
    if let Some(bad) = events
        .iter()
        .find(|e| !WEBHOOK_EVENTS.contains(&e.as_str()))
    {
        return Err(pc_fault(
            StatusCode::BAD_REQUEST,
            800002,
            &format!("Invalid request input: '{bad}' is not a supported webhook event."),
        ));
    }
    Ok((url.to_string(), events))
}

/// `GET /webhooks/v1/registration/events`.
pub(crate) async fn webhook_events(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
) -> Response {
    pc_handler(&s, &ctx, &headers, |_, _, _, _| {
        json_ok(StatusCode::OK, &json!(WEBHOOK_EVENTS))
    })
}

/// `GET|POST|PUT|DELETE /webhooks/v1/registration` (one registration per partner).
pub(crate) async fn webhook_registration(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, now, _, _| {
        let missing = || {
            pc_fault(
                StatusCode::NOT_FOUND,
                1000,
                "Not found: no webhook registration exists for this partner.",
            )
        };
        (|| -> Result<Response, Response> {
        let w = &mut core.world;
        match method.as_str() {
            "GET" => {
                let h = w.webhook.as_ref().ok_or_else(missing)?;
                Ok(json_ok(StatusCode::OK, &render_webhook(w, h)))
            }
            "POST" => {
                if w.webhook.is_some() {
                    return Err(pc_fault(StatusCode::CONFLICT, 800002, "A webhook registration already exists for this partner; use PUT to update it."));
                }
                let (url, events) = parse_webhook(&body)?;
                let id = w.new_uuid();
                let h = Webhook { subscriber_id: id, url, events, last_modified: now };
                let v = render_webhook(w, &h);
                w.webhook = Some(h);
                Ok(json_ok(StatusCode::OK, &v))
            }
            "PUT" => {
                let (url, events) = parse_webhook(&body)?;
                let h = w.webhook.as_mut().ok_or_else(missing)?;
                h.url = url;
                h.events = events;
                h.last_modified = now;
                let h = h.clone();
                Ok(json_ok(StatusCode::OK, &render_webhook(w, &h)))
            }
            "DELETE" => {
                w.webhook.take().ok_or_else(missing)?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            _ => Err(pc_fault(StatusCode::METHOD_NOT_ALLOWED, 405, "Method not allowed.")),
        }
    })()
    .unwrap_or_else(|e| e)
    })
}

/// `POST /webhooks/v1/registration/validationEvents`: queues a `test-created` event for the
/// registered callback and answers `{"correlationId"}` at once (the delivery runs on the webhook
/// worker). Needs a registration that lists `test-created` (else 404 / 400); at most
/// [`VALIDATIONS_PER_MINUTE`](crate::webhooks::VALIDATIONS_PER_MINUTE) calls per sliding minute
/// of sandbox time (else 429 with `Retry-After`).
pub(crate) async fn create_validation_event(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
) -> Response {
    pc_handler(&s, &ctx, &headers, |core, now, _, _| {
        let w = &mut core.world;
        let Some(h) = w.webhook.clone() else {
            return pc_fault(
                StatusCode::NOT_FOUND,
                1000,
                "Not found: no webhook registration exists for this partner.",
            );
        };
        let test = crate::world::webhook_events::TEST_CREATED;
        if !h.events.iter().any(|e| e.eq_ignore_ascii_case(test)) {
            return pc_fault(
                StatusCode::BAD_REQUEST,
                800002,
                "Invalid request input: the webhook registration must include 'test-created' to send validation events.",
            );
        }
        let mut validations = s.webhooks.validations();
        if let Err(secs) = validations.admit(now) {
            let body = json!({
                "statusCode": 429,
                "message": format!("Rate limit is exceeded. Try again in {secs} seconds."),
            });
            return with_header(
                json_ok(StatusCode::TOO_MANY_REQUESTS, &body),
                "retry-after",
                &secs.to_string(),
            );
        }
        let correlation_id = w.new_uuid();
        let partner_id = w.tenants[w.partner.tenant].id.clone();
        w.emit_webhook(
            test,
            crate::world::WebhookResource::Test,
            now,
            Some(correlation_id.clone()),
        );
        validations.records.insert(
            correlation_id.clone(),
            crate::webhooks::Validation {
                correlation_id: correlation_id.clone(),
                partner_id,
                status: "inProgress",
                callback_url: h.url,
                results: Vec::new(),
            },
        );
        json_ok(StatusCode::OK, &json!({"correlationId": correlation_id}))
    })
}

/// `GET /webhooks/v1/registration/validationEvents/{correlationId}`: the validation's status
/// (`inProgress`, then `completed`) and one result per delivery attempt.
pub(crate) async fn get_validation_event(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    pc_handler(&s, &ctx, &headers, |_, _, _, _| {
        let validations = s.webhooks.validations();
        let found = validations
            .records
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&id))
            .map(|(_, v)| v);
        match found.map(serde_json::to_value) {
            Some(Ok(v)) => json_ok(StatusCode::OK, &v),
            _ => pc_fault(
                StatusCode::NOT_FOUND,
                1000,
                "Not found: no validation event with this correlation id.",
            ),
        }
    })
}

/// `GET /webhooks/sandbox-certificate`: the URL sent in `X-MS-Certificate-Url`. There is no
/// certificate: the answer is a plain-text note saying how sandbox events are signed.
pub(crate) async fn webhook_certificate() -> Response {
    let mut resp = (StatusCode::OK, crate::webhooks::CERTIFICATE_PLACEHOLDER).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
