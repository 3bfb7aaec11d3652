//! `gdap my-tenant [enable|disable]`: the MSP's own partner tenant (client credentials, never
//! billed, never a GDAP target).

use serde::Serialize;

use super::fail;
use crate::cli::{MyTenantAction, MyTenantArgs};
use crate::errors::{CliError, Exit};
use crate::output::Printer;
use crate::wiring::Env;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MyTenantDoc {
    /// `show`, `enable` or `disable`.
    action: &'static str,
    /// Whether the own tenant is monitored after the command.
    enabled: bool,
    /// The partner tenant.
    tenant_id: Option<String>,
    /// What changed.
    changed: bool,
    /// Whether an app-only (client-credentials) token for the partner tenant could be had.
    client_credentials_ok: Option<bool>,
}

pub(crate) async fn run(a: &MyTenantArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let o = &env.orchestrator;
    let before = o.own_tenant().await.map_err(|e| fail(env, e))?;
    let (action, changed, after) = match a.action {
        None => ("show", false, before.clone()),
        Some(MyTenantAction::Enable) => {
            let Some(partner) = env.account.partner_tenant_id else {
                return Err(CliError::usage(
                    "the partner tenant is unknown",
                    Some("Pass --partner-tenant <GUID> (or set GDAP_PARTNER_TENANT).".to_owned()),
                ));
            };
            let rec = o
                .enable_own_tenant(partner, None)
                .await
                .map_err(|e| fail(env, e))?;
            ("enable", before.is_none(), Some(rec))
        }
        Some(MyTenantAction::Disable) => {
            let gone = o.disable_own_tenant().await.map_err(|e| fail(env, e))?;
            ("disable", gone.is_some(), None)
        }
    };
    let probe = if after.is_some() {
        Some(o.ports().tokens.probe_own_tenant().await.is_ok())
    } else {
        None
    };
    let tenant = after
        .as_ref()
        .map(|r| r.tenant_id)
        .or(before.as_ref().map(|r| r.tenant_id))
        .or(env.account.partner_tenant_id);
    out.json(&MyTenantDoc {
        action,
        enabled: after.is_some(),
        tenant_id: tenant.map(|t| t.to_string()),
        changed,
        client_credentials_ok: probe,
    });
    let id = tenant.map_or_else(|| "(unknown)".to_owned(), |t| t.to_string());
    match (action, after.is_some(), changed) {
        ("enable", _, true) => out.line(format!(
            "Your partner tenant {id} is now monitored (client credentials; not billed)."
        )),
        ("enable", _, false) => out.line(format!("Your partner tenant {id} was already monitored.")),
        ("disable", _, true) => out.line(format!(
            "Your partner tenant {id} is no longer monitored."
        )),
        ("disable", _, false) => out.line("Your partner tenant was not monitored; nothing to do."),
        (_, true, _) => out.line(format!(
            "Your partner tenant {id} is monitored (client credentials; not billed). Disable with `gdap my-tenant disable`."
        )),
        _ => out.line(format!(
            "Your partner tenant {id} is not monitored. Enable with `gdap my-tenant enable`."
        )),
    }
    if probe == Some(false) {
        out.warn("no app-only token for the partner tenant: set GDAP_CLIENT_SECRET (or --client-secret-file) and grant the app its Graph application permissions in your own tenant");
    }
    Ok(Exit::Ok)
}
