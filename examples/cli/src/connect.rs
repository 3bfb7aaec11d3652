//! Sign-in: authorization code + PKCE on a loopback redirect.
//!
//! A one-shot HTTP listener on `127.0.0.1` receives the browser's redirect (`/callback?code=…&
//! state=…`), the state is checked, and the code is exchanged. Against the sandbox the "browser"
//! is a plain HTTP client that opens the URL (the sandbox approves at once) and follows the
//! redirect to the listener; it sends no token anywhere.

use std::time::Duration;

use gdap_auth::{AppCredentials, AuthCodeFlow, Authority, AuthorizeOptions, TokenSet, scopes};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use crate::errors::CliError;

/// Who opens the authorize URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Browser {
    /// A person: the URL is printed and we wait.
    Person,
    /// The CLI itself (sandbox): an HTTP client opens it and follows the redirect.
    Automatic,
}

/// Sign-in parameters.
pub(crate) struct SignIn<'a> {
    pub(crate) authority: &'a Authority,
    pub(crate) app: AppCredentials,
    pub(crate) port: u16,
    pub(crate) login_hint: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) browser: Browser,
}

/// Runs the flow; `show_url` is called with the authorize URL before waiting.
pub(crate) async fn sign_in(
    p: SignIn<'_>,
    show_url: impl FnOnce(&Url),
) -> Result<TokenSet, CliError> {
    let listener = TcpListener::bind(("127.0.0.1", p.port))
        .await
        .map_err(|e| CliError::Other(format!("cannot listen on 127.0.0.1:{}: {e}", p.port)))?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::Other(e.to_string()))?
        .port();
    let redirect = Url::parse(&format!("http://127.0.0.1:{port}/callback"))
        .map_err(|e| CliError::Other(e.to_string()))?;
    let flow = AuthCodeFlow::new(
        p.authority.clone(),
        p.app,
        redirect,
        scopes::PARTNER_CONNECT_SCOPES,
    )
    .map_err(|e| CliError::Other(format!("cannot start the sign-in: {e}")))?;
    let mut opts = AuthorizeOptions::default();
    if let Some(h) = p.login_hint {
        opts = opts.with_login_hint(h);
    }
    let (url, pending) = flow.authorize_url_with(&opts);
    show_url(&url);

    let browser = match p.browser {
        Browser::Person => None,
        Browser::Automatic => Some(tokio::spawn(open_automatically(url.clone()))),
    };
    let waited = tokio::time::timeout(p.timeout, receive_callback(&listener)).await;
    if let Some(b) = browser {
        b.abort();
    }
    let callback = match waited {
        Ok(r) => r?,
        Err(_) => {
            return Err(CliError::AuthNeeded {
                message: format!(
                    "no sign-in arrived within {} s; open the URL printed above in a browser",
                    p.timeout.as_secs()
                ),
            });
        }
    };
    let (state, code) = match callback {
        Callback::Code { state, code } => (state, code),
        Callback::Error { error, description } => {
            return Err(CliError::AuthNeeded {
                message: format!("the sign-in was refused: {error}: {description}"),
            });
        }
    };
    flow.complete(pending, &state, code)
        .await
        .map_err(|e| auth_failure("completing the sign-in", &e))
}

/// Maps a token failure to the CLI's error.
pub(crate) fn auth_failure(doing: &str, e: &gdap_auth::Error) -> CliError {
    match e {
        gdap_auth::Error::Transport(t) => {
            CliError::Other(format!("{doing}: cannot reach the sign-in service: {t}"))
        }
        _ => CliError::AuthNeeded {
            message: format!("{doing} failed: {e}"),
        },
    }
}

enum Callback {
    Code { state: String, code: SecretString },
    Error { error: String, description: String },
}

async fn receive_callback(listener: &TcpListener) -> Result<Callback, CliError> {
    loop {
        let (mut sock, _) = listener
            .accept()
            .await
            .map_err(|e| CliError::Other(format!("sign-in listener failed: {e}")))?;
        let mut buf = Vec::with_capacity(2048);
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/");
        let parsed = Url::parse(&format!("http://127.0.0.1{target}")).ok();
        let Some(parsed) = parsed.filter(|u| u.path() == "/callback") else {
            let _ = sock
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        };
        let get = |k: &str| {
            parsed
                .query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        let outcome = match (get("code"), get("state"), get("error")) {
            (Some(code), Some(state), None) => Callback::Code {
                state,
                code: SecretString::from(code),
            },
            (_, _, Some(error)) => Callback::Error {
                error,
                description: get("error_description").unwrap_or_default(),
            },
            _ => Callback::Error {
                error: "invalid_request".to_owned(),
                description: "the redirect carried neither a code nor an error".to_owned(),
            },
        };
        let body = match outcome {
            Callback::Code { .. } => "Signed in. You can close this tab and return to gdap.",
            Callback::Error { .. } => "Sign-in failed. Return to gdap for details.",
        };
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
        let _ = sock.shutdown().await;
        return Ok(outcome);
    }
}

/// Opens the authorize URL like a browser would (no cookies, no tokens) and follows the
/// redirect to the loopback listener.
async fn open_automatically(url: Url) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot build the sign-in HTTP client");
            return;
        }
    };
    if let Err(e) = client.get(url).send().await {
        tracing::warn!(error = %e, "automatic sign-in request failed");
    }
}
