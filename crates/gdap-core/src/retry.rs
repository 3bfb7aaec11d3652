//! The one retry policy of the workspace.
//!
//! Transient statuses (408, 429, 500, 502, 503, 504) and transport failures are retried with
//! exponential backoff and jitter, waiting at least as long as the server asked
//! (`Retry-After` in seconds or as an HTTP date, or `x-ms-retry-after-ms`). Attempts are capped
//! and the whole call has a deadline. A call that is not idempotent (a POST, a PATCH without
//! `If-Match`) is retried only when the server provably did not act: a 429, a 503 that carries
//! `Retry-After`, or a connection that never opened.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::error::{Error, TransportKind};

/// Tuning of the retry policy. `Default` is what production uses.
#[derive(Debug, Clone)]
pub struct RetryOptions {
    /// Total attempts including the first (1 = never retry).
    pub max_attempts: usize,
    /// First backoff delay.
    pub initial_delay: Duration,
    /// Largest backoff delay between two attempts.
    pub max_delay: Duration,
    /// Deadline for the whole call, attempts and waits included. A wait that would cross it is
    /// not started; the last error is returned instead.
    pub total_deadline: Duration,
    /// Randomize delays so a batch of clients does not retry in lockstep.
    pub jitter: bool,
}

impl Default for RetryOptions {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            total_deadline: Duration::from_secs(120),
            jitter: true,
        }
    }
}

impl RetryOptions {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the attempt cap.
    pub fn with_max_attempts(mut self, n: usize) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the overall deadline.
    pub fn with_total_deadline(mut self, d: Duration) -> Self {
        self.total_deadline = d;
        self
    }

    /// Sets the backoff range.
    pub fn with_delays(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_delay = initial;
        self.max_delay = max;
        self
    }

    pub(crate) fn backoff(&self) -> backon::ExponentialBuilder {
        let b = backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1));
        if self.jitter { b.with_jitter() } else { b }
    }
}

/// Whether the policy retries `err` for a call of the given idempotency.
pub fn should_retry(err: &Error, idempotent: bool) -> bool {
    match err {
        Error::Http(e) => match e.status {
            429 => true,
            503 => idempotent || e.retry_after.is_some(),
            408 | 500 | 502 | 504 => idempotent,
            _ => false,
        },
        Error::Transport(e) => match e.kind {
            TransportKind::Connect => true,
            TransportKind::Timeout | TransportKind::Interrupted => idempotent,
            TransportKind::Other => false,
        },
        Error::Credential(e) => e.transient,
        _ => false,
    }
}

/// Reads the server's requested wait from `Retry-After` (delta-seconds or HTTP date) or
/// `x-ms-retry-after-ms`, whichever asks for longer.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after_at(headers, SystemTime::now())
}

pub(crate) fn parse_retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let ms = headers
        .get("x-ms-retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    let ra = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let v = v.trim();
            if let Ok(secs) = v.parse::<u64>() {
                Some(Duration::from_secs(secs))
            } else if let Ok(secs) = v.parse::<f64>() {
                (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
            } else {
                httpdate::parse_http_date(v)
                    .ok()
                    .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
            }
        });
    match (ra, ms) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The wait before the next attempt: the larger of the backoff and what the server asked, or
/// `None` (stop) when the policy is exhausted or the wait would cross the deadline.
pub(crate) fn next_wait(
    backoff: Option<Duration>,
    err: &Error,
    elapsed: Duration,
    deadline: Duration,
) -> Option<Duration> {
    // Never turn an exhausted policy (None) into another attempt.
    let wait = backoff.map(|d| err.retry_after().map_or(d, |ra| ra.max(d)))?;
    (elapsed.saturating_add(wait) <= deadline).then_some(wait)
}

#[cfg(test)]
mod tests;
