//! GDAP: delegatedAdminRelationships, accessAssignments, requests, operations and
//! delegatedAdminCustomers (graph-gdap.md §1-§2).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{
    PREFIX, R, bad_request, collection, done, entity, gdap_caller, graph_next, page, parse_body,
    read_filter, read_paging, wants_count,
};
use crate::state::{AppState, Core, Shared};
use crate::stats::mark_duplicate;
use crate::util::{
    Query, ReqCtx, apply_select, graph_error, graph_json, header_str, is_guid, parse_iso_duration,
    select_list, with_header,
};
use crate::well_known::roles as r;
use crate::world::{Assignment, DAY, Event, Ms, Operation, RelRequest, Relationship, SEC, World};

const REL_PATH: &str = "/tenantRelationships/delegatedAdminRelationships";
const REL_STATUSES: &[&str] = &[
    "activating",
    "active",
    "approvalPending",
    "approved",
    "created",
    "expired",
    "expiring",
    "terminated",
    "terminating",
    "terminationRequested",
    "unknownFutureValue",
];
const ASSIGNMENT_STATUSES: &[&str] = &[
    "pending",
    "active",
    "deleting",
    "deleted",
    "error",
    "unknownFutureValue",
];
const REQUEST_ACTIONS: &[&str] = &[
    "lockForApproval",
    "approve",
    "terminate",
    "unknownFutureValue",
];
const OPERATION_TYPES: &[&str] = &["delegatedAdminAccessAssignmentUpdate", "unknownFutureValue"];

/// Returns `v` if it is a documented (non-evolvable) member, the raw value when the caller opted
/// into unknown members, and `unknownFutureValue` otherwise.
fn gate<'a>(v: &'a str, known: &[&str], include_unknown: bool) -> &'a str {
    if include_unknown || known.contains(&v) {
        v
    } else {
        "unknownFutureValue"
    }
}

fn context(base: &str, frag: &str) -> String {
    format!("{base}{PREFIX}/tenantRelationships/$metadata#{frag}")
}

fn roles_json(roles: &[String]) -> Value {
    json!({"unifiedRoles": roles.iter().map(|x| json!({"roleDefinitionId": x})).collect::<Vec<_>>()})
}

#[derive(serde::Serialize)]
struct RoleOut<'a> {
    #[serde(rename = "roleDefinitionId")]
    role_definition_id: &'a str,
}

#[derive(serde::Serialize)]
struct AccessDetailsOut<'a> {
    #[serde(rename = "unifiedRoles")]
    unified_roles: Vec<RoleOut<'a>>,
}

#[derive(serde::Serialize)]
struct CustomerOut<'a> {
    #[serde(rename = "tenantId")]
    tenant_id: &'a str,
    #[serde(rename = "displayName")]
    display_name: &'a str,
}

/// Typed JSON of a relationship (serialized without an intermediate `Value` on hot paths).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RelOut<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    #[serde(rename = "@odata.etag")]
    odata_etag: &'a str,
    id: &'a str,
    display_name: &'a str,
    duration: &'a str,
    status: &'a str,
    auto_extend_duration: &'a str,
    created_date_time: String,
    last_modified_date_time: String,
    activated_date_time: Option<String>,
    end_date_time: Option<String>,
    access_details: AccessDetailsOut<'a>,
    customer: Option<CustomerOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    indirect_provider_tenant_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_partner_consent_pending: Option<bool>,
}

pub(crate) fn rel_out<'a>(w: &World, r: &'a Relationship, include_unknown: bool) -> RelOut<'a> {
    RelOut {
        odata_type: if r.reseller.is_some() {
            "#microsoft.graph.resellerDelegatedAdminRelationship"
        } else {
            "#microsoft.graph.delegatedAdminRelationship"
        },
        odata_etag: &r.etag,
        id: &r.id,
        display_name: &r.display_name,
        duration: &r.duration,
        status: gate(&r.status, REL_STATUSES, include_unknown),
        auto_extend_duration: &r.auto_extend,
        created_date_time: w.fmt_time(r.created),
        last_modified_date_time: w.fmt_time(r.last_modified),
        activated_date_time: r.activated.map(|t| w.fmt_time(t)),
        end_date_time: r.end.map(|t| w.fmt_time(t)),
        access_details: AccessDetailsOut {
            unified_roles: r
                .roles
                .iter()
                .map(|x| RoleOut {
                    role_definition_id: x,
                })
                .collect(),
        },
        customer: r.customer.as_ref().map(|(id, name)| CustomerOut {
            tenant_id: id,
            display_name: name,
        }),
        indirect_provider_tenant_id: r
            .reseller
            .as_ref()
            .map(|x| x.indirect_provider_tenant_id.as_str()),
        is_partner_consent_pending: r.reseller.as_ref().map(|x| x.is_partner_consent_pending),
    }
}

/// The JSON of a relationship.
pub(crate) fn render_rel(w: &World, r: &Relationship, include_unknown: bool) -> Value {
    serde_json::to_value(rel_out(w, r, include_unknown)).unwrap_or(Value::Null)
}

fn render_assignment(w: &World, a: &Assignment, include_unknown: bool) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminAccessAssignment",
        "@odata.etag": a.etag,
        "id": a.id,
        "status": gate(&a.status, ASSIGNMENT_STATUSES, include_unknown),
        "createdDateTime": w.fmt_time(a.created),
        "lastModifiedDateTime": w.fmt_time(a.last_modified),
        "accessContainer": {"accessContainerId": a.group_id, "accessContainerType": "securityGroup"},
        "accessDetails": roles_json(&a.roles),
    })
}

/// The `data` string of an access assignment update operation.
pub(crate) fn assignment_data_string(a: &Assignment) -> String {
    json!({
        "id": a.id,
        "accessContainer": {"accessContainerId": a.group_id, "accessContainerType": "securityGroup"},
        "accessDetails": roles_json(&a.roles),
        "status": a.status,
    })
    .to_string()
}

fn render_request(w: &World, q: &RelRequest, include_unknown: bool) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminRelationshipRequest",
        "@odata.etag": q.etag,
        "id": q.id,
        "action": gate(&q.action, REQUEST_ACTIONS, include_unknown),
        "status": q.status,
        "createdDateTime": w.fmt_time(q.created),
        "lastModifiedDateTime": w.fmt_time(q.last_modified),
    })
}

fn render_operation(w: &World, o: &Operation, include_unknown: bool) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminRelationshipOperation",
        "@odata.etag": o.etag,
        "id": o.id,
        "operationType": gate(&o.operation_type, OPERATION_TYPES, include_unknown),
        "data": o.data,
        "status": o.status,
        "createdDateTime": w.fmt_time(o.created),
        "lastModifiedDateTime": w.fmt_time(o.last_modified),
    })
}

