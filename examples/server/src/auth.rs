//! Users, roles, permissions, API tokens, sessions and CSRF.
//!
//! Every route is listed in [`ROUTES`] with the [`Permission`] it needs; the `authorize`
//! middleware looks the matched route up there, so a route missing from the table is refused
//! (fail closed).

use std::fmt;
use std::str::FromStr;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::ApiError;

/// A member's role in the MSP (seed 000 FAQ, seed 003 permissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// `msp_owner`: everything.
    Owner,
    /// `msp_admin`: everything.
    Admin,
    /// Full member: the tenants page and Partner Center actions, not the own-tenant switch.
    FullMember,
    /// External guest: no access to the Partner Center page.
    ExternalGuest,
    /// Billing member: no access to the Partner Center page.
    Billing,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::FullMember,
        Role::ExternalGuest,
        Role::Billing,
    ];

    /// The stable name (`owner`, `admin`, `member`, `guest`, `billing`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::FullMember => "member",
            Role::ExternalGuest => "guest",
            Role::Billing => "billing",
        }
    }

    /// Whether the role grants `permission`.
    pub fn can(self, permission: Permission) -> bool {
        match permission {
            Permission::Public | Permission::Authenticated => true,
            Permission::TenantsRead | Permission::PartnerCenter => {
                matches!(self, Role::Owner | Role::Admin | Role::FullMember)
            }
            Permission::TenantsManage | Permission::RelationshipsManage => {
                matches!(self, Role::Owner | Role::Admin)
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .as_str()
        {
            "owner" | "msp-owner" => Ok(Role::Owner),
            "admin" | "msp-admin" => Ok(Role::Admin),
            "member" | "full-member" => Ok(Role::FullMember),
            "guest" | "external-guest" => Ok(Role::ExternalGuest),
            "billing" => Ok(Role::Billing),
            other => Err(format!(
                "unknown role {other:?}: use owner, admin, member, guest or billing"
            )),
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Nobody needs to be signed in (login form, health, OAuth callback which checks its own
    /// pending sign-in).
    Public,
    /// Any signed-in member.
    Authenticated,
    /// `TENANTS_READ`: the managed-tenants page and reads (owner, admin, full member).
    TenantsRead,
    /// Partner Center actions: sync, onboard, migrate, refresh, request, connect (owner, admin,
    /// full member).
    PartnerCenter,
    /// `TENANTS_MANAGE`: enable/disable the own partner tenant, hard-delete (owner, admin).
    TenantsManage,
    /// Relationship lifecycle changes across customers: GDAP groups and their assignments,
    /// bulk auto-extend, Global Administrator removal, drift repair, the webhook registration
    /// (owner, admin). Permissions are per route, so a dry run of these routes needs it too.
    RelationshipsManage,
}

impl Permission {
    /// Who holds it, for the 403 message.
    fn holders(self) -> &'static str {
        match self {
            Permission::TenantsManage => "Owners and Admins can",
            Permission::RelationshipsManage => {
                "Owners and Admins can (dry runs included: permissions are per route)"
            }
            _ => "Owners, Admins and Full Members can",
        }
    }
}

/// Every route: method, axum path, permission.
pub const ROUTES: &[(&str, &str, Permission)] = &[
    ("GET", "/healthz", Permission::Public),
    ("GET", "/login", Permission::Public),
    ("POST", "/login", Permission::Public),
    ("GET", "/connect/callback", Permission::Public),
    // Partner Center's webhook calls: no session (and no CSRF); the handler checks the path key
    // (derived from the master key) and answers 404 for a wrong one.
    ("POST", "/webhooks/partner-center/{key}", Permission::Public),
    ("POST", "/logout", Permission::Authenticated),
    ("GET", "/api/me", Permission::Authenticated),
    ("GET", "/", Permission::TenantsRead),
    ("GET", "/api/tenants", Permission::TenantsRead),
    ("GET", "/api/jobs/{id}", Permission::TenantsRead),
    ("GET", "/api/my-tenant", Permission::TenantsRead),
    ("GET", "/api/expiring", Permission::TenantsRead),
    ("GET", "/api/audit", Permission::TenantsRead),
    ("GET", "/api/connection", Permission::TenantsRead),
    ("GET", "/connect", Permission::PartnerCenter),
    ("POST", "/disconnect", Permission::PartnerCenter),
    ("POST", "/api/sync", Permission::PartnerCenter),
    (
        "POST",
        "/api/tenants/{id}/onboard",
        Permission::PartnerCenter,
    ),
    ("POST", "/api/onboard", Permission::PartnerCenter),
    (
        "POST",
        "/api/tenants/{id}/refresh-email-perms",
        Permission::PartnerCenter,
    ),
    (
        "POST",
        "/api/tenants/{id}/migrate",
        Permission::PartnerCenter,
    ),
    ("POST", "/api/migrate", Permission::PartnerCenter),
    (
        "POST",
        "/api/tenants/{id}/request-permissions",
        Permission::PartnerCenter,
    ),
    ("POST", "/api/my-tenant/enable", Permission::TenantsManage),
    ("POST", "/api/my-tenant/disable", Permission::TenantsManage),
    ("DELETE", "/api/tenants/{id}", Permission::TenantsManage),
    // Relationship lifecycle. Reads (the trace) for every member with the tenants page; the
    // write routes, their dry runs included, for Owners and Admins.
    ("GET", "/api/lifecycle/trace", Permission::TenantsRead),
    (
        "POST",
        "/api/lifecycle/groups",
        Permission::RelationshipsManage,
    ),
    (
        "POST",
        "/api/lifecycle/auto-extend",
        Permission::RelationshipsManage,
    ),
    (
        "POST",
        "/api/lifecycle/remove-ga",
        Permission::RelationshipsManage,
    ),
    (
        "POST",
        "/api/lifecycle/repair",
        Permission::RelationshipsManage,
    ),
    (
        "POST",
        "/api/lifecycle/webhook",
        Permission::RelationshipsManage,
    ),
    // The callback URL holds the path key, and the events list what customers approved.
    (
        "GET",
        "/api/lifecycle/webhook/callback",
        Permission::RelationshipsManage,
    ),
    (
        "GET",
        "/api/lifecycle/webhook/events",
        Permission::RelationshipsManage,
    ),
];

/// The permission of a route, if listed.
pub fn permission_of(method: &Method, path: &str) -> Option<Permission> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, perm)| *perm)
}

