//! The command line (clap derive). Secrets are never arguments: the client secret and the refresh
//! token come from environment variables or files (see `wiring`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use gdap_core::{RelationshipId, TenantId};
use gdap_onboard::workflows::GroupTemplate;
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

    /// Sandbox: the customer approves relationships locked for approval after this many
    /// milliseconds (and `wait-approval` has it approve one that was already pending).
    #[arg(long, global = true, value_name = "MS", hide = true)]
    pub(crate) sandbox_auto_approve_ms: Option<u64>,

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
    /// Create (or reuse) the GDAP security groups of a template in the partner tenant, put the
    /// service account in each, check its AdminAgents membership and MFA, and assign the groups
    /// to relationships.
    Groups(GroupsArgs),
    /// Wait until the customer approves a GDAP relationship, then assign the template's groups
    /// (optionally registering the Partner Center approval webhook first).
    WaitApproval(WaitApprovalArgs),
    /// Set auto-extend (180 days) on every active relationship that allows it.
    AutoExtend(AutoExtendArgs),
    /// Remove Global Administrator from active relationships, keeping their other roles (asks
    /// for --yes; follows each change to completion).
    RemoveGa(RemoveGaArgs),
    /// Compare the relationships' access assignments with the group template and repair the
    /// drift (missing or stale groups, extra or missing roles).
    Repair(RepairArgs),
    /// Why a partner user does (or does not) have access to a customer tenant: user -> groups ->
    /// relationships -> roles.
    Trace(TraceArgs),
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

/// `groups`.
#[derive(Debug, Args)]
pub(crate) struct GroupsArgs {
    /// The service account (UPN or object id) to put in every group [default: the signed-in
    /// user].
    #[arg(long, value_name = "UPN")]
    pub(crate) service_account: Option<String>,
    /// Group template: app-install (App Install + Global Reader groups), least-privilege (one
    /// group per task template), or a JSON file (`{"groups": [{"displayName", "description",
    /// "roles": [names or ids]}]}`).
    #[arg(long, value_name = "TEMPLATE", default_value = "app-install", value_parser = parse_template)]
    pub(crate) template: TemplateArg,
    /// Also give each group an access assignment on this relationship (repeatable).
    #[arg(long = "relationship", value_name = "REL_ID")]
    pub(crate) relationships: Vec<RelationshipId>,
    /// Show the plan; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `wait-approval`.
#[derive(Debug, Args)]
pub(crate) struct WaitApprovalArgs {
    /// The relationship waiting for the customer's approval.
    #[arg(value_name = "REL_ID")]
    pub(crate) relationship: RelationshipId,
    /// Give up after this long, e.g. `1h`, `30m`, `90s` (at most 7d).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
    /// Once approved, assign the groups of this template (app-install when no value is given;
    /// least-privilege, or a JSON file).
    #[arg(long, value_name = "TEMPLATE", num_args = 0..=1, default_missing_value = "app-install",
          value_parser = parse_template)]
    pub(crate) assign: Option<TemplateArg>,
    /// First register this https URL for Partner Center's GDAP approval events.
    #[arg(long, value_name = "URL", value_parser = parse_webhook_url)]
    pub(crate) webhook_url: Option<Url>,
    /// Replace another tool's webhook registration (a partner has only one).
    #[arg(long, requires = "webhook_url")]
    pub(crate) force: bool,
    /// Plan only: read the relationship once, plan the webhook and the assignments, change
    /// nothing and do not wait.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `auto-extend`.
