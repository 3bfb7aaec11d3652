//! Integration tests: drive the sandbox over loopback HTTP with plain reqwest.

// Test helpers outside `#[test]` functions panic on unexpected results by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod common;
mod consent;
mod faults;
mod groups;
mod login;
mod partner_center;
mod relationships;
mod webhooks;
mod world;
