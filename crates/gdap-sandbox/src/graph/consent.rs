//! Customer-tenant Graph: servicePrincipals, appRoleAssignments / appRoleAssignedTo and
//! oauth2PermissionGrants (graph-gdap.md §3).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{
    PREFIX, allowed, collection, denied, dir_bad_request, dir_not_found, done, entity, graph_next,
    page, read_filter, read_paging, wants_count,
};
use crate::auth::{Caller, graph_caller};
use crate::state::{Core, Shared};
use crate::stats::mark_duplicate;
use crate::util::{Query, ReqCtx, apply_select, graph_error, select_list};
use crate::well_known::roles as r;
use crate::world::{AppRoleAssignment, Grant, Ms, ServicePrincipal, World, catalog};

const READ_ROLES_APP: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
];
const SP_WRITE_ROLES: &[&str] = &[
    r::APPLICATION_ADMINISTRATOR,
    r::CLOUD_APPLICATION_ADMINISTRATOR,
    r::GLOBAL_ADMINISTRATOR,
];
const GRAPH_APP_ROLE_ROLES: &[&str] = &[r::PRIVILEGED_ROLE_ADMINISTRATOR, r::GLOBAL_ADMINISTRATOR];
const OTHER_APP_ROLE_ROLES: &[&str] = &[
    r::APPLICATION_ADMINISTRATOR,
    r::CLOUD_APPLICATION_ADMINISTRATOR,
    r::PRIVILEGED_ROLE_ADMINISTRATOR,
    r::GLOBAL_ADMINISTRATOR,
];
const GRANT_ROLES: &[&str] = &[
    r::APPLICATION_ADMINISTRATOR,
    r::CLOUD_APPLICATION_ADMINISTRATOR,
    r::PRIVILEGED_ROLE_ADMINISTRATOR,
    r::GLOBAL_ADMINISTRATOR,
];

fn ctx_url(base: &str, frag: &str) -> String {
    format!("{base}{PREFIX}/$metadata#{frag}")
}

/// A caller allowed to read directory objects of its token's tenant (any GDAP role / home role, or
/// an app with a read permission).
fn reader(core: &Core, headers: &HeaderMap, now: Ms, ctx: &ReqCtx) -> Result<Caller, Response> {
    let c = graph_caller(core, headers, now, ctx)?;
    let w = &core.world;
    let ok = match &c.user {
        Some(u) => !w.user_roles(c.tenant, u).is_empty(),
        None => READ_ROLES_APP
            .iter()
            .any(|p| w.app_graph_roles(c.tenant, c.app).contains(*p)),
    };
    if ok { Ok(c) } else { Err(denied(ctx)) }
}

/// Whether the caller may write service principals, else a 403.
fn sp_writer(w: &World, c: &Caller, ctx: &ReqCtx) -> Result<(), Response> {
    if allowed(
        w,
        c,
        SP_WRITE_ROLES,
        &["Application.ReadWrite.All", "Directory.ReadWrite.All"],
    ) {
        Ok(())
    } else {
        Err(denied(ctx))
    }
}

/// Whether the caller may write oauth2PermissionGrants, else a 403.
fn grant_writer(w: &World, c: &Caller, ctx: &ReqCtx) -> Result<(), Response> {
    if allowed(
        w,
        c,
        GRANT_ROLES,
        &[
            "DelegatedPermissionGrant.ReadWrite.All",
            "Directory.ReadWrite.All",
        ],
    ) {
        Ok(())
    } else {
        Err(denied(ctx))
    }
}

/// A request body as JSON (any JSON value), else a directory style 400.
fn json_body(body: &[u8], ctx: &ReqCtx) -> Result<Value, Response> {
    serde_json::from_slice(body)
        .map_err(|_| dir_bad_request("Invalid JSON in the request body.", ctx))
}

