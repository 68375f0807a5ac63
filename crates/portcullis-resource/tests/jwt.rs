//! `JwtValidator` against a JWKS served over HTTP (RFC 9068 §4, RFC 7517 §5).
//!
//! Each test serves a JWK Set from a tiny axum app on `127.0.0.1:0` that counts the requests
//! it receives, which is how the cache and refetch tests see whether the JWKS was fetched.
//! Keys come from `SigningKey::generate`, tokens from `SigningKey::sign(Some("at+jwt"), …)`
//! (what the provider does), and the validator reads a `ManualClock`.

#![cfg(feature = "jwt")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_grants::{Clock, ManualClock};
use portcullis_registry::RoleAssignment;
use portcullis_resource::{
    AccessToken, BearerError, JwtValidator, JwtValidatorBuilder, Resource, TokenValidator,
};
use portcullis_tokens::{PublicKey, SigningAlgorithm, SigningKey};
use serde_json::{Value, json};
use time::Duration;

const ISSUER: &str = "https://id.example";
const AUDIENCE: &str = "https://orders.example";

/// What the JWKS endpoint does when asked.
const SERVE: u8 = 0;
const FAIL: u8 = 1;
const HTML: u8 = 2;

#[derive(Clone)]
struct JwksState {
    document: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    mode: Arc<AtomicU8>,
    delay_ms: Arc<AtomicU64>,
}

