//! Ports: what the workflows need from the outside world, as narrow traits over domain types.
//!
//! Real clients implement them in `crate::adapters`; [`crate::fakes`] has in-memory versions
//! for tests. The workflows hold `Arc<dyn Port>`. Methods a fake does not need have default
//! bodies returning [`PortError::unimplemented`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use gdap_core::{
    AppId, AppRoleId, AssignmentId, GrantId, RelationshipId, RoleTemplateId, SecurityGroupId,
    ServicePrincipalId, TenantId, UserId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::directory::{AppConsent, AppRoleGrant, DelegatedGrant, Organization, ServicePrincipal};
use crate::partner_directory::{GroupMember, PartnerUser, SecurityGroup, WebhookRegistration};
use crate::port_error::PortError;
use crate::relationship::{
    AccessAssignment, Change, NewRelationship, OperationRef, OperationStatus, Relationship,
    RelationshipRequest, RelationshipStatus,
};
use crate::templates::Days;
use crate::tenant::{ManagedTenant, TenantRecord};

/// A stream of items from a port.
pub type PortStream<T> = BoxStream<'static, Result<T, PortError>>;

/// The partner tenant's GDAP relationships (Graph `tenantRelationships`).
#[async_trait]
pub trait PartnerGdap: Send + Sync {
    /// Streams relationships, optionally only those with `status` (the adapter filters on the
    /// server: `$filter=status eq 'active'`). Items may include reseller relationships and, when
    /// the server ignores the filter, other statuses.
    fn list_relationships(&self, status: Option<RelationshipStatus>) -> PortStream<Relationship>;

    /// Streams the relationships with one customer. The default filters
    /// [`PartnerGdap::list_relationships`] on the client.
    fn list_customer_relationships(&self, customer: TenantId) -> PortStream<Relationship> {
        self.list_relationships(None)
            .filter(move |r| {
                let keep = match r {
                    Ok(r) => r.customer_tenant() == Some(customer),
                    Err(_) => true,
                };
                futures::future::ready(keep)
            })
            .boxed()
    }

    /// Reads one relationship.
    async fn get_relationship(&self, id: &RelationshipId) -> Result<Relationship, PortError>;

    /// Creates a relationship (status `created`).
    async fn create_relationship(&self, new: &NewRelationship) -> Result<Relationship, PortError>;

    /// Locks a `created` relationship for customer approval.
    async fn lock_for_approval(
        &self,
        id: &RelationshipId,
    ) -> Result<RelationshipRequest, PortError>;

    /// Lists a relationship's access assignments.
    async fn list_access_assignments(
        &self,
        id: &RelationshipId,
    ) -> Result<Vec<AccessAssignment>, PortError> {
        let _ = id;
        Err(PortError::unimplemented("list_access_assignments"))
    }

    /// Gives a partner security group some of the relationship's roles.
    async fn create_access_assignment(
        &self,
        id: &RelationshipId,
        group: &SecurityGroupId,
        roles: &[RoleTemplateId],
    ) -> Result<AccessAssignment, PortError> {
        let _ = (id, group, roles);
        Err(PortError::unimplemented("create_access_assignment"))
    }

    /// Sets a relationship's auto-extend period (`PATCH` with `If-Match: etag`); allowed while
    /// `created` or `active`, never with Global Administrator. Returns the relationship as it
    /// now stands. A stale `etag` is [`crate::PortErrorKind::PreconditionFailed`].
    async fn set_auto_extend(
        &self,
        id: &RelationshipId,
        etag: &str,
        auto_extend: Days,
    ) -> Result<Relationship, PortError> {
        let _ = (id, etag, auto_extend);
        Err(PortError::unimplemented("set_auto_extend"))
    }

