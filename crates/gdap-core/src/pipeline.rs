//! The HTTP pipeline every client sends through.
//!
//! It resolves paths against the configured endpoint (which may carry a path prefix), refuses any
//! absolute URL on another origin, attaches the bearer token, a user agent and a per-call
//! client-request-id, applies the retry policy, bounds every response body, and turns non-success
//! answers into [`Error::Http`] with the service's code, message and ids.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::Retryable;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::credential::TokenCredential;
use crate::error::{
    BODY_SNIPPET_LIMIT, DecodeError, Error, ForeignOriginError, HttpError, Result, TransportError,
    TransportKind,
};
use crate::retry::{RetryOptions, next_wait, parse_retry_after, should_retry};
use crate::service_error::{DefaultErrorParser, ErrorBodyParser};

/// Characters escaped in query values. `$`, `'`, `(`, `)`, `,`, `/` and `:` stay literal because
/// OData expressions (`$filter=status eq 'active'`) are conventionally sent that way.
const QUERY_ESCAPE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']');

/// Default cap on a response body: generous for a page of 300 relationships, small enough that a
/// hostile endpoint cannot exhaust memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One logical call: method, target, query, headers, body, and whether it may be repeated.
#[derive(Clone)]
pub struct Request {
    method: Method,
    target: Target,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: Option<bool>,
    client_request_id: Option<String>,
}

#[derive(Clone, Debug)]
enum Target {
    Path(String),
    Url(Url),
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers are left out: callers may put credentials there.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A request for `path`, relative to the endpoint (a leading `/` is allowed; a `?query` part is
    /// kept).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            target: Target::Path(path.into()),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            idempotent: None,
            client_request_id: None,
        }
    }

    /// A request for an absolute URL received from the service (a next link, a `Location`). It is
    /// sent only if it has the endpoint's origin.
    pub fn for_url(method: Method, url: Url) -> Self {
        Self {
            target: Target::Url(url),
            ..Self::new(method, "")
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// `POST path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    /// `PATCH path`.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }
    /// `PUT path`.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }
    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Adds a query parameter (appended after any query in the path).
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub fn query_opt(self, key: impl Into<String>, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// Sets a header.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the name or value is not a valid header.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid_input("header name", format!("{name:?} is not valid")))?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::invalid_input(
                name.as_str().to_owned(),
                "value is not a valid header value",
            )
        })?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Sets `If-Match` and marks the call idempotent (a conditional write cannot apply twice).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the ETag is not a valid header value.
    pub fn if_match(self, etag: &str) -> Result<Self> {
        let mut r = self.header("if-match", etag)?;
        r.idempotent.get_or_insert(true);
        Ok(r)
    }

    /// Sets a JSON body.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `body` cannot be serialized.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_input("request body", e.to_string()))?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// Overrides whether the call may be repeated after the server might have acted.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    /// Uses `id` as the client request id (the same on every attempt of this call).
    pub fn client_request_id(mut self, id: impl Into<String>) -> Self {
        self.client_request_id = Some(id.into());
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// What identifies the request on the wire (resolved URL and headers), so a pager can tell
    /// when a service links a page to itself.
    pub(crate) fn wire_key(&self, pipeline: &Pipeline) -> Option<String> {
        let url = pipeline.resolve(self).ok()?;
        let mut headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}:{}", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.sort();
        Some(format!("{} {url} {}", self.method, headers.join("\n")))
    }

    fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ))
    }
}