async fn jwks(State(state): State<JwksState>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    match state.mode.load(Ordering::SeqCst) {
        FAIL => (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response(),
        HTML => (StatusCode::OK, "<html>maintenance</html>").into_response(),
        _ => {
            let document = state.document.lock().unwrap().clone();
            axum::Json(document).into_response()
        }
    }
}

/// A JWKS URL that moved: redirects must not be followed.
async fn moved() -> Response {
    (StatusCode::FOUND, [(LOCATION, "/oauth/jwks")]).into_response()
}

/// A JWKS endpoint that does not answer in time.
async fn slow() -> Response {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    axum::Json(json!({"keys": []})).into_response()
}

/// A JWKS served over HTTP, and the clock the validators read.
struct Fixture {
    base: String,
    state: JwksState,
    clock: Arc<ManualClock>,
}

impl Fixture {
    /// Serves a JWKS publishing `keys`.
    async fn serving(keys: &[&SigningKey]) -> Fixture {
        let state = JwksState {
            document: Arc::new(Mutex::new(Value::Null)),
            fetches: Arc::new(AtomicUsize::new(0)),
            mode: Arc::new(AtomicU8::new(SERVE)),
            delay_ms: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/oauth/jwks", get(jwks))
            .route("/moved/jwks", get(moved))
            .route("/slow/jwks", get(slow))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let fixture = Fixture {
            base,
            state,
            clock: Arc::new(ManualClock::starting_now()),
        };
        fixture.publish(keys);
        fixture
    }

    /// From now on the JWKS publishes `keys`, in this order.
    fn publish(&self, keys: &[&SigningKey]) {
        let jwks: Vec<Value> = keys.iter().map(|key| key.public_key().jwk()).collect();
        *self.state.document.lock().unwrap() = json!({ "keys": jwks });
    }

    fn set_mode(&self, mode: u8) {
        self.state.mode.store(mode, Ordering::SeqCst);
    }

    fn jwks_uri(&self) -> String {
        format!("{}/oauth/jwks", self.base)
    }

    /// A validator for this JWKS with the default policy, reading the fixture's clock.
    fn validator(&self) -> JwtValidatorBuilder {
        JwtValidator::builder(ISSUER, AUDIENCE, self.jwks_uri()).clock(self.clock.clone())
    }

    /// How many times the JWKS was fetched.
    fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The claims of a user's access token (authorization code) issued now.
    fn user_claims(&self) -> Value {
        let now = self.clock.now().unix_timestamp();
        json!({
            "iss": ISSUER,
            "sub": "user-42",
            "aud": [AUDIENCE, "https://other.example"],
            "client_id": "web-app",
            "scope": "openid view:orders create:orders",
            "jti": "0f3c1b2a",
            "iat": now,
            "exp": now + 300,
            "auth_time": now - 60,
        })
    }

    /// The claims of a machine client's access token (client credentials) issued now.
    fn machine_claims(&self) -> Value {
        let now = self.clock.now().unix_timestamp();
        json!({
            "iss": ISSUER,
            "sub": "reports",
            "aud": AUDIENCE,
            "client_id": "reports",
            "scope": "view:orders",
            "jti": "9a8b7c6d",
            "iat": now,
            "exp": now + 300,
            "roles": [{"role": "auditor", "division": "emea"}, {"role": "reader"}],
        })
    }
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    key.sign(Some("at+jwt"), claims).unwrap()
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// The three parts of a compact JWS.
fn parts(token: &str) -> (String, String, String) {
    let mut parts = token.split('.').map(str::to_owned);
    (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    )
}

/// `token` with its header replaced by `header`, payload and signature kept.
fn with_header(token: &str, header: &Value) -> String {
    let (_, payload, signature) = parts(token);
    format!("{}.{payload}.{signature}", b64(&header.to_string()))
}

fn is_invalid_token(result: &Result<AccessToken, BearerError>) -> bool {
    matches!(result, Err(BearerError::InvalidToken(_)))
}

fn is_unavailable(result: &Result<AccessToken, BearerError>) -> bool {
    matches!(result, Err(BearerError::Unavailable(_)))
}

fn es256() -> SigningKey {
    SigningKey::generate(SigningAlgorithm::ES256).unwrap()
}

// ---- valid tokens ---------------------------------------------------------------------

#[tokio::test]
async fn rfc9068_4_valid_user_token_for_each_algorithm() {
    let keys: Vec<SigningKey> = SigningAlgorithm::ALL
        .into_iter()
        .map(|alg| SigningKey::generate(alg).unwrap())
        .collect();
    let fixture = Fixture::serving(&keys.iter().collect::<Vec<_>>()).await;
    let validator = fixture.validator().build().unwrap();
    let issued_at = fixture.clock.now();

    for key in &keys {
        let token = sign(key, &fixture.user_claims());
        let access = validator.validate(&token).await.unwrap();
        assert_eq!(
            access.subject.as_ref().unwrap().as_str(),
            "user-42",
            "{key:?}"
        );
        assert_eq!(access.client_id.as_str(), "web-app");
        assert!(access.has_scope("view:orders") && access.has_scope("create:orders"));
        assert!(access.has_scope("openid"));
        assert!(access.roles.is_empty());
        assert_eq!(access.issued_at, issued_at);
        assert_eq!(access.expires_at, issued_at + Duration::seconds(300));
    }
    assert_eq!(
        fixture.fetches(),
        1,
        "one fetch serves every key it published"
    );
}

#[tokio::test]
async fn rfc9068_2_2_machine_token_has_no_subject_and_carries_its_roles() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();

    let access = validator
        .validate(&sign(&key, &fixture.machine_claims()))
        .await
        .unwrap();
    assert_eq!(access.subject, None, "sub == client_id, no auth_time");
    assert_eq!(access.client_id.as_str(), "reports");
    assert!(access.has_scope("view:orders"));
    assert_eq!(
        access.roles,
        [
            RoleAssignment::new("auditor", Some("emea")),
            RoleAssignment::new("reader", None)
        ]
    );
    assert!(access.has_role("auditor", Some("emea")));
}

#[tokio::test]
async fn rfc9068_2_1_typ_application_at_jwt_is_accepted() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    let token = key
        .sign(Some("application/at+jwt"), &fixture.user_claims())
        .unwrap();
    assert!(validator.validate(&token).await.is_ok());
}

#[tokio::test]
async fn resource_answers_401_for_a_bad_token_and_authenticates_a_good_one() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let resource = Resource::new(fixture.validator().build().unwrap()).realm("orders");

    let mut headers = http::HeaderMap::new();
    let good = sign(&key, &fixture.user_claims());
    headers.insert("authorization", format!("Bearer {good}").parse().unwrap());
    let access = resource.authenticate(&headers).await.unwrap();
    assert_eq!(access.client_id.as_str(), "web-app");

    let mut claims = fixture.user_claims();
    claims["aud"] = json!("https://elsewhere.example");
    let bad = sign(&key, &claims);
    headers.insert("authorization", format!("Bearer {bad}").parse().unwrap());
    let err = resource.authenticate(&headers).await.unwrap_err();
    assert_eq!(err.status(), 401);
    assert!(
        resource
            .challenge(&err)
            .contains(r#"error="invalid_token""#)
    );
}

// ---- refusals -------------------------------------------------------------------------

#[tokio::test]
async fn rfc9068_4_refusals_are_invalid_token() {
    let key = es256();
    let stranger = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    let now = fixture.clock.now().unix_timestamp();
    let good = sign(&key, &fixture.user_claims());
    let (header, payload, signature) = parts(&good);
    let kid = key.kid();

    let claims_with = |name: &str, value: Value| {
        let mut claims = fixture.user_claims();
        claims[name] = value;
        sign(&key, &claims)
    };
    let claims_without = |name: &str| {
        let mut claims = fixture.user_claims();
        claims.as_object_mut().unwrap().remove(name);
        sign(&key, &claims)
    };
    let tampered_payload = {
        let mut claims = fixture.user_claims();
        claims["scope"] = json!("openid view:orders create:orders admin");
        format!("{header}.{}.{signature}", b64(&claims.to_string()))
    };
    let tampered_signature = {
        let mut bytes = URL_SAFE_NO_PAD.decode(&signature).unwrap();
        bytes[0] ^= 0x01;
        format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "rfc9068_4_typ_jwt",
            key.sign(Some("JWT"), &fixture.user_claims()).unwrap(),
        ),
        (
            "rfc9068_4_typ_missing",
            key.sign(None, &fixture.user_claims()).unwrap(),
        ),
        (
            "rfc8725_3_1_alg_none",
            format!(
                "{}.{payload}.",
                b64(&json!({"alg": "none", "kid": kid, "typ": "at+jwt"}).to_string())
            ),
        ),
        (
            "rfc8725_3_1_alg_hs256",
            with_header(&good, &json!({"alg": "HS256", "kid": kid, "typ": "at+jwt"})),
        ),
        (
            "rfc8725_3_1_alg_not_the_keys",
            with_header(&good, &json!({"alg": "EdDSA", "kid": kid, "typ": "at+jwt"})),
        ),
        (
            "rfc7515_4_1_11_crit",
            with_header(
                &good,
                &json!({"alg": "ES256", "kid": kid, "typ": "at+jwt", "crit": ["exp"]}),
            ),
        ),
        ("rfc7515_5_2_tampered_payload", tampered_payload),
        ("rfc7515_5_2_tampered_signature", tampered_signature),
        ("rfc7515_5_2_no_signature", format!("{header}.{payload}.")),
        (
            "rfc9068_4_kid_missing",
            with_header(&good, &json!({"alg": "ES256", "typ": "at+jwt"})),
        ),
        (
            "rfc9068_4_wrong_iss",
            claims_with("iss", json!("https://evil.example")),
        ),
        (
            "rfc9068_4_iss_with_trailing_slash",
            claims_with("iss", json!("https://id.example/")),
        ),
        (
            "rfc9068_4_wrong_aud",
            claims_with("aud", json!("https://other.example")),
        ),
        ("rfc9068_4_aud_missing", claims_without("aud")),
        ("rfc9068_4_exp_missing", claims_without("exp")),
        ("rfc9068_4_expired", claims_with("exp", json!(now - 31))),
        (
            "rfc7519_4_1_6_iat_in_the_future",
            claims_with("iat", json!(now + 31)),
        ),
        (
            "rfc7519_4_1_5_nbf_in_the_future",
            claims_with("nbf", json!(now + 31)),
        ),
        ("rfc9068_2_2_sub_missing", claims_without("sub")),
        ("rfc9068_2_2_client_id_missing", claims_without("client_id")),
        ("rfc9068_2_2_iat_missing", claims_without("iat")),
        (
            "rfc9068_2_2_3_scope_malformed",
            claims_with("scope", json!(["view:orders"])),
        ),
        (
            "roles_malformed",
            claims_with("roles", json!({"role": "auditor"})),
        ),
        (
            "not_a_jwt",
            "pc_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        ),
        ("empty", String::new()),
        (
            "oversized",
            format!("{header}.{}.{signature}", "A".repeat(20_000)),
        ),
        // Signed by a key the JWKS does not publish: one refetch, then refused.
        (
            "rfc9068_4_unknown_key",
            sign(&stranger, &fixture.user_claims()),
        ),
    ];
    for (name, token) in cases {
        let result = validator.validate(&token).await;
        assert!(is_invalid_token(&result), "{name}: {result:?}");
    }
    assert!(validator.validate(&good).await.is_ok());
}

#[tokio::test]
async fn rfc9068_4_expiry_and_iat_are_checked_with_the_leeway() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    let token = sign(&key, &fixture.user_claims());

    // Issued by a provider whose clock is 20 s ahead: within the default 30 s leeway.
    let mut ahead = fixture.user_claims();
    ahead["iat"] = json!(fixture.clock.now().unix_timestamp() + 20);
    assert!(validator.validate(&sign(&key, &ahead)).await.is_ok());

    fixture.advance(Duration::seconds(300 + 29));
    assert!(
        validator.validate(&token).await.is_ok(),
        "within the leeway after exp"
    );
    fixture.advance(Duration::seconds(1));
    assert!(is_invalid_token(&validator.validate(&token).await));

    let strict = fixture.validator().leeway(Duration::ZERO).build().unwrap();
    let token = sign(&key, &fixture.user_claims());
    fixture.advance(Duration::seconds(300));
    assert!(is_invalid_token(&strict.validate(&token).await));
}

