//! In-memory fakes of every port, for tests (here and in front-ends).
//!
//! They are stateful, record their calls, and can be scripted to fail ("the next
//! `create_relationship` returns 409"). [`FakeWorld`] wires one of each into [`Ports`].
//! [`FakeClock`] follows tokio's clock, so with `#[tokio::test(start_paused = true)]` sleeps
//! are instant and `now()` advances with them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use gdap_core::{
    AppId, AppRoleId, AssignmentId, GrantId, RelationshipId, RoleTemplateId, SecurityGroupId,
    ServicePrincipalId, TenantId,
};
use time::OffsetDateTime;

use crate::directory::{
    AppConsent, AppRoleGrant, ConsentGrant, DelegatedGrant, Organization, PermissionDef,
    ServicePrincipal,
};
use crate::partner_directory::WebhookRegistration;
use crate::port_error::{PortError, PortErrorKind};
use crate::ports::{
    AccessPath, Clock, CustomerDirectories, CustomerDirectory, Journal, JournalEntry,
    PartnerAccount, PartnerCenter, PartnerGdap, PortStream, Ports, RunRecord, TenantStore, Tokens,
};
use crate::relationship::{
    AccessAssignment, AssignmentStatus, Change, NewRelationship, Relationship, RelationshipRequest,
    RelationshipStatus,
};
use crate::templates::Days;
use crate::tenant::{ManagedTenant, TenantRecord};

mod partner_directory;

pub use partner_directory::FakePartnerDirectory;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock only happens in a failing test; keep going with the data.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Scripted failures per operation name, consumed in order.
#[derive(Debug, Default)]
struct Script {
    failures: HashMap<String, VecDeque<PortError>>,
    calls: Vec<String>,
}

impl Script {
    fn call(&mut self, op: &str, detail: impl fmt::Display) -> Result<(), PortError> {
        self.calls
            .push(format!("{op} {detail}").trim_end().to_owned());
        match self.failures.get_mut(op).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A clock that starts at a given instant and follows tokio's (pausable) clock.
#[derive(Debug, Clone)]
pub struct FakeClock {
    start: OffsetDateTime,
    base: tokio::time::Instant,
}

impl FakeClock {
    /// A clock reading `start` now.
    pub fn at(start: OffsetDateTime) -> Self {
        Self {
            start,
            base: tokio::time::Instant::now(),
        }
    }
}

#[async_trait]
impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        let elapsed = tokio::time::Instant::now().duration_since(self.base);
        self.start + elapsed
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[derive(Debug, Default)]
struct GdapState {
    relationships: BTreeMap<RelationshipId, Relationship>,
    assignments: BTreeMap<RelationshipId, Vec<AccessAssignment>>,
    script: Script,
    ignore_status_filter: bool,
    next: u64,
    propagation: Duration,
    activates_at: HashMap<AssignmentId, OffsetDateTime>,
    writes: usize,
    /// ETag versions by object id (relationships and assignments).
    versions: HashMap<String, u64>,
    /// Long-running operations by location.
    operations: BTreeMap<String, FakeOperation>,
    /// Relationships the customer approves at a time.
    approve_at: HashMap<RelationshipId, OffsetDateTime>,
    /// Relationships whose auto-extend the service refuses (as for Global Administrator).
    refuse_auto_extend: Vec<RelationshipId>,
    /// Updates made (auto-extend, roles, assignment changes and deletes).
    updates: usize,
}

/// A long-running operation of the fake: applied when the clock passes `done_at`.
#[derive(Debug, Clone)]
struct FakeOperation {
    relationship: RelationshipId,
    done_at: OffsetDateTime,
    apply: OperationEffect,
    fail: bool,
    applied: bool,
}

#[derive(Debug, Clone)]
enum OperationEffect {
    RelationshipRoles(Vec<RoleTemplateId>),
    AssignmentRoles(AssignmentId, Vec<RoleTemplateId>),
}

impl GdapState {
    fn etag_of(&self, id: &str) -> String {
        format!("W/\"{}\"", self.versions.get(id).copied().unwrap_or(1))
    }

    fn bump(&mut self, id: &str) {
        *self.versions.entry(id.to_owned()).or_insert(1) += 1;
    }

    fn check_etag(&self, id: &str, etag: &str) -> Result<(), PortError> {
        if etag.trim().is_empty() {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "If-Match header is required",
            ));
        }
        if etag != self.etag_of(id) && etag != "*" {
            return Err(PortError::http(
                412,
                Some("preconditionFailed"),
                "The ETag does not match the current version.",
            ));
        }
        Ok(())
    }

    fn with_etag(&self, mut rel: Relationship) -> Relationship {
        rel.etag = Some(self.etag_of(rel.id.as_str()));
        rel
    }

    fn assignment_with_etag(&self, mut a: AccessAssignment) -> AccessAssignment {
        a.etag = Some(self.etag_of(a.id.as_str()));
        a
    }

    /// Applies what the clock has made due: approvals, activations, finished operations.
    fn settle(&mut self, now: OffsetDateTime) {
        let due: Vec<RelationshipId> = self
            .approve_at
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for id in due {
            self.approve_at.remove(&id);
            if let Some(r) = self.relationships.get_mut(&id) {
                r.status = RelationshipStatus::Active;
                r.activated_date_time = Some(now);
                r.last_modified_date_time = Some(now);
                r.end_date_time = r.duration.map(|d| now + d.to_duration());
            }
            self.bump(id.as_str());
        }
        let due: Vec<AssignmentId> = self
            .activates_at
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.activates_at.remove(&k);
            for list in self.assignments.values_mut() {
                for a in list.iter_mut().filter(|a| a.id == k) {
                    a.status = AssignmentStatus::Active;
                }
            }
        }
        let ready: Vec<String> = self
            .operations
            .iter()
            .filter(|(_, o)| !o.applied && !o.fail && o.done_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in ready {
            let Some(op) = self.operations.get_mut(&k) else {
                continue;
            };
            op.applied = true;
            let (rel, effect) = (op.relationship.clone(), op.apply.clone());
            match effect {
                OperationEffect::RelationshipRoles(roles) => {
                    if let Some(r) = self.relationships.get_mut(&rel) {
                        r.roles = roles.into_iter().collect();
                        r.last_modified_date_time = Some(now);
                    }
                    self.bump(rel.as_str());
                }
                OperationEffect::AssignmentRoles(aid, roles) => {
                    if let Some(list) = self.assignments.get_mut(&rel) {
                        for a in list.iter_mut().filter(|a| a.id == aid) {
                            a.roles = roles.iter().copied().collect();
                        }
                    }
                    self.bump(aid.as_str());
                }
            }
        }
    }

