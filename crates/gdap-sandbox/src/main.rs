//! `gdap-sandbox serve`: runs the fake Microsoft login + Graph + Partner Center on loopback.

// A CLI binary: printing the URLs and the ready-made refresh token is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gdap_sandbox::{Faults, Sandbox, World};

/// A stateful fake of Microsoft login, Graph (GDAP + consent) and Partner Center.
#[derive(Debug, Parser)]
#[command(name = "gdap-sandbox", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a seeded world on 127.0.0.1 until Ctrl-C.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Number of customer tenants.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(0..=200_000))]
    tenants: u32,
    /// World seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Fixed latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault profile.
    #[arg(long, default_value = "none", value_parser = clap::builder::PossibleValuesParser::new(Faults::PROFILES))]
    faults: String,
    /// Access assignment propagation delay (pending -> active), in milliseconds.
    #[arg(long, default_value_t = 2000)]
    propagation_ms: u64,
    /// Delay before a Partner Center consent shows up in Graph, in milliseconds.
    #[arg(long, default_value_t = 0)]
    consent_delay_ms: u64,
    /// Status of a duplicate consent answer ("Permission entry already exists.").
    #[arg(long, default_value_t = 409, value_parser = parse_dup_status)]
    duplicate_consent_status: u16,
    /// Locked relationships become active after this many milliseconds (off when absent).
    #[arg(long)]
    auto_approve_ms: Option<u64>,
}

fn parse_dup_status(s: &str) -> Result<u16, String> {
    match s {
        "409" => Ok(409),
        "400" => Ok(400),
        _ => Err("expected 409 or 400".into()),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => serve(a).await,
    }
}

async fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let world = World::seeded(a.seed, a.tenants as usize);
    let seeded_in = t0.elapsed();
    let faults = Faults::profile(&a.faults).context("fault profile")?;
    let mut b = Sandbox::builder()
        .world(world)
        .faults(faults)
        .port(a.port)
        .latency(Duration::from_millis(a.latency_ms))
        .propagation_delay(Duration::from_millis(a.propagation_ms))
        .consent_delay(Duration::from_millis(a.consent_delay_ms))
        .duplicate_consent_status(a.duplicate_consent_status);
    if let Some(ms) = a.auto_approve_ms {
        b = b.auto_approve_after(Duration::from_millis(ms));
    }
    let h = b.start().await.context("starting the sandbox")?;
    let info = h.world_info();
    let rt = h.issue_refresh_token(
        &info.admin_upn,
        &["https://graph.microsoft.com/.default", "offline_access"],
    );
    println!("gdap-sandbox listening on {}", h.base_url());
    println!(
        "  seeded {} customer tenants (seed {}) in {:?}",
        a.tenants, a.seed, seeded_in
    );
    println!("  authority:      {}", h.authority_url());
    println!("  graph:          {}", h.graph_url());
    println!("  partner center: {}", h.partner_center_url());
    println!(
        "  partner tenant: {} ({})",
        info.partner_tenant_id, info.partner_domain
    );
    println!("  client id:      {}", info.client_id);
    println!("  client secret:  {}", info.client_secret);
    println!("  admin user:     {}", info.admin_upn);
    println!("  faults:         {}", a.faults);
    println!("  refresh token for the admin (MFA):");
    println!("    {rt}");
    println!();
    println!("  try:");
    println!(
        "    curl -s -X POST {}/{}/oauth2/v2.0/token -d grant_type=refresh_token -d client_id={} -d client_secret={} --data-urlencode refresh_token={rt} --data-urlencode 'scope=https://graph.microsoft.com/.default'",
        h.authority_url(),
        info.partner_tenant_id,
        info.client_id,
        info.client_secret
    );
    println!("  Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("stopping...");
    h.shutdown().await;
    Ok(())
}
