//! GDAP security groups (seeds 001 steps 3–5 and 002): one group per role set from a
//! [`GroupTemplate`], created or reused by name in the partner tenant, with the service account
//! as a member; a check that the account is in AdminAgents and signs in with MFA; and one access
//! assignment per group on a relationship, reusing existing ones.

use std::collections::BTreeSet;

use gdap_core::roles::{self, RoleTemplate};
use gdap_core::{AssignmentId, RelationshipId, RoleTemplateId, SecurityGroupId, UserId};
use serde::{Deserialize, Serialize};

use crate::catalogue::{CatalogueEntry, ExplainContext};
use crate::error::{OnboardError, Operation, Result};
use crate::partner_directory::{ADMIN_AGENTS_GROUP, PartnerUser, SecurityGroup};
use crate::port_error::PortErrorKind;
use crate::readiness::RoleRef;
use crate::relationship::{AccessAssignment, Relationship};
use crate::templates::{RelationshipTemplate, TemplateError};

use super::{ChangeCounts, ChangeStatus, Orchestrator};

/// The longest security group display name Entra ID accepts.
pub const MAX_GROUP_NAME: usize = 256;

/// One security group of a template: its name and the roles it holds in each relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSpec {
    /// The group's display name, e.g. `"GDAP - App Install"`.
    pub display_name: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// The roles its access assignment carries (those the relationship has).
    #[serde(with = "role_list")]
    pub roles: BTreeSet<RoleTemplateId>,
}

impl GroupSpec {
    /// A group holding `roles`.
    pub fn new(
        display_name: impl Into<String>,
        description: impl Into<String>,
        roles: impl IntoIterator<Item = RoleTemplate>,
    ) -> Self {
        Self {
            display_name: display_name.into(),
            description: description.into(),
            roles: roles.into_iter().map(|r| r.id()).collect(),
        }
    }

    /// The roles this group gets on `rel`: its roles that the relationship carries.
    pub fn roles_on(&self, rel: &Relationship) -> BTreeSet<RoleTemplateId> {
        self.roles.intersection(&rel.roles).copied().collect()
    }
}

/// Roles as names or template ids on input; names with ids on output.
mod role_list {
    use std::collections::BTreeSet;

    use gdap_core::RoleTemplateId;
    use gdap_core::roles::RoleTemplate;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::readiness::RoleRef;

    pub(super) fn serialize<S: Serializer>(
        ids: &BTreeSet<RoleTemplateId>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(ids.iter().map(|id| RoleRef::new(*id)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeSet<RoleTemplateId>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Item {
            Text(String),
            Ref { id: String },
        }
        let items = Vec::<Item>::deserialize(d)?;
        items
            .into_iter()
            .map(|i| {
                let text = match i {
                    Item::Text(t) | Item::Ref { id: t } => t,
                };
                RoleTemplate::by_name(&text)
                    .map(|r| r.id())
                    .or_else(|| RoleTemplateId::try_from(text.as_str()).ok())
                    .ok_or_else(|| {
                        serde::de::Error::custom(format!(
                            "unknown role {:?}: use a built-in role name or a role template id",
                            text.chars().take(64).collect::<String>()
                        ))
                    })
            })
            .collect()
    }
}

/// A set of GDAP security groups, one per role set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupTemplate {
    /// The groups.
    pub groups: Vec<GroupSpec>,
}

impl GroupTemplate {
    /// What installing and granting the app needs (seed 001: Application Administrator; the
    /// grants also need Privileged Role Administrator) plus seed 002's Global Reader group.
    pub fn app_install() -> Self {
        GroupTemplate {
            groups: vec![
                GroupSpec::new(
                    "GDAP - App Install",
                    "Installs and grants the security app in customer tenants (GDAP).",
                    [
                        roles::APPLICATION_ADMINISTRATOR,
                        roles::PRIVILEGED_ROLE_ADMINISTRATOR,
                    ],
                ),
                GroupSpec::new(
                    "GDAP - Global Reader",
                    "Reads customer tenant settings (GDAP).",
                    [roles::GLOBAL_READER],
                ),
            ],
        }
    }

    /// One group per relationship template, named `"GDAP - {short name}"`, holding its roles.
    pub fn from_relationship_templates(templates: &[RelationshipTemplate]) -> Self {
        GroupTemplate {
            groups: templates
                .iter()
                .map(|t| GroupSpec {
                    display_name: format!("GDAP - {}", t.short_name),
                    description: format!("{} (GDAP)", t.task),
                    roles: t.roles.iter().copied().collect(),
                })
                .collect(),
        }
    }

