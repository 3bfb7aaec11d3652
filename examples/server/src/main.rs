//! `gdap-server`: the multi-user web service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use gdap_server::{CloudMode, Config, Endpoints, KeySource, Role};
use secrecy::SecretString;
use url::Url;

#[derive(Parser)]
#[command(
    name = "gdap-server",
    version,
    about = "The gdap web service: managed-tenants page, JSON API, OAuth connect, RBAC, SQLite."
)]
struct Cli {
    /// The SQLite database (created and migrated at start).
    #[arg(
        long,
        env = "GDAP_DATABASE",
        default_value = "./gdap.db",
        global = true
    )]
    database: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Listen address.
    #[arg(long, env = "GDAP_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Externally visible base URL (default http://{listen}); the OAuth redirect URI is {url}/connect/callback.
    #[arg(long, env = "GDAP_PUBLIC_URL")]
    public_url: Option<Url>,
    /// Start the in-process fake cloud and connect to it.
    #[arg(long, env = "GDAP_SANDBOX")]
    sandbox: bool,
    /// Customer tenants in the sandbox world.
    #[arg(long, default_value_t = 40)]
    sandbox_tenants: usize,
    /// Seed of the sandbox world.
    #[arg(long, default_value_t = 7)]
    sandbox_seed: u64,
    /// Key file for encrypting the refresh token (created 0600 on first start). Default: the database path with `.key`.
    #[arg(long, env = "GDAP_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Login authority.
    #[arg(
        long,
        env = "GDAP_AUTHORITY",
        default_value = "https://login.microsoftonline.com"
    )]
    authority: Url,
    /// Microsoft Graph endpoint.
    #[arg(
        long,
        env = "GDAP_GRAPH_ENDPOINT",
        default_value = "https://graph.microsoft.com"
    )]
    graph_endpoint: Url,
    /// Partner Center endpoint.
    #[arg(
        long,
        env = "GDAP_PARTNER_CENTER_ENDPOINT",
        default_value = "https://api.partnercenter.microsoft.com"
    )]
    partner_center_endpoint: Url,
    /// The partner app's client id.
    #[arg(long, env = "GDAP_CLIENT_ID")]
    client_id: Option<String>,
    /// The partner security group (a GUID) onboarding assigns to each customer's GDAP
    /// relationship; the signed-in partner user must be a member. Not needed with --sandbox.
    #[arg(long, env = "GDAP_SECURITY_GROUP")]
    security_group: Option<String>,
    /// Seconds before the table is synced again on open.
    #[arg(long, env = "GDAP_STALE_AFTER_SECS", default_value_t = 300)]
    stale_after_secs: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage members.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds (or re-keys) a member and prints a new API token once.
    Add {
        /// The member's email.
        #[arg(long)]
        email: String,
        /// owner, admin, member, guest or billing.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,gdap_sandbox=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::User {
            command: UserCommand::Add { email, role },
        }) => {
            let token = gdap_server::add_user(&cli.database, &email, role).await?;
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{token}")?;
            tracing::info!(%email, %role, "member added; the API token above is shown once");
            Ok(())
        }
        Some(Command::Serve) | None => serve(cli.database, cli.serve).await,
    }
}

async fn serve(database: PathBuf, a: ServeArgs) -> anyhow::Result<()> {
    let cloud = if a.sandbox {
        CloudMode::Sandbox {
            tenants: a.sandbox_tenants,
            seed: a.sandbox_seed,
        }
    } else {
        let client_id = a
            .client_id
            .ok_or_else(|| {
                anyhow::anyhow!("--client-id (GDAP_CLIENT_ID) is required without --sandbox")
            })?
            .parse()
            .map_err(|e| anyhow::anyhow!("--client-id: {e}"))?;
        CloudMode::Endpoints(Endpoints {
            authority: a.authority,
            graph: a.graph_endpoint,
            partner_center: a.partner_center_endpoint,
            client_id,
            client_secret: env_secret("GDAP_CLIENT_SECRET"),
            security_group: a
                .security_group
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--security-group: {e}"))?,
            poll_interval: None,
        })
    };
    let mut config = Config::new(database, a.listen, cloud);
    config.public_url = a.public_url;
    config.stale_after = Duration::from_secs(a.stale_after_secs);
    if let Some(k) = env_secret("GDAP_ENCRYPTION_KEY") {
        config.key = KeySource::Inline(k);
    } else if let Some(f) = a.key_file {
        config.key = KeySource::File(f);
    }
    let server = gdap_server::start(config).await?;
    tracing::info!(url = %server.url(), "open the managed-tenants page (sign in with an API token from `gdap-server user add`)");
    server.run_until_signal().await;
    Ok(())
}
