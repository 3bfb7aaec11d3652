//! Relationship-lifecycle workflows over the fakes, on paused time: GDAP groups, group
//! assignments, approval polling, the webhook registration, bulk auto-extend, Global
//! Administrator removal, drift repair and the access trace — each success and failure path.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gdap_core::roles::{
    APPLICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR, GLOBAL_READER, HELPDESK_ADMINISTRATOR,
    PRIVILEGED_ROLE_ADMINISTRATOR, RoleTemplate, USER_ADMINISTRATOR,
};
use gdap_core::{AssignmentId, RelationshipId, RoleTemplateId, SecurityGroupId, TenantId, UserId};
use gdap_onboard::catalogue::key_of;
use gdap_onboard::fakes::{FakeGdap, FakePartnerDirectory, FakeWorld};
use gdap_onboard::partner_directory::{
    APPROVAL_EVENTS, GroupMember, PartnerUser, SecurityGroup, WebhookRegistration,
};
use gdap_onboard::ports::PortStream;
use gdap_onboard::relationship::{
    AccessAssignment, AssignmentStatus, NewRelationship, Relationship, RelationshipRequest,
    RelationshipStatus,
};
use gdap_onboard::workflows::lifecycle::{
    AdminAgentsCheck, ApprovalWait, BulkOptions, ChangeCounts, ChangeStatus, DriftKind,
    GroupTemplate, MfaCheck, RelationshipChange, WebhookAction,
};
use gdap_onboard::{
    CatalogueKey, Days, OnboardError, Orchestrator, PartnerDirectory, PartnerGdap, PortError,
    PortErrorKind, Ports,
};

use crate::support::{USER, active, orchestrator, rid, tid, world};

const APP_INSTALL: &str = "GDAP - App Install";
const GLOBAL_READER_GROUP: &str = "GDAP - Global Reader";
const APP_ROLES: &[RoleTemplate] = &[APPLICATION_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR];

fn ids(roles: &[RoleTemplate]) -> Vec<RoleTemplateId> {
    roles.iter().map(RoleTemplate::id).collect()
}

fn aid(s: &str) -> AssignmentId {
    AssignmentId::try_from(s).unwrap()
}

fn assignment(id: &str, group: SecurityGroupId, roles: &[RoleTemplate]) -> AccessAssignment {
    AccessAssignment::new(aid(id), group, ids(roles), AssignmentStatus::Active)
}

fn role_names(roles: &[gdap_onboard::RoleRef]) -> Vec<String> {
    let mut v: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
    v.sort();
    v
}

fn pending(n: u64, tenant: TenantId, name: &str, roles: &[RoleTemplate]) -> Relationship {
    Relationship::new(rid(n), name, RelationshipStatus::ApprovalPending)
        .with_customer(tenant, Some("Pending Co"))
        .with_roles(ids(roles))
        .with_duration(Days(730))
}

fn calls_to(w: &FakeWorld, op: &str) -> usize {
    w.gdap
        .calls()
        .iter()
        .filter(|c| c.split(' ').next() == Some(op))
        .count()
}

fn entry<'a>(changes: &'a [RelationshipChange], id: &RelationshipId) -> &'a RelationshipChange {
    changes
        .iter()
        .find(|c| &c.relationship_id == id)
        .unwrap_or_else(|| panic!("no entry for {id}: {changes:#?}"))
}

fn precondition_failed() -> PortError {
    PortError::http(
        412,
        Some("preconditionFailed"),
        "The ETag does not match the current version.",
    )
    .with_kind(PortErrorKind::PreconditionFailed)
}

// ------------------------------------------------------------------------------------------
// ensure_gdap_groups
// ------------------------------------------------------------------------------------------

/// The signed-in user as service account, in an AdminAgents group (when `in_admin_agents`).
fn groups_world(in_admin_agents: bool) -> (FakeWorld, UserId, SecurityGroupId) {
    let w = world();
    let user = w.partner_directory.add_user(USER);
    let aa = w.partner_directory.add_group("AdminAgents");
    if in_admin_agents {
        w.partner_directory.add_member(&aa, &user);
    }
    (w, user, aa)
}

#[tokio::test(start_paused = true)]
async fn groups_are_created_with_the_member_and_a_second_run_changes_nothing() {
    let (w, user, _) = groups_world(true);
    let o = orchestrator(&w);
    let t = GroupTemplate::app_install();
    let r = o.ensure_gdap_groups(&t, USER, false).await.unwrap();
    assert!(!r.dry_run);
    assert_eq!(r.service_account.id, user);
    assert_eq!(r.groups.len(), 2, "{r:#?}");
    for (g, spec) in r.groups.iter().zip(&t.groups) {
        assert_eq!(g.display_name, spec.display_name);
        assert_eq!(g.group, ChangeStatus::Changed, "{g:#?}");
        assert_eq!(g.membership, ChangeStatus::Changed, "{g:#?}");
        assert!(g.error.is_none());
        assert!(
            g.detail.contains("created") && g.detail.contains("added"),
            "{}",
            g.detail
        );
        let made = w.partner_directory.groups_named(&spec.display_name);
        assert_eq!(made.len(), 1);
        assert_eq!(g.group_id, Some(made[0].id));
        assert_eq!(
            made[0].description.as_deref(),
            Some(spec.description.as_str())
        );
        assert!(w.partner_directory.is_member(&made[0].id, &user));
    }
    assert_eq!(r.admin_agents, AdminAgentsCheck::Member);
    assert!(
        matches!(&r.mfa, MfaCheck::Enforced { methods } if methods.iter().any(|m| m == "mfa")),
        "{:?}",
        r.mfa
    );
    assert_eq!(
        r.counts,
        ChangeCounts {
            changed: 4,
            ..ChangeCounts::default()
        }
    );
    // Two creates and two member adds.
    assert_eq!(w.partner_directory.writes(), 4);

    let again = o.ensure_gdap_groups(&t, USER, false).await.unwrap();
    assert_eq!(
        w.partner_directory.writes(),
        4,
        "a second run writes nothing"
    );
    for (g, first) in again.groups.iter().zip(&r.groups) {
        assert_eq!(g.group, ChangeStatus::Unchanged);
        assert_eq!(g.membership, ChangeStatus::Unchanged);
        assert_eq!(g.group_id, first.group_id);
        assert!(
            g.detail.contains("reused") && g.detail.contains("already a member"),
            "{}",
            g.detail
        );
    }
    assert_eq!(again.counts.unchanged, 4);
    assert_eq!(again.counts.changed, 0);
}

#[tokio::test(start_paused = true)]
async fn an_existing_group_is_reused_by_name() {
    let (w, user, _) = groups_world(true);
    let existing = w.partner_directory.add_group(APP_INSTALL);
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, false)
        .await
        .unwrap();
    let app = &r.groups[0];
    assert_eq!(app.display_name, APP_INSTALL);
    assert_eq!(app.group, ChangeStatus::Unchanged);
    assert_eq!(app.group_id, Some(existing));
    assert_eq!(app.membership, ChangeStatus::Changed);
    assert_eq!(w.partner_directory.groups_named(APP_INSTALL).len(), 1);
    assert!(w.partner_directory.is_member(&existing, &user));
    assert_eq!(r.groups[1].group, ChangeStatus::Changed);
    // One create (Global Reader) and two adds.
    assert_eq!(w.partner_directory.writes(), 3);
}

#[tokio::test(start_paused = true)]
async fn dry_run_writes_nothing_and_plans() {
    let (w, user, _) = groups_world(true);
    // One group exists without the user; the other is missing.
    let existing = w.partner_directory.add_group(GLOBAL_READER_GROUP);
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, true)
        .await
        .unwrap();
    assert!(r.dry_run);
    assert_eq!(w.partner_directory.writes(), 0);
    assert!(w.partner_directory.groups_named(APP_INSTALL).is_empty());
    assert!(!w.partner_directory.is_member(&existing, &user));
    let (app, gr) = (&r.groups[0], &r.groups[1]);
    assert_eq!(
        (app.group, app.membership, app.group_id),
        (ChangeStatus::Planned, ChangeStatus::Planned, None)
    );
    assert!(app.detail.contains("would create"), "{}", app.detail);
    assert_eq!(
        (gr.group, gr.membership, gr.group_id),
        (
            ChangeStatus::Unchanged,
            ChangeStatus::Planned,
            Some(existing)
        )
    );
    assert!(gr.detail.contains("would be added"), "{}", gr.detail);
    assert_eq!(r.counts.planned, 3);
    assert_eq!(r.counts.unchanged, 1);
}

#[tokio::test(start_paused = true)]
async fn two_groups_with_the_same_name_fail_that_entry_only() {
    let (w, user, _) = groups_world(true);
    let a = w.partner_directory.add_group(APP_INSTALL);
    let b = w.partner_directory.add_group(APP_INSTALL);
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, false)
        .await
        .unwrap();
    let app = &r.groups[0];
    assert_eq!(app.group, ChangeStatus::Failed);
    assert_eq!(app.membership, ChangeStatus::Failed);
    assert_eq!(app.group_id, None);
    let err = app.error.as_ref().expect("an error entry");
    assert_eq!(err.key, CatalogueKey::AmbiguousGroup);
    assert!(app.detail.contains('2'), "{}", app.detail);
    // Neither duplicate was touched, and no third one was made.
    assert!(!w.partner_directory.is_member(&a, &user));
    assert!(!w.partner_directory.is_member(&b, &user));
    assert_eq!(w.partner_directory.groups_named(APP_INSTALL).len(), 2);
    let gr = &r.groups[1];
    assert_eq!(
        (gr.group, gr.membership),
        (ChangeStatus::Changed, ChangeStatus::Changed)
    );
    assert_eq!(r.counts.failed, 2);
    assert_eq!(r.counts.changed, 2);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_service_account_is_user_not_found() {
    let (w, _, _) = groups_world(true);
    let o = orchestrator(&w);
    let e = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), "nobody@msp.example", false)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OnboardError::UserNotFound { user } if user == "nobody@msp.example"),
        "{e:?}"
    );
    assert_eq!(key_of(&e), CatalogueKey::UserNotFound);
    assert_eq!(w.partner_directory.writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_service_account_is_found_by_object_id_too() {
    let (w, user, _) = groups_world(true);
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), &user.to_string(), false)
        .await
        .unwrap();
    assert_eq!(r.service_account.user_principal_name, USER);
    assert_eq!(r.counts.changed, 4);
}

