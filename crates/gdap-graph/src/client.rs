//! [`GraphClient`], its builder, list options, the pager and update outcomes.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use gdap_core::{
    PageStyle, Pipeline, PipelineBuilder, Request, Response, RetryOptions, TokenCredential,
};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Result};

/// The public Graph v1.0 endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://graph.microsoft.com/v1.0";
/// The scope requested by default.
pub const DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Largest `$top` Graph accepts on the GDAP lists.
pub const MAX_TOP: u32 = 300;
/// Largest `$top` Graph accepts on the directory lists: groups, group members and a user's
/// `transitiveMemberOf` are checked against it (the consent lists keep [`MAX_TOP`]).
pub const MAX_DIRECTORY_TOP: u32 = 999;
/// The header value that makes Graph return evolvable enum members (`reject`,
/// `delegatedAdminRelationshipUpdate`) instead of `unknownFutureValue`.
pub const PREFER_UNKNOWN_ENUM_MEMBERS: &str = "include-unknown-enum-members";

/// Builds a [`GraphClient`].
///
/// ```no_run
/// # use std::sync::Arc;
/// # fn f(credential: Arc<dyn gdap_core::TokenCredential>) -> gdap_graph::Result<()> {
/// let client = gdap_graph::GraphClient::builder()
///     .with_credential(credential)
///     .with_retry(gdap_core::RetryOptions::default())
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GraphClientBuilder {
    endpoint: Option<Url>,
    scopes: Vec<String>,
    pipeline: PipelineBuilder,
}

impl Default for GraphClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            scopes: vec![DEFAULT_SCOPE.to_owned()],
            pipeline: Pipeline::builder().with_request_id_header("client-request-id"),
        }
    }
}

impl GraphClientBuilder {
    /// The Graph base URL, default `https://graph.microsoft.com/v1.0`. May carry a path prefix
    /// (`http://127.0.0.1:8080/graph/v1.0`).
    pub fn with_endpoint(mut self, endpoint: Url) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Where bearer tokens come from (required).
    pub fn with_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.pipeline = self.pipeline.with_credential(credential);
        self
    }

    /// The scopes asked of the credential, default `https://graph.microsoft.com/.default`.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The retry policy (default: the workspace policy).
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

    /// No per-attempt timeout; for tests on paused tokio time.
    pub fn without_timeout(mut self) -> Self {
        self.pipeline = self.pipeline.without_timeout();
        self
    }

    /// Shares an existing connection pool; the client must not follow redirects.
    pub fn with_reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.pipeline = self.pipeline.with_reqwest_client(client);
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::Core`] with an invalid-input error when the credential is missing or the endpoint
    /// is not an http(s) base URL.
    pub fn build(self) -> Result<GraphClient> {
        let endpoint = match self.endpoint {
            Some(e) => e,
            None => Url::parse(DEFAULT_ENDPOINT)
                .map_err(|e| gdap_core::Error::invalid_input("endpoint", e.to_string()))?,
        };
        let pipeline = self
            .pipeline
            .with_endpoint(endpoint)
            .with_scopes(self.scopes)
            .with_default_header("Prefer", PREFER_UNKNOWN_ENUM_MEMBERS)?
            .build()?;
        Ok(GraphClient { pipeline })
    }
}

/// A typed Microsoft Graph client for GDAP and for consent grants. Cheap to clone (`Arc` inside),
/// immutable, `Send + Sync`.
///
/// Every request carries `Authorization: Bearer …`, a fresh `client-request-id`, and
/// `Prefer: include-unknown-enum-members`.
#[derive(Debug, Clone)]
pub struct GraphClient {
    pub(crate) pipeline: Pipeline,
}

impl GraphClient {
    /// Starts a builder.
    pub fn builder() -> GraphClientBuilder {
        GraphClientBuilder::default()
    }

    /// The same client (endpoint, connection pool, retry policy) with another token source, e.g. a
    /// customer-tenant-scoped credential for the consent calls.
    pub fn with_credential(&self, credential: Arc<dyn TokenCredential>) -> GraphClient {
        GraphClient {
            pipeline: self.pipeline.with_credential(credential),
        }
    }

    /// The configured endpoint.
    pub fn endpoint(&self) -> &Url {
        self.pipeline.endpoint()
    }

    pub(crate) async fn send(&self, req: Request) -> Result<Response> {
        Ok(self.pipeline.send(req).await?)
    }

    pub(crate) async fn send_json<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        Ok(self.send(req).await?.json()?)
    }

    pub(crate) fn pager<T: DeserializeOwned + Send + 'static>(
        &self,
        path: String,
        options: Option<ListOptions>,
    ) -> Pager<T> {
        self.pager_with_max(path, options, MAX_TOP)
    }

    /// A pager over a directory list, where `$top` may go up to [`MAX_DIRECTORY_TOP`].
    pub(crate) fn directory_pager<T: DeserializeOwned + Send + 'static>(
        &self,
        path: String,
        options: Option<ListOptions>,
    ) -> Pager<T> {
        self.pager_with_max(path, options, MAX_DIRECTORY_TOP)
    }

    fn pager_with_max<T: DeserializeOwned + Send + 'static>(
        &self,
        path: String,
        options: Option<ListOptions>,
        max_top: u32,
    ) -> Pager<T> {
        match options
            .unwrap_or_default()
            .apply_with_max(Request::get(path), max_top)
        {
            Ok(req) => Pager::new(self.pipeline.clone(), req),
            Err(e) => Pager::failed(e),
        }
    }

    /// Resolves a `Location` header against the endpoint (it is absolute in Graph's answers).
    pub(crate) fn location(&self, resp: &Response) -> Result<Url> {
        let loc = resp
            .location()
            .ok_or_else(|| resp.decode_error("the response has no Location header"))?;
        self.endpoint().join(loc).map_err(|e| {
            resp.decode_error(format!("bad Location header: {e}"))
                .into()
        })
    }

    /// Turns a 200 (body) / 202 (Location) answer into an [`UpdateOutcome`].
    pub(crate) fn update_outcome<T: DeserializeOwned>(
        &self,
        resp: &Response,
    ) -> Result<UpdateOutcome<T>> {
        match resp.status() {
            202 => Ok(UpdateOutcome::Accepted {
                operation_url: self.location(resp)?,
                retry_after: resp.retry_after(),
            }),
            200 | 201 => Ok(UpdateOutcome::Updated(resp.json()?)),
            s => Err(resp
                .decode_error(format!("unexpected status {s} for an update"))
                .into()),
        }
    }
}

/// OData query options of a list call. Construct with `ListOptions::new()` and the setters, or a
/// struct literal with `..Default::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `$filter`, e.g. `status eq 'active'`.
    pub filter: Option<String>,
    /// `$select`: properties to return (empty = all).
    pub select: Vec<String>,
    /// `$top`: page size, 1..=300 on the GDAP lists ([`MAX_TOP`]), 1..=999 on the directory lists
    /// ([`MAX_DIRECTORY_TOP`]).
    pub top: Option<u32>,
    /// `$orderby`, e.g. `endDateTime asc`.
    pub orderby: Option<String>,
}

