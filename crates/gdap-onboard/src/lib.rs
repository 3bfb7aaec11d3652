#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "clients")]
#[cfg_attr(docsrs, doc(cfg(feature = "clients")))]
pub mod adapters;
pub mod catalogue;
pub mod directory;
pub mod error;
pub mod fakes;
pub mod links;
pub mod manifest;
pub mod partner_directory;
pub mod port_error;
pub mod ports;
pub mod readiness;
pub mod relationship;
pub mod templates;
pub mod tenant;
pub mod workflows;

pub use catalogue::{CatalogueEntry, CatalogueKey, ExplainContext, explain};
pub use error::{GrantFailure, OnboardError, Operation, Result};
pub use links::Links;
pub use manifest::{AppManifest, ResourceAccess};
pub use port_error::{PortError, PortErrorKind};
pub use ports::{
    AccessPath, Clock, CustomerDirectories, CustomerDirectory, Journal, JournalEntry,
    PartnerCenter, PartnerDirectory, PartnerGdap, Ports, RunRecord, StepOutcome, SystemClock,
    TenantStore, Tokens,
};
pub use readiness::{MissingRole, Readiness, RoleRef, RoleRequirement};
pub use relationship::{Relationship, RelationshipStatus};
pub use templates::{Days, RelationshipTemplate};
pub use tenant::{EmailPerms, ManagedTenant, RelationshipSummary, TenantRecord, TenantStatus};
pub use workflows::{
    BatchCounts, BatchReport, BatchRun, Cancellation, OnboardOptions, OnboardStep, Orchestrator,
    OrchestratorConfig, PlannedWrite, ProgressEvent, RunControl, RunKind, StepReport, StepStatus,
    TenantOutcome, TenantPlan, TenantReport,
};
