//! The application catalogue: every application that may have a service principal in a tenant.

use crate::well_known::{app_roles as ar, apps};

/// An application permission (app role) a resource application declares.
#[derive(Debug, Clone)]
pub(crate) struct AppRoleDef {
    pub(crate) id: &'static str,
    pub(crate) value: &'static str,
    pub(crate) display_name: &'static str,
}

/// A delegated permission (oauth2PermissionScope) a resource application declares.
#[derive(Debug, Clone)]
pub(crate) struct ScopeDef {
    pub(crate) id: &'static str,
    pub(crate) value: &'static str,
    pub(crate) admin_only: bool,
}

/// An application registration known to the sandbox.
#[derive(Debug, Clone)]
pub(crate) struct AppDef {
    pub(crate) app_id: String,
    pub(crate) display_name: String,
    pub(crate) owner_tenant: String,
    pub(crate) app_roles: Vec<AppRoleDef>,
    pub(crate) scopes: Vec<ScopeDef>,
}

impl AppDef {
    pub(crate) fn app_role(&self, id: &str) -> Option<&AppRoleDef> {
        self.app_roles
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
    }

    pub(crate) fn has_scope(&self, value: &str) -> bool {
        self.scopes
            .iter()
            .any(|s| s.value.eq_ignore_ascii_case(value))
    }
}

const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

const fn role(id: &'static str, value: &'static str, display_name: &'static str) -> AppRoleDef {
    AppRoleDef {
        id,
        value,
        display_name,
    }
}

const fn scope(id: &'static str, value: &'static str, admin_only: bool) -> ScopeDef {
    ScopeDef {
        id,
        value,
        admin_only,
    }
}