#[derive(Debug, Args)]
pub(crate) struct AutoExtendArgs {
    /// Only this relationship (repeatable) [default: every active relationship].
    #[arg(long = "relationship", value_name = "REL_ID")]
    pub(crate) relationships: Vec<RelationshipId>,
    /// Relationships worked on at once.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) concurrency: u32,
    /// Show the plan; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `remove-ga`.
#[derive(Debug, Args)]
pub(crate) struct RemoveGaArgs {
    /// Only this relationship (repeatable) [default: every active relationship with Global
    /// Administrator].
    #[arg(long = "relationship", value_name = "REL_ID")]
    pub(crate) relationships: Vec<RelationshipId>,
    /// How long each change (a long-running operation) is followed, e.g. `10m`, `90s`.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
    /// Show the plan; change nothing.
    #[arg(long, conflicts_with = "yes")]
    pub(crate) dry_run: bool,
    /// Apply the plan (without it, the plan is shown and nothing is changed).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

/// `repair`.
#[derive(Debug, Args)]
pub(crate) struct RepairArgs {
    /// Group template to compare with: app-install, least-privilege, or a JSON file.
    #[arg(long, value_name = "TEMPLATE", default_value = "app-install", value_parser = parse_template)]
    pub(crate) template: TemplateArg,
    /// Only this relationship (repeatable) [default: every active relationship].
    #[arg(long = "relationship", value_name = "REL_ID")]
    pub(crate) relationships: Vec<RelationshipId>,
    /// Show the drift and the fixes; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `trace`.
#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    /// The partner user (UPN or object id).
    #[arg(long, value_name = "UPN")]
    pub(crate) user: String,
    /// The customer tenant id (GUID).
    #[arg(long, value_name = "TENANT_ID")]
    pub(crate) tenant: TenantId,
}

/// A group template chosen on the command line: its label and its groups.
#[derive(Debug, Clone)]
pub(crate) struct TemplateArg {
    /// `app-install`, `least-privilege`, or the file's path as given.
    pub(crate) label: String,
    /// The groups.
    pub(crate) template: GroupTemplate,
}

/// The largest template file read.
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// `app-install`, `least-privilege` (any case, `-`/`_` optional), or a JSON file, read and
/// validated here so that a bad file is a usage error before anything is signed in or sent.
pub(crate) fn parse_template(s: &str) -> Result<TemplateArg, String> {
    let key: String = s
        .trim()
        .chars()
        .filter(|c| *c != '-' && *c != '_' && *c != ' ')
        .collect::<String>()
        .to_ascii_lowercase();
    let builtin = match key.as_str() {
        "appinstall" => Some(("app-install", GroupTemplate::app_install())),
        "leastprivilege" => Some(("least-privilege", GroupTemplate::least_privilege())),
        _ => None,
    };
    if let Some((label, template)) = builtin {
        return Ok(TemplateArg {
            label: label.to_owned(),
            template,
        });
    }
    let path = std::path::Path::new(s);
    let shown: String = s.chars().take(200).collect();
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && !s.to_ascii_lowercase().ends_with(".json")
        {
            format!(
                "unknown template `{shown}`: use app-install, least-privilege, or the path of a JSON group template"
            )
        } else {
            format!("cannot read the template file {shown}: {e}")
        }
    })?;
    if !meta.is_file() {
        return Err(format!(
            "cannot read the template file {shown}: not a regular file"
        ));
    }
    if meta.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "the template file {shown} is larger than {} KiB",
            MAX_TEMPLATE_BYTES / 1024
        ));
    }
    let mut text = String::new();
    use std::io::Read as _;
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TEMPLATE_BYTES).read_to_string(&mut text))
        .map_err(|e| format!("cannot read the template file {shown}: {e}"))?;
    let template = GroupTemplate::from_json(&text).map_err(|e| {
        let why = match &e {
            gdap_onboard::OnboardError::InvalidTemplate(t) => t.to_string(),
            other => other.to_string(),
        };
        format!("the template file {shown} is invalid: {why}")
    })?;
    Ok(TemplateArg {
        label: shown,
        template,
    })
}

/// The longest wait a duration flag accepts.
const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// `90s`, `30m`, `1h`, `1h30m`, `2d` (a bare number is seconds); 1 s ..= 7 days.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let shown: String = s.chars().take(64).collect();
    let bad = || format!("expected a duration like `90s`, `30m`, `1h` or `1h30m`, got `{shown}`");
    let t = s.trim();
    let total: u64 = if !t.is_empty() && t.len() <= 9 && t.chars().all(|c| c.is_ascii_digit()) {
        t.parse().map_err(|_| bad())?
    } else {
        let mut total: u64 = 0;
        let mut digits = String::new();
        for c in t.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit: u64 = match c.to_ascii_lowercase() {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(bad()),
            };
            if digits.is_empty() || digits.len() > 9 {
                return Err(bad());
            }
            let n: u64 = digits.parse().map_err(|_| bad())?;
            digits.clear();
            total = total.saturating_add(n.saturating_mul(unit));
        }
        if !digits.is_empty() || t.is_empty() {
            return Err(bad());
        }
        total
    };
    let d = Duration::from_secs(total);
    if d.is_zero() || d > MAX_DURATION {
        return Err(format!("must be between 1s and 7d, got `{shown}`"));
    }
    Ok(d)
}

