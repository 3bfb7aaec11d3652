//! Where tokens come from: the authority base URL and the tenant segment of the endpoints.

use std::fmt;
use std::str::FromStr;

use gdap_core::TenantId;
use url::Url;

use crate::error::{Error, Result};

/// The Microsoft identity platform host (or a sandbox standing in for it).
///
/// The base may carry a path prefix: the sandbox serves `http://127.0.0.1:PORT/login`, so the
/// token endpoint is `{authority}/{tenant}/oauth2/v2.0/token` and the authorize endpoint
/// `{authority}/{tenant}/oauth2/v2.0/authorize`.
///
/// ```
/// use gdap_auth::{Authority, TenantRef};
/// let a: Authority = "http://127.0.0.1:8080/login/".parse()?;
/// let url = a.token_url(&TenantRef::organizations());
/// assert_eq!(url.as_str(), "http://127.0.0.1:8080/login/organizations/oauth2/v2.0/token");
/// # Ok::<(), gdap_auth::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Authority {
    base: Url,
}

impl Authority {
    /// The global Azure cloud authority.
    pub const PUBLIC_CLOUD: &'static str = "https://login.microsoftonline.com";

    /// `https://login.microsoftonline.com`.
    #[allow(clippy::expect_used)] // a literal that always parses
    pub fn public_cloud() -> Self {
        Self {
            base: Url::parse(Self::PUBLIC_CLOUD).expect("static authority URL"),
        }
    }

    /// An authority at `base`: `https`, or `http` on a loopback host (sandbox, tests); an optional
    /// path prefix; no query or fragment.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for any other URL.
    pub fn new(base: Url) -> Result<Self> {
        let loopback = matches!(base.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(Error::invalid_input(
                    "authority",
                    "must be https (http only on a loopback host)",
                ));
            }
        }
        if base.cannot_be_a_base() || base.host_str().is_none() {
            return Err(Error::invalid_input(
                "authority",
                "must be an absolute URL with a host",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::invalid_input(
                "authority",
                "must not have a query or fragment",
            ));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::invalid_input(
                "authority",
                "must not carry credentials",
            ));
        }
        Ok(Self { base })
    }

    /// The base URL as given (without a trailing `/`).
    pub fn as_str(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &TenantRef) -> Url {
        self.endpoint(tenant, "token")
    }

    /// `{authority}/{tenant}/oauth2/v2.0/authorize`.
    pub fn authorize_url(&self, tenant: &TenantRef) -> Url {
        self.endpoint(tenant, "authorize")
    }

    fn endpoint(&self, tenant: &TenantRef, leaf: &str) -> Url {
        let mut url = self.base.clone();
        let segment = tenant.to_string();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .push(&segment)
                .extend(["oauth2", "v2.0", leaf]);
        }
        url
    }
}

impl Default for Authority {
    fn default() -> Self {
        Self::public_cloud()
    }
}

impl FromStr for Authority {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let url = Url::parse(s).map_err(|e| Error::invalid_input("authority", e.to_string()))?;
        Self::new(url)
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Authority({})", self.as_str())
    }
}

/// The tenant segment of a token or authorize endpoint: a tenant GUID, a verified domain
/// (`contoso.onmicrosoft.com`), or `organizations` / `common` (authorize step only — token
/// requests for GDAP should always name the tenant GUID).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TenantRef(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Id(TenantId),
    Domain(String),
    Organizations,
    Common,
}

impl TenantRef {
    /// A tenant by id.
    pub const fn id(id: TenantId) -> Self {
        Self(Repr::Id(id))
    }

    /// A tenant by domain name, e.g. `contoso.onmicrosoft.com`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless it is a plausible DNS name (letters, digits, `-`, `.`, at
    /// least one dot, at most 253 characters).
    pub fn domain(domain: &str) -> Result<Self> {
        let ok = !domain.is_empty()
            && domain.len() <= 253
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if ok {
            Ok(Self(Repr::Domain(domain.to_ascii_lowercase())))
        } else {
            Err(Error::invalid_input(
                "tenant",
                "must be a tenant GUID, a domain name, `organizations` or `common`",
            ))
        }
    }

    /// `organizations`: any work or school account (the authorize step of the partner sign-in).
    pub const fn organizations() -> Self {
        Self(Repr::Organizations)
    }

    /// `common`: work, school or personal accounts.
    pub const fn common() -> Self {
        Self(Repr::Common)
    }

    /// The tenant id, when this names one.
    pub fn tenant_id(&self) -> Option<TenantId> {
        match &self.0 {
            Repr::Id(id) => Some(*id),
            _ => None,
        }
    }
}

impl From<TenantId> for TenantRef {
    fn from(id: TenantId) -> Self {
        Self::id(id)
    }
}

impl FromStr for TenantRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("organizations") {
            return Ok(Self::organizations());
        }
        if s.eq_ignore_ascii_case("common") {
            return Ok(Self::common());
        }
        if let Ok(id) = s.parse::<TenantId>() {
            return Ok(Self::id(id));
        }
        Self::domain(s)
    }
}

impl fmt::Display for TenantRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Id(id) => fmt::Display::fmt(id, f),
            Repr::Domain(d) => f.write_str(d),
            Repr::Organizations => f.write_str("organizations"),
            Repr::Common => f.write_str("common"),
        }
    }
}

impl fmt::Debug for TenantRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantRef({self})")
    }
}
