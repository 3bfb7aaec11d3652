//! `GET|POST|PUT|DELETE /webhooks/v1/registration` and `GET /webhooks/v1/registration/events`,
//! and the [`WebhookEvent`] Partner Center posts to the registered callback.
//!
//! A registration is a singleton per partner tenant: one callback URL and the events delivered to
//! it. A second tool registering for the same partner replaces the first one's registration.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result, WebhookEventError, WebhookEventErrorKind};

/// `granular-admin-relationship-approved`: the customer approved a GDAP relationship request
/// (ResourceName `GranularAdminRelationship`).
pub const GDAP_RELATIONSHIP_APPROVED: &str = "granular-admin-relationship-approved";

/// `granular-admin-relationship-activated`: a GDAP relationship became active.
pub const GDAP_RELATIONSHIP_ACTIVATED: &str = "granular-admin-relationship-activated";

/// `granular-admin-relationship-terminated`: a GDAP relationship was terminated.
pub const GDAP_RELATIONSHIP_TERMINATED: &str = "granular-admin-relationship-terminated";

/// `granular-admin-relationship-expired`: a GDAP relationship reached its end date.
pub const GDAP_RELATIONSHIP_EXPIRED: &str = "granular-admin-relationship-expired";

/// `granular-admin-access-assignment-created`: an access assignment (a security group and its
/// roles) was created on a GDAP relationship (ResourceName `GranularAdminAccessAssignment`).
pub const GDAP_ACCESS_ASSIGNMENT_CREATED: &str = "granular-admin-access-assignment-created";

/// `granular-admin-access-assignment-activated`: an access assignment became active (its roles
/// now apply in the customer tenant).
pub const GDAP_ACCESS_ASSIGNMENT_ACTIVATED: &str = "granular-admin-access-assignment-activated";

/// `granular-admin-access-assignment-updated`: the roles of an access assignment changed.
pub const GDAP_ACCESS_ASSIGNMENT_UPDATED: &str = "granular-admin-access-assignment-updated";

/// `granular-admin-access-assignment-deleted`: an access assignment was removed.
pub const GDAP_ACCESS_ASSIGNMENT_DELETED: &str = "granular-admin-access-assignment-deleted";

/// The four access-assignment events, in lifecycle order.
pub const GDAP_ACCESS_ASSIGNMENT_EVENTS: &[&str] = &[
    GDAP_ACCESS_ASSIGNMENT_CREATED,
    GDAP_ACCESS_ASSIGNMENT_ACTIVATED,
    GDAP_ACCESS_ASSIGNMENT_UPDATED,
    GDAP_ACCESS_ASSIGNMENT_DELETED,
];

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

/// The largest callback body [`WebhookEvent::parse`] reads: 64 KiB. Partner Center events are a
/// few hundred bytes; anything bigger is refused before it is decoded.
pub const MAX_WEBHOOK_EVENT_BYTES: usize = 64 * 1024;

/// The longest relationship or assignment id taken from a `ResourceUri`.
const MAX_RESOURCE_ID_LEN: usize = 100;

/// How much of the decoder's explanation an error keeps.
const REASON_LIMIT: usize = 160;