/// Session cookie name.
pub(crate) const SESSION_COOKIE: &str = "gdap_session";
/// Login-form CSRF cookie (double submit, before there is a session).
pub(crate) const LOGIN_CSRF_COOKIE: &str = "gdap_login_csrf";
/// Pending OAuth sign-in cookie (SameSite=Lax so it survives the redirect back from login).
pub(crate) const OAUTH_COOKIE: &str = "gdap_oauth";
/// CSRF header the page's scripts send.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// A new high-entropy secret (API token, session, CSRF), URL-safe base64 of 32 random bytes.
pub(crate) fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token, `gdap_` + secret.
pub(crate) fn new_api_token() -> String {
    format!("gdap_{}", new_secret())
}

/// SHA-256 hex of a high-entropy secret (tokens are random, so a fast hash is enough).
pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The CSRF token of a session: derived from the session secret, never stored.
pub(crate) fn csrf_for_session(session_secret: &str) -> String {
    hex::encode(Sha256::digest(
        format!("gdap-csrf:{session_secret}").as_bytes(),
    ))
}

/// Constant-time equality.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie's value from the request headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// How the caller authenticated.
#[derive(Clone)]
pub(crate) enum Via {
    /// `Authorization: Bearer`.
    Token,
    /// The session cookie; carries the session's CSRF token for the page.
    Session { csrf: String },
}

/// The signed-in member (in request extensions after `authorize`).
#[derive(Clone)]
pub(crate) struct Principal {
    pub(crate) user_id: String,
    pub(crate) email: String,
    pub(crate) role: Role,
    pub(crate) via: Via,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// The page's CSRF token (empty for API tokens).
    pub(crate) fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf } => csrf,
            Via::Token => "",
        }
    }
}

/// Authenticates the caller (optional).
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        // HTTP Basic with email and API token (for browsers and tools that cannot set a
        // header). A browser replays it on its own, so writes need the CSRF token like a
        // session.
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ApiError::unauthorized("malformed Basic credentials"))?;
        let (email, token) = decoded
            .split_once(':')
            .ok_or_else(|| ApiError::unauthorized("malformed Basic credentials"))?;
        let user = state
            .db
            .user_by_token_hash(hash_secret(token))
            .await
            .map_err(ApiError::internal)?
            .filter(|u| u.email.eq_ignore_ascii_case(email))
            .ok_or_else(|| ApiError::unauthorized("the email or API token is not valid"))?;
        return Ok(Some(Principal {
            user_id: user.id,
            email: user.email,
            role: user.role,
            via: Via::Session {
                csrf: csrf_for_session(token),
            },
        }));
    }
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let text = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("use `Authorization: Bearer <api token>`"))?;
        let user = state
            .db
            .user_by_token_hash(hash_secret(text))
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("the API token is not valid"))?;
        return Ok(Some(Principal {
            user_id: user.id,
            email: user.email,
            role: user.role,
            via: Via::Token,
        }));
    }
    if let Some(secret) = cookie(headers, SESSION_COOKIE)
        && let Some(user) = state
            .db
            .user_by_session_hash(hash_secret(&secret))
            .await
            .map_err(ApiError::internal)?
    {
        {
            return Ok(Some(Principal {
                user_id: user.id,
                email: user.email,
                role: user.role,
                via: Via::Session {
                    csrf: csrf_for_session(&secret),
                },
            }));
        }
    }
    Ok(None)
}

