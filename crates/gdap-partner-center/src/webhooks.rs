//! Webhook registration operations (`/webhooks/v1/registration`).

use std::net::IpAddr;

use gdap_core::{Request, Url};
use serde::{Deserialize, Serialize};

use crate::client::PartnerCenterClient;
use crate::error::Result;
use crate::models::WebhookRegistration;

const REGISTRATION_PATH: &str = "webhooks/v1/registration";
const EVENTS_PATH: &str = "webhooks/v1/registration/events";

/// The longest callback URL accepted, in bytes of its serialization.
const MAX_WEBHOOK_URL_LEN: usize = 2048;

/// How much of a rejected event name an error repeats.
const ECHO_LIMIT: usize = 64;

/// The `POST`/`PUT` body, PascalCase as Partner Center documents it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegistrationBody<'a> {
    webhook_url: &'a str,
    webhook_events: Vec<&'a str>,
}

/// What a `POST`/`PUT` answers, parsed leniently and completed from the request so a sparse echo
/// never turns a registration that was made into an error.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationEcho {
    #[serde(default, alias = "SubscriberId")]
    subscriber_id: Option<String>,
    #[serde(default, alias = "WebhookUrl")]
    webhook_url: Option<String>,
    #[serde(default, alias = "WebhookEvents")]
    webhook_events: Option<Vec<String>>,
    #[serde(default, alias = "LastModifiedTimestamp")]
    last_modified_timestamp: Option<String>,
}

