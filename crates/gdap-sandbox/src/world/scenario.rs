//! World helpers for end-to-end tests of relationship lifecycle workflows: partner groups and
//! users, customers with a ready-made active relationship, drift seeding (assignments that point
//! at unknown groups or carry roles the relationship lacks) and read-backs.
//!
//! They act directly on the stored state: no HTTP request is made or counted, nothing is
//! validated beyond the ids named, and times are the world's current time (a running sandbox
//! brings the world up to date before `SandboxHandle::with_world_mut` runs the closure).

use super::World;
use super::catalog;
use super::model::*;
use super::snapshot::AccessAssignmentSnapshot;
use crate::SandboxError;

/// Lower-case, deduplicated role ids in the given order.
fn role_list(roles: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for r in roles {
        let r = r.to_ascii_lowercase();
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// A mail nickname derived from a display name: ASCII letters, digits, `_` and `.` kept, runs of
/// anything else turned into one `-`, at most 64 characters, never empty.
pub(crate) fn nickname_for(display_name: &str) -> String {
    let mut out = String::new();
    for c in display_name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(64).collect();
    if out.is_empty() {
        "group".to_string()
    } else {
        out
    }
}

impl World {
    // ------------------------------------------------------------ partner directory

    /// Creates a security group in the partner tenant (not mail-enabled, assigned membership)
    /// and returns its id. The mail nickname is derived from the display name. Display names
    /// are not unique (as in Entra ID): a second group with the same name is a second group.
    pub fn add_partner_group(&mut self, display_name: &str) -> String {
        let nick = nickname_for(display_name);
        let now = self.now;
        self.create_partner_group(display_name, &nick, None, now)
    }

    /// Deletes a partner security group and every membership in it. Access assignments that
    /// name the group are left alone and keep pointing at the now-stale id (drift).
    ///
    /// # Errors
    /// [`SandboxError::NotFound`] for an unknown group.
    pub fn delete_partner_group(&mut self, id: &str) -> Result<(), SandboxError> {
        let before = self.partner.groups.len();
        self.partner
            .groups
            .retain(|g| !g.id.eq_ignore_ascii_case(id));
        if self.partner.groups.len() == before {
            return Err(SandboxError::NotFound(format!("group {id}")));
        }
        for u in &mut self.partner.users {
            u.groups.retain(|g| !g.eq_ignore_ascii_case(id));
        }
        Ok(())
    }

    /// Adds a user to the partner tenant and returns its id: no home directory roles, no group
    /// memberships, sign-ins with the `mfa` amr claim when `mfa` is true. The display name is the
    /// UPN's local part. When a user with that UPN (case-insensitive) exists, its id is returned
    /// and nothing changes.
    pub fn add_partner_user(&mut self, upn: &str, mfa: bool) -> String {
        if let Some(u) = self.user_by_upn(upn) {
            return u.id.clone();
        }
        let id = self.new_uuid();
        let display_name = upn.split('@').next().unwrap_or(upn).to_string();
        self.partner.users.push(User {
            id: id.clone(),
            upn: upn.to_string(),
            display_name,
            mfa,
            home_roles: Vec::new(),
            groups: Vec::new(),
        });
        id
    }

    /// User ids of the direct members of a partner group, in user order (empty for an unknown
    /// group). Membership is what customer-tenant token issuance reads.
    pub fn partner_group_members(&self, group_id: &str) -> Vec<String> {
        self.partner
            .users
            .iter()
            .filter(|u| u.groups.iter().any(|g| g.eq_ignore_ascii_case(group_id)))
            .map(|u| u.id.clone())
            .collect()
    }

    /// Ids of the partner groups whose display name equals `display_name` (case-insensitive, as
    /// Graph's `displayName eq '…'`), in creation order.
    pub fn find_partner_groups(&self, display_name: &str) -> Vec<String> {
        self.partner
            .groups
            .iter()
            .filter(|g| g.display_name.eq_ignore_ascii_case(display_name))
            .map(|g| g.id.clone())
            .collect()
    }

    // ------------------------------------------------------------ customers and relationships

    /// Adds a customer tenant with one **active** relationship and returns
    /// `(customer tenant id, relationship id)`.
    ///
    /// The tenant gets the resource service principals every seeded customer has (Microsoft
    /// Graph, Exchange Online, Office 365 Management APIs) plus the Delegated Admin Offline
    /// Processor, 25 users, and is listed by Partner Center (`relationshipToPartner: reseller`,
    /// snapshot profile `custom`). The relationship has the given role template ids, duration
    /// `P730D`, was activated a year ago (so it ends in about a year) and has the given
    /// `autoExtendDuration` (`"PT0S"`, `"P0D"` or `"P180D"`; not validated). It has no access
    /// assignments and the product app is not consented.
    pub fn add_customer_with_relationship(
        &mut self,
        display_name: &str,
        roles: &[&str],
        auto_extend: &str,
    ) -> (String, String) {
        let now = self.now;
        let tid = self.new_uuid();
        let compact: String = display_name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(24)
            .collect::<String>()
            .to_ascii_lowercase();
        let compact = if compact.is_empty() {
            "customer".to_string()
        } else {
            compact
        };
        let mut domain = format!("{compact}.onmicrosoft.com");
        let mut n = 1;
        while self
            .tenants
            .iter()
            .any(|t| t.domain.eq_ignore_ascii_case(&domain))
        {
            n += 1;
            domain = format!("{compact}{n}.onmicrosoft.com");
        }
        let created = now - 400 * DAY;
        let t = self.tenants.len();
        self.tenant_index.insert(tid.clone(), t);
        self.tenants.push(Tenant {
            id: tid.clone(),
            display_name: display_name.to_string(),
            domain,
            user_count: 25,
            is_own: false,
            legacy: false,
            previously_deleted: false,
            profile: "custom",
            created,
            country: "US",
            relationship_to_partner: "reseller",
            rels: Vec::new(),
            sps: Vec::new(),
            app_role_assignments: Vec::new(),
            grants: Vec::new(),
            consents: Vec::new(),
        });
        for app in [catalog::GRAPH, catalog::EXCHANGE, catalog::MANAGEMENT] {
            self.ensure_sp(t, app, created + DAY);
        }

        let seq = self.next_rel_seq;
        self.next_rel_seq += 1;
        let id = format!("{}-{}", self.new_uuid(), self.new_uuid());
        let mut name = format!("SandboxMSP_{t:05}_1");
        let mut k = 1;
        while self
            .relationships
            .values()
            .any(|r| r.display_name.eq_ignore_ascii_case(&name))
        {
            k += 1;
            name = format!("SandboxMSP_{t:05}_{k}");
        }
        let duration_ms = 730 * DAY;
        let activated = now - 365 * DAY;
        let end = activated + duration_ms;
        let rel_created = activated - HOUR;
        let etag = self.next_etag();
        let request_etag = self.next_etag();
        let request_id = self.new_uuid();
        let rel = Relationship {
            seq,
            id: id.clone(),
            display_name: name,
            duration: "P730D".into(),
            duration_ms,
            auto_extend: auto_extend.to_string(),
            roles: role_list(roles),
            customer: Some((tid.clone(), display_name.to_string())),
            status: "active".into(),
            created: rel_created,
            last_modified: activated,
            activated: Some(activated),
            end: Some(end),
            etag,
            reseller: None,
            assignments: Vec::new(),
            operations: Vec::new(),
            requests: vec![RelRequest {
                id: request_id,
                action: "lockForApproval".into(),
                status: "succeeded".into(),
                created: rel_created + 60 * SEC,
                last_modified: rel_created + 61 * SEC,
                etag: request_etag,
            }],
        };
        self.relationship_index.insert(id.clone(), seq);
        self.relationships.insert(seq, rel);
        self.tenants[t].rels.push(seq);
        self.schedule(end, Event::RelationshipEnd { rel: seq, at: end });
        self.ensure_sp(t, catalog::OFFLINE_PROCESSOR, activated);
        (tid, id)
    }

    /// Adds an access assignment to a relationship without any of the HTTP checks: the group id
    /// may be unknown, the roles need not be the relationship's, the relationship may be in any
    /// status. Status `active` when `active`, else `pending` (it stays pending; see
    /// [`World::set_access_assignment_status`]). Returns the assignment id.
    ///
    /// # Errors
    /// [`SandboxError::NotFound`] for an unknown relationship.
    pub fn insert_access_assignment(
        &mut self,
        relationship_id: &str,
        group_id: &str,
        roles: &[&str],
        active: bool,
    ) -> Result<String, SandboxError> {
        let seq = self
            .rel_seq(relationship_id)
            .ok_or_else(|| SandboxError::NotFound(format!("relationship {relationship_id}")))?;
        let id = self.new_uuid();
        let etag = self.next_etag();
        let now = self.now;
        let a = Assignment {
            id: id.clone(),
            group_id: group_id.to_ascii_lowercase(),
            roles: role_list(roles),
            status: if active { "active" } else { "pending" }.into(),
            created: now,
            last_modified: now,
            etag,
        };
        if let Some(r) = self.relationships.get_mut(&seq) {
            r.assignments.push(a);
        }
        Ok(id)
    }

    /// Sets the raw status of an access assignment (`pending`, `active`, `deleting`, `deleted`,
    /// `error`, or anything else) with a new ETag.
    ///
    /// # Errors
    /// [`SandboxError::NotFound`] for an unknown relationship or assignment.
    pub fn set_access_assignment_status(
        &mut self,
        relationship_id: &str,
        assignment_id: &str,
        status: &str,
    ) -> Result<(), SandboxError> {
        let seq = self
            .rel_seq(relationship_id)
            .ok_or_else(|| SandboxError::NotFound(format!("relationship {relationship_id}")))?;
        let etag = self.next_etag();
        let now = self.now;
        let a = self
            .relationships
            .get_mut(&seq)
            .and_then(|r| {
                r.assignments
                    .iter_mut()
                    .find(|a| a.id.eq_ignore_ascii_case(assignment_id))
            })
            .ok_or_else(|| SandboxError::NotFound(format!("access assignment {assignment_id}")))?;
        a.status = status.to_string();
        a.last_modified = now;
        a.etag = etag;
        Ok(())
    }

    /// Replaces a relationship's role template ids as stored (no validation, no operation; the
    /// ETag changes). Access assignments keep their roles.
    ///
    /// # Errors
    /// [`SandboxError::NotFound`] for an unknown relationship.
    pub fn set_relationship_roles(&mut self, id: &str, roles: &[&str]) -> Result<(), SandboxError> {
        let seq = self
            .rel_seq(id)
            .ok_or_else(|| SandboxError::NotFound(format!("relationship {id}")))?;
        let etag = self.next_etag();
        let now = self.now;
        if let Some(r) = self.relationships.get_mut(&seq) {
            r.roles = role_list(roles);
            r.last_modified = now;
            r.etag = etag;
        }
        Ok(())
    }

    /// A relationship's `autoExtendDuration`, or `None` for an unknown relationship.
    pub fn relationship_auto_extend(&self, id: &str) -> Option<String> {
        let seq = self.rel_seq(id)?;
        self.relationships.get(&seq).map(|r| r.auto_extend.clone())
    }

    /// A relationship's role template ids, or `None` for an unknown relationship.
    pub fn relationship_roles(&self, id: &str) -> Option<Vec<String>> {
        let seq = self.rel_seq(id)?;
        self.relationships.get(&seq).map(|r| r.roles.clone())
    }

    /// The access assignments of a relationship (every status, deleted ones included), in
    /// creation order; empty for an unknown relationship.
    pub fn access_assignments_of(&self, relationship_id: &str) -> Vec<AccessAssignmentSnapshot> {
        let Some(r) = self
            .rel_seq(relationship_id)
            .and_then(|s| self.relationships.get(&s))
        else {
            return Vec::new();
        };
        r.assignments
            .iter()
            .map(|a| AccessAssignmentSnapshot {
                id: a.id.clone(),
                status: a.status.clone(),
                group_id: a.group_id.clone(),
                roles: a.roles.clone(),
            })
            .collect()
    }

    // ------------------------------------------------------------ Partner Center webhooks

    /// Sets the partner's (single) Partner Center webhook registration, as another tool would
    /// have: replaces any existing one and keeps its subscriber id. Events are not validated.
    pub fn set_webhook_registration(&mut self, url: &str, events: &[&str]) {
        let now = self.now;
        let subscriber_id = match &self.webhook {
            Some(h) => h.subscriber_id.clone(),
            None => self.new_uuid(),
        };
        self.webhook = Some(Webhook {
            subscriber_id,
            url: url.to_string(),
            events: events.iter().map(|e| (*e).to_string()).collect(),
            last_modified: now,
        });
    }

    /// The webhook registration as `(url, events)`, or `None` when there is none.
    pub fn webhook_registration(&self) -> Option<(String, Vec<String>)> {
        self.webhook
            .as_ref()
            .map(|h| (h.url.clone(), h.events.clone()))
    }

    /// Removes the webhook registration; returns whether there was one.
    pub fn clear_webhook_registration(&mut self) -> bool {
        self.webhook.take().is_some()
    }

    // ------------------------------------------------------------ internal

    /// Creates a partner security group; returns its id.
    pub(crate) fn create_partner_group(
        &mut self,
        display_name: &str,
        mail_nickname: &str,
        description: Option<&str>,
        now: Ms,
    ) -> String {
        let id = self.new_uuid();
        self.partner.groups.push(Group {
            id: id.clone(),
            display_name: display_name.to_string(),
            mail_nickname: mail_nickname.to_string(),
            description: description.map(str::to_string),
            created: now,
        });
        id
    }

    /// The partner group with id `id` (case-insensitive).
    pub(crate) fn partner_group(&self, id: &str) -> Option<&Group> {
        self.partner
            .groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(id))
    }
}

#[cfg(test)]
mod tests;