fn rel_field(r: &Relationship, p: &str) -> Option<String> {
    let eq = |s: &str| p.eq_ignore_ascii_case(s);
    if eq("status") {
        Some(r.status.clone())
    } else if eq("displayName") {
        Some(r.display_name.clone())
    } else if eq("customer/tenantId") {
        r.customer.as_ref().map(|c| c.0.clone())
    } else if eq("customer/displayName") {
        r.customer.as_ref().map(|c| c.1.clone())
    } else if eq("id") {
        Some(r.id.clone())
    } else if eq("autoExtendDuration") {
        Some(r.auto_extend.clone())
    } else if eq("duration") {
        Some(r.duration.clone())
    } else {
        None
    }
}

const REL_FILTERABLE: &[&str] = &[
    "status",
    "displayName",
    "customer/tenantId",
    "customer/displayName",
    "id",
    "autoExtendDuration",
    "duration",
];

fn not_found(what: &str, id: &str, ctx: &ReqCtx) -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "notFound",
        &format!("The {what} with id '{id}' was not found."),
        ctx,
    )
}

fn find_rel(w: &World, id: &str, ctx: &ReqCtx) -> Result<u64, Response> {
    let shape_ok = id.len() == 73 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if !shape_ok {
        return Err(bad_request(
            "The passed in delegatedAdminRelationshipId is invalid.",
            ctx,
        ));
    }
    w.rel_seq(id)
        .ok_or_else(|| not_found("delegatedAdminRelationship", id, ctx))
}

/// The stored relationship `seq` (whose id is `id`), or a 404.
fn stored_rel<'w>(
    w: &'w World,
    seq: u64,
    id: &str,
    ctx: &ReqCtx,
) -> Result<&'w Relationship, Response> {
    w.relationships
        .get(&seq)
        .ok_or_else(|| not_found("delegatedAdminRelationship", id, ctx))
}

/// The relationship with id `id` and its sequence number: a 400 for a malformed id, else a 404.
fn rel_by_id<'w>(
    w: &'w World,
    id: &str,
    ctx: &ReqCtx,
) -> Result<(u64, &'w Relationship), Response> {
    let seq = find_rel(w, id, ctx)?;
    Ok((seq, stored_rel(w, seq, id, ctx)?))
}

/// One child collection of a relationship (`requests`, `operations`, `accessAssignments`).
struct Children<T: 'static> {
    /// Path segment under the relationship.
    segment: &'static str,
    /// Resource name in a 404 message.
    what: &'static str,
    /// OData type named in `$filter` errors.
    type_name: &'static str,
    /// Properties `$filter` accepts.
    filterable: &'static [&'static str],
    /// The children of a relationship.
    of: fn(&Relationship) -> &[T],
    /// A child's id.
    id: fn(&T) -> &str,
    /// A child's `$filter` property.
    field: fn(&T, &str) -> Option<String>,
    /// A child's JSON.
    render: fn(&World, &T, bool) -> Value,
}

impl<T> Children<T> {
    /// The child `child_id` of `rel` (ids compare case-insensitively), or a 404.
    fn find<'r>(
        &self,
        rel: &'r Relationship,
        child_id: &str,
        ctx: &ReqCtx,
    ) -> Result<&'r T, Response> {
        (self.of)(rel)
            .iter()
            .find(|x| (self.id)(x).eq_ignore_ascii_case(child_id))
            .ok_or_else(|| not_found(self.what, child_id, ctx))
    }

    /// The absolute URL of child `child_id` of relationship `rel_id`.
    fn location(&self, base: &str, rel_id: &str, child_id: &str) -> String {
        format!(
            "{base}{PREFIX}{REL_PATH}/{rel_id}/{}/{child_id}",
            self.segment
        )
    }

    /// The `@odata.context` of one child of relationship `rel_id`.
    fn entity_context(&self, base: &str, rel_id: &str) -> String {
        context(
            base,
            &format!(
                "delegatedAdminRelationships('{rel_id}')/{}/$entity",
                self.segment
            ),
        )
    }

    /// `GET .../{id}/{segment}`: filtered, paged and `$select`ed children.
    fn list(
        &self,
        s: &AppState,
        ctx: &ReqCtx,
        headers: &HeaderMap,
        id: &str,
        raw: Option<&str>,
    ) -> Response {
        let now = s.now();
        let core = s.lock();
        done((|| {
            gdap_caller(&core, headers, now, ctx, false)?;
            let q = Query::parse(raw);
            let w = &core.world;
            let (_, rel) = rel_by_id(w, id, ctx)?;
            let filter = read_filter(&q, self.filterable, self.type_name, ctx)?;
            let p = read_paging(&q, 300, 300, ctx)?;
            let pg = page(
                (self.of)(rel).iter(),
                filter.as_ref(),
                self.field,
                &p,
                wants_count(&q),
            );
            let select = select_list(&q);
            let value = pg
                .items
                .iter()
                .map(|x| apply_select((self.render)(w, x, ctx.include_unknown), select.as_deref()))
                .collect();
            let next = graph_next(
                &s.config.base,
                &format!("{PREFIX}{REL_PATH}/{id}/{}", self.segment),
                &q,
                pg.next_offset,
            );
            Ok(collection(
                context(
                    &s.config.base,
                    &format!("delegatedAdminRelationships('{id}')/{}", self.segment),
                ),
                value,
                next,
                pg.total,
            ))
        })())
    }

    /// `GET .../{id}/{segment}/{childId}`.
    fn get(
        &self,
        s: &AppState,
        ctx: &ReqCtx,
        headers: &HeaderMap,
        id: &str,
        child_id: &str,
    ) -> Response {
        let now = s.now();
        let core = s.lock();
        done((|| {
            gdap_caller(&core, headers, now, ctx, false)?;
            let w = &core.world;
            let (_, rel) = rel_by_id(w, id, ctx)?;
            let x = self.find(rel, child_id, ctx)?;
            Ok(entity(
                StatusCode::OK,
                (self.render)(w, x, ctx.include_unknown),
                self.entity_context(&s.config.base, id),
                None,
            ))
        })())
    }
}

const REQUESTS: Children<RelRequest> = Children {
    segment: "requests",
    what: "request",
    type_name: "microsoft.graph.delegatedAdminRelationshipRequest",
    filterable: &["action", "status", "id"],
    of: |r| &r.requests,
    id: |x| &x.id,
    field: |x, f| {
        if f.eq_ignore_ascii_case("action") {
            Some(x.action.clone())
        } else if f.eq_ignore_ascii_case("status") {
            Some(x.status.clone())
        } else {
            Some(x.id.clone())
        }
    },
    render: render_request,
};

