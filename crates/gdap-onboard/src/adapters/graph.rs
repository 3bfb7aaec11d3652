//! [`PartnerGdap`] and [`CustomerDirectories`] over [`gdap_graph::GraphClient`].

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use gdap_core::{
    AppId, AppRoleId, AssignmentId, GrantId, RelationshipId, RoleTemplateId, SecurityGroupId,
    ServicePrincipalId, TenantId, TokenCredential, UserId,
};
use gdap_graph::models::{
    self as gm, AccessDetails, CustomerParticipant, DelegatedAdminAccessAssignment,
    DelegatedAdminRelationship, IsoDuration, NewAccessAssignment, NewAppRoleAssignment,
    NewOAuth2PermissionGrant, RequestAction,
};
use gdap_graph::{GraphClient, ListOptions};

use crate::directory::{
    AppRoleGrant, DelegatedGrant, Organization, PermissionDef, ServicePrincipal,
};
use crate::partner_directory::{GroupMember, MemberKind, PartnerUser, SecurityGroup};
use crate::port_error::{PortError, PortErrorKind};
use crate::ports::{
    AccessPath, CustomerDirectories, CustomerDirectory, PartnerDirectory, PartnerGdap, PortStream,
};
use crate::relationship::{
    AccessAssignment, AssignmentStatus, Change, NewRelationship, OperationRef, OperationStatus,
    Relationship, RelationshipRequest, RelationshipStatus,
};
use crate::templates::Days;

use super::tokens::CredentialFactory;

/// Converts a Graph client error into a [`PortError`] by its predicates.
pub fn port_error_from_graph(e: &gdap_graph::Error) -> PortError {
    let base = match e.as_core() {
        Some(core) => PortError::from_core(core),
        None => PortError::new(PortErrorKind::Other, e.to_string()),
    };
    if e.is_duplicate_display_name() {
        let base = base.with_kind(PortErrorKind::AlreadyExists);
        return if base.service_code().is_some() {
            base
        } else {
            base.with_service_code("duplicateDisplayName")
        };
    }
    if e.is_already_exists() {
        return base.with_kind(PortErrorKind::AlreadyExists);
    }
    if e.is_validation() {
        return base.with_kind(PortErrorKind::Invalid);
    }
    if e.is_throttled() {
        return base.with_kind(PortErrorKind::Throttled);
    }
    if e.is_retryable() && base.kind() == PortErrorKind::Other {
        return base.with_kind(PortErrorKind::Transient);
    }
    base
}

fn ge(e: gdap_graph::Error) -> PortError {
    port_error_from_graph(&e)
}

fn days_of(d: Option<&IsoDuration>) -> Option<Days> {
    d.and_then(|d| u32::try_from(d.days()).ok()).map(Days)
}

fn relationship_from(r: DelegatedAdminRelationship) -> Relationship {
    let status = r
        .status
        .as_ref()
        .map_or(RelationshipStatus::Unknown(String::new()), |s| {
            RelationshipStatus::parse(s.as_str())
        });
    let roles: BTreeSet<RoleTemplateId> = r.access_details.role_ids().copied().collect();
    let mut out = Relationship::new(r.id.clone(), r.display_name.clone(), status)
        .with_roles(roles)
        .with_auto_extend(days_of(r.auto_extend_duration.as_ref()).unwrap_or(Days::NONE))
        .with_times(
            r.created_date_time,
            r.last_modified_date_time,
            r.activated_date_time,
            r.end_date_time,
        )
        .with_reseller(r.reseller.is_some());
    out.duration = days_of(r.duration.as_ref());
    out.etag = r.etag.clone();
    if let Some(c) = &r.customer {
        out = out.with_customer(c.tenant_id, c.display_name.as_deref());
    }
    out
}

fn assignment_from(a: DelegatedAdminAccessAssignment) -> Result<AccessAssignment, PortError> {
    let group = a.access_container.security_group_id().ok_or_else(|| {
        PortError::new(
            PortErrorKind::Other,
            "access assignment container is not a security group",
        )
    })?;
    let status = a
        .status
        .as_ref()
        .map_or(AssignmentStatus::Unknown(String::new()), |s| {
            AssignmentStatus::parse(s.as_str())
        });
    let mut out = AccessAssignment::new(a.id, group, a.access_details.role_ids().copied(), status);
    out.etag = a.etag;
    Ok(out)
}

