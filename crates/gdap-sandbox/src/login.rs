//! Fake Microsoft identity platform v2: `/login/{tenant}/oauth2/v2.0/authorize` and `/token`.

use std::collections::HashMap;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::{mint_access, mint_id_token, mint_refresh};
use crate::state::{AccessToken, Audience, AuthCode, Core, RefreshToken, Shared};
use crate::util::{ReqCtx, aad_timestamp, header_str, json_response};
use crate::world::{Ms, SEC, World, catalog};

/// A token endpoint error per graph-gdap.md §7.2.
pub(crate) fn token_error(
    status: StatusCode,
    error: &str,
    code: u32,
    text: &str,
    ctx: &ReqCtx,
    suberror: Option<&str>,
) -> Response {
    let ts = aad_timestamp(ctx.now);
    let trace = &ctx.request_id;
    let corr = &ctx.client_request_id;
    let mut body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    if let Some(s) = suberror {
        body["suberror"] = json!(s);
    }
    json_response(status, &body, "application/json; charset=utf-8")
}

fn bad(error: &str, code: u32, text: &str, ctx: &ReqCtx) -> Response {
    token_error(StatusCode::BAD_REQUEST, error, code, text, ctx, None)
}

/// Resolves the `{tenant}` path segment: a tenant GUID, a tenant domain, or
/// `organizations`/`common` (the user's home = partner tenant).
fn resolve_tenant(w: &World, raw: &str) -> Option<usize> {
    if raw.eq_ignore_ascii_case("organizations") || raw.eq_ignore_ascii_case("common") {
        return Some(w.partner.tenant);
    }
    if let Some(t) = w.tenant_idx(raw) {
        return Some(t);
    }
    w.tenants
        .iter()
        .position(|t| t.domain.eq_ignore_ascii_case(raw))
}

fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    u.scheme() == "http"
        && matches!(
            u.host_str(),
            Some("127.0.0.1") | Some("localhost") | Some("[::1]")
        )
}

/// Parsed `scope` parameter.
struct Scopes {
    audience: Audience,
    /// Specific permission names requested (empty for `.default`).
    specific: Vec<String>,
    offline: bool,
    openid: bool,
    raw: Vec<String>,
}

/// Parses a scope list. Token requests may name one resource only; the authorize step may ask
/// consent for several resources at once (Entra's dynamic consent), so it passes `multi_resource`.
fn parse_scopes(raw: &str, ctx: &ReqCtx, multi_resource: bool) -> Result<Scopes, Response> {
    let mut audience: Option<Audience> = None;
    let mut specific = Vec::new();
    let (mut offline, mut openid) = (false, false);
    let items: Vec<String> = raw.split_whitespace().map(String::from).collect();
    for s in &items {
        let lower = s.to_ascii_lowercase();
        let (aud, perm) = match lower.as_str() {
            "offline_access" => {
                offline = true;
                continue;
            }
            "openid" | "profile" | "email" => {
                openid = true;
                continue;
            }
            _ if lower.starts_with("https://graph.microsoft.com/") => {
                (Audience::Graph, &s["https://graph.microsoft.com/".len()..])
            }
            _ if lower.starts_with("https://api.partnercenter.microsoft.com/") => (
                Audience::PartnerCenter,
                &s["https://api.partnercenter.microsoft.com/".len()..],
            ),
            _ if !s.contains('/') && !s.contains(':') => (Audience::Graph, s.as_str()),
            _ => {
                return Err(bad(
                    "invalid_resource",
                    500011,
                    &format!("The resource principal named {s} was not found in the tenant."),
                    ctx,
                ));
            }
        };
        if multi_resource && audience.is_some_and(|a| a != aud) {
            continue;
        }
        if audience.is_some_and(|a| a != aud) {
            return Err(bad(
                "invalid_scope",
                28000,
                "Provided value for the input parameter scope is not valid because it contains more than one resource.",
                ctx,
            ));
        }
        audience = Some(aud);
        if perm != ".default" {
            specific.push(perm.to_string());
        }
    }
    Ok(Scopes {
        audience: audience.unwrap_or(Audience::Graph),
        specific,
        offline,
        openid,
        raw: items,
    })
}