const OPERATIONS: Children<Operation> = Children {
    segment: "operations",
    what: "operation",
    type_name: "microsoft.graph.delegatedAdminRelationshipOperation",
    filterable: &["status", "operationType", "id"],
    of: |r| &r.operations,
    id: |x| &x.id,
    field: |x, f| {
        if f.eq_ignore_ascii_case("status") {
            Some(x.status.clone())
        } else if f.eq_ignore_ascii_case("operationType") {
            Some(x.operation_type.clone())
        } else {
            Some(x.id.clone())
        }
    },
    render: render_operation,
};

const ASSIGNMENTS: Children<Assignment> = Children {
    segment: "accessAssignments",
    what: "accessAssignment",
    type_name: "microsoft.graph.delegatedAdminAccessAssignment",
    filterable: &["status", "accessContainer/accessContainerId", "id"],
    of: |r| &r.assignments,
    id: |a| &a.id,
    field: |a, f| {
        if f.eq_ignore_ascii_case("status") {
            Some(a.status.clone())
        } else if f.eq_ignore_ascii_case("id") {
            Some(a.id.clone())
        } else {
            Some(a.group_id.clone())
        }
    },
    render: render_assignment,
};

/// Schedules `ev` after the propagation delay, applying it at once when there is none.
fn after_propagation(w: &mut World, s: &AppState, now: Ms, ev: Event) {
    w.schedule(now + s.config.propagation_delay, ev);
    if s.config.propagation_delay == 0 {
        w.tick(now);
    }
}

/// A 202 pointing at operation `op_id` of relationship `rel_id`, with the poll interval.
fn operation_accepted(s: &AppState, resp: Response, rel_id: &str, op_id: &str) -> Response {
    let loc = OPERATIONS.location(&s.config.base, rel_id, op_id);
    let resp = with_header(resp, "location", &loc);
    with_header(resp, "retry-after", &retry_after_secs(s).to_string())
}

/// Moves relationship `seq` to `status` with a new ETag; the relationship, for further changes.
fn set_rel_status<'w>(
    w: &'w mut World,
    seq: u64,
    status: &str,
    now: Ms,
) -> Option<&'w mut Relationship> {
    let etag = w.next_etag();
    let rm = w.relationships.get_mut(&seq)?;
    rm.status = status.into();
    rm.last_modified = now;
    rm.etag = etag;
    Some(rm)
}

fn check_if_match(headers: &HeaderMap, etag: &str, ctx: &ReqCtx) -> Result<(), Response> {
    match header_str(headers, "if-match").map(str::trim) {
        None | Some("") => Err(bad_request(
            "The If-Match header is required for this operation.",
            ctx,
        )),
        Some("*") => Ok(()),
        Some(v) if v == etag || v.trim_start_matches("W/") == etag.trim_start_matches("W/") => {
            Ok(())
        }
        Some(_) => Err(graph_error(
            StatusCode::PRECONDITION_FAILED,
            "preconditionFailed",
            "The If-Match header value does not match the current ETag of the resource.",
            ctx,
        )),
    }
}

