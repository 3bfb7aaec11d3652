//! The partner tenant's own directory (security groups, users) and its Partner Center webhook
//! registration, in domain terms.
//!
//! These are what [`crate::ports::PartnerDirectory`] and the webhook methods of
//! [`crate::ports::PartnerCenter`] speak; the adapters convert from the clients' models.

use gdap_core::{SecurityGroupId, UserId};
use serde::Serialize;

/// The name of the partner tenant's group whose members act as admin agents in Partner Center
/// (seed 001 step 3).
pub const ADMIN_AGENTS_GROUP: &str = "AdminAgents";

/// A security group of the partner tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SecurityGroup {
    /// Its object id (what access assignments name).
    pub id: SecurityGroupId,
    /// Its display name (not unique in Entra ID).
    pub display_name: String,
    /// Its description, when set.
    pub description: Option<String>,
}

impl SecurityGroup {
    /// A group.
    pub fn new(id: SecurityGroupId, display_name: impl Into<String>) -> Self {
        Self {
            id,
            display_name: display_name.into(),
            description: None,
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// A user of the partner tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PartnerUser {
    /// Its object id.
    pub id: UserId,
    /// Its sign-in name.
    pub user_principal_name: String,
    /// Its display name, when known.
    pub display_name: Option<String>,
}

impl PartnerUser {
    /// A user.
    pub fn new(id: UserId, user_principal_name: impl Into<String>) -> Self {
        Self {
            id,
            user_principal_name: user_principal_name.into(),
            display_name: None,
        }
    }
}

/// What kind of directory object a group member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum MemberKind {
    /// A user.
    User,
    /// A (nested) group.
    Group,
    /// A service principal, device, contact, …
    Other,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupMember {
    /// Its object id (lower-case GUID text).
    pub id: String,
    /// What it is.
    pub kind: MemberKind,
    /// Its display name or sign-in name, when known.
    pub name: Option<String>,
}

impl GroupMember {
    /// A member.
    pub fn new(id: impl Into<String>, kind: MemberKind, name: Option<String>) -> Self {
        Self {
            id: id.into().to_ascii_lowercase(),
            kind,
            name,
        }
    }

    /// Whether this member is `user`.
    pub fn is_user(&self, user: &UserId) -> bool {
        self.kind == MemberKind::User && self.id.eq_ignore_ascii_case(&user.to_string())
    }
}

/// The partner's Partner Center webhook registration (one per partner tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookRegistration {
    /// The callback URL.
    pub url: String,
    /// The events delivered to it.
    pub events: Vec<String>,
}

impl WebhookRegistration {
    /// A registration.
    pub fn new<I, S>(url: impl Into<String>, events: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            url: url.into(),
            events: events.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether it delivers `event`.
    pub fn has_event(&self, event: &str) -> bool {
        self.events.iter().any(|e| e.eq_ignore_ascii_case(event))
    }
}

/// The Partner Center events that say a GDAP relationship was approved or became active.
pub const APPROVAL_EVENTS: &[&str] = &[
    "granular-admin-relationship-approved",
    "granular-admin-relationship-activated",
];