/// `GET /login/{tenant}/oauth2/v2.0/authorize`: signs the user in without a page and redirects
/// back with `code` and `state`.
pub(crate) async fn authorize(
    State(s): State<Shared>,
    Path(tenant): Path<String>,
    RawQuery(q): RawQuery,
    Extension(ctx): Extension<ReqCtx>,
) -> Response {
    let q: HashMap<String, String> = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let now = s.now();
    let mut core = s.lock();
    let w = &core.world;
    let Some(t) = resolve_tenant(w, &tenant) else {
        return bad(
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
            &ctx,
        );
    };
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let Some(app) = w
        .app_idx(&client_id)
        .filter(|a| *a == w.partner.product_app || *a == w.partner.legacy_app)
    else {
        return bad(
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                w.tenants[t].display_name
            ),
            &ctx,
        );
    };
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    if !is_loopback_redirect(&redirect) {
        return bad(
            "invalid_request",
            50011,
            &format!(
                "The redirect URI '{redirect}' specified in the request does not match the redirect URIs configured for the application '{client_id}'."
            ),
            &ctx,
        );
    }
    let state = q.get("state").cloned();
    let redirect_err = |err: &str, desc: &str| {
        let Ok(mut u) = url::Url::parse(&redirect) else {
            return bad("invalid_request", 50011, "Invalid redirect URI.", &ctx);
        };
        u.query_pairs_mut()
            .append_pair("error", err)
            .append_pair("error_description", desc);
        if let Some(st) = &state {
            u.query_pairs_mut().append_pair("state", st);
        }
        found(u.as_str())
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return redirect_err(
            "unsupported_response_type",
            "AADSTS700054: response_type 'code' is required by this sandbox.",
        );
    }
    let Some(scope) = q.get("scope") else {
        return redirect_err(
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'scope'.",
        );
    };
    let scopes = match parse_scopes(scope, &ctx, true) {
        Ok(sc) => sc,
        Err(_) => {
            return redirect_err(
                "invalid_scope",
                "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
            );
        }
    };
    let hint = q.get("login_hint").map(String::as_str).unwrap_or("");
    if hint.eq_ignore_ascii_case("denied") {
        return redirect_err(
            "access_denied",
            "AADSTS65004: User declined to consent to access the app.",
        );
    }
    let user = w.user_by_upn(hint).unwrap_or(&w.partner.users[0]).clone();
    let challenge = match q.get("code_challenge") {
        Some(c) => {
            let method = q
                .get("code_challenge_method")
                .cloned()
                .unwrap_or_else(|| "plain".into());
            if method != "S256" && method != "plain" {
                return redirect_err(
                    "invalid_request",
                    "AADSTS501491: Invalid code_challenge_method.",
                );
            }
            Some((c.clone(), method))
        }
        None => None,
    };
    let amr = amr_for(user.mfa);
    let mut b = [0u8; 32];
    rand::Rng::fill(&mut core.world.rng, &mut b);
    let code = format!(
        "0.sbx.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    );
    core.tokens.codes.insert(
        code.clone(),
        AuthCode {
            client_app: app,
            redirect_uri: redirect.clone(),
            challenge,
            scopes: scopes.raw,
            user: user.id.clone(),
            amr,
            nonce: q.get("nonce").cloned(),
            expires: now + 600 * SEC,
            used: false,
        },
    );
    let mut u = match url::Url::parse(&redirect) {
        Ok(u) => u,
        Err(_) => return bad("invalid_request", 50011, "Invalid redirect URI.", &ctx),
    };
    u.query_pairs_mut().append_pair("code", &code);
    if let Some(st) = &state {
        u.query_pairs_mut().append_pair("state", st);
    }
    u.query_pairs_mut()
        .append_pair("session_state", &ctx.request_id);
    found(u.as_str())
}