fn change_from<T, U>(
    relationship: &RelationshipId,
    outcome: gdap_graph::client::UpdateOutcome<T>,
    convert: impl FnOnce(T) -> Result<U, PortError>,
) -> Result<Change<U>, PortError> {
    match outcome {
        gdap_graph::client::UpdateOutcome::Updated(t) => Ok(Change::Done(convert(t)?)),
        gdap_graph::client::UpdateOutcome::Accepted {
            operation_url,
            retry_after,
        } => Ok(Change::Accepted {
            operation: OperationRef {
                relationship_id: relationship.clone(),
                location: operation_url.to_string(),
            },
            retry_after,
        }),
    }
}

fn group_from(g: gm::Group) -> SecurityGroup {
    let mut out = SecurityGroup::new(g.id, g.display_name);
    out.description = g.description;
    out
}

/// [`PartnerGdap`] over a Graph client holding the partner's credential.
#[derive(Debug, Clone)]
pub struct GraphGdap {
    client: GraphClient,
}

impl GraphGdap {
    /// The port over `client` (partner-tenant token).
    pub fn new(client: GraphClient) -> Self {
        Self { client }
    }
}

#[async_trait]
impl PartnerGdap for GraphGdap {
    fn list_relationships(&self, status: Option<RelationshipStatus>) -> PortStream<Relationship> {
        let mut options = ListOptions::new().top(gdap_graph::MAX_TOP);
        if let Some(s) = status {
            options = options.filter(format!("status eq '{}'", s.as_str()));
        }
        self.client
            .list_relationships(Some(options))
            .map_ok(relationship_from)
            .map_err(ge)
            .boxed()
    }

    async fn get_relationship(&self, id: &RelationshipId) -> Result<Relationship, PortError> {
        self.client
            .get_relationship(id)
            .await
            .map(relationship_from)
            .map_err(ge)
    }

    async fn create_relationship(&self, new: &NewRelationship) -> Result<Relationship, PortError> {
        let duration = IsoDuration::days_duration(u64::from(new.duration.get())).map_err(ge)?;
        let mut body = gm::NewRelationship::new(
            new.display_name.clone(),
            duration,
            AccessDetails::from_roles(new.roles.iter().copied()),
        );
        if new.auto_extend.get() > 0 {
            body = body.with_auto_extend(
                IsoDuration::auto_extend(&new.auto_extend.to_iso8601()).map_err(ge)?,
            );
        }
        if let Some(c) = &new.customer {
            let mut p = CustomerParticipant::new(c.tenant_id);
            p.display_name = c.display_name.clone();
            body = body.with_customer(p);
        }
        self.client
            .create_relationship(&body)
            .await
            .map(relationship_from)
            .map_err(ge)
    }

    async fn lock_for_approval(
        &self,
        id: &RelationshipId,
    ) -> Result<RelationshipRequest, PortError> {
        let r = self
            .client
            .create_relationship_request(id, RequestAction::LockForApproval)
            .await
            .map_err(ge)?;
        Ok(RelationshipRequest::new(
            r.id,
            r.status.as_ref().map_or("", |s| s.as_str()),
            r.created_date_time,
        ))
    }

    async fn list_access_assignments(
        &self,
        id: &RelationshipId,
    ) -> Result<Vec<AccessAssignment>, PortError> {
        let items: Vec<DelegatedAdminAccessAssignment> = self
            .client
            .list_access_assignments(id, None)
            .try_collect()
            .await
            .map_err(ge)?;
        items.into_iter().map(assignment_from).collect()
    }

    async fn create_access_assignment(
        &self,
        id: &RelationshipId,
        group: &SecurityGroupId,
        roles: &[RoleTemplateId],
    ) -> Result<AccessAssignment, PortError> {
        let body = NewAccessAssignment::for_security_group(
            *group,
            AccessDetails::from_roles(roles.iter().copied()),
        );
        let a = self
            .client
            .create_access_assignment(id, &body)
            .await
            .map_err(ge)?;
        assignment_from(a)
    }