fn render_sp(w: &World, t: usize, sp: &ServicePrincipal) -> Value {
    let app = &w.apps[sp.app];
    let _ = t;
    json!({
        "id": sp.id,
        "deletedDateTime": null,
        "accountEnabled": true,
        "appId": app.app_id,
        "appDisplayName": app.display_name,
        "displayName": app.display_name,
        "appOwnerOrganizationId": app.owner_tenant,
        "servicePrincipalType": "Application",
        "servicePrincipalNames": [app.app_id],
        "signInAudience": "AzureADMultipleOrgs",
        "tags": [],
        "appRoles": app.app_roles.iter().map(|r| json!({
            "allowedMemberTypes": ["Application"],
            "description": format!("Allows the app to {} without a signed-in user.", r.display_name.to_ascii_lowercase()),
            "displayName": r.display_name,
            "id": r.id,
            "isEnabled": true,
            "origin": "Application",
            "value": r.value,
        })).collect::<Vec<_>>(),
        "oauth2PermissionScopes": app.scopes.iter().map(|s| json!({
            "adminConsentDescription": format!("Allows the app to use {} on behalf of the signed-in user.", s.value),
            "adminConsentDisplayName": s.value,
            "id": s.id,
            "isEnabled": true,
            "origin": "",
            "type": if s.admin_only { "Admin" } else { "User" },
            "userConsentDescription": format!("Allows the app to use {} on your behalf.", s.value),
            "userConsentDisplayName": s.value,
            "value": s.value,
        })).collect::<Vec<_>>(),
    })
}

fn render_ara(w: &World, t: usize, a: &AppRoleAssignment) -> Value {
    let tn = &w.tenants[t];
    let name = |id: &str| tn.sp_by_id(id).map(|s| w.apps[s.app].display_name.clone());
    json!({
        "id": a.id,
        "deletedDateTime": null,
        "appRoleId": a.app_role_id,
        "createdDateTime": w.fmt_time(a.created),
        "principalDisplayName": name(&a.principal_id),
        "principalId": a.principal_id,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": name(&a.resource_id),
        "resourceId": a.resource_id,
    })
}

fn render_grant(g: &Grant) -> Value {
    json!({
        "clientId": g.client_id,
        "consentType": g.consent_type,
        "id": g.id,
        "principalId": g.principal_id,
        "resourceId": g.resource_id,
        "scope": g.scope,
    })
}

fn sp_field(w: &World, sp: &ServicePrincipal, p: &str) -> Option<String> {
    let app = &w.apps[sp.app];
    if p.eq_ignore_ascii_case("appId") {
        Some(app.app_id.clone())
    } else if p.eq_ignore_ascii_case("displayName") {
        Some(app.display_name.clone())
    } else if p.eq_ignore_ascii_case("id") {
        Some(sp.id.clone())
    } else {
        None
    }
}

// ------------------------------------------------------------------ service principals

/// `GET /servicePrincipals` (`$filter=appId eq '...'`, `displayName`, `id`; `$select`, `$top`).
pub(crate) async fn list_sps(
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
        let w = &core.world;
        let filter = read_filter(
            &q,
            &["appId", "displayName", "id"],
            "microsoft.graph.servicePrincipal",
            &ctx,
        )?;
        let p = read_paging(&q, 100, 999, &ctx)?;
        let pg = page(
            w.tenants[c.tenant].sps.iter(),
            filter.as_ref(),
            |sp, f| sp_field(w, sp, f),
            &p,
            wants_count(&q),
        );
        let select = select_list(&q);
        let value = pg
            .items
            .iter()
            .map(|sp| apply_select(render_sp(w, c.tenant, sp), select.as_deref()))
            .collect();
        let next = graph_next(
            &s.config.base,
            &format!("{PREFIX}/servicePrincipals"),
            &q,
            pg.next_offset,
        );
        Ok(collection(
            ctx_url(&s.config.base, "servicePrincipals"),
            value,
            next,
            pg.total,
        ))
    })())
}

/// `GET /servicePrincipals/{id}`.
pub(crate) async fn get_sp(
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
        let sp = w.tenants[c.tenant]
            .sp_by_id(&id)
            .ok_or_else(|| dir_not_found(&id, &ctx))?;
        let q = Query::parse(raw.as_deref());
        let v = apply_select(render_sp(w, c.tenant, sp), select_list(&q).as_deref());
        Ok(entity(
            StatusCode::OK,
            v,
            ctx_url(&s.config.base, "servicePrincipals/$entity"),
            None,
        ))
    })())
}

