//! [`AppManifest`]: the app an ISV installs in its customers' tenants.
//!
//! Nothing here is specific to one vendor: the application id, the delegated scopes and the
//! application roles per resource (Microsoft Graph, Exchange Online, Office 365 Management APIs,
//! …) are data. [`AppManifest::sample_security_app`] is an example security app.

use std::str::FromStr;

use gdap_core::AppId;
use gdap_core::roles;
use serde::Serialize;

use crate::readiness::RoleRequirement;

/// Well-known resource application ids (graph-gdap.md §3.3).
pub mod resources {
    /// Microsoft Graph.
    pub const MICROSOFT_GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    /// Office 365 Exchange Online.
    pub const EXCHANGE_ONLINE: &str = "00000002-0000-0ff1-ce00-000000000000";
    /// Office 365 Management APIs (`https://manage.office.com`).
    pub const OFFICE_365_MANAGEMENT: &str = "c5393580-f805-4401-95e8-94b7a6ef2fc2";
    /// Microsoft Partner Center: never consented into a customer tenant.
    pub const PARTNER_CENTER: &str = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
}

fn app_id(s: &str) -> AppId {
    // Only called with the literals above, which parse (checked by a unit test).
    AppId::from_str(s).unwrap_or_else(|_| AppId::from_uuid(Default::default()))
}

/// The Microsoft Graph application id.
pub fn microsoft_graph() -> AppId {
    app_id(resources::MICROSOFT_GRAPH)
}

/// What the app asks of one resource application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAccess {
    /// The resource's application id (the same in every tenant).
    pub resource_app_id: AppId,
    /// A name for messages, e.g. `"Microsoft Graph"`.
    pub resource_name: String,
    /// Delegated permission names (oauth2PermissionScopes `value`s), granted tenant-wide.
    pub delegated_scopes: Vec<String>,
    /// Application permission names (appRoles `value`s, e.g. `"User.Read.All"`).
    pub app_roles: Vec<String>,
}

impl ResourceAccess {
    /// Access to `resource_app_id` named `resource_name`, with nothing requested yet.
    pub fn new(resource_app_id: AppId, resource_name: impl Into<String>) -> Self {
        Self {
            resource_app_id,
            resource_name: resource_name.into(),
            delegated_scopes: Vec::new(),
            app_roles: Vec::new(),
        }
    }

    /// Adds delegated scopes.
    pub fn with_delegated_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.delegated_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Adds application roles.
    pub fn with_app_roles<I, S>(mut self, app_roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.app_roles.extend(app_roles.into_iter().map(Into::into));
        self
    }

    /// Whether this is Microsoft Graph.
    pub fn is_microsoft_graph(&self) -> bool {
        self.resource_app_id == microsoft_graph()
    }
}

/// The app to install and grant in customer tenants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppManifest {
    /// The multi-tenant app's application (client) id.
    pub application_id: AppId,
    /// Its display name (sent with the Partner Center consent).
    pub display_name: String,
    /// What it needs from each resource.
    pub resources: Vec<ResourceAccess>,
}

impl AppManifest {
    /// Starts a manifest for `application_id`.
    pub fn builder(application_id: AppId, display_name: impl Into<String>) -> AppManifestBuilder {
        AppManifestBuilder {
            manifest: AppManifest {
                application_id,
                display_name: display_name.into(),
                resources: Vec::new(),
            },
        }
    }

    /// An example security app: Graph delegated `User.Read.All`, `Directory.Read.All`,
    /// `AuditLog.Read.All`, `Mail.Read`; Graph application roles `User.Read.All`,
    /// `Directory.Read.All`, `AuditLog.Read.All`, `Mail.ReadWrite`, `MailboxSettings.ReadWrite`;
    /// Exchange Online `Exchange.ManageAsApp`; Office 365 Management APIs `ActivityFeed.Read`.
    pub fn sample_security_app(application_id: AppId) -> Self {
        AppManifest::builder(application_id, "Sample Security App")
            .resource(
                ResourceAccess::new(microsoft_graph(), "Microsoft Graph")
                    .with_delegated_scopes([
                        "User.Read.All",
                        "Directory.Read.All",
                        "AuditLog.Read.All",
                        "Mail.Read",
                    ])
                    .with_app_roles([
                        "User.Read.All",
                        "Directory.Read.All",
                        "AuditLog.Read.All",
                        "Mail.ReadWrite",
                        "MailboxSettings.ReadWrite",
                    ]),
            )
            .resource(
                ResourceAccess::new(
                    app_id(resources::EXCHANGE_ONLINE),
                    "Office 365 Exchange Online",
                )
                .with_app_roles(["Exchange.ManageAsApp"]),
            )
            .resource(
                ResourceAccess::new(
                    app_id(resources::OFFICE_365_MANAGEMENT),
                    "Office 365 Management APIs",
                )
                .with_app_roles(["ActivityFeed.Read"]),
            )
            .build()
    }

