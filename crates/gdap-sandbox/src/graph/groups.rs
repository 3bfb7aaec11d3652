//! Partner-tenant directory: security groups (`/groups`), their members (`/members`,
//! `/members/$ref`), users by id or UPN and the groups they belong to (`/transitiveMemberOf`).
//!
//! Membership lives in one place, each partner user's `groups` list, which is also what
//! customer-tenant token issuance reads: a member added here gains GDAP access wherever the
//! group has an active access assignment.
//!
//! Tenants: the groups and users are those of the partner tenant. A token of another tenant reads
//! that tenant's data (no groups; its synthetic users) and may not write (403).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::directory::{count_unsupported, eventual, render_synthetic_user, synthetic_user};
use super::{
    PREFIX, R, allowed, collection, denied, dir_bad_request, dir_not_found, done, entity,
    graph_next, page, read_filter, read_paging, wants_count,
};
use crate::auth::{Caller, graph_caller};
use crate::state::{Core, Shared};
use crate::stats::mark_duplicate;
use crate::util::{Query, ReqCtx, apply_select, is_guid, select_list};
use crate::well_known::roles as r;
use crate::world::{Group, Ms, User, World};

/// App permissions that allow reading groups and users.
const READ_APP_PERMS: &[&str] = &[
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "User.Read.All",
];
/// Home roles (partner tenant) that allow creating groups and changing memberships.
const WRITE_ROLES: &[&str] = &[
    r::GLOBAL_ADMINISTRATOR,
    r::GROUPS_ADMINISTRATOR,
    r::USER_ADMINISTRATOR,
];
const GROUP_WRITE_APP_PERMS: &[&str] = &["Group.ReadWrite.All", "Directory.ReadWrite.All"];
const MEMBER_WRITE_APP_PERMS: &[&str] = &[
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const GROUP_FILTERABLE: &[&str] = &[
    "id",
    "displayName",
    "mailNickname",
    "description",
    "securityEnabled",
    "mailEnabled",
];
const USER_FILTERABLE: &[&str] = &["id", "displayName", "userPrincipalName", "mail"];

/// Graph's answer when a member reference already exists.
const MEMBER_EXISTS: &str = "One or more added object references already exist for the following modified properties: 'members'.";

fn ctx_url(base: &str, frag: &str) -> String {
    format!("{base}{PREFIX}/$metadata#{frag}")
}

/// A caller allowed to read: any user of the partner tenant, a user holding a GDAP role in a
/// customer tenant, or an app with a read permission in its tenant.
fn reader(core: &Core, headers: &HeaderMap, now: Ms, ctx: &ReqCtx) -> Result<Caller, Response> {
    let c = graph_caller(core, headers, now, ctx)?;
    let w = &core.world;
    let ok = match &c.user {
        Some(u) => c.tenant == w.partner.tenant || !w.user_roles(c.tenant, u).is_empty(),
        None => READ_APP_PERMS
            .iter()
            .any(|p| w.app_graph_roles(c.tenant, c.app).contains(*p)),
    };
    if ok { Ok(c) } else { Err(denied(ctx)) }
}

/// A caller allowed to write: a partner-tenant token of a user holding Global Administrator,
/// Groups Administrator or User Administrator at home, or of an app holding one of `app_perms`.
fn writer(
    core: &Core,
    headers: &HeaderMap,
    now: Ms,
    ctx: &ReqCtx,
    app_perms: &[&str],
) -> Result<Caller, Response> {
    let c = graph_caller(core, headers, now, ctx)?;
    let w = &core.world;
    if c.tenant != w.partner.tenant || !allowed(w, &c, WRITE_ROLES, app_perms) {
        return Err(denied(ctx));
    }
    Ok(c)
}

fn is_member(u: &User, group_id: &str) -> bool {
    u.groups.iter().any(|g| g.eq_ignore_ascii_case(group_id))
}

fn render_group(w: &World, g: &Group) -> Value {
    json!({
        "id": g.id,
        "deletedDateTime": null,
        "createdDateTime": w.fmt_time(g.created),
        "description": g.description,
        "displayName": g.display_name,
        "groupTypes": [],
        "mail": null,
        "mailEnabled": false,
        "mailNickname": g.mail_nickname,
        "securityEnabled": true,
        "visibility": null,
    })
}

/// A group as a `directoryObject` item (`memberOf`-style lists carry the type).
fn render_group_object(w: &World, g: &Group) -> Value {
    let mut v = render_group(w, g);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("@odata.type".into(), json!("#microsoft.graph.group"));
    }
    v
}

