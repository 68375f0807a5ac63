//! Pairwise subject identifiers (OpenID Connect Core §8) through each adapter: a pairwise
//! client sees its own `sub` for a user, the same in ID tokens and at UserInfo, shared by
//! the clients of one sector and by no other.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_grants::PairwiseSalt;
use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, SubjectType};
use portcullis_store::ClientStore;
use serde_json::Value;

use super::Adapter;
use super::cases::walk_pages;
use super::fixture::*;

fn salt() -> PairwiseSalt {
    PairwiseSalt::new(b"pairwise test salt, 32 bytes....".to_vec()).expect("a long salt")
}

/// Registers a confidential web client with redirect [`REDIRECT`].
async fn register(fx: &Fixture, new: NewClient) -> Registered {
    let issued = new
        .redirect_uri(REDIRECT)
        .all_scopes()
        .build(&ScopeCatalog::with_oidc_scopes())
        .expect("a valid client");
    let registered = Registered {
        id: issued.client.id.to_string(),
        secret: issued.secret.map(|s| s.expose_secret().to_owned()),
    };
    fx.store
        .insert_client(issued.client)
        .await
        .expect("client stored");
    registered
}

fn pairwise(name: &str) -> NewClient {
    NewClient::new(name, ClientKind::Web).subject_type(SubjectType::Pairwise)
}

/// Signs alice in for `client` with `openid`; answers the token endpoint's response.
async fn sign_in(fx: &Fixture, client: &Registered) -> reqwest::Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile"),
            ("state", "pw"),
            ("nonce", "n-pairwise"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let response = walk_pages(fx, &format!("/oauth/authorize?{query}"), "allow").await;
    let params = redirect_params(&response, REDIRECT);
    fx.post_form(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some((&client.id, client.secret())),
    )
    .await
}

/// The payload of a compact JWT (its signature is checked by the OIDC suite).
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// `sub` of the ID token and of UserInfo for `client`, after checking they agree.
async fn subject_for(fx: &Fixture, client: &Registered) -> String {
    let tokens = body_json(sign_in(fx, client).await, 200).await;
    let id_token = payload(tokens["id_token"].as_str().expect("id_token"));
    let access = tokens["access_token"].as_str().expect("access_token");
    let userinfo = fx
        .http
        .get(fx.url("/oauth/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("the server answers");
    let userinfo = body_json(userinfo, 200).await;
    assert_eq!(
        userinfo["sub"], id_token["sub"],
        "OpenID Connect Core §5.3.2: UserInfo sub equals the ID token's"
    );
    id_token["sub"].as_str().expect("sub").to_owned()
}

/// OpenID Connect Core §8.1: one sector, one `sub`; another sector, another; public
/// clients keep the local subject.
pub async fn pairwise_subjects_per_sector<A: Adapter>() {
    let fx = Fixture::start_with::<A>(|builder| builder.pairwise_salt(salt())).await;
    let first = register(&fx, pairwise("Reports")).await;
    let same_sector = register(&fx, pairwise("Dashboards")).await;
    let other_sector = register(
        &fx,
        pairwise("Partner").sector_identifier_uri("https://partner.example/sector.json"),
    )
    .await;

    let sub = subject_for(&fx, &first).await;
    assert_ne!(sub, "user-alice", "§8: the local subject is not revealed");
    assert_eq!(sub.len(), 43, "a SHA-256, base64url");
    assert_eq!(
        subject_for(&fx, &same_sector).await,
        sub,
        "§8.1: same sector"
    );
    assert_ne!(
        subject_for(&fx, &other_sector).await,
        sub,
        "§8.1: other sector"
    );
    assert_eq!(
        subject_for(&fx, &first).await,
        sub,
        "stable across sign-ins"
    );
    assert_eq!(
        subject_for(&fx, &fx.web).await,
        "user-alice",
        "public client"
    );
}

/// What must fail: a provider without a salt cannot serve a pairwise client (no ID token,
/// no UserInfo, no code consumed by the failure), and discovery does not claim `pairwise`.
pub async fn pairwise_negative_table<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let client = register(&fx, pairwise("Reports")).await;

    // Core §8 needs the provider's secret: without it the token request is a server error,
    // never a public `sub` passed off as pairwise.
    let response = sign_in(&fx, &client).await;
    let body = body_json(response, 500).await;
    assert_eq!(
        body["error"], "server_error",
        "pairwise_without_salt_token: {body}"
    );
    assert!(body["id_token"].is_null() && body["access_token"].is_null());

    // An access token for the pairwise client without `openid` is fine (no `sub` shown)…
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "view:users"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let response = walk_pages(&fx, &format!("/oauth/authorize?{query}"), "allow").await;
    let params = redirect_params(&response, REDIRECT);
    let tokens = body_json(
        fx.post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some((&client.id, client.secret())),
        )
        .await,
        200,
    )
    .await;
    assert!(tokens["id_token"].is_null(), "no openid, no ID token");

    // Discovery does not offer what the provider cannot do.
    let discovery = body_json(
        fx.http
            .get(fx.url("/.well-known/openid-configuration"))
            .send()
            .await
            .expect("the server answers"),
        200,
    )
    .await;
    assert_eq!(
        discovery["subject_types_supported"],
        serde_json::json!(["public"]),
        "Discovery §3: pairwise only when it can be served"
    );
}