/// A webhook event as Partner Center posts it to the registered callback (partner-center.md
/// §6.2): `{"EventName", "ResourceUri", "ResourceName", "AuditUri", "ResourceChangeUtcDate"}`.
///
/// Keys are read in PascalCase (as documented) or camelCase; unknown keys are ignored; it
/// serializes PascalCase, the shape Partner Center sends. Only `EventName` is required.
///
/// **An event is a hint, not a fact.** This crate does not verify the `Authorization: Signature`
/// header (Partner Center signs the body with RSA-SHA256 under a certificate named by
/// `X-MS-Certificate-Url`; verifying it means checking the chain up to Microsoft's root), and
/// events can arrive late, twice or out of order (Partner Center retries a delivery up to 10
/// times). Use the event to decide *what to re-read* — [`relationship_id`](Self::relationship_id)
/// names the relationship — and act on what Graph answers.
///
/// # Example
/// ```
/// use gdap_partner_center::models::WebhookEvent;
///
/// let body = br#"{
///   "EventName": "granular-admin-relationship-approved",
///   "ResourceUri": "https://api.partnercenter.microsoft.com/v1/granularAdminRelationships/7e4a6b1c-1d2e-4f3a-9b8c-0d1e2f3a4b5c-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
///   "ResourceName": "GranularAdminRelationship",
///   "AuditUri": null,
///   "ResourceChangeUtcDate": "2026-11-24T10:00:00.000Z"
/// }"#;
/// let event = WebhookEvent::parse(body)?;
/// assert!(event.is_relationship_approved());
/// assert_eq!(
///     event.relationship_id().as_deref(),
///     Some("7e4a6b1c-1d2e-4f3a-9b8c-0d1e2f3a4b5c-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
/// );
/// # Ok::<(), gdap_partner_center::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", try_from = "RawWebhookEvent")]
#[non_exhaustive]
pub struct WebhookEvent {
    /// The event, e.g. [`GDAP_RELATIONSHIP_APPROVED`] or [`TEST_CREATED`] (never blank).
    pub event_name: String,
    /// The changed resource, e.g.
    /// `https://api.partnercenter.microsoft.com/v1/granularAdminRelationships/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_uri: Option<String>,
    /// The kind of resource: `GranularAdminRelationship`, `GranularAdminAccessAssignment`,
    /// `test`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// The audit record of the change (`{baseURL}/auditactivity/v1/auditrecords/{id}`), often
    /// `null`. Fetch it only from `https://api.partnercenter.microsoft.com`, never from another
    /// host an event names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_uri: Option<String>,
    /// When the change happened, verbatim as sent (an ISO-8601 UTC timestamp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_change_utc_date: Option<String>,
}

/// The wire shape, lenient: every field optional so a missing `EventName` is its own error.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawWebhookEvent {
    #[serde(default, alias = "eventName")]
    event_name: Option<String>,
    #[serde(default, alias = "resourceUri")]
    resource_uri: Option<String>,
    #[serde(default, alias = "resourceName")]
    resource_name: Option<String>,
    #[serde(default, alias = "auditUri")]
    audit_uri: Option<String>,
    #[serde(default, alias = "resourceChangeUtcDate")]
    resource_change_utc_date: Option<String>,
}

impl TryFrom<RawWebhookEvent> for WebhookEvent {
    type Error = &'static str;

    fn try_from(raw: RawWebhookEvent) -> std::result::Result<Self, Self::Error> {
        match raw.event_name {
            Some(name) if !name.trim().is_empty() => Ok(WebhookEvent {
                event_name: name,
                resource_uri: raw.resource_uri,
                resource_name: raw.resource_name,
                audit_uri: raw.audit_uri,
                resource_change_utc_date: raw.resource_change_utc_date,
            }),
            _ => Err("the webhook event has no EventName"),
        }
    }
}

impl WebhookEvent {
    /// Decodes the body of a webhook callback request.
    ///
    /// Reads at most [`MAX_WEBHOOK_EVENT_BYTES`] (64 KiB); PascalCase or camelCase keys; unknown
    /// keys ignored. The signature headers are not checked here (see the type's docs: treat the
    /// event as a hint and re-read the resource).
    ///
    /// # Arguments
    /// * `body` - the raw request body, as received (UTF-8 JSON).
    ///
    /// # Errors
    /// [`Error::InvalidWebhookEvent`] ([`Error::is_decode`] is true) whose
    /// [`kind`](WebhookEventError::kind) is [`TooLarge`](WebhookEventErrorKind::TooLarge) for a
    /// body over 64 KiB, [`Malformed`](WebhookEventErrorKind::Malformed) for anything that is not
    /// a JSON object with string (or `null`) values for the known keys, and
    /// [`MissingEventName`](WebhookEventErrorKind::MissingEventName) when `EventName` is absent,
    /// `null` or blank. Answer such a request with 400.
    ///
    /// # Example
    /// ```
    /// use gdap_partner_center::WebhookEventErrorKind;
    /// use gdap_partner_center::models::WebhookEvent;
    ///
    /// let test = WebhookEvent::parse(br#"{"eventName": "test-created", "resourceName": "test"}"#)?;
    /// assert!(test.is_test());
    ///
    /// let err = WebhookEvent::parse(br#"{"ResourceName": "test"}"#).unwrap_err();
    /// assert!(err.is_decode());
    /// assert_eq!(
    ///     err.as_webhook_event_error().map(|e| e.kind()),
    ///     Some(WebhookEventErrorKind::MissingEventName)
    /// );
    /// # Ok::<(), gdap_partner_center::Error>(())
    /// ```
    pub fn parse(body: &[u8]) -> Result<WebhookEvent> {
        let refuse = |kind, reason: String| {
            Error::InvalidWebhookEvent(WebhookEventError {
                kind,
                len: body.len(),
                reason,
            })
        };
        if body.len() > MAX_WEBHOOK_EVENT_BYTES {
            return Err(refuse(WebhookEventErrorKind::TooLarge, String::new()));
        }
        let malformed = |e: serde_json::Error| {
            refuse(WebhookEventErrorKind::Malformed, shorten(&e.to_string()))
        };
        // Through `Value` so that only an object is accepted (a derived struct also takes an
        // array of its fields in order).
        let value: serde_json::Value = serde_json::from_slice(body).map_err(malformed)?;
        if !value.is_object() {
            return Err(refuse(
                WebhookEventErrorKind::Malformed,
                "expected a JSON object".to_owned(),
            ));
        }
        let raw = RawWebhookEvent::deserialize(value).map_err(malformed)?;
        WebhookEvent::try_from(raw)
            .map_err(|_| refuse(WebhookEventErrorKind::MissingEventName, String::new()))
    }

