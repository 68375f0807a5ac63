//! The load benchmark's target and drivers, run by `benches/load/run.sh`:
//!
//! - `serve`: a portcullis provider on the memory store, SQLite or PostgreSQL, with opaque
//!   or JWT access tokens, the default login and consent pages, and two protected routes
//!   (`/api/store`: store lookup; `/api/jwt`: local JWT validation against the JWKS);
//! - `flows`: drives the full authorization-code flow (authorize → login → consent →
//!   token) against a running `serve` and reports flows per second;
//! - `soak`: issues millions of short-lived client-credentials tokens in process (no HTTP)
//!   on the memory store and samples the resident set size every second;
//! - `report`: turns the script's measurements into the Markdown table and the SVG plot.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::{Parser, Subcommand};

mod flows;
mod report;
mod serve;
mod soak;

/// Command line.
#[derive(Parser)]
#[command(about = "portcullis load benchmark target and drivers")]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// Serve a provider to load.
    Serve(serve::Args),
    /// Drive the authorization-code flow against a running provider.
    Flows(flows::Args),
    /// Issue short-lived tokens in process and watch the memory.
    Soak(soak::Args),
    /// Print the results table and write the plot.
    Report(report::Args),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    if let Command::Report(args) = cli.command {
        return report::run(&args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Flows(args) => flows::run(args).await,
            Command::Soak(args) => soak::run(args).await,
            Command::Report(_) => Ok(()),
        }
    })
}

/// The resident set size of this process, in KiB (`VmRSS` of `/proc/self/status`).
pub(crate) fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
