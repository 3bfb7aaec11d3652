//! The token endpoint over the workspace's reqwest client: oauth2's `AsyncHttpClient` as a
//! closure, no redirects, bounded retries of requests the server provably did not act on, and
//! the mapping of oauth2's outcome to [`crate::Error`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gdap_core::RetryOptions;
use gdap_core::error::TransportKind;
use http::HeaderMap;
use oauth2::basic::BasicTokenType;
use oauth2::{HttpRequest, HttpResponse, RequestTokenError, TokenResponse as _};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, Error, Result, TokenErrorDetails, TransportError};

/// Largest token-endpoint body read (token responses are a few KB).
const MAX_BODY: usize = 256 * 1024;

/// Tuning of the token client shared by the credentials and the auth-code flow. `Default` is
/// what production uses.
#[derive(Debug, Clone)]
pub struct TokenClientOptions {
    /// Retries of the token POST. Only failures where Entra provably did not act are retried: a
    /// connection that never opened, HTTP 429, and HTTP 503 with `Retry-After`.
    pub retry: RetryOptions,
    /// Per-attempt timeout (connect + request + body). `None` disables it (paused-time tests).
    pub timeout: Option<Duration>,
    /// A cached token is refreshed when less than this is left of its lifetime (5 minutes).
    pub refresh_margin: Duration,
    /// `User-Agent` sent to the token endpoint.
    pub user_agent: String,
}

impl Default for TokenClientOptions {
    fn default() -> Self {
        Self {
            retry: RetryOptions::default().with_max_attempts(3),
            timeout: Some(Duration::from_secs(30)),
            refresh_margin: Duration::from_secs(300),
            user_agent: concat!("gdap-auth/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl TokenClientOptions {
    /// No per-attempt timeout: for `start_paused` tests, where an armed timer auto-advances
    /// while loopback I/O is in flight.
    pub fn without_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how long before expiry a cached token is refreshed.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }
}

/// The reqwest client for the token endpoint (built once per credential).
pub(crate) struct TokenHttp {
    client: std::result::Result<reqwest::Client, Arc<str>>,
    pub(crate) options: TokenClientOptions,
}

impl fmt::Debug for TokenHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenHttp")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl TokenHttp {
    pub(crate) fn new(options: TokenClientOptions) -> Self {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(options.user_agent.clone());
        if let Some(t) = options.timeout {
            b = b.timeout(t).connect_timeout(t);
        }
        let client = b.build().map_err(|e| Arc::from(e.to_string()));
        Self { client, options }
    }
}

/// What the last answer of a token exchange said outside its body.
#[derive(Debug, Default, Clone)]
struct Meta {
    status: Option<u16>,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    client_request_id: Option<String>,
}

/// One token exchange: sends (and re-sends) the request oauth2 built, remembers the answer's
/// status and headers, and turns oauth2's outcome into a [`crate::Error`].
pub(crate) struct Exchange {
    client: std::result::Result<reqwest::Client, Arc<str>>,
    retry: RetryOptions,
    tenant: String,
    meta: Mutex<Meta>,
}

/// A transport failure, as oauth2's `AsyncHttpClient::Error`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct HttpFailure {
    kind: TransportKind,
    message: String,
    #[source]
    source: Option<reqwest::Error>,
}

impl Exchange {
    pub(crate) fn new(http: &TokenHttp, tenant: &crate::TenantRef) -> Self {
        Self {
            client: http.client.clone(),
            retry: http.options.retry.clone(),
            tenant: tenant.to_string(),
            meta: Mutex::new(Meta::default()),
        }
    }