    /// The GDAP relationship the event is about: the `ResourceUri` path segment after
    /// `granularAdminRelationships/` (the segment name compared ASCII case-insensitively), when
    /// it is 1 to 100 hex digits and dashes. `None` for any other resource, a missing URI or an
    /// id of another shape.
    ///
    /// ```
    /// use gdap_partner_center::models::WebhookEvent;
    /// let e = WebhookEvent::parse(br#"{"EventName": "granular-admin-access-assignment-created",
    ///   "ResourceUri": "https://api.partnercenter.microsoft.com/v1/granularAdminRelationships/ab-12/accessAssignments/c3-d4"}"#)?;
    /// assert_eq!(e.relationship_id().as_deref(), Some("ab-12"));
    /// assert_eq!(e.access_assignment_id().as_deref(), Some("c3-d4"));
    /// # Ok::<(), gdap_partner_center::Error>(())
    /// ```
    pub fn relationship_id(&self) -> Option<String> {
        self.segment_after("granularAdminRelationships", |c| {
            c.is_ascii_hexdigit() || c == '-'
        })
    }

    /// The access assignment the event is about: the `ResourceUri` path segment after
    /// `/accessAssignments/`, when it is 1 to 100 letters, digits, `-` or `_` (the shape of a
    /// Graph assignment id). `None` otherwise.
    pub fn access_assignment_id(&self) -> Option<String> {
        self.segment_after("accessAssignments", |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        })
    }

    /// `granular-admin-relationship-approved`: the customer approved the relationship.
    pub fn is_relationship_approved(&self) -> bool {
        self.is(GDAP_RELATIONSHIP_APPROVED)
    }

    /// `granular-admin-relationship-activated`: the relationship is active.
    pub fn is_relationship_activated(&self) -> bool {
        self.is(GDAP_RELATIONSHIP_ACTIVATED)
    }

    /// The relationship ended: `granular-admin-relationship-terminated` or `-expired`.
    pub fn is_relationship_ended(&self) -> bool {
        self.is(GDAP_RELATIONSHIP_TERMINATED) || self.is(GDAP_RELATIONSHIP_EXPIRED)
    }

    /// One of the [`GDAP_ACCESS_ASSIGNMENT_EVENTS`] (created, activated, updated, deleted).
    pub fn is_access_assignment_event(&self) -> bool {
        GDAP_ACCESS_ASSIGNMENT_EVENTS.iter().any(|e| self.is(e))
    }

    /// `test-created`: a validation event (sent after `POST
    /// /webhooks/v1/registration/validationEvents`).
    pub fn is_test(&self) -> bool {
        self.is(TEST_CREATED)
    }

    /// Event names compare ASCII case-insensitively, like registrations.
    fn is(&self, name: &str) -> bool {
        self.event_name.trim().eq_ignore_ascii_case(name)
    }

    /// The path segment after the segment `name` in `ResourceUri`, validated.
    fn segment_after(&self, name: &str, allowed: fn(char) -> bool) -> Option<String> {
        let uri = self.resource_uri.as_deref()?;
        let path = uri.split(['?', '#']).next().unwrap_or_default();
        let mut segments = path.split('/');
        segments.find(|s| s.eq_ignore_ascii_case(name))?;
        let id = segments.next()?;
        let ok = !id.is_empty() && id.len() <= MAX_RESOURCE_ID_LEN && id.chars().all(allowed);
        ok.then(|| id.to_owned())
    }
}

