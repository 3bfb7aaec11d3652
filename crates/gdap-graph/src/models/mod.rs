//! Models: what Graph returns and the bodies sent to it. camelCase on the wire, names as in the
//! Graph reference.

mod assignment;
mod consent;
mod customer;
mod duration;
mod enums;
mod group;
mod operation;
mod organization;
mod relationship;
mod request;
pub(crate) mod timestamp;
mod user;

pub use assignment::{
    AccessAssignmentUpdate, AccessContainer, DelegatedAdminAccessAssignment, NewAccessAssignment,
};
pub use consent::{
    AppRole, AppRoleAssignment, MAX_SCOPE_CHARS, NewAppRoleAssignment, NewOAuth2PermissionGrant,
    OAuth2PermissionGrant, PermissionScope, ServicePrincipal, join_scopes,
};
pub(crate) use consent::{NewServicePrincipal, ScopeUpdate, validate_scope};
pub use customer::{DelegatedAdminCustomer, ServiceManagementDetail};
pub use duration::{AUTO_EXTEND_VALUES, IsoDuration, MAX_RELATIONSHIP_DAYS};
pub use enums::{
    AccessAssignmentStatus, AccessContainerType, ConsentType, LongRunningOperationStatus,
    OperationType, RelationshipStatus, RequestAction, RequestStatus, UnknownValue,
};
pub(crate) use group::validate_group_display_name;
pub use group::{
    DirectoryObject, FALLBACK_MAIL_NICKNAME, GROUP_ODATA_TYPE, Group, MAX_GROUP_DISPLAY_NAME_CHARS,
    MAX_MAIL_NICKNAME_CHARS, NewSecurityGroup, USER_ODATA_TYPE, mail_nickname_from,
};
pub use operation::RelationshipOperation;
pub use organization::{Organization, VerifiedDomain};
pub use relationship::{
    AccessDetails, CustomerParticipant, DelegatedAdminRelationship, MAX_DISPLAY_NAME_CHARS,
    NewRelationship, RESELLER_ODATA_TYPE, RelationshipKind, RelationshipUpdate, ResellerDetails,
    UnifiedRole,
};
pub(crate) use request::NewRequest;
pub use request::RelationshipRequest;
pub use user::User;