    /// Replaces a relationship's roles (`PATCH accessDetails` with `If-Match: etag`). On an
    /// active relationship only removing Global Administrator is allowed, and the service answers
    /// with an operation ([`Change::Accepted`]); nothing to change is [`Change::Done`].
    async fn update_relationship_roles(
        &self,
        id: &RelationshipId,
        etag: &str,
        roles: &[RoleTemplateId],
    ) -> Result<Change<Relationship>, PortError> {
        let _ = (id, etag, roles);
        Err(PortError::unimplemented("update_relationship_roles"))
    }

    /// Replaces the roles of an access assignment (`PATCH` with `If-Match: etag`); usually
    /// [`Change::Accepted`], or [`Change::Done`] when nothing changes.
    async fn update_access_assignment(
        &self,
        id: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
        roles: &[RoleTemplateId],
    ) -> Result<Change<AccessAssignment>, PortError> {
        let _ = (id, assignment, etag, roles);
        Err(PortError::unimplemented("update_access_assignment"))
    }

    /// Deletes an access assignment (`DELETE` with `If-Match: etag`).
    async fn delete_access_assignment(
        &self,
        id: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
    ) -> Result<(), PortError> {
        let _ = (id, assignment, etag);
        Err(PortError::unimplemented("delete_access_assignment"))
    }

    /// Reads a long-running operation once.
    async fn get_operation(&self, operation: &OperationRef) -> Result<OperationStatus, PortError> {
        let _ = operation;
        Err(PortError::unimplemented("get_operation"))
    }
}

/// The partner tenant's own directory: security groups and users (Graph with the partner's
/// token).
#[async_trait]
pub trait PartnerDirectory: Send + Sync {
    /// The security groups named exactly `display_name` (Entra ID allows several).
    async fn find_groups_by_name(
        &self,
        display_name: &str,
    ) -> Result<Vec<SecurityGroup>, PortError> {
        let _ = display_name;
        Err(PortError::unimplemented("find_groups_by_name"))
    }

    /// A group by id, or `None` when it does not exist.
    async fn get_group(&self, id: &SecurityGroupId) -> Result<Option<SecurityGroup>, PortError> {
        let _ = id;
        Err(PortError::unimplemented("get_group"))
    }

    /// Creates a security group (assigned membership, not mail-enabled).
    async fn create_security_group(
        &self,
        display_name: &str,
        description: &str,
    ) -> Result<SecurityGroup, PortError> {
        let _ = (display_name, description);
        Err(PortError::unimplemented("create_security_group"))
    }

    /// The direct members of a group.
    async fn list_group_members(
        &self,
        group: &SecurityGroupId,
    ) -> Result<Vec<GroupMember>, PortError> {
        let _ = group;
        Err(PortError::unimplemented("list_group_members"))
    }

    /// Adds a user to a group; an existing membership is [`crate::PortErrorKind::AlreadyExists`].
    async fn add_group_member(
        &self,
        group: &SecurityGroupId,
        user: &UserId,
    ) -> Result<(), PortError> {
        let _ = (group, user);
        Err(PortError::unimplemented("add_group_member"))
    }

    /// A user by sign-in name or object id, or `None` when there is none.
    async fn find_user(&self, user: &str) -> Result<Option<PartnerUser>, PortError> {
        let _ = user;
        Err(PortError::unimplemented("find_user"))
    }

    /// The security groups a user belongs to, directly or through nested groups.
    async fn list_user_groups(&self, user: &UserId) -> Result<Vec<SecurityGroup>, PortError> {
        let _ = user;
        Err(PortError::unimplemented("list_user_groups"))
    }
}

/// How a customer-tenant directory is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum AccessPath {
    /// Through GDAP: the partner user's refresh token redeemed for the customer tenant.
    Gdap,
    /// Client credentials of the partner app: the MSP's own partner tenant (seed 003).
    ClientCredentials,
}

/// Makes a [`CustomerDirectory`] for a tenant.
pub trait CustomerDirectories: Send + Sync {
    /// The directory of `tenant`, reached through `path`.
    fn for_tenant(&self, tenant: TenantId, path: AccessPath) -> Arc<dyn CustomerDirectory>;
}