#[tokio::test]
async fn tokens_that_can_never_verify_cause_no_jwks_fetch() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    let good = sign(&key, &fixture.user_claims());
    let kid = key.kid();
    for token in [
        with_header(&good, &json!({"alg": "none", "kid": kid, "typ": "at+jwt"})),
        with_header(&good, &json!({"alg": "HS256", "kid": kid, "typ": "at+jwt"})),
        with_header(&good, &json!({"alg": "ES256", "kid": kid, "typ": "JWT"})),
        with_header(&good, &json!({"alg": "ES256", "typ": "at+jwt"})),
        "garbage".to_owned(),
    ] {
        assert!(is_invalid_token(&validator.validate(&token).await));
    }
    assert_eq!(fixture.fetches(), 0);
}

// ---- key cache ------------------------------------------------------------------------

#[tokio::test]
async fn unknown_kid_refetches_once_then_is_invalid() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    assert!(
        validator
            .validate(&sign(&key, &fixture.user_claims()))
            .await
            .is_ok()
    );
    assert_eq!(fixture.fetches(), 1);

    fixture.advance(JwtValidator::DEFAULT_MIN_REFETCH_INTERVAL);
    let unknown = sign(&es256(), &fixture.user_claims());
    assert!(is_invalid_token(&validator.validate(&unknown).await));
    assert_eq!(fixture.fetches(), 2, "exactly one refetch");
}