/// A successful response, body fully read (and bounded).
#[derive(Clone)]
pub struct Response {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
    method: String,
    path: String,
    client_request_id: String,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("path", &self.path)
            .field("request_id", &self.request_id())
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// All response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// One header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }
    /// `Retry-After` (or `x-ms-retry-after-ms`).
    pub fn retry_after(&self) -> Option<Duration> {
        parse_retry_after(&self.headers)
    }
    /// The server's request id.
    pub fn request_id(&self) -> Option<&str> {
        request_id_from(&self.headers)
    }
    /// The client request id sent with this call.
    pub fn client_request_id(&self) -> &str {
        &self.client_request_id
    }
    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decodes the body as JSON.
    ///
    /// # Errors
    /// [`Error::Decode`] with status, request id and a body snippet when the body is not the
    /// expected JSON (including an HTML page served with 200).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(e.to_string()))
    }

    /// A decode error about this response.
    pub fn decode_error(&self, reason: impl Into<String>) -> Error {
        Error::Decode(Box::new(DecodeError {
            method: self.method.clone(),
            path: self.path.clone(),
            status: self.status,
            request_id: self.request_id().map(str::to_owned),
            client_request_id: Some(self.client_request_id.clone()),
            content_type: self.header("content-type").map(str::to_owned),
            reason: reason.into(),
            body: snippet(&self.body),
        }))
    }
}

fn request_id_from(headers: &HeaderMap) -> Option<&str> {
    ["request-id", "x-ms-request-id", "ms-cv", "ms-serverid"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
}

fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(BODY_SNIPPET_LIMIT)];
    String::from_utf8_lossy(cut).into_owned()
}

/// Builds a [`Pipeline`].
pub struct PipelineBuilder {
    endpoint: Option<Url>,
    credential: Option<Arc<dyn TokenCredential>>,
    scopes: Vec<String>,
    retry: RetryOptions,
    user_agent: String,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    http: Option<reqwest::Client>,
    error_parser: Arc<dyn ErrorBodyParser>,
    request_id_header: HeaderName,
    default_headers: HeaderMap,
    max_body_bytes: usize,
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("endpoint", &self.endpoint)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            credential: None,
            scopes: Vec::new(),
            retry: RetryOptions::default(),
            user_agent: concat!("gdap/", env!("CARGO_PKG_VERSION")).to_owned(),
            timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(10),
            http: None,
            error_parser: Arc::new(DefaultErrorParser),
            request_id_header: HeaderName::from_static("client-request-id"),
            default_headers: HeaderMap::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl PipelineBuilder {
    /// The base URL every relative path is resolved against; may carry a path prefix.
    pub fn with_endpoint(mut self, endpoint: Url) -> Self {
        self.endpoint = Some(endpoint);
        self
    }
    /// Where bearer tokens come from.
    pub fn with_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.credential = Some(credential);
        self
    }
    /// The scopes requested from the credential.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
    /// The retry policy.
    pub fn with_retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }
    /// The `User-Agent`.
    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Per-attempt timeout (connect, send, and read of the whole body).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// No per-attempt timeout (the retry deadline still bounds waits between attempts). Meant for
    /// tests on paused time, where an armed timer would fire while real I/O is in flight.
    pub fn without_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }
    /// Connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Shares an existing connection pool. It must not follow redirects.
    pub fn with_reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }
    /// How error bodies are read.
    pub fn with_error_parser(mut self, parser: Arc<dyn ErrorBodyParser>) -> Self {
        self.error_parser = parser;
        self
    }
    /// The header carrying the per-call client request id (`client-request-id` for Graph,
    /// `MS-RequestId` for Partner Center).
    ///
    /// # Panics
    /// Never; an invalid name is ignored and the default kept.
    pub fn with_request_id_header(mut self, name: &str) -> Self {
        if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
            self.request_id_header = n;
        }
        self
    }
    /// A header sent on every request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the name or value is not valid.
    pub fn with_default_header(mut self, name: &str, value: &str) -> Result<Self> {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid_input("header name", format!("{name:?} is not valid")))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_input(name.to_owned(), "not a valid header value"))?;
        self.default_headers.insert(n, v);
        Ok(self)
    }
    /// Largest response body read before giving up.
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the endpoint or credential is missing, or the endpoint is not
    /// http(s).
    pub fn build(self) -> Result<Pipeline> {
        let endpoint = self
            .endpoint
            .ok_or_else(|| Error::invalid_input("endpoint", "is required"))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() {
            return Err(Error::invalid_input(
                "endpoint",
                format!("{endpoint} is not an http(s) base URL"),
            ));
        }
        let credential = self
            .credential
            .ok_or_else(|| Error::invalid_input("credential", "is required"))?;
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| Error::invalid_input("http client", e.to_string()))?,
        };
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::invalid_input("user agent", "not a valid header value"))?;
        Ok(Pipeline {
            inner: Arc::new(Inner {
                http,
                endpoint,
                credential,
                scopes: self.scopes,
                retry: self.retry,
                user_agent,
                timeout: self.timeout,
                error_parser: self.error_parser,
                request_id_header: self.request_id_header,
                default_headers: self.default_headers,
                max_body_bytes: self.max_body_bytes,
            }),
        })
    }
}

