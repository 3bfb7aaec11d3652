//! The relationship lifecycle routes (`/api/lifecycle/*`): GDAP security groups and their
//! assignments, bulk auto-extend, Global Administrator removal, drift repair, the approval
//! webhook registration and the access trace — `gdap-onboard`'s lifecycle workflows over the
//! connection, answered with their reports.
//!
//! Every write route takes `"dryRun": true`: the same reads, nothing written, the plan in the
//! same report shape. Bodies are strict: unknown fields, bad ids, a bad template or URL are 400
//! before anything is read or written. Workflow failures are rendered from the catalogue
//! ([`ApiError::from_onboard`]). Who may call which route is in [`crate::ROUTES`].
//!
//! `wait_for_approval_and_assign` is not exposed: it waits up to an hour for a customer, which
//! is not an HTTP call, and the jobs module runs tenant batches only. Instead the webhook
//! registered here (with the URL of `GET /api/lifecycle/webhook/callback`) makes the server
//! assign the groups itself when a relationship is approved ([`crate::webhooks`]); without it,
//! poll `GET /api/tenants` and call `POST /api/lifecycle/groups` with the approved relationship.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use gdap_core::RelationshipId;
use gdap_onboard::workflows::lifecycle::{
    BulkOptions, GroupAssignmentReport, GroupSetupReport, GroupTemplate,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{ApiResult, connected, ok, parse_body, tenant_id};
use crate::app::AppState;
use crate::cloud::Connected;
use crate::error::{ApiError, ErrorBody};
use crate::jobs::explain_ctx;

/// At most this many relationship ids per request.
const MAX_RELATIONSHIPS: usize = 1000;
/// The largest `concurrency` accepted.
const MAX_CONCURRENCY: usize = 32;
/// The longest service account (UPN or object id) accepted.
const MAX_USER_LEN: usize = 256;
/// The longest webhook callback Partner Center accepts.
const MAX_WEBHOOK_URL_LEN: usize = 2048;
/// Input echoed back in an error message is cut to this many characters.
const ECHO: usize = 64;

fn echo(s: &str) -> String {
    let cut: String = s.chars().take(ECHO).collect();
    if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

fn bad(key: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(key, message)
}

/// The template named by `raw`: absent → app-install; `"app-install"` / `"least-privilege"`; or
/// an object `{"groups": [{"displayName", "description", "roles": [...]}]}`, validated.
fn template_of(state: &AppState, raw: Option<Value>) -> Result<GroupTemplate, ApiError> {
    let value = match raw {
        None | Some(Value::Null) => return Ok(GroupTemplate::app_install()),
        Some(Value::String(name)) => {
            let key = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
            return match key.as_str() {
                "app-install" | "appinstall" => Ok(GroupTemplate::app_install()),
                "least-privilege" | "leastprivilege" => Ok(GroupTemplate::least_privilege()),
                _ => Err(bad(
                    "unknownTemplate",
                    format!(
                        "no group template {:?}: use \"app-install\", \"least-privilege\", or an \
                         object {{\"groups\": [{{\"displayName\", \"description\", \"roles\": \
                         [...]}}]}}",
                        echo(&name)
                    ),
                )),
            };
        }
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(bad(
                "invalidTemplate",
                "template must be \"app-install\", \"least-privilege\" or an object \
                 {\"groups\": [...]}",
            ));
        }
    };
    check_template_fields(&value)?;
    let template: GroupTemplate = serde_json::from_value(value)
        .map_err(|e| bad("invalidTemplate", format!("template: {e}")))?;
    template
        .validate()
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(state, None)))?;
    Ok(template)
}

/// Unknown fields in a template object are refused (a misspelt `description` would otherwise
/// be dropped without a word).
fn check_template_fields(v: &Value) -> Result<(), ApiError> {
    let unknown = |at: String, field: &str, expected: &str| {
        bad(
            "invalidTemplate",
            format!("{at}: unknown field `{}`, expected {expected}", echo(field)),
        )
    };
    let Some(obj) = v.as_object() else {
        return Ok(());
    };
    if let Some(k) = obj.keys().find(|k| *k != "groups") {
        return Err(unknown("template".into(), k, "`groups`"));
    }
    let Some(groups) = obj.get("groups").and_then(Value::as_array) else {
        return Ok(()); // serde says what is wrong
    };
    for (i, g) in groups.iter().enumerate() {
        if let Some(k) = g.as_object().and_then(|g| {
            g.keys()
                .find(|k| !matches!(k.as_str(), "displayName" | "description" | "roles"))
        }) {
            return Err(unknown(
                format!("template.groups[{i}]"),
                k,
                "`displayName`, `description` or `roles`",
            ));
        }
    }
    Ok(())
}