/// One customer tenant's directory (Graph with a customer-scoped token).
#[async_trait]
pub trait CustomerDirectory: Send + Sync {
    /// The organization object.
    async fn organization(&self) -> Result<Organization, PortError>;

    /// The number of users.
    async fn user_count(&self) -> Result<u64, PortError>;

    /// The service principal of `app_id`, if present.
    async fn find_service_principal(
        &self,
        app_id: &AppId,
    ) -> Result<Option<ServicePrincipal>, PortError> {
        let _ = app_id;
        Err(PortError::unimplemented("find_service_principal"))
    }

    /// Creates the service principal of `app_id`.
    async fn create_service_principal(
        &self,
        app_id: &AppId,
    ) -> Result<ServicePrincipal, PortError> {
        let _ = app_id;
        Err(PortError::unimplemented("create_service_principal"))
    }

    /// The application permissions granted to `principal`.
    async fn list_app_role_grants(
        &self,
        principal: &ServicePrincipalId,
    ) -> Result<Vec<AppRoleGrant>, PortError> {
        let _ = principal;
        Err(PortError::unimplemented("list_app_role_grants"))
    }

    /// Grants `principal` the app role `app_role` of `resource`.
    async fn grant_app_role(
        &self,
        principal: &ServicePrincipalId,
        resource: &ServicePrincipalId,
        app_role: &AppRoleId,
    ) -> Result<AppRoleGrant, PortError> {
        let _ = (principal, resource, app_role);
        Err(PortError::unimplemented("grant_app_role"))
    }

    /// The tenant-wide delegated grants of `client`.
    async fn list_delegated_grants(
        &self,
        client: &ServicePrincipalId,
    ) -> Result<Vec<DelegatedGrant>, PortError> {
        let _ = client;
        Err(PortError::unimplemented("list_delegated_grants"))
    }

    /// Creates a tenant-wide delegated grant.
    async fn create_delegated_grant(
        &self,
        client: &ServicePrincipalId,
        resource: &ServicePrincipalId,
        scopes: &[String],
    ) -> Result<DelegatedGrant, PortError> {
        let _ = (client, resource, scopes);
        Err(PortError::unimplemented("create_delegated_grant"))
    }

    /// Replaces the scopes of a delegated grant.
    async fn update_delegated_grant(
        &self,
        id: &GrantId,
        scopes: &[String],
    ) -> Result<(), PortError> {
        let _ = (id, scopes);
        Err(PortError::unimplemented("update_delegated_grant"))
    }
}

/// Partner Center: CPV application consents.
#[async_trait]
pub trait PartnerCenter: Send + Sync {
    /// Installs the app in `customer` and grants its delegated scopes
    /// (`POST /v1/customers/{id}/applicationconsents`). A duplicate is reported as
    /// [`crate::PortErrorKind::AlreadyExists`].
    async fn create_consent(
        &self,
        customer: &TenantId,
        consent: &AppConsent,
    ) -> Result<(), PortError>;

    /// Removes the app's consent from `customer`.
    async fn delete_consent(
        &self,
        customer: &TenantId,
        application_id: &AppId,
    ) -> Result<(), PortError> {
        let _ = (customer, application_id);
        Err(PortError::unimplemented("delete_consent"))
    }

    /// The consents Partner Center holds for `customer`. Partner Center documents no GET, so
    /// real adapters return [`PortError::unimplemented`]; read grants from the customer
    /// directory instead.
    async fn list_consents(&self, customer: &TenantId) -> Result<Vec<AppConsent>, PortError> {
        let _ = customer;
        Err(PortError::unimplemented("list_consents"))
    }

    /// The partner's webhook registration, or `None` when there is none.
    async fn get_webhook_registration(&self) -> Result<Option<WebhookRegistration>, PortError> {
        Err(PortError::unimplemented("get_webhook_registration"))
    }

