//! The seeded world: the MSP's own tenant, its customers, GDAP relationships, service principals,
//! grants and Partner Center consents, plus the lazily applied time-based transitions.

pub(crate) mod catalog;
pub(crate) mod model;
mod scenario;
mod seed;
mod snapshot;
pub(crate) mod webhook_events;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use time::OffsetDateTime;

pub(crate) use catalog::AppDef;
pub(crate) use model::*;
pub use snapshot::{
    AccessAssignmentSnapshot, AppRoleAssignmentSnapshot, ConsentSnapshot, GrantSnapshot,
    RelationshipSnapshot, ServicePrincipalSnapshot, TenantSnapshot, WorldSnapshot,
};

use crate::SandboxError;
use crate::well_known::roles as r;

/// The partner (MSP) side of the world.
#[derive(Debug, Clone)]
pub(crate) struct PartnerInfo {
    /// Index of the partner tenant in `World::tenants` (always 0).
    pub(crate) tenant: usize,
    pub(crate) users: Vec<User>,
    pub(crate) groups: Vec<Group>,
    pub(crate) admin_agents: String,
    pub(crate) admin_group: String,
    pub(crate) helpdesk_group: String,
    /// Index in `World::apps` of the product's multi-tenant app.
    pub(crate) product_app: usize,
    /// Index in `World::apps` of the legacy (individually consented) app.
    pub(crate) legacy_app: usize,
    pub(crate) client_secret: String,
}

/// The whole state of the fake Microsoft cloud.
///
/// Build one with [`World::seeded`]; the same seed and tenant count always give the same world
/// (ids, names, relationships, grants). Time-dependent values are stored relative to an anchor
/// that the sandbox sets to the wall clock when it starts (or to a pinned instant, see
/// `SandboxBuilder::anchor`).
#[derive(Debug, Clone)]
pub struct World {
    pub(crate) seed: u64,
    pub(crate) anchor: OffsetDateTime,
    /// The last time (relative to the anchor) the world was brought up to date.
    pub(crate) now: Ms,
    pub(crate) apps: Vec<AppDef>,
    pub(crate) tenants: Vec<Tenant>,
    /// Lower-case tenant id -> index.
    pub(crate) tenant_index: HashMap<String, usize>,
    pub(crate) relationships: BTreeMap<u64, Relationship>,
    pub(crate) relationship_index: HashMap<String, u64>,
    pub(crate) next_rel_seq: u64,
    pub(crate) partner: PartnerInfo,
    pub(crate) webhook: Option<Webhook>,
    /// Webhook events queued for delivery (drained by the sandbox when its lock is released).
    pub(crate) webhook_outbox: Vec<PendingWebhook>,
    pub(crate) events: BTreeMap<(Ms, u64), Event>,
    pub(crate) event_seq: u64,
    pub(crate) etag_counter: u64,
    /// Randomness for ids created at run time (deterministic for a given request order).
    pub(crate) rng: ChaCha8Rng,
}

/// The anchor of a world that has not been started: 2026-11-24T00:00:00Z.
pub(crate) fn default_anchor() -> OffsetDateTime {
    time::macros::datetime!(2026-11-24 00:00:00 UTC)
}

