#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! End-to-end tests: the libraries against `gdap-sandbox` over loopback HTTP.

mod partner_center;
mod request;
mod sync;