/// Parses `relationshipIds` (deduplicated, in order). An empty list is refused: `hint` says what
/// leaving it out does.
fn relationship_ids(
    raw: Option<Vec<String>>,
    hint: &str,
) -> Result<Option<Vec<RelationshipId>>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if raw.is_empty() {
        return Err(bad(
            "invalidRelationshipId",
            format!("relationshipIds is empty: {hint}"),
        ));
    }
    if raw.len() > MAX_RELATIONSHIPS {
        return Err(bad(
            "invalidRelationshipId",
            format!("at most {MAX_RELATIONSHIPS} relationshipIds per request"),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let id = RelationshipId::try_from(r.trim()).map_err(|e| {
            bad(
                "invalidRelationshipId",
                format!(
                    "relationshipIds[{i}]: {e}; a GDAP relationship id is two GUIDs joined by \
                     '-' (GET /api/tenants lists them under each tenant's relationships)"
                ),
            )
        })?;
        if seen.insert(id.as_str().to_ascii_lowercase()) {
            out.push(id);
        }
    }
    Ok(Some(out))
}

/// The options of a bulk change over `c`: the connection's poll pace, the library's deadlines.
fn bulk(
    c: &Connected,
    dry_run: bool,
    only: Option<Vec<RelationshipId>>,
    concurrency: Option<usize>,
) -> Result<BulkOptions, ApiError> {
    let mut o = BulkOptions::default().dry_run(dry_run);
    if let Some(n) = concurrency {
        if !(1..=MAX_CONCURRENCY).contains(&n) {
            return Err(bad(
                "invalidBody",
                format!("concurrency must be 1..={MAX_CONCURRENCY} (got {n}); leave it out for 8"),
            ));
        }
        o = o.with_concurrency(n);
    }
    if let Some(ids) = only {
        o = o.only(ids);
    }
    if let Some(p) = c.poll_interval {
        o = o.with_poll(p, p * 10);
    }
    Ok(o)
}

// ------------------------------------------------------------------ groups

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct GroupsBody {
    /// UPN or object id; default: the connected partner user.
    service_account: Option<String>,
    template: Option<Value>,
    relationship_ids: Option<Vec<String>>,
    #[serde(default)]
    dry_run: bool,
}

/// One relationship's group assignments, or why they could not be made.
#[derive(Serialize)]
#[serde(untagged)]
enum AssignmentOutcome {
    Report(GroupAssignmentReport),
    #[serde(rename_all = "camelCase")]
    Failed {
        relationship_id: RelationshipId,
        error: Box<ErrorBody>,
    },
}

/// The [`GroupSetupReport`] with the assignments made on the relationships asked for.
#[derive(Serialize)]
struct GroupsResponse {
    #[serde(flatten)]
    setup: GroupSetupReport,
    assignments: Vec<AssignmentOutcome>,
}

/// `POST /api/lifecycle/groups`: creates (or reuses) the template's security groups with the
/// service account in each, then assigns them on `relationshipIds`.
pub(crate) async fn groups(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: GroupsBody = parse_body(&headers, body)?.unwrap_or_default();
    let template = template_of(&state, body.template)?;
    let only = relationship_ids(
        body.relationship_ids,
        "leave it out to set up the groups without assigning them",
    )?;
    let c = connected(&state)?;
    let account = match body.service_account.as_deref().map(str::trim) {
        Some("") => {
            return Err(bad(
                "invalidBody",
                "serviceAccount is empty: send a UPN or object id, or leave it out for the \
                 signed-in partner user",
            ));
        }
        Some(a) if a.chars().count() > MAX_USER_LEN => {
            return Err(bad(
                "invalidBody",
                format!("serviceAccount is longer than {MAX_USER_LEN} characters"),
            ));
        }
        Some(a) => a.to_owned(),
        None => c.account.user_email.clone().ok_or_else(|| {
            bad(
                "invalidBody",
                "the connection does not say which partner user signed in: send \
                 {\"serviceAccount\": \"<UPN or object id>\"}",
            )
        })?,
    };
    let ctx = explain_ctx(&state, None);
    let o = &c.orchestrator;
    let setup = o
        .ensure_gdap_groups(&template, &account, body.dry_run)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &ctx))?;
    let mut assignments = Vec::new();
    for id in only.unwrap_or_default() {
        match o.assign_groups(&id, &template, body.dry_run).await {
            Ok(mut report) => {
                report.assume_planned_groups(&setup);
                assignments.push(AssignmentOutcome::Report(report));
            }
            Err(e) => assignments.push(AssignmentOutcome::Failed {
                relationship_id: id,
                error: ApiError::from_onboard(&e, &ctx).body,
            }),
        }
    }
    tracing::info!(
        dry_run = body.dry_run,
        groups = setup.groups.len(),
        relationships = assignments.len(),
        "lifecycle groups"
    );
    ok(GroupsResponse { setup, assignments })
}