    /// Seed 004's least-privilege table as groups.
    pub fn least_privilege() -> Self {
        Self::from_relationship_templates(&RelationshipTemplate::least_privilege())
    }

    /// A template from JSON: `{"groups": [{"displayName": "…", "description": "…",
    /// "roles": ["Application Administrator", "<role template id>"]}]}`, validated.
    ///
    /// # Errors
    /// [`OnboardError::InvalidTemplate`] naming what is wrong.
    pub fn from_json(text: &str) -> Result<Self> {
        let t: GroupTemplate = serde_json::from_str(text)
            .map_err(|e| TemplateError::Groups(format!("not a group template: {e}")))?;
        t.validate()?;
        Ok(t)
    }

    /// Checks names (1..=256 characters, unique ignoring case) and roles (at least one each).
    ///
    /// # Errors
    /// [`OnboardError::InvalidTemplate`].
    pub fn validate(&self) -> Result<()> {
        if self.groups.is_empty() {
            return Err(
                TemplateError::Groups("a group template needs at least one group".into()).into(),
            );
        }
        let mut seen = BTreeSet::new();
        for g in &self.groups {
            let n = g.display_name.trim().chars().count();
            if n == 0 || n > MAX_GROUP_NAME {
                return Err(TemplateError::Groups(format!(
                    "group names must be 1..={MAX_GROUP_NAME} characters (got {n})"
                ))
                .into());
            }
            if !seen.insert(g.display_name.trim().to_lowercase()) {
                return Err(TemplateError::Groups(format!(
                    "the group name {:?} appears twice",
                    g.display_name
                ))
                .into());
            }
            if g.roles.is_empty() {
                return Err(TemplateError::Groups(format!(
                    "the group {:?} has no roles",
                    g.display_name
                ))
                .into());
            }
        }
        Ok(())
    }
}

/// Whether the service account is in the partner tenant's AdminAgents group (seed 001 step 3;
/// Partner Center API access needs it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
#[non_exhaustive]
pub enum AdminAgentsCheck {
    /// It is a member.
    Member,
    /// It is not: what to do.
    NotMember {
        /// How to fix it.
        fix: String,
    },
    /// The partner tenant has no AdminAgents group (not a CSP partner tenant?).
    GroupMissing,
    /// It could not be checked (the groups were still set up).
    Unknown {
        /// Why.
        reason: String,
    },
}

/// Whether the account's sign-ins carry MFA (the `amr` claim), which Partner Center requires for
/// App+User calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
#[non_exhaustive]
pub enum MfaCheck {
    /// The current sign-in carries `mfa`.
    Enforced {
        /// The `amr` values.
        methods: Vec<String>,
    },
    /// The current sign-in does not: Partner Center will refuse it (900421).
    Missing {
        /// The `amr` values.
        methods: Vec<String>,
        /// How to fix it.
        fix: String,
    },
    /// Not known (another user is signed in, or the token does not say).
    Unknown {
        /// Why.
        reason: String,
    },
}

/// One template group in the partner tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSetup {
    /// The group's name.
    pub display_name: String,
    /// Its id (absent in a dry run when it would be created).
    pub group_id: Option<SecurityGroupId>,
    /// Created, reused (unchanged), planned, failed.
    pub group: ChangeStatus,
    /// The service account's membership: added, already a member, planned, failed.
    pub membership: ChangeStatus,
    /// What happened.
    pub detail: String,
    /// The failure, rendered from the catalogue.
    pub error: Option<CatalogueEntry>,
}

/// What [`Orchestrator::ensure_gdap_groups`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSetupReport {
    /// A plan only.
    pub dry_run: bool,
    /// The service account.
    pub service_account: PartnerUser,
    /// One entry per template group.
    pub groups: Vec<GroupSetup>,
    /// AdminAgents membership.
    pub admin_agents: AdminAgentsCheck,
    /// MFA of the account's sign-ins.
    pub mfa: MfaCheck,
    /// Counts over groups and memberships.
    pub counts: ChangeCounts,
}

