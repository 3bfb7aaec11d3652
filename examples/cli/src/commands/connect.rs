//! `gdap connect`: sign in and store the refresh token (0600) in the state directory.

use std::time::Duration;

use serde::Serialize;

use crate::cli::ConnectArgs;
use crate::connect::{Browser, SignIn, sign_in};
use crate::errors::{CliError, Exit};
use crate::output::Printer;
use crate::state::{Connection, StateDir};
use crate::wiring::Target;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Connected {
    user: Option<String>,
    partner_tenant_id: Option<String>,
    client_id: String,
    /// Where the refresh token was stored (absent with --sandbox: nothing is written).
    refresh_token_file: Option<String>,
    has_mfa: Option<bool>,
}

pub(crate) async fn run(
    args: &ConnectArgs,
    target: &Target,
    state: &StateDir,
    out: &Printer,
) -> Result<Exit, CliError> {
    let sandbox = target.sandbox.is_some();
    let tokens = sign_in(
        SignIn {
            authority: &target.authority,
            app: target.app(),
            port: args.port,
            login_hint: args.login_hint.clone(),
            timeout: Duration::from_secs(args.timeout),
            browser: if sandbox {
                Browser::Automatic
            } else {
                Browser::Person
            },
        },
        |url| {
            out.prompt("Open this URL in a browser and sign in as a partner admin (AdminAgents):");
            out.prompt(url.as_str());
            if !sandbox {
                out.note("Waiting for the sign-in to redirect back to this machine…");
            }
        },
    )
    .await?;
    let claims = tokens
        .access_token_claims()
        .or_else(|| tokens.id_token.clone());
    let user = claims
        .as_ref()
        .and_then(|c| c.username().map(str::to_owned));
    let tid = claims.as_ref().and_then(|c| c.tid.clone());
    let has_mfa = claims.as_ref().map(|c| c.has_mfa());
    let Some(refresh_token) = tokens.refresh_token else {
        return Err(CliError::AuthNeeded {
            message: "the sign-in returned no refresh token (was offline_access granted?)"
                .to_owned(),
        });
    };
    let stored = if sandbox {
        None
    } else {
        let path = state.store_refresh_token(&refresh_token).map_err(|e| {
            CliError::Other(format!(
                "cannot store the refresh token in {}: {e}",
                state.path().display()
            ))
        })?;
        state
            .store_connection(&Connection {
                client_id: Some(target.client_id.to_string()),
                authority: Some(target.authority_url.to_string()),
                user: user.clone(),
                partner_tenant_id: tid.clone(),
            })
            .map_err(|e| {
                CliError::Other(format!("cannot write {}: {e}", state.path().display()))
            })?;
        Some(path.display().to_string())
    };
    let doc = Connected {
        user: user.clone(),
        partner_tenant_id: tid.clone(),
        client_id: target.client_id.to_string(),
        refresh_token_file: stored.clone(),
        has_mfa,
    };
    out.json(&doc);
    out.line(format!(
        "Connected as {} (partner tenant {}).",
        user.as_deref().unwrap_or("(unknown user)"),
        tid.as_deref().unwrap_or("(unknown)")
    ));
    match stored {
        Some(p) => out.line(format!("Refresh token stored in {p} (mode 0600).")),
        None => out.line("Sandbox: nothing stored; every --sandbox run signs in afresh."),
    }
    if has_mfa == Some(false) {
        out.warn("the sign-in did not use MFA; Partner Center will refuse onboarding calls until you sign in with MFA");
    }
    Ok(Exit::Ok)
}