// ------------------------------------------------------------------ bulk changes

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AutoExtendBody {
    #[serde(default)]
    dry_run: bool,
    relationship_ids: Option<Vec<String>>,
    concurrency: Option<usize>,
}

const ALL_ACTIVE: &str = "leave it out for every active relationship";

/// `POST /api/lifecycle/auto-extend`: `P180D` auto-extend on every active relationship that
/// allows it (or on `relationshipIds`).
pub(crate) async fn auto_extend(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: AutoExtendBody = parse_body(&headers, body)?.unwrap_or_default();
    let only = relationship_ids(body.relationship_ids, ALL_ACTIVE)?;
    let c = connected(&state)?;
    let options = bulk(&c, body.dry_run, only, body.concurrency)?;
    let report = c
        .orchestrator
        .auto_extend_relationships(&options)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    tracing::info!(dry_run = body.dry_run, counts = ?report.counts, "lifecycle auto-extend");
    ok(report)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RemoveGaBody {
    #[serde(default)]
    dry_run: bool,
    relationship_ids: Option<Vec<String>>,
    /// Required (`true`) for a real run.
    #[serde(default)]
    confirm: bool,
}

/// `POST /api/lifecycle/remove-ga`: removes Global Administrator from the active relationships
/// that have it (or from `relationshipIds`). A real run needs `"confirm": true`.
pub(crate) async fn remove_ga(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: RemoveGaBody = parse_body(&headers, body)?.unwrap_or_default();
    let only = relationship_ids(body.relationship_ids, ALL_ACTIVE)?;
    if !body.dry_run && !body.confirm {
        return Err(ApiError::bad_request(
            "confirmRequired",
            "Removing Global Administrator changes the roles of every relationship it lists, \
             and the customer must approve a new request to get it back: review the dry run \
             first, then send the same body with \"confirm\": true.",
        )
        .with_steps([
            "POST /api/lifecycle/remove-ga with {\"dryRun\": true} (and the same relationshipIds) and review the relationships it would change.",
            "POST /api/lifecycle/remove-ga with {\"confirm\": true} (and the same relationshipIds).",
        ]));
    }
    let c = connected(&state)?;
    let options = bulk(&c, body.dry_run, only, None)?;
    let report = c
        .orchestrator
        .remove_global_admin(&options)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    tracing::info!(dry_run = body.dry_run, counts = ?report.counts, "lifecycle remove-ga");
    ok(report)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RepairBody {
    #[serde(default)]
    dry_run: bool,
    template: Option<Value>,
    relationship_ids: Option<Vec<String>>,
}

/// `POST /api/lifecycle/repair`: compares each active relationship's assignments with the
/// template (default app-install) and fixes what differs.
pub(crate) async fn repair(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: RepairBody = parse_body(&headers, body)?.unwrap_or_default();
    let template = template_of(&state, body.template)?;
    let only = relationship_ids(body.relationship_ids, ALL_ACTIVE)?;
    let c = connected(&state)?;
    let options = bulk(&c, body.dry_run, only, None)?;
    let report = c
        .orchestrator
        .repair_drift(&template, &options)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    tracing::info!(dry_run = body.dry_run, counts = ?report.counts, "lifecycle repair");
    ok(report)
}

// ------------------------------------------------------------------ webhook

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct WebhookBody {
    url: String,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    dry_run: bool,
}

/// Checks the callback as Partner Center will (https; http only on a loopback host; at most
/// 2048 characters). Messages never repeat the URL: its query may carry a secret.
fn check_webhook_url(raw: &str) -> Result<(), ApiError> {
    let invalid = |why: String| bad("invalidWebhookUrl", format!("url {why}"));
    if raw.len() > MAX_WEBHOOK_URL_LEN {
        return Err(invalid(format!(
            "is {} characters long; Partner Center accepts at most {MAX_WEBHOOK_URL_LEN}",
            raw.len()
        )));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| invalid(format!("is not an absolute URL ({e}): send https://…")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid("has no host: send https://…".into())),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(
            "must use https (http only for a loopback host, for tests)".into(),
        )),
    }
}

/// `POST /api/lifecycle/webhook`: registers `url` for Partner Center's GDAP approval events;
/// another tool's registration is kept (409) unless `force`.
pub(crate) async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: WebhookBody = parse_body(&headers, body)?.ok_or_else(|| {
        bad(
            "invalidBody",
            "send {\"url\": \"https://…\"} (and \"force\": true to replace another tool's \
             registration)",
        )
    })?;
    let url = body.url.trim();
    check_webhook_url(url)?;
    let c = connected(&state)?;
    let outcome = c
        .orchestrator
        .register_approval_webhook(url, body.force, body.dry_run)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, None)))?;
    tracing::info!(dry_run = body.dry_run, action = ?outcome.action, "lifecycle webhook");
    ok(outcome)
}