fn found(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = header::HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub(crate) fn amr_for(mfa: bool) -> Vec<String> {
    if mfa {
        vec!["pwd".into(), "mfa".into()]
    } else {
        vec!["pwd".into()]
    }
}

/// Client authentication: `client_id` + `client_secret` in the body or HTTP Basic.
fn client_auth(
    w: &World,
    form: &HashMap<String, String>,
    headers: &HeaderMap,
    tenant: usize,
    ctx: &ReqCtx,
) -> Result<usize, Response> {
    let mut id = form.get("client_id").cloned();
    let mut secret = form.get("client_secret").cloned();
    if let Some(basic) = header_str(headers, "authorization").and_then(|v| v.strip_prefix("Basic "))
        && let Some((i, s)) = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| {
                t.split_once(':')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
    {
        id = Some(i);
        secret = Some(s);
    }
    let id = id.unwrap_or_default();
    let app = w
        .app_idx(&id)
        .filter(|a| *a == w.partner.product_app || *a == w.partner.legacy_app)
        .ok_or_else(|| {
            bad(
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{id}' was not found in the directory '{}'.",
                    w.tenants[tenant].display_name
                ),
                ctx,
            )
        })?;
    let expected = app_secret(w, app);
    match secret {
        None => Err(token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ctx,
            None,
        )),
        Some(s) if s != expected => Err(token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{id}'."
            ),
            ctx,
            None,
        )),
        Some(_) => Ok(app),
    }
}

/// The client secret of the product app or the legacy app.
pub(crate) fn app_secret(w: &World, app: usize) -> String {
    if app == w.partner.legacy_app {
        format!("{}L", w.partner.client_secret)
    } else {
        w.partner.client_secret.clone()
    }
}

/// Delegated scopes the client app holds on the resource in tenant `t`, or `None` when the app has
/// no service principal or no delegated grant there (AADSTS65001).
fn consented_scopes(w: &World, t: usize, app: usize, aud: Audience) -> Option<Vec<String>> {
    let tenant = &w.tenants[t];
    let sp = tenant.sp_by_app(app)?;
    let res_app = match aud {
        Audience::Graph => catalog::GRAPH,
        Audience::PartnerCenter => catalog::PARTNER_CENTER,
    };
    if aud == Audience::PartnerCenter && t == w.partner.tenant {
        // The partner tenant's app registration always carries user_impersonation.
        return Some(vec!["user_impersonation".into()]);
    }
    let res = tenant.sp_by_app(res_app)?;
    let mut out: Vec<String> = Vec::new();
    let mut any = false;
    for g in tenant.grants.iter().filter(|g| {
        g.client_id == sp.id && g.resource_id == res.id && g.consent_type == "AllPrincipals"
    }) {
        any = true;
        for s in g.scope.split_whitespace() {
            if !out.iter().any(|x| x == s) {
                out.push(s.to_string());
            }
        }
    }
    any.then_some(out)
}

/// Issues tokens for a user (authorization_code / refresh_token grants) after the GDAP and
/// consent checks.
#[allow(clippy::too_many_arguments)]
fn issue_for_user(
    core: &mut Core,
    s: &Shared,
    now: Ms,
    t: usize,
    app: usize,
    user: &str,
    amr: Vec<String>,
    scopes: &Scopes,
    nonce: Option<&str>,
    ctx: &ReqCtx,
) -> Result<serde_json::Value, Response> {
    let w = &core.world;
    let upn = w
        .user_by_id(user)
        .map(|u| u.upn.clone())
        .unwrap_or_default();
    if t != w.partner.tenant && !w.user_has_gdap_access(t, user) {
        return Err(bad(
            "invalid_grant",
            50177,
            &format!(
                "External challenge is not supported for passthrough users. User '{upn}' has no active GDAP access assignment in tenant '{}'.",
                w.tenants[t].id
            ),
            ctx,
        ));
    }
    let Some(consented) = consented_scopes(w, t, app, scopes.audience) else {
        return Err(token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            65001,
            &format!(
                "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
                w.apps[app].app_id, w.apps[app].display_name
            ),
            ctx,
            Some("consent_required"),
        ));
    };
    for want in &scopes.specific {
        if !consented.iter().any(|c| c.eq_ignore_ascii_case(want)) {
            return Err(token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                65001,
                &format!(
                    "The user or administrator has not consented to use the application with ID '{}' named '{}' for scope '{want}'. Send an interactive authorization request for this user and resource.",
                    w.apps[app].app_id, w.apps[app].display_name
                ),
                ctx,
                Some("consent_required"),
            ));
        }
    }
    let granted = if scopes.specific.is_empty() {
        consented
    } else {
        scopes.specific.clone()
    };
    let lifetime = s.config.access_token_lifetime;
    let at = mint_access(
        core,
        &s.config,
        now,
        AccessToken {
            user: Some(user.to_string()),
            tenant: t,
            client_app: app,
            audience: scopes.audience,
            scopes: granted.clone(),
            amr: amr.clone(),
            expires: now + lifetime,
        },
    );
    let resource = scopes.audience.resource();
    let mut scope_str: Vec<String> = granted.iter().map(|g| format!("{resource}/{g}")).collect();
    if scopes.openid {
        scope_str.extend(["openid".to_string(), "profile".to_string()]);
    }
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope_str.join(" "),
        "expires_in": lifetime / SEC,
        "ext_expires_in": lifetime / SEC,
        "access_token": at,
    });
    if scopes.offline {
        body["refresh_token"] = json!(mint_refresh(
            core,
            RefreshToken {
                user: user.to_string(),
                client_app: app,
                amr: amr.clone(),
                last_used: now,
                revoked: false
            }
        ));
        if let Some(obj) = body.as_object_mut()
            && let Some(serde_json::Value::String(sc)) = obj.get_mut("scope")
        {
            sc.push_str(" offline_access");
        }
    }
    if scopes.openid {
        body["id_token"] = json!(mint_id_token(
            core, &s.config, now, t, user, app, nonce, &amr
        ));
    }
    Ok(body)
}

