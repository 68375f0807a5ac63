//! DPoP-bound tokens (RFC 9449) through the remote validators: a JWT access token's
//! `cnf.jkt` (§6.1) and an introspection answer's `token_type: DPoP` and `cnf.jkt` (§6.2)
//! become [`AccessToken::confirmation`], so [`Resource`] refuses the token as a bearer
//! token (§7.2) and accepts it with a proof by that key (§7.1).

#![cfg(all(feature = "jwt", feature = "introspection"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use portcullis_resource::{
    BearerError, IntrospectionValidator, JwtValidator, Resource, TokenValidator,
};
use portcullis_tokens::{DpopSigner, SigningAlgorithm, SigningKey};
use serde_json::{Value, json};
use time::OffsetDateTime;

const ISSUER: &str = "https://id.example";
const AUDIENCE: &str = "https://orders.example";
const ORDERS: &str = "https://orders.example/orders";

#[derive(Clone)]
struct Served {
    jwks: Value,
    introspection: Arc<Mutex<Value>>,
}

async fn jwks(State(served): State<Served>) -> axum::Json<Value> {
    axum::Json(served.jwks.clone())
}

async fn introspect(State(served): State<Served>) -> axum::Json<Value> {
    axum::Json(served.introspection.lock().unwrap().clone())
}

/// Serves `key`'s JWKS and an introspection endpoint answering whatever is set.
async fn serve(key: &SigningKey) -> (String, Arc<Mutex<Value>>) {
    let introspection = Arc::new(Mutex::new(json!({"active": false})));
    let served = Served {
        jwks: json!({"keys": [key.public_key().jwk()]}),
        introspection: introspection.clone(),
    };
    let app = Router::new()
        .route("/oauth/jwks", get(jwks))
        .route("/oauth/introspect", post(introspect))
        .with_state(served);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, introspection)
}

fn headers(scheme: &str, token: &str, proof: Option<&str>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("{scheme} {token}").parse().unwrap(),
    );
    if let Some(proof) = proof {
        headers.insert("dpop", proof.parse().unwrap());
    }
    headers
}

/// Bearer refused (§7.2), DPoP with a proof accepted (§7.1), DPoP with another key's proof
/// refused (§4.3 item 12).
async fn assert_bound(resource: &Resource, token: &str, key: &DpopSigner) {
    let err = resource
        .authenticate(&headers("Bearer", token, None))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BearerError::Dpop {
                code: "invalid_token",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(resource.challenge(&err).starts_with("DPoP "));

    let uri: http::Uri = ORDERS.parse().unwrap();
    let now = OffsetDateTime::now_utc();
    let proof = key.proof("GET", ORDERS, now, Some(token), None).unwrap();
    let accepted = resource
        .authenticate_request(
            &http::Method::GET,
            &uri,
            &headers("DPoP", token, Some(&proof)),
        )
        .await
        .unwrap();
    assert_eq!(accepted.confirmation.as_deref(), Some(key.thumbprint()));

    let other = DpopSigner::new(SigningKey::generate(SigningAlgorithm::EdDSA).unwrap());
    let wrong = other.proof("GET", ORDERS, now, Some(token), None).unwrap();
    let err = resource
        .authenticate_request(
            &http::Method::GET,
            &uri,
            &headers("DPoP", token, Some(&wrong)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BearerError::Dpop {
                code: "invalid_dpop_proof",
                ..
            }
        ),
        "{err:?}"
    );
}

/// RFC 9449 §6.1: `cnf.jkt` of a JWT access token.
#[tokio::test]
async fn rfc9449_6_1_jwt_cnf_jkt_binds_the_token() {
    let signing = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let (base, _) = serve(&signing).await;
    let validator = JwtValidator::builder(ISSUER, AUDIENCE, format!("{base}/oauth/jwks"))
        .build()
        .unwrap();
    let key = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap());
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = |cnf: Value| {
        let mut claims = json!({
            "iss": ISSUER, "sub": "reports", "aud": AUDIENCE, "client_id": "reports",
            "jti": "j-1", "iat": now, "exp": now + 300,
        });
        if !cnf.is_null() {
            claims["cnf"] = cnf;
        }
        signing.sign(Some("at+jwt"), &claims).unwrap()
    };
    let bound = claims(json!({"jkt": key.thumbprint()}));
    let resource = Resource::new(validator)
        .dpop(portcullis_resource::DpopPolicy::default().base_url("https://orders.example"));
    assert_bound(&resource, &bound, &key).await;

    // A bearer JWT is unchanged; a malformed `cnf` is not a token.
    let bearer = claims(Value::Null);
    assert_eq!(
        resource
            .authenticate(&headers("Bearer", &bearer, None))
            .await
            .unwrap()
            .confirmation,
        None
    );
    for cnf in [json!("jkt"), json!({"jkt": 42}), json!({"jkt": ""})] {
        let token = claims(cnf.clone());
        let err = resource
            .authenticate(&headers("Bearer", &token, None))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("invalid_token"), "{cnf}");
    }
}

/// RFC 9449 §6.2: `token_type: DPoP` and `cnf.jkt` in an introspection answer.
#[tokio::test]
async fn rfc9449_6_2_introspected_cnf_jkt_binds_the_token() {
    let signing = SigningKey::generate(SigningAlgorithm::ES256).unwrap();
    let (base, answer) = serve(&signing).await;
    let key = DpopSigner::new(SigningKey::generate(SigningAlgorithm::ES256).unwrap());
    let exp = OffsetDateTime::now_utc().unix_timestamp() + 300;
    let validator = || {
        IntrospectionValidator::builder(format!("{base}/oauth/introspect"), "rs", "secret")
            .cache_capacity(0)
            .build()
            .unwrap()
    };
    *answer.lock().unwrap() = json!({
        "active": true, "client_id": "reports", "exp": exp, "token_type": "DPoP",
        "cnf": {"jkt": key.thumbprint()},
    });
    let resource = Resource::new(validator())
        .dpop(portcullis_resource::DpopPolicy::default().base_url("https://orders.example"));
    assert_bound(&resource, "pc_at_bound", &key).await;

    // §6.2: a DPoP token without `cnf.jkt` cannot be checked, so it is refused.
    *answer.lock().unwrap() = json!({
        "active": true, "client_id": "reports", "exp": exp, "token_type": "DPoP",
    });
    let err = validator().validate("pc_at_other").await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_token"));
}
