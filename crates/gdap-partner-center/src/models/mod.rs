//! Wire models of the Partner Center resources this crate covers, and per-call options.
//!
//! JSON property names are camelCase as Partner Center sends them. Response structs are
//! `#[non_exhaustive]` and ignore unknown properties; service enums keep values they do not know.
//! Request structs ([`ApplicationConsent`], [`ApplicationGrant`], [`ListCustomersOptions`]) have
//! public fields and constructors. Webhook registrations ([`WebhookRegistration`]) are read in
//! PascalCase or camelCase, as Partner Center documents and answers them; so are the
//! [`WebhookEvent`]s it posts to the registered callback.

mod application_consents;
mod customers;
mod webhooks;

pub use application_consents::{ApplicationConsent, ApplicationGrant, PARTNER_CENTER_APP_ID};
pub use customers::{
    CompanyProfile, Customer, DEFAULT_PAGE_SIZE, ListCustomersOptions, RelationshipToPartner,
    UnknownValue,
};
pub use webhooks::{
    GDAP_ACCESS_ASSIGNMENT_ACTIVATED, GDAP_ACCESS_ASSIGNMENT_CREATED,
    GDAP_ACCESS_ASSIGNMENT_DELETED, GDAP_ACCESS_ASSIGNMENT_EVENTS, GDAP_ACCESS_ASSIGNMENT_UPDATED,
    GDAP_APPROVAL_EVENTS, GDAP_RELATIONSHIP_ACTIVATED, GDAP_RELATIONSHIP_APPROVED,
    GDAP_RELATIONSHIP_EXPIRED, GDAP_RELATIONSHIP_TERMINATED, MAX_WEBHOOK_EVENT_BYTES, TEST_CREATED,
    WebhookEvent, WebhookRegistration,
};
