//! `GET|POST|PUT|DELETE /webhooks/v1/registration` and `GET /webhooks/v1/registration/events`.
//!
//! A registration is a singleton per partner tenant: one callback URL and the events delivered to
//! it. A second tool registering for the same partner replaces the first one's registration.

use serde::{Deserialize, Deserializer, Serialize};

/// `granular-admin-relationship-approved`: the customer approved a GDAP relationship request
/// (ResourceName `GranularAdminRelationship`).
pub const GDAP_RELATIONSHIP_APPROVED: &str = "granular-admin-relationship-approved";

/// `granular-admin-relationship-activated`: a GDAP relationship became active.
pub const GDAP_RELATIONSHIP_ACTIVATED: &str = "granular-admin-relationship-activated";

/// `granular-admin-relationship-terminated`: a GDAP relationship was terminated.
pub const GDAP_RELATIONSHIP_TERMINATED: &str = "granular-admin-relationship-terminated";

/// `granular-admin-relationship-expired`: a GDAP relationship reached its end date.
pub const GDAP_RELATIONSHIP_EXPIRED: &str = "granular-admin-relationship-expired";

/// `test-created`: the test event. Partner Center sends validation events only to a
/// registration that includes it.
pub const TEST_CREATED: &str = "test-created";

/// The events that say a customer has accepted GDAP: approved and activated. Register these to
/// start onboarding when a customer approves an invitation.
pub const GDAP_APPROVAL_EVENTS: &[&str] =
    &[GDAP_RELATIONSHIP_APPROVED, GDAP_RELATIONSHIP_ACTIVATED];

/// The partner's webhook registration, as `GET`, `POST` and `PUT /webhooks/v1/registration`
/// answer.
///
/// Partner Center documents PascalCase keys (`WebhookUrl`) and has been seen answering camelCase
/// (`webhookUrl`); both are read. It serializes camelCase.
///
/// # Example
/// ```
/// use gdap_partner_center::models::{GDAP_RELATIONSHIP_APPROVED, WebhookRegistration};
///
/// let r: WebhookRegistration = serde_json::from_str(
///     r#"{"WebhookUrl": "https://msp.example/hooks/pc", "WebhookEvents": ["granular-admin-relationship-approved"]}"#,
/// )?;
/// assert!(r.has_event(GDAP_RELATIONSHIP_APPROVED));
/// assert_eq!(r.subscriber_id, None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookRegistration {
    /// The subscriber id Partner Center assigned, when it sends one.
    #[serde(
        default,
        alias = "SubscriberId",
        skip_serializing_if = "Option::is_none"
    )]
    pub subscriber_id: Option<String>,
    /// The callback URL Partner Center posts events to.
    #[serde(alias = "WebhookUrl")]
    pub webhook_url: String,
    /// The event names delivered to the callback.
    #[serde(default, alias = "WebhookEvents", deserialize_with = "null_as_empty")]
    pub webhook_events: Vec<String>,
    /// When the registration was last changed, verbatim as sent (an ISO-8601 timestamp).
    #[serde(
        default,
        alias = "LastModifiedTimestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified_timestamp: Option<String>,
}

impl WebhookRegistration {
    /// A registration of `url` for `events`, without the fields Partner Center assigns (for fakes
    /// and tests; the client methods take the URL and events directly).
    ///
    /// ```
    /// use gdap_partner_center::models::{GDAP_APPROVAL_EVENTS, WebhookRegistration};
    /// let r = WebhookRegistration::new("https://msp.example/hooks/pc", GDAP_APPROVAL_EVENTS.iter().copied());
    /// assert_eq!(r.webhook_events.len(), 2);
    /// ```
    pub fn new<I, S>(url: impl Into<String>, events: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            subscriber_id: None,
            webhook_url: url.into(),
            webhook_events: events.into_iter().map(Into::into).collect(),
            last_modified_timestamp: None,
        }
    }

    /// Whether `event` is among the registered events (ASCII case-insensitive).
    pub fn has_event(&self, event: &str) -> bool {
        self.webhook_events
            .iter()
            .any(|e| e.eq_ignore_ascii_case(event))
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_casings_and_nulls_are_read() {
        let pascal: WebhookRegistration = serde_json::from_value(serde_json::json!({
            "SubscriberId": "s-1",
            "WebhookUrl": "https://a.example/h",
            "WebhookEvents": [TEST_CREATED],
            "LastModifiedTimestamp": "2025-01-01T00:00:00Z",
            "Unknown": 1
        }))
        .unwrap();
        let camel: WebhookRegistration = serde_json::from_value(serde_json::json!({
            "subscriberId": "s-1",
            "webhookUrl": "https://a.example/h",
            "webhookEvents": [TEST_CREATED],
            "lastModifiedTimestamp": "2025-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(pascal, camel);
        let sparse: WebhookRegistration = serde_json::from_value(serde_json::json!({
            "webhookUrl": "https://a.example/h", "webhookEvents": null
        }))
        .unwrap();
        assert!(sparse.webhook_events.is_empty());
        assert_eq!(
            serde_json::to_value(&sparse).unwrap(),
            serde_json::json!({"webhookUrl": "https://a.example/h", "webhookEvents": []})
        );
    }

    #[test]
    fn approval_events_are_approved_and_activated() {
        assert_eq!(
            GDAP_APPROVAL_EVENTS,
            [
                "granular-admin-relationship-approved",
                "granular-admin-relationship-activated"
            ]
        );
        let r =
            WebhookRegistration::new("https://a.example/h", GDAP_APPROVAL_EVENTS.iter().copied());
        assert!(r.has_event("Granular-Admin-Relationship-Approved"));
        assert!(!r.has_event(GDAP_RELATIONSHIP_EXPIRED));
    }
}