    fn new_operation(
        &mut self,
        relationship: &RelationshipId,
        done_at: OffsetDateTime,
        apply: OperationEffect,
    ) -> crate::relationship::OperationRef {
        self.next += 1;
        let location = format!("fake://operations/{}/{}", relationship, self.next);
        let fail = self
            .script
            .failures
            .get_mut("operation_fails")
            .and_then(VecDeque::pop_front)
            .is_some();
        self.operations.insert(
            location.clone(),
            FakeOperation {
                relationship: relationship.clone(),
                done_at,
                apply,
                fail,
                applied: false,
            },
        );
        crate::relationship::OperationRef {
            relationship_id: relationship.clone(),
            location,
        }
    }
}

/// An in-memory GDAP relationship service.
///
/// Creating enforces Graph's rules (name 1..=50 characters and unique → 409
/// `duplicateDisplayName`; duration 1..=730 days; auto-extend 0/180 and not with Global
/// Administrator → 400); `lockForApproval` moves `created` to `approvalPending`.
pub struct FakeGdap {
    state: Mutex<GdapState>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for FakeGdap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeGdap").finish_non_exhaustive()
    }
}

impl FakeGdap {
    /// An empty service stamping times from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            state: Mutex::new(GdapState::default()),
            clock,
        }
    }

    /// Adds (or replaces) a relationship.
    pub fn insert(&self, rel: Relationship) {
        lock(&self.state).relationships.insert(rel.id.clone(), rel);
    }

    /// A relationship by id.
    pub fn relationship(&self, id: &RelationshipId) -> Option<Relationship> {
        lock(&self.state).relationships.get(id).cloned()
    }

    /// Every relationship.
    pub fn relationships(&self) -> Vec<Relationship> {
        lock(&self.state).relationships.values().cloned().collect()
    }

    /// Makes the next `op` call (`"list_relationships"`, `"create_relationship"`,
    /// `"lock_for_approval"`, `"get_relationship"`, `"create_access_assignment"`, …) fail with
    /// `error`. Several calls queue up.
    pub fn fail_next(&self, op: &str, error: PortError) {
        lock(&self.state)
            .script
            .failures
            .entry(op.to_owned())
            .or_default()
            .push_back(error);
    }

    /// The calls made, as `"op detail"` strings.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.state).script.calls.clone()
    }

    /// Makes new access assignments `pending` for `delay` (on the clock) before they read
    /// `active`, as Graph does while a change propagates. Default: active at once.
    pub fn set_assignment_propagation(&self, delay: Duration) {
        lock(&self.state).propagation = delay;
    }

    /// Adds an access assignment as it stands (e.g. an existing one to be reused).
    pub fn insert_assignment(&self, id: &RelationshipId, assignment: AccessAssignment) {
        lock(&self.state)
            .assignments
            .entry(id.clone())
            .or_default()
            .push(assignment);
    }

    /// How many access-assignment creates were attempted.
    pub fn assignment_writes(&self) -> usize {
        lock(&self.state).writes
    }

    /// The access assignments of a relationship, as stored.
    pub fn assignments(&self, id: &RelationshipId) -> Vec<AccessAssignment> {
        lock(&self.state)
            .assignments
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    /// Makes listing ignore the status filter (as a server that does not support it would).
    pub fn set_ignore_status_filter(&self, ignore: bool) {
        lock(&self.state).ignore_status_filter = ignore;
    }

    /// The customer approves relationship `id`: it becomes active now, ending after its duration.
    pub fn approve(&self, id: &RelationshipId) {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        if let Some(r) = s.relationships.get_mut(id) {
            r.status = RelationshipStatus::Active;
            r.activated_date_time = Some(now);
            r.last_modified_date_time = Some(now);
            r.end_date_time = r.duration.map(|d| now + d.to_duration());
        }
    }

    /// The customer approves relationship `id` after `delay` on the clock (read lazily).
    pub fn approve_after(&self, id: &RelationshipId, delay: Duration) {
        let at = self.clock.now() + delay;
        lock(&self.state).approve_at.insert(id.clone(), at);
    }

    /// Makes the service refuse auto-extend on `id` with 400 (as Graph does for Global
    /// Administrator, whatever the fake's roles say).
    pub fn refuse_auto_extend(&self, id: &RelationshipId) {
        lock(&self.state).refuse_auto_extend.push(id.clone());
    }

    /// How many updates (auto-extend, role changes, assignment updates and deletes) were
    /// attempted.
    pub fn update_writes(&self) -> usize {
        lock(&self.state).updates
    }

    /// Makes the next long-running operation end `failed`. (Equivalent to
    /// `fail_next("operation_fails", …)`.)
    pub fn fail_next_operation(&self) {
        self.fail_next(
            "operation_fails",
            PortError::new(PortErrorKind::Other, "operation failed"),
        );
    }

    /// The current ETag of a relationship or assignment id.
    pub fn etag_of(&self, id: &str) -> String {
        lock(&self.state).etag_of(id)
    }

    /// Changes an object behind the caller's back (its ETag goes stale).
    pub fn touch(&self, id: &str) {
        lock(&self.state).bump(id);
    }

    /// A new relationship id: two GUID-shaped halves, as Graph makes.
    pub fn new_relationship_id(n: u64) -> RelationshipId {
        let s = format!("{n:08x}-0000-4000-8000-{n:012x}-{n:08x}-1111-4111-8111-{n:012x}");
        RelationshipId::try_from(s).unwrap_or_else(|_| unreachable_id())
    }
}

#[allow(clippy::expect_used)] // a constant that parses
fn unreachable_id() -> RelationshipId {
    RelationshipId::try_from("0").expect("constant id")
}