fn parse_roles(v: &Value, ctx: &ReqCtx) -> Result<Vec<String>, Response> {
    let Some(arr) = v.get("unifiedRoles").and_then(Value::as_array) else {
        return Err(bad_request("accessDetails.unifiedRoles is required.", ctx));
    };
    if arr.is_empty() {
        return Err(bad_request(
            "accessDetails.unifiedRoles must contain at least one role.",
            ctx,
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for x in arr {
        let Some(id) = x.get("roleDefinitionId").and_then(Value::as_str) else {
            return Err(bad_request(
                "Each unifiedRole must have a roleDefinitionId.",
                ctx,
            ));
        };
        if !is_guid(id) {
            return Err(bad_request(
                &format!("The roleDefinitionId '{id}' is not a valid GUID."),
                ctx,
            ));
        }
        let id = id.to_ascii_lowercase();
        if r::NOT_ALLOWED_IN_GDAP.contains(&id.as_str()) {
            return Err(bad_request(
                &format!("The role '{id}' is not supported in a delegated admin relationship."),
                ctx,
            ));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn validate_display_name(
    w: &World,
    name: &str,
    except: Option<u64>,
    ctx: &ReqCtx,
) -> Result<Option<Response>, Response> {
    let n = name.chars().count();
    if n == 0 || n > 50 {
        return Err(bad_request(
            "The displayName must be between 1 and 50 characters long.",
            ctx,
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>' | '%' | '\\'))
    {
        return Err(bad_request(
            "The displayName contains characters that are not allowed.",
            ctx,
        ));
    }
    let dup = w
        .relationships
        .values()
        .any(|r| Some(r.seq) != except && r.display_name.eq_ignore_ascii_case(name));
    if dup {
        let resp = graph_error(
            StatusCode::CONFLICT,
            "conflict",
            &format!(
                "A delegated admin relationship with the displayName '{name}' already exists."
            ),
            ctx,
        );
        return Ok(Some(resp));
    }
    Ok(None)
}

fn validate_duration(v: &str, ctx: &ReqCtx) -> Result<Ms, Response> {
    match parse_iso_duration(v) {
        Some(ms) if (DAY..=730 * DAY).contains(&ms) => Ok(ms),
        Some(_) => Err(bad_request(
            "The duration must be between P1D and P2Y (730 days).",
            ctx,
        )),
        None => Err(bad_request(
            &format!("The duration '{v}' is not a valid ISO 8601 duration."),
            ctx,
        )),
    }
}

fn validate_auto_extend(v: &str, roles: &[String], ctx: &ReqCtx) -> Result<String, Response> {
    if !matches!(v, "P0D" | "PT0S" | "P180D") {
        return Err(bad_request(
            "The autoExtendDuration must be one of P0D, PT0S or P180D.",
            ctx,
        ));
    }
    if v == "P180D" && roles.iter().any(|x| x == r::GLOBAL_ADMINISTRATOR) {
        return Err(bad_request(
            "Relationships that include the Global Administrator role can't be auto-extended.",
            ctx,
        ));
    }
    Ok(v.to_string())
}

fn retry_after_secs(s: &AppState) -> u64 {
    (s.config.propagation_delay / SEC).max(1) as u64
}

// ------------------------------------------------------------------ relationships

/// `GET /tenantRelationships/delegatedAdminRelationships`.
pub(crate) async fn list_relationships(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, false)?;
        let q = Query::parse(raw.as_deref());
        let filter = read_filter(
            &q,
            REL_FILTERABLE,
            "microsoft.graph.delegatedAdminRelationship",
            &ctx,
        )?;
        let p = read_paging(&q, 300, 300, &ctx)?;
        let select = select_list(&q);
        let w = &core.world;
        let count = wants_count(&q);
        let pg = match q.odata("orderby") {
            Some(ob) => {
                let mut parts = ob.split_whitespace();
                let field = parts.next().unwrap_or("");
                let desc = parts.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                let key = |r: &Relationship| -> (Option<Ms>, String) {
                    match field.to_ascii_lowercase().as_str() {
                        "enddatetime" => (r.end, String::new()),
                        "createddatetime" => (Some(r.created), String::new()),
                        "lastmodifieddatetime" => (Some(r.last_modified), String::new()),
                        "activateddatetime" => (r.activated, String::new()),
                        "status" => (None, r.status.clone()),
                        _ => (None, r.display_name.to_ascii_lowercase()),
                    }
                };
                if ![
                    "enddatetime",
                    "createddatetime",
                    "lastmodifieddatetime",
                    "activateddatetime",
                    "status",
                    "displayname",
                ]
                .contains(&field.to_ascii_lowercase().as_str())
                {
                    return Err(bad_request(
                        &format!("Invalid $orderby: property '{field}' is not supported."),
                        &ctx,
                    ));
                }
                let mut all: Vec<&Relationship> = w
                    .relationships
                    .values()
                    .filter(|r| {
                        filter
                            .as_ref()
                            .is_none_or(|f| f.matches(|pth| rel_field(r, pth)))
                    })
                    .collect();
                all.sort_by_key(|r| key(r));
                if desc {
                    all.reverse();
                }
                let total = count.then_some(all.len());
                let items: Vec<&Relationship> =
                    all.iter().skip(p.skip).take(p.top).copied().collect();
                let next = (p.skip + items.len() < all.len()).then_some(p.skip + items.len());
                super::Page {
                    items,
                    next_offset: next,
                    total,
                }
            }
            None => page(
                w.relationships.values(),
                filter.as_ref(),
                rel_field,
                &p,
                count,
            ),
        };
        let value: Vec<Value> = match select.as_deref() {
            Some(sel) => pg
                .items
                .iter()
                .map(|r| apply_select(render_rel(w, r, ctx.include_unknown), Some(sel)))
                .collect(),
            None => {
                // Hot path: typed serialization, no intermediate maps.
                let items: Vec<RelOut<'_>> = pg
                    .items
                    .iter()
                    .map(|r| rel_out(w, r, ctx.include_unknown))
                    .collect();
                let next = graph_next(
                    &s.config.base,
                    &format!("{PREFIX}{REL_PATH}"),
                    &q,
                    pg.next_offset,
                );
                return Ok(collection(
                    context(&s.config.base, "delegatedAdminRelationships"),
                    items,
                    next,
                    pg.total,
                ));
            }
        };
        let next = graph_next(
            &s.config.base,
            &format!("{PREFIX}{REL_PATH}"),
            &q,
            pg.next_offset,
        );
        Ok(collection(
            context(&s.config.base, "delegatedAdminRelationships"),
            value,
            next,
            pg.total,
        ))
    })())
}

/// `GET /tenantRelationships/delegatedAdminRelationships/{id}`.
pub(crate) async fn get_relationship(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, false)?;
        let q = Query::parse(raw.as_deref());
        let w = &core.world;
        let (_, rel) = rel_by_id(w, &id, &ctx)?;
        let v = apply_select(
            render_rel(w, rel, ctx.include_unknown),
            select_list(&q).as_deref(),
        );
        Ok(entity(
            StatusCode::OK,
            v,
            context(&s.config.base, "delegatedAdminRelationships/$entity"),
            None,
        ))
    })())
}

/// `POST /tenantRelationships/delegatedAdminRelationships`.
pub(crate) async fn create_relationship(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done(create_relationship_inner(
        &mut core, &s, now, &ctx, &headers, &body,
    ))
}

fn create_relationship_inner(
    core: &mut Core,
    s: &AppState,
    now: Ms,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    body: &[u8],
) -> R {
    gdap_caller(core, headers, now, ctx, true)?;
    let v = parse_body(body, ctx)?;
    let w = &mut core.world;
    let Some(name) = v.get("displayName").and_then(Value::as_str) else {
        return Err(bad_request("The displayName property is required.", ctx));
    };
    if let Some(conflict) = validate_display_name(w, name, None, ctx)? {
        return Ok(mark_duplicate(conflict, "delegatedAdminRelationship"));
    }
    let Some(duration) = v.get("duration").and_then(Value::as_str) else {
        return Err(bad_request("The duration property is required.", ctx));
    };
    let duration_ms = validate_duration(duration, ctx)?;
    let Some(details) = v.get("accessDetails") else {
        return Err(bad_request("The accessDetails property is required.", ctx));
    };
    let roles = parse_roles(details, ctx)?;
    let auto_extend = match v.get("autoExtendDuration") {
        None | Some(Value::Null) => "PT0S".to_string(),
        Some(Value::String(a)) => validate_auto_extend(a, &roles, ctx)?,
        Some(_) => return Err(bad_request("The autoExtendDuration must be a string.", ctx)),
    };
    let mut customer_idx = None;
    if let Some(c) = v.get("customer").filter(|c| !c.is_null()) {
        let Some(tid) = c
            .get("tenantId")
            .and_then(Value::as_str)
            .filter(|t| is_guid(t))
        else {
            return Err(bad_request("customer.tenantId must be a valid GUID.", ctx));
        };
        let Some(t) = w.tenant_idx(tid) else {
            return Err(bad_request(
                &format!("The customer tenant '{tid}' was not found."),
                ctx,
            ));
        };
        if t == w.partner.tenant {
            return Err(bad_request(
                "A delegated admin relationship with the partner's own tenant is not allowed.",
                ctx,
            ));
        }
        let has_active = w.tenants[t]
            .rels
            .iter()
            .filter_map(|q| w.relationships.get(q))
            .any(|r| r.status == "active");
        if has_active {
            return Err(graph_error(
                StatusCode::FORBIDDEN,
                "disallowedOperation",
                "Operation not allowed: the customer tenant already has an active GDAP relationship with this partner.",
                ctx,
            ));
        }
        customer_idx = Some(t);
    }
    let seq = w.next_rel_seq;
    w.next_rel_seq += 1;
    let id = format!("{}-{}", w.new_uuid(), w.new_uuid());
    let etag = w.next_etag();
    let rel = Relationship {
        seq,
        id: id.clone(),
        display_name: name.to_string(),
        duration: duration.to_string(),
        duration_ms,
        auto_extend,
        roles,
        customer: None,
        status: "created".into(),
        created: now,
        last_modified: now,
        activated: None,
        end: Some(now + duration_ms),
        etag,
        reseller: None,
        assignments: Vec::new(),
        operations: Vec::new(),
        requests: Vec::new(),
    };
    w.relationship_index.insert(id.clone(), seq);
    w.relationships.insert(seq, rel);
    if let Some(t) = customer_idx {
        w.set_customer(seq, t);
    }
    let rel = stored_rel(w, seq, &id, ctx)?;
    let location = format!("{}{PREFIX}{REL_PATH}/{id}", s.config.base);
    let v = render_rel(w, rel, ctx.include_unknown);
    Ok(entity(
        StatusCode::CREATED,
        v,
        context(&s.config.base, "delegatedAdminRelationships/$entity"),
        Some(&location),
    ))
}

/// `PATCH /tenantRelationships/delegatedAdminRelationships/{id}`.
pub(crate) async fn update_relationship(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done(update_relationship_inner(
        &mut core, &s, now, &ctx, &headers, &id, &body,
    ))
}

fn update_relationship_inner(
    core: &mut Core,
    s: &AppState,
    now: Ms,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
) -> R {
    gdap_caller(core, headers, now, ctx, true)?;
    let w = &mut core.world;
    let (seq, rel) = rel_by_id(w, id, ctx)?;
    let rel = rel.clone();
    check_if_match(headers, &rel.etag, ctx)?;
    let v = parse_body(body, ctx)?;
    let ctx_url = context(&s.config.base, "delegatedAdminRelationships/$entity");
    let field = |k: &str| v.get(k).filter(|x| !x.is_null());
    let new_roles = match field("accessDetails") {
        Some(d) => Some(parse_roles(d, ctx)?),
        None => None,
    };
    match rel.status.as_str() {
        "created" => {
            let mut upd = rel.clone();
            if let Some(name) = field("displayName") {
                let name = name
                    .as_str()
                    .ok_or_else(|| bad_request("displayName must be a string.", ctx))?;
                if let Some(conflict) = validate_display_name(w, name, Some(seq), ctx)? {
                    return Ok(mark_duplicate(conflict, "delegatedAdminRelationship"));
                }
                upd.display_name = name.to_string();
            }
            if let Some(d) = field("duration") {
                let d = d
                    .as_str()
                    .ok_or_else(|| bad_request("duration must be a string.", ctx))?;
                upd.duration_ms = validate_duration(d, ctx)?;
                upd.duration = d.to_string();
                upd.end = Some(upd.created + upd.duration_ms);
            }
            if let Some(roles) = new_roles {
                upd.roles = roles;
            }
            if let Some(a) = field("autoExtendDuration") {
                let a = a
                    .as_str()
                    .ok_or_else(|| bad_request("autoExtendDuration must be a string.", ctx))?;
                upd.auto_extend = a.to_string();
            }
            upd.auto_extend = validate_auto_extend(&upd.auto_extend, &upd.roles, ctx)?;
            let mut new_customer = None;
            if let Some(c) = field("customer") {
                let tid = c
                    .get("tenantId")
                    .and_then(Value::as_str)
                    .filter(|t| is_guid(t));
                let t = tid
                    .and_then(|t| w.tenant_idx(t))
                    .ok_or_else(|| bad_request("customer.tenantId is not a known tenant.", ctx))?;
                if t == w.partner.tenant {
                    return Err(bad_request(
                        "A delegated admin relationship with the partner's own tenant is not allowed.",
                        ctx,
                    ));
                }
                new_customer = Some(t);
            }
            upd.last_modified = now;
            upd.etag = w.next_etag();
            w.relationships.insert(seq, upd);
            if let Some(t) = new_customer {
                w.set_customer(seq, t);
            }
            let rel = stored_rel(w, seq, id, ctx)?;
            Ok(entity(
                StatusCode::OK,
                render_rel(w, rel, ctx.include_unknown),
                ctx_url,
                None,
            ))
        }
        "active" | "approvalPending" => {
            for k in ["displayName", "duration", "customer"] {
                if field(k).is_some() {
                    return Err(bad_request(
                        &format!(
                            "The property '{k}' can't be updated while the relationship is {}.",
                            rel.status
                        ),
                        ctx,
                    ));
                }
            }
            let mut remove_ga = None;
            if let Some(roles) = new_roles {
                let has_ga = rel.roles.iter().any(|x| x == r::GLOBAL_ADMINISTRATOR);
                let without_ga: Vec<String> = rel
                    .roles
                    .iter()
                    .filter(|x| *x != r::GLOBAL_ADMINISTRATOR)
                    .cloned()
                    .collect();
                let same =
                    roles.len() == rel.roles.len() && roles.iter().all(|x| rel.roles.contains(x));
                let removes_only_ga = has_ga
                    && rel.status == "active"
                    && roles.len() == without_ga.len()
                    && roles.iter().all(|x| without_ga.contains(x))
                    && !without_ga.is_empty();
                if removes_only_ga {
                    remove_ga = Some(roles);
                } else if !(same
                    || roles.iter().any(|x| x == r::GLOBAL_ADMINISTRATOR)
                        && roles.iter().all(|x| rel.roles.contains(x)))
                {
                    return Err(bad_request(
                        "Only the removal of the Global Administrator role is allowed on an active relationship.",
                        ctx,
                    ));
                }
            }
            let auto = match field("autoExtendDuration") {
                Some(a) => {
                    let a = a
                        .as_str()
                        .ok_or_else(|| bad_request("autoExtendDuration must be a string.", ctx))?;
                    let roles_after = remove_ga.clone().unwrap_or_else(|| rel.roles.clone());
                    Some(validate_auto_extend(a, &roles_after, ctx)?)
                }
                None => None,
            };
            if let Some(roles) = remove_ga {
                let op_id = w.new_uuid();
                let etag = w.next_etag();
                if let Some(rm) = w.relationships.get_mut(&seq) {
                    if let Some(a) = auto {
                        rm.auto_extend = a;
                    }
                    rm.operations.push(Operation {
                        id: op_id.clone(),
                        operation_type: "delegatedAdminRelationshipUpdate".into(),
                        data: json!({"id": rm.id, "accessDetails": roles_json(&roles)}).to_string(),
                        status: "running".into(),
                        created: now,
                        last_modified: now,
                        etag,
                    });
                }
                after_propagation(
                    w,
                    s,
                    now,
                    Event::RelationshipUpdated {
                        rel: seq,
                        operation: op_id.clone(),
                        roles,
                    },
                );
                return Ok(operation_accepted(
                    s,
                    StatusCode::ACCEPTED.into_response(),
                    &rel.id,
                    &op_id,
                ));
            }
            if let Some(a) = auto
                && a != rel.auto_extend
            {
                let etag = w.next_etag();
                if let Some(rm) = w.relationships.get_mut(&seq) {
                    rm.auto_extend = a;
                    rm.last_modified = now;
                    rm.etag = etag;
                }
            }
            let rel = stored_rel(w, seq, id, ctx)?;
            Ok(entity(
                StatusCode::OK,
                render_rel(w, rel, ctx.include_unknown),
                ctx_url,
                None,
            ))
        }
        other => Err(bad_request(
            &format!("The relationship can't be updated in its current status '{other}'."),
            ctx,
        )),
    }
}

/// `DELETE /tenantRelationships/delegatedAdminRelationships/{id}`.
pub(crate) async fn delete_relationship(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, true)?;
        let w = &mut core.world;
        let (seq, rel) = rel_by_id(w, &id, &ctx)?;
        let rel = rel.clone();
        check_if_match(&headers, &rel.etag, &ctx)?;
        if rel.status != "created" {
            return Err(bad_request(
                &format!(
                    "Only relationships in 'created' status can be deleted; this one is '{}'.",
                    rel.status
                ),
                &ctx,
            ));
        }
        w.relationships.remove(&seq);
        w.relationship_index.remove(&rel.id);
        if let Some(t) = rel.customer.as_ref().and_then(|c| w.tenant_idx(&c.0)) {
            w.tenants[t].rels.retain(|x| *x != seq);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

// ------------------------------------------------------------------ requests

/// `GET .../{id}/requests`.
pub(crate) async fn list_requests(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    REQUESTS.list(&s, &ctx, &headers, &id, raw.as_deref())
}

/// `GET .../{id}/requests/{requestId}`.
pub(crate) async fn get_request(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, req_id)): Path<(String, String)>,
) -> Response {
    REQUESTS.get(&s, &ctx, &headers, &id, &req_id)
}