/// One template group's access assignment on a relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupAssignment {
    /// The group's name.
    pub display_name: String,
    /// Its id, when it exists.
    pub group_id: Option<SecurityGroupId>,
    /// The assignment, when one exists (or was made).
    pub assignment_id: Option<AssignmentId>,
    /// The roles it carries (or would).
    pub roles: Vec<RoleRef>,
    /// Template roles the relationship does not carry.
    pub roles_not_in_relationship: Vec<RoleRef>,
    /// How it ended.
    pub status: ChangeStatus,
    /// What happened.
    pub detail: String,
    /// The failure, rendered from the catalogue.
    pub error: Option<CatalogueEntry>,
}

/// What [`Orchestrator::assign_groups`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupAssignmentReport {
    /// A plan only.
    pub dry_run: bool,
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its display name.
    pub display_name: String,
    /// One entry per template group.
    pub groups: Vec<GroupAssignment>,
    /// Counts.
    pub counts: ChangeCounts,
}

impl GroupAssignmentReport {
    /// Reads a dry-run assignment plan in the light of the dry-run group set-up made just
    /// before it: the groups the set-up would create do not exist yet, so the plan reports their
    /// assignments as `groupNotFound` failures; the real run creates them first. Those entries
    /// become `planned` (or `skipped` when the relationship carries none of the group's roles)
    /// and the counts are redone. Anything else is left as it is.
    pub fn assume_planned_groups(&mut self, setup: &GroupSetupReport) {
        if !self.dry_run {
            return;
        }
        for g in &mut self.groups {
            let will_exist = setup.groups.iter().any(|s| {
                s.group == ChangeStatus::Planned
                    && s.display_name.eq_ignore_ascii_case(&g.display_name)
            });
            let not_found = g
                .error
                .as_ref()
                .is_some_and(|e| e.key == crate::catalogue::CatalogueKey::GroupNotFound);
            if g.status != ChangeStatus::Failed || !will_exist || !not_found {
                continue;
            }
            g.error = None;
            if g.roles.is_empty() {
                g.status = ChangeStatus::Skipped;
                g.detail = "the relationship carries none of this group's roles".into();
            } else {
                g.status = ChangeStatus::Planned;
                g.detail = "would create an access assignment once the group is created".into();
            }
        }
        self.counts = ChangeCounts::of(self.groups.iter().map(|g| g.status));
    }
}

/// A template group resolved by name in the partner tenant.
pub(crate) enum Resolved {
    Found(SecurityGroup),
    Missing,
}

impl Orchestrator {
    /// Finds the one group named `name` (none → `Missing`; several → [`OnboardError::AmbiguousGroup`]).
    pub(crate) async fn resolve_group(&self, name: &str) -> Result<Resolved> {
        let mut found = self
            .ports
            .partner_directory
            .find_groups_by_name(name)
            .await
            .map_err(|e| OnboardError::classify(Operation::ReadPartnerDirectory, None, e))?;
        // The service filters case-insensitively; keep exact (trimmed, case-insensitive) names.
        found.retain(|g| g.display_name.trim().eq_ignore_ascii_case(name.trim()));
        match found.len() {
            0 => Ok(Resolved::Missing),
            1 => Ok(Resolved::Found(found.remove(0))),
            _ => Err(OnboardError::AmbiguousGroup {
                display_name: name.to_owned(),
                ids: found.into_iter().map(|g| g.id).collect(),
            }),
        }
    }

    async fn is_member(&self, group: &SecurityGroupId, user: &UserId) -> Result<bool> {
        let members = self
            .ports
            .partner_directory
            .list_group_members(group)
            .await
            .map_err(|e| OnboardError::classify(Operation::ReadPartnerDirectory, None, e))?;
        Ok(members.iter().any(|m| m.is_user(user)))
    }

    pub(crate) async fn find_partner_user(&self, user: &str) -> Result<PartnerUser> {
        self.ports
            .partner_directory
            .find_user(user.trim())
            .await
            .map_err(|e| OnboardError::classify(Operation::ReadPartnerDirectory, None, e))?
            .ok_or_else(|| OnboardError::UserNotFound {
                user: user.trim().chars().take(256).collect(),
            })
    }