/// `GET /servicePrincipals(appId='{appId}')` and other `/graph/v1.0/{segment}` paths.
pub(crate) async fn get_sp_by_key(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(app_id) = segment
        .strip_prefix("servicePrincipals(appId=")
        .and_then(|x| x.strip_suffix(')'))
        .map(|x| x.trim_matches('\''))
        .map(str::to_string)
    else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "UnknownError",
            "Resource not found for the segment.",
            &ctx,
        );
    };
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let w = &core.world;
        let sp = w
            .app_idx(&app_id)
            .and_then(|a| w.tenants[c.tenant].sp_by_app(a))
            .ok_or_else(|| dir_not_found(&format!("servicePrincipals(appId='{app_id}')"), &ctx))?;
        let q = Query::parse(raw.as_deref());
        let v = apply_select(render_sp(w, c.tenant, sp), select_list(&q).as_deref());
        Ok(entity(
            StatusCode::OK,
            v,
            ctx_url(&s.config.base, "servicePrincipals/$entity"),
            None,
        ))
    })())
}

/// `POST /servicePrincipals` `{"appId": "..."}`: Application Administrator, Cloud Application
/// Administrator or Global Administrator.
pub(crate) async fn create_sp(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = graph_caller(&core, &headers, now, &ctx)?;
        let w = &mut core.world;
        sp_writer(w, &c, &ctx)?;
        let v = json_body(&body, &ctx)?;
        let app_id = v
            .get("appId")
            .and_then(Value::as_str)
            .ok_or_else(|| dir_bad_request("The appId property is required.", &ctx))?;
        let app = w.app_idx(app_id).ok_or_else(|| {
            dir_bad_request(&format!("The appId '{app_id}' of the service principal does not reference a valid application object."), &ctx)
        })?;
        if w.tenants[c.tenant].sp_by_app(app).is_some() {
            let resp = graph_error(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                "Another object with the same value for property servicePrincipalNames already exists.",
                &ctx,
            );
            return Ok(mark_duplicate(resp, "servicePrincipal"));
        }
        let id = w.ensure_sp(c.tenant, app, now);
        let t = c.tenant;
        let sp = w.tenants[t]
            .sp_by_id(&id)
            .cloned()
            .ok_or_else(|| dir_not_found(&id, &ctx))?;
        Ok(entity(
            StatusCode::CREATED,
            render_sp(w, t, &sp),
            ctx_url(&s.config.base, "servicePrincipals/$entity"),
            Some(&format!("{}{PREFIX}/servicePrincipals/{id}", s.config.base)),
        ))
    })())
}

/// `DELETE /servicePrincipals/{id}`.
pub(crate) async fn delete_sp(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = graph_caller(&core, &headers, now, &ctx)?;
        let w = &mut core.world;
        sp_writer(w, &c, &ctx)?;
        let sp = w.tenants[c.tenant]
            .sp_by_id(&id)
            .cloned()
            .ok_or_else(|| dir_not_found(&id, &ctx))?;
        if sp.app < catalog::first_party().len() {
            return Err(dir_bad_request(
                "First-party service principals can't be deleted in the sandbox.",
                &ctx,
            ));
        }
        w.delete_sp(c.tenant, &sp.id);
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

// ------------------------------------------------------------------ app role assignments

/// Which side of the assignment the path service principal is.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Side {
    /// `/servicePrincipals/{clientId}/appRoleAssignments`.
    Principal,
    /// `/servicePrincipals/{resourceId}/appRoleAssignedTo`.
    Resource,
}

impl Side {
    /// The path segment of this side's collection.
    fn segment(self) -> &'static str {
        match self {
            Side::Principal => "appRoleAssignments",
            Side::Resource => "appRoleAssignedTo",
        }
    }

    /// Whether service principal `sp_id` is on this side of `a`.
    fn holds(self, a: &AppRoleAssignment, sp_id: &str) -> bool {
        match self {
            Side::Principal => a.principal_id == sp_id,
            Side::Resource => a.resource_id == sp_id,
        }
    }
}

