//! Dynamic client registration (RFC 7591) and management (RFC 7592) over HTTP under each
//! adapter: a client registers, gets tokens with what it was given, manages its
//! registration, and every refusal is the RFC's.

use portcullis_endpoints::RegistrationPolicy;
use serde_json::{Value, json};

use super::Adapter;
use super::fixture::*;

const INITIAL_TOKEN: &str = "http-suite-initial-access-token";

/// A provider with registration behind [`INITIAL_TOKEN`], where `openid`, `profile` and
/// the application scope `view:users` may be registered.
async fn registration_fixture<A: Adapter>(open: bool) -> Fixture {
    Fixture::start_with::<A>(move |builder| {
        let policy = if open {
            RegistrationPolicy::open()
        } else {
            RegistrationPolicy::initial_access_tokens([INITIAL_TOKEN])
        };
        builder.registration(policy.registrable_scopes(["openid", "profile", "view:users"]))
    })
    .await
}

/// A request with a JSON body (the raw text, so malformed bodies can be sent too).
async fn send(
    fx: &Fixture,
    method: reqwest::Method,
    path: &str,
    body: Option<String>,
    bearer: Option<&str>,
) -> reqwest::Response {
    let mut request = fx.http.request(method, fx.url(path));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the server answers")
}

async fn register(fx: &Fixture, metadata: &Value, bearer: Option<&str>) -> Value {
    let response = send(
        fx,
        reqwest::Method::POST,
        "/oauth/register",
        Some(metadata.to_string()),
        bearer,
    )
    .await;
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    body_json(response, 201).await
}

fn machine() -> Value {
    json!({
        "client_name": "Registered exporter",
        "grant_types": ["client_credentials"],
        "scope": "view:users",
    })
}

/// The path and query of a `registration_client_uri` on this server.
fn configuration_path(fx: &Fixture, info: &Value) -> String {
    let uri = info["registration_client_uri"].as_str().expect("uri");
    uri.strip_prefix(&fx.server.base)
        .unwrap_or_else(|| panic!("{uri} is not on this server"))
        .to_owned()
}

/// RFC 7591 §3, §3.2.1: a confidential client registers over HTTP and gets a token with
/// the returned credentials, which a protected route accepts.
pub async fn registration_open_and_use<A: Adapter>() {
    let fx = registration_fixture::<A>(true).await;
    let info = register(&fx, &machine(), None).await;
    let id = info["client_id"].as_str().expect("client_id");
    let secret = info["client_secret"].as_str().expect("client_secret");
    assert_eq!(info["client_secret_expires_at"], 0);
    assert!(info["client_id_issued_at"].is_i64());
    assert_eq!(
        info["registration_client_uri"],
        format!("{}/oauth/register?client_id={id}", fx.server.base)
    );
    let client = Registered {
        id: id.to_owned(),
        secret: Some(secret.to_owned()),
    };
    let token = fx.machine_token(&client, "view:users").await;
    let me = body_json(fx.api("/api/me", Some(&token)).await, 200).await;
    assert_eq!(me["client_id"], id);
}