#[tokio::test(start_paused = true)]
async fn admin_agents_not_member_and_group_missing() {
    let (w, _, _) = groups_world(false);
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, true)
        .await
        .unwrap();
    match &r.admin_agents {
        AdminAgentsCheck::NotMember { fix } => {
            assert!(fix.contains(USER) && fix.contains("AdminAgents"), "{fix}");
        }
        other => panic!("expected NotMember, got {other:?}"),
    }

    let w = world();
    w.partner_directory.add_user(USER);
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, true)
        .await
        .unwrap();
    assert_eq!(r.admin_agents, AdminAgentsCheck::GroupMissing);
}

#[tokio::test(start_paused = true)]
async fn mfa_missing_and_unknown() {
    let (w, _, _) = groups_world(true);
    w.tokens.set_sign_in_methods(Some(vec!["pwd".into()]));
    let o = orchestrator(&w);
    let t = GroupTemplate::app_install();
    let r = o.ensure_gdap_groups(&t, USER, true).await.unwrap();
    match &r.mfa {
        MfaCheck::Missing { methods, fix } => {
            assert_eq!(methods, &vec!["pwd".to_owned()]);
            assert!(fix.contains(USER) && fix.contains("MFA"), "{fix}");
        }
        other => panic!("expected Missing, got {other:?}"),
    }

    // The token does not say.
    w.tokens.set_sign_in_methods(None);
    let r = o.ensure_gdap_groups(&t, USER, true).await.unwrap();
    assert!(
        matches!(&r.mfa, MfaCheck::Unknown { reason } if reason.contains("does not list")),
        "{:?}",
        r.mfa
    );

    // Another account than the signed-in one: its MFA cannot be seen.
    w.tokens
        .set_sign_in_methods(Some(vec!["pwd".into(), "mfa".into()]));
    w.partner_directory.add_user("svc-gdap@msp.example");
    let r = o
        .ensure_gdap_groups(&t, "svc-gdap@msp.example", true)
        .await
        .unwrap();
    match &r.mfa {
        MfaCheck::Unknown { reason } => {
            assert!(
                reason.contains(USER) && reason.contains("svc-gdap@msp.example"),
                "{reason}"
            );
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_member_add_fails_that_entry_and_keeps_the_others() {
    let (w, user, _) = groups_world(true);
    w.partner_directory
        .fail_next("add_group_member", PortError::http(503, None, "busy"));
    let o = orchestrator(&w);
    let t = GroupTemplate::app_install();
    let r = o.ensure_gdap_groups(&t, USER, false).await.unwrap();
    let app = &r.groups[0];
    let created = w.partner_directory.groups_named(APP_INSTALL);
    assert_eq!(created.len(), 1);
    // The group was created (and is reported so); adding the member failed.
    assert_eq!(app.group, ChangeStatus::Changed, "{app:#?}");
    assert_eq!(app.group_id, Some(created[0].id));
    assert_eq!(app.membership, ChangeStatus::Failed);
    let err = app.error.as_ref().expect("an error entry");
    assert_eq!(err.key, CatalogueKey::ServiceError);
    assert!(app.detail.contains("failed"), "{}", app.detail);
    assert!(!w.partner_directory.is_member(&created[0].id, &user));
    let gr = &r.groups[1];
    assert_eq!(
        (gr.group, gr.membership),
        (ChangeStatus::Changed, ChangeStatus::Changed)
    );
    assert_eq!(
        r.counts,
        ChangeCounts {
            changed: 3,
            failed: 1,
            ..ChangeCounts::default()
        }
    );

    // The next run reuses the group and adds the member.
    let again = o.ensure_gdap_groups(&t, USER, false).await.unwrap();
    assert_eq!(again.groups[0].group, ChangeStatus::Unchanged);
    assert_eq!(again.groups[0].membership, ChangeStatus::Changed);
    assert_eq!(w.partner_directory.groups_named(APP_INSTALL).len(), 1);
    assert!(w.partner_directory.is_member(&created[0].id, &user));
}

#[tokio::test(start_paused = true)]
async fn a_failed_group_create_fails_that_entry_only() {
    let (w, _, _) = groups_world(true);
    w.partner_directory.fail_next(
        "create_security_group",
        PortError::http(403, Some("Authorization_RequestDenied"), "denied"),
    );
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, false)
        .await
        .unwrap();
    assert_eq!(r.groups[0].group, ChangeStatus::Failed);
    assert_eq!(
        r.groups[0].error.as_ref().unwrap().key,
        CatalogueKey::InsufficientPermissions
    );
    assert!(w.partner_directory.groups_named(APP_INSTALL).is_empty());
    assert_eq!(r.groups[1].group, ChangeStatus::Changed);
}

/// A partner directory where someone else adds the member just before our add (a race).
struct RacingDirectory(Arc<FakePartnerDirectory>);

#[async_trait]
impl PartnerDirectory for RacingDirectory {
    async fn find_groups_by_name(&self, name: &str) -> Result<Vec<SecurityGroup>, PortError> {
        self.0.find_groups_by_name(name).await
    }
    async fn get_group(&self, id: &SecurityGroupId) -> Result<Option<SecurityGroup>, PortError> {
        self.0.get_group(id).await
    }
    async fn create_security_group(
        &self,
        name: &str,
        description: &str,
    ) -> Result<SecurityGroup, PortError> {
        self.0.create_security_group(name, description).await
    }
    async fn list_group_members(
        &self,
        group: &SecurityGroupId,
    ) -> Result<Vec<GroupMember>, PortError> {
        self.0.list_group_members(group).await
    }
    async fn add_group_member(
        &self,
        group: &SecurityGroupId,
        user: &UserId,
    ) -> Result<(), PortError> {
        self.0.add_member(group, user);
        self.0.add_group_member(group, user).await
    }
    async fn find_user(&self, user: &str) -> Result<Option<PartnerUser>, PortError> {
        self.0.find_user(user).await
    }
    async fn list_user_groups(&self, user: &UserId) -> Result<Vec<SecurityGroup>, PortError> {
        self.0.list_user_groups(user).await
    }
}

#[tokio::test(start_paused = true)]
async fn already_exists_on_add_is_success_when_the_read_back_shows_membership() {
    let (w, user, _) = groups_world(true);
    let ports = Ports {
        partner_directory: Arc::new(RacingDirectory(w.partner_directory.clone())),
        ..w.ports()
    };
    let o = Orchestrator::new(ports, Default::default());
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, false)
        .await
        .unwrap();
    for g in &r.groups {
        assert_eq!(g.membership, ChangeStatus::Changed, "{g:#?}");
        assert!(g.error.is_none());
        assert!(w.partner_directory.is_member(&g.group_id.unwrap(), &user));
    }
}

#[tokio::test(start_paused = true)]
async fn already_exists_on_add_without_membership_fails_the_entry() {
    let (w, user, _) = groups_world(true);
    w.partner_directory.fail_next(
        "add_group_member",
        PortError::http(400, Some("Request_BadRequest"), "already exist")
            .with_kind(PortErrorKind::AlreadyExists),
    );
    let o = orchestrator(&w);
    let r = o
        .ensure_gdap_groups(&GroupTemplate::app_install(), USER, false)
        .await
        .unwrap();
    let app = &r.groups[0];
    assert_eq!(app.membership, ChangeStatus::Failed, "{app:#?}");
    let err = app.error.as_ref().expect("an error entry");
    assert!(
        err.details
            .iter()
            .any(|d| d.contains("not listed as a member")),
        "{err:#?}"
    );
    assert!(!w.partner_directory.is_member(&app.group_id.unwrap(), &user));
    assert_eq!(r.groups[1].membership, ChangeStatus::Changed);
}

// ------------------------------------------------------------------------------------------
// assign_groups
// ------------------------------------------------------------------------------------------

/// Both template groups, and relationship 1 (active, App Admin + PRA).
fn assign_world() -> (FakeWorld, SecurityGroupId, SecurityGroupId) {
    let w = world();
    let app = w.partner_directory.add_group(APP_INSTALL);
    let gr = w.partner_directory.add_group(GLOBAL_READER_GROUP);
    w.gdap
        .insert(active(1, tid(1), "Contoso", "rel 1", APP_ROLES));
    (w, app, gr)
}

#[tokio::test(start_paused = true)]
async fn assign_groups_creates_the_assignment_and_skips_roles_the_relationship_lacks() {
    let (w, app, gr) = assign_world();
    let o = orchestrator(&w);
    let t = GroupTemplate::app_install();
    let r = o.assign_groups(&rid(1), &t, false).await.unwrap();
    assert_eq!(r.relationship_id, rid(1));
    assert_eq!(r.display_name, "rel 1");
    let (a, g) = (&r.groups[0], &r.groups[1]);
    assert_eq!(a.status, ChangeStatus::Changed, "{a:#?}");
    assert_eq!(a.group_id, Some(app));
    assert_eq!(
        role_names(&a.roles),
        ["Application Administrator", "Privileged Role Administrator"]
    );
    assert!(a.roles_not_in_relationship.is_empty());
    let stored = w.gdap.assignments(&rid(1));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].group, app);
    assert_eq!(stored[0].roles, ids(APP_ROLES).into_iter().collect());
    assert_eq!(a.assignment_id.as_ref(), Some(&stored[0].id));

    assert_eq!(g.status, ChangeStatus::Skipped);
    assert_eq!(g.group_id, Some(gr));
    assert!(g.roles.is_empty());
    assert_eq!(role_names(&g.roles_not_in_relationship), ["Global Reader"]);
    assert!(
        g.detail.contains("none of this group's roles"),
        "{}",
        g.detail
    );
    assert_eq!(w.gdap.assignment_writes(), 1);
    assert_eq!(r.counts.changed, 1);
    assert_eq!(r.counts.skipped, 1);

    // A second run reuses it and writes nothing.
    let again = o.assign_groups(&rid(1), &t, false).await.unwrap();
    assert_eq!(again.groups[0].status, ChangeStatus::Unchanged);
    assert_eq!(again.groups[0].assignment_id, a.assignment_id);
    assert_eq!(w.gdap.assignment_writes(), 1);
    assert_eq!(w.gdap.assignments(&rid(1)).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_existing_assignment_is_reused() {
    let (w, app, _) = assign_world();
    w.gdap
        .insert_assignment(&rid(1), assignment("asg-existing", app, APP_ROLES));
    let o = orchestrator(&w);
    let r = o
        .assign_groups(&rid(1), &GroupTemplate::app_install(), false)
        .await
        .unwrap();
    assert_eq!(r.groups[0].status, ChangeStatus::Unchanged);
    assert_eq!(r.groups[0].assignment_id, Some(aid("asg-existing")));
    assert!(
        r.groups[0].detail.contains("reused"),
        "{}",
        r.groups[0].detail
    );
    assert_eq!(w.gdap.assignment_writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_existing_assignment_with_other_roles_is_reused_and_points_to_repair() {
    let (w, app, _) = assign_world();
    w.gdap.insert_assignment(
        &rid(1),
        assignment("asg-partial", app, &[APPLICATION_ADMINISTRATOR]),
    );
    let o = orchestrator(&w);
    let r = o
        .assign_groups(&rid(1), &GroupTemplate::app_install(), false)
        .await
        .unwrap();
    assert_eq!(r.groups[0].status, ChangeStatus::Unchanged);
    assert!(
        r.groups[0].detail.contains("run repair"),
        "{}",
        r.groups[0].detail
    );
    assert_eq!(w.gdap.assignment_writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn assign_groups_needs_an_active_relationship() {
    let (w, _, _) = assign_world();
    w.gdap.insert(pending(2, tid(2), "rel 2", APP_ROLES));
    let o = orchestrator(&w);
    let e = o
        .assign_groups(&rid(2), &GroupTemplate::app_install(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OnboardError::RelationshipNotActive { relationship_id, status }
            if relationship_id == &rid(2) && status == "approvalPending"),
        "{e:?}"
    );
    assert_eq!(key_of(&e), CatalogueKey::RelationshipNotActive);
    assert_eq!(w.gdap.assignment_writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_group_not_created_yet_fails_its_entry() {
    let w = world();
    w.partner_directory.add_group(GLOBAL_READER_GROUP);
    w.gdap
        .insert(active(1, tid(1), "Contoso", "rel 1", APP_ROLES));
    let o = orchestrator(&w);
    let r = o
        .assign_groups(&rid(1), &GroupTemplate::app_install(), false)
        .await
        .unwrap();
    let a = &r.groups[0];
    assert_eq!(a.status, ChangeStatus::Failed);
    assert_eq!(a.error.as_ref().unwrap().key, CatalogueKey::GroupNotFound);
    assert!(a.detail.contains(APP_INSTALL), "{}", a.detail);
    assert_eq!(r.groups[1].status, ChangeStatus::Skipped);
    assert_eq!(w.gdap.assignment_writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn assign_groups_dry_run_plans_without_writes() {
    let (w, _, _) = assign_world();
    let o = orchestrator(&w);
    let r = o
        .assign_groups(&rid(1), &GroupTemplate::app_install(), true)
        .await
        .unwrap();
    assert!(r.dry_run);
    assert_eq!(r.groups[0].status, ChangeStatus::Planned);
    assert_eq!(r.groups[0].assignment_id, None);
    assert_eq!(r.groups[1].status, ChangeStatus::Skipped);
    assert_eq!(w.gdap.assignment_writes(), 0);
    assert!(w.gdap.assignments(&rid(1)).is_empty());
}

// ------------------------------------------------------------------------------------------
// wait_for_approval_and_assign
// ------------------------------------------------------------------------------------------

fn approval_world() -> (FakeWorld, SecurityGroupId) {
    let w = world();
    let app = w.partner_directory.add_group(APP_INSTALL);
    w.partner_directory.add_group(GLOBAL_READER_GROUP);
    w.gdap.insert(pending(1, tid(1), "rel 1", APP_ROLES));
    (w, app)
}

#[tokio::test(start_paused = true)]
async fn approval_is_awaited_then_the_groups_are_assigned() {
    let (w, app) = approval_world();
    w.gdap.approve_after(&rid(1), Duration::from_secs(30 * 60));
    let o = orchestrator(&w);
    let started = tokio::time::Instant::now();
    let r = o
        .wait_for_approval_and_assign(
            &rid(1),
            &ApprovalWait::default(),
            Some(&GroupTemplate::app_install()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, RelationshipStatus::Active);
    assert_eq!(r.relationship_id, rid(1));
    // Polls at 0, 10, 30, 70, 150, 310, 610, 910, 1210, 1510, 1810 s (10 s doubling to 300 s).
    assert_eq!(r.polls, 11);
    assert_eq!(r.waited_secs, 1810);
    assert!((1800..=1800 + 300).contains(&r.waited_secs));
    assert!(started.elapsed() >= Duration::from_secs(1800));
    let a = r.assignments.as_ref().expect("assignments");
    assert_eq!(a.groups[0].status, ChangeStatus::Changed);
    assert_eq!(a.groups[1].status, ChangeStatus::Skipped);
    let stored = w.gdap.assignments(&rid(1));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].group, app);
}

#[tokio::test(start_paused = true)]
async fn approval_without_a_template_assigns_nothing() {
    let (w, _) = approval_world();
    w.gdap.approve_after(&rid(1), Duration::from_secs(60));
    let o = orchestrator(&w);
    let r = o
        .wait_for_approval_and_assign(&rid(1), &ApprovalWait::default(), None)
        .await
        .unwrap();
    assert!(r.assignments.is_none());
    assert_eq!(r.polls, 4); // 0, 10, 30, 70 s
    assert_eq!(w.gdap.assignment_writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn approval_times_out_with_the_approval_link() {
    let (w, _) = approval_world();
    w.gdap.approve_after(&rid(1), Duration::from_secs(30 * 60));
    let o = orchestrator(&w);
    let wait = ApprovalWait::default().with_deadline(Duration::from_secs(600));
    let e = o
        .wait_for_approval_and_assign(&rid(1), &wait, Some(&GroupTemplate::app_install()))
        .await
        .unwrap_err();
    match &e {
        OnboardError::ApprovalTimedOut {
            relationship_id,
            status,
            waited_secs,
            approval_link,
        } => {
            assert_eq!(relationship_id, &rid(1));
            assert_eq!(status, "approvalPending");
            assert!(approval_link.contains(rid(1).as_str()), "{approval_link}");
            assert!(approval_link.starts_with("https://admin.microsoft.com/"));
            // Polls at 0, 10, 30, 70, 150, 310 s; the 300 s pause is cut to 290 s so the
            // last read happens at the deadline.
            assert_eq!(*waited_secs, 600);
        }
        other => panic!("expected ApprovalTimedOut, got {other:?}"),
    }
    assert_eq!(key_of(&e), CatalogueKey::ApprovalTimedOut);
    assert!(e.is_retryable());
    assert_eq!(w.gdap.assignment_writes(), 0);
    assert_eq!(
        w.gdap.relationship(&rid(1)).unwrap().status,
        RelationshipStatus::ApprovalPending
    );
}

#[tokio::test(start_paused = true)]
async fn an_ended_relationship_stops_the_wait() {
    for status in [RelationshipStatus::Terminated, RelationshipStatus::Expired] {
        let w = world();
        let mut rel = pending(1, tid(1), "rel 1", APP_ROLES);
        rel.status = status.clone();
        w.gdap.insert(rel);
        let o = orchestrator(&w);
        let e = o
            .wait_for_approval_and_assign(&rid(1), &ApprovalWait::default(), None)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, OnboardError::ApprovalEnded { relationship_id, status: s }
                if relationship_id == &rid(1) && s == status.as_str()),
            "{e:?}"
        );
        assert_eq!(key_of(&e), CatalogueKey::ApprovalEnded);
        assert_eq!(calls_to(&w, "get_relationship"), 1, "no further polls");
    }
}

#[tokio::test(start_paused = true)]
async fn a_transient_read_failure_is_retried() {
    let (w, _) = approval_world();
    w.gdap.approve_after(&rid(1), Duration::ZERO);
    w.gdap
        .fail_next("get_relationship", PortError::http(503, None, ""));
    w.gdap
        .fail_next("get_relationship", PortError::http(503, None, ""));
    let o = orchestrator(&w);
    let r = o
        .wait_for_approval_and_assign(&rid(1), &ApprovalWait::default(), None)
        .await
        .unwrap();
    assert_eq!(r.status, RelationshipStatus::Active);
    assert_eq!(r.polls, 3);
    assert_eq!(r.waited_secs, 30); // pauses of 10 and 20 s
    assert_eq!(calls_to(&w, "get_relationship"), 3);
}

#[tokio::test(start_paused = true)]
async fn retry_after_of_a_throttled_read_is_honoured() {
    let (w, _) = approval_world();
    w.gdap.approve_after(&rid(1), Duration::ZERO);
    w.gdap.fail_next(
        "get_relationship",
        PortError::http(429, None, "slow down").with_retry_after(Duration::from_secs(120)),
    );
    let o = orchestrator(&w);
    let r = o
        .wait_for_approval_and_assign(&rid(1), &ApprovalWait::default(), None)
        .await
        .unwrap();
    assert_eq!(r.polls, 2);
    assert_eq!(r.waited_secs, 120);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_relationship_fails_at_once() {
    let w = world();
    let o = orchestrator(&w);
    let e = o
        .wait_for_approval_and_assign(&rid(9), &ApprovalWait::default(), None)
        .await
        .unwrap_err();
    assert_eq!(
        e.port_error().map(PortError::kind),
        Some(PortErrorKind::NotFound),
        "{e:?}"
    );
    assert_eq!(calls_to(&w, "get_relationship"), 1);
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_up_to_its_maximum() {
    let (w, _) = approval_world();
    let o = orchestrator(&w);
    let wait = ApprovalWait::default()
        .with_deadline(Duration::from_secs(600))
        .with_backoff(Duration::from_secs(10), Duration::from_secs(60));
    let started = tokio::time::Instant::now();
    let e = o.wait_for_approval(&rid(1), &wait).await.unwrap_err();
    // Pauses 10, 20, 40, then 60 s: polls at 0, 10, 30, 70, 130, 190, …, 550 s, and a last
    // one at the deadline (the pause cut to 50 s).
    assert_eq!(calls_to(&w, "get_relationship"), 13);
    assert!(
        matches!(
            e,
            OnboardError::ApprovalTimedOut {
                waited_secs: 600,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(600));

    // Without a cap below the deadline the pauses keep doubling: 0, 10, 30, 70, 150, 310 s,
    // then the last read at 600 s.
    let (w, _) = approval_world();
    let o = orchestrator(&w);
    let wait = ApprovalWait::default()
        .with_deadline(Duration::from_secs(600))
        .with_backoff(Duration::from_secs(10), Duration::from_secs(3600));
    o.wait_for_approval(&rid(1), &wait).await.unwrap_err();
    assert_eq!(calls_to(&w, "get_relationship"), 7);
}

// ------------------------------------------------------------------------------------------
// register_approval_webhook
// ------------------------------------------------------------------------------------------

const HOOK: &str = "https://gdap.msp.example/hooks/partner-center";

#[tokio::test(start_paused = true)]
async fn webhook_is_created_when_none_exists() {
    let w = world();
    let o = orchestrator(&w);
    let r = o
        .register_approval_webhook(HOOK, false, false)
        .await
        .unwrap();
    assert_eq!(r.action, WebhookAction::Created);
    assert_eq!(r.previous, None);
    assert_eq!(r.registration.url, HOOK);
    assert_eq!(r.registration.events, APPROVAL_EVENTS);
    assert_eq!(w.partner_center.webhook(), Some(r.registration.clone()));
    assert_eq!(w.partner_center.webhook_writes(), 1);
}

#[tokio::test(start_paused = true)]
async fn our_webhook_with_every_event_is_unchanged() {
    let w = world();
    let ours = WebhookRegistration::new(format!("{HOOK}/"), APPROVAL_EVENTS.iter().copied());
    w.partner_center.set_webhook(Some(ours.clone()));
    let o = orchestrator(&w);
    let r = o
        .register_approval_webhook(HOOK, false, false)
        .await
        .unwrap();
    assert_eq!(r.action, WebhookAction::Unchanged);
    assert_eq!(r.registration, ours);
    assert_eq!(w.partner_center.webhook_writes(), 0);
    assert_eq!(w.partner_center.webhook(), Some(ours));
}

#[tokio::test(start_paused = true)]
async fn missing_events_are_added_keeping_the_existing_ones() {
    let w = world();
    let before = WebhookRegistration::new(
        HOOK,
        ["test-created", "granular-admin-relationship-approved"],
    );
    w.partner_center.set_webhook(Some(before.clone()));
    let o = orchestrator(&w);
    let r = o
        .register_approval_webhook(HOOK, false, false)
        .await
        .unwrap();
    assert_eq!(r.action, WebhookAction::EventsAdded);
    assert_eq!(r.previous, Some(before));
    assert_eq!(
        r.registration.events,
        [
            "test-created",
            "granular-admin-relationship-approved",
            "granular-admin-relationship-activated"
        ]
    );
    assert_eq!(w.partner_center.webhook(), Some(r.registration.clone()));
    assert_eq!(w.partner_center.webhook_writes(), 1);
}

#[tokio::test(start_paused = true)]
async fn another_tools_webhook_is_not_replaced_unless_forced() {
    let w = world();
    let theirs = WebhookRegistration::new(
        "https://psa.example/partner-center/events",
        ["invoice-ready"],
    );
    w.partner_center.set_webhook(Some(theirs.clone()));
    let o = orchestrator(&w);
    let e = o
        .register_approval_webhook(HOOK, false, false)
        .await
        .unwrap_err();
    match &e {
        OnboardError::WebhookRegisteredElsewhere {
            existing_url,
            existing_events,
        } => {
            assert_eq!(existing_url, &theirs.url);
            assert_eq!(existing_events, &theirs.events);
        }
        other => panic!("expected WebhookRegisteredElsewhere, got {other:?}"),
    }
    assert_eq!(key_of(&e), CatalogueKey::WebhookRegisteredElsewhere);
    assert_eq!(w.partner_center.webhook_writes(), 0);
    assert_eq!(w.partner_center.webhook(), Some(theirs.clone()));

    // A dry run with force plans the replacement and writes nothing.
    let plan = o.register_approval_webhook(HOOK, true, true).await.unwrap();
    assert_eq!(plan.action, WebhookAction::Planned);
    assert_eq!(plan.registration.url, HOOK);
    assert_eq!(plan.previous, Some(theirs.clone()));
    assert_eq!(w.partner_center.webhook_writes(), 0);
    assert_eq!(w.partner_center.webhook(), Some(theirs.clone()));

    let r = o
        .register_approval_webhook(HOOK, true, false)
        .await
        .unwrap();
    assert_eq!(r.action, WebhookAction::Replaced);
    assert_eq!(r.previous, Some(theirs));
    assert_eq!(r.registration.url, HOOK);
    assert_eq!(r.registration.events, APPROVAL_EVENTS);
    assert_eq!(w.partner_center.webhook(), Some(r.registration.clone()));
    assert_eq!(w.partner_center.webhook_writes(), 1);
}

#[tokio::test(start_paused = true)]
async fn webhook_dry_run_plans_without_writes() {
    let w = world();
    let o = orchestrator(&w);
    let r = o
        .register_approval_webhook(HOOK, false, true)
        .await
        .unwrap();
    assert_eq!(r.action, WebhookAction::Planned);
    assert_eq!(r.registration.events, APPROVAL_EVENTS);
    assert_eq!(w.partner_center.webhook_writes(), 0);
    assert_eq!(w.partner_center.webhook(), None);

    // Missing events, dry run: planned, nothing sent.
    w.partner_center
        .set_webhook(Some(WebhookRegistration::new(HOOK, ["test-created"])));
    let r = o
        .register_approval_webhook(HOOK, false, true)
        .await
        .unwrap();
    assert_eq!(r.action, WebhookAction::Planned);
    assert_eq!(r.registration.events.len(), 3);
    assert_eq!(w.partner_center.webhook_writes(), 0);
    assert_eq!(w.partner_center.webhook().unwrap().events, ["test-created"]);
}

// ------------------------------------------------------------------------------------------
// auto_extend_relationships
// ------------------------------------------------------------------------------------------

const GA_RELS: [u64; 3] = [1, 2, 3];
const ALREADY_SET: [u64; 2] = [4, 5];
const RESELLER: u64 = 6;
const NOT_ACTIVE: u64 = 21;

/// 20 active relationships (1–3 with Global Administrator, 4–5 auto-extending already, 6 a
/// reseller one) and 21, approval pending.
fn extend_world() -> FakeWorld {
    let w = world();
    for n in 1..=20u64 {
        let roles: &[RoleTemplate] = if GA_RELS.contains(&n) {
            &[
                APPLICATION_ADMINISTRATOR,
                PRIVILEGED_ROLE_ADMINISTRATOR,
                GLOBAL_ADMINISTRATOR,
            ]
        } else {
            APP_ROLES
        };
        let mut rel = active(
            n,
            tid(n as u32),
            &format!("Customer {n:02}"),
            &format!("rel {n:02}"),
            roles,
        );
        if ALREADY_SET.contains(&n) {
            rel = rel.with_auto_extend(Days(180));
        }
        if n == RESELLER {
            rel = rel.with_reseller(true);
        }
        w.gdap.insert(rel);
    }
    w.gdap
        .insert(pending(NOT_ACTIVE, tid(21), "rel 21", APP_ROLES));
    w
}

fn changed_ids() -> Vec<u64> {
    (1..=20)
        .filter(|n| !GA_RELS.contains(n) && !ALREADY_SET.contains(n) && *n != RESELLER)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn auto_extend_sets_180_days_where_allowed() {
    let w = extend_world();
    let o = orchestrator(&w);
    let r = o
        .auto_extend_relationships(&BulkOptions::default())
        .await
        .unwrap();
    assert!(!r.dry_run);
    assert_eq!(r.relationships.len(), 20, "the pending one is not listed");
    assert!(
        r.relationships
            .iter()
            .all(|c| c.relationship_id != rid(NOT_ACTIVE))
    );
    // In display-name order.
    let names: Vec<&str> = r
        .relationships
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    for n in GA_RELS {
        let c = entry(&r.relationships, &rid(n));
        assert_eq!(c.status, ChangeStatus::Skipped);
        assert!(c.detail.contains("remove-ga"), "{}", c.detail);
        assert_eq!(
            w.gdap.relationship(&rid(n)).unwrap().auto_extend,
            Days::NONE
        );
    }
    for n in ALREADY_SET {
        let c = entry(&r.relationships, &rid(n));
        assert_eq!(c.status, ChangeStatus::Unchanged);
    }
    let c = entry(&r.relationships, &rid(RESELLER));
    assert_eq!(c.status, ChangeStatus::Skipped);
    assert!(c.detail.contains("reseller"), "{}", c.detail);
    assert_eq!(
        w.gdap.relationship(&rid(RESELLER)).unwrap().auto_extend,
        Days::NONE
    );
    for n in changed_ids() {
        let c = entry(&r.relationships, &rid(n));
        assert_eq!(c.status, ChangeStatus::Changed, "{c:#?}");
        assert!(c.error.is_none());
        assert_eq!(w.gdap.relationship(&rid(n)).unwrap().auto_extend, Days(180));
        assert_eq!(
            c.customer.as_ref().map(|x| x.tenant_id),
            Some(tid(n as u32))
        );
    }
    assert_eq!(
        r.counts,
        ChangeCounts {
            changed: 14,
            unchanged: 2,
            skipped: 4,
            ..ChangeCounts::default()
        }
    );
    let total = r.counts.planned
        + r.counts.changed
        + r.counts.unchanged
        + r.counts.skipped
        + r.counts.failed;
    assert_eq!(total, r.relationships.len());
    assert_eq!(w.gdap.update_writes(), 14);
    assert_eq!(
        w.gdap.relationship(&rid(NOT_ACTIVE)).unwrap().auto_extend,
        Days::NONE
    );
}

#[tokio::test(start_paused = true)]
async fn auto_extend_dry_run_then_run_then_nothing_left() {
    let w = extend_world();
    let o = orchestrator(&w);
    let plan = o
        .auto_extend_relationships(&BulkOptions::default().dry_run(true))
        .await
        .unwrap();
    assert!(plan.dry_run);
    assert_eq!(w.gdap.update_writes(), 0);
    assert_eq!(plan.counts.planned, 14);
    assert_eq!(plan.counts.changed, 0);
    for n in changed_ids() {
        let c = entry(&plan.relationships, &rid(n));
        assert_eq!(c.status, ChangeStatus::Planned);
        assert!(c.detail.contains("would set"), "{}", c.detail);
        assert_eq!(
            w.gdap.relationship(&rid(n)).unwrap().auto_extend,
            Days::NONE
        );
    }

    let run = o
        .auto_extend_relationships(&BulkOptions::default())
        .await
        .unwrap();
    assert_eq!(run.counts.changed, 14);
    assert_eq!(w.gdap.update_writes(), 14);

    let again = o
        .auto_extend_relationships(&BulkOptions::default())
        .await
        .unwrap();
    assert_eq!(again.counts.changed, 0);
    assert_eq!(again.counts.unchanged, 16);
    assert_eq!(again.counts.skipped, 4);
    assert_eq!(w.gdap.update_writes(), 14, "nothing sent the second time");
}

#[tokio::test(start_paused = true)]
async fn a_stale_etag_is_reread_and_retried_once() {
    let w = extend_world();
    w.gdap.fail_next("set_auto_extend", precondition_failed());
    let o = orchestrator(&w);
    let opts = BulkOptions::default().only(vec![rid(7)]);
    let r = o.auto_extend_relationships(&opts).await.unwrap();
    assert_eq!(r.relationships.len(), 1);
    assert_eq!(r.relationships[0].status, ChangeStatus::Changed, "{r:#?}");
    assert_eq!(w.gdap.update_writes(), 2);
    assert_eq!(w.gdap.relationship(&rid(7)).unwrap().auto_extend, Days(180));
    // Read for `only`, re-read after the 412, read back after the update.
    assert_eq!(calls_to(&w, "get_relationship"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_second_stale_etag_fails_that_relationship() {
    let w = extend_world();
    w.gdap.fail_next("set_auto_extend", precondition_failed());
    w.gdap.fail_next("set_auto_extend", precondition_failed());
    let o = orchestrator(&w);
    let opts = BulkOptions::default().only(vec![rid(7), rid(8)]);
    let r = o.auto_extend_relationships(&opts).await.unwrap();
    let c = entry(&r.relationships, &rid(7));
    assert_eq!(c.status, ChangeStatus::Failed);
    assert!(c.error.is_some());
    assert_eq!(
        w.gdap.relationship(&rid(7)).unwrap().auto_extend,
        Days::NONE
    );
    assert_eq!(
        entry(&r.relationships, &rid(8)).status,
        ChangeStatus::Changed
    );
}

/// A GDAP service where someone changes every relationship right after it is listed, so the
/// listed ETags are stale.
struct TouchAfterListing(Arc<FakeGdap>);

#[async_trait]
impl PartnerGdap for TouchAfterListing {
    fn list_relationships(&self, status: Option<RelationshipStatus>) -> PortStream<Relationship> {
        let listed = self.0.list_relationships(status);
        for r in self.0.relationships() {
            self.0.touch(r.id.as_str());
        }
        listed
    }
    async fn get_relationship(&self, id: &RelationshipId) -> Result<Relationship, PortError> {
        self.0.get_relationship(id).await
    }
    async fn create_relationship(&self, new: &NewRelationship) -> Result<Relationship, PortError> {
        self.0.create_relationship(new).await
    }
    async fn lock_for_approval(
        &self,
        id: &RelationshipId,
    ) -> Result<RelationshipRequest, PortError> {
        self.0.lock_for_approval(id).await
    }
    async fn set_auto_extend(
        &self,
        id: &RelationshipId,
        etag: &str,
        auto_extend: Days,
    ) -> Result<Relationship, PortError> {
        self.0.set_auto_extend(id, etag, auto_extend).await
    }
}

#[tokio::test(start_paused = true)]
async fn an_etag_gone_stale_after_listing_is_reread() {
    let w = extend_world();
    let before = w.gdap.etag_of(rid(7).as_str());
    let ports = Ports {
        gdap: Arc::new(TouchAfterListing(w.gdap.clone())),
        ..w.ports()
    };
    let o = Orchestrator::new(ports, Default::default());
    let r = o
        .auto_extend_relationships(&BulkOptions::default())
        .await
        .unwrap();
    assert_eq!(r.counts.changed, 14, "{r:#?}");
    assert_eq!(r.counts.failed, 0);
    // Each of the 14 was sent twice: the stale ETag (412), then the re-read one.
    assert_eq!(w.gdap.update_writes(), 28);
    assert_ne!(w.gdap.etag_of(rid(7).as_str()), before);
    for n in changed_ids() {
        assert_eq!(w.gdap.relationship(&rid(n)).unwrap().auto_extend, Days(180));
    }
}

#[tokio::test(start_paused = true)]
async fn a_refused_auto_extend_fails_only_that_relationship() {
    let w = extend_world();
    w.gdap.refuse_auto_extend(&rid(7));
    let o = orchestrator(&w);
    let r = o
        .auto_extend_relationships(&BulkOptions::default())
        .await
        .unwrap();
    let c = entry(&r.relationships, &rid(7));
    assert_eq!(c.status, ChangeStatus::Failed);
    let err = c.error.as_ref().expect("an error entry");
    assert_eq!(err.key, CatalogueKey::ServiceError);
    assert!(
        c.detail.contains("updating a GDAP relationship"),
        "{}",
        c.detail
    );
    assert!(
        err.details
            .iter()
            .any(|d| d.contains("HTTP 400") && d.contains("cannot be auto-extended")),
        "{err:#?}"
    );
    assert_eq!(
        w.gdap.relationship(&rid(7)).unwrap().auto_extend,
        Days::NONE
    );
    assert_eq!(r.counts.failed, 1);
    assert_eq!(r.counts.changed, 13);
    for n in changed_ids().into_iter().filter(|n| *n != 7) {
        assert_eq!(
            entry(&r.relationships, &rid(n)).status,
            ChangeStatus::Changed
        );
    }
}

#[tokio::test(start_paused = true)]
async fn auto_extend_only_the_relationships_asked_for() {
    let w = extend_world();
    let o = orchestrator(&w);
    let opts = BulkOptions::default().only(vec![rid(8), rid(NOT_ACTIVE), rid(1)]);
    let r = o.auto_extend_relationships(&opts).await.unwrap();
    let got: Vec<&RelationshipId> = r.relationships.iter().map(|c| &c.relationship_id).collect();
    assert_eq!(got, [&rid(8), &rid(NOT_ACTIVE), &rid(1)]);
    assert_eq!(r.relationships[0].status, ChangeStatus::Changed);
    assert_eq!(r.relationships[1].status, ChangeStatus::Skipped);
    assert!(
        r.relationships[1].detail.contains("not active"),
        "{}",
        r.relationships[1].detail
    );
    assert_eq!(r.relationships[2].status, ChangeStatus::Skipped);
    assert_eq!(w.gdap.update_writes(), 1);
    assert_eq!(
        w.gdap.relationship(&rid(9)).unwrap().auto_extend,
        Days::NONE
    );
}

#[tokio::test(start_paused = true)]
async fn auto_extend_report_snapshot() {
    let w = world();
    let ga = [
        APPLICATION_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        GLOBAL_ADMINISTRATOR,
    ];
    w.gdap.insert(active(1, tid(1), "Alpha", "Alpha - GA", &ga));
    w.gdap
        .insert(active(2, tid(2), "Bravo", "Bravo - set", APP_ROLES).with_auto_extend(Days(180)));
    w.gdap
        .insert(active(3, tid(3), "Charlie", "Charlie - reseller", APP_ROLES).with_reseller(true));
    w.gdap
        .insert(active(4, tid(4), "Delta", "Delta - plain", APP_ROLES));
    w.gdap
        .insert(active(5, tid(5), "Echo", "Echo - refused", APP_ROLES));
    w.gdap.refuse_auto_extend(&rid(5));
    let o = orchestrator(&w);
    let r = o
        .auto_extend_relationships(&BulkOptions::default())
        .await
        .unwrap();
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("auto_extend_report", r);
    });
}

// ------------------------------------------------------------------------------------------
// remove_global_admin
// ------------------------------------------------------------------------------------------

/// 1: App Admin + PRA + GA (a group holds GA); 2: GA only; 3: no GA; 4: Global Reader + GA.
fn ga_world() -> (FakeWorld, SecurityGroupId) {
    let w = world();
    let holder = w.partner_directory.add_group("GDAP - Everything");
    w.gdap.insert(active(
        1,
        tid(1),
        "Alpha",
        "rel 1",
        &[
            APPLICATION_ADMINISTRATOR,
            PRIVILEGED_ROLE_ADMINISTRATOR,
            GLOBAL_ADMINISTRATOR,
        ],
    ));
    w.gdap.insert_assignment(
        &rid(1),
        assignment("asg-ga", holder, &[GLOBAL_ADMINISTRATOR]),
    );
    w.gdap
        .insert(active(2, tid(2), "Bravo", "rel 2", &[GLOBAL_ADMINISTRATOR]));
    w.gdap
        .insert(active(3, tid(3), "Charlie", "rel 3", APP_ROLES));
    w.gdap.insert(active(
        4,
        tid(4),
        "Delta",
        "rel 4",
        &[GLOBAL_READER, GLOBAL_ADMINISTRATOR],
    ));
    (w, holder)
}

#[tokio::test(start_paused = true)]
async fn remove_ga_plan_lists_only_relationships_with_global_admin() {
    let (w, _) = ga_world();
    let o = orchestrator(&w);
    let r = o
        .remove_global_admin(&BulkOptions::default().dry_run(true))
        .await
        .unwrap();
    assert!(r.dry_run);
    let got: Vec<&RelationshipId> = r.relationships.iter().map(|c| &c.relationship_id).collect();
    assert_eq!(got, [&rid(1), &rid(2), &rid(4)]);
    let one = entry(&r.relationships, &rid(1));
    assert_eq!(one.status, ChangeStatus::Planned);
    assert!(one.detail.contains("keeps"), "{}", one.detail);
    assert!(one.detail.contains("Application Administrator"));
    assert!(one.detail.contains("Privileged Role Administrator"));
    assert!(!one.detail.contains("keeps Global Administrator"));
    assert!(
        one.detail.contains("groups losing it: GDAP - Everything"),
        "the group losing GA is named: {}",
        one.detail
    );
    let four = entry(&r.relationships, &rid(4));
    assert_eq!(four.status, ChangeStatus::Planned);
    assert!(
        four.detail.contains("keeps Global Reader"),
        "{}",
        four.detail
    );
    let two = entry(&r.relationships, &rid(2));
    assert_eq!(two.status, ChangeStatus::Skipped);
    assert!(two.detail.contains("only role"), "{}", two.detail);
    assert_eq!(r.counts.planned, 2);
    assert_eq!(r.counts.skipped, 1);
    assert_eq!(w.gdap.update_writes(), 0);
    assert!(w.gdap.relationship(&rid(1)).unwrap().has_global_admin());
}

#[tokio::test(start_paused = true)]
async fn remove_ga_follows_the_operation_and_reads_back() {
    let (w, _) = ga_world();
    w.gdap.set_assignment_propagation(Duration::from_secs(30));
    let o = orchestrator(&w);
    let started = tokio::time::Instant::now();
    let r = o
        .remove_global_admin(&BulkOptions::default())
        .await
        .unwrap();
    let one = entry(&r.relationships, &rid(1));
    assert_eq!(one.status, ChangeStatus::Changed, "{one:#?}");
    assert!(
        one.detail.contains("Global Administrator removed"),
        "{}",
        one.detail
    );
    let rel = w.gdap.relationship(&rid(1)).unwrap();
    assert!(!rel.has_global_admin());
    assert_eq!(rel.roles, ids(APP_ROLES).into_iter().collect());
    assert_eq!(
        entry(&r.relationships, &rid(4)).status,
        ChangeStatus::Changed
    );
    assert_eq!(
        w.gdap.relationship(&rid(4)).unwrap().roles,
        ids(&[GLOBAL_READER]).into_iter().collect()
    );
    assert_eq!(
        entry(&r.relationships, &rid(2)).status,
        ChangeStatus::Skipped
    );
    assert!(w.gdap.relationship(&rid(2)).unwrap().has_global_admin());
    assert!(started.elapsed() >= Duration::from_secs(30));
    assert!(calls_to(&w, "get_operation") >= 2);
    assert_eq!(w.gdap.update_writes(), 2);

    // Nothing left to do but the GA-only one.
    let again = o
        .remove_global_admin(&BulkOptions::default())
        .await
        .unwrap();
    assert_eq!(again.relationships.len(), 1);
    assert_eq!(again.relationships[0].relationship_id, rid(2));
    assert_eq!(w.gdap.update_writes(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_failed_operation_fails_that_relationship() {
    let (w, _) = ga_world();
    w.gdap.fail_next_operation();
    let o = orchestrator(&w);
    // One at a time, in name order: relationship 1 gets the failing operation.
    let r = o
        .remove_global_admin(&BulkOptions::default().with_concurrency(1))
        .await
        .unwrap();
    let one = entry(&r.relationships, &rid(1));
    assert_eq!(one.status, ChangeStatus::Failed, "{one:#?}");
    assert_eq!(
        one.error.as_ref().unwrap().key,
        CatalogueKey::OperationIncomplete
    );
    assert!(one.detail.contains("failed"), "{}", one.detail);
    assert!(w.gdap.relationship(&rid(1)).unwrap().has_global_admin());
    assert_eq!(
        entry(&r.relationships, &rid(4)).status,
        ChangeStatus::Changed
    );
    assert_eq!(r.counts.failed, 1);
}

#[tokio::test(start_paused = true)]
async fn an_operation_slower_than_the_deadline_fails_as_running() {
    let (w, _) = ga_world();
    w.gdap
        .set_assignment_propagation(Duration::from_secs(20 * 60));
    let o = orchestrator(&w);
    let opts = BulkOptions::default()
        .only(vec![rid(1)])
        .with_operation_deadline(Duration::from_secs(60));
    let started = tokio::time::Instant::now();
    let r = o.remove_global_admin(&opts).await.unwrap();
    let one = &r.relationships[0];
    assert_eq!(one.status, ChangeStatus::Failed, "{one:#?}");
    assert_eq!(
        one.error.as_ref().unwrap().key,
        CatalogueKey::OperationIncomplete
    );
    assert!(one.detail.contains("running"), "{}", one.detail);
    assert!(started.elapsed() <= Duration::from_secs(60));
    assert!(w.gdap.relationship(&rid(1)).unwrap().has_global_admin());
}

#[tokio::test(start_paused = true)]
async fn remove_ga_on_a_relationship_without_it_is_unchanged() {
    let (w, _) = ga_world();
    let o = orchestrator(&w);
    let r = o
        .remove_global_admin(&BulkOptions::default().only(vec![rid(3)]))
        .await
        .unwrap();
    assert_eq!(r.relationships[0].status, ChangeStatus::Unchanged);
    assert_eq!(w.gdap.update_writes(), 0);
}

// ------------------------------------------------------------------------------------------
// repair_drift
// ------------------------------------------------------------------------------------------

struct DriftWorld {
    w: FakeWorld,
    app: SecurityGroupId,
    old: SecurityGroupId,
    helpdesk: SecurityGroupId,
}

/// Six relationships: (1) no App Install assignment, (2) an assignment of a deleted group,
/// (3) App Install with an extra role, (4) App Install missing a role, (5) in line, (6) in line
/// plus an unrelated group's assignment.
fn drift_world() -> DriftWorld {
    let w = world();
    let app = w.partner_directory.add_group(APP_INSTALL);
    let gr = w.partner_directory.add_group(GLOBAL_READER_GROUP);
    let helpdesk = w.partner_directory.add_group("Helpdesk team");
    let old = w.partner_directory.add_group("GDAP - Old");
    let g = &w.gdap;
    g.insert(active(1, tid(1), "Alpha", "rel 1 missing group", APP_ROLES));
    g.insert(active(2, tid(2), "Bravo", "rel 2 stale group", APP_ROLES));
    g.insert_assignment(&rid(2), assignment("asg-b-app", app, APP_ROLES));
    g.insert_assignment(
        &rid(2),
        assignment("asg-b-old", old, &[APPLICATION_ADMINISTRATOR]),
    );
    w.partner_directory.delete_group(&old);
    let with_user_admin = [
        APPLICATION_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        USER_ADMINISTRATOR,
    ];
    g.insert(active(
        3,
        tid(3),
        "Charlie",
        "rel 3 extra roles",
        &with_user_admin,
    ));
    g.insert_assignment(&rid(3), assignment("asg-c-app", app, &with_user_admin));
    g.insert(active(4, tid(4), "Delta", "rel 4 missing roles", APP_ROLES));
    g.insert_assignment(
        &rid(4),
        assignment("asg-d-app", app, &[APPLICATION_ADMINISTRATOR]),
    );
    let with_reader = [
        APPLICATION_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        GLOBAL_READER,
    ];
    g.insert(active(5, tid(5), "Echo", "rel 5 in line", &with_reader));
    g.insert_assignment(&rid(5), assignment("asg-e-app", app, APP_ROLES));
    g.insert_assignment(&rid(5), assignment("asg-e-gr", gr, &[GLOBAL_READER]));
    let with_helpdesk = [
        APPLICATION_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        HELPDESK_ADMINISTRATOR,
    ];
    g.insert(active(
        6,
        tid(6),
        "Foxtrot",
        "rel 6 unrelated group",
        &with_helpdesk,
    ));
    g.insert_assignment(&rid(6), assignment("asg-f-app", app, APP_ROLES));
    g.insert_assignment(
        &rid(6),
        assignment("asg-f-help", helpdesk, &[HELPDESK_ADMINISTRATOR]),
    );
    DriftWorld {
        w,
        app,
        old,
        helpdesk,
    }
}

fn live_roles(w: &FakeWorld, rel: u64, id: &str) -> Option<Vec<RoleTemplateId>> {
    w.gdap
        .assignments(&rid(rel))
        .into_iter()
        .find(|a| a.id.as_str() == id && a.is_live())
        .map(|a| a.roles.into_iter().collect())
}

#[tokio::test(start_paused = true)]
async fn drift_plan_finds_each_kind_and_writes_nothing() {
    let d = drift_world();
    let o = orchestrator(&d.w);
    let t = GroupTemplate::app_install();
    let r = o
        .repair_drift(&t, &BulkOptions::default().dry_run(true))
        .await
        .unwrap();
    assert!(r.dry_run);
    assert!(r.missing_groups.is_empty());
    assert_eq!(r.checked, 6);
    assert_eq!(r.in_line, 2);
    let by_rel: Vec<(RelationshipId, Vec<DriftKind>)> = r
        .relationships
        .iter()
        .map(|x| {
            (
                x.relationship_id.clone(),
                x.findings.iter().map(|f| f.kind).collect(),
            )
        })
        .collect();
    assert_eq!(
        by_rel,
        [
            (rid(1), vec![DriftKind::MissingGroup]),
            (rid(2), vec![DriftKind::StaleGroup]),
            (rid(3), vec![DriftKind::ExtraRoles]),
            (rid(4), vec![DriftKind::MissingRoles]),
        ]
    );
    let f = |n: usize| &r.relationships[n].findings[0];
    assert_eq!(f(0).group_id, d.app);
    assert_eq!(f(0).group_name.as_deref(), Some(APP_INSTALL));
    assert_eq!(f(0).assignment_id, None);
    assert_eq!(
        role_names(&f(0).roles),
        ["Application Administrator", "Privileged Role Administrator"]
    );
    assert_eq!(f(1).group_id, d.old);
    assert_eq!(f(1).group_name, None);
    assert_eq!(f(1).assignment_id, Some(aid("asg-b-old")));
    assert!(f(1).fix.contains("delete"), "{}", f(1).fix);
    assert_eq!(role_names(&f(2).roles), ["User Administrator"]);
    assert_eq!(f(2).assignment_id, Some(aid("asg-c-app")));
    assert_eq!(role_names(&f(3).roles), ["Privileged Role Administrator"]);
    assert!(
        f(3).fix.contains("set the assignment's roles"),
        "{}",
        f(3).fix
    );
    for x in &r.relationships {
        assert!(x.error.is_none());
        for f in &x.findings {
            assert_eq!(f.status, ChangeStatus::Planned);
        }
    }
    assert_eq!(
        r.counts,
        ChangeCounts {
            planned: 4,
            ..ChangeCounts::default()
        }
    );
    assert_eq!(d.w.gdap.update_writes(), 0);
    assert_eq!(d.w.gdap.assignment_writes(), 0);
    assert!(live_roles(&d.w, 2, "asg-b-old").is_some());
}

#[tokio::test(start_paused = true)]
async fn drift_repair_fixes_everything_and_leaves_other_groups_alone() {
    let d = drift_world();
    let o = orchestrator(&d.w);
    let t = GroupTemplate::app_install();
    let r = o.repair_drift(&t, &BulkOptions::default()).await.unwrap();
    for x in &r.relationships {
        for f in &x.findings {
            assert_eq!(f.status, ChangeStatus::Changed, "{f:#?}");
            assert!(f.error.is_none());
        }
    }
    assert_eq!(
        r.counts,
        ChangeCounts {
            changed: 4,
            ..ChangeCounts::default()
        }
    );
    let app_roles: Vec<RoleTemplateId> = {
        let mut v = ids(APP_ROLES);
        v.sort();
        v
    };
    // (a) created.
    let made = d.w.gdap.assignments(&rid(1));
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].group, d.app);
    assert_eq!(made[0].roles.iter().copied().collect::<Vec<_>>(), app_roles);
    // (b) the stale assignment deleted, the in-line one kept.
    assert_eq!(live_roles(&d.w, 2, "asg-b-old"), None);
    assert_eq!(live_roles(&d.w, 2, "asg-b-app"), Some(app_roles.clone()));
    // (c), (d) roles set to the template's.
    assert_eq!(live_roles(&d.w, 3, "asg-c-app"), Some(app_roles.clone()));
    assert_eq!(live_roles(&d.w, 4, "asg-d-app"), Some(app_roles.clone()));
    // (f) another group's assignment untouched.
    let help =
        d.w.gdap
            .assignments(&rid(6))
            .into_iter()
            .find(|a| a.id.as_str() == "asg-f-help")
            .unwrap();
    assert_eq!(help.group, d.helpdesk);
    assert_eq!(help.status, AssignmentStatus::Active);
    assert_eq!(
        help.roles,
        ids(&[HELPDESK_ADMINISTRATOR]).into_iter().collect()
    );
    // One create; one delete and two role updates.
    assert_eq!(d.w.gdap.assignment_writes(), 1);
    assert_eq!(d.w.gdap.update_writes(), 3);

    let after = o
        .repair_drift(&t, &BulkOptions::default().dry_run(true))
        .await
        .unwrap();
    assert!(after.relationships.is_empty(), "{after:#?}");
    assert_eq!(after.in_line, after.checked);
    assert_eq!(after.checked, 6);
    assert_eq!(after.counts, ChangeCounts::default());
}

#[tokio::test(start_paused = true)]
async fn a_template_group_missing_from_the_directory_is_listed() {
    let w = world();
    let app = w.partner_directory.add_group(APP_INSTALL);
    let with_reader = [
        APPLICATION_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        GLOBAL_READER,
    ];
    w.gdap
        .insert(active(1, tid(1), "Alpha", "rel 1", &with_reader));
    w.gdap
        .insert_assignment(&rid(1), assignment("asg-1", app, APP_ROLES));
    let o = orchestrator(&w);
    let r = o
        .repair_drift(&GroupTemplate::app_install(), &BulkOptions::default())
        .await
        .unwrap();
    assert_eq!(r.missing_groups, [GLOBAL_READER_GROUP]);
    // Its assignment cannot be made, so nothing is found for it.
    assert!(r.relationships.is_empty(), "{r:#?}");
    assert_eq!(r.in_line, 1);
    assert_eq!(w.gdap.assignment_writes(), 0);
}

#[tokio::test(start_paused = true)]
async fn drift_plan_snapshot() {
    let d = drift_world();
    let o = orchestrator(&d.w);
    let r = o
        .repair_drift(
            &GroupTemplate::app_install(),
            &BulkOptions::default().dry_run(true),
        )
        .await
        .unwrap();
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("drift_plan", r, {
            ".**.groupId" => "[groupId]",
        });
    });
}

// ------------------------------------------------------------------------------------------
// trace_access
// ------------------------------------------------------------------------------------------

/// The user in "GDAP - App Install"; a helper in no group.
fn trace_world() -> (FakeWorld, SecurityGroupId) {
    let w = world();
    let user = w.partner_directory.add_user(USER);
    w.partner_directory.add_user("helper@msp.example");
    let app = w.partner_directory.add_group(APP_INSTALL);
    w.partner_directory.add_member(&app, &user);
    (w, app)
}

#[tokio::test(start_paused = true)]
async fn trace_finds_the_path_and_the_effective_roles() {
    let (w, app) = trace_world();
    w.gdap
        .insert(active(1, tid(1), "Contoso", "rel 1", APP_ROLES));
    w.gdap
        .insert_assignment(&rid(1), assignment("asg-1", app, APP_ROLES));
    let o = orchestrator(&w);
    let t = o.trace_access(USER, tid(1)).await.unwrap();
    assert_eq!(t.user.user_principal_name, USER);
    assert_eq!(t.tenant_id, tid(1));
    assert_eq!(t.tenant_name.as_deref(), Some("Contoso"));
    assert_eq!(t.user_groups.len(), 1);
    assert_eq!(t.user_groups[0].id, app);
    assert_eq!(t.paths.len(), 1);
    let p = &t.paths[0];
    assert!(p.effective);
    assert_eq!(p.group_id, app);
    assert_eq!(p.group_name.as_deref(), Some(APP_INSTALL));
    assert_eq!(p.relationship_id, rid(1));
    assert_eq!(
        role_names(&t.effective_roles),
        ["Application Administrator", "Privileged Role Administrator"]
    );
    assert!(t.has_access);
    assert!(t.missing_for_app_install.is_empty(), "{t:#?}");
    assert!(t.reasons.is_empty(), "{:?}", t.reasons);
    assert!(t.relationships[0].assignments[0].user_is_member);
}

#[tokio::test(start_paused = true)]
async fn trace_with_partial_roles_says_what_the_app_install_lacks() {
    let (w, app) = trace_world();
    w.gdap
        .insert(active(1, tid(1), "Contoso", "rel 1", &[GLOBAL_READER]));
    w.gdap
        .insert_assignment(&rid(1), assignment("asg-1", app, &[GLOBAL_READER]));
    let o = orchestrator(&w);
    let t = o.trace_access(USER, tid(1)).await.unwrap();
    assert!(t.has_access);
    assert!(!t.missing_for_app_install.is_empty());
    assert!(
        t.reasons
            .iter()
            .any(|r| r.contains("not the roles the app install needs")),
        "{:?}",
        t.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn trace_of_a_user_in_no_assigned_group_names_the_groups() {
    let (w, app) = trace_world();
    w.gdap
        .insert(active(1, tid(1), "Contoso", "rel 1", APP_ROLES));
    w.gdap
        .insert_assignment(&rid(1), assignment("asg-1", app, APP_ROLES));
    let o = orchestrator(&w);
    let t = o.trace_access("helper@msp.example", tid(1)).await.unwrap();
    assert!(!t.has_access);
    assert!(t.paths.is_empty());
    assert!(t.effective_roles.is_empty());
    assert!(!t.relationships[0].assignments[0].user_is_member);
    assert_eq!(
        t.relationships[0].assignments[0].group_name.as_deref(),
        Some(APP_INSTALL)
    );
    assert!(
        t.reasons.iter().any(|r| r.contains(APP_INSTALL)
            && r.contains("helper@msp.example")
            && r.contains("none of the groups")),
        "{:?}",
        t.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn trace_without_a_relationship_points_to_request_permissions() {
    let (w, _) = trace_world();
    let o = orchestrator(&w);
    let t = o.trace_access(USER, tid(9)).await.unwrap();
    assert!(!t.has_access);
    assert!(t.relationships.is_empty());
    assert_eq!(t.reasons.len(), 1);
    assert!(
        t.reasons[0].contains("request-permissions"),
        "{:?}",
        t.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn trace_with_only_a_pending_relationship_points_to_approval() {
    let (w, _) = trace_world();
    w.gdap.insert(pending(2, tid(2), "rel 2", APP_ROLES));
    let o = orchestrator(&w);
    let t = o.trace_access(USER, tid(2)).await.unwrap();
    assert!(!t.has_access);
    assert_eq!(t.relationships.len(), 1);
    assert!(
        t.reasons
            .iter()
            .any(|r| r.contains("approval") && r.contains("wait-approval")),
        "{:?}",
        t.reasons
    );
    // An ended one points to a new request instead.
    let w2 = world();
    w2.partner_directory.add_user(USER);
    let mut ended = pending(3, tid(3), "rel 3", APP_ROLES);
    ended.status = RelationshipStatus::Expired;
    w2.gdap.insert(ended);
    let t = orchestrator(&w2).trace_access(USER, tid(3)).await.unwrap();
    assert!(
        t.reasons.iter().any(|r| r.contains("request-permissions")),
        "{:?}",
        t.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn trace_of_a_pending_assignment_is_not_effective_yet() {
    let (w, app) = trace_world();
    w.gdap
        .insert(active(1, tid(1), "Contoso", "rel 1", APP_ROLES));
    w.gdap.insert_assignment(
        &rid(1),
        AccessAssignment::new(
            aid("asg-pending"),
            app,
            ids(APP_ROLES),
            AssignmentStatus::Pending,
        ),
    );
    let o = orchestrator(&w);
    let t = o.trace_access(USER, tid(1)).await.unwrap();
    assert_eq!(t.paths.len(), 1);
    assert!(!t.paths[0].effective);
    assert!(!t.has_access);
    assert!(t.effective_roles.is_empty());
    assert!(
        t.reasons.iter().any(|r| r.contains("still pending")),
        "{:?}",
        t.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn trace_of_an_assignment_of_a_deleted_group_says_to_repair() {
    let (w, _) = trace_world();
    let gone = w.partner_directory.add_group("GDAP - Gone");
    w.gdap
        .insert(active(1, tid(1), "Contoso", "rel 1", APP_ROLES));
    w.gdap
        .insert_assignment(&rid(1), assignment("asg-gone", gone, APP_ROLES));
    w.partner_directory.delete_group(&gone);
    let o = orchestrator(&w);
    let t = o.trace_access(USER, tid(1)).await.unwrap();
    let a = &t.relationships[0].assignments[0];
    assert_eq!(a.group_id, gone);
    assert_eq!(a.group_name, None);
    assert!(!t.has_access);
    assert!(
        t.reasons
            .iter()
            .any(|r| r.contains(&gone.to_string()) && r.contains("run repair")),
        "{:?}",
        t.reasons
    );
}

#[tokio::test(start_paused = true)]
async fn trace_of_an_unknown_user_is_user_not_found() {
    let (w, _) = trace_world();
    let o = orchestrator(&w);
    let e = o
        .trace_access("nobody@msp.example", tid(1))
        .await
        .unwrap_err();
    assert!(matches!(e, OnboardError::UserNotFound { .. }), "{e:?}");
    assert_eq!(key_of(&e), CatalogueKey::UserNotFound);
}

#[tokio::test(start_paused = true)]
async fn remove_ga_skips_a_reseller_relationship() {
    let (w, _) = ga_world();
    w.gdap.insert(
        active(
            5,
            tid(5),
            "Echo",
            "rel 5 reseller",
            &[APPLICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR],
        )
        .with_reseller(true),
    );
    let o = orchestrator(&w);
    let r = o
        .remove_global_admin(&BulkOptions::default().only(vec![rid(5)]))
        .await
        .unwrap();
    let five = &r.relationships[0];
    assert_eq!(five.status, ChangeStatus::Skipped, "{five:#?}");
    assert!(five.detail.contains("reseller"), "{}", five.detail);
    assert_eq!(w.gdap.update_writes(), 0);
    assert!(w.gdap.relationship(&rid(5)).unwrap().has_global_admin());
}

#[tokio::test(start_paused = true)]
async fn remove_ga_retries_a_stale_etag_once() {
    let (w, _) = ga_world();
    w.gdap
        .fail_next("update_relationship_roles", precondition_failed());
    let o = orchestrator(&w);
    let r = o
        .remove_global_admin(&BulkOptions::default().only(vec![rid(1)]))
        .await
        .unwrap();
    assert_eq!(r.relationships[0].status, ChangeStatus::Changed, "{r:#?}");
    assert_eq!(w.gdap.update_writes(), 2);
    assert!(!w.gdap.relationship(&rid(1)).unwrap().has_global_admin());
}

#[tokio::test(start_paused = true)]
async fn a_failed_assignment_create_fails_its_entry() {
    let (w, _, _) = assign_world();
    w.gdap.fail_next(
        "create_access_assignment",
        PortError::http(503, None, "busy"),
    );
    let o = orchestrator(&w);
    let r = o
        .assign_groups(&rid(1), &GroupTemplate::app_install(), false)
        .await
        .unwrap();
    assert_eq!(r.groups[0].status, ChangeStatus::Failed, "{r:#?}");
    assert!(r.groups[0].error.is_some());
    assert_eq!(r.groups[1].status, ChangeStatus::Skipped);
    assert!(w.gdap.assignments(&rid(1)).is_empty());
    assert_eq!(r.counts.failed, 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_drift_fix_fails_that_finding_only() {
    let d = drift_world();
    d.w.gdap.fail_next(
        "delete_access_assignment",
        PortError::http(403, None, "denied"),
    );
    let o = orchestrator(&d.w);
    let r = o
        .repair_drift(&GroupTemplate::app_install(), &BulkOptions::default())
        .await
        .unwrap();
    let stale = &r.relationships[1].findings[0];
    assert_eq!(stale.kind, DriftKind::StaleGroup);
    assert_eq!(stale.status, ChangeStatus::Failed);
    assert_eq!(
        stale.error.as_ref().unwrap().key,
        CatalogueKey::InsufficientPermissions
    );
    assert!(live_roles(&d.w, 2, "asg-b-old").is_some());
    assert_eq!(r.counts.changed, 3);
    assert_eq!(r.counts.failed, 1);
}

#[tokio::test(start_paused = true)]
async fn a_drift_read_failure_is_reported_for_that_relationship() {
    let d = drift_world();
    d.w.gdap.fail_next(
        "list_access_assignments",
        PortError::http(403, None, "denied"),
    );
    let o = orchestrator(&d.w);
    let r = o
        .repair_drift(
            &GroupTemplate::app_install(),
            &BulkOptions::default().dry_run(true).with_concurrency(1),
        )
        .await
        .unwrap();
    // Relationship 1 (first by name) could not be read; the others are planned as usual.
    let first = &r.relationships[0];
    assert_eq!(first.relationship_id, rid(1));
    assert!(first.findings.is_empty());
    assert!(first.error.is_some());
    assert_eq!(r.checked, 6);
    assert_eq!(r.counts.planned, 3);
}

#[tokio::test(start_paused = true)]
async fn drift_counts_relationships_it_cannot_compare_as_skipped_not_in_line() {
    let d = drift_world();
    d.w.gdap.insert(
        Relationship::new(rid(70), "pending one", RelationshipStatus::ApprovalPending)
            .with_customer(tid(70), Some("Pending Ltd"))
            .with_roles(APP_ROLES.iter().map(|r| r.id())),
    );
    let o = orchestrator(&d.w);
    let r = o
        .repair_drift(
            &GroupTemplate::app_install(),
            &BulkOptions::default()
                .dry_run(true)
                .only(vec![rid(70), rid(1)]),
        )
        .await
        .unwrap();
    assert_eq!((r.checked, r.skipped, r.in_line), (2, 1, 0), "{r:#?}");
    assert_eq!(r.relationships.len(), 1);
    assert_eq!(r.relationships[0].relationship_id, rid(1));
}

#[tokio::test(start_paused = true)]
async fn a_webhook_event_is_only_a_hint_graph_decides() {
    use gdap_onboard::workflows::lifecycle::RelationshipEventOutcome;
    let (w, app) = approval_world();
    let o = orchestrator(&w);
    let t = GroupTemplate::app_install();
    // The event arrives before Graph shows the change: nothing is written.
    let early = o.on_relationship_event(&rid(1), Some(&t)).await.unwrap();
    assert!(
        matches!(early, RelationshipEventOutcome::NotActiveYet { ref status, .. } if *status == RelationshipStatus::ApprovalPending),
        "{early:?}"
    );
    assert_eq!(w.gdap.assignment_writes(), 0);
    // Once active, the groups are assigned; a repeated event changes nothing more.
    w.gdap.approve(&rid(1));
    let done = o.on_relationship_event(&rid(1), Some(&t)).await.unwrap();
    match &done {
        RelationshipEventOutcome::Active {
            assignments: Some(a),
            ..
        } => assert_eq!(a.counts.changed, 1, "{a:?}"),
        other => panic!("expected Active with assignments, got {other:?}"),
    }
    assert!(w.gdap.assignments(&rid(1)).iter().any(|a| a.group == app));
    let again = o.on_relationship_event(&rid(1), Some(&t)).await.unwrap();
    match again {
        RelationshipEventOutcome::Active {
            assignments: Some(a),
            ..
        } => assert_eq!((a.counts.changed, a.counts.unchanged), (0, 1)),
        other => panic!("expected Active, got {other:?}"),
    }
    assert_eq!(w.gdap.assignment_writes(), 1);
    // An ended relationship: nothing done. An unknown one: not found.
    w.gdap.insert(
        Relationship::new(rid(2), "ended", RelationshipStatus::Terminated)
            .with_customer(tid(2), None),
    );
    assert!(matches!(
        o.on_relationship_event(&rid(2), Some(&t)).await.unwrap(),
        RelationshipEventOutcome::Ended { .. }
    ));
    let missing = o.on_relationship_event(&rid(3), None).await.unwrap_err();
    assert_eq!(
        missing.port_error().map(PortError::kind),
        Some(PortErrorKind::NotFound)
    );
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_plans_assignments_for_groups_the_setup_would_create() {
    let w = world();
    w.partner_directory.add_user(USER);
    w.gdap
        .insert(active(1, tid(1), "Alpha", "rel 1", APP_ROLES));
    let o = orchestrator(&w);
    let t = GroupTemplate::app_install();
    let setup = o.ensure_gdap_groups(&t, USER, true).await.unwrap();
    let mut plan = o.assign_groups(&rid(1), &t, true).await.unwrap();
    // Without the set-up's context the groups do not exist: failures.
    assert_eq!(plan.counts.failed, 2);
    plan.assume_planned_groups(&setup);
    assert_eq!(
        (plan.counts.planned, plan.counts.skipped, plan.counts.failed),
        (1, 1, 0),
        "{plan:#?}"
    );
    assert!(plan.groups.iter().all(|g| g.error.is_none()));
    assert_eq!(w.partner_directory.writes() + w.gdap.assignment_writes(), 0);
}
