#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_registry::{Client, ClientKind, NewClient, ScopeCatalog, ScopeSet};
use portcullis_store::{CodeStore, FamilyId, MemoryStore, TokenStore};
use portcullis_tokens::{Subject, TokenHash, mint};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::{Params, PkcePolicy, Policy};

const REDIRECT: &str = "https://app.example/callback";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn record(
    client: &Client,
    redirect_uri: Option<&str>,
    challenge: Option<(&str, Option<&str>)>,
) -> AuthorizationCode {
    let now = OffsetDateTime::now_utc();
    AuthorizationCode {
        code: TokenHash::of("unused"),
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.map(str::to_owned),
        subject: Subject::new("user-1").unwrap(),
        scopes: ScopeSet::parse("profile").unwrap(),
        nonce: None,
        code_challenge: challenge.map(|(c, _)| c.to_owned()),
        code_challenge_method: challenge.and_then(|(_, m)| m.map(str::to_owned)),
        auth_time: Some(now),
        family: FamilyId::generate().unwrap(),
        issued_at: now,
        expires_at: now + Duration::minutes(5),
        resources: Vec::new(),
        dpop_jkt: None,
    }
}

fn client(kind: ClientKind) -> Client {
    NewClient::new("unit test client", kind)
        .redirect_uri(REDIRECT)
        .all_scopes()
        .build(&ScopeCatalog::with_oidc_scopes())
        .expect("valid client")
        .client
}

/// Stores `record` under a fresh code and answers the code's plain value.
async fn issue(store: &MemoryStore, mut record: AuthorizationCode) -> String {
    let code = mint(TokenKind::AuthorizationCode).unwrap();
    record.code = code.lookup_key();
    store.insert_code(record).await.unwrap();
    code.expose_secret().to_owned()
}

async fn exchange(
    store: &MemoryStore,
    client: &Client,
    policy: Policy,
    pairs: &[(&str, &str)],
) -> Result<TokenResponse, GrantError> {
    let params = Params::from_pairs(pairs.iter().copied());
    let catalog = ScopeCatalog::with_oidc_scopes();
    let now = OffsetDateTime::now_utc();
    let cx = GrantContext::new(
        store,
        client,
        &params,
        now,
        &policy,
        &catalog,
        None,
        crate::test_support::signing(),
    );
    AuthorizationCodeGrant.exchange(&cx).await
}

#[test]
fn rfc6749_4_1_3_redirect_uri_rules() {
    let web = client(ClientKind::Web);
    // (case, redirect_uri of the authorization request, of the token request, accepted?)
    let cases: [(&str, Option<&str>, Option<&str>, bool); 7] = [
        ("identical", Some(REDIRECT), Some(REDIRECT), true),
        ("neither", None, None, true),
        ("missing", Some(REDIRECT), None, false),
        (
            "different",
            Some(REDIRECT),
            Some("https://app.example/other"),
            false,
        ),
        (
            "trailing_slash",
            Some(REDIRECT),
            Some("https://app.example/callback/"),
            false,
        ),
        (
            "case_differs",
            Some(REDIRECT),
            Some("https://APP.example/callback"),
            false,
        ),
        ("not_in_authorization_request", None, Some(REDIRECT), false),
    ];
    for (name, issued, requested, accepted) in cases {
        let result = check_redirect_uri(&record(&web, issued, None), requested);
        assert_eq!(result.is_ok(), accepted, "{name}");
        if let Err(err) = result {
            assert_eq!(err.code(), "invalid_grant", "{name}");
        }
    }
}

#[test]
fn rfc7636_4_3_challenge_method_defaults_to_plain() {
    let web = client(ClientKind::Web);
    let method = |m| challenge_method(&record(&web, None, Some((CHALLENGE, m))));
    assert_eq!(method(None).unwrap(), CodeChallengeMethod::Plain);
    assert_eq!(method(Some("S256")).unwrap(), CodeChallengeMethod::S256);
    assert_eq!(method(Some("plain")).unwrap(), CodeChallengeMethod::Plain);
    assert_eq!(method(Some("s256")).unwrap_err().code(), "invalid_grant");
}

#[tokio::test]
async fn rfc7636_4_6_plain_challenge_verifies() {
    let store = MemoryStore::new();
    let web = client(ClientKind::Web);
    let code = issue(&store, record(&web, None, Some((VERIFIER, Some("plain"))))).await;
    let wrong = exchange(
        &store,
        &web,
        Policy::default(),
        &[("code", &code), ("code_verifier", CHALLENGE)],
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.code(), "invalid_grant");
    let response = exchange(
        &store,
        &web,
        Policy::default(),
        &[("code", &code), ("code_verifier", VERIFIER)],
    )
    .await
    .unwrap();
    assert_eq!(response.scope, ScopeSet::parse("profile").unwrap());
}

#[tokio::test]
async fn rfc9700_2_1_1_codes_without_challenge_refused_where_pkce_is_required() {
    let store = MemoryStore::new();
    let spa = client(ClientKind::Spa);
    let code = issue(&store, record(&spa, Some(REDIRECT), None)).await;
    let err = exchange(
        &store,
        &spa,
        Policy::default(),
        &[("code", &code), ("redirect_uri", REDIRECT)],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invalid_grant");

    let web = client(ClientKind::Web);
    let code = issue(&store, record(&web, Some(REDIRECT), None)).await;
    let strict = Policy {
        pkce: PkcePolicy {
            required_for_confidential_clients: true,
            ..PkcePolicy::default()
        },
        ..Policy::default()
    };
    let pairs = [("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let err = exchange(&store, &web, strict, &pairs).await.unwrap_err();
    assert_eq!(err.code(), "invalid_grant");
    // The same code is fine under the default policy: a failed check did not consume it.
    exchange(&store, &web, Policy::default(), &pairs)
        .await
        .unwrap();
}

#[tokio::test]
async fn rfc6749_4_1_2_reuse_revokes_the_first_redemption() {
    let store = MemoryStore::new();
    let web = client(ClientKind::Web);
    let code = issue(&store, record(&web, None, None)).await;
    let first = exchange(&store, &web, Policy::default(), &[("code", &code)])
        .await
        .unwrap();
    let refresh = first
        .refresh_token
        .as_ref()
        .expect("plain OAuth web client");
    let again = exchange(&store, &web, Policy::default(), &[("code", &code)])
        .await
        .unwrap_err();
    assert_eq!(again.code(), "invalid_grant");
    let now = OffsetDateTime::now_utc();
    for key in [first.access_token.lookup_key(), refresh.lookup_key()] {
        let stored = store.find_token(&key, now).await.unwrap().unwrap();
        assert!(!stored.is_active(now));
    }
}

#[tokio::test]
async fn rfc6749_4_1_3_descriptions_never_echo_the_code() {
    let store = MemoryStore::new();
    let web = client(ClientKind::Web);
    let unknown = mint(TokenKind::AuthorizationCode).unwrap();
    let garbage = "pc_ac_not-a-real-code";
    for presented in [unknown.expose_secret(), garbage] {
        let err = exchange(&store, &web, Policy::default(), &[("code", presented)])
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_grant");
        assert!(!err.to_string().contains(presented));
    }
}
