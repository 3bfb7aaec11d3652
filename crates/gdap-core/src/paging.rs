//! Lazy paging: a `Stream` of items that fetches the next page only when the current one is
//! drained, so at most one page is held in memory.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use http::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::Result;
use crate::pipeline::{Pipeline, Request, Response};

/// How a service links one page to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageStyle {
    /// Graph: `{"value": [...], "@odata.nextLink": "<absolute url>"}`.
    OData,
    /// Partner Center: `{"items": [...], "links": {"next": {"uri", "headers"}}}`, or a bare
    /// `continuationToken` replayed as the `MS-ContinuationToken` header.
    Continuation,
}

#[derive(Deserialize)]
struct ODataPage<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct ContinuationPage<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(rename = "continuationToken")]
    continuation_token: Option<String>,
    links: Option<Links>,
}

#[derive(Deserialize)]
struct Links {
    next: Option<Link>,
}

#[derive(Deserialize)]
struct Link {
    uri: String,
    #[serde(default)]
    headers: Vec<LinkHeader>,
}

#[derive(Deserialize)]
struct LinkHeader {
    key: String,
    value: String,
}

/// One page: its items and the request for the next one.
#[derive(Debug)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The request that fetches the next page, if there is one.
    pub next: Option<Request>,
}

/// Rewrites a relative continuation link (`links.next.uri`) before it is resolved against the
/// endpoint; e.g. Partner Center adds a missing `/v1` prefix this way.
pub type LinkRewrite = fn(&str) -> String;

/// Parses a page of `style` out of a response; `first` is the request that started the listing
/// (used to replay a bare continuation token).
///
/// # Errors
/// [`crate::Error::Decode`] for a malformed page. A next link on another origin is refused later,
/// when [`Pipeline::send`] resolves it.
pub fn parse_page<T: DeserializeOwned>(
    style: PageStyle,
    first: &Request,
    resp: &Response,
) -> Result<Page<T>> {
    parse_page_with(style, first, resp, None)
}

/// [`parse_page`], passing a relative `links.next.uri` through `rewrite` first.
///
/// # Errors
/// As [`parse_page`].
pub fn parse_page_with<T: DeserializeOwned>(
    style: PageStyle,
    first: &Request,
    resp: &Response,
    rewrite: Option<LinkRewrite>,
) -> Result<Page<T>> {
    match style {
        PageStyle::OData => {
            let page: ODataPage<T> = resp.json()?;
            let next = match page.next_link {
                Some(link) => {
                    // The origin is checked when the next page is sent, so this page's items are
                    // still delivered before the refusal.
                    let url = Url::parse(&link)
                        .map_err(|e| resp.decode_error(format!("bad @odata.nextLink: {e}")))?;
                    Some(Request::for_url(Method::GET, url))
                }
                None => None,
            };
            Ok(Page {
                items: page.value,
                next,
            })
        }
        PageStyle::Continuation => {
            let page: ContinuationPage<T> = resp.json()?;
            let next = match (page.links.and_then(|l| l.next), page.continuation_token) {
                (Some(link), _) => {
                    let mut req = if link.uri.starts_with("http://")
                        || link.uri.starts_with("https://")
                    {
                        let url = Url::parse(&link.uri)
                            .map_err(|e| resp.decode_error(format!("bad links.next.uri: {e}")))?;
                        Request::for_url(Method::GET, url)
                    } else {
                        match rewrite {
                            Some(f) => Request::get(f(&link.uri)),
                            None => Request::get(link.uri),
                        }
                    };
                    for h in &link.headers {
                        req = req.header(&h.key, &h.value)?;
                    }
                    Some(req)
                }
                (None, Some(token)) if !token.is_empty() => {
                    Some(first.clone().header("MS-ContinuationToken", &token)?)
                }
                _ => None,
            };
            Ok(Page {
                items: page.items,
                next,
            })
        }
    }
}

/// A lazy `Stream<Item = Result<T>>` over every item of a paged listing.
///
/// The pager owns a clone of the pipeline, so it is `'static + Send`. A failure ends the stream
/// after yielding the error.
pub struct Pager<T> {
    inner: BoxStream<'static, Result<T>>,
}

impl<T> std::fmt::Debug for Pager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager").finish_non_exhaustive()
    }
}

struct State<T> {
    pipeline: Pipeline,
    style: PageStyle,
    first: Request,
    next: Option<Request>,
    buffer: VecDeque<T>,
    failed: bool,
    rewrite: Option<LinkRewrite>,
}

impl<T: DeserializeOwned + Send + 'static> Pager<T> {
    /// Lists starting at `first`.
    pub fn new(pipeline: Pipeline, style: PageStyle, first: Request) -> Self {
        Self::build(pipeline, style, first, None)
    }

    /// Lists starting at `first`, passing each relative continuation link through `rewrite`.
    pub fn with_link_rewrite(
        pipeline: Pipeline,
        style: PageStyle,
        first: Request,
        rewrite: LinkRewrite,
    ) -> Self {
        Self::build(pipeline, style, first, Some(rewrite))
    }

    fn build(
        pipeline: Pipeline,
        style: PageStyle,
        first: Request,
        rewrite: Option<LinkRewrite>,
    ) -> Self {
        let state = State {
            pipeline,
            style,
            next: Some(first.clone()),
            first,
            buffer: VecDeque::new(),
            failed: false,
            rewrite,
        };
        let inner = futures::stream::unfold(state, |mut st| async move {
            loop {
                if st.failed {
                    return None;
                }
                if let Some(item) = st.buffer.pop_front() {
                    return Some((Ok(item), st));
                }
                let req = st.next.take()?;
                let key = req.wire_key(&st.pipeline);
                let page = match st.pipeline.send(req).await {
                    Ok(resp) => parse_page_with::<T>(st.style, &st.first, &resp, st.rewrite)
                        .and_then(|page| {
                            // A page that links to itself (same URL, same continuation token)
                            // would make the listing endless.
                            let repeats = key.is_some()
                                && page
                                    .next
                                    .as_ref()
                                    .is_some_and(|n| n.wire_key(&st.pipeline) == key);
                            if repeats {
                                Err(resp.decode_error(
                                    "the next link repeats the page just read; stopping an \
                                     endless listing",
                                ))
                            } else {
                                Ok(page)
                            }
                        }),
                    Err(e) => Err(e),
                };
                match page {
                    Ok(page) => {
                        st.buffer = page.items.into();
                        st.next = page.next;
                    }
                    Err(e) => {
                        st.failed = true;
                        return Some((Err(e), st));
                    }
                }
            }
        });
        Self {
            inner: Box::pin(inner),
        }
    }
}

impl<T> Stream for Pager<T> {
    type Item = Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