    async fn set_auto_extend(
        &self,
        id: &RelationshipId,
        etag: &str,
        auto_extend: Days,
    ) -> Result<Relationship, PortError> {
        let update = gm::RelationshipUpdate {
            auto_extend_duration: Some(if auto_extend.get() == 0 {
                IsoDuration::no_auto_extend()
            } else {
                IsoDuration::auto_extend(&auto_extend.to_iso8601()).map_err(ge)?
            }),
            ..Default::default()
        };
        let outcome = self
            .client
            .update_relationship(id, etag, &update)
            .await
            .map_err(ge)?;
        match outcome.updated() {
            Some(r) => Ok(relationship_from(r)),
            // Not documented for auto-extend; read the result instead of guessing.
            None => self.get_relationship(id).await,
        }
    }

    async fn update_relationship_roles(
        &self,
        id: &RelationshipId,
        etag: &str,
        roles: &[RoleTemplateId],
    ) -> Result<Change<Relationship>, PortError> {
        let update = gm::RelationshipUpdate {
            access_details: Some(AccessDetails::from_roles(roles.iter().copied())),
            ..Default::default()
        };
        let outcome = self
            .client
            .update_relationship(id, etag, &update)
            .await
            .map_err(ge)?;
        change_from(id, outcome, |r| Ok(relationship_from(r)))
    }

    async fn update_access_assignment(
        &self,
        id: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
        roles: &[RoleTemplateId],
    ) -> Result<Change<AccessAssignment>, PortError> {
        let update =
            gm::AccessAssignmentUpdate::new(AccessDetails::from_roles(roles.iter().copied()));
        let outcome = self
            .client
            .update_access_assignment(id, assignment, etag, &update)
            .await
            .map_err(ge)?;
        change_from(id, outcome, assignment_from)
    }

    async fn delete_access_assignment(
        &self,
        id: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
    ) -> Result<(), PortError> {
        self.client
            .delete_access_assignment(id, assignment, etag)
            .await
            .map_err(ge)
    }

    async fn get_operation(&self, operation: &OperationRef) -> Result<OperationStatus, PortError> {
        let url = url::Url::parse(&operation.location).map_err(|e| {
            PortError::new(
                PortErrorKind::Invalid,
                format!("bad operation location: {e}"),
            )
        })?;
        let op = self.client.get_operation_by_url(&url).await.map_err(ge)?;
        Ok(OperationStatus::parse(op.status.as_str()))
    }
}

/// The partner tenant's directory over the same partner-token Graph client.
#[async_trait]
impl PartnerDirectory for GraphGdap {
    async fn find_groups_by_name(
        &self,
        display_name: &str,
    ) -> Result<Vec<SecurityGroup>, PortError> {
        let groups = self
            .client
            .find_groups_by_display_name(display_name)
            .await
            .map_err(ge)?;
        Ok(groups
            .into_iter()
            .filter(|g| g.security_enabled != Some(false))
            .map(group_from)
            .collect())
    }