/// Facts about the partner side of a world that tests and demos need.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WorldInfo {
    /// The seed the world was generated from.
    pub seed: u64,
    /// Number of customer tenants (the partner tenant excluded).
    pub customer_count: usize,
    /// The MSP's own (partner) tenant id.
    pub partner_tenant_id: String,
    /// The partner tenant's initial domain.
    pub partner_domain: String,
    /// The partner tenant's display name.
    pub partner_display_name: String,
    /// Client id of the product's multi-tenant app registered in the partner tenant.
    pub client_id: String,
    /// Client secret of that app.
    pub client_secret: String,
    /// Display name of the product's app.
    pub app_display_name: String,
    /// An example redirect URI the authorize endpoint accepts; any `http://127.0.0.1:*/...` or
    /// `http://localhost:*/...` URI is accepted.
    pub redirect_uri: String,
    /// UPN of the partner admin user (MFA, AdminAgents, GDAP admin group, GA at home).
    pub admin_upn: String,
    /// Object id of the partner admin user.
    pub admin_user_id: String,
    /// UPN of a partner admin user whose sign-ins carry no `mfa` amr claim.
    pub no_mfa_upn: String,
    /// UPN of a helpdesk user (GDAP helpdesk group only; not in AdminAgents).
    pub helpdesk_upn: String,
    /// The GDAP security group(s) the admin user is a member of (first = the onboarding group).
    pub admin_group_ids: Vec<String>,
    /// The GDAP helpdesk security group.
    pub helpdesk_group_id: String,
    /// The AdminAgents group of the partner tenant.
    pub admin_agents_group_id: String,
    /// App id of the legacy app consented individually in legacy tenants.
    pub legacy_app_id: String,
    /// Client secret of the legacy app (for client-credentials calls in legacy tenants).
    pub legacy_client_secret: String,
    /// Security groups of the partner tenant: `(id, displayName)`.
    pub partner_groups: Vec<(String, String)>,
}

impl World {
    /// Generates a world with the MSP's own tenant and `n_tenants` customers, deterministically
    /// from `seed`.
    pub fn seeded(seed: u64, n_tenants: usize) -> World {
        seed::seeded(seed, n_tenants)
    }

    /// Facts about the partner side (tenant, app credentials, admin user, groups).
    pub fn info(&self) -> WorldInfo {
        let p = &self.partner;
        let partner = &self.tenants[p.tenant];
        let admin = &p.users[0];
        WorldInfo {
            seed: self.seed,
            customer_count: self.tenants.len().saturating_sub(1),
            partner_tenant_id: partner.id.clone(),
            partner_domain: partner.domain.clone(),
            partner_display_name: partner.display_name.clone(),
            client_id: self.apps[p.product_app].app_id.clone(),
            client_secret: p.client_secret.clone(),
            app_display_name: self.apps[p.product_app].display_name.clone(),
            redirect_uri: "http://localhost:8400/callback".into(),
            admin_upn: admin.upn.clone(),
            admin_user_id: admin.id.clone(),
            no_mfa_upn: p.users[2].upn.clone(),
            helpdesk_upn: p.users[1].upn.clone(),
            admin_group_ids: vec![p.admin_group.clone()],
            helpdesk_group_id: p.helpdesk_group.clone(),
            admin_agents_group_id: p.admin_agents.clone(),
            legacy_app_id: self.apps[p.legacy_app].app_id.clone(),
            legacy_client_secret: crate::login::app_secret(self, p.legacy_app),
            partner_groups: p
                .groups
                .iter()
                .map(|g| (g.id.clone(), g.display_name.clone()))
                .collect(),
        }
    }

    /// A read-only, serializable view of the whole world.
    pub fn snapshot(&self) -> WorldSnapshot {
        snapshot::build(self)
    }

    /// The world's current time (anchor + elapsed sandbox time).
    pub fn now(&self) -> OffsetDateTime {
        self.at(self.now)
    }

    /// Moves a relationship to `active` (as if the customer approved it). If the relationship has
    /// no customer yet, `customer_tenant_id` must name one.
    ///
    /// # Errors
    /// Unknown relationship or tenant, or a relationship not in `approvalPending`/`created`.
    pub fn approve_relationship(
        &mut self,
        id: &str,
        customer_tenant_id: Option<&str>,
    ) -> Result<(), SandboxError> {
        let seq = self
            .rel_seq(id)
            .ok_or_else(|| SandboxError::NotFound(format!("relationship {id}")))?;
        let status = self
            .relationships
            .get(&seq)
            .map(|r| r.status.clone())
            .unwrap_or_default();
        if status != "approvalPending" && status != "created" {
            return Err(SandboxError::InvalidState(format!(
                "relationship {id} is {status}"
            )));
        }
        if let Some(c) = customer_tenant_id {
            let t = self
                .tenant_idx(c)
                .ok_or_else(|| SandboxError::NotFound(format!("tenant {c}")))?;
            self.set_customer(seq, t);
        }
        let has_customer = self
            .relationships
            .get(&seq)
            .is_some_and(|r| r.customer.is_some());
        if !has_customer {
            return Err(SandboxError::InvalidState(format!(
                "relationship {id} has no customer; name one"
            )));
        }
        let now = self.now;
        self.activate(seq, now);
        Ok(())
    }

