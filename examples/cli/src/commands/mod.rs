//! One module per command group; [`run`] dispatches.

mod batch;
mod connect;
mod lifecycle;
mod my_tenant;
mod reports;
mod request;
mod tenants;

use crate::cli::{Cli, Command};
use crate::errors::{CliError, Exit};
use crate::output::Printer;
use crate::state::StateDir;
use crate::wiring::{self, Env};

/// Runs the command; the `Exit` says how it ended when it did not fail outright.
pub(crate) async fn run(cli: Cli, out: &Printer) -> Result<Exit, CliError> {
    let g = &cli.global;
    let state = StateDir::resolve(g.state_dir.as_deref());
    let target = wiring::target(g, &state).await?;
    if let Some(h) = &target.sandbox {
        out.note(format!(
            "sandbox: {} customer tenants (seed {}) at {}{}",
            g.tenants,
            g.seed,
            h.base_url(),
            g.faults
                .map(|f| format!(", faults: {}", f.as_str()))
                .unwrap_or_default()
        ));
    }
    if let Command::Connect(args) = &cli.command {
        return connect::run(args, &target, &state, out).await;
    }
    let env = wiring::connect_env(g, &state, target).await?;
    let result = dispatch(&cli.command, &env, out).await;
    if let Some(h) = env.sandbox {
        h.shutdown().await;
    }
    result
}

async fn dispatch(command: &Command, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    match command {
        Command::Connect(_) => Ok(Exit::Ok),
        Command::Sync => tenants::sync(env, out).await,
        Command::Tenants => tenants::tenants(env, out).await,
        Command::RequestPermissions(a) => request::run(a, env, out).await,
        Command::Expiring(a) => reports::expiring(a, env, out).await,
        Command::Audit(a) => reports::audit(a, env, out).await,
        Command::MyTenant(a) => my_tenant::run(a, env, out).await,
        Command::Onboard(a) => batch::onboard(a, env, out).await,
        Command::RefreshPerms(a) => batch::refresh_perms(a, env, out).await,
        Command::Migrate(a) => batch::migrate(a, env, out).await,
        Command::Resume(a) => batch::resume(a, env, out).await,
        Command::Demo(a) => batch::demo(a, env, out).await,
        Command::Groups(a) => lifecycle::groups::run(a, env, out).await,
        Command::WaitApproval(a) => lifecycle::approval::run(a, env, out).await,
        Command::AutoExtend(a) => lifecycle::bulk::auto_extend(a, env, out).await,
        Command::RemoveGa(a) => lifecycle::bulk::remove_ga(a, env, out).await,
        Command::Repair(a) => lifecycle::bulk::repair(a, env, out).await,
        Command::Trace(a) => lifecycle::trace::run(a, env, out).await,
    }
}

/// A workflow error with the env's context.
pub(crate) fn fail(env: &Env, e: gdap_onboard::OnboardError) -> CliError {
    CliError::onboard(e, env.explain_context())
}
