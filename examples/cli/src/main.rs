//! `gdap`: the command-line front-end of the gdap workspace. See the README.

mod cli;
mod commands;
mod connect;
mod errors;
mod output;
mod state;
mod wiring;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::Cli;
use crate::errors::Exit;
use crate::output::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version print to stdout and exit 0; usage errors print to stderr, exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage.code()
            } else {
                0
            });
        }
    };
    init_tracing(cli.global.verbose);
    let out = Printer::new(cli.global.output);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(
                &errors::CliError::Other(format!("cannot start the async runtime: {e}")).render(),
                Exit::Failed.code(),
            );
            return Exit::Failed.into();
        }
    };
    let result = runtime.block_on(commands::run(cli, &out));
    // Background tasks (the sandbox's connections) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            let exit = e.exit();
            out.error(&e.render(), exit.code());
            exit.into()
        }
    }
}

/// `-v` info, `-vv` debug, `-vvv` trace, on stderr; `RUST_LOG` wins when set. Default: warn,
/// without the client crates' per-call error events (every failure is rendered once, at the
/// end, through the catalogue).
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => {
            "warn,gdap_graph=off,gdap_partner_center=off,gdap_auth=off,gdap_core=off,gdap_sandbox=off"
        }
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
