//! [`PartnerCenterClient`] and its builder.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use gdap_core::{Pipeline, PipelineBuilder, Request, RetryOptions, TokenCredential, Url};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The global-cloud Partner Center endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.partnercenter.microsoft.com";

/// The scope requested from the credential unless [`PartnerCenterClientBuilder::with_scopes`] says
/// otherwise.
pub const DEFAULT_SCOPE: &str = "https://api.partnercenter.microsoft.com/.default";

/// Header carrying the per-call idempotency key (the same on every retry of one call).
pub(crate) const REQUEST_ID_HEADER: &str = "MS-RequestId";
/// Header carrying the client's correlation id.
pub(crate) const CORRELATION_ID_HEADER: &str = "MS-CorrelationId";
/// Response header reporting whether the token carried MFA.
pub(crate) const MFA_COMPLIANT_HEADER: &str = "ismfacompliant";

/// Builds a [`PartnerCenterClient`].
pub struct PartnerCenterClientBuilder {
    endpoint: Option<Url>,
    credential: Option<Arc<dyn TokenCredential>>,
    scopes: Vec<String>,
    correlation_id: Option<Uuid>,
    validate_mfa: bool,
    pipeline: PipelineBuilder,
}

impl fmt::Debug for PartnerCenterClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerCenterClientBuilder")
            .field("endpoint", &self.endpoint.as_ref().map(Url::as_str))
            .field("scopes", &self.scopes)
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}

impl PartnerCenterClientBuilder {
    fn new() -> Self {
        Self {
            endpoint: None,
            credential: None,
            scopes: vec![DEFAULT_SCOPE.to_owned()],
            correlation_id: None,
            validate_mfa: false,
            pipeline: Pipeline::builder(),
        }
    }

    /// The Partner Center base URL; default [`DEFAULT_ENDPOINT`]. It may carry a path prefix
    /// (`http://127.0.0.1:8080/partnercenter`): operations are sent to `{endpoint}/v1/...`.
    pub fn with_endpoint(mut self, endpoint: Url) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Where bearer tokens come from (required). Consent calls need an App+User token with MFA.
    pub fn with_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The scopes requested from the credential; default [`DEFAULT_SCOPE`].
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The retry policy (default: gdap-core's). A `POST` is retried only where that policy allows
    /// a non-idempotent call (429, 503 with `Retry-After`, a connection that never opened); every
    /// retry of one call carries the same `MS-RequestId`.
    pub fn with_retry(mut self, retry: RetryOptions) -> Self {
        self.pipeline = self.pipeline.with_retry(retry);
        self
    }

    /// The `User-Agent`.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.pipeline = self.pipeline.with_user_agent(user_agent);
        self
    }