    /// Creates the (single) webhook registration.
    async fn create_webhook_registration(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookRegistration, PortError> {
        let _ = registration;
        Err(PortError::unimplemented("create_webhook_registration"))
    }

    /// Replaces the webhook registration's URL and events.
    async fn update_webhook_registration(
        &self,
        registration: &WebhookRegistration,
    ) -> Result<WebhookRegistration, PortError> {
        let _ = registration;
        Err(PortError::unimplemented("update_webhook_registration"))
    }
}

/// Who the product acts as, and whether tokens can be had.
#[async_trait]
pub trait Tokens: Send + Sync {
    /// The signed-in partner user and the partner tenant.
    fn account(&self) -> PartnerAccount;

    /// Obtains a customer-scoped token for `tenant` through GDAP, to prove access (fails with
    /// `AADSTS50177`, `AADSTS65001`, `AADSTS700082`, … when it cannot).
    async fn probe_customer(&self, tenant: &TenantId) -> Result<(), PortError> {
        let _ = tenant;
        Err(PortError::unimplemented("probe_customer"))
    }

    /// Obtains a client-credentials token for the MSP's own partner tenant.
    async fn probe_own_tenant(&self) -> Result<(), PortError> {
        Err(PortError::unimplemented("probe_own_tenant"))
    }

    /// The authentication methods (`amr` claim, e.g. `["pwd", "mfa"]`) of the signed-in
    /// partner user's current token, or `None` when the token does not say (opaque tokens).
    async fn partner_sign_in_methods(&self) -> Result<Option<Vec<String>>, PortError> {
        Err(PortError::unimplemented("partner_sign_in_methods"))
    }
}

/// The partner side of the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerAccount {
    /// The signed-in user's email (UPN), for messages.
    pub user_email: Option<String>,
    /// The partner tenant.
    pub partner_tenant_id: Option<TenantId>,
}

/// Time: the current instant and sleeping. The real clock sleeps with tokio, so tests run on
/// paused time.
#[async_trait]
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now (UTC).
    fn now(&self) -> OffsetDateTime;

    /// Waits `duration`.
    async fn sleep(&self, duration: Duration);
}

/// The system clock; sleeps with [`tokio::time::sleep`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The product's own records of tenants and the last synced table.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Every record.
    async fn list_records(&self) -> Result<Vec<TenantRecord>, PortError>;

    /// The record of `tenant`.
    async fn get_record(&self, tenant: &TenantId) -> Result<Option<TenantRecord>, PortError>;

    /// Creates or replaces a record.
    async fn upsert_record(&self, record: &TenantRecord) -> Result<(), PortError>;

    /// Removes a record (a hard delete). Returns whether it existed.
    async fn remove_record(&self, tenant: &TenantId) -> Result<bool, PortError>;

    /// The rows of the last sync.
    async fn load_rows(&self) -> Result<Vec<ManagedTenant>, PortError>;

    /// Replaces the rows of the last sync.
    async fn save_rows(&self, rows: &[ManagedTenant]) -> Result<(), PortError>;
}

/// How one workflow step ended (or that it began).
///
/// Serialised as camelCase strings: `"started"`, `"passed"`, `"changed"`, `"skipped"`,
/// `"failed"`, `"cancelled"`. A store must round-trip every variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum StepOutcome {
    /// Recorded just before the step runs (a `Started` without a later outcome means the run
    /// was killed inside that step).
    Started,
    /// Checked; nothing to do.
    Passed,
    /// Done now.
    Changed,
    /// Not applicable.
    Skipped,
    /// Failed.
    Failed,
    /// The run was cancelled before or during this step; the tenant stops here in a known
    /// state and a resume continues from this step.
    Cancelled,
}

