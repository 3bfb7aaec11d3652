//! The command line (clap derive). Secrets are never arguments: the client secret and the refresh
//! token come from environment variables or files (see `wiring`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gdap_core::TenantId;
use url::Url;

/// The public Entra ID authority.
pub(crate) const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// See the managed tenants reachable through GDAP, judge their roles, request what is missing,
/// and install and grant the app in many tenants at once.
///
/// Start with `gdap --sandbox demo`: it runs everything against an in-process fake of Microsoft
/// login, Graph and Partner Center. Secrets are read from the environment or files, never from
/// arguments: GDAP_CLIENT_SECRET / --client-secret-file, GDAP_REFRESH_TOKEN / --refresh-token-file
/// (or the token `gdap connect` stored in the state directory).
#[derive(Debug, Parser)]
#[command(name = "gdap", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalOpts,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalOpts {
    /// Run against an in-process sandbox on 127.0.0.1 (a fresh seeded world each run; nothing is
    /// written to the state directory).
    #[arg(long, global = true)]
    pub(crate) sandbox: bool,

    /// Sandbox: number of customer tenants.
    #[arg(long, global = true, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub(crate) tenants: u32,

    /// Sandbox: world seed (same seed, same tenants and ids).
    #[arg(long, global = true, value_name = "S", default_value_t = 7)]
    pub(crate) seed: u64,

    /// Sandbox: fault profile.
    #[arg(long, global = true, value_name = "PROFILE", value_enum)]
    pub(crate) faults: Option<FaultProfile>,

    /// Sandbox: propagation delay of GDAP assignment changes, in milliseconds.
    #[arg(
        long,
        global = true,
        value_name = "MS",
        default_value_t = 200,
        hide = true
    )]
    pub(crate) sandbox_propagation_ms: u64,

    /// Entra ID authority base URL (may carry a path prefix).
    #[arg(long, global = true, env = "GDAP_AUTHORITY", default_value = DEFAULT_AUTHORITY)]
    pub(crate) authority: Url,

    /// Microsoft Graph base URL (may carry a path prefix).
    #[arg(long, global = true, env = "GDAP_GRAPH_ENDPOINT",
          default_value = gdap_graph::client::DEFAULT_ENDPOINT)]
    pub(crate) graph_endpoint: Url,

    /// Partner Center base URL (may carry a path prefix).
    #[arg(long, global = true, env = "GDAP_PARTNER_CENTER_ENDPOINT",
          default_value = gdap_partner_center::client::DEFAULT_ENDPOINT)]
    pub(crate) partner_center_endpoint: Url,

    /// The app's client (application) id.
    #[arg(long, global = true, env = "GDAP_CLIENT_ID", value_name = "GUID")]
    pub(crate) client_id: Option<String>,

    /// File holding the app's client secret (else GDAP_CLIENT_SECRET).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) client_secret_file: Option<PathBuf>,

    /// File holding the partner user's refresh token (else GDAP_REFRESH_TOKEN, else the one
    /// `gdap connect` stored in the state directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) refresh_token_file: Option<PathBuf>,

    /// The partner tenant (GUID), when the access token does not name it.
    #[arg(long, global = true, env = "GDAP_PARTNER_TENANT", value_name = "GUID")]
    pub(crate) partner_tenant: Option<TenantId>,

    /// The partner security group (GUID) onboarding assigns to each GDAP relationship
    /// (with --sandbox: the sandbox admin's group).
    #[arg(long, global = true, env = "GDAP_SECURITY_GROUP", value_name = "GUID")]
    pub(crate) security_group: Option<gdap_core::SecurityGroupId>,

    /// Where the refresh token, the tenant records and the journal live
    /// [default: $GDAP_STATE_DIR, else ~/.local/state/gdap].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,

    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) output: OutputFormat,

    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Human-readable tables and lines.
    Table,
    /// One JSON document on stdout (documented in the README).
    Json,
}

/// Sandbox fault profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FaultProfile {
    /// No faults.
    None,
    /// ~5% 429, ~5% 503, ~1% connection resets on Graph and Partner Center.
    Flaky,
    /// 5 requests/s per tenant, 200/s overall.
    Throttled,
    /// 50–300 ms latency everywhere.
    Slow,
}

impl FaultProfile {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FaultProfile::None => "none",
            FaultProfile::Flaky => "flaky",
            FaultProfile::Throttled => "throttled",
            FaultProfile::Slow => "slow",
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign in as the partner admin (auth code + PKCE on a loopback redirect) and store the
    /// refresh token in the state directory (mode 0600).
    Connect(ConnectArgs),
    /// Read the GDAP relationships and refresh the managed-tenants table.
    Sync,
    /// The managed-tenants table (syncs first).
    Tenants,
    /// Install and grant the app in tenants (GDAP Ready, not yet onboarded).
    Onboard(OnboardArgs),
    /// Refresh the email (Exchange) permissions of onboarded tenants that need it.
    RefreshPerms(RefreshPermsArgs),
    /// Move legacy (individually onboarded) tenants to Partner Center management.
    Migrate(MigrateArgs),
    /// Create a GDAP relationship request for a tenant and print the customer's approval link.
    RequestPermissions(RequestArgs),
    /// Relationships ending soon and approval requests about to lapse.
    Expiring(ExpiringArgs),
    /// Least-privilege audit: Global Administrator or other roles beyond what is needed.
    Audit(AuditArgs),
    /// The MSP's own partner tenant: show, enable or disable it.
    MyTenant(MyTenantArgs),
    /// Continue the last interrupted batch from the journal.
    Resume(ResumeArgs),
    /// Sync, show the table, onboard every Ready tenant, show the table again (use with --sandbox).
    Demo(DemoArgs),
}