impl ListOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `$filter`.
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Sets `$select`.
    pub fn select<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `$top` (checked when the call is made: 1..=300 on the GDAP lists, 1..=999 on the
    /// directory lists).
    pub fn top(mut self, top: u32) -> Self {
        self.top = Some(top);
        self
    }

    /// Sets `$orderby`.
    pub fn orderby(mut self, orderby: impl Into<String>) -> Self {
        self.orderby = Some(orderby.into());
        self
    }

    /// Checks `$top` against the GDAP limit, 1..=[`MAX_TOP`]. The directory lists
    /// ([`GraphClient::list_groups`], …) check against [`MAX_DIRECTORY_TOP`] instead.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `$top`.
    pub fn validate(&self) -> Result<()> {
        self.validate_top(MAX_TOP)
    }

    fn validate_top(&self, max: u32) -> Result<()> {
        if let Some(top) = self.top
            && !(1..=max).contains(&top)
        {
            return Err(Error::validation(
                "$top",
                format!("{top} is outside 1..={max}"),
            ));
        }
        Ok(())
    }

    /// Validates against `max_top` and adds the options to `req`.
    pub(crate) fn apply_with_max(self, mut req: Request, max_top: u32) -> Result<Request> {
        self.validate_top(max_top)?;
        if let Some(f) = self.filter {
            req = req.query("$filter", f);
        }
        if !self.select.is_empty() {
            req = req.query("$select", self.select.join(","));
        }
        if let Some(t) = self.top {
            req = req.query("$top", t.to_string());
        }
        if let Some(o) = self.orderby {
            req = req.query("$orderby", o);
        }
        Ok(req)
    }
}

/// A lazy `Stream<Item = Result<T>>` over every item of a Graph listing, following
/// `@odata.nextLink` verbatim. `'static + Send`; consume with `TryStreamExt::try_next` or
/// `try_collect`. A failure ends the stream after yielding the error.
pub struct Pager<T> {
    inner: BoxStream<'static, Result<T>>,
}

impl<T> std::fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager").finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> Pager<T> {
    fn new(pipeline: Pipeline, first: Request) -> Self {
        Self {
            inner: gdap_core::Pager::new(pipeline, PageStyle::OData, first)
                .map_err(Error::from)
                .boxed(),
        }
    }

    pub(crate) fn failed(e: Error) -> Self {
        Self {
            inner: futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// Drains every page into a `Vec`.
    ///
    /// # Errors
    /// The first failure.
    pub async fn collect_all(self) -> Result<Vec<T>> {
        self.try_collect().await
    }
}

impl<T> Stream for Pager<T> {
    type Item = Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The answer to an update: done at once, or accepted as a long-running operation.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome<T> {
    /// 200: the updated (or, when nothing changed, the original) object.
    Updated(T),
    /// 202: poll `operation_url` (with [`GraphClient::wait_for_operation`]) after `retry_after`.
    Accepted {
        /// The operation (`.../delegatedAdminRelationships/{id}/operations/{opId}`).
        operation_url: Url,
        /// How long the service asked to wait before polling.
        retry_after: Option<Duration>,
    },
}

impl<T> UpdateOutcome<T> {
    /// The updated object, when the update completed at once.
    pub fn updated(self) -> Option<T> {
        match self {
            UpdateOutcome::Updated(t) => Some(t),
            UpdateOutcome::Accepted { .. } => None,
        }
    }

    /// The operation URL, when the update was accepted for later.
    pub fn operation_url(&self) -> Option<&Url> {
        match self {
            UpdateOutcome::Updated(_) => None,
            UpdateOutcome::Accepted { operation_url, .. } => Some(operation_url),
        }
    }
}
