#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};
use portcullis_tokens::{JwtExpectations, KeySet, SigningAlgorithm, SigningKey};
use serde_json::json;

use super::*;
use crate::{IssuerSettings, NoClaims};

const ISSUER: &str = "https://id.example";

fn keys() -> KeySet {
    KeySet::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap())
}

fn client(kind: ClientKind, configure: impl FnOnce(NewClient) -> NewClient) -> Client {
    configure(NewClient::new("unit test client", kind).client_id("client-1"))
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap()
        .client
}

fn web(format: AccessTokenFormat) -> Client {
    client(ClientKind::Web, |c| {
        c.redirect_uri("https://app.example/cb")
            .all_scopes()
            .access_token_format(format)
    })
}

fn issue(
    client: &Client,
    settings: &IssuerSettings,
    keys: &KeySet,
    subject: Option<&str>,
    scopes: &str,
    refresh: bool,
) -> Minted {
    let scopes = ScopeSet::parse(scopes).unwrap();
    mint_tokens(Issuance {
        audience: crate::Audience::unrestricted(),
        confirmation: None,
        client,
        subject: subject.map(|s| Subject::new(s).unwrap()),
        refresh_scopes: refresh.then(|| scopes.clone()),
        scopes,
        family: FamilyId::generate().unwrap(),
        now: OffsetDateTime::now_utc(),
        auth_time: None,
        signing: Signing {
            settings,
            keys,
            claims: &NoClaims,
        },
    })
    .unwrap()
}

fn header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

fn verify(keys: &KeySet, jwt: &str) -> Value {
    keys.verify(
        jwt,
        &JwtExpectations::new(ISSUER, OffsetDateTime::now_utc()).with_typ(AT_JWT_TYP),
    )
    .unwrap()
}

#[test]
fn opaque_by_default() {
    let keys = keys();
    let minted = issue(
        &web(AccessTokenFormat::Opaque),
        &IssuerSettings::new(ISSUER),
        &keys,
        Some("user-1"),
        "openid",
        true,
    );
    let access = &minted.response.access_token;
    assert_eq!(access.format(), AccessTokenFormat::Opaque);
    assert!(access.expose_secret().starts_with("pc_at_"));
    assert_eq!(
        minted.records[0].hash,
        TokenHash::of(access.expose_secret())
    );
}

#[test]
fn rfc9068_2_jwt_for_a_client_registered_for_it() {
    let keys = keys();
    let client = web(AccessTokenFormat::Jwt);
    let settings = IssuerSettings::new(ISSUER);
    let minted = issue(
        &client,
        &settings,
        &keys,
        Some("user-1"),
        "openid profile",
        true,
    );
    let access = &minted.response.access_token;
    assert_eq!(access.format(), AccessTokenFormat::Jwt);
    assert_eq!(header(access.expose_secret())["typ"], "at+jwt");
    let claims = verify(&keys, access.expose_secret());
    let jti = claims["jti"].as_str().unwrap();
    assert_eq!(jti.len(), 22);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], "user-1");
    assert_eq!(claims["aud"], ISSUER);
    assert_eq!(claims["client_id"], "client-1");
    assert_eq!(claims["scope"], "openid profile");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        i64::from(client.access_token_lifetime_secs)
    );
    assert!(claims.get("roles").is_none());
    assert!(claims.get("auth_time").is_none());

    // RFC 9068 §2.1: the record is found by the jti; the refresh token stays opaque.
    let access_record = &minted.records[0];
    assert_eq!(access_record.kind, TokenKind::AccessToken);
    assert_eq!(access_record.hash, TokenHash::of(jti));
    assert_eq!(access.lookup_key(), TokenHash::of(jti));
    let refresh = minted.response.refresh_token.as_ref().unwrap();
    assert!(refresh.expose_secret().starts_with("pc_rt_"));
    assert_eq!(minted.records[1].hash, refresh.lookup_key());
}

#[test]
fn rfc9068_2_2_client_credentials_sub_is_the_client_and_roles_are_carried() {
    let keys = keys();
    let mut settings = IssuerSettings::new(ISSUER);
    settings.jwt_access_tokens = true;
    settings.access_token_audience = "https://api.example".into();
    let machine = client(ClientKind::Machine, |c| {
        c.role("auditor", Some("emea")).role("reader", None)
    });
    let minted = issue(&machine, &settings, &keys, None, "", false);
    let claims = verify(&keys, minted.response.access_token.expose_secret());
    assert_eq!(claims["sub"], "client-1");
    assert_eq!(claims["client_id"], "client-1");
    assert_eq!(claims["aud"], "https://api.example");
    assert!(claims.get("scope").is_none(), "no scope: omitted");
    assert_eq!(
        claims["roles"],
        json!([{"role": "auditor", "division": "emea"}, {"role": "reader"}])
    );
    assert_eq!(minted.records.len(), 1);
    assert_eq!(minted.records[0].subject, None);
}

#[test]
fn rfc9068_2_2_1_auth_time_when_known() {
    let keys = keys();
    let settings = IssuerSettings::new(ISSUER);
    let client = web(AccessTokenFormat::Jwt);
    let auth_time = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let minted = mint_tokens(Issuance {
        audience: crate::Audience::unrestricted(),
        confirmation: None,
        client: &client,
        subject: Some(Subject::new("user-1").unwrap()),
        scopes: ScopeSet::new(),
        family: FamilyId::generate().unwrap(),
        now: OffsetDateTime::now_utc(),
        refresh_scopes: None,
        auth_time: Some(auth_time),
        signing: Signing {
            settings: &settings,
            keys: &keys,
            claims: &NoClaims,
        },
    })
    .unwrap();
    let claims = verify(&keys, minted.response.access_token.expose_secret());
    assert_eq!(claims["auth_time"], 1_700_000_000);
}

#[test]
fn every_jwt_has_its_own_jti() {
    let keys = keys();
    let client = web(AccessTokenFormat::Jwt);
    let settings = IssuerSettings::new(ISSUER);
    let a = issue(&client, &settings, &keys, Some("u"), "", false);
    let b = issue(&client, &settings, &keys, Some("u"), "", false);
    assert_ne!(a.records[0].hash, b.records[0].hash);
    assert_ne!(a.response.access_token, b.response.access_token);
}
