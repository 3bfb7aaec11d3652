//! Token minting and bearer-token validation for Graph and Partner Center.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use rand::Rng;
use serde_json::{Value, json};

use crate::state::{AccessToken, Audience, Config, Core, RefreshToken};
use crate::util::{ReqCtx, bearer, graph_error, with_header};
use crate::world::{Ms, SEC, World};

fn b64(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

/// A JWT-shaped opaque string: the sandbox never verifies it, it looks it up. The payload carries
/// the usual claims so clients that peek at `tid`/`amr` work.
pub(crate) fn jwt_like(world: &mut World, claims: &Value) -> String {
    let header = b64(br#"{"typ":"JWT","alg":"RS256","kid":"gdap-sandbox"}"#);
    let payload = b64(&serde_json::to_vec(claims).unwrap_or_default());
    let mut sig = [0u8; 32];
    world.rng.fill(&mut sig);
    format!("{header}.{payload}.{}", b64(&sig))
}

/// Mints and stores an access token.
pub(crate) fn mint_access(core: &mut Core, cfg: &Config, now: Ms, tok: AccessToken) -> String {
    let w = &core.world;
    let tenant = &w.tenants[tok.tenant];
    let iat = w.at(now).unix_timestamp();
    let exp = iat + (tok.expires - now) / SEC;
    let mut claims = json!({
        "aud": tok.audience.resource(),
        "iss": format!("https://sts.windows.net/{}/", tenant.id),
        "iat": iat, "nbf": iat, "exp": exp,
        "tid": tenant.id,
        "appid": w.apps[tok.client_app].app_id,
        "app_displayname": w.apps[tok.client_app].display_name,
        "ver": "1.0",
        "sandbox_base": cfg.base,
    });
    if let Some(user) = tok.user.as_ref().and_then(|u| w.user_by_id(u)) {
        claims["oid"] = json!(user.id);
        claims["upn"] = json!(user.upn);
        claims["name"] = json!(user.display_name);
        claims["idtyp"] = json!("user");
        claims["amr"] = json!(tok.amr);
        claims["scp"] = json!(tok.scopes.join(" "));
    } else {
        claims["idtyp"] = json!("app");
        claims["roles"] = json!(tok.scopes);
    }
    let s = jwt_like(&mut core.world, &claims);
    core.tokens.access.insert(s.clone(), tok);
    s
}

/// Mints and stores a refresh token.
pub(crate) fn mint_refresh(core: &mut Core, rt: RefreshToken) -> String {
    let mut b = [0u8; 48];
    core.world.rng.fill(&mut b);
    let s = format!("1.sbx.{}", b64(&b));
    core.tokens.refresh.insert(s.clone(), rt);
    s
}

/// An id_token for a user.
#[allow(clippy::too_many_arguments)] // flat list of claims inputs; a struct would only rename them
pub(crate) fn mint_id_token(
    core: &mut Core,
    cfg: &Config,
    now: Ms,
    tenant: usize,
    user: &str,
    client: usize,
    nonce: Option<&str>,
    amr: &[String],
) -> String {
    let w = &core.world;
    let Some(u) = w.user_by_id(user) else {
        return String::new();
    };
    let tid = w.tenants[tenant].id.clone();
    let iat = w.at(now).unix_timestamp();
    let mut claims = json!({
        "aud": w.apps[client].app_id,
        "iss": format!("{}/login/{tid}/v2.0", cfg.base),
        "iat": iat, "nbf": iat, "exp": iat + 3600,
        "name": u.display_name,
        "oid": u.id,
        "sub": u.id,
        "preferred_username": u.upn,
        "tid": tid,
        "amr": amr,
        "ver": "2.0",
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    jwt_like(&mut core.world, &claims)
}

/// The authenticated caller of a Graph or Partner Center request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// Delegated user id; `None` for app-only tokens.
    pub(crate) user: Option<String>,
    /// Tenant index the token is for.
    pub(crate) tenant: usize,
    /// Client app index.
    pub(crate) app: usize,
    pub(crate) amr: Vec<String>,
}

impl Caller {
    pub(crate) fn has_mfa(&self) -> bool {
        self.amr.iter().any(|a| a == "mfa")
    }
}

fn graph_401(msg: &str, ctx: &ReqCtx) -> Response {
    let resp = graph_error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        msg,
        ctx,
    );
    with_header(
        resp,
        "www-authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
    )
}

/// Validates a Graph bearer token.
pub(crate) fn graph_caller(
    core: &Core,
    headers: &HeaderMap,
    now: Ms,
    ctx: &ReqCtx,
) -> Result<Caller, Response> {
    let Some(t) = bearer(headers) else {
        return Err(graph_401("Access token is empty.", ctx));
    };
    let Some(tok) = core.tokens.access.get(t) else {
        return Err(graph_401(
            "IDX14100: JWT is not well formed, there are no dots (.).",
            ctx,
        ));
    };
    if tok.expires <= now {
        return Err(graph_401(
            "Lifetime validation failed, the token is expired.",
            ctx,
        ));
    }
    if tok.audience != Audience::Graph {
        return Err(graph_401(
            "Access token validation failure. Invalid audience.",
            ctx,
        ));
    }
    Ok(Caller {
        user: tok.user.clone(),
        tenant: tok.tenant,
        app: tok.client_app,
        amr: tok.amr.clone(),
    })
}

/// A Partner Center ApiFault response.
pub(crate) fn pc_fault(status: StatusCode, code: i64, description: &str) -> Response {
    let body = json!({"code": code, "description": description, "data": [], "source": "PartnerFD"});
    crate::util::json_response(status, &body, "application/json; charset=utf-8")
}

/// Validates a Partner Center bearer token (audience, partner tenant, MFA for App+User).
pub(crate) fn pc_caller(
    core: &Core,
    cfg: &Config,
    headers: &HeaderMap,
    now: Ms,
) -> Result<Caller, Response> {
    let realm = format!(
        "OAuth realm=urn:cpsvc:cpid:{}",
        core.world.tenants[core.world.partner.tenant].id
    );
    let unauthorized = |code: i64, msg: &str| {
        with_header(
            pc_fault(StatusCode::UNAUTHORIZED, code, msg),
            "www-authenticate",
            &realm,
        )
    };
    let Some(t) = bearer(headers) else {
        return Err(unauthorized(
            800001,
            "Partner Token missing in request context",
        ));
    };
    let Some(tok) = core.tokens.access.get(t) else {
        return Err(unauthorized(
            400,
            "Access denied: the access token is invalid.",
        ));
    };
    if tok.expires <= now {
        return Err(unauthorized(
            400,
            "Access denied: the access token has expired.",
        ));
    }
    if tok.audience != Audience::PartnerCenter {
        return Err(unauthorized(
            400,
            "Access denied: invalid audience, expected https://api.partnercenter.microsoft.com.",
        ));
    }
    if tok.tenant != core.world.partner.tenant {
        return Err(pc_fault(
            StatusCode::FORBIDDEN,
            2032,
            "Access denied: the token was not issued by the partner tenant.",
        ));
    }
    let caller = Caller {
        user: tok.user.clone(),
        tenant: tok.tenant,
        app: tok.client_app,
        amr: tok.amr.clone(),
    };
    if caller.user.is_some() && cfg.require_mfa_for_partner_center && !caller.has_mfa() {
        let resp = pc_fault(
            StatusCode::UNAUTHORIZED,
            900421,
            "MFA required: the access token does not contain the 'mfa' authentication method reference (amr) claim. App+User calls to Partner Center APIs must use multi-factor authentication.",
        );
        let resp = with_header(resp, "www-authenticate", "Bearer error=\"invalid_token\"");
        return Err(with_header(resp, "ismfacompliant", "false"));
    }
    Ok(caller)
}