/// `connect`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// Loopback port for the redirect (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// Pre-fill the account on the sign-in page.
    #[arg(long, value_name = "UPN")]
    pub(crate) login_hint: Option<String>,
    /// Give up waiting for the browser after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub(crate) timeout: u64,
}

/// `onboard`.
#[derive(Debug, Args)]
pub(crate) struct OnboardArgs {
    /// Tenant ids (GUIDs).
    #[arg(
        id = "tenant_ids",
        value_name = "TENANT",
        required_unless_present = "all_ready",
        conflicts_with = "all_ready"
    )]
    pub(crate) tenants: Vec<TenantId>,
    /// Every tenant showing GDAP Ready and Not Protected.
    #[arg(long)]
    pub(crate) all_ready: bool,
    /// Show the plan; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Tenants worked on at once.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) concurrency: u32,
}

/// `refresh-perms`.
#[derive(Debug, Args)]
pub(crate) struct RefreshPermsArgs {
    /// Tenant ids; default: every tenant whose Email Perms show a refresh is needed.
    #[arg(id = "tenant_ids", value_name = "TENANT")]
    pub(crate) tenants: Vec<TenantId>,
    /// Tenants worked on at once.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) concurrency: u32,
}

/// `migrate`.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Tenant ids (GUIDs).
    #[arg(
        id = "tenant_ids",
        value_name = "TENANT",
        required_unless_present = "all_legacy",
        conflicts_with = "all_legacy"
    )]
    pub(crate) tenants: Vec<TenantId>,
    /// Every tenant with the Legacy badge.
    #[arg(long)]
    pub(crate) all_legacy: bool,
    /// Tenants worked on at once.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) concurrency: u32,
}

/// `request-permissions`.
#[derive(Debug, Args)]
pub(crate) struct RequestArgs {
    /// The customer tenant id (GUID).
    #[arg(value_name = "TENANT")]
    pub(crate) tenant: TenantId,
    /// Relationship template: AppInstall (the app's roles), Support, Helpdesk, Intune, Licenses,
    /// SecReader, Exchange, Groups.
    #[arg(long, value_name = "NAME", default_value = "AppInstall")]
    pub(crate) template: String,
    /// Display name of the relationship (1–50 characters; default: generated and unique).
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
}

/// `expiring`.
#[derive(Debug, Args)]
pub(crate) struct ExpiringArgs {
    /// Window, e.g. `30d`, `7d`, `1d` (at most 30d).
    #[arg(long, value_name = "DAYS", default_value = "30d", value_parser = parse_days)]
    pub(crate) within: i64,
}

/// `audit`.
#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Task templates whose roles are also needed (repeatable), e.g. `--template Helpdesk`.
    #[arg(long = "template", value_name = "NAME")]
    pub(crate) templates: Vec<String>,
}

/// `my-tenant`.
#[derive(Debug, Args)]
pub(crate) struct MyTenantArgs {
    /// What to do (omit to show the state).
    #[arg(value_enum)]
    pub(crate) action: Option<MyTenantAction>,
}

/// `my-tenant` actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MyTenantAction {
    /// Monitor the MSP's own partner tenant (client credentials; never billed).
    Enable,
    /// Stop monitoring it.
    Disable,
}

/// `resume`.
#[derive(Debug, Args)]
pub(crate) struct ResumeArgs {
    /// The run to continue (default: the last unfinished one).
    #[arg(long, value_name = "RUN_ID")]
    pub(crate) run: Option<String>,
    /// Tenants worked on at once.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) concurrency: u32,
}

/// `demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Tenants worked on at once.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) concurrency: u32,
}

/// `30d`, `30` → 30; at most 30 days (the expiry report's widest bucket).
fn parse_days(s: &str) -> Result<i64, String> {
    let digits = s.trim().strip_suffix(['d', 'D']).unwrap_or(s.trim());
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("expected a number of days like `30d`, got `{s}`"))?;
    if !(0..=30).contains(&n) {
        return Err(format!("must be between 0d and 30d, got `{s}`"));
    }
    Ok(n)
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_parses_next_to_the_global_options() {
        for args in [
            &[
                "gdap",
                "--sandbox",
                "--tenants",
                "5",
                "onboard",
                "--all-ready",
            ][..],
            &[
                "gdap",
                "--tenants",
                "5",
                "onboard",
                "11111111-2222-3333-4444-555555555555",
            ],
            &["gdap", "--tenants", "5", "migrate", "--all-legacy"],
            &["gdap", "--tenants", "5", "refresh-perms"],
            &[
                "gdap",
                "--tenants",
                "5",
                "request-permissions",
                "11111111-2222-3333-4444-555555555555",
            ],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.global.tenants, 5);
        }
    }

    #[test]
    fn days() {
        assert_eq!(parse_days("30d"), Ok(30));
        assert_eq!(parse_days("7"), Ok(7));
        assert!(parse_days("31d").is_err());
        assert!(parse_days("abc").is_err());
    }
}