    /// Sends `request`, re-sending it while Entra provably did not act and the policy allows.
    async fn send(&self, request: HttpRequest) -> std::result::Result<HttpResponse, HttpFailure> {
        let client = self.client.as_ref().map_err(|e| HttpFailure {
            kind: TransportKind::Other,
            message: format!("could not build the HTTP client: {e}"),
            source: None,
        })?;
        let retry = &self.retry;
        let started = tokio::time::Instant::now();
        let mut attempt = 1usize;
        loop {
            let result = send_once(client, &request).await;
            let retry_wait = match &result {
                Err(f) if f.kind == TransportKind::Connect => Some(None),
                Ok((resp, meta)) => {
                    let s = resp.status().as_u16();
                    (s == 429 || (s == 503 && meta.retry_after.is_some()))
                        .then_some(meta.retry_after)
                }
                Err(_) => None,
            };
            let wait = retry_wait.and_then(|server_wait| {
                if attempt >= retry.max_attempts {
                    return None;
                }
                let exp = u32::try_from(attempt - 1).unwrap_or(u32::MAX).min(16);
                let backoff = retry
                    .initial_delay
                    .saturating_mul(1u32 << exp)
                    .min(retry.max_delay);
                let wait = server_wait.map_or(backoff, |s| s.max(backoff));
                (started.elapsed().saturating_add(wait) <= retry.total_deadline).then_some(wait)
            });
            match (wait, result) {
                (Some(wait), result) => {
                    tracing::debug!(
                        tenant = %self.tenant,
                        attempt,
                        status = result.as_ref().ok().map(|(r, _)| r.status().as_u16()),
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "retrying token request"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                (None, Ok((resp, meta))) => {
                    *self.meta.lock().unwrap_or_else(PoisonError::into_inner) = meta;
                    return Ok(resp);
                }
                (None, Err(e)) => return Err(e),
            }
        }
    }

    fn meta(&self) -> Meta {
        self.meta
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Maps oauth2's outcome. `sent_secrets` are scrubbed out of any text kept from the answer.
    pub(crate) fn finish(
        &self,
        outcome: std::result::Result<
            EntraTokenResponse,
            RequestTokenError<HttpFailure, EntraErrorResponse>,
        >,
        sent_secrets: &[&str],
    ) -> Result<EntraTokenResponse> {
        let meta = self.meta();
        let decode = |reason: String| {
            Error::Decode(Box::new(DecodeError {
                status: meta.status.unwrap_or(0),
                reason,
                trace_id: meta.request_id.clone(),
                correlation_id: meta.client_request_id.clone(),
                retry_after: meta.retry_after,
            }))
        };
        match outcome {
            Ok(tr) => {
                if tr.access_token().secret().is_empty() {
                    return Err(decode(
                        "the token response has an empty access_token".into(),
                    ));
                }
                Ok(tr)
            }
            Err(RequestTokenError::ServerResponse(e)) => {
                // Every text member is scrubbed: a broken or hostile endpoint may echo what was
                // sent in any of them, not only in `error_description`.
                let clean = |t: String| scrub(t, sent_secrets);
                let details = TokenErrorDetails {
                    status: meta.status,
                    description: e
                        .error_description
                        .as_deref()
                        .map(|d| crate::error::sanitize_description(d, sent_secrets)),
                    error: clean(e.error),
                    error_codes: e.error_codes,
                    suberror: e.suberror.map(clean),
                    trace_id: e.trace_id.map(clean).or(meta.request_id),
                    correlation_id: e.correlation_id.map(clean).or(meta.client_request_id),
                    timestamp: e.timestamp.map(clean),
                    tenant: Some(self.tenant.clone()),
                    retry_after: meta.retry_after,
                };
                Err(Error::from_details(details))
            }
            Err(RequestTokenError::Request(f)) => Err(Error::Transport(TransportError {
                kind: f.kind,
                message: f.message,
                source: f
                    .source
                    .map(|s| Box::new(s) as Box<dyn std::error::Error + Send + Sync>),
            })),
            // The body may hold a token: it is dropped, only the JSON path and error kind stay.
            Err(RequestTokenError::Parse(err, _body)) => {
                let status = meta.status.unwrap_or(0);
                if status != 200 {
                    return Err(decode(format!(
                        "HTTP {status} with a body that is not an Entra error response"
                    )));
                }
                let inner = err.inner();
                let what = if inner.is_data() {
                    let msg = inner.to_string();
                    if msg.starts_with("missing field") {
                        // "missing field `access_token` at line 1 column 40": names only the field.
                        msg
                    } else {
                        "a field has the wrong type or value".to_owned()
                    }
                } else if inner.is_eof() {
                    "the JSON ends early".to_owned()
                } else {
                    "the body is not valid JSON".to_owned()
                };
                let path = err.path().to_string();
                Err(decode(if path.is_empty() || path == "." {
                    format!("invalid token response: {what}")
                } else {
                    format!("invalid token response at `{path}`: {what}")
                }))
            }
            Err(RequestTokenError::Other(msg)) => Err(decode(msg)),
        }
    }
}

/// Replaces every secret that was sent with `[redacted]` in a short member of an error answer
/// (error code, ids, timestamp), then bounds its length. Unlike the description, a value is never
/// cut at a secret's prefix: codes such as `invalid_client` must survive intact.
fn scrub(mut t: String, secrets: &[&str]) -> String {
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if t.contains(secret) {
            t = t.replace(secret, "[redacted]");
        }
    }
    if t.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|i| t.is_char_boundary(*i))
            .unwrap_or(0);
        t.truncate(cut);
    }
    t
}