/// `POST .../{id}/requests` (`lockForApproval`, `terminate`, `approve`, `reject`).
pub(crate) async fn create_request(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done(create_request_inner(
        &mut core, &s, now, &ctx, &headers, &id, &body,
    ))
}

fn create_request_inner(
    core: &mut Core,
    s: &AppState,
    now: Ms,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
) -> R {
    gdap_caller(core, headers, now, ctx, true)?;
    let v = parse_body(body, ctx)?;
    let w = &mut core.world;
    let (seq, rel) = rel_by_id(w, id, ctx)?;
    let rel = rel.clone();
    let Some(action) = v.get("action").and_then(Value::as_str) else {
        return Err(bad_request("The action property is required.", ctx));
    };
    let state_err = |want: &str| {
        bad_request(
            &format!(
                "The action '{action}' is only allowed when the relationship is {want}; it is '{}'.",
                rel.status
            ),
            ctx,
        )
    };
    match action {
        "lockForApproval" => {
            if rel.status != "created" {
                return Err(state_err("created"));
            }
            set_rel_status(w, seq, "approvalPending", now);
            if let Some(d) = s.config.auto_approve_after {
                w.schedule(now + d, Event::AutoApprove { rel: seq });
                if d == 0 {
                    w.tick(now);
                }
            }
        }
        "terminate" => {
            if rel.status != "active" {
                return Err(state_err("active"));
            }
            set_rel_status(w, seq, "terminationRequested", now);
            after_propagation(w, s, now, Event::Terminated { rel: seq });
        }
        "approve" | "reject" => {
            let pending = rel
                .reseller
                .as_ref()
                .is_some_and(|x| x.is_partner_consent_pending);
            if rel.reseller.is_none() {
                return Err(graph_error(
                    StatusCode::FORBIDDEN,
                    "disallowedOperation",
                    "Only an indirect reseller can approve or reject a relationship through this API; direct customers approve in the Microsoft 365 admin center.",
                    ctx,
                ));
            }
            if rel.status != "approvalPending" || !pending {
                return Err(state_err(
                    "approvalPending with the partner's consent pending",
                ));
            }
            if action == "approve" {
                if rel.customer.is_none() {
                    return Err(bad_request("The relationship has no customer.", ctx));
                }
                w.activate(seq, now);
            } else {
                if let Some(res) =
                    set_rel_status(w, seq, "terminated", now).and_then(|rm| rm.reseller.as_mut())
                {
                    res.is_partner_consent_pending = false;
                }
            }
        }
        other => {
            return Err(bad_request(
                &format!("The action '{other}' is not valid."),
                ctx,
            ));
        }
    }
    let req_id = w.new_uuid();
    let etag = w.next_etag();
    let stored = RelRequest {
        id: req_id.clone(),
        action: action.to_string(),
        status: "succeeded".into(),
        created: now,
        last_modified: now,
        etag,
    };
    let mut shown = stored.clone();
    shown.status = "created".into();
    if let Some(rm) = w.relationships.get_mut(&seq) {
        rm.requests.push(stored);
    }
    let loc = REQUESTS.location(&s.config.base, &rel.id, &req_id);
    Ok(entity(
        StatusCode::CREATED,
        render_request(w, &shown, ctx.include_unknown),
        REQUESTS.entity_context(&s.config.base, &rel.id),
        Some(&loc),
    ))
}