/// RFC 7592 §2.1–2.3: read, update and delete at the client configuration endpoint.
pub async fn registration_management<A: Adapter>() {
    let fx = registration_fixture::<A>(false).await;
    let info = register(&fx, &machine(), Some(INITIAL_TOKEN)).await;
    let id = info["client_id"].as_str().expect("client_id").to_owned();
    let secret = info["client_secret"].as_str().expect("secret").to_owned();
    let rat = info["registration_access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let path = configuration_path(&fx, &info);

    // §2.1 read.
    let read = send(&fx, reqwest::Method::GET, &path, None, Some(&rat)).await;
    let read = body_json(read, 200).await;
    assert_eq!(read["client_name"], "Registered exporter");
    assert!(read.get("client_secret").is_none());

    // §2.2 update: the whole metadata, the secret repeated.
    let update = json!({
        "client_id": id,
        "client_secret": secret,
        "client_name": "Renamed exporter",
        "grant_types": ["client_credentials"],
        "scope": "view:users",
    });
    let updated = send(
        &fx,
        reqwest::Method::PUT,
        &path,
        Some(update.to_string()),
        Some(&rat),
    )
    .await;
    let updated = body_json(updated, 200).await;
    assert_eq!(updated["client_name"], "Renamed exporter");
    let client = Registered {
        id: id.clone(),
        secret: Some(secret.clone()),
    };
    fx.machine_token(&client, "view:users").await;

    // §2.3 delete, then the client is gone everywhere.
    let deleted = send(&fx, reqwest::Method::DELETE, &path, None, Some(&rat)).await;
    assert_eq!(deleted.status().as_u16(), 204);
    let token = fx
        .post_form(
            "/oauth/token",
            &[("grant_type", "client_credentials")],
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(body_json(token, 401).await["error"], "invalid_client");
    let again = send(&fx, reqwest::Method::GET, &path, None, Some(&rat)).await;
    assert_eq!(body_json(again, 401).await["error"], "invalid_token");
}

/// One refusal: the rule with its clause, method, path, JSON body, bearer token, then the
/// expected status and error code.
struct Row<'a>(
    &'static str,
    reqwest::Method,
    String,
    Option<String>,
    Option<&'a str>,
    u16,
    &'static str,
);

/// RFC 7591 §3.2.2 and RFC 7592 §2 refusals over HTTP, one row each: what is sent, the
/// status and the error (401 rows also need a `Bearer` challenge, RFC 6750 §3).
pub async fn registration_negative_table<A: Adapter>() {
    let fx = registration_fixture::<A>(false).await;
    let a = register(
        &fx,
        &json!({"client_name": "A", "redirect_uris": [REDIRECT], "scope": "openid"}),
        Some(INITIAL_TOKEN),
    )
    .await;
    let b = register(&fx, &machine(), Some(INITIAL_TOKEN)).await;
    let a_id = a["client_id"].as_str().expect("id").to_owned();
    let a_rat = a["registration_access_token"]
        .as_str()
        .expect("rat")
        .to_owned();
    let b_id = b["client_id"].as_str().expect("id").to_owned();
    let b_rat = b["registration_access_token"]
        .as_str()
        .expect("rat")
        .to_owned();
    let b_secret = b["client_secret"].as_str().expect("secret").to_owned();
    let a_path = configuration_path(&fx, &a);
    let iat = Some(INITIAL_TOKEN);
    let web = |extra: Value| {
        let mut body = json!({"redirect_uris": [REDIRECT]});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body.to_string()
    };
    use reqwest::Method as M;
    let rows: Vec<Row<'_>> = vec![
        Row(
            "RFC 7591 §3: no initial access token",
            M::POST,
            "/oauth/register".into(),
            Some(web(json!({}))),
            None,
            401,
            "invalid_token",
        ),
        Row(
            "RFC 7591 §3: a wrong initial access token",
            M::POST,
            "/oauth/register".into(),
            Some(web(json!({}))),
            Some("wrong-token"),
            401,
            "invalid_token",
        ),
        Row(
            "RFC 7591 §3.2.2: a body that is not JSON",
            M::POST,
            "/oauth/register".into(),
            Some("{\"redirect_uris\":".into()),
            iat,
            400,
            "invalid_client_metadata",
        ),
        Row(
            "RFC 7591 §3.2.2: a redirect URI with a fragment",
            M::POST,
            "/oauth/register".into(),
            Some(json!({"redirect_uris": ["https://app.example/cb#x"]}).to_string()),
            iat,
            400,
            "invalid_redirect_uri",
        ),
        Row(
            "RFC 7591 §3.2.2: a web client's http redirect URI",
            M::POST,
            "/oauth/register".into(),
            Some(json!({"redirect_uris": ["http://app.example/cb"]}).to_string()),
            iat,
            400,
            "invalid_redirect_uri",
        ),
        Row(
            "RFC 7591 §2: jwks and jwks_uri together",
            M::POST,
            "/oauth/register".into(),
            Some(web(
                json!({"jwks": {"keys": []}, "jwks_uri": "https://app.example/jwks"}),
            )),
            iat,
            400,
            "invalid_client_metadata",
        ),
        Row(
            "RFC 7591 §2: private_key_jwt without keys",
            M::POST,
            "/oauth/register".into(),
            Some(web(
                json!({"token_endpoint_auth_method": "private_key_jwt"}),
            )),
            iat,
            400,
            "invalid_client_metadata",
        ),
        Row(
            "RFC 7591 §2.1: response_types inconsistent with grant_types",
            M::POST,
            "/oauth/register".into(),
            Some(web(json!({"response_types": ["id_token"]}))),
            iat,
            400,
            "invalid_client_metadata",
        ),
        Row(
            "RFC 7591 §2: an unknown scope",
            M::POST,
            "/oauth/register".into(),
            Some(web(json!({"scope": "openid no-such-scope"}))),
            iat,
            400,
            "invalid_client_metadata",
        ),
        Row(
            "RFC 7592 §2: a wrong registration access token",
            M::GET,
            a_path.clone(),
            None,
            Some("pc_rat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            401,
            "invalid_token",
        ),
        Row(
            "RFC 7592 §2: another client's registration access token",
            M::GET,
            a_path.clone(),
            None,
            Some(&b_rat),
            401,
            "invalid_token",
        ),
        Row(
            "RFC 7592 §2.2: PUT with another client's client_id",
            M::PUT,
            a_path.clone(),
            Some(web(json!({"client_id": b_id}))),
            Some(&a_rat),
            400,
            "invalid_client_metadata",
        ),
        Row(
            "RFC 7592 §2.2: PUT with a wrong client_secret",
            M::PUT,
            a_path.clone(),
            Some(web(json!({"client_id": a_id, "client_secret": b_secret}))),
            Some(&a_rat),
            400,
            "invalid_client_metadata",
        ),
        Row(
            "RFC 6750 §3.1: a registration access token at UserInfo",
            M::GET,
            "/oauth/userinfo".into(),
            None,
            Some(&a_rat),
            401,
            "invalid_token",
        ),
    ];
    assert!(rows.len() >= 10);
    for Row(rule, method, path, body, bearer, status, error) in rows {
        let response = send(&fx, method, &path, body, bearer).await;
        if status == 401 {
            let challenge = header(&response, "www-authenticate").unwrap_or_default();
            assert!(challenge.starts_with("Bearer "), "{rule}: {challenge:?}");
        }
        assert_eq!(
            header(&response, "cache-control").as_deref(),
            Some("no-store"),
            "{rule}"
        );
        let got = body_json(response, status).await;
        assert_eq!(got["error"], error, "{rule}: {got}");
    }
    // RFC 7592 §3: a registration access token is no access token for a protected route.
    let api = fx.api("/api/me", Some(&a_rat)).await;
    assert_eq!(api.status().as_u16(), 401);
}

/// RFC 8414 §2, OpenID Connect Discovery §3: `registration_endpoint` is advertised, and
/// the endpoint served, exactly when registration is enabled.
pub async fn registration_discovery_only_when_enabled<A: Adapter>() {
    let off = Fixture::start::<A>().await;
    let document = off
        .http
        .get(off.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery");
    let document = body_json(document, 200).await;
    assert!(
        document.get("registration_endpoint").is_none(),
        "{document}"
    );
    let response = send(
        &off,
        reqwest::Method::POST,
        "/oauth/register",
        Some(machine().to_string()),
        None,
    )
    .await;
    assert_eq!(response.status().as_u16(), 404, "not mounted when off");

    let on = registration_fixture::<A>(true).await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let document = on.http.get(on.url(path)).send().await.expect("discovery");
        let document = body_json(document, 200).await;
        assert_eq!(
            document["registration_endpoint"],
            format!("{}/oauth/register", on.server.base),
            "{path}"
        );
    }
}