async fn list_ara(
    s: Shared,
    ctx: ReqCtx,
    headers: HeaderMap,
    id: String,
    raw: Option<String>,
    side: Side,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let w = &core.world;
        let tn = &w.tenants[c.tenant];
        let sp = tn.sp_by_id(&id).ok_or_else(|| dir_not_found(&id, &ctx))?;
        let q = Query::parse(raw.as_deref());
        let filter = read_filter(
            &q,
            &[
                "resourceId",
                "principalId",
                "appRoleId",
                "principalDisplayName",
            ],
            "microsoft.graph.appRoleAssignment",
            &ctx,
        )?;
        let p = read_paging(&q, 100, 999, &ctx)?;
        let mine = tn
            .app_role_assignments
            .iter()
            .filter(|a| side.holds(a, &sp.id));
        let get = |a: &AppRoleAssignment, f: &str| -> Option<String> {
            if f.eq_ignore_ascii_case("resourceId") {
                Some(a.resource_id.clone())
            } else if f.eq_ignore_ascii_case("principalId") {
                Some(a.principal_id.clone())
            } else if f.eq_ignore_ascii_case("appRoleId") {
                Some(a.app_role_id.clone())
            } else {
                tn.sp_by_id(&a.principal_id)
                    .map(|s| w.apps[s.app].display_name.clone())
            }
        };
        let pg = page(mine, filter.as_ref(), get, &p, wants_count(&q));
        let select = select_list(&q);
        let value = pg
            .items
            .iter()
            .map(|a| apply_select(render_ara(w, c.tenant, a), select.as_deref()))
            .collect();
        let seg = side.segment();
        let next = graph_next(
            &s.config.base,
            &format!("{PREFIX}/servicePrincipals/{id}/{seg}"),
            &q,
            pg.next_offset,
        );
        Ok(collection(
            ctx_url(&s.config.base, &format!("servicePrincipals('{id}')/{seg}")),
            value,
            next,
            pg.total,
        ))
    })())
}

async fn create_ara(
    s: Shared,
    ctx: ReqCtx,
    headers: HeaderMap,
    id: String,
    body: Bytes,
    side: Side,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = graph_caller(&core, &headers, now, &ctx)?;
        let w = &mut core.world;
        let t = c.tenant;
        let path_sp = w.tenants[t]
            .sp_by_id(&id)
            .cloned()
            .ok_or_else(|| dir_not_found(&id, &ctx))?;
        let v = json_body(&body, &ctx)?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (principal_id, resource_id, app_role_id) = (
            field("principalId"),
            field("resourceId"),
            field("appRoleId"),
        );
        let check_path = match side {
            Side::Principal => principal_id.eq_ignore_ascii_case(&path_sp.id),
            Side::Resource => resource_id.eq_ignore_ascii_case(&path_sp.id),
        };
        if !check_path {
            let prop = if side == Side::Principal {
                "principalId"
            } else {
                "resourceId"
            };
            return Err(dir_bad_request(
                &format!(
                    "The {prop} in the body must match the service principal in the request URL."
                ),
                &ctx,
            ));
        }
        let principal = w.tenants[t].sp_by_id(&principal_id).cloned().ok_or_else(|| {
            dir_bad_request("Invalid value specified for property 'principalId' of resource 'AppRoleAssignment'.", &ctx)
        })?;
        let resource = w.tenants[t].sp_by_id(&resource_id).cloned().ok_or_else(|| {
            dir_bad_request("Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.", &ctx)
        })?;
        let needed = if resource.app == catalog::GRAPH {
            GRAPH_APP_ROLE_ROLES
        } else {
            OTHER_APP_ROLE_ROLES
        };
        if !allowed(w, &c, needed, &["AppRoleAssignment.ReadWrite.All"]) {
            return Err(denied(&ctx));
        }
        let default_access = app_role_id == "00000000-0000-0000-0000-000000000000"
            && w.apps[resource.app].app_roles.is_empty();
        if w.apps[resource.app].app_role(&app_role_id).is_none() && !default_access {
            return Err(dir_bad_request(
                &format!(
                    "Permission being assigned was not found on application '{}'.",
                    w.apps[resource.app].app_id
                ),
                &ctx,
            ));
        }
        let dup = w.tenants[t].app_role_assignments.iter().any(|a| {
            a.principal_id == principal.id
                && a.resource_id == resource.id
                && a.app_role_id.eq_ignore_ascii_case(&app_role_id)
        });
        if dup {
            let resp = dir_bad_request(
                "Permission being assigned already exists on the object.",
                &ctx,
            );
            return Ok(mark_duplicate(resp, "appRoleAssignment"));
        }
        let aid = w.new_opaque_id();
        let a = AppRoleAssignment {
            id: aid.clone(),
            principal_id: principal.id.clone(),
            resource_id: resource.id.clone(),
            app_role_id: app_role_id.to_ascii_lowercase(),
            created: now,
        };
        w.tenants[t].app_role_assignments.push(a.clone());
        let seg = side.segment();
        Ok(entity(
            StatusCode::CREATED,
            render_ara(w, t, &a),
            ctx_url(
                &s.config.base,
                &format!("servicePrincipals('{id}')/{seg}/$entity"),
            ),
            Some(&format!(
                "{}{PREFIX}/servicePrincipals/{id}/{seg}/{aid}",
                s.config.base
            )),
        ))
    })())
}