// ------------------------------------------------------------------ trace

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TraceQuery {
    user: Option<String>,
    tenant: Option<String>,
}

const TRACE_USAGE: &str = "send ?user=<partner user UPN or object id>&tenant=<customer tenant id>";

/// `GET /api/lifecycle/trace?user=&tenant=`: the user's path (groups → relationships → roles) into
/// the tenant, and why access is missing.
pub(crate) async fn trace(
    State(state): State<AppState>,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> ApiResult {
    let Query(q) = query.map_err(|r| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalidQuery",
            "Bad request",
            format!("{}: {TRACE_USAGE}", r.body_text()),
        )
    })?;
    let user = q
        .user
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| bad("invalidQuery", format!("user is missing: {TRACE_USAGE}")))?;
    if user.chars().count() > MAX_USER_LEN {
        return Err(bad(
            "invalidQuery",
            format!("user is longer than {MAX_USER_LEN} characters"),
        ));
    }
    let tenant = q
        .tenant
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("invalidQuery", format!("tenant is missing: {TRACE_USAGE}")))?;
    let tenant = tenant_id(tenant)?;
    let c = connected(&state)?;
    let trace = c
        .orchestrator
        .trace_access(user, tenant)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, Some(tenant))))?;
    ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_checked_without_echo() {
        assert!(check_webhook_url("https://msp.example/hooks/pc").is_ok());
        assert!(check_webhook_url("http://127.0.0.1:9/h").is_ok());
        assert!(check_webhook_url("http://localhost/h").is_ok());
        let e = check_webhook_url("http://msp.example/h?secret=s3cr3t").unwrap_err();
        assert!(e.body.message.contains("https"), "{}", e.body.message);
        assert!(!e.body.message.contains("s3cr3t"));
        assert!(check_webhook_url("not a url").is_err());
        let long = format!("https://msp.example/{}", "a".repeat(MAX_WEBHOOK_URL_LEN));
        assert!(check_webhook_url(&long).is_err());
    }

    #[test]
    fn relationship_ids_are_validated_and_deduplicated() {
        let ok = relationship_ids(Some(vec!["ab-cd".into(), " AB-CD ".into()]), "h").unwrap();
        assert_eq!(ok.unwrap().len(), 1);
        let e = relationship_ids(Some(vec!["ab-1".into(), "x/y".into()]), "h").unwrap_err();
        assert!(
            e.body.message.starts_with("relationshipIds[1]"),
            "{}",
            e.body.message
        );
        let e = relationship_ids(Some(vec![]), "omit it").unwrap_err();
        assert!(e.body.message.contains("omit it"));
        assert!(relationship_ids(None, "h").unwrap().is_none());
    }

    #[test]
    fn template_fields_are_strict() {
        let good =
            serde_json::json!({"groups": [{"displayName": "G", "roles": ["Global Reader"]}]});
        assert!(check_template_fields(&good).is_ok());
        let typo = serde_json::json!({"groups": [{"displayName": "G", "desc": "x", "roles": []}]});
        let e = check_template_fields(&typo).unwrap_err();
        assert!(e.body.message.contains("template.groups[0]") && e.body.message.contains("`desc`"));
        let top = serde_json::json!({"groups": [], "name": "x"});
        assert!(check_template_fields(&top).is_err());
    }
}