#[async_trait]
impl PartnerGdap for FakeGdap {
    fn list_relationships(&self, status: Option<RelationshipStatus>) -> PortStream<Relationship> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        let detail = status.as_ref().map(|s| s.to_string()).unwrap_or_default();
        if let Err(e) = s.script.call("list_relationships", detail) {
            return futures::stream::iter([Err(e)]).boxed();
        }
        let ignore = s.ignore_status_filter;
        let items: Vec<Result<Relationship, PortError>> = s
            .relationships
            .values()
            .filter(|r| ignore || status.as_ref().is_none_or(|st| &r.status == st))
            .map(|r| Ok(s.with_etag(r.clone())))
            .collect();
        // A scripted mid-stream failure: `fail_next("list_relationships_item", …)`.
        let mut items = items;
        if let Some(e) = s
            .script
            .failures
            .get_mut("list_relationships_item")
            .and_then(VecDeque::pop_front)
        {
            let at = items.len() / 2;
            items.insert(at, Err(e));
        }
        futures::stream::iter(items).boxed()
    }

    async fn get_relationship(&self, id: &RelationshipId) -> Result<Relationship, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        s.script.call("get_relationship", id)?;
        s.relationships
            .get(id)
            .cloned()
            .map(|r| s.with_etag(r))
            .ok_or_else(|| PortError::not_found(format!("relationship {id}")))
    }

    async fn create_relationship(&self, new: &NewRelationship) -> Result<Relationship, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.script.call("create_relationship", &new.display_name)?;
        let name_len = new.display_name.chars().count();
        if name_len == 0 || name_len > 50 {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "displayName must be 1..50 characters",
            ));
        }
        if s.relationships
            .values()
            .any(|r| r.display_name.eq_ignore_ascii_case(&new.display_name))
        {
            return Err(PortError::http(
                409,
                Some("duplicateDisplayName"),
                "A relationship with this display name already exists.",
            )
            .with_kind(PortErrorKind::AlreadyExists));
        }
        if new.duration.get() == 0 || new.duration.get() > 730 {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "duration must be P1D..P2Y",
            ));
        }
        let ga = gdap_core::roles::GLOBAL_ADMINISTRATOR.id();
        if !matches!(new.auto_extend.get(), 0 | 180)
            || (new.auto_extend.get() > 0 && new.roles.contains(&ga))
        {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "autoExtendDuration not allowed",
            ));
        }
        s.next += 1;
        let id = FakeGdap::new_relationship_id(s.next);
        let mut rel = Relationship::new(
            id.clone(),
            new.display_name.clone(),
            RelationshipStatus::Created,
        )
        .with_roles(new.roles.iter().copied())
        .with_duration(new.duration)
        .with_auto_extend(new.auto_extend)
        .with_times(
            Some(now),
            Some(now),
            None,
            Some(now + new.duration.to_duration()),
        );
        rel.customer = new.customer.clone();
        s.relationships.insert(id, rel.clone());
        Ok(rel)
    }

    async fn lock_for_approval(
        &self,
        id: &RelationshipId,
    ) -> Result<RelationshipRequest, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.script.call("lock_for_approval", id)?;
        s.next += 1;
        let n = s.next;
        let rel = s
            .relationships
            .get_mut(id)
            .ok_or_else(|| PortError::not_found(format!("relationship {id}")))?;
        if rel.status != RelationshipStatus::Created {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                format!("cannot lock a relationship in status {}", rel.status),
            ));
        }
        rel.status = RelationshipStatus::ApprovalPending;
        rel.last_modified_date_time = Some(now);
        let req_id = AssignmentId::try_from(format!("req-{n}"))
            .map_err(|e| PortError::new(PortErrorKind::Other, e.to_string()))?;
        Ok(RelationshipRequest::new(req_id, "created", Some(now)))
    }

    async fn list_access_assignments(
        &self,
        id: &RelationshipId,
    ) -> Result<Vec<AccessAssignment>, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.script.call("list_access_assignments", id)?;
        s.settle(now);
        Ok(s.assignments
            .get(id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|a| s.assignment_with_etag(a))
            .collect())
    }

    async fn create_access_assignment(
        &self,
        id: &RelationshipId,
        group: &SecurityGroupId,
        roles: &[RoleTemplateId],
    ) -> Result<AccessAssignment, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        s.writes += 1;
        s.script.call("create_access_assignment", id)?;
        let Some(rel) = s.relationships.get(id) else {
            return Err(PortError::not_found(format!("relationship {id}")));
        };
        if !rel.status.is_active() {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "relationship is not active",
            ));
        }
        if roles.iter().any(|r| !rel.roles.contains(r)) {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "roles must be among the relationship's roles",
            ));
        }
        if s.assignments
            .get(id)
            .is_some_and(|v| v.iter().any(|a| &a.group == group && a.is_live()))
        {
            return Err(
                PortError::http(409, Some("conflict"), "The resource already exists.")
                    .with_kind(PortErrorKind::AlreadyExists),
            );
        }
        s.next += 1;
        let aid = AssignmentId::try_from(format!("asg-{}", s.next))
            .map_err(|e| PortError::new(PortErrorKind::Other, e.to_string()))?;
        let status = if s.propagation.is_zero() {
            AssignmentStatus::Active
        } else {
            let at = self.clock.now() + s.propagation;
            s.activates_at.insert(aid.clone(), at);
            AssignmentStatus::Pending
        };
        let a = AccessAssignment::new(aid, *group, roles.iter().copied(), status);
        s.assignments.entry(id.clone()).or_default().push(a.clone());
        Ok(s.assignment_with_etag(a))
    }

    async fn set_auto_extend(
        &self,
        id: &RelationshipId,
        etag: &str,
        auto_extend: Days,
    ) -> Result<Relationship, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        s.updates += 1;
        s.script.call("set_auto_extend", id)?;
        let refused = s.refuse_auto_extend.contains(id);
        let Some(rel) = s.relationships.get(id) else {
            return Err(PortError::not_found(format!("relationship {id}")));
        };
        s.check_etag(id.as_str(), etag)?;
        if !(rel.status.is_active() || rel.status == RelationshipStatus::Created) {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                format!("autoExtendDuration cannot change while {}", rel.status),
            ));
        }
        if refused || (auto_extend.get() > 0 && rel.has_global_admin()) {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "Relationships with the Global Administrator role cannot be auto-extended.",
            ));
        }
        if !matches!(auto_extend.get(), 0 | 180) {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "autoExtendDuration must be P0D or P180D",
            ));
        }
        if let Some(r) = s.relationships.get_mut(id) {
            r.auto_extend = auto_extend;
            r.last_modified_date_time = Some(now);
        }
        s.bump(id.as_str());
        let rel = s
            .relationships
            .get(id)
            .cloned()
            .ok_or_else(|| PortError::not_found("gone"))?;
        Ok(s.with_etag(rel))
    }

    async fn update_relationship_roles(
        &self,
        id: &RelationshipId,
        etag: &str,
        roles: &[RoleTemplateId],
    ) -> Result<Change<Relationship>, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        s.updates += 1;
        s.script.call("update_relationship_roles", id)?;
        let propagation = s.propagation;
        let Some(rel) = s.relationships.get(id).cloned() else {
            return Err(PortError::not_found(format!("relationship {id}")));
        };
        s.check_etag(id.as_str(), etag)?;
        let wanted: std::collections::BTreeSet<RoleTemplateId> = roles.iter().copied().collect();
        if wanted == rel.roles {
            return Ok(Change::Done(s.with_etag(rel)));
        }
        if rel.status == RelationshipStatus::Created {
            if let Some(r) = s.relationships.get_mut(id) {
                r.roles = wanted;
            }
            s.bump(id.as_str());
            let rel = s
                .relationships
                .get(id)
                .cloned()
                .ok_or_else(|| PortError::not_found("gone"))?;
            return Ok(Change::Done(s.with_etag(rel)));
        }
        let ga = gdap_core::roles::GLOBAL_ADMINISTRATOR.id();
        let mut expected = rel.roles.clone();
        expected.remove(&ga);
        if !rel.status.is_active() || !rel.has_global_admin() || wanted != expected {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "On an active relationship only the removal of Global Administrator is allowed.",
            ));
        }
        let op = s.new_operation(
            id,
            now + propagation,
            OperationEffect::RelationshipRoles(roles.to_vec()),
        );
        Ok(Change::Accepted {
            operation: op,
            retry_after: Some(Duration::from_secs(5)),
        })
    }

    async fn update_access_assignment(
        &self,
        id: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
        roles: &[RoleTemplateId],
    ) -> Result<Change<AccessAssignment>, PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        s.updates += 1;
        s.script.call("update_access_assignment", assignment)?;
        let propagation = s.propagation;
        let Some(rel) = s.relationships.get(id).cloned() else {
            return Err(PortError::not_found(format!("relationship {id}")));
        };
        let Some(a) = s
            .assignments
            .get(id)
            .and_then(|v| v.iter().find(|a| &a.id == assignment))
            .cloned()
        else {
            return Err(PortError::not_found(format!(
                "access assignment {assignment}"
            )));
        };
        s.check_etag(assignment.as_str(), etag)?;
        if roles.is_empty() || roles.iter().any(|r| !rel.roles.contains(r)) {
            return Err(PortError::http(
                400,
                Some("badRequest"),
                "roles must be among the relationship's roles",
            ));
        }
        let wanted: std::collections::BTreeSet<RoleTemplateId> = roles.iter().copied().collect();
        if wanted == a.roles {
            return Ok(Change::Done(s.assignment_with_etag(a)));
        }
        let op = s.new_operation(
            id,
            now + propagation,
            OperationEffect::AssignmentRoles(assignment.clone(), roles.to_vec()),
        );
        Ok(Change::Accepted {
            operation: op,
            retry_after: Some(Duration::from_secs(10)),
        })
    }

    async fn delete_access_assignment(
        &self,
        id: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
    ) -> Result<(), PortError> {
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        s.updates += 1;
        s.script.call("delete_access_assignment", assignment)?;
        let exists = s
            .assignments
            .get(id)
            .is_some_and(|v| v.iter().any(|a| &a.id == assignment && a.is_live()));
        if !exists {
            return Err(PortError::not_found(format!(
                "access assignment {assignment}"
            )));
        }
        s.check_etag(assignment.as_str(), etag)?;
        if let Some(list) = s.assignments.get_mut(id) {
            for a in list.iter_mut().filter(|a| &a.id == assignment) {
                a.status = AssignmentStatus::Deleted;
            }
        }
        s.bump(assignment.as_str());
        Ok(())
    }

    async fn get_operation(
        &self,
        operation: &crate::relationship::OperationRef,
    ) -> Result<crate::relationship::OperationStatus, PortError> {
        use crate::relationship::OperationStatus;
        let now = self.clock.now();
        let mut s = lock(&self.state);
        s.settle(now);
        s.script.call("get_operation", &operation.location)?;
        let op = s
            .operations
            .get(&operation.location)
            .ok_or_else(|| PortError::not_found(format!("operation {}", operation.location)))?;
        Ok(if op.fail && op.done_at <= now {
            OperationStatus::Failed
        } else if op.applied {
            OperationStatus::Succeeded
        } else {
            OperationStatus::Running
        })
    }
}

