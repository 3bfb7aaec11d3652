//! Validated identifiers.
//!
//! Every id the workspace passes around is a newtype, so a tenant id can never be handed where a
//! relationship id is expected, and bad input is rejected once, at the edge, with a message that
//! names the field.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Longest input echoed back in an error message; longer input is cut so a 10 KB string does not
/// end up in logs.
const MAX_ECHO: usize = 64;

/// Why an identifier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason} (got {shown:?})")]
pub struct IdError {
    field: &'static str,
    reason: &'static str,
    shown: String,
}

impl IdError {
    fn new(field: &'static str, reason: &'static str, input: &str) -> Self {
        let shown = if input.chars().count() > MAX_ECHO {
            let cut: String = input.chars().take(MAX_ECHO).collect();
            format!("{cut}… ({} bytes)", input.len())
        } else {
            input.to_owned()
        };
        Self {
            field,
            reason,
            shown,
        }
    }

    /// The name of the field that failed to parse, e.g. `"tenant id"`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What was wrong with the input.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// Parses a GUID for the field `field`; used by [`guid_id!`](crate::guid_id).
#[doc(hidden)]
pub fn parse_guid(field: &'static str, s: &str) -> Result<Uuid, IdError> {
    if s.is_empty() {
        return Err(IdError::new(field, "must not be empty", s));
    }
    // 38 = a GUID in braces; anything longer cannot be one and is not worth parsing.
    if s.len() > 38 {
        return Err(IdError::new(field, "is too long to be a GUID", s));
    }
    Uuid::try_parse(s).map_err(|_| {
        IdError::new(
            field,
            "must be a GUID like 00000000-0000-0000-0000-000000000000",
            s,
        )
    })
}

/// Declares a GUID newtype id with the workspace's conventions: `FromStr`/`TryFrom` that reject
/// bad input naming the field, serde as a string, lowercase-hyphenated `Display`, `Debug`,
/// `Eq`/`Hash`/`Ord`. Other crates use it for their own ids (e.g. a job id).
///
/// ```
/// gdap_core::guid_id!(
///     /// A job id.
///     JobId,
///     "job id"
/// );
/// let id: JobId = "8777b240-c6f0-4469-9e98-a3205431b836".parse().unwrap();
/// assert_eq!(id.to_string(), "8777b240-c6f0-4469-9e98-a3205431b836");
/// assert!("nope".parse::<JobId>().unwrap_err().to_string().contains("job id"));
/// ```
#[macro_export]
macro_rules! guid_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name($crate::ids::__private::Uuid);

        impl $name {
            /// Wraps an already parsed GUID.
            pub const fn from_uuid(id: $crate::ids::__private::Uuid) -> Self {
                Self(id)
            }

            /// The GUID inside.
            pub const fn as_uuid(&self) -> &$crate::ids::__private::Uuid {
                &self.0
            }

            /// A new random id (v4), for fakes, sandboxes and tests.
            pub fn new_random() -> Self {
                Self($crate::ids::__private::Uuid::new_v4())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ids::IdError;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::ids::IdError> {
                $crate::ids::__private::parse_guid($field, s).map(Self)
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = $crate::ids::IdError;
            fn try_from(s: &str) -> ::std::result::Result<Self, $crate::ids::IdError> {
                s.parse()
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::ids::IdError;
            fn try_from(s: String) -> ::std::result::Result<Self, $crate::ids::IdError> {
                s.parse()
            }
        }

        impl ::std::convert::From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }

        impl ::std::convert::From<$crate::ids::__private::Uuid> for $name {
            fn from(id: $crate::ids::__private::Uuid) -> Self {
                Self(id)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                // Lowercase hyphenated, the form Graph and Partner Center print.
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }
    };
}

/// Items the exported macros name; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use super::parse_guid;
    pub use uuid::Uuid;
}

guid_id!(
    /// An Entra ID (Azure AD) tenant id: a GUID.
    TenantId,
    "tenant id"
);
guid_id!(
    /// An application (client) id of an app registration: a GUID, the same in every tenant.
    AppId,
    "application id"
);
guid_id!(
    /// The object id of a service principal: a GUID that differs per tenant.
    ServicePrincipalId,
    "service principal id"
);
guid_id!(
    /// An Entra built-in role template id (`roleDefinitionId` in GDAP): a GUID.
    RoleTemplateId,
    "role template id"
);
guid_id!(
    /// The object id of a security group: a GUID.
    SecurityGroupId,
    "security group id"
);
guid_id!(
    /// The object id of a user: a GUID.
    UserId,
    "user id"
);
guid_id!(
    /// The id of an app role defined by a resource application: a GUID.
    AppRoleId,
    "app role id"
);

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr, $valid:expr, $rule:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The id as the service sent it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            fn validate(s: &str) -> Result<(), IdError> {
                if s.is_empty() {
                    return Err(IdError::new($field, "must not be empty", s));
                }
                if s.len() > $max {
                    return Err(IdError::new($field, concat!("is longer than ", stringify!($max), " characters"), s));
                }
                let valid: fn(char) -> bool = $valid;
                if !s.chars().all(valid) {
                    return Err(IdError::new($field, $rule, s));
                }
                Ok(())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::validate(s)?;
                Ok(Self(s.to_owned()))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::validate(&s)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

opaque_id!(
    /// A GDAP relationship id. Not one GUID: Graph sends two GUIDs joined by `-` (73 characters),
    /// so it is kept as an opaque string of hex digits and dashes.
    RelationshipId,
    "relationship id",
    128,
    |c| c.is_ascii_hexdigit() || c == '-',
    "may contain only hex digits and '-'"
);
opaque_id!(
    /// The id of a GDAP access assignment, request or operation (a GUID in every example, kept
    /// opaque because Graph does not promise it).
    AssignmentId,
    "access assignment id",
    128,
    |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    "may contain only letters, digits, '-' and '_'"
);
opaque_id!(
    /// The id of an appRoleAssignment or oauth2PermissionGrant: an opaque base64url-like string.
    GrantId,
    "grant id",
    256,
    |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    "may contain only letters, digits, '-' and '_'"
);

#[cfg(test)]
mod tests;
