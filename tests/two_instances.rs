//! DESIGN §5: several provider instances behind a load balancer share one PostgreSQL.
//! Two `Provider` values (separate key caches, nothing shared but the database) must agree
//! at once: a code issued by A is redeemed at B, a token revoked at A is inactive at B, a
//! client revoked at B cannot get a token at A.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use portcullis_endpoints::{
    AuthenticatedUser, Authorization, Decision, Provider, load_or_create_signing_keys,
};
use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet};
use portcullis_store::{ClientStore, Store};
use portcullis_store_sql::PostgresStore;
use portcullis_tokens::{SigningAlgorithm, Subject};
use serde_json::Value;

const ISSUER: &str = "https://id.example";
const REDIRECT: &str = "https://app.example/callback";

/// The shared database, in a schema of its own; `None` (skip) only off CI.
async fn database() -> Option<Arc<PostgresStore>> {
    let url = std::env::var("PORTCULLIS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("two_instances_{}", std::process::id());
    match PostgresStore::connect_in_schema(&url, &schema).await {
        Ok(store) => {
            store.migrate().await.expect("migrations apply");
            Some(Arc::new(store))
        }
        Err(err) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: PostgreSQL unreachable at {url}: {err}");
            None
        }
        Err(err) => panic!("PostgreSQL unreachable at {url} in CI: {err}"),
    }
}

async fn instance(store: Arc<PostgresStore>) -> Provider {
    let keys = load_or_create_signing_keys(
        store.as_ref(),
        SigningAlgorithm::ES256,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("signing keys");
    Provider::builder(ISSUER, store as Arc<dyn Store>)
        .signing_keys(keys)
        .build()
        .expect("a valid provider")
}

fn form(path: &str, body: &str, basic: (&str, &str)) -> Request<Bytes> {
    use base64::Engine as _;
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", basic.0, basic.1));
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {credentials}"))
        .body(Bytes::from(body.to_owned()))
        .unwrap()
}

fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn json(response: &http::Response<Bytes>) -> Value {
    serde_json::from_slice(response.body()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn design_5_two_instances_share_one_postgresql() {
    let Some(store) = database().await else {
        return;
    };
    let a = instance(store.clone()).await;
    let b = instance(store.clone()).await;

    let issued = NewClient::new("Shared web app", ClientKind::Web)
        .redirect_uri(REDIRECT)
        .all_scopes()
        .build(&ScopeCatalog::with_oidc_scopes())
        .unwrap();
    let client = issued.client.clone();
    let secret = issued.secret.unwrap().expose_secret().to_owned();
    store.insert_client(client.clone()).await.unwrap();
    let id = client.id.as_str();

    // A code issued by A (after an interaction started at A and completed at B)...
    let query = encode(&[
        ("response_type", "code"),
        ("client_id", id),
        ("redirect_uri", REDIRECT),
        ("scope", "profile"),
        ("state", "s"),
    ]);
    let user = AuthenticatedUser {
        subject: Subject::new("user-alice").unwrap(),
        auth_time: a.now(),
    };
    let request = Request::get(format!("/oauth/authorize?{query}"))
        .body(Bytes::new())
        .unwrap();
    let Authorization::Interaction(interaction) = a.authorize(request, Some(&user)).await else {
        panic!("consent is needed the first time");
    };
    let redirect = b
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: user.subject.clone(),
                scopes: ScopeSet::parse("profile").unwrap(),
                auth_time: user.auth_time,
            },
        )
        .await
        .expect("an interaction from A completes at B");
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");

    // ...is redeemed at B.
    let response = b
        .token(form(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ]),
            (id, &secret),
        ))
        .await;
    let tokens = json(&response);
    assert_eq!(response.status(), 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    // And it is single use across instances: A refuses the same code.
    let replay = a
        .token(form(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ]),
            (id, &secret),
        ))
        .await;
    assert_eq!(json(&replay)["error"], "invalid_grant");

    // A token revoked at A is inactive at B at once. (The replay above revoked the grant,
    // so use a fresh token from a refresh-free grant: client credentials are not allowed to
    // a web client, so introspect the code's access token before and after revocation at A
    // with a second authorization.)
    let active = |provider: &Provider, token: String| {
        let provider = provider.clone();
        let secret = secret.clone();
        let id = id.to_owned();
        async move {
            let response = provider
                .introspect(form(
                    "/oauth/introspect",
                    &encode(&[("token", &token)]),
                    (&id, &secret),
                ))
                .await;
            json(&response)["active"] == Value::Bool(true)
        }
    };
    assert!(
        !active(&b, access.clone()).await,
        "the replayed code's grant is revoked everywhere"
    );

    let request = Request::get(format!("/oauth/authorize?{query}"))
        .body(Bytes::new())
        .unwrap();
    let Authorization::Interaction(interaction) = b.authorize(request, Some(&user)).await else {
        panic!("interaction");
    };
    let redirect = a
        .complete(
            &interaction.id,
            Decision::Allow {
                subject: user.subject.clone(),
                scopes: ScopeSet::parse("profile").unwrap(),
                auth_time: user.auth_time,
            },
        )
        .await
        .unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let response = a
        .token(form(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ]),
            (id, &secret),
        ))
        .await;
    let access = json(&response)["access_token"].as_str().unwrap().to_owned();
    assert!(active(&b, access.clone()).await);
    let revoked = a
        .revoke(form(
            "/oauth/revoke",
            &encode(&[("token", &access)]),
            (id, &secret),
        ))
        .await;
    assert_eq!(revoked.status(), 200);
    assert!(
        !active(&b, access.clone()).await,
        "revoked at A, inactive at B"
    );

    // A client revoked at B cannot get a token at A.
    let mut revoked_client = b.store().get_client(&client.id).await.unwrap().unwrap();
    revoked_client.revoked = true;
    b.store().update_client(revoked_client).await.unwrap();
    let response = a
        .token(form(
            "/oauth/token",
            &encode(&[
                ("grant_type", "authorization_code"),
                ("code", "pc_ac_whatever"),
                ("redirect_uri", REDIRECT),
            ]),
            (id, &secret),
        ))
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(&response)["error"], "invalid_client");
}