async fn delete_ara(
    s: Shared,
    ctx: ReqCtx,
    headers: HeaderMap,
    id: String,
    aid: String,
    side: Side,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = graph_caller(&core, &headers, now, &ctx)?;
        let w = &mut core.world;
        let t = c.tenant;
        let sp = w.tenants[t]
            .sp_by_id(&id)
            .cloned()
            .ok_or_else(|| dir_not_found(&id, &ctx))?;
        let a = w.tenants[t]
            .app_role_assignments
            .iter()
            .find(|a| a.id == aid && side.holds(a, &sp.id))
            .cloned()
            .ok_or_else(|| dir_not_found(&aid, &ctx))?;
        let graph = w.tenants[t]
            .sp_by_app(catalog::GRAPH)
            .is_some_and(|g| g.id == a.resource_id);
        let needed = if graph {
            GRAPH_APP_ROLE_ROLES
        } else {
            OTHER_APP_ROLE_ROLES
        };
        if !allowed(w, &c, needed, &["AppRoleAssignment.ReadWrite.All"]) {
            return Err(denied(&ctx));
        }
        w.tenants[t].app_role_assignments.retain(|x| x.id != a.id);
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

/// `GET /servicePrincipals/{id}/appRoleAssignments`.
pub(crate) async fn list_app_role_assignments(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_ara(s, ctx, headers, id, raw, Side::Principal).await
}

/// `GET /servicePrincipals/{id}/appRoleAssignedTo`.
pub(crate) async fn list_app_role_assigned_to(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_ara(s, ctx, headers, id, raw, Side::Resource).await
}

/// `POST /servicePrincipals/{id}/appRoleAssignments`.
pub(crate) async fn create_app_role_assignment(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    create_ara(s, ctx, headers, id, body, Side::Principal).await
}

/// `POST /servicePrincipals/{id}/appRoleAssignedTo`.
pub(crate) async fn create_app_role_assigned_to(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    create_ara(s, ctx, headers, id, body, Side::Resource).await
}

/// `DELETE /servicePrincipals/{id}/appRoleAssignments/{assignmentId}`.
pub(crate) async fn delete_app_role_assignment(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, aid)): Path<(String, String)>,
) -> Response {
    delete_ara(s, ctx, headers, id, aid, Side::Principal).await
}

/// `DELETE /servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}`.
pub(crate) async fn delete_app_role_assigned_to(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, aid)): Path<(String, String)>,
) -> Response {
    delete_ara(s, ctx, headers, id, aid, Side::Resource).await
}

// ------------------------------------------------------------------ oauth2PermissionGrants