/// oauth2's HTTP client: `request_async(&exchange)`.
impl<'c> oauth2::AsyncHttpClient<'c> for Exchange {
    type Error = HttpFailure;
    type Future =
        Pin<Box<dyn Future<Output = std::result::Result<HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

async fn send_once(
    client: &reqwest::Client,
    request: &HttpRequest,
) -> std::result::Result<(HttpResponse, Meta), HttpFailure> {
    let req = client
        .request(request.method().clone(), request.uri().to_string())
        .headers(request.headers().clone())
        .body(request.body().clone());
    let mut resp = req.send().await.map_err(transport)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(HttpFailure {
                kind: TransportKind::Other,
                message: format!("token endpoint answer exceeded {MAX_BODY} bytes"),
                source: None,
            });
        }
        body.extend_from_slice(&chunk);
    }
    let meta = Meta {
        status: Some(status.as_u16()),
        retry_after: gdap_core::retry::parse_retry_after(&headers),
        request_id: header(&headers, "x-ms-request-id"),
        client_request_id: header(&headers, "client-request-id"),
    };
    let mut out = http::Response::builder().status(status);
    if let Some(h) = out.headers_mut() {
        *h = headers;
    }
    let resp = out.body(body).map_err(|e| HttpFailure {
        kind: TransportKind::Other,
        message: format!("could not rebuild the response: {e}"),
        source: None,
    })?;
    Ok((resp, meta))
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn transport(e: reqwest::Error) -> HttpFailure {
    let kind = if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_body() || e.is_decode() || e.is_request() {
        TransportKind::Interrupted
    } else {
        TransportKind::Other
    };
    let message = match kind {
        TransportKind::Connect => "could not connect to the token endpoint",
        TransportKind::Timeout => "the token endpoint did not answer in time",
        TransportKind::Interrupted => "the connection to the token endpoint broke",
        _ => "the token request failed",
    };
    HttpFailure {
        kind,
        message: message.to_owned(),
        source: Some(e.without_url()),
    }
}

/// Entra's token error body (graph-gdap.md §7.2).
#[derive(Clone, Deserialize, Serialize)]
pub(crate) struct EntraErrorResponse {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(default)]
    suberror: Option<String>,
}

impl oauth2::ErrorResponse for EntraErrorResponse {}

impl fmt::Debug for EntraErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraErrorResponse")
            .field("error", &self.error)
            .field("error_codes", &self.error_codes)
            .field("trace_id", &self.trace_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for EntraErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.error, self.error_codes)
    }
}

/// Entra's extra token response fields.
#[derive(Clone, Default, Deserialize, Serialize)]
pub(crate) struct EntraExtraFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ext_expires_in: Option<serde_json::Value>,
}

impl oauth2::ExtraTokenFields for EntraExtraFields {}

impl fmt::Debug for EntraExtraFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraExtraFields").finish_non_exhaustive()
    }
}

/// The token response type used with oauth2.
pub(crate) type EntraTokenResponse =
    oauth2::StandardTokenResponse<EntraExtraFields, BasicTokenType>;

/// Lifetime of a token response: `expires_in`, or 10 minutes when Entra did not say.
pub(crate) fn lifetime(tr: &EntraTokenResponse) -> Duration {
    tr.expires_in().unwrap_or(Duration::from_secs(600))
}

/// Builds a core access token from a response, expiring `lifetime` from now.
pub(crate) fn access_token(tr: &EntraTokenResponse) -> gdap_core::AccessToken {
    let lifetime = lifetime(tr);
    let expires_on = time::OffsetDateTime::now_utc()
        + time::Duration::try_from(lifetime).unwrap_or(time::Duration::HOUR);
    gdap_core::AccessToken::new(tr.access_token().secret().clone(), expires_on)
}