/// The supported events: a bare array (documented) or a Partner Center collection.
#[derive(Deserialize)]
#[serde(untagged)]
enum EventList {
    Bare(Vec<String>),
    Collection {
        #[serde(default, alias = "value")]
        items: Vec<String>,
    },
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host_str() {
        Some(h) if h.eq_ignore_ascii_case("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

fn truncated(s: &str) -> String {
    match s.char_indices().nth(ECHO_LIMIT) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// Checks the callback URL and the events before anything is sent. Errors name the wire field and
/// never repeat the URL (it may carry a secret in its query).
fn validate<'a, S: AsRef<str>>(url: &'a Url, events: &'a [S]) -> Result<RegistrationBody<'a>> {
    let bad_url = |reason: String| gdap_core::Error::invalid_input("WebhookUrl", reason);
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(url) => {}
        "http" => {
            return Err(bad_url(
                "must use https (http is accepted only for a loopback host: localhost, \
                 127.0.0.0/8, [::1])"
                    .to_owned(),
            )
            .into());
        }
        other => {
            return Err(bad_url(format!("must use https, not `{}`", truncated(other))).into());
        }
    }
    let len = url.as_str().len();
    if len > MAX_WEBHOOK_URL_LEN {
        return Err(bad_url(format!(
            "is {len} characters long; at most {MAX_WEBHOOK_URL_LEN} are accepted"
        ))
        .into());
    }

    let bad_events = |reason: String| gdap_core::Error::invalid_input("WebhookEvents", reason);
    if events.is_empty() {
        return Err(bad_events("must name at least one event".to_owned()).into());
    }
    let mut names: Vec<&str> = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let name = e.as_ref();
        if name.trim().is_empty() {
            return Err(bad_events(format!("entry {i} is empty")).into());
        }
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(bad_events(format!("`{}` is listed twice", truncated(name))).into());
        }
        names.push(name);
    }
    Ok(RegistrationBody {
        webhook_url: url.as_str(),
        webhook_events: names,
    })
}

impl PartnerCenterClient {
    /// `GET /webhooks/v1/registration/events`: the event names Partner Center can deliver (for
    /// example [`GDAP_RELATIONSHIP_APPROVED`](crate::models::GDAP_RELATIONSHIP_APPROVED)). Accepts
    /// a bare array or a `{"items": [...]}` collection.
    ///
    /// # Errors
    /// As any call; a body that is not a list of strings is a decode error
    /// ([`Error::is_decode`](crate::Error::is_decode)).
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient) -> gdap_partner_center::Result<()> {
    /// use gdap_partner_center::models::GDAP_RELATIONSHIP_APPROVED;
    /// let events = client.list_webhook_events().await?;
    /// assert!(events.iter().any(|e| e == GDAP_RELATIONSHIP_APPROVED));
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "list_webhook_events"), err)]
    pub async fn list_webhook_events(&self) -> Result<Vec<String>> {
        let resp = self.send(Request::get(EVENTS_PATH)).await?;
        match resp.json::<EventList>().map_err(|e| self.map_err(e))? {
            EventList::Bare(items) | EventList::Collection { items } => Ok(items),
        }
    }

    /// `GET /webhooks/v1/registration`: the partner's webhook registration, or `None` when there
    /// is none (HTTP 404, an empty body or `null`).
    ///
    /// # Errors
    /// As any call (a 404 is not an error here); a body without `WebhookUrl` is a decode error.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient) -> gdap_partner_center::Result<()> {
    /// match client.get_webhook_registration().await? {
    ///     Some(r) => println!("{} receives {:?}", r.webhook_url, r.webhook_events),
    ///     None => println!("no webhook registered"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "get_webhook_registration"), err)]
    pub async fn get_webhook_registration(&self) -> Result<Option<WebhookRegistration>> {
        let resp = match self.send(Request::get(REGISTRATION_PATH)).await {
            Ok(resp) => resp,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        if resp.body().iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        resp.json().map_err(|e| self.map_err(e))
    }

    /// `POST /webhooks/v1/registration`: registers `url` to receive `events`. There is one
    /// registration per partner tenant; Partner Center answers 409 when it already exists (use
    /// [`update_webhook_registration`](Self::update_webhook_registration), or check with
    /// [`get_webhook_registration`](Self::get_webhook_registration) first).
    ///
    /// Sends `{"WebhookUrl": ..., "WebhookEvents": [...]}`. Not retried after the server may have
    /// acted (only on 429, 503 with `Retry-After`, or a connection that never opened); the retries
    /// of one call share one `MS-RequestId`. Fields the answer leaves out are taken from the
    /// request.
    ///
    /// # Arguments
    /// * `url` - the callback; `https` (plain `http` only for a loopback host, for tests), at most
    ///   2048 characters.
    /// * `events` - at least one event name, none empty, no duplicates (compared ASCII
    ///   case-insensitively). Whether Partner Center supports them is its call (see
    ///   [`list_webhook_events`](Self::list_webhook_events)); include
    ///   [`TEST_CREATED`](crate::models::TEST_CREATED) to be able to send validation events.
    ///
    /// # Errors
    /// * [`Error::WebhookRegistrationExists`](crate::Error::WebhookRegistrationExists)
    ///   ([`Error::is_conflict`](crate::Error::is_conflict)) when a registration already exists.
    ///   [`Error::is_already_exists`](crate::Error::is_already_exists) stays false: it is the
    ///   consent predicate.
    /// * [`Error::Core`](crate::Error::Core) with invalid input naming `WebhookUrl` or
    ///   `WebhookEvents`, before sending, when the arguments break the rules above.
    /// * Otherwise as any call (400 for an event Partner Center does not support).
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use gdap_core::Url;
    /// use gdap_partner_center::models::{GDAP_RELATIONSHIP_APPROVED, TEST_CREATED};
    /// let url = Url::parse("https://msp.example/hooks/partner-center")?;
    /// let events = [TEST_CREATED, GDAP_RELATIONSHIP_APPROVED];
    /// match client.create_webhook_registration(&url, &events).await {
    ///     Ok(r) => println!("registered as {:?}", r.subscriber_id),
    ///     Err(e) if e.is_conflict() => {
    ///         client.update_webhook_registration(&url, &events).await?;
    ///     }
    ///     Err(e) => return Err(e.into()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "create_webhook_registration", event_count = events.len()), err)]
    pub async fn create_webhook_registration<S: AsRef<str>>(
        &self,
        url: &Url,
        events: &[S],
    ) -> Result<WebhookRegistration> {
        let body = validate(url, events)?;
        let req = Request::post(REGISTRATION_PATH).json(&body)?;
        let resp = self
            .send(req)
            .await
            .map_err(crate::Error::into_webhook_conflict)?;
        self.registration_from(&resp, &body)
    }

    /// `PUT /webhooks/v1/registration`: replaces the callback URL and the events of the existing
    /// registration. Same body and rules as
    /// [`create_webhook_registration`](Self::create_webhook_registration); retried like any
    /// idempotent call, with one `MS-RequestId` across the retries.
    ///
    /// # Arguments
    /// * `url` - the new callback (same rules as for create).
    /// * `events` - the full new list of events (it replaces the old one).
    ///
    /// # Errors
    /// * [`Error::NotFound`](crate::Error::NotFound) when there is no registration to update:
    ///   create one.
    /// * [`Error::Core`](crate::Error::Core) with invalid input naming `WebhookUrl` or
    ///   `WebhookEvents`, before sending.
    /// * Otherwise as any call.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use gdap_core::Url;
    /// use gdap_partner_center::models::GDAP_APPROVAL_EVENTS;
    /// let url = Url::parse("https://msp.example/hooks/partner-center")?;
    /// let updated = client.update_webhook_registration(&url, GDAP_APPROVAL_EVENTS).await?;
    /// assert_eq!(updated.webhook_events.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "update_webhook_registration", event_count = events.len()), err)]
    pub async fn update_webhook_registration<S: AsRef<str>>(
        &self,
        url: &Url,
        events: &[S],
    ) -> Result<WebhookRegistration> {
        let body = validate(url, events)?;
        let req = Request::put(REGISTRATION_PATH).json(&body)?;
        let resp = self.send(req).await?;
        self.registration_from(&resp, &body)
    }

    /// `DELETE /webhooks/v1/registration`: removes the partner's registration; Partner Center
    /// stops delivering events. Success is 204 (any 2xx).
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) when there is none (a caller making sure it is
    /// gone may ignore it); otherwise as any call.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient) -> gdap_partner_center::Result<()> {
    /// match client.delete_webhook_registration().await {
    ///     Ok(()) => {}
    ///     Err(e) if e.is_not_found() => {}
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "delete_webhook_registration"), err)]
    pub async fn delete_webhook_registration(&self) -> Result<()> {
        self.send(Request::delete(REGISTRATION_PATH)).await?;
        Ok(())
    }

    /// The registration a `POST`/`PUT` answered, completed from what was sent.
    fn registration_from(
        &self,
        resp: &gdap_core::Response,
        sent: &RegistrationBody<'_>,
    ) -> Result<WebhookRegistration> {
        let sent_events = || {
            sent.webhook_events
                .iter()
                .map(|e| (*e).to_owned())
                .collect()
        };
        if resp.body().iter().all(u8::is_ascii_whitespace) {
            return Ok(WebhookRegistration::new(
                sent.webhook_url,
                sent.webhook_events.iter().copied(),
            ));
        }
        let echo: RegistrationEcho = resp.json().map_err(|e| self.map_err(e))?;
        let mut value = WebhookRegistration::new(
            echo.webhook_url
                .unwrap_or_else(|| sent.webhook_url.to_owned()),
            echo.webhook_events.unwrap_or_else(sent_events),
        );
        value.subscriber_id = echo.subscriber_id;
        value.last_modified_timestamp = echo.last_modified_timestamp;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn field_of(r: Result<RegistrationBody<'_>>) -> String {
        match r {
            Err(crate::Error::Core(gdap_core::Error::InvalidInput(i))) => i.field().to_owned(),
            Err(e) => panic!("unexpected error {e:?}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn callback_must_be_https_except_on_loopback() {
        let ev = ["test-created"];
        for ok in [
            "https://msp.example/h",
            "http://127.0.0.1:8080/h",
            "http://localhost/h",
            "http://LOCALHOST:1/h",
            "http://[::1]:9/h",
        ] {
            assert!(validate(&url(ok), &ev).is_ok(), "{ok}");
        }
        for bad in [
            "http://msp.example/h",
            "http://10.0.0.1/h",
            "http://localhost.evil.example/h",
            "ftp://msp.example/h",
        ] {
            assert_eq!(field_of(validate(&url(bad), &ev)), "WebhookUrl", "{bad}");
        }
        let long = url(&format!("https://msp.example/{}", "a".repeat(2048)));
        assert_eq!(field_of(validate(&long, &ev)), "WebhookUrl");
        let edge = format!("https://m.example/{}", "a".repeat(2048 - 18));
        assert_eq!(url(&edge).as_str().len(), 2048);
        assert!(validate(&url(&edge), &ev).is_ok());
    }

    #[test]
    fn events_must_be_present_distinct_and_non_empty() {
        let u = url("https://msp.example/h");
        let none: [&str; 0] = [];
        assert_eq!(field_of(validate(&u, &none)), "WebhookEvents");
        assert_eq!(field_of(validate(&u, &["a", " "])), "WebhookEvents");
        assert_eq!(field_of(validate(&u, &["a", "b", "A"])), "WebhookEvents");
        let owned = ["a".to_owned(), "b".to_owned()];
        let body = validate(&u, &owned).unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"WebhookUrl": "https://msp.example/h", "WebhookEvents": ["a", "b"]})
        );
    }
}
