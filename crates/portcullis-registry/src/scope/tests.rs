#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

fn scope(s: &str) -> Scope {
    Scope::new(s).unwrap()
}

fn set(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

/// A parsing case: name, input, and the sorted scopes or the error expected.
type ParseCase<'a> = (&'a str, &'a str, Result<Vec<&'a str>, ScopeError>);

/// `ScopeSet::parse` against the RFC 6749 §3.3 grammar:
/// `scope = scope-token *( SP scope-token )`, `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
#[test]
fn rfc6749_3_3_scope_parsing() {
    let many = vec!["s"; SCOPE_SET_MAX_LEN + 1].join(" ");
    let max = (0..SCOPE_SET_MAX_LEN)
        .map(|i| format!("s{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let long = "a".repeat(SCOPE_MAX_LEN + 1);
    let longest = "a".repeat(SCOPE_MAX_LEN);

    let cases: Vec<ParseCase<'_>> = vec![
        ("rfc6749_3_3_single_token", "openid", Ok(vec!["openid"])),
        (
            "rfc6749_3_3_tokens_separated_by_sp",
            "openid profile email",
            Ok(vec!["email", "openid", "profile"]),
        ),
        ("rfc6749_3_3_empty_string_is_empty_set", "", Ok(vec![])),
        ("rfc6749_3_3_x21_bang_is_valid", "!", Ok(vec!["!"])),
        ("rfc6749_3_3_x23_hash_is_valid", "#", Ok(vec!["#"])),
        ("rfc6749_3_3_x5b_open_bracket_is_valid", "[", Ok(vec!["["])),
        ("rfc6749_3_3_x5d_close_bracket_is_valid", "]", Ok(vec!["]"])),
        ("rfc6749_3_3_x7e_tilde_is_valid", "~", Ok(vec!["~"])),
        (
            "rfc6749_3_3_punctuation_is_valid",
            "read:invoices https://api.example/write",
            Ok(vec!["https://api.example/write", "read:invoices"]),
        ),
        (
            "rfc6749_3_3_order_does_not_matter_duplicates_collapse",
            "profile openid profile",
            Ok(vec!["openid", "profile"]),
        ),
        (
            "rfc6749_3_3_x22_quote_is_invalid",
            "openid a\"b",
            Err(ScopeError::InvalidCharacter { position: 8 }),
        ),
        (
            "rfc6749_3_3_x5c_backslash_is_invalid",
            "a\\b",
            Err(ScopeError::InvalidCharacter { position: 1 }),
        ),
        (
            "rfc6749_3_3_double_space_is_empty_token",
            "openid  profile",
            Err(ScopeError::EmptyToken { position: 7 }),
        ),
        (
            "rfc6749_3_3_leading_space_is_empty_token",
            " openid",
            Err(ScopeError::EmptyToken { position: 0 }),
        ),
        (
            "rfc6749_3_3_trailing_space_is_empty_token",
            "openid ",
            Err(ScopeError::EmptyToken { position: 7 }),
        ),
        (
            "rfc6749_3_3_single_space_is_empty_token",
            " ",
            Err(ScopeError::EmptyToken { position: 0 }),
        ),
        (
            "rfc6749_3_3_tab_is_not_a_delimiter",
            "openid\tprofile",
            Err(ScopeError::InvalidCharacter { position: 6 }),
        ),
        (
            "rfc6749_3_3_control_character_is_invalid",
            "open\u{7f}id",
            Err(ScopeError::InvalidCharacter { position: 4 }),
        ),
        (
            "rfc6749_3_3_non_ascii_is_invalid",
            "openid pröfile",
            Err(ScopeError::InvalidCharacter { position: 9 }),
        ),
        (
            "portcullis_scope_too_long",
            long.as_str(),
            Err(ScopeError::TooLong { max: SCOPE_MAX_LEN }),
        ),
        (
            "portcullis_scope_too_many",
            many.as_str(),
            Err(ScopeError::TooMany {
                max: SCOPE_SET_MAX_LEN,
            }),
        ),
    ];

    for (name, input, expected) in cases {
        let got = ScopeSet::parse(input).map(|set| {
            set.iter()
                .map(|scope| scope.as_str().to_owned())
                .collect::<Vec<_>>()
        });
        let expected = expected.map(|list| list.into_iter().map(str::to_owned).collect());
        assert_eq!(got, expected, "case {name}");
    }

    assert_eq!(set(&longest).len(), 1, "longest scope token is accepted");
    assert_eq!(
        set(&max).len(),
        SCOPE_SET_MAX_LEN,
        "256 tokens are accepted"
    );
}

#[test]
fn scope_new_rejects_what_a_token_cannot_be() {
    assert_eq!(Scope::new(""), Err(ScopeError::EmptyToken { position: 0 }));
    assert_eq!(
        Scope::new("a b"),
        Err(ScopeError::InvalidCharacter { position: 1 })
    );
    assert_eq!(scope("openid").as_str(), "openid");
    assert_eq!(scope("openid").to_string(), "openid");
    assert_eq!("openid".parse::<Scope>().unwrap(), scope("openid"));
}

#[test]
fn scope_set_displays_sorted_and_space_joined() {
    assert_eq!(set("b a c").to_string(), "a b c");
    assert_eq!(set("").to_string(), "");
    // Display output parses back to the same set.
    let original = set("openid profile email");
    assert_eq!(set(&original.to_string()), original);
}

#[test]
fn scope_set_operations() {
    let mut scopes: ScopeSet = [scope("openid"), scope("email")].into_iter().collect();
    assert!(scopes.contains("openid"));
    assert!(!scopes.contains("profile"));
    assert!(scopes.insert(scope("profile")));
    assert!(!scopes.insert(scope("profile")));
    assert_eq!(scopes.len(), 3);
    assert!(set("openid").is_subset(&scopes));
    assert!(!scopes.is_subset(&set("openid")));
    assert!(ScopeSet::new().is_subset(&scopes));
    assert!(ScopeSet::new().is_empty());
    assert_eq!(scopes.intersection(&set("openid phone")), set("openid"));
    assert!(scopes.remove("email"));
    assert_eq!(scopes, set("openid profile"));
}

#[test]
fn scope_serde_is_a_validated_string() {
    assert_eq!(
        serde_json::to_string(&scope("openid")).unwrap(),
        "\"openid\""
    );
    assert_eq!(
        serde_json::from_str::<Scope>("\"openid\"").unwrap(),
        scope("openid")
    );
    assert!(serde_json::from_str::<Scope>("\"two words\"").is_err());
    assert!(serde_json::from_str::<Scope>("\"\"").is_err());
}

#[test]
fn scope_set_serde_is_the_space_joined_string() {
    assert_eq!(
        serde_json::to_string(&set("profile openid")).unwrap(),
        "\"openid profile\""
    );
    assert_eq!(
        serde_json::from_str::<ScopeSet>("\"profile openid\"").unwrap(),
        set("openid profile")
    );
    assert!(serde_json::from_str::<ScopeSet>("\"openid  profile\"").is_err());
}

#[test]
fn oidc_catalog_holds_the_standard_scopes() {
    let catalog = ScopeCatalog::with_oidc_scopes();
    assert_eq!(catalog.len(), OIDC_SCOPES.len());
    for name in [
        "openid",
        "profile",
        "email",
        "address",
        "phone",
        "offline_access",
    ] {
        let definition = catalog.get(name).expect(name);
        assert_eq!(definition.name.as_str(), name);
        assert!(
            !definition.description.is_empty(),
            "{name} has a description"
        );
    }
    assert_eq!(
        catalog.names(),
        set("address email offline_access openid phone profile")
    );
    assert!(ScopeCatalog::new().is_empty());
}

#[test]
fn catalog_rejects_duplicate_definitions_and_keeps_the_first() {
    let mut catalog = ScopeCatalog::new();
    catalog
        .insert(ScopeDefinition::new(
            scope("invoices:read"),
            "Read invoices",
        ))
        .unwrap();
    assert_eq!(
        catalog.insert(ScopeDefinition::new(scope("invoices:read"), "Other")),
        Err(ScopeError::DuplicateDefinition {
            scope: scope("invoices:read")
        })
    );
    assert_eq!(catalog.len(), 1);
    assert_eq!(
        catalog.get("invoices:read").unwrap().description,
        "Read invoices"
    );
    assert!(catalog.contains("invoices:read"));
    assert!(!catalog.contains("invoices:write"));
    assert_eq!(catalog.iter().count(), 1);
}

#[test]
fn catalog_serde_is_a_list_of_definitions() {
    let catalog = ScopeCatalog::with_oidc_scopes();
    let json = serde_json::to_string(&catalog).unwrap();
    assert!(json.starts_with("[{\"name\":\"address\",\"description\":"));
    assert_eq!(
        serde_json::from_str::<ScopeCatalog>(&json).unwrap(),
        catalog
    );
    let duplicate = r#"[{"name":"a","description":"x"},{"name":"a","description":"y"}]"#;
    assert!(serde_json::from_str::<ScopeCatalog>(duplicate).is_err());
}

/// `AllowedScopes::check`: a requested scope must exist and be permitted; the error names it
/// (DESIGN §4.1: "never silently dropped").
#[test]
fn allowed_scopes_check() {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(ScopeDefinition::new(
            scope("invoices:read"),
            "Read invoices",
        ))
        .unwrap();
    let list = AllowedScopes::List(set("openid profile"));

    let cases: Vec<(&str, &AllowedScopes, &str, Result<(), ScopeError>)> = vec![
        (
            "list_permits_listed_scopes",
            &list,
            "openid profile",
            Ok(()),
        ),
        ("list_permits_empty_request", &list, "", Ok(())),
        (
            "list_refuses_unlisted_catalog_scope",
            &list,
            "openid email",
            Err(ScopeError::NotAllowed {
                scope: scope("email"),
            }),
        ),
        (
            "list_refuses_unknown_scope_as_unknown",
            &list,
            "openid admin",
            Err(ScopeError::Unknown {
                scope: scope("admin"),
            }),
        ),
        (
            "error_names_first_offender_in_sorted_order",
            &list,
            "phone email",
            Err(ScopeError::NotAllowed {
                scope: scope("email"),
            }),
        ),
        (
            "all_permits_every_catalog_scope",
            &AllowedScopes::All,
            "openid email invoices:read offline_access",
            Ok(()),
        ),
        (
            "all_refuses_scopes_outside_the_catalog",
            &AllowedScopes::All,
            "openid admin",
            Err(ScopeError::Unknown {
                scope: scope("admin"),
            }),
        ),
    ];
    for (name, allowed, requested, expected) in cases {
        assert_eq!(
            allowed.check(&set(requested), &catalog),
            expected,
            "case {name}"
        );
    }

    // A listed scope that has since left the catalog is not grantable either.
    let stale = AllowedScopes::List(set("openid retired"));
    assert_eq!(
        stale.check(&set("retired"), &catalog),
        Err(ScopeError::Unknown {
            scope: scope("retired")
        })
    );
    assert_eq!(stale.resolve(&catalog), set("openid"));
    assert_eq!(AllowedScopes::All.resolve(&catalog), catalog.names());
}

#[test]
fn allowed_scopes_permits() {
    assert!(AllowedScopes::All.permits(&scope("anything")));
    let list = AllowedScopes::List(set("openid"));
    assert!(list.permits(&scope("openid")));
    assert!(!list.permits(&scope("email")));
    assert!(!AllowedScopes::default().permits(&scope("openid")));
}

#[test]
fn allowed_scopes_serde_is_all_or_an_array() {
    assert_eq!(
        serde_json::to_string(&AllowedScopes::All).unwrap(),
        "\"all\""
    );
    assert_eq!(
        serde_json::to_string(&AllowedScopes::List(set("profile openid"))).unwrap(),
        "[\"openid\",\"profile\"]"
    );
    assert_eq!(
        serde_json::from_str::<AllowedScopes>("\"all\"").unwrap(),
        AllowedScopes::All
    );
    assert_eq!(
        serde_json::from_str::<AllowedScopes>("[\"openid\",\"openid\",\"email\"]").unwrap(),
        AllowedScopes::List(set("email openid"))
    );
    assert_eq!(
        serde_json::from_str::<AllowedScopes>("[]").unwrap(),
        AllowedScopes::default()
    );
    for bad in [
        "\"All\"",
        "\"openid\"",
        "[\"two words\"]",
        "[1]",
        "null",
        "{}",
    ] {
        assert!(
            serde_json::from_str::<AllowedScopes>(bad).is_err(),
            "{bad} is rejected"
        );
    }
}

#[test]
fn scope_error_display_is_lowercase_and_terse() {
    let cases = [
        (
            ScopeError::EmptyToken { position: 3 },
            "empty scope token at byte 3",
        ),
        (
            ScopeError::InvalidCharacter { position: 2 },
            "invalid character in scope at byte 2",
        ),
        (
            ScopeError::TooLong { max: 128 },
            "scope longer than 128 bytes",
        ),
        (ScopeError::TooMany { max: 256 }, "more than 256 scopes"),
        (
            ScopeError::Unknown {
                scope: scope("admin"),
            },
            "unknown scope admin",
        ),
        (
            ScopeError::NotAllowed {
                scope: scope("email"),
            },
            "scope email not allowed",
        ),
        (
            ScopeError::DuplicateDefinition {
                scope: scope("openid"),
            },
            "scope openid already defined",
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(error.to_string(), expected);
    }
}