// ------------------------------------------------------------------ operations

/// `GET .../{id}/operations`.
pub(crate) async fn list_operations(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    OPERATIONS.list(&s, &ctx, &headers, &id, raw.as_deref())
}

/// `GET .../{id}/operations/{operationId}`.
pub(crate) async fn get_operation(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, op_id)): Path<(String, String)>,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, false)?;
        let w = &core.world;
        let (_, rel) = rel_by_id(w, &id, &ctx)?;
        let o = OPERATIONS.find(rel, &op_id, &ctx)?;
        let ctx_url = context(&s.config.base, "operations/$entity");
        let resp = entity(
            StatusCode::OK,
            render_operation(w, o, ctx.include_unknown),
            ctx_url,
            None,
        );
        Ok(if o.status == "running" || o.status == "notStarted" {
            with_header(resp, "retry-after", &retry_after_secs(&s).to_string())
        } else {
            resp
        })
    })())
}

// ------------------------------------------------------------------ access assignments

/// `GET .../{id}/accessAssignments`.
pub(crate) async fn list_assignments(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    ASSIGNMENTS.list(&s, &ctx, &headers, &id, raw.as_deref())
}

/// `GET .../{id}/accessAssignments/{assignmentId}`.
pub(crate) async fn get_assignment(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, aid)): Path<(String, String)>,
) -> Response {
    ASSIGNMENTS.get(&s, &ctx, &headers, &id, &aid)
}

