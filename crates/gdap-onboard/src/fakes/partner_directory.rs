//! [`FakePartnerDirectory`]: the partner tenant's groups and users, in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use gdap_core::{SecurityGroupId, UserId};

use super::{Script, lock};
use crate::partner_directory::{GroupMember, MemberKind, PartnerUser, SecurityGroup};
use crate::port_error::{PortError, PortErrorKind};
use crate::ports::PartnerDirectory;

#[derive(Debug, Default)]
struct DirectoryState {
    groups: BTreeMap<SecurityGroupId, SecurityGroup>,
    users: BTreeMap<UserId, PartnerUser>,
    members: BTreeMap<SecurityGroupId, BTreeSet<UserId>>,
    script: Script,
    writes: usize,
}

/// An in-memory partner directory. Group names are not unique (as in Entra ID); adding an
/// existing member is `AlreadyExists` (Graph's 400 "One or more added object references already
/// exist").
#[derive(Debug, Default)]
pub struct FakePartnerDirectory {
    state: Mutex<DirectoryState>,
}

impl FakePartnerDirectory {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user.
    pub fn add_user(&self, upn: &str) -> UserId {
        let id = UserId::new_random();
        let mut u = PartnerUser::new(id, upn);
        u.display_name = Some(upn.split('@').next().unwrap_or(upn).to_owned());
        lock(&self.state).users.insert(id, u);
        id
    }

    /// Adds a group (names may repeat).
    pub fn add_group(&self, display_name: &str) -> SecurityGroupId {
        let id = SecurityGroupId::new_random();
        lock(&self.state)
            .groups
            .insert(id, SecurityGroup::new(id, display_name));
        id
    }

    /// Deletes a group and its memberships (assignments naming it go stale).
    pub fn delete_group(&self, id: &SecurityGroupId) {
        let mut s = lock(&self.state);
        s.groups.remove(id);
        s.members.remove(id);
    }

    /// Makes `user` a member of `group`.
    pub fn add_member(&self, group: &SecurityGroupId, user: &UserId) {
        lock(&self.state)
            .members
            .entry(*group)
            .or_default()
            .insert(*user);
    }

    /// The groups named `display_name`.
    pub fn groups_named(&self, display_name: &str) -> Vec<SecurityGroup> {
        lock(&self.state)
            .groups
            .values()
            .filter(|g| g.display_name.eq_ignore_ascii_case(display_name))
            .cloned()
            .collect()
    }

    /// Whether `user` is in `group`.
    pub fn is_member(&self, group: &SecurityGroupId, user: &UserId) -> bool {
        lock(&self.state)
            .members
            .get(group)
            .is_some_and(|m| m.contains(user))
    }

    /// How many writes (group creates, member adds) were attempted.
    pub fn writes(&self) -> usize {
        lock(&self.state).writes
    }

    /// Makes the next `op` call (`"find_groups_by_name"`, `"create_security_group"`,
    /// `"add_group_member"`, `"list_group_members"`, `"find_user"`, `"list_user_groups"`,
    /// `"get_group"`) fail with `error`.
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
}

#[async_trait]
impl PartnerDirectory for FakePartnerDirectory {
    async fn find_groups_by_name(
        &self,
        display_name: &str,
    ) -> Result<Vec<SecurityGroup>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("find_groups_by_name", display_name)?;
        Ok(s.groups
            .values()
            .filter(|g| g.display_name.eq_ignore_ascii_case(display_name))
            .cloned()
            .collect())
    }

    async fn get_group(&self, id: &SecurityGroupId) -> Result<Option<SecurityGroup>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("get_group", id)?;
        Ok(s.groups.get(id).cloned())
    }

    async fn create_security_group(
        &self,
        display_name: &str,
        description: &str,
    ) -> Result<SecurityGroup, PortError> {
        let mut s = lock(&self.state);
        s.writes += 1;
        s.script.call("create_security_group", display_name)?;
        let n = display_name.chars().count();
        if n == 0 || n > 256 {
            return Err(PortError::http(
                400,
                Some("Request_BadRequest"),
                "displayName must be 1..256 characters",
            ));
        }
        let id = SecurityGroupId::new_random();
        let g = SecurityGroup::new(id, display_name).with_description(description);
        s.groups.insert(id, g.clone());
        Ok(g)
    }

    async fn list_group_members(
        &self,
        group: &SecurityGroupId,
    ) -> Result<Vec<GroupMember>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("list_group_members", group)?;
        if !s.groups.contains_key(group) {
            return Err(PortError::not_found(format!("group {group}")));
        }
        let ids = s.members.get(group).cloned().unwrap_or_default();
        Ok(ids
            .iter()
            .map(|u| {
                let name = s.users.get(u).map(|x| x.user_principal_name.clone());
                GroupMember::new(u.to_string(), MemberKind::User, name)
            })
            .collect())
    }

    async fn add_group_member(
        &self,
        group: &SecurityGroupId,
        user: &UserId,
    ) -> Result<(), PortError> {
        let mut s = lock(&self.state);
        s.writes += 1;
        s.script.call("add_group_member", group)?;
        if !s.groups.contains_key(group) || !s.users.contains_key(user) {
            return Err(PortError::not_found("group or user"));
        }
        if !s.members.entry(*group).or_default().insert(*user) {
            return Err(PortError::http(
                400,
                Some("Request_BadRequest"),
                "One or more added object references already exist for the following modified properties: 'members'.",
            )
            .with_kind(PortErrorKind::AlreadyExists));
        }
        Ok(())
    }

    async fn find_user(&self, user: &str) -> Result<Option<PartnerUser>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("find_user", user)?;
        Ok(s.users
            .values()
            .find(|u| {
                u.user_principal_name.eq_ignore_ascii_case(user)
                    || u.id.to_string().eq_ignore_ascii_case(user)
            })
            .cloned())
    }

    async fn list_user_groups(&self, user: &UserId) -> Result<Vec<SecurityGroup>, PortError> {
        let mut s = lock(&self.state);
        s.script.call("list_user_groups", user)?;
        Ok(s.members
            .iter()
            .filter(|(_, m)| m.contains(user))
            .filter_map(|(g, _)| s.groups.get(g).cloned())
            .collect())
    }
}
