#![doc = include_str!("../README.md")]

mod actions;
mod api;
mod app;
mod auth;
mod cloud;
mod crypto;
mod db;
mod error;
mod jobs;
mod lifecycle;
mod oauth;
mod page;
mod webhooks;

pub use app::{BODY_LIMIT, CloudMode, Config, RunningServer, add_user, start};
pub use auth::{Permission, ROUTES, Role, permission_of};
pub use cloud::Endpoints;
pub use crypto::KeySource;
