//! The write-side batches: `onboard`, `refresh-perms`, `migrate`, `resume`, and `demo`.

use super::tenants;
use crate::cli::{DemoArgs, MigrateArgs, OnboardArgs, RefreshPermsArgs, ResumeArgs};
use crate::errors::{CliError, Exit};
use crate::output::Printer;
use crate::wiring::Env;

fn pending(what: &str) -> CliError {
    CliError::Other(format!(
        "`gdap {what}` needs the onboarding workflows (gdap-onboard part 2), which are not in this build yet"
    ))
}

pub(crate) async fn onboard(
    _a: &OnboardArgs,
    _env: &Env,
    _out: &Printer,
) -> Result<Exit, CliError> {
    Err(pending("onboard"))
}

pub(crate) async fn refresh_perms(
    _a: &RefreshPermsArgs,
    _env: &Env,
    _out: &Printer,
) -> Result<Exit, CliError> {
    Err(pending("refresh-perms"))
}

pub(crate) async fn migrate(
    _a: &MigrateArgs,
    _env: &Env,
    _out: &Printer,
) -> Result<Exit, CliError> {
    Err(pending("migrate"))
}

pub(crate) async fn resume(_a: &ResumeArgs, _env: &Env, _out: &Printer) -> Result<Exit, CliError> {
    Err(pending("resume"))
}

pub(crate) async fn demo(_a: &DemoArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    if env.sandbox.is_none() {
        out.warn(
            "`gdap demo` is meant for --sandbox; running it against real endpoints only reads",
        );
    }
    out.line("== 1. Sync the GDAP relationships ==");
    let report = tenants::synced(env, out).await?;
    out.line(tenants::sync_summary(&report));
    out.line("");
    out.line("== 2. The managed-tenants table ==");
    out.block(tenants::table(&report.tenants));
    out.line(tenants::footer(&report.tenants));
    out.json(&report);
    Ok(Exit::Ok)
}
