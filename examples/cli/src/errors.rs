//! What can go wrong, as the user should hear it, and the exit code each failure means.
//!
//! Exit codes: 0 all done; 1 the job could not be done (a service error, an endpoint down);
//! 2 usage or invalid input; 3 some tenants failed (details printed); 4 authentication needed.

use std::process::ExitCode;

use gdap_onboard::{CatalogueEntry, ExplainContext, OnboardError, explain};
use serde::Serialize;

/// The process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Exit {
    /// Everything asked was done.
    Ok,
    /// The job could not be done.
    Failed,
    /// Usage or invalid input.
    Usage,
    /// Some tenants failed.
    TenantsFailed,
    /// Sign in again.
    AuthNeeded,
}

impl Exit {
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::TenantsFailed => 3,
            Exit::AuthNeeded => 4,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The hint printed with every "authentication needed" failure.
pub(crate) const REAUTH_HINT: &str =
    "Run `gdap connect` to sign in again (Re-authenticate with Microsoft Partner Center).";

/// A failure of the CLI, rendered once at the edge.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad input that clap could not catch (unknown tenant, template, display name …).
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do instead.
        hint: Option<String>,
    },
    /// No usable sign-in.
    #[error("{message}")]
    AuthNeeded {
        /// What is wrong.
        message: String,
    },
    /// An endpoint could not be reached.
    #[error("cannot reach {what} at {url}: {detail}")]
    Unreachable {
        /// Which service.
        what: &'static str,
        /// Its base URL.
        url: String,
        /// The transport's words.
        detail: String,
    },
    /// A workflow failure, rendered through the catalogue.
    #[error("{0}")]
    Onboard(Box<OnboardFailure>),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A workflow failure with what is known to explain it.
#[derive(Debug)]
pub(crate) struct OnboardFailure {
    pub(crate) error: OnboardError,
    pub(crate) ctx: ExplainContext,
}

impl std::fmt::Display for OnboardFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl CliError {
    pub(crate) fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        CliError::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn onboard(error: OnboardError, ctx: ExplainContext) -> Self {
        CliError::Onboard(Box::new(OnboardFailure { error, ctx }))
    }

    /// The exit code.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            CliError::Usage { .. } => Exit::Usage,
            CliError::AuthNeeded { .. } => Exit::AuthNeeded,
            CliError::Unreachable { .. } | CliError::Other(_) => Exit::Failed,
            CliError::Onboard(f) => exit_of(&f.error),
        }
    }

    /// The rendering: a title, details, numbered steps (and the admin-consent URL).
    pub(crate) fn render(&self) -> Rendered {
        match self {
            CliError::Usage { message, hint } => Rendered {
                title: message.clone(),
                code: None,
                details: Vec::new(),
                steps: hint.iter().cloned().collect(),
                admin_consent_url: None,
            },
            CliError::AuthNeeded { message } => Rendered {
                title: message.clone(),
                code: None,
                details: Vec::new(),
                steps: vec![REAUTH_HINT.to_owned()],
                admin_consent_url: None,
            },
            CliError::Unreachable { .. } => Rendered {
                title: self.to_string(),
                code: None,
                details: Vec::new(),
                steps: vec![
                    "Check the endpoint flags (--authority, --graph-endpoint, --partner-center-endpoint) and your network.".to_owned(),
                    "Wait a couple of minutes and retry.".to_owned(),
                ],
                admin_consent_url: None,
            },
            CliError::Onboard(f) => {
                let entry = explain(&f.error, &f.ctx);
                let mut r = Rendered::from_entry(&entry);
                if exit_of(&f.error) == Exit::AuthNeeded {
                    r.steps.push(REAUTH_HINT.to_owned());
                }
                r
            }
            CliError::Other(m) => Rendered {
                title: m.clone(),
                code: None,
                details: Vec::new(),
                steps: Vec::new(),
                admin_consent_url: None,
            },
        }
    }
}

/// The exit code a workflow failure means.
pub(crate) fn exit_of(error: &OnboardError) -> Exit {
    match error {
        OnboardError::AuthorizationRevoked { .. }
        | OnboardError::SessionExpired { .. }
        | OnboardError::MfaRequired { .. } => Exit::AuthNeeded,
        // The user named something that does not exist or is not valid.
        OnboardError::InvalidTemplate(_)
        | OnboardError::InvalidDisplayName { .. }
        | OnboardError::UserNotFound { .. } => Exit::Usage,
        e if e.tenant().is_some() => Exit::TenantsFailed,
        _ => Exit::Failed,
    }
}

/// A failure ready to print (text on stderr, or JSON on stdout with `--output json`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rendered {
    /// One line saying what happened.
    pub(crate) title: String,
    /// The service or catalogue code, when there is one.
    pub(crate) code: Option<String>,
    /// Specifics.
    pub(crate) details: Vec<String>,
    /// What to do, in order.
    pub(crate) steps: Vec<String>,
    /// The admin-consent fallback.
    pub(crate) admin_consent_url: Option<String>,
}

impl Rendered {
    pub(crate) fn from_entry(entry: &CatalogueEntry) -> Self {
        Rendered {
            title: entry.message.clone(),
            code: entry.code.clone(),
            details: entry.details.clone(),
            steps: entry.steps.clone(),
            admin_consent_url: entry.admin_consent_url.clone(),
        }
    }

    /// `error: <title> [code]`, details, `To resolve:` numbered steps, the admin-consent URL.
    pub(crate) fn to_text(&self) -> String {
        let mut out = format!("error: {}", self.title);
        if let Some(code) = &self.code {
            out.push_str(&format!(" [{code}]"));
        }
        out.push('\n');
        for d in &self.details {
            out.push_str(&format!("  - {d}\n"));
        }
        if !self.steps.is_empty() {
            out.push_str("To resolve:\n");
            for (i, s) in self.steps.iter().enumerate() {
                out.push_str(&format!("  {}. {s}\n", i + 1));
            }
        }
        if let Some(url) = &self.admin_consent_url {
            out.push_str(&format!("Admin consent URL: {url}\n"));
        }
        out
    }
}
