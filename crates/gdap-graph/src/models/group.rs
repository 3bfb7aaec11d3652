//! Groups of a directory and the directory objects that are their members (or that they are
//! members of).

use gdap_core::SecurityGroupId;
use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// Longest `displayName` of a group.
pub const MAX_GROUP_DISPLAY_NAME_CHARS: usize = 256;
/// Longest `mailNickname` of a group.
pub const MAX_MAIL_NICKNAME_CHARS: usize = 64;
/// The `mailNickname` [`NewSecurityGroup::new`] falls back to when the display name has no ASCII
/// letter, digit, `-` or `_`.
pub const FALLBACK_MAIL_NICKNAME: &str = "gdapgroup";
/// `@odata.type` of a user in a directoryObject collection.
pub const USER_ODATA_TYPE: &str = "#microsoft.graph.user";
/// `@odata.type` of a group in a directoryObject collection.
pub const GROUP_ODATA_TYPE: &str = "#microsoft.graph.group";

/// ASCII characters Graph refuses in a `mailNickname` (besides non-ASCII and control
/// characters).
const FORBIDDEN_NICKNAME_CHARS: &[char] = &[
    '@', '(', ')', '\\', '[', ']', '"', ';', ':', '<', '>', ',', ' ',
];

/// `group`: a Microsoft Entra group (the properties Graph returns by default that GDAP work uses).
/// Unknown properties are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Group {
    /// The group's object id.
    pub id: SecurityGroupId,
    /// Display name. Graph does not enforce unique display names.
    #[serde(default)]
    pub display_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The mail alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_nickname: Option<String>,
    /// Whether the group is mail-enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_enabled: Option<bool>,
    /// Whether the group is a security group (it can hold GDAP access assignments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_enabled: Option<bool>,
    /// `[]` for a security group, `["Unified"]` for a Microsoft 365 group, plus
    /// `"DynamicMembership"` for dynamic groups.
    #[serde(default)]
    pub group_types: Vec<String>,
    /// Creation time.
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_date_time: Option<OffsetDateTime>,
}

/// Body of `POST /groups` for a security group: always sent with `"mailEnabled": false` and
/// `"securityEnabled": true`.
///
/// ```
/// # use gdap_graph::models::NewSecurityGroup;
/// let group = NewSecurityGroup::new("Contoso – Helpdesk agents")
///     .with_description("GDAP: Helpdesk Administrator in Contoso");
/// assert_eq!(group.mail_nickname, "ContosoHelpdeskagents");
/// group.validate()?;
/// # Ok::<(), gdap_graph::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSecurityGroup {
    /// Display name, 1..=256 characters.
    pub display_name: String,
    /// Mail alias, 1..=64 ASCII characters, none of `@ ( ) \ [ ] " ; : < > ,` or space.
    pub mail_nickname: String,
    /// Optional description.
    pub description: Option<String>,
}

impl NewSecurityGroup {
    /// A security group named `display_name`, with a mail nickname derived from it (see
    /// [`mail_nickname_from`]).
    pub fn new(display_name: impl Into<String>) -> Self {
        let display_name = display_name.into();
        let mail_nickname = mail_nickname_from(&display_name);
        Self {
            display_name,
            mail_nickname,
            description: None,
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Replaces the derived mail nickname.
    pub fn with_mail_nickname(mut self, mail_nickname: impl Into<String>) -> Self {
        self.mail_nickname = mail_nickname.into();
        self
    }

    /// Checks the display name and the mail nickname against Graph's rules.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `displayName` (blank or longer than 256 characters) or
    /// `mailNickname` (empty, longer than 64 characters, not ASCII, a control character, or one of
    /// `@ ( ) \ [ ] " ; : < > ,` or space).
    pub fn validate(&self) -> Result<()> {
        validate_group_display_name(&self.display_name)?;
        validate_mail_nickname(&self.mail_nickname)
    }
}

/// The wire shape of [`NewSecurityGroup`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecurityGroupBody<'a> {
    display_name: &'a str,
    mail_nickname: &'a str,
    mail_enabled: bool,
    security_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

impl Serialize for NewSecurityGroup {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        SecurityGroupBody {
            display_name: &self.display_name,
            mail_nickname: &self.mail_nickname,
            mail_enabled: false,
            security_enabled: true,
            description: self.description.as_deref(),
        }
        .serialize(s)
    }
}

/// A valid `mailNickname` derived from a display name: ASCII letters, digits, `-` and `_` are
/// kept (in order, case kept), everything else is dropped, the result is cut to 64 characters,
/// and [`FALLBACK_MAIL_NICKNAME`] is used when nothing is left.
///
/// ```
/// # use gdap_graph::models::mail_nickname_from;
/// assert_eq!(mail_nickname_from("GDAP: Exchange admins (EU)"), "GDAPExchangeadminsEU");
/// assert_eq!(mail_nickname_from("Группа"), "gdapgroup");
/// ```
pub fn mail_nickname_from(display_name: &str) -> String {
    let nickname: String = display_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(MAX_MAIL_NICKNAME_CHARS)
        .collect();
    if nickname.is_empty() {
        FALLBACK_MAIL_NICKNAME.to_owned()
    } else {
        nickname
    }
}

/// Checks a group display name: not blank, at most 256 characters.
pub(crate) fn validate_group_display_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::validation("displayName", "must not be blank"));
    }
    let n = name.chars().count();
    if n > MAX_GROUP_DISPLAY_NAME_CHARS {
        return Err(Error::validation(
            "displayName",
            format!("is {n} characters; at most {MAX_GROUP_DISPLAY_NAME_CHARS} are allowed"),
        ));
    }
    Ok(())
}

fn validate_mail_nickname(nickname: &str) -> Result<()> {
    if nickname.is_empty() {
        return Err(Error::validation("mailNickname", "must not be empty"));
    }
    let n = nickname.chars().count();
    if n > MAX_MAIL_NICKNAME_CHARS {
        return Err(Error::validation(
            "mailNickname",
            format!("is {n} characters; at most {MAX_MAIL_NICKNAME_CHARS} are allowed"),
        ));
    }
    if let Some(bad) = nickname
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control() || FORBIDDEN_NICKNAME_CHARS.contains(c))
    {
        let shown = if bad.is_ascii_graphic() || bad == ' ' {
            format!("{bad:?}")
        } else {
            format!("U+{:04X}", u32::from(bad))
        };
        return Err(Error::validation(
            "mailNickname",
            format!(
                "contains {shown}; only ASCII is allowed, without control characters, spaces or \
                 any of @ ( ) \\ [ ] \" ; : < > ,"
            ),
        ));
    }
    Ok(())
}

/// `directoryObject`: an item of a mixed collection (`members`, `transitiveMemberOf`). Users
/// carry `userPrincipalName`, groups `securityEnabled`; unknown properties are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DirectoryObject {
    /// Object id.
    pub id: String,
    /// `@odata.type`, e.g. `#microsoft.graph.user` or `#microsoft.graph.group`.
    #[serde(
        default,
        rename = "@odata.type",
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Sign-in name, for users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    /// Whether it is a security group, for groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_enabled: Option<bool>,
}

impl DirectoryObject {
    /// `@odata.type` is `#microsoft.graph.user`.
    pub fn is_user(&self) -> bool {
        self.has_type(USER_ODATA_TYPE)
    }

    /// `@odata.type` is `#microsoft.graph.group`.
    pub fn is_group(&self) -> bool {
        self.has_type(GROUP_ODATA_TYPE)
    }

    fn has_type(&self, odata_type: &str) -> bool {
        self.odata_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(odata_type))
    }
}