#[derive(Debug, Clone)]
struct FakeTenant {
    organization: Organization,
    user_count: u64,
}

#[derive(Debug, Default)]
struct DirState {
    tenants: HashMap<TenantId, FakeTenant>,
    user_count_failures: HashMap<TenantId, PortError>,
    opened: Vec<(TenantId, AccessPath)>,
    sps: HashMap<TenantId, Vec<ServicePrincipal>>,
    app_grants: HashMap<TenantId, Vec<AppRoleGrant>>,
    delegated: HashMap<TenantId, Vec<DelegatedGrant>>,
    /// `(tenant, permission value)` → the error every grant of it gets.
    app_role_failures: HashMap<(TenantId, String), PortError>,
    /// `(tenant, permission value)` whose grant "succeeds" but is never stored.
    lost_app_roles: Vec<(TenantId, String)>,
    script: Script,
    writes: Vec<String>,
    next: u64,
}

impl DirState {
    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn new_sp(&mut self, tenant: TenantId, app: AppId, name: &str) -> ServicePrincipal {
        let n = self.id();
        let sp = ServicePrincipal::new(ServicePrincipalId::from_uuid(fake_uuid(n)), app, name);
        self.sps.entry(tenant).or_default().push(sp.clone());
        sp
    }

    fn sp(&self, tenant: &TenantId, app: &AppId) -> Option<ServicePrincipal> {
        self.sps
            .get(tenant)
            .and_then(|v| v.iter().find(|s| &s.app_id == app))
            .cloned()
    }

