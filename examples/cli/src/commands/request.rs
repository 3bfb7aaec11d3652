//! `gdap request-permissions <tenant> --template NAME [--name NAME]`.

use gdap_onboard::RelationshipTemplate;
use gdap_onboard::workflows::RequestOutcome;
use gdap_onboard::workflows::request::validate_display_name;
use serde::Serialize;

use super::fail;
use crate::cli::RequestArgs;
use crate::errors::{CliError, Exit};
use crate::output::Printer;
use crate::wiring::Env;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestDoc<'a> {
    tenant_id: String,
    template: &'a str,
    #[serde(flatten)]
    outcome: &'a RequestOutcome,
}

pub(crate) async fn run(a: &RequestArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let Some(template) = RelationshipTemplate::by_short_name(&a.template) else {
        let names: Vec<String> = RelationshipTemplate::builtin()
            .into_iter()
            .map(|t| format!("{} ({})", t.short_name, t.task))
            .collect();
        return Err(CliError::usage(
            format!("unknown template `{}`", a.template),
            Some(format!("Use one of: {}.", names.join(", "))),
        ));
    };
    if let Some(name) = &a.name {
        validate_display_name(name).map_err(|e| fail(env, e))?;
    }
    known_customer(env, a.tenant).await?;
    let outcome = env
        .orchestrator
        .request_permissions(a.tenant, &template, a.name.as_deref())
        .await
        .map_err(|e| fail(env, e))?;
    out.json(&RequestDoc {
        tenant_id: a.tenant.to_string(),
        template: &template.short_name,
        outcome: &outcome,
    });
    match &outcome {
        RequestOutcome::Requested(r) => {
            out.line(format!(
                "{} GDAP relationship request \"{}\" ({} template: {}) for tenant {}.",
                if r.reused {
                    "Reusing the pending"
                } else {
                    "Created"
                },
                r.display_name,
                template.short_name,
                template
                    .roles
                    .iter()
                    .map(gdap_core::roles::role_name)
                    .collect::<Vec<_>>()
                    .join(", "),
                a.tenant
            ));
            out.line("Send this approval link to the customer's Global Administrator:");
            out.line(format!("  {}", r.approval_link));
        }
        RequestOutcome::SkippedOwnTenant => {
            out.line(format!(
                "Tenant {} is your own partner tenant: it needs no GDAP relationship (skipped).",
                a.tenant
            ));
        }
        _ => out.line("Nothing to do."),
    }
    Ok(Exit::Ok)
}

/// Refuses a tenant Partner Center does not know (404) with a clear message; any other failure
/// of this check is left to the request itself.
async fn known_customer(env: &Env, tenant: gdap_core::TenantId) -> Result<(), CliError> {
    match env.partner_center.get_customer(&tenant).await {
        Err(e) if e.is_not_found() => Err(CliError::usage(
            format!("tenant {tenant} is not one of your Partner Center customers"),
            Some(
                "Check the id with `gdap tenants`, or invite the customer in Partner Center first."
                    .to_owned(),
            ),
        )),
        Err(e) => {
            tracing::debug!(error = %e, %tenant, "customer check skipped");
            Ok(())
        }
        Ok(_) => Ok(()),
    }
}
