//! Relationship templates: which roles to request, for how long, with or without auto-extend.
//!
//! The least-privilege templates follow seed 004's task → role table; durations follow its advice
//! (90 days with auto-extend for routine work, never more than two years). The app-install
//! template asks for what [`crate::readiness::RoleRequirement::default_for_app_install`] needs
//! without Global Administrator.

use std::fmt;

use gdap_core::RoleTemplateId;
use gdap_core::roles::{self, RoleTemplate};
use serde::Serialize;

use crate::readiness::RoleRef;

/// A whole number of days (relationship duration, auto-extend period).
///
/// Kept as days in the domain; the adapter writes the ISO-8601 form (`P730D`) the service wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Days(pub u32);

impl Days {
    /// The longest GDAP relationship: two years (`P2Y`, written `P730D`).
    pub const MAX_RELATIONSHIP: Days = Days(730);
    /// The only auto-extend period GDAP supports besides none: six months (`P180D`).
    pub const AUTO_EXTEND: Days = Days(180);
    /// No auto-extend.
    pub const NONE: Days = Days(0);
    /// How long a customer has to approve a request before it expires (seed 004, Partner Center
    /// FAQ).
    pub const APPROVAL_WINDOW: Days = Days(90);

    /// The number of days.
    pub fn get(self) -> u32 {
        self.0
    }

    /// `P{n}D`.
    pub fn to_iso8601(self) -> String {
        format!("P{}D", self.0)
    }

    /// As a `time::Duration`.
    pub fn to_duration(self) -> time::Duration {
        time::Duration::days(i64::from(self.0))
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} days", self.0)
    }
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// No roles.
    #[error("a relationship template needs at least one role")]
    NoRoles,
    /// Duration outside 1 day ..= 2 years.
    #[error("duration must be between 1 and 730 days (P2Y), got {0}")]
    Duration(Days),
    /// Auto-extend other than 0 or 180 days.
    #[error("auto-extend must be 0 or 180 days, got {0}")]
    AutoExtend(Days),
    /// Auto-extend asked for together with Global Administrator.
    #[error("relationships that include Global Administrator cannot be auto-extended")]
    AutoExtendWithGlobalAdmin,
    /// A GDAP security group template is not valid.
    #[error("{0}")]
    Groups(String),
}

impl TemplateError {
    /// What kind of template the error is about, for messages.
    pub fn subject(&self) -> &'static str {
        match self {
            TemplateError::Groups(_) => "GDAP group template",
            _ => "relationship template",
        }
    }
}

/// A reusable relationship request: name stem, roles, duration and auto-extend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipTemplate {
    /// A short stem for generated relationship names, e.g. `"AppInstall"`.
    pub short_name: String,
    /// The task the template is for, e.g. `"Reset non-admin passwords"`.
    pub task: String,
    /// The function column of seed 004, e.g. `"Basic troubleshooting"`.
    pub function: String,
    /// The roles to request.
    #[serde(serialize_with = "serialize_roles")]
    pub roles: Vec<RoleTemplateId>,
    /// How long the relationship lasts.
    pub duration: Days,
    /// Auto-extend period (0 = none, 180 = six months).
    pub auto_extend: Days,
}

fn serialize_roles<S: serde::Serializer>(ids: &[RoleTemplateId], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ids.iter().map(|id| RoleRef::new(*id)))
}

impl RelationshipTemplate {
    /// A template for `roles`, 90 days, auto-extend 180 days (seed 004's routine setting).
    pub fn new(
        short_name: impl Into<String>,
        task: impl Into<String>,
        roles: impl IntoIterator<Item = RoleTemplate>,
    ) -> Self {
        Self {
            short_name: short_name.into(),
            task: task.into(),
            function: String::new(),
            roles: roles.into_iter().map(|r| r.id()).collect(),
            duration: Days(90),
            auto_extend: Days::AUTO_EXTEND,
        }
    }

    /// Sets the function text.
    pub fn with_function(mut self, function: impl Into<String>) -> Self {
        self.function = function.into();
        self
    }

    /// Sets the duration.
    pub fn with_duration(mut self, duration: Days) -> Self {
        self.duration = duration;
        self
    }

    /// Sets the auto-extend period.
    pub fn with_auto_extend(mut self, auto_extend: Days) -> Self {
        self.auto_extend = auto_extend;
        self
    }

