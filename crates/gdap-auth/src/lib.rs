#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod app;
pub mod auth_code;
pub mod authority;
mod cache;
pub mod claims;
pub mod client_secret;
pub mod error;
mod http;
pub mod refresh;
pub mod scopes;

pub use app::AppCredentials;
pub use auth_code::{
    AuthCodeFlow, AuthorizeOptions, CsrfState, PendingAuthorization, PkceVerifier, TokenSet,
};
pub use authority::{Authority, TenantRef};
pub use claims::{TokenClaims, access_token_claims, has_mfa_claim};
pub use client_secret::ClientSecretCredential;
pub use error::{Error, Result, TokenErrorDetails};
pub use http::TokenClientOptions;
pub use refresh::{InMemoryRefreshTokenSink, RefreshTokenCredential, RefreshTokenSink, SinkError};

/// Re-exported: the trait the credentials implement and the token they return.
pub use gdap_core::{AccessToken, TokenCredential};