/// `POST /login/{tenant}/oauth2/v2.0/token`.
pub(crate) async fn token(
    State(s): State<Shared>,
    Path(tenant): Path<String>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let now = s.now();
    let mut core = s.lock();
    let Some(t) = resolve_tenant(&core.world, &tenant) else {
        return bad(
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
            &ctx,
        );
    };
    let app = match client_auth(&core.world, &form, &headers, t, &ctx) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    let result = match grant_type {
        "authorization_code" => auth_code_grant(&mut core, &s, now, t, app, &form, &ctx),
        "refresh_token" => refresh_grant(&mut core, &s, now, t, app, &form, &ctx),
        "client_credentials" => client_credentials(&mut core, &s, now, t, app, &form, &ctx),
        "" => Err(bad(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
            &ctx,
        )),
        other => Err(bad(
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
            &ctx,
        )),
    };
    match result {
        Ok(body) => {
            let mut resp = json_response(StatusCode::OK, &body, "application/json; charset=utf-8");
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store, no-cache"),
            );
            resp
        }
        Err(r) => r,
    }
}

fn auth_code_grant(
    core: &mut Core,
    s: &Shared,
    now: Ms,
    t: usize,
    app: usize,
    form: &HashMap<String, String>,
    ctx: &ReqCtx,
) -> Result<serde_json::Value, Response> {
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(c) = core.tokens.codes.get(&code).cloned() else {
        return Err(bad(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid: the authorization code is not valid.",
            ctx,
        ));
    };
    if c.used {
        return Err(bad(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ctx,
        ));
    }
    if c.expires <= now {
        return Err(bad(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ctx,
        ));
    }
    if c.client_app != app {
        return Err(bad(
            "invalid_grant",
            70000,
            "The provided authorization code was issued to a different client.",
            ctx,
        ));
    }
    if form.get("redirect_uri").map(String::as_str) != Some(c.redirect_uri.as_str()) {
        return Err(bad(
            "invalid_grant",
            500112,
            "The reply address does not match the reply address provided when requesting the authorization code.",
            ctx,
        ));
    }
    if let Some((challenge, method)) = &c.challenge {
        let Some(verifier) = form.get("code_verifier") else {
            return Err(bad(
                "invalid_grant",
                50148,
                "The code_verifier is missing; the authorization request used a code_challenge (PKCE).",
                ctx,
            ));
        };
        let computed = if method == "S256" {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.clone()
        };
        if &computed != challenge {
            return Err(bad(
                "invalid_grant",
                50148,
                "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
                ctx,
            ));
        }
    }
    if let Some(c) = core.tokens.codes.get_mut(&code) {
        c.used = true;
    }
    let scope_raw = form
        .get("scope")
        .cloned()
        .unwrap_or_else(|| c.scopes.join(" "));
    let scopes = parse_scopes(&scope_raw, ctx, false)?;
    issue_for_user(
        core,
        s,
        now,
        t,
        app,
        &c.user,
        c.amr.clone(),
        &scopes,
        c.nonce.as_deref(),
        ctx,
    )
}