    fn grant_delegated(
        &mut self,
        tenant: TenantId,
        client: ServicePrincipalId,
        resource: ServicePrincipalId,
        scopes: &[String],
    ) -> DelegatedGrant {
        let n = self.id();
        let list = self.delegated.entry(tenant).or_default();
        if let Some(g) = list
            .iter_mut()
            .find(|g| g.client_id == client && g.resource_id == resource)
        {
            for sc in scopes {
                if !g.scopes.contains(sc) {
                    g.scopes.push(sc.clone());
                }
            }
            return g.clone();
        }
        let id = GrantId::try_from(format!("grant-{n}")).unwrap_or_else(|_| unreachable_grant());
        let g = DelegatedGrant::new(id, client, resource, scopes.to_vec());
        list.push(g.clone());
        g
    }
}

fn fake_uuid(n: u64) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0000 | u128::from(n))
}

#[allow(clippy::expect_used)] // a constant that parses
fn unreachable_grant() -> GrantId {
    GrantId::try_from("grant-0").expect("constant id")
}

/// In-memory customer directories: an organization and a user count per tenant, an optional
/// latency, and a record of the highest number of user counts in flight at once.
#[derive(Debug, Default)]
pub struct FakeDirectories {
    state: Arc<Mutex<DirState>>,
    latency: Mutex<Duration>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl FakeDirectories {
    /// No tenants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tenant.
    pub fn add_tenant(&self, tenant: TenantId, display_name: &str, user_count: u64) {
        lock(&self.state).tenants.insert(
            tenant,
            FakeTenant {
                organization: Organization::new(tenant, display_name, None),
                user_count,
            },
        );
    }

    /// Makes counting users of `tenant` fail with `error` (every time).
    pub fn fail_user_count(&self, tenant: TenantId, error: PortError) {
        lock(&self.state).user_count_failures.insert(tenant, error);
    }

    /// Makes each user count take `latency` (on tokio's clock).
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    /// The highest number of user counts that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every directory opened, with its access path.
    pub fn opened(&self) -> Vec<(TenantId, AccessPath)> {
        lock(&self.state).opened.clone()
    }

    /// Adds the resource service principals of `manifest` to `tenant`, each defining the
    /// manifest's application roles and delegated scopes for it (as first-party apps do).
    pub fn install_resources(&self, tenant: TenantId, manifest: &crate::AppManifest) {
        let mut s = lock(&self.state);
        for r in &manifest.resources {
            if s.sp(&tenant, &r.resource_app_id).is_some() {
                continue;
            }
            let mut sp = s.new_sp(tenant, r.resource_app_id, &r.resource_name);
            let roles = r
                .app_roles
                .iter()
                .map(|v| {
                    let n = s.id();
                    PermissionDef {
                        id: AppRoleId::from_uuid(fake_uuid(n)),
                        value: v.clone(),
                    }
                })
                .collect();
            let scopes = r
                .delegated_scopes
                .iter()
                .map(|v| {
                    let n = s.id();
                    PermissionDef {
                        id: AppRoleId::from_uuid(fake_uuid(n)),
                        value: v.clone(),
                    }
                })
                .collect();
            sp = sp.with_app_roles(roles).with_scopes(scopes);
            if let Some(list) = s.sps.get_mut(&tenant)
                && let Some(slot) = list.iter_mut().find(|x| x.id == sp.id)
            {
                *slot = sp;
            }
        }
    }

    /// Installs `app` with tenant-wide `scopes` on each resource (as a consent does).
    pub fn consent_app(&self, tenant: TenantId, app: AppId, name: &str, grants: &[ConsentGrant]) {
        let mut s = lock(&self.state);
        let client = match s.sp(&tenant, &app) {
            Some(sp) => sp,
            None => s.new_sp(tenant, app, name),
        };
        for g in grants {
            if let Some(rsp) = s.sp(&tenant, &g.resource_app_id) {
                s.grant_delegated(tenant, client.id, rsp.id, &g.scopes);
            }
        }
    }

    /// Removes `app`'s tenant-wide delegated grants (the service principal stays).
    pub fn revoke_delegated(&self, tenant: TenantId, app: AppId) {
        let mut s = lock(&self.state);
        if let Some(sp) = s.sp(&tenant, &app)
            && let Some(list) = s.delegated.get_mut(&tenant)
        {
            list.retain(|g| g.client_id != sp.id);
        }
    }

    /// Grants `app` the application permission `permission` of `resource` directly.
    pub fn add_app_role_grant(
        &self,
        tenant: TenantId,
        app: AppId,
        resource: AppId,
        permission: &str,
    ) {
        let mut s = lock(&self.state);
        let (Some(client), Some(rsp)) = (s.sp(&tenant, &app), s.sp(&tenant, &resource)) else {
            return;
        };
        let Some(role) = rsp.app_role_id(permission) else {
            return;
        };
        let n = s.id();
        let id = GrantId::try_from(format!("ara-{n}")).unwrap_or_else(|_| unreachable_grant());
        s.app_grants
            .entry(tenant)
            .or_default()
            .push(AppRoleGrant::new(id, client.id, rsp.id, role));
    }

    /// Makes every grant of the application permission `permission` in `tenant` fail with
    /// `error` (e.g. a Graph role without Privileged Role Administrator: 403).
    pub fn fail_app_role(&self, tenant: TenantId, permission: &str, error: PortError) {
        lock(&self.state)
            .app_role_failures
            .insert((tenant, permission.to_owned()), error);
    }

    /// Makes grants of `permission` in `tenant` answer success without being stored (so only
    /// the read-back can notice).
    pub fn lose_app_role(&self, tenant: TenantId, permission: &str) {
        lock(&self.state)
            .lost_app_roles
            .push((tenant, permission.to_owned()));
    }

    /// Makes the next `op` call (`"find_service_principal"`, `"create_service_principal"`,
    /// `"list_app_role_grants"`, `"grant_app_role"`, `"list_delegated_grants"`,
    /// `"create_delegated_grant"`, `"update_delegated_grant"`) fail with `error`.
    pub fn fail_next(&self, op: &str, error: PortError) {
        lock(&self.state)
            .script
            .failures
            .entry(op.to_owned())
            .or_default()
            .push_back(error);
    }

    /// The service principal of `app` in `tenant`.
    pub fn service_principal(&self, tenant: TenantId, app: AppId) -> Option<ServicePrincipal> {
        lock(&self.state).sp(&tenant, &app)
    }

    /// The application permission grants in `tenant`.
    pub fn app_role_grants(&self, tenant: TenantId) -> Vec<AppRoleGrant> {
        lock(&self.state)
            .app_grants
            .get(&tenant)
            .cloned()
            .unwrap_or_default()
    }

    /// The tenant-wide delegated grants in `tenant`.
    pub fn delegated_grants(&self, tenant: TenantId) -> Vec<DelegatedGrant> {
        lock(&self.state)
            .delegated
            .get(&tenant)
            .cloned()
            .unwrap_or_default()
    }

    /// Every write made through the directory port, as `"op tenant detail"` strings.
    pub fn writes(&self) -> Vec<String> {
        lock(&self.state).writes.clone()
    }
}

impl CustomerDirectories for FakeDirectories {
    fn for_tenant(&self, tenant: TenantId, path: AccessPath) -> Arc<dyn CustomerDirectory> {
        lock(&self.state).opened.push((tenant, path));
        Arc::new(FakeDirectory {
            tenant,
            state: self.state.clone(),
            latency: *lock(&self.latency),
            in_flight: self.in_flight.clone(),
            max_in_flight: self.max_in_flight.clone(),
        })
    }
}

struct FakeDirectory {
    tenant: TenantId,
    state: Arc<Mutex<DirState>>,
    latency: Duration,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

#[async_trait]
impl CustomerDirectory for FakeDirectory {
    async fn organization(&self) -> Result<Organization, PortError> {
        lock(&self.state)
            .tenants
            .get(&self.tenant)
            .map(|t| t.organization.clone())
            .ok_or_else(|| PortError::aadsts(&[50177], "no GDAP access to this tenant"))
    }