    /// The resource entry for `resource_app_id`.
    pub fn resource(&self, resource_app_id: &AppId) -> Option<&ResourceAccess> {
        self.resources
            .iter()
            .find(|r| &r.resource_app_id == resource_app_id)
    }

    /// Every `(resource name, permission)` pair of application roles, for verification messages.
    pub fn app_role_permissions(&self) -> Vec<(String, String)> {
        self.resources
            .iter()
            .flat_map(|r| {
                r.app_roles
                    .iter()
                    .map(move |p| (r.resource_name.clone(), p.clone()))
            })
            .collect()
    }

    /// The GDAP roles needed to install and grant this app.
    ///
    /// Creating the service principal and the delegated grants needs Application Administrator
    /// or Cloud Application Administrator; granting Microsoft Graph application roles needs
    /// Privileged Role Administrator (graph-gdap.md §3). Global Administrator covers both. So an
    /// app with Graph application roles needs the default
    /// [`RoleRequirement::default_for_app_install`]; one without needs Application Administrator
    /// or Cloud Application Administrator (or Global Administrator).
    pub fn required_roles(&self) -> RoleRequirement {
        let app_admin = RoleRequirement::Any(vec![
            RoleRequirement::role(roles::APPLICATION_ADMINISTRATOR),
            RoleRequirement::role(roles::CLOUD_APPLICATION_ADMINISTRATOR),
        ]);
        let graph_app_roles = self
            .resources
            .iter()
            .any(|r| r.is_microsoft_graph() && !r.app_roles.is_empty());
        let without_ga = if graph_app_roles {
            RoleRequirement::All(vec![
                app_admin,
                RoleRequirement::role(roles::PRIVILEGED_ROLE_ADMINISTRATOR),
            ])
        } else {
            app_admin
        };
        RoleRequirement::Any(vec![
            RoleRequirement::role(roles::GLOBAL_ADMINISTRATOR),
            without_ga,
        ])
    }
}

/// Builds an [`AppManifest`].
#[derive(Debug, Clone)]
pub struct AppManifestBuilder {
    manifest: AppManifest,
}

impl AppManifestBuilder {
    /// Adds a resource (merging scopes and roles when the resource is already present).
    pub fn resource(mut self, access: ResourceAccess) -> Self {
        if let Some(existing) = self
            .manifest
            .resources
            .iter_mut()
            .find(|r| r.resource_app_id == access.resource_app_id)
        {
            for s in access.delegated_scopes {
                if !existing.delegated_scopes.contains(&s) {
                    existing.delegated_scopes.push(s);
                }
            }
            for s in access.app_roles {
                if !existing.app_roles.contains(&s) {
                    existing.app_roles.push(s);
                }
            }
        } else {
            self.manifest.resources.push(access);
        }
        self
    }

    /// The manifest.
    pub fn build(self) -> AppManifest {
        self.manifest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_ids_parse() {
        for s in [
            resources::MICROSOFT_GRAPH,
            resources::EXCHANGE_ONLINE,
            resources::OFFICE_365_MANAGEMENT,
            resources::PARTNER_CENTER,
        ] {
            assert_eq!(AppId::from_str(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn sample_needs_the_default_requirement() {
        let m = AppManifest::sample_security_app(AppId::new_random());
        assert_eq!(
            m.required_roles(),
            RoleRequirement::default_for_app_install()
        );
        assert_eq!(m.app_role_permissions().len(), 7);
    }

    #[test]
    fn delegated_only_app_needs_no_pra() {
        let m = AppManifest::builder(AppId::new_random(), "Reader")
            .resource(
                ResourceAccess::new(microsoft_graph(), "Microsoft Graph")
                    .with_delegated_scopes(["User.Read.All"]),
            )
            .build();
        assert!(
            !m.required_roles()
                .mentioned_roles()
                .contains(&roles::PRIVILEGED_ROLE_ADMINISTRATOR.id())
        );
    }
}
