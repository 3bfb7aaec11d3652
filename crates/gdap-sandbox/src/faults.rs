//! Fault injection: per-route or global latency, throttling, 5xx, connection resets, timeouts and
//! token-bucket rate limits, all driven by a seeded RNG.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::SandboxError;
use crate::world::Ms;

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Adds a fixed latency before the request is handled.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Adds a latency drawn uniformly from `[min_ms, max_ms]`.
    RandomLatency {
        /// Lower bound (ms).
        min_ms: u64,
        /// Upper bound (ms, inclusive).
        max_ms: u64,
    },
    /// Answers `429 Too Many Requests` with `Retry-After`.
    #[serde(rename = "status_429")]
    Status429 {
        /// The `Retry-After` value in seconds.
        retry_after_secs: u64,
    },
    /// Answers `500 Internal Server Error`.
    #[serde(rename = "status_500")]
    Status500,
    /// Answers `503 Service Unavailable`, optionally with `Retry-After`.
    #[serde(rename = "status_503")]
    Status503 {
        /// The `Retry-After` value in seconds, if any.
        retry_after_secs: Option<u64>,
    },
    /// Drops the TCP connection (RST) without sending a response.
    ConnectionReset,
    /// Holds the request far longer than clients wait (see `SandboxBuilder::timeout_hold`), then
    /// answers `504`.
    Timeout,
    /// Hostile: answers `200` with an empty page whose next link (`@odata.nextLink` on Graph,
    /// `links.next.uri` on Partner Center) points at `base` (another origin), same path.
    ForeignNextLink {
        /// Origin the link points at, e.g. `http://127.0.0.1:9999`.
        base: String,
    },
    /// Hostile: answers `302 Found` with `Location: {base}{path}` (another origin).
    RedirectTo {
        /// Origin the redirect points at.
        base: String,
    },
    /// Hostile: answers `200` with a body of `bytes` bytes streamed in 64 KiB chunks, with no
    /// `Content-Length` (the client only learns the size by reading). Nothing of that size is
    /// allocated in the server.
    HugeBody {
        /// Total body size in bytes.
        bytes: u64,
    },
    /// Hostile: answers `200` and then sends one whitespace byte every `interval_ms`, forever (until
    /// the client hangs up or the sandbox shuts down).
    EndlessBody {
        /// Milliseconds between two bytes.
        interval_ms: u64,
    },
    /// Hostile: answers `200` with an HTML page served as `text/html`.
    WrongContentType,
}

impl FaultKind {
    fn name(&self) -> &'static str {
        match self {
            FaultKind::Latency { .. } => "latency",
            FaultKind::RandomLatency { .. } => "random_latency",
            FaultKind::Status429 { .. } => "status_429",
            FaultKind::Status500 => "status_500",
            FaultKind::Status503 { .. } => "status_503",
            FaultKind::ConnectionReset => "connection_reset",
            FaultKind::Timeout => "timeout",
            FaultKind::ForeignNextLink { .. } => "foreign_next_link",
            FaultKind::RedirectTo { .. } => "redirect_to",
            FaultKind::HugeBody { .. } => "huge_body",
            FaultKind::EndlessBody { .. } => "endless_body",
            FaultKind::WrongContentType => "wrong_content_type",
        }
    }
}

/// When a matching rule fires.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// Every matching request.
    #[default]
    Always,
    /// Each matching request with probability `p` (seeded RNG).
    Probability {
        /// Probability in `[0, 1]`.
        p: f64,
    },
    /// The first `n` matching requests.
    FirstN {
        /// Count.
        n: u64,
    },
    /// Every `n`th matching request (the nth, 2nth, ...).
    EveryNth {
        /// Period.
        n: u64,
    },
}

fn default_path() -> String {
    "/".into()
}

/// One fault rule: which requests (method + path pattern), what happens, and when.
///
/// Path patterns: without `*` the pattern is a prefix of the request path
/// (`/graph/v1.0/servicePrincipals`); with `*` it is a segment glob where `*` matches within one
/// segment and `**` matches any number of segments (`/graph/**`, `/partnercenter/v1/customers/*/applicationconsents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method to match (any when `None`).
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern (see above); `/` matches everything.
    #[serde(default = "default_path")]
    pub path: String,
    /// What happens.
    pub kind: FaultKind,
    /// When it happens.
    #[serde(default)]
    pub trigger: Trigger,
}