fn group_field(g: &Group, p: &str) -> Option<String> {
    let eq = |s: &str| p.eq_ignore_ascii_case(s);
    if eq("displayName") {
        Some(g.display_name.clone())
    } else if eq("mailNickname") {
        Some(g.mail_nickname.clone())
    } else if eq("description") {
        g.description.clone()
    } else if eq("securityEnabled") {
        Some("true".into())
    } else if eq("mailEnabled") {
        Some("false".into())
    } else {
        Some(g.id.clone())
    }
}

fn render_user(u: &User) -> Value {
    json!({
        "id": u.id,
        "displayName": u.display_name,
        "userPrincipalName": u.upn,
        "mail": u.upn,
        "accountEnabled": true,
    })
}

fn user_field(u: &User, p: &str) -> Option<String> {
    let eq = |s: &str| p.eq_ignore_ascii_case(s);
    if eq("displayName") {
        Some(u.display_name.clone())
    } else if eq("userPrincipalName") || eq("mail") {
        Some(u.upn.clone())
    } else {
        Some(u.id.clone())
    }
}

/// The group `id` as the caller's tenant sees it: 400 for a malformed id, 404 when unknown (every
/// id outside the partner tenant).
fn find_group<'w>(w: &'w World, c: &Caller, id: &str, ctx: &ReqCtx) -> Result<&'w Group, Response> {
    if !is_guid(id) {
        return Err(dir_bad_request(
            &format!("Invalid object identifier '{id}'."),
            ctx,
        ));
    }
    if c.tenant != w.partner.tenant {
        return Err(dir_not_found(id, ctx));
    }
    w.partner_group(id).ok_or_else(|| dir_not_found(id, ctx))
}

/// A user found by id or UPN.
enum Who<'w> {
    /// A partner user (the ones that sign in).
    Partner(&'w User),
    /// Synthetic user `i` of the caller's tenant (what `GET /users` lists).
    Synthetic(usize),
}

fn find_user<'w>(w: &'w World, c: &Caller, key: &str, ctx: &ReqCtx) -> Result<Who<'w>, Response> {
    if c.tenant == w.partner.tenant
        && let Some(u) = w.user_by_id(key).or_else(|| w.user_by_upn(key))
    {
        return Ok(Who::Partner(u));
    }
    synthetic_user(&w.tenants[c.tenant], key)
        .map(Who::Synthetic)
        .ok_or_else(|| dir_not_found(key, ctx))
}

/// Parses a directory write body (a JSON object).
fn dir_body(body: &[u8], ctx: &ReqCtx) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(dir_bad_request(
            "Invalid request body: the body must be a JSON object.",
            ctx,
        )),
    }
}

fn required(p: &str, ctx: &ReqCtx) -> Response {
    dir_bad_request(
        &format!("A value is required for property '{p}' of resource 'Group'."),
        ctx,
    )
}

fn invalid(p: &str, ctx: &ReqCtx) -> Response {
    dir_bad_request(
        &format!("Invalid value specified for property '{p}' of resource 'Group'."),
        ctx,
    )
}

/// 1..=64 ASCII characters, none of `@ ( ) \ [ ] " ; : < > ,`, space or control characters.
fn valid_nickname(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'@' | b'('
                        | b')'
                        | b'\\'
                        | b'['
                        | b']'
                        | b'"'
                        | b';'
                        | b':'
                        | b'<'
                        | b'>'
                        | b','
                )
        })
}

/// The object id named by a `$ref` body: `{"@odata.id": ".../directoryObjects/{id}"}` (or
/// `.../users/{id}`).
fn ref_target(v: &Map<String, Value>, ctx: &ReqCtx) -> Result<String, Response> {
    let bad = || {
        dir_bad_request(
            "Invalid request body: '@odata.id' must be the URL of a directory object, such as https://graph.microsoft.com/v1.0/directoryObjects/{id}.",
            ctx,
        )
    };
    let url = v.get("@odata.id").and_then(Value::as_str).ok_or_else(bad)?;
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let mut segs = path.rsplit('/');
    let id = segs.next().unwrap_or("");
    let kind = segs.next().unwrap_or("");
    let kind_ok =
        kind.eq_ignore_ascii_case("directoryObjects") || kind.eq_ignore_ascii_case("users");
    if !kind_ok || !is_guid(id) {
        return Err(bad());
    }
    Ok(id.to_ascii_lowercase())
}