impl StepOutcome {
    /// Whether the step ended (anything but [`StepOutcome::Started`]).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Started)
    }

    /// Whether the step ended well (`Passed`, `Changed` or `Skipped`).
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Passed | Self::Changed | Self::Skipped)
    }
}

/// The header of a run: what it is, so that a resume needs no other input.
///
/// Written once when a run starts ([`Journal::put_run`]); `spec` is the workflow's own JSON
/// (kind, tenants, options) which a store keeps verbatim (e.g. as TEXT).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RunRecord {
    /// The run id (unique).
    pub run_id: String,
    /// The kind of run, a stable lower-case name: `"onboard"`, `"migrate"`, `"refreshEmail"`.
    pub kind: String,
    /// The run's definition (tenants, options) as JSON, opaque to the store.
    pub spec: serde_json::Value,
    /// When the run was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl RunRecord {
    /// A run header.
    pub fn new(
        run_id: impl Into<String>,
        kind: impl Into<String>,
        spec: serde_json::Value,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            run_id: run_id.into(),
            kind: kind.into(),
            spec,
            created_at,
        }
    }
}

/// One journal line: a step of a run for a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JournalEntry {
    /// The run (a batch job, a single onboarding).
    pub run_id: String,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The step's stable name, e.g. `"consent"`, `"grant:Microsoft Graph:User.Read.All"`.
    pub step: String,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Detail for people (no secrets).
    pub detail: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl JournalEntry {
    /// An entry.
    pub fn new(
        run_id: impl Into<String>,
        tenant_id: TenantId,
        step: impl Into<String>,
        outcome: StepOutcome,
        detail: impl Into<String>,
        at: OffsetDateTime,
    ) -> Self {
        Self {
            run_id: run_id.into(),
            tenant_id,
            step: step.into(),
            outcome,
            detail: detail.into(),
            at,
        }
    }
}

/// Records each step so a killed run resumes from the last good step (SQLite in `gdap-store`).
///
/// Workflows append a [`StepOutcome::Started`] entry before a step and a final outcome after it;
/// an append must be durable before it returns. Run headers ([`RunRecord`]) say what a run was,
/// so `resume(run_id)` needs nothing else.
#[async_trait]
pub trait Journal: Send + Sync {
    /// Appends an entry.
    async fn append(&self, entry: &JournalEntry) -> Result<(), PortError>;

    /// Stores the header of a run (insert, or replace the one with the same `run_id`).
    async fn put_run(&self, run: &RunRecord) -> Result<(), PortError>;

    /// The header of `run_id`, if any.
    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, PortError>;

    /// Every run header, oldest first (by `created_at`, then insertion order).
    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError>;

    /// The entries of a run, in order.
    async fn entries(&self, run_id: &str) -> Result<Vec<JournalEntry>, PortError>;

    /// Whether `step` of `run_id` already ended `Passed` or `Changed` for `tenant`.
    async fn is_done(
        &self,
        run_id: &str,
        tenant: &TenantId,
        step: &str,
    ) -> Result<bool, PortError> {
        Ok(self.entries(run_id).await?.iter().any(|e| {
            &e.tenant_id == tenant
                && e.step == step
                && matches!(e.outcome, StepOutcome::Passed | StepOutcome::Changed)
        }))
    }
}

/// All the ports a workflow may use.
#[derive(Clone)]
pub struct Ports {
    /// GDAP relationships.
    pub gdap: Arc<dyn PartnerGdap>,
    /// The partner tenant's groups and users.
    pub partner_directory: Arc<dyn PartnerDirectory>,
    /// Customer directories.
    pub directories: Arc<dyn CustomerDirectories>,
    /// Partner Center.
    pub partner_center: Arc<dyn PartnerCenter>,
    /// Tokens and account.
    pub tokens: Arc<dyn Tokens>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The product's records.
    pub store: Arc<dyn TenantStore>,
    /// The journal.
    pub journal: Arc<dyn Journal>,
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ports")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