#[tokio::test]
async fn unknown_kids_within_the_refetch_interval_cause_one_fetch() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    assert!(
        validator
            .validate(&sign(&key, &fixture.user_claims()))
            .await
            .is_ok()
    );
    fixture.advance(JwtValidator::DEFAULT_MIN_REFETCH_INTERVAL);

    let first = sign(&es256(), &fixture.user_claims());
    let second = sign(&es256(), &fixture.user_claims());
    assert!(is_invalid_token(&validator.validate(&first).await));
    fixture.advance(Duration::seconds(29));
    assert!(is_invalid_token(&validator.validate(&second).await));
    assert!(is_invalid_token(&validator.validate(&first).await));
    assert_eq!(fixture.fetches(), 2, "the initial fetch and one refetch");

    fixture.advance(Duration::seconds(1));
    assert!(is_invalid_token(&validator.validate(&second).await));
    assert_eq!(fixture.fetches(), 3, "the interval has passed");
}

#[tokio::test]
async fn key_rotation_is_followed_with_exactly_one_refetch() {
    let old = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let new = SigningKey::generate(SigningAlgorithm::EdDSA).unwrap();
    let fixture = Fixture::serving(&[&old]).await;
    let validator = fixture.validator().build().unwrap();
    let before = sign(&old, &fixture.user_claims());
    assert!(validator.validate(&before).await.is_ok());
    assert_eq!(fixture.fetches(), 1);

    // The provider rotates: the new key signs, the old one stays published.
    fixture.advance(Duration::minutes(1));
    fixture.publish(&[&new, &old]);
    let after = sign(&new, &fixture.user_claims());
    let old_again = sign(&old, &fixture.user_claims());

    assert!(validator.validate(&after).await.is_ok());
    assert!(validator.validate(&before).await.is_ok());
    assert!(validator.validate(&old_again).await.is_ok());
    assert!(validator.validate(&after).await.is_ok());
    assert_eq!(fixture.fetches(), 2, "exactly one refetch");
}