// ------------------------------------------------------------------ groups

/// `GET /groups`.
pub(crate) async fn list_groups(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let q = Query::parse(raw.as_deref());
        let filter = read_filter(&q, GROUP_FILTERABLE, "microsoft.graph.group", &ctx)?;
        let p = read_paging(&q, 100, 999, &ctx)?;
        let count = wants_count(&q);
        if count && !eventual(&headers) {
            return Err(count_unsupported(&ctx));
        }
        let w = &core.world;
        let groups: &[Group] = if c.tenant == w.partner.tenant {
            &w.partner.groups
        } else {
            &[]
        };
        let pg = page(groups.iter(), filter.as_ref(), group_field, &p, count);
        let select = select_list(&q);
        let value: Vec<Value> = pg
            .items
            .iter()
            .map(|g| apply_select(render_group(w, g), select.as_deref()))
            .collect();
        let next = graph_next(
            &s.config.base,
            &format!("{PREFIX}/groups"),
            &q,
            pg.next_offset,
        );
        Ok(collection(
            ctx_url(&s.config.base, "groups"),
            value,
            next,
            pg.total,
        ))
    })())
}

/// `POST /groups` (security groups only).
pub(crate) async fn create_group(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done(create_group_inner(
        &mut core,
        &s.config.base,
        now,
        &ctx,
        &headers,
        &body,
    ))
}

fn create_group_inner(
    core: &mut Core,
    base: &str,
    now: Ms,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    body: &[u8],
) -> R {
    writer(core, headers, now, ctx, GROUP_WRITE_APP_PERMS)?;
    let v = dir_body(body, ctx)?;
    let display_name = match v.get("displayName") {
        None | Some(Value::Null) => return Err(required("displayName", ctx)),
        Some(Value::String(n)) if (1..=256).contains(&n.chars().count()) => n.clone(),
        Some(_) => return Err(invalid("displayName", ctx)),
    };
    let nickname = match v.get("mailNickname") {
        None | Some(Value::Null) => return Err(required("mailNickname", ctx)),
        Some(Value::String(n)) if valid_nickname(n) => n.clone(),
        Some(_) => return Err(invalid("mailNickname", ctx)),
    };
    match v.get("mailEnabled") {
        Some(Value::Bool(false)) => {}
        None | Some(Value::Null) => return Err(required("mailEnabled", ctx)),
        Some(_) => return Err(invalid("mailEnabled", ctx)),
    }
    match v.get("securityEnabled") {
        Some(Value::Bool(true)) => {}
        None | Some(Value::Null) => return Err(required("securityEnabled", ctx)),
        Some(_) => return Err(invalid("securityEnabled", ctx)),
    }
    match v.get("groupTypes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) if a.is_empty() => {}
        Some(_) => return Err(invalid("groupTypes", ctx)),
    }
    let description = match v.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) if d.chars().count() <= 1024 => Some(d.clone()),
        Some(_) => return Err(invalid("description", ctx)),
    };
    let w = &mut core.world;
    let duplicate = !w.find_partner_groups(&display_name).is_empty();
    let id = w.create_partner_group(&display_name, &nickname, description.as_deref(), now);
    let g = w
        .partner_group(&id)
        .ok_or_else(|| dir_not_found(&id, ctx))?;
    let location = format!("{base}{PREFIX}/groups/{id}");
    let resp = entity(
        StatusCode::CREATED,
        render_group(w, g),
        ctx_url(base, "groups/$entity"),
        Some(&location),
    );
    Ok(if duplicate {
        mark_duplicate(resp, "group")
    } else {
        resp
    })
}

/// `GET /groups/{id}`.
pub(crate) async fn get_group(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let w = &core.world;
        let g = find_group(w, &c, &id, &ctx)?;
        let q = Query::parse(raw.as_deref());
        Ok(entity(
            StatusCode::OK,
            apply_select(render_group(w, g), select_list(&q).as_deref()),
            ctx_url(&s.config.base, "groups/$entity"),
            None,
        ))
    })())
}