fn graph() -> AppDef {
    AppDef {
        app_id: apps::MICROSOFT_GRAPH.into(),
        display_name: "Microsoft Graph".into(),
        owner_tenant: MICROSOFT_TENANT.into(),
        app_roles: vec![
            role(
                ar::GRAPH_USER_READ_ALL,
                "User.Read.All",
                "Read all users' full profiles",
            ),
            role(
                ar::GRAPH_DIRECTORY_READ_ALL,
                "Directory.Read.All",
                "Read directory data",
            ),
            role(
                ar::GRAPH_DIRECTORY_READWRITE_ALL,
                "Directory.ReadWrite.All",
                "Read and write directory data",
            ),
            role(
                ar::GRAPH_AUDITLOG_READ_ALL,
                "AuditLog.Read.All",
                "Read all audit log data",
            ),
            role(
                ar::GRAPH_MAIL_READWRITE,
                "Mail.ReadWrite",
                "Read and write mail in all mailboxes",
            ),
            role(
                "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
                "Mail.Read",
                "Read mail in all mailboxes",
            ),
            role(
                ar::GRAPH_MAILBOXSETTINGS_READWRITE,
                "MailboxSettings.ReadWrite",
                "Read and write all user mailbox settings",
            ),
            role(
                ar::GRAPH_APPLICATION_READ_ALL,
                "Application.Read.All",
                "Read all applications",
            ),
            role(
                ar::GRAPH_APPLICATION_READWRITE_ALL,
                "Application.ReadWrite.All",
                "Read and write all applications",
            ),
            role(
                ar::GRAPH_APPROLEASSIGNMENT_READWRITE_ALL,
                "AppRoleAssignment.ReadWrite.All",
                "Manage app permission grants and app role assignments",
            ),
            role(
                ar::GRAPH_DELEGATEDPERMISSIONGRANT_READWRITE_ALL,
                "DelegatedPermissionGrant.ReadWrite.All",
                "Manage all delegated permission grants",
            ),
            role(
                ar::GRAPH_POLICY_READ_ALL,
                "Policy.Read.All",
                "Read your organization's policies",
            ),
            role(
                ar::GRAPH_SECURITYEVENTS_READ_ALL,
                "SecurityEvents.Read.All",
                "Read your organization's security events",
            ),
            role(
                ar::GRAPH_ORGANIZATION_READ_ALL,
                "Organization.Read.All",
                "Read organization information",
            ),
            role(
                "5b567255-7703-4780-807c-7be8301ae99b",
                "Group.Read.All",
                "Read all groups",
            ),
            role(
                ar::GRAPH_DELEGATEDADMINRELATIONSHIP_READWRITE_ALL,
                "DelegatedAdminRelationship.ReadWrite.All",
                "Manage Delegated Admin relationships with customers",
            ),
        ],
        scopes: vec![
            scope("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", false),
            scope(
                "a154be20-db9c-4678-8ab7-66f6cc099a59",
                "User.Read.All",
                true,
            ),
            scope(
                "06da0dbc-49e2-44d2-8312-53f166ab848a",
                "Directory.Read.All",
                true,
            ),
            scope(
                "c5366453-9fb0-48a5-a156-24f0c49a4b84",
                "Directory.ReadWrite.All",
                true,
            ),
            scope("570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "Mail.Read", false),
            scope(
                "024d486e-b451-40bb-833d-3e66d98c5c73",
                "Mail.ReadWrite",
                false,
            ),
            scope(
                "818c620a-27a9-40bd-a6a5-d96f7d610b4b",
                "MailboxSettings.ReadWrite",
                false,
            ),
            scope(
                "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20",
                "AuditLog.Read.All",
                true,
            ),
            scope(
                "4908d5b9-3fb2-4b1e-9336-1888b7937185",
                "Organization.Read.All",
                true,
            ),
            scope(
                "c5366453-9fb0-48a5-a156-24f0c49a4b85",
                "Application.Read.All",
                true,
            ),
            scope(
                "bdfbf15f-ee85-4955-8675-146e8e5296b5",
                "Application.ReadWrite.All",
                true,
            ),
            scope(
                "84bccea3-f856-4a8a-967b-dbe0a3d53a64",
                "AppRoleAssignment.ReadWrite.All",
                true,
            ),
            scope(
                "41ce6ca6-6826-4807-84f1-1c82854f7ee5",
                "DelegatedPermissionGrant.ReadWrite.All",
                true,
            ),
            scope(
                "0c0064ea-477b-4130-82a5-4c2cc4ff68aa",
                "DelegatedAdminRelationship.Read.All",
                true,
            ),
            scope(
                "885f682f-a990-4bad-a642-36736a74b0c7",
                "DelegatedAdminRelationship.ReadWrite.All",
                true,
            ),
            scope(
                "572fea84-0151-49b2-9301-11cb16974376",
                "Policy.Read.All",
                true,
            ),
            scope(
                "64733abd-851e-478a-bffb-e47a14b18235",
                "SecurityEvents.Read.All",
                true,
            ),
            scope(
                "5f8c59db-677d-491f-a6b8-5f174b11ec1d",
                "Group.Read.All",
                true,
            ),
            scope(
                "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
                "offline_access",
                false,
            ),
            scope("37f7f235-527c-4136-accd-4a02d197296e", "openid", false),
            scope("14dad69e-099b-42c9-810b-d002981feec1", "profile", false),
        ],
    }
}

fn exchange() -> AppDef {
    AppDef {
        app_id: apps::EXCHANGE_ONLINE.into(),
        display_name: "Office 365 Exchange Online".into(),
        owner_tenant: MICROSOFT_TENANT.into(),
        app_roles: vec![
            role(
                ar::EXCHANGE_MANAGE_AS_APP,
                "Exchange.ManageAsApp",
                "Manage Exchange As Application",
            ),
            role(
                ar::EXCHANGE_FULL_ACCESS_AS_APP,
                "full_access_as_app",
                "Use Exchange Web Services with full access to all mailboxes",
            ),
        ],
        scopes: vec![
            scope(
                "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
                "EWS.AccessAsUser.All",
                false,
            ),
            scope(
                "ab4f2b77-0b06-4fc1-a9de-02113fc2ab7c",
                "Exchange.Manage",
                true,
            ),
        ],
    }
}

fn management() -> AppDef {
    AppDef {
        app_id: apps::OFFICE365_MANAGEMENT.into(),
        display_name: "Office 365 Management APIs".into(),
        owner_tenant: MICROSOFT_TENANT.into(),
        app_roles: vec![
            role(
                ar::MANAGEMENT_ACTIVITYFEED_READ,
                "ActivityFeed.Read",
                "Read activity data for your organization",
            ),
            role(
                "4807a72c-ad38-4250-94c9-4eabfe26cd55",
                "ActivityFeed.ReadDlp",
                "Read DLP policy events including detected sensitive data",
            ),
            role(
                "e2cea78f-e743-4d8f-a16a-75b629a038ae",
                "ServiceHealth.Read",
                "Read service health information for your organization",
            ),
        ],
        scopes: vec![
            scope(
                "b3b78c39-cb1d-4d17-820a-25d9196a800e",
                "ActivityFeed.Read",
                true,
            ),
            scope(
                "17f1c501-83cd-414c-9064-cd10f7aef836",
                "ServiceHealth.Read",
                true,
            ),
        ],
    }
}

fn plain(app_id: &str, name: &str, scopes: Vec<ScopeDef>) -> AppDef {
    AppDef {
        app_id: app_id.into(),
        display_name: name.into(),
        owner_tenant: MICROSOFT_TENANT.into(),
        app_roles: Vec::new(),
        scopes,
    }
}

/// Index of each first-party application in the catalogue built by [`first_party`].
pub(crate) const GRAPH: usize = 0;
pub(crate) const EXCHANGE: usize = 1;
pub(crate) const MANAGEMENT: usize = 2;
pub(crate) const PARTNER_CENTER: usize = 4;
pub(crate) const PCDA: usize = 5;
pub(crate) const OFFLINE_PROCESSOR: usize = 6;

/// The first-party applications, in the index order above.
pub(crate) fn first_party() -> Vec<AppDef> {
    vec![
        graph(),
        exchange(),
        management(),
        plain(
            apps::SHAREPOINT_ONLINE,
            "Office 365 SharePoint Online",
            vec![scope(
                "56680e0d-d2a3-4ae1-80d8-3c4f2100e3d0",
                "AllSites.FullControl",
                true,
            )],
        ),
        plain(
            apps::PARTNER_CENTER,
            "Microsoft Partner Center",
            vec![scope(
                "1cebfa2a-fb4d-419e-b5f9-839b4383e05a",
                "user_impersonation",
                false,
            )],
        ),
        plain(
            apps::PARTNER_CUSTOMER_DELEGATED_ADMINISTRATION,
            "Partner Customer Delegated Administration",
            Vec::new(),
        ),
        plain(
            apps::DELEGATED_ADMIN_OFFLINE_PROCESSOR,
            "Partner Customer Delegated Admin Offline Processor",
            Vec::new(),
        ),
    ]
}