    async fn user_count(&self) -> Result<u64, PortError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let s = lock(&self.state);
        if let Some(e) = s.user_count_failures.get(&self.tenant) {
            return Err(e.clone());
        }
        s.tenants
            .get(&self.tenant)
            .map(|t| t.user_count)
            .ok_or_else(|| PortError::aadsts(&[50177], "no GDAP access to this tenant"))
    }

    async fn find_service_principal(
        &self,
        app_id: &AppId,
    ) -> Result<Option<ServicePrincipal>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("find_service_principal", app_id)?;
        Ok(s.sp(&self.tenant, app_id))
    }

    async fn create_service_principal(
        &self,
        app_id: &AppId,
    ) -> Result<ServicePrincipal, PortError> {
        let mut s = lock(&self.state);
        s.script.call("create_service_principal", app_id)?;
        s.writes
            .push(format!("create_service_principal {} {app_id}", self.tenant));
        if s.sp(&self.tenant, app_id).is_some() {
            return Err(PortError::http(
                409,
                Some("Request_MultipleObjectsWithSameKeyValue"),
                "Another object with the same value for property appId already exists.",
            )
            .with_kind(PortErrorKind::AlreadyExists));
        }
        Ok(s.new_sp(self.tenant, *app_id, "Service principal"))
    }