    /// Creates (or reuses, by exact name) one security group per template entry in the partner
    /// tenant, adds `service_account` (UPN or object id) to each, and checks that it is in
    /// AdminAgents and that its sign-ins carry MFA. Safe to repeat: a second run changes nothing.
    ///
    /// # Errors
    /// [`OnboardError::InvalidTemplate`], [`OnboardError::UserNotFound`], or a failure reading
    /// the directory. A failure on one group is reported in its entry; the others go on.
    pub async fn ensure_gdap_groups(
        &self,
        template: &GroupTemplate,
        service_account: &str,
        dry_run: bool,
    ) -> Result<GroupSetupReport> {
        template.validate()?;
        let user = self.find_partner_user(service_account).await?;
        let ctx = self.lifecycle_ctx(None);
        let mut groups = Vec::with_capacity(template.groups.len());
        for spec in &template.groups {
            let entry = match self.ensure_one_group(spec, &user, dry_run, &ctx).await {
                Ok(e) => e,
                Err(e) => GroupSetup {
                    display_name: spec.display_name.clone(),
                    group_id: None,
                    group: ChangeStatus::Failed,
                    membership: ChangeStatus::Failed,
                    detail: e.to_string(),
                    error: Some(e.explain(&ctx)),
                },
            };
            groups.push(entry);
        }
        // A failed check must not lose the report of the groups already set up.
        let admin_agents =
            self.check_admin_agents(&user)
                .await
                .unwrap_or_else(|e| AdminAgentsCheck::Unknown {
                    reason: format!("could not read the AdminAgents group: {e}"),
                });
        let mfa = self.check_mfa(&user).await;
        let counts = ChangeCounts::of(groups.iter().flat_map(|g| [g.group, g.membership]));
        Ok(GroupSetupReport {
            dry_run,
            service_account: user,
            groups,
            admin_agents,
            mfa,
            counts,
        })
    }

    async fn ensure_one_group(
        &self,
        spec: &GroupSpec,
        user: &PartnerUser,
        dry_run: bool,
        ctx: &ExplainContext,
    ) -> Result<GroupSetup> {
        let dir = &self.ports.partner_directory;
        let (group, group_status) = match self.resolve_group(&spec.display_name).await? {
            Resolved::Found(g) => (Some(g), ChangeStatus::Unchanged),
            Resolved::Missing if dry_run => (None, ChangeStatus::Planned),
            Resolved::Missing => {
                let g = dir
                    .create_security_group(spec.display_name.trim(), &spec.description)
                    .await
                    .map_err(|e| OnboardError::classify(Operation::ManageGroups, None, e))?;
                (Some(g), ChangeStatus::Changed)
            }
        };
        let Some(group) = group else {
            return Ok(GroupSetup {
                display_name: spec.display_name.clone(),
                group_id: None,
                group: group_status,
                membership: ChangeStatus::Planned,
                detail: format!(
                    "would create the security group and add {}",
                    user.user_principal_name
                ),
                error: None,
            });
        };
        let verb = match group_status {
            ChangeStatus::Changed => "created",
            _ => "reused",
        };
        let membership = match self.ensure_membership(&group, user, dry_run).await {
            Ok(m) => m,
            // The group is there (just created, or reused): report it with the failure, so that
            // a created group is not reported as failed.
            Err(e) => {
                return Ok(GroupSetup {
                    display_name: group.display_name.clone(),
                    group_id: Some(group.id),
                    group: group_status,
                    membership: ChangeStatus::Failed,
                    detail: format!(
                        "group {verb} ({}); adding {} failed: {e}",
                        group.id, user.user_principal_name
                    ),
                    error: Some(e.explain(ctx)),
                });
            }
        };
        let detail = format!(
            "group {verb} ({}); {} {}",
            group.id,
            user.user_principal_name,
            match membership {
                ChangeStatus::Changed => "added",
                ChangeStatus::Planned => "would be added",
                _ => "already a member",
            }
        );
        Ok(GroupSetup {
            display_name: group.display_name.clone(),
            group_id: Some(group.id),
            group: group_status,
            membership,
            detail,
            error: None,
        })
    }

    /// Adds `user` to `group` unless it is a member (or a dry run), verified by read-back.
    async fn ensure_membership(
        &self,
        group: &SecurityGroup,
        user: &PartnerUser,
        dry_run: bool,
    ) -> Result<ChangeStatus> {
        if self.is_member(&group.id, &user.id).await? {
            return Ok(ChangeStatus::Unchanged);
        }
        if dry_run {
            return Ok(ChangeStatus::Planned);
        }
        match self
            .ports
            .partner_directory
            .add_group_member(&group.id, &user.id)
            .await
        {
            Ok(()) => {}
            // Added by someone else (or an earlier try) in the meantime: verified below.
            Err(e) if e.kind() == PortErrorKind::AlreadyExists => {}
            Err(e) => return Err(OnboardError::classify(Operation::ManageGroups, None, e)),
        }
        if !self.is_member(&group.id, &user.id).await? {
            return Err(OnboardError::classify(
                Operation::ManageGroups,
                None,
                crate::PortError::new(
                    PortErrorKind::Other,
                    format!(
                        "{} is not listed as a member of {:?} after being added",
                        user.user_principal_name, group.display_name
                    ),
                ),
            ));
        }
        Ok(ChangeStatus::Changed)
    }