fn refresh_grant(
    core: &mut Core,
    s: &Shared,
    now: Ms,
    t: usize,
    app: usize,
    form: &HashMap<String, String>,
    ctx: &ReqCtx,
) -> Result<serde_json::Value, Response> {
    let raw = form.get("refresh_token").cloned().unwrap_or_default();
    let Some(rt) = core.tokens.refresh.get(&raw).cloned() else {
        return Err(bad(
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid: the refresh token is not valid.",
            ctx,
        ));
    };
    if rt.revoked || now - rt.last_used > s.config.refresh_token_inactivity {
        return Err(bad(
            "invalid_grant",
            700082,
            "The refresh token has expired due to inactivity or was revoked. The token was issued before the last revocation and was inactive for 90.00:00:00.",
            ctx,
        ));
    }
    if rt.client_app != app {
        return Err(bad(
            "invalid_grant",
            70000,
            "The provided grant has been issued for a different client.",
            ctx,
        ));
    }
    let scope_raw = form
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "https://graph.microsoft.com/.default offline_access".into());
    let mut scopes = parse_scopes(&scope_raw, ctx, false)?;
    // A refresh token grant always returns a (rotated) refresh token.
    scopes.offline = true;
    let body = issue_for_user(
        core,
        s,
        now,
        t,
        app,
        &rt.user,
        rt.amr.clone(),
        &scopes,
        None,
        ctx,
    )?;
    if let Some(old) = core.tokens.refresh.get_mut(&raw) {
        old.last_used = now;
        if s.config.strict_refresh_rotation {
            old.revoked = true;
        }
    }
    Ok(body)
}

fn client_credentials(
    core: &mut Core,
    s: &Shared,
    now: Ms,
    t: usize,
    app: usize,
    form: &HashMap<String, String>,
    ctx: &ReqCtx,
) -> Result<serde_json::Value, Response> {
    let scope_raw = form.get("scope").cloned().unwrap_or_default();
    let scopes = parse_scopes(&scope_raw, ctx, false)?;
    if !scopes.specific.is_empty() || scope_raw.is_empty() {
        return Err(bad(
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope_raw} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
            ctx,
        ));
    }
    let w = &core.world;
    if w.tenants[t].sp_by_app(app).is_none() {
        return Err(bad(
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory '{}'.",
                w.apps[app].app_id, w.tenants[t].display_name
            ),
            ctx,
        ));
    }
    let roles: Vec<String> = match scopes.audience {
        Audience::Graph => w.app_graph_roles(t, app).into_iter().collect(),
        Audience::PartnerCenter => Vec::new(),
    };
    let lifetime = s.config.access_token_lifetime;
    let at = mint_access(
        core,
        &s.config,
        now,
        AccessToken {
            user: None,
            tenant: t,
            client_app: app,
            audience: scopes.audience,
            scopes: roles,
            amr: Vec::new(),
            expires: now + lifetime,
        },
    );
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime / SEC,
        "ext_expires_in": lifetime / SEC,
        "access_token": at,
    }))
}

/// Issues a refresh token for a partner user directly (tests and demos).
pub(crate) fn issue_refresh_token(
    core: &mut Core,
    now: Ms,
    upn: &str,
    mfa: Option<bool>,
) -> Option<String> {
    let user = core.world.user_by_upn(upn)?.clone();
    let app = core.world.partner.product_app;
    let amr = amr_for(mfa.unwrap_or(user.mfa));
    Some(mint_refresh(
        core,
        RefreshToken {
            user: user.id,
            client_app: app,
            amr,
            last_used: now,
            revoked: false,
        },
    ))
}

/// Issues an access token directly (tests): delegated for `upn` in `tenant` for the audience of
/// `scope`; no GDAP or consent checks.
pub(crate) fn issue_access_token(
    core: &mut Core,
    s: &Shared,
    now: Ms,
    upn: &str,
    tenant: &str,
    scope: &str,
) -> Option<String> {
    let user = core.world.user_by_upn(upn)?.clone();
    let t = resolve_tenant(&core.world, tenant)?;
    let aud = if scope.to_ascii_lowercase().contains("partnercenter") {
        Audience::PartnerCenter
    } else {
        Audience::Graph
    };
    let app = core.world.partner.product_app;
    let tok = AccessToken {
        user: Some(user.id),
        tenant: t,
        client_app: app,
        audience: aud,
        scopes: vec![".default".into()],
        amr: amr_for(user.mfa),
        expires: now + s.config.access_token_lifetime,
    };
    Some(mint_access(core, &s.config, now, tok))
}
