//! Shared helpers: fixed ids, a fixed "now", relationship builders.

use gdap_core::roles::RoleTemplate;
use gdap_core::{RelationshipId, TenantId};
use gdap_onboard::fakes::{FakeGdap, FakeWorld};
use gdap_onboard::relationship::{Relationship, RelationshipStatus};
use gdap_onboard::{Days, Orchestrator, OrchestratorConfig};
use time::OffsetDateTime;
use time::macros::datetime;

pub(crate) const USER: &str = "ops@msp.example";

pub(crate) fn now() -> OffsetDateTime {
    datetime!(2026-03-01 09:00 UTC)
}

/// A deterministic tenant id.
pub(crate) fn tid(n: u32) -> TenantId {
    format!("{n:08x}-aaaa-4aaa-8aaa-{n:012x}").parse().unwrap()
}

/// A deterministic relationship id.
pub(crate) fn rid(n: u64) -> RelationshipId {
    FakeGdap::new_relationship_id(1_000_000 + n)
}

/// An active relationship with `tenant`, ending in 300 days.
pub(crate) fn active(
    n: u64,
    tenant: TenantId,
    tenant_name: &str,
    name: &str,
    roles: &[RoleTemplate],
) -> Relationship {
    Relationship::new(rid(n), name, RelationshipStatus::Active)
        .with_customer(tenant, Some(tenant_name))
        .with_roles(roles.iter().map(RoleTemplate::id))
        .with_duration(Days(730))
        .with_times(
            Some(now() - time::Duration::days(430)),
            Some(now() - time::Duration::days(430)),
            Some(now() - time::Duration::days(430)),
            Some(now() + time::Duration::days(300)),
        )
}

pub(crate) fn world() -> FakeWorld {
    FakeWorld::new(now(), USER)
}

pub(crate) fn orchestrator(world: &FakeWorld) -> Orchestrator {
    Orchestrator::new(world.ports(), OrchestratorConfig::default())
}