impl FaultRule {
    /// A rule for every request (any method, any path, always).
    pub fn new(kind: FaultKind) -> FaultRule {
        FaultRule {
            method: None,
            path: default_path(),
            kind,
            trigger: Trigger::Always,
        }
    }

    /// A rule for `method` (e.g. `"GET"`, or `"*"` for any) and a path pattern.
    pub fn on(method: &str, path: &str, kind: FaultKind) -> FaultRule {
        let method = (method != "*" && !method.is_empty()).then(|| method.to_ascii_uppercase());
        FaultRule {
            method,
            path: path.to_string(),
            kind,
            trigger: Trigger::Always,
        }
    }

    /// Restricts the rule to a path pattern.
    pub fn path(mut self, pattern: &str) -> FaultRule {
        self.path = pattern.to_string();
        self
    }

    /// Restricts the rule to a method.
    pub fn method(mut self, method: &str) -> FaultRule {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Fires with probability `p`.
    pub fn probability(mut self, p: f64) -> FaultRule {
        self.trigger = Trigger::Probability { p };
        self
    }

    /// Fires for the first `n` matching requests.
    pub fn first(mut self, n: u64) -> FaultRule {
        self.trigger = Trigger::FirstN { n };
        self
    }

    /// Fires for every `n`th matching request.
    pub fn every_nth(mut self, n: u64) -> FaultRule {
        self.trigger = Trigger::EveryNth { n };
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        path_matches(&self.path, path)
    }
}

/// A token bucket: `per_second` sustained rate, `burst` capacity. Exceeding it answers 429 with
/// `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Bucket capacity.
    pub burst: u32,
}

/// The fault configuration of a sandbox (`Clone`, serde-deserializable, builder-style).
///
/// Rules are evaluated in order for each request; latencies add up, the first status / reset /
/// timeout rule that fires ends the request (later rules still count the request for their
/// `FirstN` / `EveryNth` triggers but draw no randomness). Rate limits apply to Graph and Partner
/// Center routes only (not to login) after the rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Seed of the fault RNG (probabilities, random latencies).
    pub seed: u64,
    /// Fault rules.
    pub rules: Vec<FaultRule>,
    /// A global token bucket over all Graph and Partner Center requests.
    pub global_rate_limit: Option<RateLimit>,
    /// A token bucket per tenant (the token's tenant, or the customer in a Partner Center path).
    pub tenant_rate_limit: Option<RateLimit>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Same as [`Faults::none`]; start of a builder chain.
    pub fn new() -> Faults {
        Faults::default()
    }

    /// Sets the RNG seed.
    pub fn seed(mut self, seed: u64) -> Faults {
        self.seed = seed;
        self
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: FaultRule) -> Faults {
        self.rules.push(rule);
        self
    }

    /// Sets the global rate limit.
    pub fn global_rate_limit(mut self, per_second: f64, burst: u32) -> Faults {
        self.global_rate_limit = Some(RateLimit { per_second, burst });
        self
    }

    /// Sets the per-tenant rate limit.
    pub fn tenant_rate_limit(mut self, per_second: f64, burst: u32) -> Faults {
        self.tenant_rate_limit = Some(RateLimit { per_second, burst });
        self
    }

    /// Names accepted by [`Faults::profile`].
    pub const PROFILES: &'static [&'static str] =
        &["none", "flaky", "throttled", "slow", "hostile"];

    /// Ten years, in seconds: the `Retry-After` of the hostile profile.
    pub const TEN_YEARS_SECS: u64 = 10 * 365 * 24 * 3600;

    /// A compromised or broken endpoint, on Graph and Partner Center routes (not login), each
    /// request drawing one of (≈1/7 each, the rest answered normally): a next link to
    /// `foreign_base`, a redirect to `foreign_base`, a 50 MB body, a body that never ends (one
    /// byte per second), an HTML page as `text/html`, a `429` with `Retry-After` of ten years.
    pub fn hostile(foreign_base: &str) -> Faults {
        let mut f = Faults::new().seed(7);
        for p in ["/graph/**", "/partnercenter/**"] {
            let kinds = [
                FaultKind::ForeignNextLink {
                    base: foreign_base.to_string(),
                },
                FaultKind::RedirectTo {
                    base: foreign_base.to_string(),
                },
                FaultKind::HugeBody {
                    bytes: 50 * 1024 * 1024,
                },
                FaultKind::EndlessBody { interval_ms: 1000 },
                FaultKind::WrongContentType,
                FaultKind::Status429 {
                    retry_after_secs: Faults::TEN_YEARS_SECS,
                },
            ];
            // Rule i fires with p = 1/(7-i) among the requests the earlier rules left, so each
            // kind gets ≈1/7 of the requests and ≈1/7 are answered normally.
            for (i, kind) in kinds.into_iter().enumerate() {
                f = f.rule(FaultRule::on("*", p, kind).probability(1.0 / (7 - i) as f64));
            }
        }
        f
    }

    /// A named profile for CLIs:
    /// - `none`: nothing;
    /// - `flaky`: on Graph and Partner Center routes (not login), ~5% 429 (Retry-After 1), ~5% 503
    ///   (Retry-After 1) and ~1% connection resets;
    /// - `throttled`: per-tenant token bucket 5 req/s (burst 10) and global 200 req/s (burst 100);
    /// - `slow`: 50-300 ms random latency on every route;
    /// - `hostile`: [`Faults::hostile`] with the foreign origin `http://127.0.0.1:9` (discard).
    ///
    /// # Errors
    /// [`SandboxError::InvalidConfig`] for an unknown name.
    pub fn profile(name: &str) -> Result<Faults, SandboxError> {
        let f = Faults::new().seed(7);
        match name {
            "none" => Ok(Faults::none()),
            "flaky" => {
                let mut f = f;
                for p in ["/graph/**", "/partnercenter/**"] {
                    f = f
                        .rule(FaultRule::on("*", p, FaultKind::ConnectionReset).probability(0.01))
                        .rule(
                            FaultRule::on(
                                "*",
                                p,
                                FaultKind::Status429 {
                                    retry_after_secs: 1,
                                },
                            )
                            .probability(0.05),
                        )
                        .rule(
                            FaultRule::on(
                                "*",
                                p,
                                FaultKind::Status503 {
                                    retry_after_secs: Some(1),
                                },
                            )
                            .probability(0.05),
                        );
                }
                Ok(f)
            }
            "throttled" => Ok(f.tenant_rate_limit(5.0, 10).global_rate_limit(200.0, 100)),
            "hostile" => Ok(Faults::hostile("http://127.0.0.1:9")),
            "slow" => Ok(f.rule(FaultRule::new(FaultKind::RandomLatency {
                min_ms: 50,
                max_ms: 300,
            }))),
            other => Err(SandboxError::InvalidConfig(format!(
                "unknown fault profile '{other}' (expected one of {})",
                Faults::PROFILES.join(", ")
            ))),
        }
    }
}