/// `POST .../{id}/accessAssignments`.
pub(crate) async fn create_assignment(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done(create_assignment_inner(
        &mut core, &s, now, &ctx, &headers, &id, &body,
    ))
}

fn create_assignment_inner(
    core: &mut Core,
    s: &AppState,
    now: Ms,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
) -> R {
    gdap_caller(core, headers, now, ctx, true)?;
    let v = parse_body(body, ctx)?;
    let w = &mut core.world;
    let (seq, rel) = rel_by_id(w, id, ctx)?;
    let rel = rel.clone();
    let container = v
        .get("accessContainer")
        .ok_or_else(|| bad_request("The accessContainer property is required.", ctx))?;
    let group = container
        .get("accessContainerId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ty = container
        .get("accessContainerType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if ty != "securityGroup" {
        return Err(bad_request(
            "accessContainer.accessContainerType must be 'securityGroup'.",
            ctx,
        ));
    }
    if !is_guid(group) {
        return Err(bad_request(
            "accessContainer.accessContainerId must be a valid GUID.",
            ctx,
        ));
    }
    if !w.is_partner_group(group) {
        return Err(bad_request(
            &format!("The security group '{group}' was not found in the partner tenant."),
            ctx,
        ));
    }
    let details = v
        .get("accessDetails")
        .ok_or_else(|| bad_request("The accessDetails property is required.", ctx))?;
    let roles = parse_roles(details, ctx)?;
    if rel.status != "active" {
        return Err(bad_request(
            &format!(
                "Access assignments can only be created on an active relationship; this one is '{}'.",
                rel.status
            ),
            ctx,
        ));
    }
    if let Some(bad) = roles.iter().find(|x| !rel.roles.contains(x)) {
        return Err(bad_request(
            &format!("The role '{bad}' is not part of the relationship's access details."),
            ctx,
        ));
    }
    let exists = rel.assignments.iter().any(|a| {
        a.group_id.eq_ignore_ascii_case(group)
            && !matches!(a.status.as_str(), "deleting" | "deleted" | "error")
    });
    if exists {
        let resp = graph_error(
            StatusCode::CONFLICT,
            "conflict",
            "The resource already exists.",
            ctx,
        );
        return Ok(mark_duplicate(resp, "accessAssignment"));
    }
    let aid = w.new_uuid();
    let etag = w.next_etag();
    let a = Assignment {
        id: aid.clone(),
        group_id: group.to_ascii_lowercase(),
        roles,
        status: "pending".into(),
        created: now,
        last_modified: now,
        etag,
    };
    if let Some(rm) = w.relationships.get_mut(&seq) {
        rm.assignments.push(a.clone());
    }
    w.emit_assignment(
        seq,
        &aid,
        crate::world::webhook_events::ASSIGNMENT_CREATED,
        now,
    );
    w.schedule(
        now + s.config.propagation_delay,
        Event::AssignmentActive {
            rel: seq,
            assignment: aid.clone(),
        },
    );
    let loc = ASSIGNMENTS.location(&s.config.base, &rel.id, &aid);
    let ctx_url = ASSIGNMENTS.entity_context(&s.config.base, &rel.id);
    // The create response always shows `pending`, even with a zero propagation delay.
    let body = render_assignment(w, &a, ctx.include_unknown);
    if s.config.propagation_delay == 0 {
        w.tick(now);
    }
    Ok(entity(StatusCode::CREATED, body, ctx_url, Some(&loc)))
}

/// `PATCH .../{id}/accessAssignments/{assignmentId}`.
pub(crate) async fn update_assignment(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, aid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done(update_assignment_inner(
        &mut core, &s, now, &ctx, &headers, &id, &aid, &body,
    ))
}

#[allow(clippy::too_many_arguments)]
fn update_assignment_inner(
    core: &mut Core,
    s: &AppState,
    now: Ms,
    ctx: &ReqCtx,
    headers: &HeaderMap,
    id: &str,
    aid: &str,
    body: &[u8],
) -> R {
    gdap_caller(core, headers, now, ctx, true)?;
    let w = &mut core.world;
    let (seq, rel) = rel_by_id(w, id, ctx)?;
    let rel = rel.clone();
    let a = ASSIGNMENTS.find(&rel, aid, ctx)?.clone();
    check_if_match(headers, &a.etag, ctx)?;
    let v = parse_body(body, ctx)?;
    if v.get("accessContainer").is_some_and(|c| !c.is_null()) {
        return Err(bad_request(
            "The accessContainer of an access assignment can't be updated.",
            ctx,
        ));
    }
    let details = v
        .get("accessDetails")
        .ok_or_else(|| bad_request("The accessDetails property is required.", ctx))?;
    let roles = parse_roles(details, ctx)?;
    if let Some(bad) = roles.iter().find(|x| !rel.roles.contains(x)) {
        return Err(bad_request(
            &format!("The role '{bad}' is not part of the relationship's access details."),
            ctx,
        ));
    }
    if a.status != "active" {
        return Err(bad_request(
            &format!(
                "The access assignment can't be updated while it is '{}'.",
                a.status
            ),
            ctx,
        ));
    }
    let ctx_url = ASSIGNMENTS.entity_context(&s.config.base, &rel.id);
    let same = roles.len() == a.roles.len() && roles.iter().all(|x| a.roles.contains(x));
    if same {
        return Ok(entity(
            StatusCode::OK,
            render_assignment(w, &a, ctx.include_unknown),
            ctx_url,
            None,
        ));
    }
    let op_id = w.new_uuid();
    let etag = w.next_etag();
    let mut preview = a.clone();
    preview.roles = roles.clone();
    let op = Operation {
        id: op_id.clone(),
        operation_type: "delegatedAdminAccessAssignmentUpdate".into(),
        data: assignment_data_string(&preview),
        status: "running".into(),
        created: now,
        last_modified: now,
        etag,
    };
    if let Some(rm) = w.relationships.get_mut(&seq) {
        rm.operations.push(op);
    }
    after_propagation(
        w,
        s,
        now,
        Event::AssignmentUpdated {
            rel: seq,
            assignment: a.id.clone(),
            operation: op_id.clone(),
            roles,
        },
    );
    Ok(operation_accepted(
        s,
        graph_json(StatusCode::ACCEPTED, &json!({})),
        &rel.id,
        &op_id,
    ))
}

/// `DELETE .../{id}/accessAssignments/{assignmentId}`.
pub(crate) async fn delete_assignment(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path((id, aid)): Path<(String, String)>,
) -> Response {
    let now = s.now();
    let mut core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, true)?;
        let w = &mut core.world;
        let (seq, rel) = rel_by_id(w, &id, &ctx)?;
        let a = ASSIGNMENTS.find(rel, &aid, &ctx)?.clone();
        check_if_match(&headers, &a.etag, &ctx)?;
        if matches!(a.status.as_str(), "deleting" | "deleted") {
            return Err(bad_request(
                &format!("The access assignment is already '{}'.", a.status),
                &ctx,
            ));
        }
        let etag = w.next_etag();
        if let Some(rm) = w.relationships.get_mut(&seq)
            && let Some(am) = rm.assignments.iter_mut().find(|x| x.id == a.id)
        {
            am.status = "deleting".into();
            am.last_modified = now;
            am.etag = etag;
        }
        after_propagation(
            w,
            &s,
            now,
            Event::AssignmentDeleted {
                rel: seq,
                assignment: a.id.clone(),
            },
        );
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

// ------------------------------------------------------------------ delegatedAdminCustomers

fn customer_has_active(w: &World, t: usize) -> bool {
    w.tenants[t]
        .rels
        .iter()
        .filter_map(|s| w.relationships.get(s))
        .any(|r| {
            matches!(
                r.status.as_str(),
                "active"
                    | "activating"
                    | "approved"
                    | "expiring"
                    | "terminationRequested"
                    | "terminating"
            )
        })
}

fn render_customer(w: &World, t: usize) -> Value {
    use base64::Engine as _;
    let tn = &w.tenants[t];
    let etag = format!(
        "W/\"{}\"",
        base64::engine::general_purpose::STANDARD.encode(format!("'\"{}\"'", &tn.id[..8]))
    );
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminCustomer",
        "@odata.etag": etag,
        "id": tn.id,
        "tenantId": tn.id,
        "displayName": tn.display_name,
    })
}

