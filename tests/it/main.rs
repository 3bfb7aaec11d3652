#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! End-to-end tests: the libraries against `gdap-sandbox` over loopback HTTP.

mod hostile;
mod lifecycle;
mod migrate;
mod onboard;
mod partner_center;
mod refresh;
mod request;
mod resume;
mod support;
mod sync;