    async fn list_app_role_grants(
        &self,
        principal: &ServicePrincipalId,
    ) -> Result<Vec<AppRoleGrant>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("list_app_role_grants", principal)?;
        Ok(s.app_grants
            .get(&self.tenant)
            .map(|v| {
                v.iter()
                    .filter(|g| &g.principal_id == principal)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn grant_app_role(
        &self,
        principal: &ServicePrincipalId,
        resource: &ServicePrincipalId,
        app_role: &AppRoleId,
    ) -> Result<AppRoleGrant, PortError> {
        let mut s = lock(&self.state);
        s.script.call("grant_app_role", app_role)?;
        let value = s
            .sps
            .get(&self.tenant)
            .and_then(|v| v.iter().find(|x| &x.id == resource))
            .and_then(|sp| sp.app_roles.iter().find(|r| &r.id == app_role))
            .map(|r| r.value.clone());
        let Some(value) = value else {
            return Err(PortError::http(
                400,
                Some("Request_BadRequest"),
                "unknown app role",
            ));
        };
        s.writes
            .push(format!("grant_app_role {} {value}", self.tenant));
        if let Some(e) = s.app_role_failures.get(&(self.tenant, value.clone())) {
            return Err(e.clone());
        }
        if s.app_grants.get(&self.tenant).is_some_and(|v| {
            v.iter().any(|g| {
                &g.principal_id == principal
                    && &g.resource_id == resource
                    && &g.app_role_id == app_role
            })
        }) {
            return Err(PortError::http(
                400,
                Some("Request_BadRequest"),
                "Permission being assigned already exists on the object.",
            )
            .with_kind(PortErrorKind::AlreadyExists));
        }
        let n = s.id();
        let id = GrantId::try_from(format!("ara-{n}")).unwrap_or_else(|_| unreachable_grant());
        let g = AppRoleGrant::new(id, *principal, *resource, *app_role);
        if !s.lost_app_roles.contains(&(self.tenant, value)) {
            s.app_grants.entry(self.tenant).or_default().push(g.clone());
        }
        Ok(g)
    }

    async fn list_delegated_grants(
        &self,
        client: &ServicePrincipalId,
    ) -> Result<Vec<DelegatedGrant>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("list_delegated_grants", client)?;
        Ok(s.delegated
            .get(&self.tenant)
            .map(|v| {
                v.iter()
                    .filter(|g| &g.client_id == client)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn create_delegated_grant(
        &self,
        client: &ServicePrincipalId,
        resource: &ServicePrincipalId,
        scopes: &[String],
    ) -> Result<DelegatedGrant, PortError> {
        let mut s = lock(&self.state);
        s.script.call("create_delegated_grant", client)?;
        s.writes.push(format!(
            "create_delegated_grant {} {}",
            self.tenant,
            scopes.join(" ")
        ));
        if s.delegated.get(&self.tenant).is_some_and(|v| {
            v.iter()
                .any(|g| &g.client_id == client && &g.resource_id == resource)
        }) {
            return Err(
                PortError::http(409, Some("Conflict"), "Permission entry already exists.")
                    .with_kind(PortErrorKind::AlreadyExists),
            );
        }
        let tenant = self.tenant;
        Ok(s.grant_delegated(tenant, *client, *resource, scopes))
    }

    async fn update_delegated_grant(
        &self,
        id: &GrantId,
        scopes: &[String],
    ) -> Result<(), PortError> {
        let mut s = lock(&self.state);
        s.script.call("update_delegated_grant", id)?;
        s.writes.push(format!(
            "update_delegated_grant {} {}",
            self.tenant,
            scopes.join(" ")
        ));
        let g = s
            .delegated
            .get_mut(&self.tenant)
            .and_then(|v| v.iter_mut().find(|g| &g.id == id))
            .ok_or_else(|| PortError::not_found("no such grant"))?;
        g.scopes = scopes.to_vec();
        Ok(())
    }
}

#[derive(Debug, Default)]
struct PcState {
    consents: BTreeMap<(TenantId, AppId), AppConsent>,
    webhook: Option<WebhookRegistration>,
    webhook_writes: usize,
    script: Script,
}

/// In-memory Partner Center consents; a duplicate create is `AlreadyExists` (409). Linked to
/// [`FakeDirectories`] ([`FakePartnerCenter::link_directories`]), a consent installs the app's
/// service principal and its tenant-wide grants there, and a delete removes the grants.
#[derive(Debug, Default)]
pub struct FakePartnerCenter {
    state: Mutex<PcState>,
    directories: Mutex<Option<Arc<FakeDirectories>>>,
}

impl FakePartnerCenter {
    /// No consents.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `op` call (`"create_consent"`, `"delete_consent"`) fail with `error`.
    pub fn fail_next(&self, op: &str, error: PortError) {
        lock(&self.state)
            .script
            .failures
            .entry(op.to_owned())
            .or_default()
            .push_back(error);
    }

    /// The calls made.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.state).script.calls.clone()
    }

    /// Makes consents act on `directories`.
    pub fn link_directories(&self, directories: Arc<FakeDirectories>) {
        *lock(&self.directories) = Some(directories);
    }

    /// Sets the webhook registration as it stands (e.g. another tool's).
    pub fn set_webhook(&self, registration: Option<WebhookRegistration>) {
        lock(&self.state).webhook = registration;
    }

    /// The webhook registration.
    pub fn webhook(&self) -> Option<WebhookRegistration> {
        lock(&self.state).webhook.clone()
    }

    /// How many webhook registration writes were made.
    pub fn webhook_writes(&self) -> usize {
        lock(&self.state).webhook_writes
    }

    /// Records a consent as existing (without touching any directory).
    pub fn insert_consent(&self, customer: TenantId, consent: AppConsent) {
        lock(&self.state)
            .consents
            .insert((customer, consent.application_id), consent);
    }
}

#[async_trait]
impl PartnerCenter for FakePartnerCenter {
    async fn create_consent(
        &self,
        customer: &TenantId,
        consent: &AppConsent,
    ) -> Result<(), PortError> {
        let mut s = lock(&self.state);
        s.script.call("create_consent", customer)?;
        let key = (*customer, consent.application_id);
        if s.consents.contains_key(&key) {
            return Err(PortError::http(
                409,
                Some("AlreadyExists"),
                "Permission entry already exists.",
            )
            .with_kind(PortErrorKind::AlreadyExists));
        }
        s.consents.insert(key, consent.clone());
        drop(s);
        if let Some(d) = lock(&self.directories).clone() {
            d.consent_app(
                *customer,
                consent.application_id,
                &consent.display_name,
                &consent.grants,
            );
        }
        Ok(())
    }

    async fn delete_consent(
        &self,
        customer: &TenantId,
        application_id: &AppId,
    ) -> Result<(), PortError> {
        let mut s = lock(&self.state);
        s.script.call("delete_consent", customer)?;
        let removed = s.consents.remove(&(*customer, *application_id));
        drop(s);
        if let Some(d) = lock(&self.directories).clone() {
            d.revoke_delegated(*customer, *application_id);
        }
        removed
            .map(|_| ())
            .ok_or_else(|| PortError::not_found("no such consent"))
    }

    async fn list_consents(&self, customer: &TenantId) -> Result<Vec<AppConsent>, PortError> {
        let s = lock(&self.state);
        Ok(s.consents
            .iter()
            .filter(|((t, _), _)| t == customer)
            .map(|(_, c)| c.clone())
            .collect())
    }

    async fn get_webhook_registration(&self) -> Result<Option<WebhookRegistration>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("get_webhook_registration", "")?;
        Ok(s.webhook.clone())
    }

    async fn create_webhook_registration(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookRegistration, PortError> {
        let mut s = lock(&self.state);
        s.webhook_writes += 1;
        s.script
            .call("create_webhook_registration", &registration.url)?;
        if s.webhook.is_some() {
            return Err(
                PortError::http(409, Some("Conflict"), "A registration already exists.")
                    .with_kind(PortErrorKind::AlreadyExists),
            );
        }
        s.webhook = Some(registration.clone());
        Ok(registration.clone())
    }

    async fn update_webhook_registration(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookRegistration, PortError> {
        let mut s = lock(&self.state);
        s.webhook_writes += 1;
        s.script
            .call("update_webhook_registration", &registration.url)?;
        if s.webhook.is_none() {
            return Err(PortError::not_found("no webhook registration"));
        }
        s.webhook = Some(registration.clone());
        Ok(registration.clone())
    }
}

/// Fake tokens: a fixed account, and scripted probe failures per tenant.
#[derive(Debug, Default)]
pub struct FakeTokens {
    account: PartnerAccount,
    failures: Mutex<HashMap<TenantId, PortError>>,
    sign_in_methods: Mutex<Option<Vec<String>>>,
}

impl FakeTokens {
    /// Tokens for `account`.
    pub fn new(account: PartnerAccount) -> Self {
        Self {
            account,
            failures: Mutex::new(HashMap::new()),
            sign_in_methods: Mutex::new(Some(vec!["pwd".into(), "mfa".into()])),
        }
    }

    /// Sets the `amr` of the signed-in user's token (default `["pwd", "mfa"]`; `None`: the
    /// token does not say).
    pub fn set_sign_in_methods(&self, methods: Option<Vec<String>>) {
        *lock(&self.sign_in_methods) = methods;
    }

    /// Makes probing `tenant` fail with `error`.
    pub fn fail_probe(&self, tenant: TenantId, error: PortError) {
        lock(&self.failures).insert(tenant, error);
    }
}

#[async_trait]
impl Tokens for FakeTokens {
    fn account(&self) -> PartnerAccount {
        self.account.clone()
    }

    async fn probe_customer(&self, tenant: &TenantId) -> Result<(), PortError> {
        match lock(&self.failures).get(tenant) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    async fn probe_own_tenant(&self) -> Result<(), PortError> {
        Ok(())
    }

    async fn partner_sign_in_methods(&self) -> Result<Option<Vec<String>>, PortError> {
        Ok(lock(&self.sign_in_methods).clone())
    }
}

#[derive(Debug, Default)]
struct StoreState {
    records: BTreeMap<TenantId, TenantRecord>,
    rows: Vec<ManagedTenant>,
    script: Script,
}

/// An in-memory [`TenantStore`].
#[derive(Debug, Default)]
pub struct MemoryTenantStore {
    state: Mutex<StoreState>,
}

impl MemoryTenantStore {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a record.
    pub fn put(&self, record: TenantRecord) {
        lock(&self.state).records.insert(record.tenant_id, record);
    }

    /// A record.
    pub fn record(&self, tenant: &TenantId) -> Option<TenantRecord> {
        lock(&self.state).records.get(tenant).cloned()
    }

    /// The saved rows.
    pub fn rows(&self) -> Vec<ManagedTenant> {
        lock(&self.state).rows.clone()
    }

    /// Makes the next `op` call fail (`"list_records"`, `"save_rows"`, …).
    pub fn fail_next(&self, op: &str, error: PortError) {
        lock(&self.state)
            .script
            .failures
            .entry(op.to_owned())
            .or_default()
            .push_back(error);
    }
}

#[async_trait]
impl TenantStore for MemoryTenantStore {
    async fn list_records(&self) -> Result<Vec<TenantRecord>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("list_records", "")?;
        Ok(s.records.values().cloned().collect())
    }

    async fn get_record(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("get_record", tenant)?;
        Ok(s.records.get(tenant).cloned())
    }

    async fn upsert_record(&self, record: &TenantRecord) -> Result<(), PortError> {
        let mut s = lock(&self.state);
        s.script.call("upsert_record", record.tenant_id)?;
        s.records.insert(record.tenant_id, record.clone());
        Ok(())
    }

    async fn remove_record(&self, tenant: &TenantId) -> Result<bool, PortError> {
        let mut s = lock(&self.state);
        s.script.call("remove_record", tenant)?;
        Ok(s.records.remove(tenant).is_some())
    }

    async fn load_rows(&self) -> Result<Vec<ManagedTenant>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("load_rows", "")?;
        Ok(s.rows.clone())
    }

    async fn save_rows(&self, rows: &[ManagedTenant]) -> Result<(), PortError> {
        let mut s = lock(&self.state);
        s.script.call("save_rows", rows.len())?;
        s.rows = rows.to_vec();
        Ok(())
    }
}

/// An in-memory [`Journal`].
#[derive(Debug, Default)]
pub struct MemoryJournal {
    entries: Mutex<Vec<JournalEntry>>,
    runs: Mutex<Vec<RunRecord>>,
}

impl MemoryJournal {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Journal for MemoryJournal {
    async fn append(&self, entry: &JournalEntry) -> Result<(), PortError> {
        lock(&self.entries).push(entry.clone());
        Ok(())
    }

    async fn entries(&self, run_id: &str) -> Result<Vec<JournalEntry>, PortError> {
        Ok(lock(&self.entries)
            .iter()
            .filter(|e| e.run_id == run_id)
            .cloned()
            .collect())
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), PortError> {
        let mut runs = lock(&self.runs);
        match runs.iter_mut().find(|r| r.run_id == run.run_id) {
            Some(r) => *r = run.clone(),
            None => runs.push(run.clone()),
        }
        Ok(())
    }

    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, PortError> {
        Ok(lock(&self.runs)
            .iter()
            .find(|r| r.run_id == run_id)
            .cloned())
    }

    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError> {
        let mut runs = lock(&self.runs).clone();
        runs.sort_by_key(|r| r.created_at);
        Ok(runs)
    }
}

/// One of each fake, wired into [`Ports`].
#[derive(Debug, Clone)]
pub struct FakeWorld {
    /// The clock.
    pub clock: Arc<FakeClock>,
    /// GDAP relationships.
    pub gdap: Arc<FakeGdap>,
    /// The partner tenant's groups and users.
    pub partner_directory: Arc<FakePartnerDirectory>,
    /// Customer directories.
    pub directories: Arc<FakeDirectories>,
    /// Partner Center.
    pub partner_center: Arc<FakePartnerCenter>,
    /// Tokens.
    pub tokens: Arc<FakeTokens>,
    /// The store.
    pub store: Arc<MemoryTenantStore>,
    /// The journal.
    pub journal: Arc<MemoryJournal>,
}

impl FakeWorld {
    /// An empty world whose clock reads `now`, signed in as `user_email`.
    pub fn new(now: OffsetDateTime, user_email: &str) -> Self {
        let clock = Arc::new(FakeClock::at(now));
        let directories = Arc::new(FakeDirectories::new());
        let partner_center = Arc::new(FakePartnerCenter::new());
        partner_center.link_directories(directories.clone());
        Self {
            gdap: Arc::new(FakeGdap::new(clock.clone())),
            partner_directory: Arc::new(FakePartnerDirectory::new()),
            clock,
            directories,
            partner_center,
            tokens: Arc::new(FakeTokens::new(PartnerAccount {
                user_email: Some(user_email.to_owned()),
                partner_tenant_id: None,
            })),
            store: Arc::new(MemoryTenantStore::new()),
            journal: Arc::new(MemoryJournal::new()),
        }
    }

    /// The ports.
    pub fn ports(&self) -> Ports {
        Ports {
            gdap: self.gdap.clone(),
            partner_directory: self.partner_directory.clone(),
            directories: self.directories.clone(),
            partner_center: self.partner_center.clone(),
            tokens: self.tokens.clone(),
            clock: self.clock.clone(),
            store: self.store.clone(),
            journal: self.journal.clone(),
        }
    }
}
