//! Integration tests: drive the sandbox over loopback HTTP with plain reqwest.

mod common;
mod consent;
mod faults;
mod login;
mod partner_center;
mod relationships;
mod world;