    /// Sets the raw status string of a relationship (any value, e.g. `"terminated"` or an unknown
    /// future value).
    ///
    /// # Errors
    /// Unknown relationship.
    pub fn set_relationship_status(&mut self, id: &str, status: &str) -> Result<(), SandboxError> {
        let seq = self
            .rel_seq(id)
            .ok_or_else(|| SandboxError::NotFound(format!("relationship {id}")))?;
        let etag = self.next_etag();
        let now = self.now;
        if let Some(rel) = self.relationships.get_mut(&seq) {
            rel.status = status.to_string();
            rel.etag = etag;
            rel.last_modified = now;
        }
        Ok(())
    }

    /// Moves the end date of a relationship to `now + in_`. An active relationship expires (or
    /// auto-extends) when the sandbox clock passes it.
    ///
    /// # Errors
    /// Unknown relationship.
    pub fn set_relationship_end_in(
        &mut self,
        id: &str,
        in_: std::time::Duration,
    ) -> Result<(), SandboxError> {
        let seq = self
            .rel_seq(id)
            .ok_or_else(|| SandboxError::NotFound(format!("relationship {id}")))?;
        let at = self.now + in_.as_millis() as Ms;
        let etag = self.next_etag();
        if let Some(rel) = self.relationships.get_mut(&seq) {
            rel.end = Some(at);
            rel.etag = etag;
        }
        self.schedule(at, Event::RelationshipEnd { rel: seq, at });
        Ok(())
    }

    /// Sets the number of users of a tenant.
    ///
    /// # Errors
    /// Unknown tenant.
    pub fn set_user_count(&mut self, tenant_id: &str, count: u64) -> Result<(), SandboxError> {
        let t = self
            .tenant_idx(tenant_id)
            .ok_or_else(|| SandboxError::NotFound(format!("tenant {tenant_id}")))?;
        self.tenants[t].user_count = count;
        Ok(())
    }

    /// Removes the service principal of `app_id` from a tenant, with its grants and app role
    /// assignments. Returns whether one existed.
    ///
    /// # Errors
    /// Unknown tenant.
    pub fn remove_service_principal(
        &mut self,
        tenant_id: &str,
        app_id: &str,
    ) -> Result<bool, SandboxError> {
        let t = self
            .tenant_idx(tenant_id)
            .ok_or_else(|| SandboxError::NotFound(format!("tenant {tenant_id}")))?;
        let Some(app) = self.app_idx(app_id) else {
            return Ok(false);
        };
        let Some(sp) = self.tenants[t].sp_by_app(app).map(|s| s.id.clone()) else {
            return Ok(false);
        };
        self.delete_sp(t, &sp);
        Ok(true)
    }

    /// Adds (`member = true`) or removes a partner user (by UPN) to/from a partner security group.
    ///
    /// # Errors
    /// Unknown user or group.
    pub fn set_group_membership(
        &mut self,
        upn: &str,
        group_id: &str,
        member: bool,
    ) -> Result<(), SandboxError> {
        if !self
            .partner
            .groups
            .iter()
            .any(|g| g.id.eq_ignore_ascii_case(group_id))
        {
            return Err(SandboxError::NotFound(format!("group {group_id}")));
        }
        let user = self
            .partner
            .users
            .iter_mut()
            .find(|u| u.upn.eq_ignore_ascii_case(upn))
            .ok_or_else(|| SandboxError::NotFound(format!("user {upn}")))?;
        user.groups.retain(|g| !g.eq_ignore_ascii_case(group_id));
        if member {
            user.groups.push(group_id.to_ascii_lowercase());
        }
        Ok(())
    }