/// OpenID Connect Registration §2 / Core §8.1 through dynamic registration: each row is
/// client metadata with a pairwise mistake and must be `invalid_client_metadata` (RFC 7591
/// §3.2.2), registering nothing.
pub async fn pairwise_registration_negative_table<A: Adapter>() {
    let fx = Fixture::start_with::<A>(|builder| {
        builder
            .pairwise_salt(salt())
            .registration(portcullis_endpoints::RegistrationPolicy::open())
    })
    .await;
    let rows: [(&str, Value); 5] = [
        (
            "oidc_core_8_1_several_hosts_without_a_sector",
            serde_json::json!({"redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
                               "subject_type": "pairwise"}),
        ),
        (
            "oidc_core_8_1_sector_uri_must_be_https",
            serde_json::json!({"redirect_uris": ["https://a.example/cb"], "subject_type": "pairwise",
                               "sector_identifier_uri": "http://a.example/sector.json"}),
        ),
        (
            "oidc_core_8_1_sector_uri_without_fragment",
            serde_json::json!({"redirect_uris": ["https://a.example/cb"], "subject_type": "pairwise",
                               "sector_identifier_uri": "https://a.example/sector.json#x"}),
        ),
        (
            "oidc_core_8_1_sector_uri_absolute",
            serde_json::json!({"redirect_uris": ["https://a.example/cb"], "subject_type": "pairwise",
                               "sector_identifier_uri": "/sector.json"}),
        ),
        (
            "oidc_registration_2_unknown_subject_type",
            serde_json::json!({"redirect_uris": ["https://a.example/cb"], "subject_type": "secret"}),
        ),
    ];
    for (row, metadata) in rows {
        let response = fx
            .http
            .post(fx.url("/oauth/register"))
            .json(&metadata)
            .send()
            .await
            .expect("the server answers");
        let body = body_json(response, 400).await;
        assert_eq!(body["error"], "invalid_client_metadata", "{row}: {body}");
        assert!(body["client_id"].is_null(), "{row}: nothing registered");
    }
    // The same client with one host registers, as pairwise.
    let response = fx
        .http
        .post(fx.url("/oauth/register"))
        .json(
            &serde_json::json!({"redirect_uris": ["https://a.example/cb"],
                                  "subject_type": "pairwise"}),
        )
        .send()
        .await
        .expect("the server answers");
    let body = body_json(response, 201).await;
    assert_eq!(body["subject_type"], "pairwise", "{body}");
}

/// OpenID Connect Discovery §3: `subject_types_supported` lists `pairwise` exactly when the
/// provider has a salt.
pub async fn pairwise_discovery_only_with_salt<A: Adapter>() {
    let fx = Fixture::start_with::<A>(|builder| builder.pairwise_salt(salt())).await;
    let discovery = body_json(
        fx.http
            .get(fx.url("/.well-known/openid-configuration"))
            .send()
            .await
            .expect("the server answers"),
        200,
    )
    .await;
    assert_eq!(
        discovery["subject_types_supported"],
        serde_json::json!(["public", "pairwise"])
    );
}