/// A configured HTTP pipeline. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    http: reqwest::Client,
    endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    scopes: Vec<String>,
    retry: RetryOptions,
    user_agent: HeaderValue,
    timeout: Option<Duration>,
    error_parser: Arc<dyn ErrorBodyParser>,
    request_id_header: HeaderName,
    default_headers: HeaderMap,
    max_body_bytes: usize,
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("scopes", &self.inner.scopes)
            .field("credential", &self.inner.credential)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Starts a builder.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The configured endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The retry options in force.
    pub fn retry_options(&self) -> &RetryOptions {
        &self.inner.retry
    }

    /// The same pipeline (connection pool, policy, endpoint) with another credential — e.g. a
    /// customer-tenant token source.
    pub fn with_credential(&self, credential: Arc<dyn TokenCredential>) -> Pipeline {
        let mut inner = (*self.inner).clone();
        inner.credential = credential;
        Pipeline {
            inner: Arc::new(inner),
        }
    }

    /// Resolves a request's target to a URL on the configured origin.
    ///
    /// # Errors
    /// [`Error::ForeignOrigin`] for an absolute URL on another origin.
    pub fn resolve(&self, req: &Request) -> Result<Url> {
        let endpoint = &self.inner.endpoint;
        let mut url = match &req.target {
            Target::Url(u) => {
                self.check_origin(u, "a URL from the service")?;
                u.clone()
            }
            Target::Path(p) => {
                let (path, query) = match p.split_once('?') {
                    Some((a, b)) => (a, Some(b)),
                    None => (p.as_str(), None),
                };
                let mut url = endpoint.clone();
                let base = endpoint.path().trim_end_matches('/');
                url.set_path(&format!("{base}/{}", path.trim_start_matches('/')));
                url.set_query(query);
                url.set_fragment(None);
                url
            }
        };
        if !req.query.is_empty() {
            let mut q = url.query().unwrap_or_default().to_owned();
            for (k, v) in &req.query {
                if !q.is_empty() {
                    q.push('&');
                }
                q.extend(utf8_percent_encode(k, QUERY_ESCAPE));
                q.push('=');
                q.extend(utf8_percent_encode(v, QUERY_ESCAPE));
            }
            url.set_query(Some(&q));
        }
        Ok(url)
    }

    /// Checks that `url` is on the endpoint's origin.
    ///
    /// # Errors
    /// [`Error::ForeignOrigin`] when it is not.
    pub fn check_origin(&self, url: &Url, what: &'static str) -> Result<()> {
        let expected = self.inner.endpoint.origin();
        if url.origin() == expected {
            Ok(())
        } else {
            Err(Error::ForeignOrigin(ForeignOriginError {
                what,
                origin: url.origin().ascii_serialization(),
                expected: expected.ascii_serialization(),
            }))
        }
    }

    /// Sends a request under the retry policy and returns the successful response.
    ///
    /// # Errors
    /// Any [`Error`]: the last attempt's failure when retries are exhausted or not allowed.
    pub async fn send(&self, req: Request) -> Result<Response> {
        let url = self.resolve(&req)?;
        let idempotent = req.is_idempotent();
        let client_request_id = req
            .client_request_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let started = tokio::time::Instant::now();
        let deadline = self.inner.retry.total_deadline;
        let req = &req;
        let url = &url;
        let crid = client_request_id.as_str();
        let attempt = || async move { self.attempt(req, url, crid).await };
        attempt
            .retry(self.inner.retry.backoff())
            .sleep(tokio::time::sleep)
            .when(|e| should_retry(e, idempotent))
            .adjust(|e, d| next_wait(d, e, started.elapsed(), deadline))
            .notify(|e, wait| {
                tracing::debug!(
                    method = %req.method,
                    path = url.path(),
                    status = e.status(),
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
            })
            .await
    }

    /// Sends and decodes a JSON body.
    ///
    /// # Errors
    /// As [`Pipeline::send`], plus [`Error::Decode`].
    pub async fn send_json<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        self.send(req).await?.json()
    }

    async fn attempt(&self, req: &Request, url: &Url, crid: &str) -> Result<Response> {
        let inner = &*self.inner;
        let method = req.method.as_str().to_owned();
        let path = url.path().to_owned();
        let scopes: Vec<&str> = inner.scopes.iter().map(String::as_str).collect();
        let token = inner.credential.get_token(&scopes).await?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| Error::invalid_input("access token", "not a valid header value"))?;
        auth.set_sensitive(true);

        let mut headers = inner.default_headers.clone();
        headers.insert(http::header::USER_AGENT, inner.user_agent.clone());
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(crid) {
            headers.insert(inner.request_id_header.clone(), v);
        }
        for (k, v) in &req.headers {
            headers.insert(k.clone(), v.clone());
        }
        headers.insert(http::header::AUTHORIZATION, auth);

        let mut rb = inner
            .http
            .request(req.method.clone(), url.clone())
            .headers(headers);
        if let Some(t) = inner.timeout {
            rb = rb.timeout(t);
        }
        if let Some(body) = &req.body {
            rb = rb
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let mut resp = rb
            .send()
            .await
            .map_err(|e| transport_error(e, &method, &path))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();

        let limit = inner.max_body_bytes;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(Error::BodyTooLarge {
                method,
                path,
                limit,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport_error(e, &method, &path))?
        {
            if body.len() + chunk.len() > limit {
                return Err(Error::BodyTooLarge {
                    method,
                    path,
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(%method, path, status, request_id = request_id_from(&headers), "response");

        if (200..300).contains(&status) {
            return Ok(Response {
                status,
                headers,
                body: Bytes::from(body),
                method,
                path,
                client_request_id: crid.to_owned(),
            });
        }
        let parsed = inner.error_parser.parse(status, &body);
        let message = if (300..400).contains(&status) {
            let to = headers
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            Some(format!("redirect to {to} not followed"))
        } else {
            parsed.message
        };
        Err(Error::Http(Box::new(HttpError {
            method,
            path,
            status,
            service_code: parsed.code,
            inner_code: parsed.inner_code,
            message,
            request_id: parsed
                .request_id
                .or_else(|| request_id_from(&headers).map(str::to_owned)),
            client_request_id: Some(crid.to_owned()),
            date: parsed.date,
            retry_after: parse_retry_after(&headers),
            data: parsed.data,
            body: snippet(&body),
        })))
    }
}

fn transport_error(e: reqwest::Error, method: &str, path: &str) -> Error {
    let kind = if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_builder() || e.is_redirect() {
        TransportKind::Other
    } else {
        TransportKind::Interrupted
    };
    let e = e.without_url();
    Error::Transport(TransportError {
        kind,
        method: method.to_owned(),
        path: path.to_owned(),
        message: e.to_string(),
        source: Some(Box::new(e)),
    })
}