/// Segment glob / prefix match.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    if !pattern.contains('*') {
        return path.starts_with(pattern);
    }
    let pat: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    glob_segments(&pat, &segs)
}

fn glob_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.first() {
        None => segs.is_empty(),
        Some(&"**") => (0..=segs.len()).any(|k| glob_segments(&pat[1..], &segs[k..])),
        Some(p) => {
            !segs.is_empty() && glob_segment(p, segs[0]) && glob_segments(&pat[1..], &segs[1..])
        }
    }
}

fn glob_segment(p: &str, s: &str) -> bool {
    match p.split_once('*') {
        None => p == s,
        Some((pre, rest)) => {
            if !s.starts_with(pre) {
                return false;
            }
            let tail = &s[pre.len()..];
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob_segment(rest, &tail[i..]))
        }
    }
}

/// The terminal effect chosen for a request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Status429 {
        retry_after: u64,
        rate_limited: bool,
    },
    Status500,
    Status503 {
        retry_after: Option<u64>,
    },
    Reset,
    Timeout,
    ForeignNextLink(String),
    Redirect(String),
    HugeBody(u64),
    EndlessBody(u64),
    WrongContentType,
}

/// What the fault engine decided for one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Decision {
    pub(crate) latency_ms: u64,
    pub(crate) action: Option<Action>,
    /// Names of the faults applied (for the log).
    pub(crate) applied: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last: Ms,
}

impl Bucket {
    fn take(&mut self, lim: &RateLimit, now: Ms) -> Result<(), u64> {
        let elapsed = (now - self.last).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * lim.per_second).min(lim.burst as f64);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / lim.per_second.max(1e-9);
            Err((wait.ceil() as u64).max(1))
        }
    }
}

