//! Fake Microsoft Graph v1.0 under `{base}/graph/v1.0`.

pub(crate) mod consent;
pub(crate) mod directory;
pub(crate) mod groups;
pub(crate) mod relationships;

use std::collections::BTreeSet;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{Caller, graph_caller};
use crate::state::Core;
use crate::util::{
    Filter, Paging, Query, ReqCtx, graph_error, graph_json, next_link, paging, with_header,
};
use crate::world::{Ms, World};

/// Graph path prefix under the sandbox base URL.
pub(crate) const PREFIX: &str = "/graph/v1.0";

/// A handler's outcome: the answer, or the error answer that cut it short.
pub(crate) type R = Result<Response, Response>;

/// The answer of a handler's outcome, success or error.
pub(crate) fn done(r: R) -> Response {
    r.unwrap_or_else(|e| e)
}

/// One entity: `v` with its `@odata.context`, and a `Location` header when `location` is given.
pub(crate) fn entity(
    status: StatusCode,
    mut v: Value,
    ctx_url: String,
    location: Option<&str>,
) -> Response {
    if let Some(obj) = v.as_object_mut() {
        obj.insert("@odata.context".into(), json!(ctx_url));
    }
    let resp = graph_json(status, &v);
    match location {
        Some(l) => with_header(resp, "location", l),
        None => resp,
    }
}

/// A 404 `Request_ResourceNotFound` (directory style) for object `id`.
pub(crate) fn dir_not_found(id: &str, ctx: &ReqCtx) -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
        ctx,
    )
}

/// A 400 `badRequest` (GDAP style lower-camel code).
pub(crate) fn bad_request(msg: &str, ctx: &ReqCtx) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "badRequest", msg, ctx)
}

/// A 400 `Request_BadRequest` (directory style code).
pub(crate) fn dir_bad_request(msg: &str, ctx: &ReqCtx) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "Request_BadRequest", msg, ctx)
}

/// 403 `Authorization_RequestDenied`.
pub(crate) fn denied(ctx: &ReqCtx) -> Response {
    graph_error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        ctx,
    )
}

/// Parses a JSON body.
pub(crate) fn parse_body(body: &[u8], ctx: &ReqCtx) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad_request(
            "The request body is not a valid JSON object.",
            ctx,
        )),
    }
}

/// A caller of the GDAP (partner-side) endpoints: a token of the partner tenant. Writes by users
/// need AdminAgents membership; app-only writes need `DelegatedAdminRelationship.ReadWrite.All`.
pub(crate) fn gdap_caller(
    core: &Core,
    headers: &HeaderMap,
    now: Ms,
    ctx: &ReqCtx,
    write: bool,
) -> Result<Caller, Response> {
    let c = graph_caller(core, headers, now, ctx)?;
    let w = &core.world;
    if c.tenant != w.partner.tenant {
        return Err(graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "The delegated admin relationship APIs can only be called with a token of the partner tenant.",
            ctx,
        ));
    }
    if write {
        let ok = match &c.user {
            Some(u) => w.user_by_id(u).is_some_and(|u| {
                u.groups
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(&w.partner.admin_agents))
            }),
            None => w
                .app_graph_roles(c.tenant, c.app)
                .contains("DelegatedAdminRelationship.ReadWrite.All"),
        };
        if !ok {
            return Err(denied(ctx));
        }
    }
    Ok(c)
}

/// Roles (delegated) or app permissions (app-only) of a caller in its token's tenant.
pub(crate) fn caller_roles(w: &World, c: &Caller) -> (BTreeSet<String>, bool) {
    match &c.user {
        Some(u) => (w.user_roles(c.tenant, u), false),
        None => (w.app_graph_roles(c.tenant, c.app), true),
    }
}

/// Whether the caller holds one of `roles` (delegated) or one of `app_perms` (app-only).
pub(crate) fn allowed(w: &World, c: &Caller, roles: &[&str], app_perms: &[&str]) -> bool {
    let (held, app) = caller_roles(w, c);
    if app {
        app_perms.iter().any(|p| held.contains(*p))
    } else {
        roles.iter().any(|r| held.contains(*r))
    }
}

/// A page of a collection.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_offset: Option<usize>,
    pub(crate) total: Option<usize>,
}

/// Filters, pages and (optionally) counts `items`.
pub(crate) fn page<'a, T: 'a>(
    items: impl Iterator<Item = &'a T> + Clone,
    filter: Option<&Filter>,
    get: impl Fn(&T, &str) -> Option<String> + Copy,
    p: &Paging,
    count: bool,
) -> Page<&'a T> {
    let matches = move |x: &&T| filter.is_none_or(|f| f.matches(|path| get(x, path)));
    let total = count.then(|| items.clone().filter(matches).count());
    let mut out = Vec::with_capacity(p.top.min(300));
    let mut it = items.filter(matches).skip(p.skip);
    for x in it.by_ref().take(p.top) {
        out.push(x);
    }
    let more = it.next().is_some();
    Page {
        next_offset: more.then_some(p.skip + out.len()),
        items: out,
        total,
    }
}

/// Reads `$filter`, checking every property against `allowed`.
pub(crate) fn read_filter(
    q: &Query,
    allowed: &[&str],
    type_name: &str,
    ctx: &ReqCtx,
) -> Result<Option<Filter>, Response> {
    let Some(raw) = q.odata("filter") else {
        return Ok(None);
    };
    let f = Filter::parse(raw).map_err(|e| bad_request(&e, ctx))?;
    for p in f.paths() {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(p)) {
            return Err(bad_request(
                &format!(
                    "Invalid filter clause: Could not find a property named '{p}' on type '{type_name}'."
                ),
                ctx,
            ));
        }
    }
    Ok(Some(f))
}

/// Reads `$top`/`$skiptoken`.
pub(crate) fn read_paging(
    q: &Query,
    default: usize,
    max: usize,
    ctx: &ReqCtx,
) -> Result<Paging, Response> {
    paging(q, default, max).map_err(|e| bad_request(&e, ctx))
}

/// Whether `$count=true` was asked.
pub(crate) fn wants_count(q: &Query) -> bool {
    q.odata("count")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Builds a collection response body.
pub(crate) fn collection<T: serde::Serialize>(
    context: String,
    value: Vec<T>,
    next: Option<String>,
    total: Option<usize>,
) -> Response {
    #[derive(serde::Serialize)]
    struct Collection<T> {
        #[serde(rename = "@odata.context")]
        context: String,
        #[serde(rename = "@odata.count", skip_serializing_if = "Option::is_none")]
        count: Option<usize>,
        value: Vec<T>,
        #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    }
    let body = Collection {
        context,
        count: total,
        value,
        next,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(crate::util::GRAPH_JSON),
    );
    resp
}

/// The absolute nextLink for a Graph collection.
pub(crate) fn graph_next(
    base: &str,
    path: &str,
    q: &Query,
    next_offset: Option<usize>,
) -> Option<String> {
    next_offset.map(|o| next_link(base, path, q, o))
}
