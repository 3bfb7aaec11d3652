//! Partner Center webhook event names the sandbox emits (partner-center.md §6.2).

pub(crate) const TEST_CREATED: &str = "test-created";
pub(crate) const RELATIONSHIP_APPROVED: &str = "granular-admin-relationship-approved";
pub(crate) const RELATIONSHIP_ACTIVATED: &str = "granular-admin-relationship-activated";
pub(crate) const RELATIONSHIP_TERMINATED: &str = "granular-admin-relationship-terminated";
pub(crate) const RELATIONSHIP_EXPIRED: &str = "granular-admin-relationship-expired";
pub(crate) const ASSIGNMENT_CREATED: &str = "granular-admin-access-assignment-created";
pub(crate) const ASSIGNMENT_ACTIVATED: &str = "granular-admin-access-assignment-activated";
pub(crate) const ASSIGNMENT_UPDATED: &str = "granular-admin-access-assignment-updated";
pub(crate) const ASSIGNMENT_DELETED: &str = "granular-admin-access-assignment-deleted";