    async fn get_group(&self, id: &SecurityGroupId) -> Result<Option<SecurityGroup>, PortError> {
        match self.client.get_group(id).await {
            Ok(g) => Ok(Some(group_from(g))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(ge(e)),
        }
    }

    async fn create_security_group(
        &self,
        display_name: &str,
        description: &str,
    ) -> Result<SecurityGroup, PortError> {
        let mut body = gm::NewSecurityGroup::new(display_name);
        if !description.is_empty() {
            body = body.with_description(description);
        }
        self.client
            .create_security_group(&body)
            .await
            .map(group_from)
            .map_err(ge)
    }

    async fn list_group_members(
        &self,
        group: &SecurityGroupId,
    ) -> Result<Vec<GroupMember>, PortError> {
        let members: Vec<gm::DirectoryObject> = self
            .client
            .list_group_members(group, None)
            .try_collect()
            .await
            .map_err(ge)?;
        Ok(members
            .into_iter()
            .map(|m| {
                let kind = if m.is_user() {
                    MemberKind::User
                } else if m.is_group() {
                    MemberKind::Group
                } else {
                    MemberKind::Other
                };
                let name = m.user_principal_name.or(m.display_name);
                GroupMember::new(m.id, kind, name)
            })
            .collect())
    }

    async fn add_group_member(
        &self,
        group: &SecurityGroupId,
        user: &UserId,
    ) -> Result<(), PortError> {
        self.client
            .add_group_member(group, &user.to_string())
            .await
            .map_err(ge)
    }

    async fn find_user(&self, user: &str) -> Result<Option<PartnerUser>, PortError> {
        match self.client.get_user(user).await {
            Ok(u) => {
                let upn = u
                    .user_principal_name
                    .clone()
                    .or_else(|| u.mail.clone())
                    .unwrap_or_else(|| user.to_owned());
                let mut out = PartnerUser::new(u.id, upn);
                out.display_name = u.display_name;
                Ok(Some(out))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(ge(e)),
        }
    }

    async fn list_user_groups(&self, user: &UserId) -> Result<Vec<SecurityGroup>, PortError> {
        let items: Vec<gm::DirectoryObject> = self
            .client
            .list_user_transitive_member_of(&user.to_string(), None)
            .try_collect()
            .await
            .map_err(ge)?;
        Ok(items
            .into_iter()
            .filter(|o| o.is_group() && o.security_enabled != Some(false))
            .filter_map(|o| {
                let id = SecurityGroupId::try_from(o.id.as_str()).ok()?;
                Some(SecurityGroup::new(id, o.display_name.unwrap_or_default()))
            })
            .collect())
    }
}

/// [`CustomerDirectories`] over a Graph client: each tenant gets the client re-scoped with that
/// tenant's credential (GDAP through the partner refresh token, or the partner app's client
/// credentials for the MSP's own tenant).
#[derive(Clone)]
pub struct GraphDirectories {
    client: GraphClient,
    gdap: CredentialFactory,
    own_tenant: Option<Arc<dyn TokenCredential>>,
}

impl fmt::Debug for GraphDirectories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphDirectories")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl GraphDirectories {
    /// Directories over `client`, with customer-tenant credentials from `gdap`.
    pub fn new(client: GraphClient, gdap: CredentialFactory) -> Self {
        Self {
            client,
            gdap,
            own_tenant: None,
        }
    }

    /// Directories using `credential.for_tenant(tenant)` for each customer.
    pub fn from_refresh_credential(
        client: GraphClient,
        credential: Arc<gdap_auth::RefreshTokenCredential>,
    ) -> Self {
        Self::new(
            client,
            Arc::new(move |tenant: TenantId| credential.for_tenant(tenant)),
        )
    }

    /// Sets the client-credentials credential of the MSP's own partner tenant.
    pub fn with_own_tenant_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.own_tenant = Some(credential);
        self
    }
}

impl CustomerDirectories for GraphDirectories {
    fn for_tenant(&self, tenant: TenantId, path: AccessPath) -> Arc<dyn CustomerDirectory> {
        let credential = match path {
            AccessPath::ClientCredentials => self.own_tenant.clone(),
            _ => Some((self.gdap)(tenant)),
        };
        Arc::new(GraphDirectory {
            tenant,
            client: credential.map(|c| self.client.with_credential(c)),
        })
    }
}

/// One tenant's directory over Graph.
#[derive(Debug, Clone)]
pub struct GraphDirectory {
    tenant: TenantId,
    client: Option<GraphClient>,
}

impl GraphDirectory {
    fn client(&self) -> Result<&GraphClient, PortError> {
        self.client.as_ref().ok_or_else(|| {
            PortError::new(
                PortErrorKind::Unauthorized,
                format!(
                    "no client-credentials credential configured for the partner tenant {}",
                    self.tenant
                ),
            )
        })
    }
}

fn sp_from(sp: gm::ServicePrincipal) -> ServicePrincipal {
    let app_roles = sp
        .app_roles
        .iter()
        .filter(|r| {
            r.allowed_member_types.is_empty()
                || r.allowed_member_types.iter().any(|m| m == "Application")
        })
        .filter_map(|r| {
            r.value.as_ref().map(|v| PermissionDef {
                id: r.id,
                value: v.clone(),
            })
        })
        .collect();
    let scopes = sp
        .oauth2_permission_scopes
        .iter()
        .filter_map(|s| {
            s.value.as_ref().map(|v| PermissionDef {
                id: AppRoleId::from_uuid(s.id),
                value: v.clone(),
            })
        })
        .collect();
    ServicePrincipal::new(sp.id, sp.app_id, sp.display_name.unwrap_or_default())
        .with_app_roles(app_roles)
        .with_scopes(scopes)
}

