//! Adapters: the ports implemented over the real clients (`gdap-graph`, `gdap-partner-center`,
//! `gdap-auth`).
//!
//! Enabled by the default `clients` feature. The adapters translate domain types to and from the
//! clients' models and turn client errors into [`PortError`]s through the clients' predicates
//! (status, service code, `AADSTS` codes), never their text.

mod graph;
mod partner_center;
mod tokens;

pub use graph::{GraphDirectories, GraphDirectory, GraphGdap, port_error_from_graph};
pub use partner_center::{PartnerCenterConsents, port_error_from_partner_center};
pub use tokens::{AuthTokens, CredentialFactory};

use crate::port_error::PortError;

/// Converts a `gdap-auth` error through `gdap_core::Error`, keeping the `AADSTS` codes.
pub fn port_error_from_auth(e: gdap_auth::Error) -> PortError {
    PortError::from_core(&gdap_core::Error::from(e))
}
