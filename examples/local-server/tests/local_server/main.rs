//! `local-server` as its users meet it: the real binary on a loopback port, driven over
//! HTTP through the contract of DESIGN §4.1 (flags, paths, admin API) on SQLite and
//! PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod admin_api;
mod console;
mod demo;
mod extension_grants;
mod login;
mod postgres;
mod restart;
mod standards;
mod support;
