//! `user` of a directory.

use gdap_core::UserId;
use serde::{Deserialize, Serialize};

/// `user` (the properties this crate selects). Unknown properties are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Object id.
    pub id: UserId,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Sign-in name, e.g. `adele@contoso.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// Primary SMTP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// Whether the account can sign in (Graph returns it only when selected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
}
