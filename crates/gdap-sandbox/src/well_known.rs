//! Well-known identifiers used by the sandbox world: Entra role template ids, first-party app ids
//! and app-role / scope ids of the resource service principals (from `graph-gdap.md` §3 and §6).

/// Entra built-in role template ids (`roleDefinitionId` values).
pub mod roles {
    /// Global Administrator.
    pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
    /// Privileged Role Administrator.
    pub const PRIVILEGED_ROLE_ADMINISTRATOR: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
    /// Application Administrator.
    pub const APPLICATION_ADMINISTRATOR: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
    /// Cloud Application Administrator.
    pub const CLOUD_APPLICATION_ADMINISTRATOR: &str = "158c047a-c907-4556-b7ef-446551a6b5f7";
    /// Global Reader.
    pub const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
    /// Service Support Administrator.
    pub const SERVICE_SUPPORT_ADMINISTRATOR: &str = "f023fd81-a637-4b56-95fd-791ac0226033";
    /// Helpdesk Administrator.
    pub const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
    /// User Administrator.
    pub const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    /// Exchange Administrator.
    pub const EXCHANGE_ADMINISTRATOR: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";
    /// Security Reader.
    pub const SECURITY_READER: &str = "5d6b6bb7-de71-4623-b4af-96380a352509";
    /// License Administrator.
    pub const LICENSE_ADMINISTRATOR: &str = "4d6ac14f-3453-41d0-bef9-a3e0c569773a";
    /// Directory Readers.
    pub const DIRECTORY_READERS: &str = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";
    /// Groups Administrator.
    pub const GROUPS_ADMINISTRATOR: &str = "fdd7a751-b60b-444a-984c-02652fe8fa1c";
    /// Directory Writers.
    pub const DIRECTORY_WRITERS: &str = "9360feb5-f418-4baa-8175-e2a00bac4301";
    /// Privileged Authentication Administrator.
    pub const PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: &str =
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
    /// Roles the sandbox refuses in a GDAP relationship (service-only roles; see §6 of the reference).
    pub const NOT_ALLOWED_IN_GDAP: &[&str] = &[
        "4ba39ca4-527c-499a-b93d-d9b492c50246", // Partner Tier1 Support
        "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8", // Partner Tier2 Support
        "d29b2b05-8046-44ba-8758-1e26182fcf32", // Directory Synchronization Accounts
        "00cf5c54-4693-4f59-a0ac-ab79ef0a974d", // Microsoft 365 Support Engineer
    ];
}

/// First-party application ids.
pub mod apps {
    /// Microsoft Graph.
    pub const MICROSOFT_GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    /// Office 365 Exchange Online.
    pub const EXCHANGE_ONLINE: &str = "00000002-0000-0ff1-ce00-000000000000";
    /// Office 365 Management APIs.
    pub const OFFICE365_MANAGEMENT: &str = "c5393580-f805-4401-95e8-94b7a6ef2fc2";
    /// Office 365 SharePoint Online.
    pub const SHAREPOINT_ONLINE: &str = "00000003-0000-0ff1-ce00-000000000000";
    /// Microsoft Partner Center (resource of `user_impersonation`).
    pub const PARTNER_CENTER: &str = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
    /// Partner Customer Delegated Administration.
    pub const PARTNER_CUSTOMER_DELEGATED_ADMINISTRATION: &str =
        "2832473f-ec63-45fb-976f-5d45a7d4bb91";
    /// Partner Customer Delegated Admin Offline Processor (appears when a GDAP relationship is accepted).
    pub const DELEGATED_ADMIN_OFFLINE_PROCESSOR: &str = "a3475900-ccec-4a69-98f5-a65cd5dc5306";
}

/// Application permission (app role) ids.
pub mod app_roles {
    /// Graph `User.Read.All`.
    pub const GRAPH_USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";
    /// Graph `Directory.Read.All`.
    pub const GRAPH_DIRECTORY_READ_ALL: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";
    /// Graph `AuditLog.Read.All`.
    pub const GRAPH_AUDITLOG_READ_ALL: &str = "b0afded3-3588-46d8-8b3d-9842eff778da";
    /// Graph `Mail.ReadWrite`.
    pub const GRAPH_MAIL_READWRITE: &str = "e2a3a72e-5f79-4c64-b1b1-878b674786c9";
    /// Graph `MailboxSettings.ReadWrite`.
    pub const GRAPH_MAILBOXSETTINGS_READWRITE: &str = "6931bccd-447a-43d1-b442-00a195474933";
    /// Graph `Application.ReadWrite.All`.
    pub const GRAPH_APPLICATION_READWRITE_ALL: &str = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9";
    /// Graph `AppRoleAssignment.ReadWrite.All`.
    pub const GRAPH_APPROLEASSIGNMENT_READWRITE_ALL: &str = "06b708a9-e830-4db3-a914-8e69da51d44f";
    /// Graph `Policy.Read.All`.
    pub const GRAPH_POLICY_READ_ALL: &str = "246dd0d5-5bd0-4def-940b-0421030a5b68";
    /// Graph `SecurityEvents.Read.All`.
    pub const GRAPH_SECURITYEVENTS_READ_ALL: &str = "bf394140-e372-4bf9-a898-299cfc7564e5";
    /// Graph `Application.Read.All`.
    pub const GRAPH_APPLICATION_READ_ALL: &str = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30";
    /// Graph `Organization.Read.All`.
    pub const GRAPH_ORGANIZATION_READ_ALL: &str = "498476ce-e0fe-48b0-b801-37ba7e2685c6";
    /// Graph `Directory.ReadWrite.All`.
    pub const GRAPH_DIRECTORY_READWRITE_ALL: &str = "19dbc75e-c2e2-444c-a770-ec69d8559fc7";
    /// Graph `DelegatedPermissionGrant.ReadWrite.All`.
    pub const GRAPH_DELEGATEDPERMISSIONGRANT_READWRITE_ALL: &str =
        "8e8e4742-1d95-4f68-9d56-6ee75648c72a";
    /// Graph `DelegatedAdminRelationship.ReadWrite.All`.
    pub const GRAPH_DELEGATEDADMINRELATIONSHIP_READWRITE_ALL: &str =
        "cc13eba4-8cd8-44c6-b4d4-f93237adce58";
    /// Exchange Online `Exchange.ManageAsApp`.
    pub const EXCHANGE_MANAGE_AS_APP: &str = "dc50a0fb-09a3-484d-be87-e023b12c6440";
    /// Exchange Online `full_access_as_app`.
    pub const EXCHANGE_FULL_ACCESS_AS_APP: &str = "dc890d15-9560-4a4c-9b7f-a736ec74ec40";
    /// Office 365 Management APIs `ActivityFeed.Read`.
    pub const MANAGEMENT_ACTIVITYFEED_READ: &str = "594c1fb6-4f81-4475-ae41-0c394909246c";
}

/// Token scope strings.
pub mod scopes {
    /// Graph `.default` scope.
    pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
    /// Graph resource prefix (specific scopes are `{GRAPH_RESOURCE}/X.Y`).
    pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
    /// Partner Center `.default` scope.
    pub const PARTNER_CENTER_DEFAULT: &str = "https://api.partnercenter.microsoft.com/.default";
    /// Partner Center delegated scope.
    pub const PARTNER_CENTER_USER_IMPERSONATION: &str =
        "https://api.partnercenter.microsoft.com/user_impersonation";
    /// Partner Center resource (audience).
    pub const PARTNER_CENTER_RESOURCE: &str = "https://api.partnercenter.microsoft.com";
}