/// `GET /groups/{id}/members` (users only: the sandbox has no nested groups).
pub(crate) async fn list_members(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let w = &core.world;
        let g = find_group(w, &c, &id, &ctx)?;
        let q = Query::parse(raw.as_deref());
        let filter = read_filter(&q, USER_FILTERABLE, "microsoft.graph.user", &ctx)?;
        let p = read_paging(&q, 100, 999, &ctx)?;
        let count = wants_count(&q);
        if count && !eventual(&headers) {
            return Err(count_unsupported(&ctx));
        }
        let gid = g.id.as_str();
        let members = w.partner.users.iter().filter(move |u| is_member(u, gid));
        let pg = page(members, filter.as_ref(), user_field, &p, count);
        let select = select_list(&q);
        let value: Vec<Value> = pg
            .items
            .iter()
            .map(|u| {
                let mut v = render_user(u);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("@odata.type".into(), json!("#microsoft.graph.user"));
                }
                apply_select(v, select.as_deref())
            })
            .collect();
        let next = graph_next(&s.config.base, uri.path(), &q, pg.next_offset);
        Ok(collection(
            ctx_url(&s.config.base, "directoryObjects"),
            value,
            next,
            pg.total,
        ))
    })())
}

/// `POST /groups/{id}/members/$ref`.
pub(crate) async fn add_member(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = writer(&core, &headers, now, &ctx, MEMBER_WRITE_APP_PERMS)?;
        let v = dir_body(&body, &ctx)?;
        let member = ref_target(&v, &ctx)?;
        let w = &mut core.world;
        let gid = find_group(w, &c, &id, &ctx)?.id.clone();
        if w.partner_group(&member).is_some() {
            return Err(dir_bad_request(
                "The sandbox does not support nested groups: only users can be added as members.",
                &ctx,
            ));
        }
        let Some(u) = w
            .partner
            .users
            .iter_mut()
            .find(|u| u.id.eq_ignore_ascii_case(&member))
        else {
            return Err(dir_not_found(&member, &ctx));
        };
        if is_member(u, &gid) {
            return Ok(mark_duplicate(
                dir_bad_request(MEMBER_EXISTS, &ctx),
                "groupMember",
            ));
        }
        u.groups.push(gid);
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

/// `DELETE /groups/{id}/members/{memberId}/$ref`.
pub(crate) async fn remove_member(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, member)): Path<(String, String)>,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = writer(&core, &headers, now, &ctx, MEMBER_WRITE_APP_PERMS)?;
        let w = &mut core.world;
        let gid = find_group(w, &c, &id, &ctx)?.id.clone();
        let Some(u) = w
            .partner
            .users
            .iter_mut()
            .find(|u| u.id.eq_ignore_ascii_case(&member) && is_member(u, &gid))
        else {
            return Err(dir_not_found(&member, &ctx));
        };
        u.groups.retain(|g| !g.eq_ignore_ascii_case(&gid));
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

// ------------------------------------------------------------------ users

/// `GET /users/{idOrUserPrincipalName}`.
pub(crate) async fn get_user(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let w = &core.world;
        let v = match find_user(w, &c, &key, &ctx)? {
            Who::Partner(u) => render_user(u),
            Who::Synthetic(i) => render_synthetic_user(&w.tenants[c.tenant], i),
        };
        let q = Query::parse(raw.as_deref());
        Ok(entity(
            StatusCode::OK,
            apply_select(v, select_list(&q).as_deref()),
            ctx_url(&s.config.base, "users/$entity"),
            None,
        ))
    })())
}

/// `GET /users/{id}/transitiveMemberOf` (also `/memberOf` and the
/// `/transitiveMemberOf/microsoft.graph.group` cast): the user's groups. Without nested groups,
/// direct and transitive membership are the same; directory roles are not listed.
pub(crate) async fn member_of(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let w = &core.world;
        let user = match find_user(w, &c, &key, &ctx)? {
            Who::Partner(u) => Some(u),
            Who::Synthetic(_) => None,
        };
        let q = Query::parse(raw.as_deref());
        let filter = read_filter(&q, GROUP_FILTERABLE, "microsoft.graph.group", &ctx)?;
        let p = read_paging(&q, 100, 999, &ctx)?;
        let count = wants_count(&q);
        if count && !eventual(&headers) {
            return Err(count_unsupported(&ctx));
        }
        let groups = w
            .partner
            .groups
            .iter()
            .filter(move |g| user.is_some_and(|u| is_member(u, &g.id)));
        let pg = page(groups, filter.as_ref(), group_field, &p, count);
        let select = select_list(&q);
        let value: Vec<Value> = pg
            .items
            .iter()
            .map(|g| apply_select(render_group_object(w, g), select.as_deref()))
            .collect();
        let next = graph_next(&s.config.base, uri.path(), &q, pg.next_offset);
        Ok(collection(
            ctx_url(&s.config.base, "directoryObjects"),
            value,
            next,
            pg.total,
        ))
    })())
}