    /// Per-attempt timeout (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.pipeline = self.pipeline.with_timeout(timeout);
        self
    }

    /// No per-attempt timeout. For tests on paused tokio time.
    pub fn without_timeout(mut self) -> Self {
        self.pipeline = self.pipeline.without_timeout();
        self
    }

    /// Shares a connection pool. The client must not follow redirects.
    pub fn with_reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.pipeline = self.pipeline.with_reqwest_client(client);
        self
    }

    /// The `MS-CorrelationId` sent on every call of this client; default a random v4 UUID made by
    /// [`build`](Self::build). Use one client (or one correlation id) per logical job so Partner
    /// Center support can find all of its calls.
    pub fn with_correlation_id(mut self, correlation_id: Uuid) -> Self {
        self.correlation_id = Some(correlation_id);
        self
    }

    /// Sends `ValidateMfa: true` on every call, asking Partner Center to report MFA compliance in
    /// the `isMfaCompliant` response header. Off by default.
    pub fn with_validate_mfa(mut self, yes: bool) -> Self {
        self.validate_mfa = yes;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::Core`] with an invalid-input error when the credential is missing or the endpoint
    /// is not an http(s) base URL.
    pub fn build(self) -> Result<PartnerCenterClient> {
        let endpoint = match self.endpoint {
            Some(e) => e,
            None => Url::parse(DEFAULT_ENDPOINT)
                .map_err(|e| gdap_core::Error::invalid_input("endpoint", e.to_string()))?,
        };
        let credential = self
            .credential
            .ok_or_else(|| gdap_core::Error::invalid_input("credential", "is required"))?;
        let correlation_id = self.correlation_id.unwrap_or_else(Uuid::new_v4);
        let mut pipeline = self
            .pipeline
            .with_endpoint(endpoint)
            .with_credential(credential)
            .with_scopes(self.scopes)
            .with_request_id_header(REQUEST_ID_HEADER)
            .with_default_header(CORRELATION_ID_HEADER, &correlation_id.to_string())?;
        if self.validate_mfa {
            pipeline = pipeline.with_default_header("ValidateMfa", "true")?;
        }
        Ok(PartnerCenterClient {
            inner: Arc::new(Inner {
                pipeline: pipeline.build()?,
                correlation_id: correlation_id.to_string().into(),
            }),
        })
    }
}

/// A typed Partner Center client: customers, CPV application consents and the webhook
/// registration.
///
/// Cheap to clone, immutable, `Send + Sync`. Every call carries `Authorization`,
/// `Accept: application/json`, a fresh `MS-RequestId` (kept across the retries of that call) and the
/// client's `MS-CorrelationId`.
#[derive(Clone)]
pub struct PartnerCenterClient {
    inner: Arc<Inner>,
}

struct Inner {
    pipeline: Pipeline,
    correlation_id: Arc<str>,
}

impl fmt::Debug for PartnerCenterClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerCenterClient")
            .field("pipeline", &self.inner.pipeline)
            .field("correlation_id", &self.inner.correlation_id)
            .finish_non_exhaustive()
    }
}

impl PartnerCenterClient {
    /// Starts a builder.
    pub fn builder() -> PartnerCenterClientBuilder {
        PartnerCenterClientBuilder::new()
    }

    /// The configured endpoint.
    pub fn endpoint(&self) -> &Url {
        self.inner.pipeline.endpoint()
    }

    /// The `MS-CorrelationId` this client sends on every call.
    pub fn correlation_id(&self) -> &str {
        &self.inner.correlation_id
    }

    pub(crate) fn map_err(&self, e: gdap_core::Error) -> Error {
        Error::from_core(e, &self.inner.correlation_id)
    }

    pub(crate) async fn send(&self, req: Request) -> Result<gdap_core::Response> {
        self.inner
            .pipeline
            .send(req)
            .await
            .map_err(|e| self.map_err(e))
    }

    pub(crate) fn meta(&self, resp: &gdap_core::Response) -> ResponseMeta {
        ResponseMeta::from_response(resp, &self.inner.correlation_id)
    }

    pub(crate) fn pager<T: DeserializeOwned + Send + 'static>(
        &self,
        first: Request,
        rewrite: gdap_core::LinkRewrite,
    ) -> Pager<T> {
        Pager {
            inner: gdap_core::Pager::with_link_rewrite(
                self.inner.pipeline.clone(),
                gdap_core::PageStyle::Continuation,
                first,
                rewrite,
            ),
            correlation_id: self.inner.correlation_id.clone(),
        }
    }
}

/// What the response headers of a successful call said.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status.
    pub status: u16,
    /// The call's `MS-RequestId` (as echoed by the service, else as sent).
    pub request_id: String,
    /// The call's `MS-CorrelationId` (as echoed by the service, else as sent).
    pub correlation_id: String,
    /// The `isMfaCompliant` header: `Some(false)` means the token had no MFA claim and the call
    /// will fail once Partner Center enforces MFA; `None` when the header was absent (App-only
    /// tokens, or before enforcement).
    pub is_mfa_compliant: Option<bool>,
}

impl ResponseMeta {
    fn from_response(resp: &gdap_core::Response, correlation_id: &str) -> Self {
        Self {
            status: resp.status(),
            request_id: resp
                .header(REQUEST_ID_HEADER)
                .unwrap_or(resp.client_request_id())
                .to_owned(),
            correlation_id: resp
                .header(CORRELATION_ID_HEADER)
                .unwrap_or(correlation_id)
                .to_owned(),
            is_mfa_compliant: resp.header(MFA_COMPLIANT_HEADER).and_then(|v| {
                match v.trim().to_ascii_lowercase().as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                }
            }),
        }
    }
}

/// A value plus the response metadata of the call that produced it (returned by the
/// `*_with_meta` methods).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WithMeta<T> {
    /// The decoded result.
    pub value: T,
    /// Status, ids and `isMfaCompliant`.
    pub meta: ResponseMeta,
}

impl<T> WithMeta<T> {
    /// The value, dropping the metadata.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// A lazy `Stream<Item = Result<T>>` over a Partner Center collection: it fetches the next page
/// (following `links.next` and its `MS-ContinuationToken` header) only when the current one is
/// drained. Errors are classified like every other call; the stream ends after yielding one.
pub struct Pager<T> {
    inner: gdap_core::Pager<T>,
    correlation_id: Arc<str>,
}

impl<T> fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager").finish_non_exhaustive()
    }
}

impl<T> Stream for Pager<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let cid = &this.correlation_id;
        Pin::new(&mut this.inner)
            .poll_next(cx)
            .map(|o| o.map(|r| r.map_err(|e| Error::from_core(e, cid))))
    }
}