#[async_trait]
impl CustomerDirectory for GraphDirectory {
    async fn organization(&self) -> Result<Organization, PortError> {
        let org = self.client()?.get_organization().await.map_err(ge)?;
        Ok(Organization::new(
            org.id,
            org.display_name.clone().unwrap_or_default(),
            org.default_domain(),
        ))
    }

    async fn user_count(&self) -> Result<u64, PortError> {
        self.client()?.count_users().await.map_err(ge)
    }

    async fn find_service_principal(
        &self,
        app_id: &AppId,
    ) -> Result<Option<ServicePrincipal>, PortError> {
        Ok(self
            .client()?
            .find_service_principal_by_app_id(app_id)
            .await
            .map_err(ge)?
            .map(sp_from))
    }

    async fn create_service_principal(
        &self,
        app_id: &AppId,
    ) -> Result<ServicePrincipal, PortError> {
        self.client()?
            .create_service_principal(app_id)
            .await
            .map(sp_from)
            .map_err(ge)
    }

    async fn list_app_role_grants(
        &self,
        principal: &ServicePrincipalId,
    ) -> Result<Vec<AppRoleGrant>, PortError> {
        let items: Vec<gm::AppRoleAssignment> = self
            .client()?
            .list_app_role_assignments(principal, None)
            .try_collect()
            .await
            .map_err(ge)?;
        Ok(items
            .into_iter()
            .map(|a| {
                AppRoleGrant::new(
                    a.id,
                    ServicePrincipalId::from_uuid(a.principal_id),
                    a.resource_id,
                    a.app_role_id,
                )
            })
            .collect())
    }

    async fn grant_app_role(
        &self,
        principal: &ServicePrincipalId,
        resource: &ServicePrincipalId,
        app_role: &AppRoleId,
    ) -> Result<AppRoleGrant, PortError> {
        let a = self
            .client()?
            .create_app_role_assignment(&NewAppRoleAssignment::new(
                *principal, *resource, *app_role,
            ))
            .await
            .map_err(ge)?;
        Ok(AppRoleGrant::new(
            a.id,
            ServicePrincipalId::from_uuid(a.principal_id),
            a.resource_id,
            a.app_role_id,
        ))
    }

    async fn list_delegated_grants(
        &self,
        client: &ServicePrincipalId,
    ) -> Result<Vec<DelegatedGrant>, PortError> {
        let items: Vec<gm::OAuth2PermissionGrant> = self
            .client()?
            .list_oauth2_permission_grants(Some(client), None)
            .try_collect()
            .await
            .map_err(ge)?;
        Ok(items
            .into_iter()
            .filter(|g| matches!(g.consent_type, gm::ConsentType::AllPrincipals))
            .map(|g| {
                let scopes = g.scopes().map(str::to_owned).collect();
                DelegatedGrant::new(g.id, g.client_id, g.resource_id, scopes)
            })
            .collect())
    }

    async fn create_delegated_grant(
        &self,
        client: &ServicePrincipalId,
        resource: &ServicePrincipalId,
        scopes: &[String],
    ) -> Result<DelegatedGrant, PortError> {
        let g = self
            .client()?
            .create_oauth2_permission_grant(&NewOAuth2PermissionGrant::all_principals(
                *client, *resource, scopes,
            ))
            .await
            .map_err(ge)?;
        let scopes = g.scopes().map(str::to_owned).collect();
        Ok(DelegatedGrant::new(
            g.id,
            g.client_id,
            g.resource_id,
            scopes,
        ))
    }

    async fn update_delegated_grant(
        &self,
        id: &GrantId,
        scopes: &[String],
    ) -> Result<(), PortError> {
        self.client()?
            .update_oauth2_permission_grant_scope(id, scopes)
            .await
            .map_err(ge)
    }
}