#[tokio::test]
async fn a_key_published_within_the_refetch_interval_is_seen_once_it_passes() {
    let old = es256();
    let new = es256();
    let fixture = Fixture::serving(&[&old]).await;
    let validator = fixture.validator().build().unwrap();
    assert!(
        validator
            .validate(&sign(&old, &fixture.user_claims()))
            .await
            .is_ok()
    );

    // Rotated ten seconds after the fetch: the rate limit answers from that fetch.
    fixture.advance(Duration::seconds(10));
    fixture.publish(&[&new, &old]);
    let token = sign(&new, &fixture.user_claims());
    assert!(is_invalid_token(&validator.validate(&token).await));
    assert_eq!(fixture.fetches(), 1);

    fixture.advance(Duration::seconds(20));
    assert!(validator.validate(&token).await.is_ok());
    assert_eq!(fixture.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_a_new_key_share_one_refetch() {
    let old = es256();
    let new = es256();
    let fixture = Fixture::serving(&[&old]).await;
    let validator = Arc::new(fixture.validator().build().unwrap());
    assert!(
        validator
            .validate(&sign(&old, &fixture.user_claims()))
            .await
            .is_ok()
    );

    fixture.advance(Duration::minutes(1));
    fixture.publish(&[&new, &old]);
    fixture.state.delay_ms.store(200, Ordering::SeqCst);
    let token = sign(&new, &fixture.user_claims());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let validator = Arc::clone(&validator);
            let token = token.clone();
            tokio::spawn(async move { validator.validate(&token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(
        fixture.fetches(),
        2,
        "the initial fetch and one shared refetch"
    );
}

#[tokio::test]
async fn keys_past_the_max_age_are_refetched_and_withdrawn_keys_refused() {
    let kept = es256();
    let withdrawn = es256();
    let fixture = Fixture::serving(&[&kept, &withdrawn]).await;
    let validator = fixture.validator().build().unwrap();
    let kept_token = sign(&kept, &fixture.user_claims());
    assert!(validator.validate(&kept_token).await.is_ok());
    assert_eq!(fixture.fetches(), 1);

    fixture.publish(&[&kept]);
    fixture.advance(Duration::minutes(4));
    let kept_token = sign(&kept, &fixture.user_claims());
    let withdrawn_token = sign(&withdrawn, &fixture.user_claims());
    assert!(
        validator.validate(&withdrawn_token).await.is_ok(),
        "still cached (a short token lifetime, or introspection, is the answer to that)"
    );
    fixture.advance(Duration::seconds(59));
    assert!(validator.validate(&kept_token).await.is_ok());
    assert_eq!(fixture.fetches(), 1, "within the max-age");

    fixture.advance(Duration::seconds(1));
    assert!(validator.validate(&kept_token).await.is_ok());
    assert_eq!(fixture.fetches(), 2, "the max-age has passed");
    assert!(is_invalid_token(
        &validator.validate(&withdrawn_token).await
    ));
}

#[tokio::test]
async fn jwks_max_age_is_configurable() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture
        .validator()
        .jwks_max_age(Duration::seconds(60))
        .min_refetch_interval(Duration::seconds(10))
        .build()
        .unwrap();
    let token = sign(&key, &fixture.user_claims());
    assert!(validator.validate(&token).await.is_ok());
    fixture.advance(Duration::seconds(60));
    assert!(validator.validate(&token).await.is_ok());
    assert_eq!(fixture.fetches(), 2);
}

// ---- provider unreachable -----------------------------------------------------------

#[tokio::test]
async fn jwks_down_at_start_is_unavailable_until_it_answers() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    fixture.set_mode(FAIL);
    let validator = fixture.validator().build().unwrap();
    let token = sign(&key, &fixture.user_claims());

    let result = validator.validate(&token).await;
    assert!(is_unavailable(&result), "{result:?}");
    assert_eq!(result.unwrap_err().status(), 503);
    assert_eq!(fixture.fetches(), 1);

    // Back up, but a failed fetch is not retried within the interval.
    fixture.set_mode(SERVE);
    assert!(is_unavailable(&validator.validate(&token).await));
    assert_eq!(fixture.fetches(), 1);

    fixture.advance(JwtValidator::DEFAULT_MIN_REFETCH_INTERVAL);
    assert!(validator.validate(&token).await.is_ok());
    assert_eq!(fixture.fetches(), 2);
}

#[tokio::test]
async fn nothing_listening_is_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let key = es256();
    let clock = ManualClock::starting_now();
    let claims = json!({
        "iss": ISSUER, "sub": "u", "aud": AUDIENCE, "client_id": "c",
        "iat": clock.now().unix_timestamp(), "exp": clock.now().unix_timestamp() + 300,
    });
    let validator = JwtValidator::builder(ISSUER, AUDIENCE, format!("http://{address}/oauth/jwks"))
        .clock(clock)
        .build()
        .unwrap();
    assert!(is_unavailable(
        &validator.validate(&sign(&key, &claims)).await
    ));
    assert!(matches!(
        validator.refresh_keys().await,
        Err(BearerError::Unavailable(_))
    ));
}

#[tokio::test]
async fn failed_refetch_for_an_unknown_kid_is_unavailable_and_known_keys_keep_working() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    assert!(
        validator
            .validate(&sign(&key, &fixture.user_claims()))
            .await
            .is_ok()
    );

    fixture.set_mode(FAIL);
    fixture.advance(Duration::minutes(1));
    let unknown = sign(&es256(), &fixture.user_claims());
    assert!(is_unavailable(&validator.validate(&unknown).await));
    assert_eq!(fixture.fetches(), 2);
    assert!(
        validator
            .validate(&sign(&key, &fixture.user_claims()))
            .await
            .is_ok(),
        "the cached keys are still within their max-age"
    );
    assert!(
        is_unavailable(&validator.validate(&unknown).await),
        "rate-limited after a failure: still no verdict"
    );
    assert_eq!(fixture.fetches(), 2);
}

#[tokio::test]
async fn expired_keys_are_not_used_when_the_refetch_fails() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = fixture.validator().build().unwrap();
    assert!(
        validator
            .validate(&sign(&key, &fixture.user_claims()))
            .await
            .is_ok()
    );

    fixture.set_mode(HTML);
    fixture.advance(JwtValidator::DEFAULT_JWKS_MAX_AGE);
    let token = sign(&key, &fixture.user_claims());
    assert!(is_unavailable(&validator.validate(&token).await));
    assert_eq!(fixture.fetches(), 2);

    fixture.set_mode(SERVE);
    fixture.advance(JwtValidator::DEFAULT_MIN_REFETCH_INTERVAL);
    assert!(validator.validate(&token).await.is_ok());
}