/// Runtime state of the faults.
#[derive(Debug)]
pub(crate) struct FaultEngine {
    cfg: Faults,
    rng: ChaCha8Rng,
    counters: Vec<u64>,
    global: Option<Bucket>,
    tenants: HashMap<String, Bucket>,
}

impl FaultEngine {
    pub(crate) fn new(cfg: Faults) -> FaultEngine {
        let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let counters = vec![0; cfg.rules.len()];
        let global = cfg.global_rate_limit.map(|l| Bucket {
            tokens: l.burst as f64,
            last: 0,
        });
        FaultEngine {
            cfg,
            rng,
            counters,
            global,
            tenants: HashMap::new(),
        }
    }

    pub(crate) fn needs_tenant(&self) -> bool {
        self.cfg.tenant_rate_limit.is_some()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.cfg.rules.is_empty()
            && self.cfg.global_rate_limit.is_none()
            && self.cfg.tenant_rate_limit.is_none()
    }

    pub(crate) fn decide(
        &mut self,
        method: &str,
        path: &str,
        tenant: Option<&str>,
        now: Ms,
    ) -> Decision {
        let mut d = Decision::default();
        for (i, rule) in self.cfg.rules.iter().enumerate() {
            if !rule.matches(method, path) {
                continue;
            }
            // Every matching request counts for every rule, even after a terminal fault fired.
            self.counters[i] += 1;
            if d.action.is_some() {
                continue;
            }
            let n = self.counters[i];
            let fire = match &rule.trigger {
                Trigger::Always => true,
                Trigger::Probability { p } => self.rng.random_bool(p.clamp(0.0, 1.0)),
                Trigger::FirstN { n: k } => n <= *k,
                Trigger::EveryNth { n: k } => *k > 0 && n.is_multiple_of(*k),
            };
            if !fire {
                continue;
            }
            d.applied.push(rule.kind.name());
            match &rule.kind {
                FaultKind::Latency { ms } => d.latency_ms += ms,
                FaultKind::RandomLatency { min_ms, max_ms } => {
                    let (lo, hi) = (*min_ms.min(max_ms), *max_ms.max(min_ms));
                    d.latency_ms += self.rng.random_range(lo..=hi);
                }
                FaultKind::Status429 { retry_after_secs } => {
                    d.action = Some(Action::Status429 {
                        retry_after: *retry_after_secs,
                        rate_limited: false,
                    })
                }
                FaultKind::Status500 => d.action = Some(Action::Status500),
                FaultKind::Status503 { retry_after_secs } => {
                    d.action = Some(Action::Status503 {
                        retry_after: *retry_after_secs,
                    })
                }
                FaultKind::ConnectionReset => d.action = Some(Action::Reset),
                FaultKind::Timeout => d.action = Some(Action::Timeout),
                FaultKind::ForeignNextLink { base } => {
                    d.action = Some(Action::ForeignNextLink(base.clone()))
                }
                FaultKind::RedirectTo { base } => d.action = Some(Action::Redirect(base.clone())),
                FaultKind::HugeBody { bytes } => d.action = Some(Action::HugeBody(*bytes)),
                FaultKind::EndlessBody { interval_ms } => {
                    d.action = Some(Action::EndlessBody(*interval_ms))
                }
                FaultKind::WrongContentType => d.action = Some(Action::WrongContentType),
            }
        }
        if d.action.is_some() {
            return d;
        }
        let limited = path.starts_with("/graph/") || path.starts_with("/partnercenter/");
        if limited {
            if let (Some(lim), Some(b)) = (self.cfg.global_rate_limit, self.global.as_mut())
                && let Err(ra) = b.take(&lim, now)
            {
                d.applied.push("global_rate_limit");
                d.action = Some(Action::Status429 {
                    retry_after: ra,
                    rate_limited: true,
                });
                return d;
            }
            if let (Some(lim), Some(t)) = (self.cfg.tenant_rate_limit, tenant) {
                let b = self.tenants.entry(t.to_string()).or_insert(Bucket {
                    tokens: lim.burst as f64,
                    last: now,
                });
                if let Err(ra) = b.take(&lim, now) {
                    d.applied.push("tenant_rate_limit");
                    d.action = Some(Action::Status429 {
                        retry_after: ra,
                        rate_limited: true,
                    });
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests;
