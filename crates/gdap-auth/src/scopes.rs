//! Scope strings of the resources the partner app talks to.

/// Microsoft Graph, all statically consented permissions (use for every Graph token request).
pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// Partner Center, all statically consented permissions.
pub const PARTNER_CENTER_DEFAULT: &str = "https://api.partnercenter.microsoft.com/.default";

/// Partner Center's delegated permission (App+User).
pub const PARTNER_CENTER_USER_IMPERSONATION: &str =
    "https://api.partnercenter.microsoft.com/user_impersonation";

/// Ask for a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The Graph delegated permissions the partner admin consents to on Connect.
pub const GRAPH_CONNECT_SCOPES: &[&str] = &[
    "https://graph.microsoft.com/DelegatedAdminRelationship.Read.All",
    "https://graph.microsoft.com/DelegatedAdminRelationship.ReadWrite.All",
    "https://graph.microsoft.com/User.Read.All",
    "https://graph.microsoft.com/Organization.Read.All",
    "https://graph.microsoft.com/Directory.ReadWrite.All",
    "https://graph.microsoft.com/Application.ReadWrite.All",
    "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
    "https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All",
];

/// Everything the Connect / Re-authenticate sign-in asks consent for: the eight Graph delegated
/// permissions, Partner Center `user_impersonation`, and `offline_access`.
pub const PARTNER_CONNECT_SCOPES: &[&str] = &[
    "https://graph.microsoft.com/DelegatedAdminRelationship.Read.All",
    "https://graph.microsoft.com/DelegatedAdminRelationship.ReadWrite.All",
    "https://graph.microsoft.com/User.Read.All",
    "https://graph.microsoft.com/Organization.Read.All",
    "https://graph.microsoft.com/Directory.ReadWrite.All",
    "https://graph.microsoft.com/Application.ReadWrite.All",
    "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
    "https://graph.microsoft.com/DelegatedPermissionGrant.ReadWrite.All",
    PARTNER_CENTER_USER_IMPERSONATION,
    OFFLINE_ACCESS,
];

/// OpenID Connect scopes that name no resource.
pub(crate) fn is_reserved(scope: &str) -> bool {
    ["offline_access", "openid", "profile", "email"]
        .iter()
        .any(|r| scope.eq_ignore_ascii_case(r))
}

/// The resource part of a scope URI (`https://graph.microsoft.com` of
/// `https://graph.microsoft.com/User.Read.All`); bare names count as Graph.
pub(crate) fn resource_of(scope: &str) -> String {
    match scope.rfind('/') {
        Some(i) if scope.contains("://") => scope[..i].to_ascii_lowercase(),
        _ => "https://graph.microsoft.com".to_owned(),
    }
}

/// Validates caller scopes: non-empty list, no empty entries, no whitespace inside one.
pub(crate) fn validate(scopes: &[&str]) -> crate::Result<()> {
    if scopes.is_empty() {
        return Err(crate::Error::invalid_input(
            "scopes",
            "at least one scope is required",
        ));
    }
    if scopes
        .iter()
        .any(|s| s.trim().is_empty() || s.chars().any(char::is_whitespace))
    {
        return Err(crate::Error::invalid_input(
            "scopes",
            "each scope must be one non-empty token without whitespace",
        ));
    }
    Ok(())
}
