//! `local-server`: a complete portcullis provider to run locally (DESIGN §4, §4.1).
//!
//! ```text
//! cargo run -p local-server -- --demo
//! ```
//!
//! axum with the provider's endpoints and its default login and consent pages, SQLite by
//! default (`--database postgres://…` for PostgreSQL), users with argon2id password hashes,
//! an admin API behind a bearer token, and a small protected API. Every flag is also an
//! environment variable; see `--help`.

mod admin;
mod api;
mod config;
mod console;
mod demo;
mod extension_grants;
mod logging;
mod server;
mod standards;
mod users;
mod validation;

use std::error::Error;
use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    let config = config::Config::parse();
    logging::init();
    match server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut message = format!("local-server: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
