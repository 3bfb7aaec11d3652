//! Wire models of the Partner Center resources this crate covers, and per-call options.
//!
//! JSON property names are camelCase as Partner Center sends them. Response structs are
//! `#[non_exhaustive]` and ignore unknown properties; service enums keep values they do not know.
//! Request structs ([`ApplicationConsent`], [`ApplicationGrant`], [`ListCustomersOptions`]) have
//! public fields and constructors.

mod application_consents;
mod customers;

pub use application_consents::{ApplicationConsent, ApplicationGrant, PARTNER_CENTER_APP_ID};
pub use customers::{
    CompanyProfile, Customer, DEFAULT_PAGE_SIZE, ListCustomersOptions, RelationshipToPartner,
    UnknownValue,
};
