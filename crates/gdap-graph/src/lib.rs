#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod approval;
mod assignments;
pub mod client;
mod consent;
mod customers;
pub mod error;
mod groups;
pub mod models;
mod organization;
mod relationships;
mod requests;
mod users;

pub use approval::{APPROVAL_LINK_PREFIX, approval_link};
pub use client::{
    DEFAULT_ENDPOINT, DEFAULT_SCOPE, GraphClient, GraphClientBuilder, ListOptions,
    MAX_DIRECTORY_TOP, MAX_TOP, Pager, UpdateOutcome,
};
pub use error::{Error, Result};
/// The workspace's one role template table (re-exported from `gdap_core::roles`).
pub use gdap_core::roles;
pub use gdap_core::{
    AppId, AppRoleId, AssignmentId, GrantId, RelationshipId, RetryOptions, RoleTemplate,
    RoleTemplateId, SecurityGroupId, ServicePrincipalId, TenantId, TokenCredential, Url, UserId,
};
