//! The admin console and the login and consent pages in a real browser: headless Debian
//! Chromium driven through ChromeDriver (WebDriver, with `fantoccini`), against the real
//! `local-server --demo` on a loopback port. Screenshots of every page visited are saved
//! under `target/browser-screenshots/` as test artifacts.
//!
//! Needs `chromium` and `chromium-driver` (`scripts/test.sh` and `.ci/run` install them when
//! missing). Without them, these tests fail on CI and skip with a note elsewhere.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    dead_code
)]

mod console;
mod driver;
mod local_client;
#[path = "../local_server/support.rs"]
mod support;
