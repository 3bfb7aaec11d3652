//! The one table of Entra built-in role template ids in the workspace (GDAP `roleDefinitionId`s).
//!
//! Names and ids are those of the Entra permissions reference. Every crate that needs a role —
//! the Graph client, the readiness rules, the templates, the sandbox's expectations in tests —
//! looks it up here.

use std::fmt;

use crate::ids::RoleTemplateId;

/// A built-in Entra role usable in a GDAP relationship.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleTemplate {
    name: &'static str,
    id: &'static str,
}

impl RoleTemplate {
    /// The role's display name, e.g. `"Global Administrator"`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The role template id.
    pub fn id(&self) -> RoleTemplateId {
        // The table below is checked by a unit test, so every literal parses.
        RoleTemplateId::from_uuid(uuid::Uuid::parse_str(self.id).unwrap_or_default())
    }

    /// The id as text.
    pub const fn id_str(&self) -> &'static str {
        self.id
    }

    /// Looks a role up by template id.
    pub fn by_id(id: &RoleTemplateId) -> Option<RoleTemplate> {
        let s = id.to_string();
        ALL.iter().copied().find(|r| r.id == s)
    }

    /// Looks a role up by name, ignoring case and surrounding spaces.
    pub fn by_name(name: &str) -> Option<RoleTemplate> {
        let name = name.trim();
        ALL.iter()
            .copied()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }
}

impl fmt::Debug for RoleTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.id)
    }
}

impl fmt::Display for RoleTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The display name of a role id, or the id itself when the role is not in the table.
pub fn role_name(id: &RoleTemplateId) -> String {
    RoleTemplate::by_id(id).map_or_else(|| id.to_string(), |r| r.name.to_owned())
}

macro_rules! roles {
    ($($(#[$doc:meta])* $konst:ident = $name:literal, $id:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $konst: RoleTemplate = RoleTemplate { name: $name, id: $id };
        )*
        /// Every role in the table.
        pub const ALL: &[RoleTemplate] = &[$($konst),*];
    };
}

roles! {
    /// Global Administrator.
    GLOBAL_ADMINISTRATOR = "Global Administrator", "62e90394-69f5-4237-9190-012177145e10";
    /// Privileged Role Administrator.
    PRIVILEGED_ROLE_ADMINISTRATOR = "Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814";
    /// Application Administrator.
    APPLICATION_ADMINISTRATOR = "Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
    /// Cloud Application Administrator.
    CLOUD_APPLICATION_ADMINISTRATOR = "Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7";
    /// Global Reader.
    GLOBAL_READER = "Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
    /// Service Support Administrator.
    SERVICE_SUPPORT_ADMINISTRATOR = "Service Support Administrator", "f023fd81-a637-4b56-95fd-791ac0226033";
    /// Helpdesk Administrator.
    HELPDESK_ADMINISTRATOR = "Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8";
    /// Intune Administrator.
    INTUNE_ADMINISTRATOR = "Intune Administrator", "3a2c62db-5318-420d-8d74-23affee5d9d5";
    /// License Administrator.
    LICENSE_ADMINISTRATOR = "License Administrator", "4d6ac14f-3453-41d0-bef9-a3e0c569773a";
    /// Security Reader.
    SECURITY_READER = "Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509";
    /// Security Administrator.
    SECURITY_ADMINISTRATOR = "Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d";
    /// Exchange Administrator.
    EXCHANGE_ADMINISTRATOR = "Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de";
    /// Groups Administrator.
    GROUPS_ADMINISTRATOR = "Groups Administrator", "fdd7a751-b60b-444a-984c-02652fe8fa1c";
    /// User Administrator.
    USER_ADMINISTRATOR = "User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1";
    /// Privileged Authentication Administrator.
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR = "Privileged Authentication Administrator", "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
    /// Directory Readers.
    DIRECTORY_READERS = "Directory Readers", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";
    /// Authentication Administrator.
    AUTHENTICATION_ADMINISTRATOR = "Authentication Administrator", "c4e39bd9-1100-46d3-8c65-fb160da0071f";
    /// Teams Administrator.
    TEAMS_ADMINISTRATOR = "Teams Administrator", "69091246-20e8-4a56-aa4d-066075b2a7a8";
    /// SharePoint Administrator.
    SHAREPOINT_ADMINISTRATOR = "SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c";
    /// Directory Writers.
    DIRECTORY_WRITERS = "Directory Writers", "9360feb5-f418-4baa-8175-e2a00bac4301";
    /// Dynamics 365 Administrator.
    DYNAMICS_365_ADMINISTRATOR = "Dynamics 365 Administrator", "44367163-eba1-44c3-98af-f5787879f96a";
    /// Azure DevOps Administrator.
    AZURE_DEVOPS_ADMINISTRATOR = "Azure DevOps Administrator", "e3973bdf-4987-49ae-837a-ba8e231c7286";
    /// Compliance Data Administrator.
    COMPLIANCE_DATA_ADMINISTRATOR = "Compliance Data Administrator", "e6d1a23a-da11-4be4-9570-befc86d067a7";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_parses_and_is_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for r in ALL {
            let parsed = uuid::Uuid::parse_str(r.id_str()).expect("table literal");
            assert_eq!(r.id().to_string(), parsed.to_string());
            assert!(seen.insert(r.id_str()), "duplicate {}", r.name());
            assert_eq!(RoleTemplate::by_id(&r.id()), Some(*r));
            assert_eq!(RoleTemplate::by_name(&r.name().to_lowercase()), Some(*r));
        }
    }
}