/// The middleware: route permission, authentication, CSRF on cookie-authenticated writes.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let Some(path) = matched.map(|m| m.as_str().to_owned()) else {
        return next.run(req).await;
    };
    let method = req.method().clone();
    let Some(permission) = permission_of(&method, &path) else {
        tracing::error!(%method, %path, "route without a permission rule: refused");
        return ApiError::forbidden("this route has no permission rule").into_response();
    };
    if permission == Permission::Public {
        return next.run(req).await;
    }
    let wants_html = path == "/" || !path.starts_with("/api/");
    let principal = match authenticate(&state, req.headers()).await {
        Ok(Some(p)) => p,
        Ok(None) if wants_html && method == Method::GET => {
            // `?auth=basic` asks for an HTTP Basic challenge (email + API token) instead of the
            // login form: for headless browsers and tools.
            if req
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|kv| kv == "auth=basic"))
            {
                return (
                    axum::http::StatusCode::UNAUTHORIZED,
                    [(
                        header::WWW_AUTHENTICATE,
                        "Basic realm=\"gdap\", charset=\"UTF-8\"",
                    )],
                    "sign in with your email and API token",
                )
                    .into_response();
            }
            return Redirect::to("/login").into_response();
        }
        Ok(None) => {
            return ApiError::unauthorized(
                "sign in at /login, or send `Authorization: Bearer <api token>`",
            )
            .into_response();
        }
        Err(e) => return e.into_response(),
    };
    if !principal.role.can(permission) {
        tracing::info!(user = %principal.email, role = %principal.role, %method, %path, "forbidden");
        return ApiError::forbidden(&format!(
            "the {} role cannot use {method} {path}; {}",
            principal.role,
            permission.holders()
        ))
        .into_response();
    }
    // CSRF: a cookie is sent by the browser on its own, so every write made with one must
    // prove it came from our page (header from scripts, or a `csrf` form field).
    let mut req = req;
    if let Via::Session { csrf } = &principal.via
        && !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
    {
        let (ok, rebuilt) = check_csrf(req, csrf).await;
        match rebuilt {
            Some(r) if ok => req = r,
            _ => {
                return ApiError::forbidden_key(
                    "csrf",
                    "the form or request is missing a valid CSRF token; reload the page and try again",
                )
                .into_response();
            }
        }
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

async fn check_csrf(req: Request, expected: &str) -> (bool, Option<Request>) {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let ok = ct_eq(v, expected);
        return (ok, Some(req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, Some(req));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::app::BODY_LIMIT).await else {
        return (false, None);
    };
    let ok = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .is_some_and(|(_, v)| ct_eq(&v, expected));
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

/// `Set-Cookie` value for the session.
pub(crate) fn session_cookie(secret: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that clears `name` at `path`.
pub(crate) fn clear_cookie(name: &str, path: &str) -> String {
    format!("{name}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_matrix() {
        assert!(Role::FullMember.can(Permission::PartnerCenter));
        assert!(!Role::FullMember.can(Permission::TenantsManage));
        assert!(!Role::ExternalGuest.can(Permission::TenantsRead));
        assert!(!Role::Billing.can(Permission::PartnerCenter));
        assert!(Role::Admin.can(Permission::TenantsManage));
        assert!(Role::Owner.can(Permission::RelationshipsManage));
        assert!(Role::Admin.can(Permission::RelationshipsManage));
        for r in [Role::FullMember, Role::ExternalGuest, Role::Billing] {
            assert!(!r.can(Permission::RelationshipsManage), "{r}");
        }
        assert_eq!("full_member".parse::<Role>().unwrap(), Role::FullMember);
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
    }

    #[test]
    fn cookies_and_hashes() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; gdap_session=xyz".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(hash_secret("x").len(), 64);
        assert_ne!(csrf_for_session("a"), csrf_for_session("b"));
        assert!(ct_eq("abc", "abc") && !ct_eq("abc", "abd"));
    }
}
