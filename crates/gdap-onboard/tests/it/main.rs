#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! Workflow tests over the in-memory fakes, on paused tokio time.

mod audit;
mod catalogue;
mod expiry;
mod lifecycle;
mod onboard;
mod own_tenant;
mod readiness;
mod request;
mod support;
mod sync;
