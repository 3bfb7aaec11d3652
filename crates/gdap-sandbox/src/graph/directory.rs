//! Customer-tenant Graph: `GET /organization` and `GET /users/$count` (graph-gdap.md §4).

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{PREFIX, collection, denied, dir_not_found, done, entity, graph_next, read_paging};
use crate::auth::{Caller, graph_caller};
use crate::state::{Core, Shared};
use crate::util::{Query, ReqCtx, apply_select, graph_error, header_str, select_list};
use crate::world::{Ms, Tenant, World};

const APP_PERMS: &[&str] = &[
    "Organization.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "User.Read.All",
];

fn caller(core: &Core, headers: &HeaderMap, now: Ms, ctx: &ReqCtx) -> Result<Caller, Response> {
    let c = graph_caller(core, headers, now, ctx)?;
    let w = &core.world;
    let ok = match &c.user {
        Some(u) => c.tenant == w.partner.tenant || !w.user_roles(c.tenant, u).is_empty(),
        None => APP_PERMS
            .iter()
            .any(|p| w.app_graph_roles(c.tenant, c.app).contains(*p)),
    };
    if ok { Ok(c) } else { Err(denied(ctx)) }
}

fn render_org(w: &World, t: usize) -> Value {
    let tn = &w.tenants[t];
    json!({
        "id": tn.id,
        "deletedDateTime": null,
        "displayName": tn.display_name,
        "tenantType": "AAD",
        "countryLetterCode": tn.country,
        "preferredLanguage": "en",
        "createdDateTime": w.fmt_time(tn.created),
        "businessPhones": [],
        "technicalNotificationMails": [format!("admin@{}", tn.domain)],
        "verifiedDomains": [{
            "capabilities": "Email, OfficeCommunicationsOnline",
            "isDefault": true,
            "isInitial": true,
            "name": tn.domain,
            "type": "Managed",
        }],
    })
}

/// `GET /organization`.
pub(crate) async fn list_organization(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = caller(&core, &headers, now, &ctx)?;
        let q = Query::parse(raw.as_deref());
        let v = apply_select(
            render_org(&core.world, c.tenant),
            select_list(&q).as_deref(),
        );
        Ok(collection(
            format!("{}{PREFIX}/$metadata#organization", s.config.base),
            vec![v],
            None,
            None,
        ))
    })())
}

/// `GET /organization/{id}`.
pub(crate) async fn get_organization(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = caller(&core, &headers, now, &ctx)?;
        let w = &core.world;
        if !w.tenants[c.tenant].id.eq_ignore_ascii_case(&id) {
            return Err(dir_not_found(&id, &ctx));
        }
        let q = Query::parse(raw.as_deref());
        let v = apply_select(render_org(w, c.tenant), select_list(&q).as_deref());
        Ok(entity(
            StatusCode::OK,
            v,
            format!("{}{PREFIX}/$metadata#organization/$entity", s.config.base),
            None,
        ))
    })())
}

/// The JSON of synthetic user `i` (0-based) of a tenant, as `GET /users` lists them.
pub(crate) fn render_synthetic_user(tn: &Tenant, i: usize) -> Value {
    let prefix = &tn.id[..8];
    json!({
        "id": format!("{prefix}-0000-4000-8000-{i:012}"),
        "displayName": format!("User {}", i + 1),
        "userPrincipalName": format!("user{}@{}", i + 1, tn.domain),
        "mail": format!("user{}@{}", i + 1, tn.domain),
        "accountEnabled": true,
    })
}

/// The index of the synthetic user of a tenant named by `key` (its id, or its UPN compared
/// case-insensitively), if there is one.
pub(crate) fn synthetic_user(tn: &Tenant, key: &str) -> Option<usize> {
    let total = usize::try_from(tn.user_count).unwrap_or(usize::MAX);
    let key = key.to_ascii_lowercase();
    let by_id = key
        .strip_prefix(&tn.id[..8])
        .and_then(|rest| rest.strip_prefix("-0000-4000-8000-"))
        .filter(|digits| digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<usize>().ok());
    let i = match by_id {
        Some(i) => i,
        None => {
            let (local, domain) = key.split_once('@')?;
            if !domain.eq_ignore_ascii_case(&tn.domain) {
                return None;
            }
            let n: usize = local
                .strip_prefix("user")?
                .parse()
                .ok()
                .filter(|n| *n >= 1)?;
            n - 1
        }
    };
    (i < total).then_some(i)
}

pub(crate) fn eventual(headers: &HeaderMap) -> bool {
    header_str(headers, "consistencylevel")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

pub(crate) fn count_unsupported(ctx: &ReqCtx) -> Response {
    graph_error(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        "$count is not currently supported.",
        ctx,
    )
}

/// `GET /users/$count` (needs `ConsistencyLevel: eventual`) -> `text/plain` integer.
pub(crate) async fn users_count(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = caller(&core, &headers, now, &ctx)?;
        if !eventual(&headers) {
            return Err(count_unsupported(&ctx));
        }
        let n = core.world.tenants[c.tenant].user_count;
        let mut resp = (StatusCode::OK, n.to_string()).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        Ok(resp)
    })())
}

/// `GET /users` (synthetic users; `$top`, `$count=true` with `ConsistencyLevel: eventual`, paging).
pub(crate) async fn list_users(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = caller(&core, &headers, now, &ctx)?;
        let q = Query::parse(raw.as_deref());
        let count = q
            .odata("count")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if count && !eventual(&headers) {
            return Err(count_unsupported(&ctx));
        }
        let p = read_paging(&q, 100, 999, &ctx)?;
        let w = &core.world;
        let tn = &w.tenants[c.tenant];
        let total = tn.user_count as usize;
        let end = (p.skip + p.top).min(total);
        let select = select_list(&q);
        let value = (p.skip..end)
            .map(|i| apply_select(render_synthetic_user(tn, i), select.as_deref()))
            .collect();
        let next = graph_next(
            &s.config.base,
            &format!("{PREFIX}/users"),
            &q,
            (end < total).then_some(end),
        );
        Ok(collection(
            format!("{}{PREFIX}/$metadata#users", s.config.base),
            value,
            next,
            count.then_some(total),
        ))
    })())
}
