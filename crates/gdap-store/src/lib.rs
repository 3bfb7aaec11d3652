#![doc = include_str!("../README.md")]

pub mod connection;
pub mod error;
pub mod jobs;
pub mod journal;
pub mod migrations;
pub mod store;
pub mod tenants;
pub mod users;

pub use connection::PartnerConnection;
pub use error::{CorruptRow, Result, SqliteError, StoreError};
pub use jobs::{Job, JobId, JobItem, JobStatus};
pub use store::{Durability, SqliteStore, StoreOptions};
pub use users::{AccountId, Session, User, UserRole};
