//! What the validators that talk to a remote provider share.

use std::net::IpAddr;

/// Whether `url`'s host is loopback: `localhost`, `127.0.0.0/8` or `::1` — the only hosts
/// plain `http` is accepted for without `insecure_allow_http()`.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}