/// `GET /tenantRelationships/delegatedAdminCustomers`.
pub(crate) async fn list_customers(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, false)?;
        let q = Query::parse(raw.as_deref());
        let w = &core.world;
        let filter = read_filter(
            &q,
            &["displayName", "tenantId", "id"],
            "microsoft.graph.delegatedAdminCustomer",
            &ctx,
        )?;
        let p = read_paging(&q, 300, 300, &ctx)?;
        let get = |t: &usize, f: &str| -> Option<String> {
            if f.eq_ignore_ascii_case("displayName") {
                Some(w.tenants[*t].display_name.clone())
            } else {
                Some(w.tenants[*t].id.clone())
            }
        };
        // Lazily filtered: a page without $count/$filter only scans as far as it needs.
        let customers =
            (0..w.tenants.len()).filter(|t| !w.tenants[*t].is_own && customer_has_active(w, *t));
        let idx: Vec<usize>;
        let pg = if wants_count(&q) || filter.is_some() {
            idx = customers.collect();
            page(idx.iter(), filter.as_ref(), get, &p, wants_count(&q))
        } else {
            let mut found: Vec<usize> = customers.skip(p.skip).take(p.top + 1).collect();
            let more = found.len() > p.top;
            found.truncate(p.top);
            idx = found;
            super::Page {
                items: idx.iter().collect(),
                next_offset: more.then_some(p.skip + idx.len()),
                total: None,
            }
        };
        let select = select_list(&q);
        let value = pg
            .items
            .iter()
            .map(|t| apply_select(render_customer(w, **t), select.as_deref()))
            .collect();
        let next = graph_next(
            &s.config.base,
            &format!("{PREFIX}/tenantRelationships/delegatedAdminCustomers"),
            &q,
            pg.next_offset,
        );
        Ok(collection(
            context(&s.config.base, "delegatedAdminCustomers"),
            value,
            next,
            pg.total,
        ))
    })())
}

fn find_customer(w: &World, id: &str, ctx: &ReqCtx) -> Result<usize, Response> {
    w.tenant_idx(id)
        .filter(|t| !w.tenants[*t].is_own && customer_has_active(w, *t))
        .ok_or_else(|| not_found("delegatedAdminCustomer", id, ctx))
}

/// `GET /tenantRelationships/delegatedAdminCustomers/{id}`.
pub(crate) async fn get_customer(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, false)?;
        let t = find_customer(&core.world, &id, &ctx)?;
        let ctx_url = context(&s.config.base, "delegatedAdminCustomers/$entity");
        Ok(entity(
            StatusCode::OK,
            render_customer(&core.world, t),
            ctx_url,
            None,
        ))
    })())
}

/// `GET /tenantRelationships/delegatedAdminCustomers/{id}/serviceManagementDetails`.
pub(crate) async fn list_service_management(
    State(s): State<Shared>,
    Extension(ctx): Extension<ReqCtx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let now = s.now();
    let core = s.lock();
    done((|| {
        gdap_caller(&core, &headers, now, &ctx, false)?;
        let w = &core.world;
        let t = find_customer(w, &id, &ctx)?;
        let tn = &w.tenants[t];
        let d = &tn.domain;
        let services = [
            (
                "Azure Active Directory",
                format!("https://aad.portal.azure.com/{d}"),
            ),
            (
                "Microsoft 365 admin center",
                format!(
                    "https://admin.microsoft.com/Partner/BeginClientSession.aspx?CTID={}",
                    tn.id
                ),
            ),
            (
                "Exchange",
                format!(
                    "https://admin.exchange.microsoft.com/?landingpage=homepage&form=mac_sidebar&delegatedOrg={d}"
                ),
            ),
            (
                "Teams",
                format!("https://admin.teams.microsoft.com/?delegatedOrg={d}"),
            ),
            (
                "Microsoft 365 Lighthouse",
                format!("https://lighthouse.microsoft.com/#/tenants/{}", tn.id),
            ),
        ];
        let value = services
            .iter()
            .enumerate()
            .map(|(i, (name, url))| {
                json!({
                    "@odata.type": "#microsoft.graph.delegatedAdminServiceManagementDetail",
                    "id": format!("{}-{i}", &tn.id[..8]),
                    "serviceName": name,
                    "serviceManagementUrl": url,
                })
            })
            .collect();
        Ok(collection(
            context(
                &s.config.base,
                &format!("delegatedAdminCustomers('{id}')/serviceManagementDetails"),
            ),
            value,
            None,
            None,
        ))
    })())
}