    /// Ids of every relationship whose customer is `tenant_id`, in creation order.
    pub fn relationship_ids_for(&self, tenant_id: &str) -> Vec<String> {
        let Some(t) = self.tenant_idx(tenant_id) else {
            return Vec::new();
        };
        self.tenants[t]
            .rels
            .iter()
            .filter_map(|s| self.relationships.get(s))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Whether the partner admin user currently has an active GDAP access assignment in a tenant
    /// (what a customer-tenant token needs).
    pub fn admin_has_gdap_access(&self, tenant_id: &str) -> bool {
        let Some(t) = self.tenant_idx(tenant_id) else {
            return false;
        };
        let admin = self.partner.users[0].id.clone();
        self.user_has_gdap_access(t, &admin)
    }

    /// Ids of all customer tenants, in world order.
    pub fn customer_tenant_ids(&self) -> Vec<String> {
        self.tenants
            .iter()
            .filter(|t| !t.is_own)
            .map(|t| t.id.clone())
            .collect()
    }

    // ---------------------------------------------------------------- internal helpers

    pub(crate) fn at(&self, ms: Ms) -> OffsetDateTime {
        self.anchor + time::Duration::milliseconds(ms)
    }

    pub(crate) fn fmt_time(&self, ms: Ms) -> String {
        crate::util::rfc3339(self.at(ms))
    }

    pub(crate) fn tenant_idx(&self, id: &str) -> Option<usize> {
        if let Some(i) = self.tenant_index.get(id) {
            return Some(*i);
        }
        self.tenant_index.get(&id.to_ascii_lowercase()).copied()
    }

    pub(crate) fn app_idx(&self, app_id: &str) -> Option<usize> {
        self.apps
            .iter()
            .position(|a| a.app_id.eq_ignore_ascii_case(app_id))
    }

    pub(crate) fn rel_seq(&self, id: &str) -> Option<u64> {
        self.relationship_index
            .get(id)
            .or_else(|| self.relationship_index.get(&id.to_ascii_lowercase()))
            .copied()
    }

    pub(crate) fn new_uuid(&mut self) -> String {
        seed::uuid(&mut self.rng)
    }

    pub(crate) fn new_opaque_id(&mut self) -> String {
        seed::opaque_id(&mut self.rng)
    }

    pub(crate) fn next_etag(&mut self) -> String {
        use base64::Engine as _;
        self.etag_counter += 1;
        let inner = format!(
            "\"{:08x}-0000-0200-0000-{:012x}\"",
            self.etag_counter,
            self.seed & 0xffff_ffff_ffff
        );
        format!(
            "W/\"{}\"",
            base64::engine::general_purpose::STANDARD.encode(format!("'{inner}'"))
        )
    }

    pub(crate) fn schedule(&mut self, at: Ms, ev: Event) {
        self.event_seq += 1;
        self.events.insert((at, self.event_seq), ev);
    }

    pub(crate) fn user_by_id(&self, id: &str) -> Option<&User> {
        self.partner
            .users
            .iter()
            .find(|u| u.id.eq_ignore_ascii_case(id))
    }

    pub(crate) fn user_by_upn(&self, upn: &str) -> Option<&User> {
        self.partner
            .users
            .iter()
            .find(|u| u.upn.eq_ignore_ascii_case(upn))
    }

    pub(crate) fn is_partner_group(&self, id: &str) -> bool {
        self.partner
            .groups
            .iter()
            .any(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// Directory roles a partner user holds in tenant `t`: home roles in the partner tenant,
    /// otherwise the union of roles of active assignments on active relationships whose group
    /// contains the user.
    pub(crate) fn user_roles(&self, t: usize, user_id: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let Some(user) = self.user_by_id(user_id) else {
            return out;
        };
        if t == self.partner.tenant {
            out.extend(user.home_roles.iter().cloned());
            return out;
        }
        for seq in &self.tenants[t].rels {
            let Some(rel) = self.relationships.get(seq) else {
                continue;
            };
            if rel.status != "active" {
                continue;
            }
            for a in &rel.assignments {
                if a.status == "active"
                    && user
                        .groups
                        .iter()
                        .any(|g| g.eq_ignore_ascii_case(&a.group_id))
                {
                    // An assignment can only grant roles that the relationship has.
                    out.extend(a.roles.iter().filter(|x| rel.roles.contains(x)).cloned());
                }
            }
        }
        out
    }

    /// Whether the user has any active GDAP access (an active assignment) in customer `t`.
    pub(crate) fn user_has_gdap_access(&self, t: usize, user_id: &str) -> bool {
        !self.user_roles(t, user_id).is_empty()
    }

    /// Application permissions (app role values) the app holds in tenant `t` on Microsoft Graph.
    pub(crate) fn app_graph_roles(&self, t: usize, app: usize) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let tenant = &self.tenants[t];
        let Some(sp) = tenant.sp_by_app(app) else {
            return out;
        };
        let Some(graph) = tenant.sp_by_app(catalog::GRAPH) else {
            return out;
        };
        for a in &tenant.app_role_assignments {
            if a.principal_id == sp.id
                && a.resource_id == graph.id
                && let Some(role) = self.apps[catalog::GRAPH].app_role(&a.app_role_id)
            {
                out.insert(role.value.to_string());
            }
        }
        out
    }

    pub(crate) fn set_customer(&mut self, seq: u64, t: usize) {
        let (tid, name) = (
            self.tenants[t].id.clone(),
            self.tenants[t].display_name.clone(),
        );
        let mut old = None;
        if let Some(rel) = self.relationships.get_mut(&seq) {
            old = rel.customer.as_ref().map(|c| c.0.clone());
            rel.customer = Some((tid, name));
        }
        if let Some(old) = old.and_then(|o| self.tenant_idx(&o)) {
            self.tenants[old].rels.retain(|s| *s != seq);
        }
        if !self.tenants[t].rels.contains(&seq) {
            self.tenants[t].rels.push(seq);
        }
    }

    /// Moves a relationship to `active` at time `now`.
    pub(crate) fn activate(&mut self, seq: u64, now: Ms) {
        let etag = self.next_etag();
        let mut customer = None;
        let mut end_at = None;
        if let Some(rel) = self.relationships.get_mut(&seq) {
            rel.status = "active".into();
            rel.activated = Some(now);
            let end = now + rel.duration_ms;
            rel.end = Some(end);
            rel.last_modified = now;
            rel.etag = etag;
            if let Some(res) = rel.reseller.as_mut() {
                res.is_partner_consent_pending = false;
            }
            customer = rel.customer.as_ref().map(|c| c.0.clone());
            end_at = Some(end);
        }
        if let Some(at) = end_at {
            self.schedule(at, Event::RelationshipEnd { rel: seq, at });
            // The customer's approval and the activation are one step here; Partner Center sends
            // both events.
            self.emit_relationship(seq, webhook_events::RELATIONSHIP_APPROVED, now);
            self.emit_relationship(seq, webhook_events::RELATIONSHIP_ACTIVATED, now);
        }
        if let Some(t) = customer.and_then(|c| self.tenant_idx(&c))
            && self.tenants[t]
                .sp_by_app(catalog::OFFLINE_PROCESSOR)
                .is_none()
        {
            let id = self.new_uuid();
            self.tenants[t].sps.push(ServicePrincipal {
                id,
                app: catalog::OFFLINE_PROCESSOR,
                created: now,
            });
        }
    }

    pub(crate) fn delete_sp(&mut self, t: usize, sp_id: &str) {
        let tenant = &mut self.tenants[t];
        tenant.sps.retain(|s| s.id != sp_id);
        tenant
            .grants
            .retain(|g| g.client_id != sp_id && g.resource_id != sp_id);
        tenant
            .app_role_assignments
            .retain(|a| a.principal_id != sp_id && a.resource_id != sp_id);
    }

    /// Creates the service principal of `app` in tenant `t` if missing; returns its id.
    pub(crate) fn ensure_sp(&mut self, t: usize, app: usize, now: Ms) -> String {
        if let Some(sp) = self.tenants[t].sp_by_app(app) {
            return sp.id.clone();
        }
        let id = self.new_uuid();
        self.tenants[t].sps.push(ServicePrincipal {
            id: id.clone(),
            app,
            created: now,
        });
        id
    }

    /// Applies every scheduled transition due at or before `now`.
    pub(crate) fn tick(&mut self, now: Ms) {
        if now > self.now {
            self.now = now;
        }
        while let Some(key) = self.events.keys().next().copied() {
            if key.0 > now {
                break;
            }
            let Some(ev) = self.events.remove(&key) else {
                break;
            };
            self.apply(key.0, ev);
        }
    }

    fn apply(&mut self, at: Ms, ev: Event) {
        match ev {
            Event::AssignmentActive { rel, assignment } => {
                let etag = self.next_etag();
                let mut activated = false;
                if let Some(a) = self.assignment_mut(rel, &assignment)
                    && a.status == "pending"
                {
                    a.status = "active".into();
                    a.last_modified = at;
                    a.etag = etag;
                    activated = true;
                }
                if activated {
                    self.emit_assignment(
                        rel,
                        &assignment,
                        webhook_events::ASSIGNMENT_ACTIVATED,
                        at,
                    );
                }
            }
            Event::AssignmentUpdated {
                rel,
                assignment,
                operation,
                roles,
            } => {
                let etag = self.next_etag();
                let mut data = None;
                if let Some(a) = self.assignment_mut(rel, &assignment) {
                    a.roles = roles;
                    a.last_modified = at;
                    a.etag = etag;
                    data = Some(a.clone());
                }
                if data.is_some() {
                    self.emit_assignment(rel, &assignment, webhook_events::ASSIGNMENT_UPDATED, at);
                }
                let etag = self.next_etag();
                let data = data.map(|a| crate::graph::relationships::assignment_data_string(&a));
                self.finish_operation(rel, &operation, at, etag, data);
            }
            Event::AssignmentDeleted { rel, assignment } => {
                let etag = self.next_etag();
                let mut deleted = false;
                if let Some(a) = self.assignment_mut(rel, &assignment) {
                    deleted = a.status != "deleted";
                    a.status = "deleted".into();
                    a.last_modified = at;
                    a.etag = etag;
                }
                if deleted {
                    self.emit_assignment(rel, &assignment, webhook_events::ASSIGNMENT_DELETED, at);
                }
            }
            Event::AutoApprove { rel } => {
                let ok = self
                    .relationships
                    .get(&rel)
                    .is_some_and(|r| r.status == "approvalPending" && r.customer.is_some());
                if ok {
                    self.activate(rel, at);
                }
            }
            Event::RelationshipEnd { rel, at: due } => {
                let etag = self.next_etag();
                let mut reschedule = None;
                let mut expired = false;
                if let Some(r) = self.relationships.get_mut(&rel)
                    && r.status == "active"
                    && r.end == Some(due)
                {
                    let has_ga = r.roles.iter().any(|x| x == r::GLOBAL_ADMINISTRATOR);
                    if r.auto_extend == "P180D" && !has_ga {
                        let next = due + 180 * DAY;
                        r.end = Some(next);
                        reschedule = Some(next);
                    } else {
                        r.status = "expired".into();
                        expired = true;
                    }
                    r.last_modified = at;
                    r.etag = etag;
                }
                if let Some(next) = reschedule {
                    self.schedule(next, Event::RelationshipEnd { rel, at: next });
                }
                if expired {
                    self.emit_relationship(rel, webhook_events::RELATIONSHIP_EXPIRED, at);
                }
            }
            Event::Terminated { rel } => {
                let etag = self.next_etag();
                let mut terminated = false;
                if let Some(r) = self.relationships.get_mut(&rel)
                    && (r.status == "terminationRequested" || r.status == "terminating")
                {
                    r.status = "terminated".into();
                    r.end = Some(at);
                    r.last_modified = at;
                    r.etag = etag;
                    terminated = true;
                }
                if terminated {
                    self.emit_relationship(rel, webhook_events::RELATIONSHIP_TERMINATED, at);
                }
            }
            Event::RelationshipUpdated {
                rel,
                operation,
                roles,
            } => {
                let etag = self.next_etag();
                let mut data = None;
                if let Some(r) = self.relationships.get_mut(&rel) {
                    r.roles = roles;
                    r.last_modified = at;
                    r.etag = etag;
                    for a in &mut r.assignments {
                        a.roles.retain(|x| x != r::GLOBAL_ADMINISTRATOR);
                    }
                    data = Some(serde_json::json!({"id": r.id, "status": r.status}).to_string());
                }
                let etag = self.next_etag();
                self.finish_operation(rel, &operation, at, etag, data);
            }
            Event::ConsentMaterialize {
                tenant,
                app,
                grants,
            } => {
                // A consent deleted before it replicated never shows up.
                let app_id = &self.apps[app].app_id;
                if self.tenants[tenant]
                    .consents
                    .iter()
                    .any(|c| c.application_id.eq_ignore_ascii_case(app_id))
                {
                    self.materialize_consent(tenant, app, &grants, at);
                }
            }
        }
    }

    /// Creates the SP of `app` and one AllPrincipals grant per resource (app index, space separated
    /// scope) in tenant `t`. Existing grants for the same client + resource get the scopes merged.
    pub(crate) fn materialize_consent(
        &mut self,
        t: usize,
        app: usize,
        grants: &[(usize, String)],
        now: Ms,
    ) {
        let client = self.ensure_sp(t, app, now);
        for (res_app, scope) in grants {
            let Some(resource) = self.tenants[t].sp_by_app(*res_app).map(|s| s.id.clone()) else {
                continue;
            };
            let existing = self.tenants[t].grants.iter_mut().find(|g| {
                g.client_id == client
                    && g.resource_id == resource
                    && g.consent_type == "AllPrincipals"
            });
            if let Some(g) = existing {
                let mut set: Vec<String> = g.scope.split_whitespace().map(String::from).collect();
                for s in scope.split_whitespace() {
                    if !set.iter().any(|x| x == s) {
                        set.push(s.to_string());
                    }
                }
                g.scope = set.join(" ");
                continue;
            }
            let id = self.new_opaque_id();
            self.tenants[t].grants.push(Grant {
                id,
                client_id: client.clone(),
                consent_type: "AllPrincipals".into(),
                principal_id: None,
                resource_id: resource,
                scope: scope.clone(),
            });
        }
    }

    /// Queues `event` for delivery when the webhook registration lists it (ASCII
    /// case-insensitive); returns whether it was queued.
    pub(crate) fn emit_webhook(
        &mut self,
        event: &'static str,
        resource: WebhookResource,
        at: Ms,
        validation: Option<String>,
    ) -> bool {
        let Some(h) = &self.webhook else {
            return false;
        };
        if !h.events.iter().any(|e| e.eq_ignore_ascii_case(event)) {
            return false;
        }
        let url = h.url.clone();
        self.webhook_outbox.push(PendingWebhook {
            event_name: event,
            resource,
            changed: at,
            url,
            validation,
        });
        true
    }

    fn emit_relationship(&mut self, seq: u64, event: &'static str, at: Ms) {
        if let Some(id) = self.relationships.get(&seq).map(|r| r.id.clone()) {
            self.emit_webhook(event, WebhookResource::Relationship(id), at, None);
        }
    }

    pub(crate) fn emit_assignment(
        &mut self,
        seq: u64,
        assignment: &str,
        event: &'static str,
        at: Ms,
    ) {
        if let Some(id) = self.relationships.get(&seq).map(|r| r.id.clone()) {
            let resource = WebhookResource::Assignment {
                relationship: id,
                assignment: assignment.to_owned(),
            };
            self.emit_webhook(event, resource, at, None);
        }
    }

    fn assignment_mut(&mut self, rel: u64, id: &str) -> Option<&mut Assignment> {
        self.relationships
            .get_mut(&rel)?
            .assignments
            .iter_mut()
            .find(|a| a.id == id)
    }

    fn finish_operation(&mut self, rel: u64, op: &str, at: Ms, etag: String, data: Option<String>) {
        if let Some(r) = self.relationships.get_mut(&rel)
            && let Some(o) = r.operations.iter_mut().find(|o| o.id == op)
        {
            o.status = "succeeded".into();
            o.last_modified = at;
            o.etag = etag;
            if let Some(d) = data {
                o.data = d;
            }
        }
    }
}
