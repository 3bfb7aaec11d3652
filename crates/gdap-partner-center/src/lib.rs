#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod application_consents;
pub mod client;
mod customers;
pub mod error;
pub mod models;
mod webhooks;

pub use client::{
    DEFAULT_ENDPOINT, DEFAULT_SCOPE, Pager, PartnerCenterClient, PartnerCenterClientBuilder,
    ResponseMeta, WithMeta,
};
pub use error::{
    Error, PartnerCenterErrorDetails, Result, WebhookEventError, WebhookEventErrorKind,
};