    /// What installing and granting the app needs without Global Administrator: Application
    /// Administrator + Privileged Role Administrator, 730 days, auto-extend 180 days.
    pub fn app_install() -> Self {
        RelationshipTemplate::new(
            "AppInstall",
            "Install and grant the app",
            [
                roles::APPLICATION_ADMINISTRATOR,
                roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            ],
        )
        .with_function("App onboarding")
        .with_duration(Days::MAX_RELATIONSHIP)
        .with_auto_extend(Days::AUTO_EXTEND)
    }

    /// Seed 004's task → least-privileged role table, one template per row.
    pub fn least_privilege() -> Vec<RelationshipTemplate> {
        [
            (
                "Support",
                "Submit support tickets",
                roles::SERVICE_SUPPORT_ADMINISTRATOR,
                "Help Desk management",
            ),
            (
                "Helpdesk",
                "Reset non-admin passwords",
                roles::HELPDESK_ADMINISTRATOR,
                "Basic troubleshooting",
            ),
            (
                "Intune",
                "Manage device enrollment",
                roles::INTUNE_ADMINISTRATOR,
                "Endpoint management",
            ),
            (
                "Licenses",
                "Manage user licenses",
                roles::LICENSE_ADMINISTRATOR,
                "Subscription/Billing support",
            ),
            (
                "SecReader",
                "View security policies",
                roles::SECURITY_READER,
                "Compliance and discovery",
            ),
            (
                "Exchange",
                "Manage mailboxes/transport rules",
                roles::EXCHANGE_ADMINISTRATOR,
                "Email service management",
            ),
            (
                "Groups",
                "Manage groups and naming policies",
                roles::GROUPS_ADMINISTRATOR,
                "Identity management",
            ),
        ]
        .into_iter()
        .map(|(short, task, role, function)| {
            RelationshipTemplate::new(short, task, [role]).with_function(function)
        })
        .collect()
    }

    /// Every built-in template: the app-install template first, then the task templates.
    pub fn builtin() -> Vec<RelationshipTemplate> {
        let mut all = vec![RelationshipTemplate::app_install()];
        all.extend(RelationshipTemplate::least_privilege());
        all
    }

    /// Finds a built-in template by short name (case-insensitive).
    pub fn by_short_name(name: &str) -> Option<RelationshipTemplate> {
        RelationshipTemplate::builtin()
            .into_iter()
            .find(|t| t.short_name.eq_ignore_ascii_case(name))
    }

    /// Whether the template asks for Global Administrator.
    pub fn includes_global_admin(&self) -> bool {
        self.roles.contains(&roles::GLOBAL_ADMINISTRATOR.id())
    }

    /// Checks the GDAP rules: at least one role, 1..=730 days, auto-extend 0 or 180 days and
    /// never with Global Administrator.
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), TemplateError> {
        if self.roles.is_empty() {
            return Err(TemplateError::NoRoles);
        }
        if self.duration.0 == 0 || self.duration > Days::MAX_RELATIONSHIP {
            return Err(TemplateError::Duration(self.duration));
        }
        if self.auto_extend != Days::NONE && self.auto_extend != Days::AUTO_EXTEND {
            return Err(TemplateError::AutoExtend(self.auto_extend));
        }
        if self.auto_extend != Days::NONE && self.includes_global_admin() {
            return Err(TemplateError::AutoExtendWithGlobalAdmin);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid() {
        for t in RelationshipTemplate::builtin() {
            t.validate().unwrap();
        }
        assert_eq!(RelationshipTemplate::least_privilege().len(), 7);
    }

    #[test]
    fn rules() {
        let t = RelationshipTemplate::app_install();
        assert_eq!(
            t.clone().with_duration(Days(731)).validate(),
            Err(TemplateError::Duration(Days(731)))
        );
        assert_eq!(
            t.clone().with_auto_extend(Days(30)).validate(),
            Err(TemplateError::AutoExtend(Days(30)))
        );
        let ga = RelationshipTemplate::new("GA", "everything", [roles::GLOBAL_ADMINISTRATOR]);
        assert_eq!(
            ga.clone().validate(),
            Err(TemplateError::AutoExtendWithGlobalAdmin)
        );
        ga.with_auto_extend(Days::NONE).validate().unwrap();
        assert_eq!(Days(730).to_iso8601(), "P730D");
    }
}