#[tokio::test]
async fn a_redirecting_jwks_uri_is_not_followed() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = JwtValidator::builder(ISSUER, AUDIENCE, format!("{}/moved/jwks", fixture.base))
        .clock(fixture.clock.clone())
        .build()
        .unwrap();
    let token = sign(&key, &fixture.user_claims());
    assert!(is_unavailable(&validator.validate(&token).await));
    assert_eq!(fixture.fetches(), 0);
}

#[tokio::test]
async fn a_slow_jwks_endpoint_times_out_as_unavailable() {
    let key = es256();
    let fixture = Fixture::serving(&[&key]).await;
    let validator = JwtValidator::builder(ISSUER, AUDIENCE, format!("{}/slow/jwks", fixture.base))
        .clock(fixture.clock.clone())
        .timeout(Duration::milliseconds(200))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let token = sign(&key, &fixture.user_claims());
    assert!(is_unavailable(&validator.validate(&token).await));
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn a_jwks_without_usable_keys_is_unavailable_not_invalid() {
    let key = es256();
    let fixture = Fixture::serving(&[]).await;
    let validator = fixture.validator().build().unwrap();
    let result = validator
        .validate(&sign(&key, &fixture.user_claims()))
        .await;
    assert!(is_unavailable(&result), "{result:?}");
}

// ---- refresh_keys ---------------------------------------------------------------------

#[tokio::test]
async fn refresh_keys_fetches_now_and_counts_usable_keys() {
    let first = es256();
    let second = SigningKey::generate(SigningAlgorithm::EdDSA).unwrap();
    let fixture = Fixture::serving(&[&first, &second]).await;
    let validator = fixture.validator().build().unwrap();
    assert_eq!(validator.refresh_keys().await.unwrap(), 2);
    assert_eq!(
        validator.refresh_keys().await.unwrap(),
        2,
        "not rate-limited"
    );
    assert_eq!(fixture.fetches(), 2);

    // Warm: validation needs no fetch.
    assert!(
        validator
            .validate(&sign(&first, &fixture.user_claims()))
            .await
            .is_ok()
    );
    assert_eq!(fixture.fetches(), 2);

    fixture.set_mode(FAIL);
    assert!(matches!(
        validator.refresh_keys().await,
        Err(BearerError::Unavailable(_))
    ));
    assert!(
        validator
            .validate(&sign(&second, &fixture.user_claims()))
            .await
            .is_ok(),
        "a failed fetch keeps the keys it would have replaced"
    );
}

/// The JWK a provider publishes reads back as the same key (what the validator relies on).
#[test]
fn published_jwks_read_back_as_the_signing_keys() {
    for alg in SigningAlgorithm::ALL {
        let key = SigningKey::generate(alg).unwrap();
        let read = PublicKey::from_jwk(&key.public_key().jwk()).unwrap();
        assert_eq!(&read, key.public_key());
    }
}
