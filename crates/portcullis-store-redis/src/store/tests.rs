#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn redis_7_or_later_is_supported() {
    for (version, ok) in [
        ("7.0.15", true),
        ("7.2.4", true),
        ("8.0.0", true),
        ("6.2.14", false),
        ("unknown", false),
        ("", false),
    ] {
        assert_eq!(supports(version), ok, "{version}");
    }
}

#[test]
fn prefixes_are_matched_literally_by_scan() {
    assert_eq!(glob_escape("tenant-a:"), "tenant\\-a:");
    assert_eq!(glob_escape("t*[x]?\\"), "t\\*\\[x\\]\\?\\\\");
    assert_eq!(glob_escape("plain:"), "plain:");
}
