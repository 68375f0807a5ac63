#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use portcullis_registry::{
    Client, ClientKind, NewClient, Scope, ScopeCatalog, ScopeDefinition, ScopeSet,
};
use portcullis_store::{MemoryStore, TokenStore};
use portcullis_tokens::Subject;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::Policy;

fn catalog() -> ScopeCatalog {
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog
        .insert(ScopeDefinition::new(
            Scope::new("view:users").unwrap(),
            "view",
        ))
        .unwrap();
    catalog
}

fn tv(configure: impl FnOnce(NewClient) -> NewClient) -> Client {
    configure(
        NewClient::new("Living room TV", ClientKind::Native)
            .redirect_uri("http://127.0.0.1/callback")
            .grant_types([
                GrantType::AuthorizationCode,
                GrantType::DeviceCode,
                GrantType::RefreshToken,
            ]),
    )
    .build(&catalog())
    .expect("valid client")
    .client
}

fn start() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

struct Setup {
    store: Arc<MemoryStore>,
    flow: DeviceFlow,
    client: Client,
}

fn setup(configure: impl FnOnce(NewClient) -> NewClient) -> Setup {
    let store = Arc::new(MemoryStore::new());
    Setup {
        flow: DeviceFlow::new(store.clone()),
        store,
        client: tv(configure),
    }
}

async fn authorize(setup: &Setup, pairs: &[(&str, &str)]) -> DeviceAuthorizationIssued {
    setup
        .flow
        .authorize(
            &setup.client,
            &Params::from_pairs(pairs.iter().copied()),
            &catalog(),
            start(),
        )
        .await
        .expect("a device authorization")
}

async fn poll(
    setup: &Setup,
    client: &Client,
    pairs: &[(&str, &str)],
    now: OffsetDateTime,
) -> Result<TokenResponse, GrantError> {
    let params = Params::from_pairs(pairs.iter().copied());
    let catalog = catalog();
    let policy = Policy::default();
    let cx = GrantContext::new(
        setup.store.as_ref(),
        client,
        &params,
        now,
        &policy,
        &catalog,
        None,
        crate::test_support::signing(),
    );
    setup.flow.grant().exchange(&cx).await
}

fn alice() -> Subject {
    Subject::new("user-alice").unwrap()
}

#[test]
fn rfc8628_6_1_user_codes_are_normalized_before_comparing() {
    let cases = [
        ("rfc8628_6_1_lowercase", "wdjb-mjht", Some("WDJB-MJHT")),
        ("rfc8628_6_1_no_dash", "WDJBMJHT", Some("WDJB-MJHT")),
        ("rfc8628_6_1_spaces", " wdjb mjht ", Some("WDJB-MJHT")),
        ("rfc8628_6_1_too_short", "WDJB-MJH", None),
        ("rfc8628_6_1_too_long", "WDJB-MJHTB", None),
        ("rfc8628_6_1_vowel", "WDJB-MJHA", None),
        ("rfc8628_6_1_digit", "WDJB-MJH1", None),
        ("rfc8628_6_1_non_ascii", "WDJB-MJHÉ", None),
        ("rfc8628_6_1_empty", "", None),
    ];
    for (name, input, expected) in cases {
        let parsed = UserCode::parse(input).ok().map(|code| code.formatted());
        assert_eq!(parsed.as_deref(), expected, "{name}");
    }
    assert_eq!(
        UserCode::parse("wdjb-mjht").unwrap().lookup_key(),
        TokenHash::of("WDJBMJHT"),
        "stored as the SHA-256 of the normalized code"
    );
}

#[test]
fn rfc8628_6_1_generated_user_codes_use_the_unambiguous_alphabet() {
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let code = UserCode::generate().unwrap();
        let formatted = code.formatted();
        assert_eq!(formatted.len(), 9);
        assert_eq!(formatted.as_bytes().get(4), Some(&b'-'));
        for letter in formatted.bytes().filter(|b| *b != b'-') {
            assert!(USER_CODE_ALPHABET.contains(&letter), "{formatted}");
            seen.insert(letter);
        }
        assert_eq!(UserCode::parse(&formatted).unwrap(), code);
    }
    assert_eq!(seen.len(), USER_CODE_ALPHABET.len(), "every letter appears");
}

#[tokio::test]
async fn rfc8628_3_2_authorization_response_and_stored_record() {
    let setup = setup(|c| c.scopes(["openid", "view:users"]));
    let issued = authorize(&setup, &[("scope", "view:users")]).await;
    assert!(
        issued
            .device_code
            .expose_secret()
            .starts_with(TokenKind::DeviceCode.prefix())
    );
    assert_eq!(issued.expires_in, 600);
    assert_eq!(issued.interval, 5);
    assert_eq!(issued.scopes, ScopeSet::parse("view:users").unwrap());
    let stored = setup
        .flow
        .pending(&issued.user_code, start())
        .await
        .unwrap()
        .expect("stored by the user code's hash");
    assert_eq!(stored.device_code, issued.device_code.lookup_key());
    assert_eq!(stored.client_id, setup.client.id);
    // Without `scope`, every scope the client may request.
    let default = authorize(&setup, &[]).await;
    assert_eq!(
        default.scopes,
        ScopeSet::parse("openid view:users").unwrap()
    );
}