/// An `https` URL (plain `http` only on a loopback host, for tests).
fn parse_webhook_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim()).map_err(|e| format!("not a URL: {e}"))?;
    let loopback = matches!(
        url.host(),
        Some(url::Host::Domain("localhost")) | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
    ) || url.host() == Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        other => Err(format!(
            "the webhook must use https (http only on a loopback host), not `{other}`"
        )),
    }
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
            &[
                "gdap",
                "--tenants",
                "5",
                "groups",
                "--relationship",
                "ab-cd",
                "--dry-run",
            ],
            &[
                "gdap",
                "--tenants",
                "5",
                "wait-approval",
                "ab-cd",
                "--assign",
            ],
            &[
                "gdap",
                "--tenants",
                "5",
                "auto-extend",
                "--concurrency",
                "2",
            ],
            &["gdap", "--tenants", "5", "remove-ga", "--yes"],
            &[
                "gdap",
                "--tenants",
                "5",
                "repair",
                "--template",
                "least-privilege",
            ],
            &[
                "gdap",
                "--tenants",
                "5",
                "trace",
                "--user",
                "a@b.example",
                "--tenant",
                "11111111-2222-3333-4444-555555555555",
            ],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.global.tenants, 5);
        }
    }

    #[test]
    fn assign_takes_an_optional_template() {
        let label = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::WaitApproval(a) => a.assign.map(|t| t.label),
            _ => unreachable!(),
        };
        assert_eq!(label(&["gdap", "wait-approval", "ab"]), None);
        assert_eq!(
            label(&["gdap", "wait-approval", "ab", "--assign", "--dry-run"]).as_deref(),
            Some("app-install")
        );
        assert_eq!(
            label(&["gdap", "wait-approval", "ab", "--assign", "least-privilege"]).as_deref(),
            Some("least-privilege")
        );
        assert!(Cli::try_parse_from(["gdap", "wait-approval", "ab", "--force"]).is_err());
        assert!(Cli::try_parse_from(["gdap", "remove-ga", "--yes", "--dry-run"]).is_err());
    }

    #[test]
    fn days() {
        assert_eq!(parse_days("30d"), Ok(30));
        assert_eq!(parse_days("7"), Ok(7));
        assert!(parse_days("31d").is_err());
        assert!(parse_days("abc").is_err());
    }

    #[test]
    fn durations() {
        let secs = |s: &str| parse_duration(s).map(|d| d.as_secs());
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("30m"), Ok(1800));
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs(" 2D "), Ok(172_800));
        assert_eq!(secs("45"), Ok(45));
        assert_eq!(secs("7d"), Ok(604_800));
        for bad in [
            "",
            "0s",
            "0",
            "8d",
            "h",
            "1x",
            "1h30",
            "-1s",
            "1.5h",
            "99999999999s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn templates() {
        assert_eq!(parse_template("app-install").unwrap().label, "app-install");
        assert_eq!(parse_template("AppInstall").unwrap().label, "app-install");
        assert_eq!(
            parse_template("least_privilege").unwrap().label,
            "least-privilege"
        );
        let e = parse_template("everything").unwrap_err();
        assert!(e.contains("unknown template `everything`"), "{e}");
        let e = parse_template("/nonexistent/groups.json").unwrap_err();
        assert!(
            e.contains("cannot read the template file /nonexistent/groups.json"),
            "{e}"
        );
        let e = parse_template("/").unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn webhook_urls() {
        assert!(parse_webhook_url("https://msp.example/hooks").is_ok());
        assert!(parse_webhook_url("http://127.0.0.1:8080/hooks").is_ok());
        assert!(parse_webhook_url("http://msp.example/hooks").is_err());
        assert!(parse_webhook_url("ftp://msp.example/").is_err());
        assert!(parse_webhook_url("not a url").is_err());
    }
}