    async fn check_admin_agents(&self, user: &PartnerUser) -> Result<AdminAgentsCheck> {
        let group = match self.resolve_group(ADMIN_AGENTS_GROUP).await {
            Ok(Resolved::Found(g)) => g,
            Ok(Resolved::Missing) => return Ok(AdminAgentsCheck::GroupMissing),
            Err(OnboardError::AmbiguousGroup { ids, .. }) => {
                // Unusual, but membership of any of them is what Partner Center sees.
                for id in ids {
                    if self.is_member(&id, &user.id).await? {
                        return Ok(AdminAgentsCheck::Member);
                    }
                }
                return Ok(admin_agents_missing(user));
            }
            Err(e) => return Err(e),
        };
        Ok(if self.is_member(&group.id, &user.id).await? {
            AdminAgentsCheck::Member
        } else {
            admin_agents_missing(user)
        })
    }

    async fn check_mfa(&self, user: &PartnerUser) -> MfaCheck {
        let signed_in = self.ports.tokens.account().user_email;
        let same_user = signed_in
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&user.user_principal_name));
        if !same_user {
            return MfaCheck::Unknown {
                reason: format!(
                    "signed in as {}, not {}: sign in as the service account to check its MFA",
                    signed_in.as_deref().unwrap_or("(unknown)"),
                    user.user_principal_name
                ),
            };
        }
        match self.ports.tokens.partner_sign_in_methods().await {
            Ok(Some(methods)) if methods.iter().any(|m| m.eq_ignore_ascii_case("mfa")) => {
                MfaCheck::Enforced { methods }
            }
            Ok(Some(methods)) => MfaCheck::Missing {
                methods,
                fix: format!(
                    "Enforce MFA for {} (Conditional Access or per-user MFA), sign in again and \
                     complete the MFA prompt: Partner Center refuses App+User calls without MFA \
                     (error 900421).",
                    user.user_principal_name
                ),
            },
            Ok(None) => MfaCheck::Unknown {
                reason: "the sign-in token does not list its authentication methods".into(),
            },
            Err(e) => MfaCheck::Unknown {
                reason: format!("could not read the sign-in's authentication methods: {e}"),
            },
        }
    }

    /// Gives each template group an access assignment on relationship `id` with the roles of
    /// the group that the relationship carries (one assignment per group; an existing one is
    /// reused). The relationship must be active.
    ///
    /// # Errors
    /// [`OnboardError::RelationshipNotActive`], [`OnboardError::InvalidTemplate`], or a
    /// failure reading the relationship. Failures of one group are reported in its entry.
    pub async fn assign_groups(
        &self,
        id: &RelationshipId,
        template: &GroupTemplate,
        dry_run: bool,
    ) -> Result<GroupAssignmentReport> {
        template.validate()?;
        let rel = self
            .ports
            .gdap
            .get_relationship(id)
            .await
            .map_err(|e| OnboardError::classify(Operation::GetRelationship, None, e))?;
        if !rel.status.is_active() {
            return Err(OnboardError::RelationshipNotActive {
                relationship_id: rel.id.clone(),
                status: rel.status.to_string(),
            });
        }
        let ctx = self.lifecycle_ctx(Some(&rel));
        let mut groups = Vec::with_capacity(template.groups.len());
        for spec in &template.groups {
            let entry = match self.assign_one_group(&rel, spec, dry_run).await {
                Ok(e) => e,
                Err(e) => GroupAssignment {
                    display_name: spec.display_name.clone(),
                    group_id: None,
                    assignment_id: None,
                    roles: RoleRef::list(spec.roles_on(&rel).iter()),
                    roles_not_in_relationship: RoleRef::list(spec.roles.difference(&rel.roles)),
                    status: ChangeStatus::Failed,
                    detail: e.to_string(),
                    error: Some(e.explain(&ctx)),
                },
            };
            groups.push(entry);
        }
        let counts = ChangeCounts::of(groups.iter().map(|g| g.status));
        Ok(GroupAssignmentReport {
            dry_run,
            relationship_id: rel.id.clone(),
            display_name: rel.display_name.clone(),
            groups,
            counts,
        })
    }

    async fn assign_one_group(
        &self,
        rel: &Relationship,
        spec: &GroupSpec,
        dry_run: bool,
    ) -> Result<GroupAssignment> {
        let roles = spec.roles_on(rel);
        let mut out = GroupAssignment {
            display_name: spec.display_name.clone(),
            group_id: None,
            assignment_id: None,
            roles: RoleRef::list(roles.iter()),
            roles_not_in_relationship: RoleRef::list(spec.roles.difference(&rel.roles)),
            status: ChangeStatus::Skipped,
            detail: String::new(),
            error: None,
        };
        let group = match self.resolve_group(&spec.display_name).await? {
            Resolved::Found(g) => g,
            Resolved::Missing => {
                return Err(OnboardError::GroupNotFound {
                    display_name: spec.display_name.clone(),
                });
            }
        };
        out.group_id = Some(group.id);
        if roles.is_empty() {
            out.detail = "the relationship carries none of this group's roles".into();
            return Ok(out);
        }
        let existing = self.live_assignment(&rel.id, &group.id).await?;
        if let Some(a) = existing {
            out.assignment_id = Some(a.id.clone());
            out.status = ChangeStatus::Unchanged;
            out.detail = if a.roles == roles {
                format!("reused assignment {} ({})", a.id, a.status)
            } else {
                format!(
                    "reused assignment {} ({}); its roles differ from the template: run repair",
                    a.id, a.status
                )
            };
            return Ok(out);
        }
        if dry_run {
            out.status = ChangeStatus::Planned;
            out.detail = "would create an access assignment".into();
            return Ok(out);
        }
        let roles_vec: Vec<RoleTemplateId> = roles.iter().copied().collect();
        let created = match self
            .ports
            .gdap
            .create_access_assignment(&rel.id, &group.id, &roles_vec)
            .await
        {
            Ok(a) => a,
            // Made concurrently (or by an earlier, interrupted run): reuse what is there.
            Err(e) if e.kind() == PortErrorKind::AlreadyExists => {
                match self.live_assignment(&rel.id, &group.id).await? {
                    Some(a) => {
                        out.assignment_id = Some(a.id.clone());
                        out.status = ChangeStatus::Unchanged;
                        out.detail = format!("reused assignment {} ({})", a.id, a.status);
                        return Ok(out);
                    }
                    None => {
                        return Err(OnboardError::classify(Operation::AssignUser, None, e));
                    }
                }
            }
            Err(e) => return Err(OnboardError::classify(Operation::AssignUser, None, e)),
        };
        // Read back: the new assignment is listed for this group.
        let listed = self.live_assignment(&rel.id, &group.id).await?;
        out.assignment_id = Some(created.id.clone());
        match listed {
            Some(a) => {
                out.status = ChangeStatus::Changed;
                out.detail = format!("created assignment {} ({})", a.id, a.status);
            }
            None => {
                return Err(OnboardError::classify(
                    Operation::AssignUser,
                    None,
                    crate::PortError::new(
                        PortErrorKind::Other,
                        format!(
                            "assignment {} is not listed after being created",
                            created.id
                        ),
                    ),
                ));
            }
        }
        Ok(out)
    }

    pub(crate) async fn list_assignments(
        &self,
        rel: &RelationshipId,
    ) -> Result<Vec<AccessAssignment>> {
        self.ports
            .gdap
            .list_access_assignments(rel)
            .await
            .map_err(|e| OnboardError::classify(Operation::GetRelationship, None, e))
    }

    async fn live_assignment(
        &self,
        rel: &RelationshipId,
        group: &SecurityGroupId,
    ) -> Result<Option<AccessAssignment>> {
        Ok(self
            .list_assignments(rel)
            .await?
            .into_iter()
            .find(|a| &a.group == group && a.is_live()))
    }
}

fn admin_agents_missing(user: &PartnerUser) -> AdminAgentsCheck {
    AdminAgentsCheck::NotMember {
        fix: format!(
            "Add {} to the AdminAgents group (Microsoft Entra ID > Groups > AdminAgents > Members), \
             or give it the Admin agent role in Partner Center (Account settings > User management).",
            user.user_principal_name
        ),
    }
}