#[tokio::test]
async fn rfc8628_3_2_authorization_request_errors() {
    let setup = setup(|c| c.scopes(["view:users"]));
    let not_device = tv(|c| c.grant_types([GrantType::AuthorizationCode]).all_scopes());
    // (case, client, request parameters, error code)
    type Row<'a> = (&'a str, &'a Client, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Row<'_>; 3] = [
        (
            "rfc6749_5_2_client_without_the_device_grant",
            &not_device,
            &[],
            "unauthorized_client",
        ),
        (
            "rfc6749_3_3_scope_not_allowed",
            &setup.client,
            &[("scope", "openid")],
            "invalid_scope",
        ),
        (
            "rfc6749_3_3_scope_unknown",
            &setup.client,
            &[("scope", "launch:rockets")],
            "invalid_scope",
        ),
    ];
    for (name, client, pairs, code) in cases {
        let err = setup
            .flow
            .authorize(
                client,
                &Params::from_pairs(pairs.iter().copied()),
                &catalog(),
                start(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{name}");
    }
}

#[tokio::test]
async fn rfc8628_3_5_polling_pending_then_slow_down_then_approved_once() {
    let setup = setup(|c| c.scopes(["openid", "offline_access", "view:users"]));
    let issued = authorize(&setup, &[("scope", "openid offline_access")]).await;
    let code = issued.device_code.expose_secret().to_owned();
    let pairs = [("device_code", code.as_str())];

    let first = poll(&setup, &setup.client, &pairs, start())
        .await
        .unwrap_err();
    assert_eq!(first.code(), "authorization_pending");
    let soon = poll(
        &setup,
        &setup.client,
        &pairs,
        start() + Duration::seconds(1),
    )
    .await
    .unwrap_err();
    assert_eq!(soon.code(), "slow_down");
    assert!(soon.description().contains("10 seconds"), "{soon}");
    let later = start() + Duration::seconds(12);
    let waited = poll(&setup, &setup.client, &pairs, later)
        .await
        .unwrap_err();
    assert_eq!(waited.code(), "authorization_pending");

    assert!(
        setup
            .flow
            .decide(&issued.user_code, Some((&alice(), start())), later)
            .await
            .unwrap()
    );
    assert!(
        !setup
            .flow
            .decide(&issued.user_code, None, later)
            .await
            .unwrap(),
        "a decision is taken once"
    );
    let tokens = poll(&setup, &setup.client, &pairs, later + Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        tokens.scope,
        ScopeSet::parse("openid offline_access").unwrap()
    );
    assert!(tokens.refresh_token.is_some(), "offline_access granted");
    assert!(tokens.extra.contains_key("id_token"), "openid granted");
    let stored = setup
        .store
        .list_client_tokens(&setup.client.id, later)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|t| t.subject.as_ref() == Some(&alice())));

    let again = poll(&setup, &setup.client, &pairs, later + Duration::seconds(60))
        .await
        .unwrap_err();
    assert_eq!(again.code(), "expired_token", "tokens are issued once");
}

#[tokio::test]
async fn rfc8628_3_5_polling_error_table() {
    // (case, what happens before the poll, poll parameters, error code)
    enum Before {
        Nothing,
        Deny,
        Expire,
        OtherClientAfterApproval,
        NotRegisteredClient,
    }
    let cases = [
        (
            "rfc8628_3_5_access_denied",
            Before::Deny,
            true,
            "access_denied",
        ),
        (
            "rfc8628_3_5_expired_token",
            Before::Expire,
            true,
            "expired_token",
        ),
        (
            "rfc8628_3_4_device_code_of_another_client",
            Before::OtherClientAfterApproval,
            true,
            "invalid_grant",
        ),
        (
            "rfc6749_5_2_client_not_registered_for_the_grant",
            Before::NotRegisteredClient,
            true,
            "unauthorized_client",
        ),
        (
            "rfc8628_3_4_device_code_missing",
            Before::Nothing,
            false,
            "invalid_request",
        ),
    ];
    for (name, before, send_code, expected) in cases {
        let setup = setup(NewClient::all_scopes);
        let issued = authorize(&setup, &[]).await;
        let code = issued.device_code.expose_secret().to_owned();
        let mut now = start();
        let mut client = setup.client.clone();
        match before {
            Before::Nothing => {}
            Before::Deny => {
                assert!(
                    setup
                        .flow
                        .decide(&issued.user_code, None, now)
                        .await
                        .unwrap()
                );
            }
            Before::Expire => now += Duration::minutes(10),
            Before::OtherClientAfterApproval => {
                setup
                    .flow
                    .decide(&issued.user_code, Some((&alice(), now)), now)
                    .await
                    .unwrap();
                client = tv(NewClient::all_scopes);
            }
            Before::NotRegisteredClient => {
                client = tv(|c| c.all_scopes().grant_types([GrantType::AuthorizationCode]));
            }
        }
        let pairs: Vec<(&str, &str)> = if send_code {
            vec![("device_code", code.as_str())]
        } else {
            vec![]
        };
        let err = poll(&setup, &client, &pairs, now).await.unwrap_err();
        assert_eq!(err.code(), expected, "{name}: {err}");
        assert!(!err.description().contains(&code), "{name}: never echoed");
    }
}

#[tokio::test]
async fn rfc8628_3_4_malformed_device_codes_are_invalid_grant() {
    let setup = setup(NewClient::all_scopes);
    for presented in ["pc_at_notadevicecode", "WDJB-MJHT", "pc_dc_short"] {
        let err = poll(
            &setup,
            &setup.client,
            &[("device_code", presented)],
            start(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "invalid_grant", "{presented}");
    }
}

#[tokio::test]
async fn rfc8628_3_5_an_expired_request_cannot_be_approved() {
    let setup = setup(NewClient::all_scopes);
    let issued = authorize(&setup, &[]).await;
    let late = start() + Duration::minutes(11);
    assert!(
        setup
            .flow
            .pending(&issued.user_code, late)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !setup
            .flow
            .decide(&issued.user_code, Some((&alice(), late)), late)
            .await
            .unwrap()
    );
}