fn grant_field(g: &Grant, f: &str) -> Option<String> {
    if f.eq_ignore_ascii_case("clientId") {
        Some(g.client_id.clone())
    } else if f.eq_ignore_ascii_case("resourceId") {
        Some(g.resource_id.clone())
    } else if f.eq_ignore_ascii_case("consentType") {
        Some(g.consent_type.clone())
    } else if f.eq_ignore_ascii_case("principalId") {
        g.principal_id.clone()
    } else {
        Some(g.id.clone())
    }
}

async fn list_grants_inner(
    s: Shared,
    ctx: ReqCtx,
    headers: HeaderMap,
    raw: Option<String>,
    client: Option<String>,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let w = &core.world;
        let tn = &w.tenants[c.tenant];
        if let Some(cl) = &client {
            tn.sp_by_id(cl).ok_or_else(|| dir_not_found(cl, &ctx))?;
        }
        let q = Query::parse(raw.as_deref());
        let filter = read_filter(
            &q,
            &["clientId", "resourceId", "consentType", "principalId", "id"],
            "microsoft.graph.oAuth2PermissionGrant",
            &ctx,
        )?;
        let p = read_paging(&q, 100, 999, &ctx)?;
        let items = tn.grants.iter().filter(|g| {
            client
                .as_ref()
                .is_none_or(|cl| g.client_id.eq_ignore_ascii_case(cl))
        });
        let pg = page(items, filter.as_ref(), grant_field, &p, wants_count(&q));
        let select = select_list(&q);
        let value = pg
            .items
            .iter()
            .map(|g| apply_select(render_grant(g), select.as_deref()))
            .collect();
        let path = match &client {
            Some(cl) => format!("{PREFIX}/servicePrincipals/{cl}/oauth2PermissionGrants"),
            None => format!("{PREFIX}/oauth2PermissionGrants"),
        };
        let next = graph_next(&s.config.base, &path, &q, pg.next_offset);
        Ok(collection(
            ctx_url(&s.config.base, "oauth2PermissionGrants"),
            value,
            next,
            pg.total,
        ))
    })())
}

/// `GET /oauth2PermissionGrants` (`$filter` on clientId / resourceId / consentType / principalId).
pub(crate) async fn list_grants(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    list_grants_inner(s, ctx, headers, raw, None).await
}

/// `GET /servicePrincipals/{id}/oauth2PermissionGrants`.
pub(crate) async fn list_sp_grants(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_grants_inner(s, ctx, headers, raw, Some(id)).await
}

/// `GET /oauth2PermissionGrants/{id}`.
pub(crate) async fn get_grant(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        let c = reader(&core, &headers, now, &ctx)?;
        let g = core.world.tenants[c.tenant]
            .grants
            .iter()
            .find(|g| g.id == id)
            .ok_or_else(|| dir_not_found(&id, &ctx))?;
        Ok(entity(
            StatusCode::OK,
            render_grant(g),
            ctx_url(&s.config.base, "oauth2PermissionGrants/$entity"),
            None,
        ))
    })())
}

