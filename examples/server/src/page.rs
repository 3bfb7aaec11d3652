//! The HTML: the login form and the managed-tenants page (server-rendered with maud, a little
//! inline JavaScript, no build step).

use axum::Form;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gdap_onboard::tenant::TenantAction;
use gdap_onboard::{EmailPerms, ManagedTenant, Readiness, TenantStatus};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::api::load_table;
use crate::app::AppState;
use crate::auth::{self, LOGIN_CSRF_COOKIE, Permission, Principal, SESSION_COOKIE};
use crate::error::ApiError;

const SESSION_SECS: i64 = 12 * 3600;

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
header{display:flex;justify-content:space-between;align-items:center;padding:12px 24px;background:#1d2430;color:#fff}
header a,header button{color:#fff}
main{padding:16px 24px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002}
th,td{padding:8px 10px;border-bottom:1px solid #e5e7eb;text-align:left;font-size:14px;vertical-align:top}
th{background:#eef1f5;font-weight:600}
.tid{color:#6b7280;font-size:12px;font-family:ui-monospace,monospace}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:600;margin-left:6px}
.legacy{background:#fde68a;color:#78350f}.partner{background:#c7d2fe;color:#312e81}
.ready{color:#047857;font-weight:600}.missing{color:#b91c1c;font-weight:600}
.st-monitoring{color:#047857}.st-paused{color:#92400e}.st-prev{color:#6b21a8}.st-not{color:#6b7280}
button,.btn{font-size:13px;padding:4px 10px;border:1px solid #9ca3af;border-radius:5px;background:#fff;cursor:pointer;text-decoration:none;color:#1d2430}
button.primary{background:#2563eb;border-color:#2563eb;color:#fff}
.toolbar{display:flex;gap:8px;align-items:center;margin-bottom:12px}
details.menu{position:relative}details.menu summary{list-style:none;cursor:pointer;border:1px solid #9ca3af;border-radius:5px;padding:3px 10px;background:#fff}
details.menu div{position:absolute;right:0;background:#fff;border:1px solid #d1d5db;box-shadow:0 4px 12px #0003;padding:6px;display:flex;flex-direction:column;gap:4px;min-width:300px;z-index:5}
#progress{font-size:13px;color:#374151}.job-done{color:#047857}.job-failed{color:#b91c1c}
.msg{padding:8px 12px;background:#fff7ed;border:1px solid #fdba74;margin-bottom:12px}
"#;

const SCRIPT: &str = r#"
const csrf = document.querySelector('meta[name=csrf]').content;
async function api(method, url, body) {
  const r = await fetch(url, {method, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: body ? JSON.stringify(body) : undefined});
  const j = await r.json().catch(() => ({}));
  if (!r.ok) { const e = j.error || {}; throw new Error((e.message || r.statusText) + (e.steps && e.steps.length ? '\n- ' + e.steps.join('\n- ') : '') + (e.adminConsentUrl ? '\nAdmin consent: ' + e.adminConsentUrl : '')); }
  return j;
}
function selected() { return [...document.querySelectorAll('input.pick:checked')].map(c => c.value); }
function setCell(id, text, cls) { const c = document.querySelector(`tr[data-tenant="${id}"] .job`); if (c) { c.textContent = text; c.className = 'job ' + (cls || ''); } }
async function batch(kind) {
  const ids = selected();
  if (!ids.length) { alert('Select tenants with the checkboxes first.'); return; }
  try {
    const {jobId} = await api('POST', '/api/' + kind, {tenantIds: ids});
    document.getElementById('progress').textContent = `Job ${jobId}: started for ${ids.length} tenant(s)`;
    poll(jobId);
  } catch (e) { alert(e.message); }
}
async function poll(jobId) {
  const j = await api('GET', '/api/jobs/' + jobId);
  for (const it of j.items) setCell(it.tenantId, it.status === 'failed' ? 'failed: ' + (it.detail || '') : it.status, 'job-' + it.status);
  const c = j.counts;
  document.getElementById('progress').textContent = `Job ${jobId}: ${c.done} done, ${c.failed} failed, ${c.running} running, ${c.pending} pending of ${c.total}`;
  if (j.job.status === 'running') { setTimeout(() => poll(jobId), 400); } else { document.getElementById('progress').dataset.done = jobId; setTimeout(() => location.reload(), 300); }
}
async function one(id, path, label) {
  setCell(id, label + '…');
  try { const r = await api('POST', `/api/tenants/${id}/${path}`); if (r.approvalLink || (r.requested && r.requested.approvalLink)) { alert('Send this approval link to the customer admin:\n' + (r.approvalLink || r.requested.approvalLink)); } location.reload(); }
  catch (e) { setCell(id, 'failed', 'job-failed'); alert(e.message); }
}
async function syncNow() { try { await api('POST', '/api/sync'); location.reload(); } catch (e) { alert(e.message); } }
document.getElementById('all').addEventListener('change', e => document.querySelectorAll('input.pick').forEach(c => c.checked = e.target.checked));
"#;

fn layout(title: &str, csrf: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="csrf" content=(csrf);
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

/// `GET /login`.
pub(crate) async fn login_form() -> Response {
    let token = auth::new_secret();
    let page = layout(
        "Sign in — gdap",
        "",
        html! {
            header { strong { "gdap — managed tenants" } }
            main {
                h2 { "Sign in" }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(token);
                    p { label { "Email " input type="email" name="email" required; } }
                    p { label { "API token " input type="password" name="token" required autocomplete="off"; } }
                    p { button.primary type="submit" { "Sign in" } }
                }
                p.tid { "Tokens are created with " code { "gdap-server user add --email you@msp.example --role admin" } "." }
            }
        },
    );
    (
        [(
            header::SET_COOKIE,
            format!(
                "{LOGIN_CSRF_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=1800"
            ),
        )],
        page,
    )
        .into_response()
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    token: String,
    csrf: String,
}

/// `POST /login`: email + API token → session cookie (HttpOnly, SameSite=Strict).
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let cookie = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie.is_empty() || !auth::ct_eq(&cookie, &f.csrf) {
        return Err(ApiError::forbidden_key(
            "csrf",
            "the login form is missing a valid CSRF token; reload /login",
        ));
    }
    let user = state
        .db
        .user_by_token_hash(auth::hash_secret(f.token.trim()))
        .await
        .map_err(ApiError::internal)?
        .filter(|u| u.email.eq_ignore_ascii_case(f.email.trim()));
    let Some(user) = user else {
        tracing::info!("failed sign-in");
        return Err(ApiError::unauthorized(
            "the email or API token is not valid",
        ));
    };
    let secret = auth::new_secret();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::seconds(SESSION_SECS);
    state
        .db
        .create_session(auth::hash_secret(&secret), user.id.clone(), expires)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(user = %user.email, role = %user.role, "signed in");
    let target = if user.role.can(Permission::TenantsRead) {
        "/"
    } else {
        "/api/me"
    };
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                auth::session_cookie(&secret, SESSION_SECS, state.secure_cookies),
            ),
            (header::LOCATION, target.to_owned()),
        ],
    )
        .into_response())
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(s) = auth::cookie(&headers, SESSION_COOKIE) {
        state
            .db
            .delete_session(auth::hash_secret(&s))
            .await
            .map_err(ApiError::internal)?;
    }
    Ok((
        [(header::SET_COOKIE, auth::clear_cookie(SESSION_COOKIE, "/"))],
        Redirect::to("/login"),
    )
        .into_response())
}

fn readiness_cell(r: &Readiness) -> Markup {
    match r {
        Readiness::NotRequired => html! { span.ready { "Not required" } },
        r if r.is_ready() => html! { span.ready { "Ready" } },
        r => {
            let missing: Vec<String> = r.missing().iter().map(|m| m.label()).collect();
            html! { span.missing title=(missing.join("; ")) { "Missing" } div.tid { (missing.join("; ")) } }
        }
    }
}

fn status_cell(s: TenantStatus) -> Markup {
    let class = match s {
        TenantStatus::Monitoring => "st-monitoring",
        TenantStatus::Paused => "st-paused",
        TenantStatus::PreviouslyDeleted => "st-prev",
        _ => "st-not",
    };
    html! { span class=(class) { (s.label()) } }
}

fn email_cell(t: &ManagedTenant) -> Markup {
    let id = t.tenant_id.to_string();
    match t.email_perms {
        EmailPerms::Ok => {
            html! { span.ready { "OK" } " " button onclick=(format!("one('{id}','refresh-email-perms','Refreshing')")) { "Refresh" } }
        }
        EmailPerms::NeedsRefresh => {
            html! { span.missing { "Needs refresh" } " " button.primary onclick=(format!("one('{id}','refresh-email-perms','Refreshing')")) { "Refresh" } }
        }
        EmailPerms::NotApplicable => html! { span.tid { "—" } },
        _ => {
            html! { span.tid { "Unknown" } " " button onclick=(format!("one('{id}','refresh-email-perms','Refreshing')")) { "Refresh" } }
        }
    }
}

fn actions_cell(t: &ManagedTenant) -> Markup {
    let id = t.tenant_id.to_string();
    html! {
        @for a in &t.actions {
            @match a {
                TenantAction::Onboard => button.primary onclick=(format!("one('{id}','onboard','Onboarding')")) { "Onboard" },
                TenantAction::View => a.btn href=(format!("/api/tenants?sync=false#{id}")) { "View" },
                TenantAction::MigrateToPartnerCenter => button onclick=(format!("one('{id}','migrate','Migrating')")) { "Migrate to Partner Center" },
                TenantAction::RequestPermissions => button onclick=(format!("one('{id}','request-permissions','Requesting')")) { "Request" },
                TenantAction::ReRequestPermissions => button onclick=(format!("api('POST','/api/tenants/{id}/request-permissions',{{reRequest:true}}).then(r=>alert('Approval link:\\n'+JSON.stringify(r.requested||r))).catch(e=>alert(e.message))")) { "Re-request Permissions" },
                TenantAction::RefreshEmailPermissions => {},
                _ => {},
            }
            " "
        }
    }
}

/// `GET /`: the managed-tenants table (synced on open when stale).
pub(crate) async fn tenants_page(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, ApiError> {
    let connected = state.connection();
    let (rows, warnings) = load_table(&state, false).await?;
    let csrf = p.csrf().to_owned();
    let body = html! {
        header {
            strong { "gdap — Managed tenants" }
            span {
                (p.email) " (" (p.role) ") "
                form method="post" action="/logout" style="display:inline" {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" style="background:none;border:none;text-decoration:underline" { "Sign out" }
                }
            }
        }
        main {
            @for w in &warnings { div.msg { (w) } }
            @match &connected {
                None => div.msg { "Partner Center is not connected. " a.btn href="/connect" { "Connect Microsoft Partner Center" } },
                Some(c) => p.tid { "Connected as " (c.account.user_email.clone().unwrap_or_default()) " · " (rows.len()) " tenants · billable " (rows.iter().filter(|r| r.is_billable()).count()) },
            }
            div.toolbar {
                button.primary id="onboard-selected" onclick="batch('onboard')" { "Onboard" }
                button id="migrate-selected" onclick="batch('migrate')" { "Migrate to Partner Center" }
                span id="progress" {}
                span style="flex:1" {}
                details.menu {
                    summary { "⋯" }
                    div {
                        button id="sync" onclick="syncNow()" { "Sync Tenants" }
                        a.btn href="/connect" { "Re-authenticate with Microsoft Partner Center" }
                        form method="post" action="/disconnect" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Disconnect Partner Center" }
                        }
                    }
                }
            }
            table id="tenants" {
                thead { tr {
                    th { input type="checkbox" id="all" title="Select all"; }
                    th { "Tenant" } th { "GDAP Permissions" } th { "Users" } th { "Status" } th { "Email Perms" } th { "Actions" } th { "Progress" }
                } }
                tbody {
                    @for t in &rows {
                        tr data-tenant=(t.tenant_id) data-status=(t.status.label()) {
                            td { @if !t.is_own_partner_tenant { input.pick type="checkbox" value=(t.tenant_id); } }
                            td {
                                (t.display_name)
                                @if t.legacy { span.badge.legacy { "Legacy" } }
                                @if t.is_own_partner_tenant { span.badge.partner { "Partner tenant" } }
                                div.tid { (t.tenant_id) }
                            }
                            td { (readiness_cell(&t.gdap)) }
                            td { @match t.user_count { Some(n) => (n), None => span.tid { "—" } } }
                            td.status { (status_cell(t.status)) }
                            td { (email_cell(t)) }
                            td { (actions_cell(t)) }
                            td.job {}
                        }
                    }
                }
            }
        }
        script { (PreEscaped(SCRIPT)) }
    };
    Ok(layout("Managed tenants — gdap", &csrf, body).into_response())
}
