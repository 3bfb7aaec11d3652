#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod credential;
pub mod error;
pub mod ids;
pub mod paging;
pub mod pipeline;
pub mod retry;
pub mod roles;
pub mod service_error;

pub use credential::{AccessToken, StaticTokenCredential, TokenCredential};
pub use error::{Error, Result};
pub use ids::{
    AppId, AppRoleId, AssignmentId, GrantId, IdError, RelationshipId, RoleTemplateId,
    SecurityGroupId, ServicePrincipalId, TenantId, UserId,
};
pub use paging::{LinkRewrite, PageStyle, Pager};
pub use pipeline::{Pipeline, PipelineBuilder, Request, Response};
pub use retry::RetryOptions;
pub use roles::RoleTemplate;

/// Re-exported so clients can name methods without depending on `http` themselves.
pub use http::Method;
/// Re-exported so clients can take URLs without depending on `url` themselves.
pub use url::Url;