/// The decoder's message, cut to [`REASON_LIMIT`] characters (it may quote the body).
fn shorten(s: &str) -> String {
    match s.char_indices().nth(REASON_LIMIT) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RID: &str = "7e4a6b1c-1d2e-4f3a-9b8c-0d1e2f3a4b5c-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
    const PC: &str = "https://api.partnercenter.microsoft.com/v1";

    fn event(name: &str, uri: Option<&str>) -> WebhookEvent {
        WebhookEvent {
            event_name: name.to_owned(),
            resource_uri: uri.map(str::to_owned),
            resource_name: None,
            audit_uri: None,
            resource_change_utc_date: None,
        }
    }

    fn kind_of(body: &[u8]) -> WebhookEventErrorKind {
        let err = WebhookEvent::parse(body).unwrap_err();
        assert!(err.is_decode(), "{err:?}");
        assert!(!err.is_retryable());
        assert!(err.details().is_none() && err.status().is_none());
        err.as_webhook_event_error().unwrap().kind()
    }

    #[test]
    fn events_are_read_in_both_casings_and_written_pascal_case() {
        let pascal = WebhookEvent::parse(
            serde_json::json!({
                "EventName": GDAP_RELATIONSHIP_APPROVED,
                "ResourceUri": format!("{PC}/granularAdminRelationships/{RID}"),
                "ResourceName": "GranularAdminRelationship",
                "AuditUri": null,
                "ResourceChangeUtcDate": "2026-11-24T10:00:00.000Z",
                "Unknown": {"nested": [1, 2]}
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let camel = WebhookEvent::parse(
            serde_json::json!({
                "eventName": GDAP_RELATIONSHIP_APPROVED,
                "resourceUri": format!("{PC}/granularAdminRelationships/{RID}"),
                "resourceName": "GranularAdminRelationship",
                "resourceChangeUtcDate": "2026-11-24T10:00:00.000Z"
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(pascal, camel);
        assert_eq!(pascal.audit_uri, None);
        assert_eq!(
            serde_json::to_value(&pascal).unwrap(),
            serde_json::json!({
                "EventName": GDAP_RELATIONSHIP_APPROVED,
                "ResourceUri": format!("{PC}/granularAdminRelationships/{RID}"),
                "ResourceName": "GranularAdminRelationship",
                "ResourceChangeUtcDate": "2026-11-24T10:00:00.000Z"
            })
        );
        // serde's own path applies the same rule as `parse`.
        let via_serde: WebhookEvent =
            serde_json::from_value(serde_json::to_value(&pascal).unwrap()).unwrap();
        assert_eq!(via_serde, pascal);
        assert!(serde_json::from_str::<WebhookEvent>(r#"{"EventName": " "}"#).is_err());
    }

    #[test]
    fn bodies_that_are_not_events_are_typed_decode_errors() {
        use WebhookEventErrorKind::{Malformed, MissingEventName, TooLarge};
        assert_eq!(kind_of(b""), Malformed);
        assert_eq!(kind_of(b"{"), Malformed);
        assert_eq!(kind_of(b"<html></html>"), Malformed);
        assert_eq!(kind_of(br#"["test-created"]"#), Malformed);
        assert_eq!(kind_of(b"\"test-created\""), Malformed);
        assert_eq!(kind_of(br#"{"EventName": 5}"#), Malformed);
        assert_eq!(
            kind_of(br#"{"EventName": "test-created", "ResourceUri": {}}"#),
            Malformed
        );
        assert_eq!(
            kind_of(br#"{"EventName": "a", "eventName": "b"}"#),
            Malformed
        );
        assert_eq!(kind_of(b"{}"), MissingEventName);
        assert_eq!(kind_of(br#"{"EventName": null}"#), MissingEventName);
        assert_eq!(kind_of(br#"{"eventName": "  "}"#), MissingEventName);
        assert_eq!(kind_of(br#"{"Event": "test-created"}"#), MissingEventName);

        let long = format!(
            "{{\"EventName\": \"{}\"}}",
            "x".repeat(MAX_WEBHOOK_EVENT_BYTES)
        );
        assert_eq!(kind_of(long.as_bytes()), TooLarge);
        let err = WebhookEvent::parse(long.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("at most 65536"), "{err}");
        assert!(
            !err.to_string().contains("xxxx"),
            "the body is not echoed: {err}"
        );

        // Exactly at the cap is read.
        let mut edge = br#"{"EventName": "test-created"}"#.to_vec();
        edge.resize(MAX_WEBHOOK_EVENT_BYTES, b' ');
        assert!(WebhookEvent::parse(&edge).unwrap().is_test());
        edge.push(b' ');
        assert_eq!(kind_of(&edge), TooLarge);

        // A decoder message quoting a long value is cut short.
        let quoted = format!(
            r#"{{"EventName": "a", "ResourceUri": ["{}"]}}"#,
            "y".repeat(500)
        );
        let err = WebhookEvent::parse(quoted.as_bytes()).unwrap_err();
        assert!(err.to_string().len() < 400, "{err}");
    }

    #[test]
    fn relationship_and_assignment_ids_come_from_the_resource_uri() {
        let rel = event(
            GDAP_RELATIONSHIP_ACTIVATED,
            Some(&format!("{PC}/granularAdminRelationships/{RID}")),
        );
        assert_eq!(rel.relationship_id().as_deref(), Some(RID));
        assert_eq!(rel.access_assignment_id(), None);

        let aid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        let asg = event(
            GDAP_ACCESS_ASSIGNMENT_CREATED,
            Some(&format!(
                "{PC}/granularAdminRelationships/{RID}/accessAssignments/{aid}?x=1"
            )),
        );
        assert_eq!(asg.relationship_id().as_deref(), Some(RID));
        assert_eq!(asg.access_assignment_id().as_deref(), Some(aid));

        let ok = |uri: &str| event("x", Some(uri)).relationship_id();
        assert_eq!(
            ok("/v1/granularadminrelationships/ABC-def").as_deref(),
            Some("ABC-def")
        );
        assert_eq!(
            ok(&format!("{PC}/granularAdminRelationships/{RID}/")).as_deref(),
            Some(RID)
        );
        assert_eq!(
            ok(&format!("{PC}/granularAdminRelationships/{RID}#f")).as_deref(),
            Some(RID)
        );
        assert_eq!(
            ok(&format!("/granularAdminRelationships/{}", "a".repeat(100))).map(|s| s.len()),
            Some(100)
        );
        for bad in [
            String::new(),
            format!("{PC}/granularAdminRelationships/"),
            format!("{PC}/granularAdminRelationships"),
            format!("{PC}/granularAdminRelationships//{RID}"),
            format!("{PC}/granularAdminRelationships/{RID}x"),
            format!("{PC}/granularAdminRelationships/..%2F{RID}"),
            format!("{PC}/granularAdminRelationships/{}", "a".repeat(101)),
            format!("{PC}/customers/{RID}"),
            format!("{PC}/xgranularAdminRelationships/{RID}"),
        ] {
            assert_eq!(ok(&bad), None, "{bad}");
        }
        assert_eq!(event("x", None).relationship_id(), None);
        let bad_aid = event(
            "x",
            Some("/granularAdminRelationships/ab/accessAssignments/a.b"),
        );
        assert_eq!(bad_aid.access_assignment_id(), None);
    }

    #[test]
    fn predicates_follow_the_event_name() {
        let e = |n| event(n, None);
        assert!(e(GDAP_RELATIONSHIP_APPROVED).is_relationship_approved());
        assert!(e("Granular-Admin-Relationship-Approved").is_relationship_approved());
        assert!(!e(GDAP_RELATIONSHIP_APPROVED).is_relationship_activated());
        assert!(e(GDAP_RELATIONSHIP_ACTIVATED).is_relationship_activated());
        assert!(e(GDAP_RELATIONSHIP_TERMINATED).is_relationship_ended());
        assert!(e(GDAP_RELATIONSHIP_EXPIRED).is_relationship_ended());
        assert!(!e(GDAP_RELATIONSHIP_ACTIVATED).is_relationship_ended());
        for name in GDAP_ACCESS_ASSIGNMENT_EVENTS {
            assert!(e(name).is_access_assignment_event(), "{name}");
            assert!(!e(name).is_relationship_approved());
        }
        assert!(!e(GDAP_RELATIONSHIP_APPROVED).is_access_assignment_event());
        assert!(e(TEST_CREATED).is_test());
        assert!(!e("subscription-updated").is_test());
        assert_eq!(
            GDAP_ACCESS_ASSIGNMENT_EVENTS,
            [
                "granular-admin-access-assignment-created",
                "granular-admin-access-assignment-activated",
                "granular-admin-access-assignment-updated",
                "granular-admin-access-assignment-deleted"
            ]
        );
    }

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
