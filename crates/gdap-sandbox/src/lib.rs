#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Handlers return a ready axum `Response` as their error value; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod auth;
mod error;
pub mod faults;
mod graph;
mod listener;
mod login;
mod partner_center;
mod server;
mod state;
pub mod stats;
mod util;
mod webhooks;
pub mod well_known;
pub mod world;

pub use error::SandboxError;
pub use faults::{FaultKind, FaultRule, Faults, RateLimit, Trigger};
pub use partner_center::PERMISSION_ENTRY_EXISTS;
pub use server::{Sandbox, SandboxBuilder, SandboxHandle};
pub use stats::{FaultRecord, Stats, WebhookDelivery, WriteRecord};
pub use world::{World, WorldInfo, WorldSnapshot};
