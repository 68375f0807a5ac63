#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use portcullis_endpoints::Provider;
use portcullis_grants::{Issuance, IssuerSettings, ManualClock, NoClaims, Signing, mint_tokens};
use portcullis_registry::{
    AccessTokenFormat, Client, ClientKind, NewClient, RoleAssignment, ScopeCatalog, ScopeSet,
};
use portcullis_store::{ClientStore, FamilyId, MemoryStore, TokenStore};
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey};
use serde_json::{Value, json};

use super::*;

const ISSUER: &str = "https://id.example";

fn machine(format: AccessTokenFormat) -> Client {
    NewClient::new("reports", ClientKind::Machine)
        .scopes(["openid"])
        .role("auditor", Some("emea"))
        .access_token_format(format)
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap()
        .client
}

struct Fixture {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    keys: Arc<KeySet>,
    settings: IssuerSettings,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture {
            store: Arc::new(MemoryStore::new()),
            clock: Arc::new(ManualClock::starting_now()),
            keys: Arc::new(KeySet::new(
                SigningKey::generate(SigningAlgorithm::ES256).unwrap(),
            )),
            settings: IssuerSettings::new(ISSUER),
        }
    }

    /// Registers `client` and stores a fresh access token for it; answers the token.
    async fn token(&self, client: &Client) -> String {
        self.store.insert_client(client.clone()).await.unwrap();
        let minted = mint_tokens(Issuance {
            audience: portcullis_grants::Audience::unrestricted(),
            confirmation: None,
            client,
            subject: None,
            scopes: ScopeSet::parse("openid").unwrap(),
            family: FamilyId::generate().unwrap(),
            now: self.clock.now(),
            refresh_scopes: None,
            auth_time: None,
            signing: Signing {
                settings: &self.settings,
                keys: &self.keys,
                claims: &NoClaims,
            },
        })
        .unwrap();
        self.store.insert_tokens(minted.records).await.unwrap();
        minted.response.access_token.expose_secret().to_owned()
    }

    fn validator(&self) -> StoreValidator {
        let keys = self.keys.clone();
        StoreValidator::new(self.store.clone())
            .clock(self.clock.clone())
            .with_keys(move || keys.clone(), ISSUER)
    }
}

fn is_invalid(result: Result<AccessToken, BearerError>) -> bool {
    matches!(result, Err(BearerError::InvalidToken(_)))
}

#[tokio::test]
async fn rfc9068_4_jwt_accepted_with_keys_and_described_by_its_record() {
    let f = Fixture::new().await;
    let client = machine(AccessTokenFormat::Jwt);
    let jwt = f.token(&client).await;
    assert_eq!(jwt.split('.').count(), 3);
    let token = f.validator().validate(&jwt).await.unwrap();
    assert_eq!(token.client_id, client.id);
    assert_eq!(token.subject, None);
    assert_eq!(token.scopes, ScopeSet::parse("openid").unwrap());
    assert_eq!(
        token.roles,
        vec![RoleAssignment::new("auditor", Some("emea"))]
    );
}

#[tokio::test]
async fn rfc9068_4_jwt_refused_without_keys() {
    let f = Fixture::new().await;
    let jwt = f.token(&machine(AccessTokenFormat::Jwt)).await;
    let validator = StoreValidator::new(f.store.clone()).clock(f.clock.clone());
    assert!(is_invalid(validator.validate(&jwt).await));
}

#[tokio::test]
async fn opaque_tokens_still_work_with_keys() {
    let f = Fixture::new().await;
    let opaque = f.token(&machine(AccessTokenFormat::Opaque)).await;
    assert!(opaque.starts_with("pc_at_"));
    assert!(f.validator().validate(&opaque).await.is_ok());
}

#[tokio::test]
async fn design_4_1_revoked_jwt_refused() {
    let f = Fixture::new().await;
    let jwt = f.token(&machine(AccessTokenFormat::Jwt)).await;
    let validator = f.validator();
    let claims: Value = f
        .keys
        .verify(&jwt, &JwtExpectations::new(ISSUER, f.clock.now()))
        .unwrap();
    let jti = claims["jti"].as_str().unwrap();
    f.store
        .revoke_token(&TokenHash::of(jti), f.clock.now())
        .await
        .unwrap();
    assert!(is_invalid(validator.validate(&jwt).await));
}

#[tokio::test]
async fn rfc9068_4_foreign_wrong_issuer_expired_or_tampered_jwts_refused() {
    let f = Fixture::new().await;
    let jwt = f.token(&machine(AccessTokenFormat::Jwt)).await;
    let claims: Value = f
        .keys
        .verify(&jwt, &JwtExpectations::new(ISSUER, f.clock.now()))
        .unwrap();
    let stranger = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("https://elsewhere.example");
    let mut tampered = jwt.clone();
    tampered.pop();
    tampered.push(if jwt.ends_with('A') { 'B' } else { 'A' });
    let cases = [
        stranger.sign(Some("at+jwt"), &claims).unwrap(),
        f.keys.active().sign(None, &claims).unwrap(),
        f.keys.active().sign(Some("at+jwt"), &wrong_issuer).unwrap(),
        tampered,
    ];
    let validator = f.validator();
    for presented in &cases {
        assert!(is_invalid(validator.validate(presented).await));
    }
    // Expired: past exp, the signature no longer counts either.
    f.clock.advance(time::Duration::hours(2));
    assert!(is_invalid(validator.validate(&jwt).await));
}

#[tokio::test]
async fn provider_keys_are_read_on_every_validation() {
    let store = Arc::new(MemoryStore::new());
    let provider = Provider::builder(ISSUER, store.clone())
        .jwt_access_tokens()
        .build()
        .unwrap();
    let client = machine(AccessTokenFormat::Opaque);
    store.insert_client(client.clone()).await.unwrap();
    let keys = provider.signing_keys();
    let minted = mint_tokens(Issuance {
        audience: portcullis_grants::Audience::unrestricted(),
        confirmation: None,
        client: &client,
        subject: None,
        scopes: ScopeSet::new(),
        family: FamilyId::generate().unwrap(),
        now: provider.now(),
        refresh_scopes: None,
        auth_time: None,
        signing: Signing {
            settings: provider.issuer_settings(),
            keys: &keys,
            claims: &NoClaims,
        },
    })
    .unwrap();
    store.insert_tokens(minted.records).await.unwrap();
    let jwt = minted.response.access_token.expose_secret().to_owned();

    let source = provider.clone();
    let validator =
        StoreValidator::new(store).with_keys(move || source.signing_keys(), provider.issuer());
    assert!(validator.validate(&jwt).await.is_ok());
    // A new key set without the signing key: the validator sees it at once.
    provider.set_signing_keys(KeySet::new(
        SigningKey::generate(SigningAlgorithm::ES256).unwrap(),
    ));
    assert!(is_invalid(validator.validate(&jwt).await));
}