fn validate_scope(
    w: &World,
    resource_app: usize,
    scope: &str,
    ctx: &ReqCtx,
) -> Result<String, Response> {
    if scope.len() > 3850 {
        return Err(dir_bad_request(
            "The scope value exceeds the maximum length of 3850 characters.",
            ctx,
        ));
    }
    let app = &w.apps[resource_app];
    let mut out: Vec<&str> = Vec::new();
    for s in scope.split_whitespace() {
        if !app.has_scope(s) {
            return Err(dir_bad_request(
                &format!(
                    "The scope '{s}' does not exist on the resource application '{}' ({}).",
                    app.display_name, app.app_id
                ),
                ctx,
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

/// `POST /oauth2PermissionGrants`: Application Administrator, Cloud Application Administrator,
/// Privileged Role Administrator or Global Administrator.
pub(crate) async fn create_grant(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = graph_caller(&core, &headers, now, &ctx)?;
        let w = &mut core.world;
        let t = c.tenant;
        grant_writer(w, &c, &ctx)?;
        let v = json_body(&body, &ctx)?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let client = w.tenants[t]
            .sp_by_id(&field("clientId").unwrap_or_default())
            .cloned()
            .ok_or_else(|| dir_bad_request("Invalid value specified for property 'clientId' of resource 'OAuth2PermissionGrant'.", &ctx))?;
        let resource = w.tenants[t]
            .sp_by_id(&field("resourceId").unwrap_or_default())
            .cloned()
            .ok_or_else(|| dir_bad_request("Invalid value specified for property 'resourceId' of resource 'OAuth2PermissionGrant'.", &ctx))?;
        let consent_type = field("consentType").unwrap_or_default();
        let principal = field("principalId");
        match consent_type.as_str() {
            "AllPrincipals" if principal.is_some() => {
                return Err(dir_bad_request(
                    "principalId must be null when consentType is AllPrincipals.",
                    &ctx,
                ));
            }
            "AllPrincipals" => {}
            "Principal" if principal.is_none() => {
                return Err(dir_bad_request(
                    "principalId is required when consentType is Principal.",
                    &ctx,
                ));
            }
            "Principal" => {}
            _ => {
                return Err(dir_bad_request(
                    "consentType must be 'AllPrincipals' or 'Principal'.",
                    &ctx,
                ));
            }
        }
        let scope = validate_scope(w, resource.app, &field("scope").unwrap_or_default(), &ctx)?;
        let dup = w.tenants[t].grants.iter().any(|g| {
            g.client_id == client.id
                && g.resource_id == resource.id
                && g.consent_type == consent_type
                && g.principal_id == principal
        });
        if dup {
            let resp = graph_error(
                StatusCode::CONFLICT,
                "Request_MultipleObjectsWithSameKeyValue",
                "Permission entry already exists.",
                &ctx,
            );
            return Ok(mark_duplicate(resp, "oauth2PermissionGrant"));
        }
        let id = w.new_opaque_id();
        let g = Grant {
            id: id.clone(),
            client_id: client.id,
            consent_type,
            principal_id: principal,
            resource_id: resource.id,
            scope,
        };
        w.tenants[t].grants.push(g.clone());
        Ok(entity(
            StatusCode::CREATED,
            render_grant(&g),
            ctx_url(&s.config.base, "oauth2PermissionGrants/$entity"),
            Some(&format!(
                "{}{PREFIX}/oauth2PermissionGrants/{id}",
                s.config.base
            )),
        ))
    })())
}

/// `PATCH /oauth2PermissionGrants/{id}` `{"scope": "..."}` -> 204.
pub(crate) async fn update_grant(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = graph_caller(&core, &headers, now, &ctx)?;
        let w = &mut core.world;
        let t = c.tenant;
        grant_writer(w, &c, &ctx)?;
        let g = w.tenants[t]
            .grants
            .iter()
            .find(|g| g.id == id)
            .cloned()
            .ok_or_else(|| dir_not_found(&id, &ctx))?;
        let v = json_body(&body, &ctx)?;
        for k in ["clientId", "resourceId", "consentType", "principalId"] {
            if v.get(k).is_some() {
                return Err(dir_bad_request(
                    &format!("Property '{k}' is read-only and cannot be set."),
                    &ctx,
                ));
            }
        }
        let scope = v
            .get("scope")
            .and_then(Value::as_str)
            .ok_or_else(|| dir_bad_request("The scope property is required.", &ctx))?;
        let resource_app = w.tenants[t]
            .sp_by_id(&g.resource_id)
            .map(|s| s.app)
            .unwrap_or(catalog::GRAPH);
        let scope = validate_scope(w, resource_app, scope, &ctx)?;
        if let Some(gm) = w.tenants[t].grants.iter_mut().find(|x| x.id == id) {
            gm.scope = scope;
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

/// `DELETE /oauth2PermissionGrants/{id}` -> 204.
pub(crate) async fn delete_grant(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        let c = graph_caller(&core, &headers, now, &ctx)?;
        let w = &mut core.world;
        grant_writer(w, &c, &ctx)?;
        let before = w.tenants[c.tenant].grants.len();
        w.tenants[c.tenant].grants.retain(|g| g.id != id);
        if w.tenants[c.tenant].grants.len() == before {
            return Err(dir_not_found(&id, &ctx));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}
