//! The admin API of DESIGN §4.1, case by case, against the real binary on SQLite.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, TempDb, access_token, json_of};

/// Every field a client's JSON shows, besides `client_secret`.
const CLIENT_FIELDS: [&str; 18] = [
    "access_token_format",
    "access_token_lifetime_secs",
    "application_type",
    "client_id",
    "description",
    "dpop_bound_access_tokens",
    "grant_types",
    "introspect_any",
    "name",
    "post_logout_redirect_uris",
    "redirect_uris",
    "refresh_token_lifetime_secs",
    "require_pushed_authorization_requests",
    "revoked",
    "roles",
    "scopes",
    "subject_type",
    "token_endpoint_auth_method",
];

async fn server() -> (TempDb, Server) {
    let db = TempDb::new();
    let server = Server::start_ok(&db.url(), None, &[]).await;
    (db, server)
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// Creates a client and checks the answer is `201`; its JSON.
async fn create_client(server: &Server, body: Value) -> Value {
    let (status, client) = server.admin_post("/admin/clients", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body} → {client}");
    client
}

async fn client_credentials(
    server: &Server,
    id: &str,
    secret: &str,
    scope: &str,
) -> (StatusCode, Value) {
    server
        .form(
            "/oauth/token",
            (id, secret),
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_admin_token_every_route_answers_401() {
    let (_db, server) = server().await;
    let cases: [(&str, Method, &str, Option<&str>); 8] = [
        ("no token", Method::GET, "/admin/clients", None),
        (
            "wrong token",
            Method::GET,
            "/admin/clients",
            Some("Bearer nope"),
        ),
        (
            "basic is not bearer",
            Method::GET,
            "/admin/clients",
            Some("Basic dGVzdC10b2tlbg=="),
        ),
        (
            "token as the scheme",
            Method::GET,
            "/admin/clients",
            Some("test-token"),
        ),
        ("create client", Method::POST, "/admin/clients", None),
        (
            "patch client",
            Method::PATCH,
            "/admin/clients/x",
            Some("Bearer test-token-x"),
        ),
        ("scopes", Method::POST, "/admin/scopes", None),
        ("users", Method::GET, "/admin/users", Some("Bearer ")),
    ];
    for (name, method, path, authorization) in cases {
        let mut request = server
            .http
            .request(method, server.url(path))
            .json(&json!({"name": "x", "application_type": "m2m"}));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(challenge.starts_with("Bearer"), "{name}: {challenge}");
        let (_, body) = json_of(response).await;
        assert_eq!(body["error"], "invalid_token", "{name}: {body}");
    }
    // Nothing was created by the refused requests.
    let (status, clients) = server.admin_get("/admin/clients").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clients, json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_is_400_naming_the_field() {
    let (_db, server) = server().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "redirect uri must be https or loopback",
            json!({"name": "W", "application_type": "web", "redirect_uris": ["http://app.example/cb"]}),
            "redirect_uris[0]",
        ),
        (
            "redirect uri with a fragment",
            json!({"name": "W", "application_type": "web", "redirect_uris": ["https://app.example/cb#x"]}),
            "redirect_uris[0]",
        ),
        (
            "unknown scope",
            json!({"name": "S", "application_type": "m2m", "scopes": ["nope:things"]}),
            "scopes",
        ),
        (
            "lifetime below 300",
            json!({"name": "S", "application_type": "m2m", "access_token_lifetime_secs": 299}),
            "access_token_lifetime_secs",
        ),
        (
            "lifetime above 172800",
            json!({"name": "S", "application_type": "m2m", "access_token_lifetime_secs": 172_801}),
            "access_token_lifetime_secs",
        ),
        (
            "lifetime not a number",
            json!({"name": "S", "application_type": "m2m", "access_token_lifetime_secs": "long"}),
            "access_token_lifetime_secs",
        ),
        (
            "machine client with redirect uris",
            json!({"name": "S", "application_type": "m2m", "redirect_uris": ["http://127.0.0.1/cb"]}),
            "redirect_uris",
        ),
        (
            "unknown application type",
            json!({"name": "S", "application_type": "desktop"}),
            "application_type",
        ),
        (
            "missing application type",
            json!({"name": "S"}),
            "application_type",
        ),
        ("missing name", json!({"application_type": "m2m"}), "name"),
        (
            "public client with a secret method",
            json!({"name": "S", "application_type": "spa", "redirect_uris": ["http://127.0.0.1:8400/cb"],
                   "token_endpoint_auth_method": "client_secret_basic"}),
            "token_endpoint_auth_method",
        ),
        (
            "roles on a web client",
            json!({"name": "W", "application_type": "web", "redirect_uris": ["https://app.example/cb"],
                   "roles": [{"role": "admin"}]}),
            "roles",
        ),
        (
            "grant type the kind may not use",
            json!({"name": "S", "application_type": "spa", "redirect_uris": ["http://127.0.0.1:8400/cb"],
                   "grant_types": ["client_credentials"]}),
            "grant_types",
        ),
        (
            "unknown grant type",
            json!({"name": "S", "application_type": "m2m", "grant_types": ["magic"]}),
            "grant_types",
        ),
        (
            "scopes neither all nor a list",
            json!({"name": "S", "application_type": "m2m", "scopes": "everything"}),
            "scopes",
        ),
        (
            "a typo is not ignored",
            json!({"name": "S", "application_type": "m2m", "scope": ["openid"]}),
            "scope",
        ),
        (
            "a secret cannot be chosen",
            json!({"name": "S", "application_type": "m2m", "client_secret": "mine"}),
            "client_secret",
        ),
    ];
    for (name, body, field) in cases {
        let (status, answer) = server.admin_post("/admin/clients", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {answer}");
        assert_eq!(answer["error"], "invalid_request", "{name}: {answer}");
        let description = answer["error_description"].as_str().unwrap_or_default();
        assert!(
            description.contains(field),
            "{name}: {description:?} should name {field}"
        );
        let fields: Vec<&str> = answer["fields"]
            .as_array()
            .map(|fields| fields.iter().filter_map(|f| f["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "{name}: {fields:?} lacks {field}");
    }
    // The unknown scope is named.
    let (_, answer) = server
        .admin_post(
            "/admin/clients",
            json!({"name": "S", "application_type": "m2m", "scopes": ["openid", "nope:things"]}),
        )
        .await;
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("nope:things"),
        "{answer}"
    );
    // Not JSON at all.
    let response = server
        .admin(Method::POST, "/admin/clients")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    let (status, answer) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["fields"][0]["field"], "body");

    let (_, clients) = server.admin_get("/admin/clients").await;
    assert_eq!(clients, json!([]), "nothing invalid was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_client_type_is_created_with_every_field_echoed() {
    let (_db, server) = server().await;
    let (status, _) = server
        .admin_post(
            "/admin/scopes",
            json!({"name": "view:users", "description": "See users"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // (body, grant types, auth method, confidential)
    let cases: Vec<(Value, &[&str], &str, bool)> = vec![
        (
            json!({"name": "Web app", "application_type": "web",
                   "description": "The billing dashboard",
                   "redirect_uris": ["https://app.example/callback"],
                   "post_logout_redirect_uris": ["https://app.example/bye"],
                   "scopes": ["openid", "profile", "view:users"]}),
            &["authorization_code", "refresh_token"],
            "client_secret_basic",
            true,
        ),
        (
            json!({"name": "SPA", "application_type": "spa",
                   "redirect_uris": ["http://127.0.0.1:8400/callback"], "scopes": "all"}),
            &["authorization_code"],
            "none",
            false,
        ),
        (
            json!({"name": "CLI", "application_type": "native",
                   "redirect_uris": ["http://127.0.0.1/callback"], "scopes": ["openid"]}),
            &["authorization_code"],
            "none",
            false,
        ),
        (
            json!({"name": "Exporter", "application_type": "m2m", "scopes": ["view:users"],
                   "redirect_uris": [],
                   "roles": [{"role": "reader", "division": "emea"}, {"role": "auditor"}],
                   "access_token_lifetime_secs": 600, "introspect_any": true}),
            &["client_credentials"],
            "client_secret_basic",
            true,
        ),
        (
            json!({"name": "First-party app", "application_type": "resource_owner",
                   "scopes": ["openid", "email"],
                   "token_endpoint_auth_method": "client_secret_post"}),
            &["password", "refresh_token"],
            "client_secret_post",
            true,
        ),
    ];
    for (body, grants, method, confidential) in cases {
        let kind = body["application_type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let client = create_client(&server, body.clone()).await;
        let keys: BTreeSet<String> = client
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        let mut expected = set(&CLIENT_FIELDS);
        if confidential {
            expected.insert("client_secret".into());
        }
        assert_eq!(keys, expected, "{kind}: exactly the stored fields");
        assert!(!client.to_string().contains("secret_hash"), "{kind}");
        let id = client["client_id"].as_str().expect("an id").to_owned();
        assert!(!id.is_empty());
        assert_eq!(client["name"], body["name"], "{kind}");
        assert_eq!(client["application_type"], kind.as_str());
        assert_eq!(strings(&client["grant_types"]), set(grants), "{kind}");
        assert_eq!(client["token_endpoint_auth_method"], method, "{kind}");
        assert_eq!(
            client["redirect_uris"],
            body.get("redirect_uris").cloned().unwrap_or(json!([])),
            "{kind}"
        );
        assert_eq!(
            client["post_logout_redirect_uris"],
            body.get("post_logout_redirect_uris")
                .cloned()
                .unwrap_or(json!([])),
            "{kind}"
        );
        match &body["scopes"] {
            Value::String(all) => assert_eq!(client["scopes"], all.as_str(), "{kind}"),
            list => assert_eq!(strings(&client["scopes"]), strings(list), "{kind}"),
        }
        assert_eq!(
            client["access_token_lifetime_secs"],
            body.get("access_token_lifetime_secs")
                .cloned()
                .unwrap_or(json!(3600)),
            "{kind}"
        );
        assert_eq!(
            client["introspect_any"],
            body.get("introspect_any").cloned().unwrap_or(json!(false))
        );
        assert_eq!(
            client["roles"],
            body.get("roles").cloned().unwrap_or(json!([])),
            "{kind}"
        );
        assert_eq!(client["revoked"], false);
        assert_eq!(
            client["description"],
            body.get("description").cloned().unwrap_or(json!(""))
        );
        if confidential {
            let secret = client["client_secret"].as_str().expect("a secret");
            assert!(secret.len() >= 43, "{kind}: a 256-bit secret");
        }

        // Reading it back: the same, without the secret (shown once).
        let (status, read) = server.admin_get(&format!("/admin/clients/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let mut shown = client.clone();
        shown
            .as_object_mut()
            .expect("object")
            .remove("client_secret");
        assert_eq!(read, shown, "{kind}");
    }
    let (_, clients) = server.admin_get("/admin/clients").await;
    assert_eq!(clients.as_array().map(Vec::len), Some(5));
    assert!(
        clients
            .as_array()
            .expect("array")
            .iter()
            .all(|client| client.get("client_secret").is_none()
                && client.get("secret_hash").is_none())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_clients_are_404() {
    let (_db, server) = server().await;
    let id = "no-such-client";
    let cases = [
        (Method::GET, format!("/admin/clients/{id}")),
        (Method::PATCH, format!("/admin/clients/{id}")),
        (Method::DELETE, format!("/admin/clients/{id}")),
        (Method::POST, format!("/admin/clients/{id}/secret")),
        (Method::GET, format!("/admin/clients/{id}/endpoints")),
        (Method::GET, "/admin/clients/not%20an%20id".to_owned()),
    ];
    for (method, path) in cases {
        let response = server
            .admin(method.clone(), &path)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .expect("request");
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert_eq!(body["error"], "not_found", "{method} {path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scopes_and_users_refuse_duplicates_and_hide_hashes() {
    let (_db, server) = server().await;

    let scope = json!({"name": "view:reports", "description": "See reports"});
    let (status, created) = server.admin_post("/admin/scopes", scope.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created, scope);
    let (status, answer) = server.admin_post("/admin/scopes", scope).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let (status, _) = server
        .admin_post(
            "/admin/scopes",
            json!({"name": "openid", "description": "mine"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "OIDC scopes exist already");
    let (status, answer) = server
        .admin_post(
            "/admin/scopes",
            json!({"name": "two words", "description": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["fields"][0]["field"], "name");
    let (status, scopes) = server.admin_get("/admin/scopes").await;
    assert_eq!(status, StatusCode::OK);
    let names: BTreeSet<String> = scopes
        .as_array()
        .expect("array")
        .iter()
        .map(|scope| scope["name"].as_str().expect("name").to_owned())
        .collect();
    assert!(
        names.contains("view:reports") && names.contains("openid"),
        "{names:?}"
    );

    let user = json!({"username": "alice", "password": "correct horse battery",
                      "name": "Alice Example", "email": "alice@example.com"});
    let (status, created) = server.admin_post("/admin/users", user.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(
        created["subject"]
            .as_str()
            .is_some_and(|subject| subject.starts_with("user-")),
        "{created}"
    );
    assert_eq!(created["username"], "alice");
    assert_eq!(created["name"], "Alice Example");
    assert_eq!(created["email"], "alice@example.com");
    let (status, answer) = server.admin_post("/admin/users", user).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["fields"][0]["field"], "username");
    let (status, answer) = server
        .admin_post(
            "/admin/users",
            json!({"username": "bob", "password": "short", "email": "bob"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let fields: BTreeSet<String> = answer["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field").to_owned())
        .collect();
    assert_eq!(fields, set(&["email", "password"]));

    let (status, users) = server.admin_get("/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    let users = users.as_array().expect("array").clone();
    assert_eq!(users.len(), 1, "{users:?}");
    for user in &users {
        let keys: BTreeSet<String> = user.as_object().expect("object").keys().cloned().collect();
        assert_eq!(
            keys,
            set(&["created_at", "email", "name", "subject", "username"])
        );
    }
    let text = Value::Array(users).to_string();
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn patch_renames_and_revalidates_and_delete_removes() {
    let (_db, server) = server().await;
    let client = create_client(
        &server,
        json!({"name": "Before", "application_type": "web",
               "redirect_uris": ["https://app.example/cb"], "scopes": ["openid"]}),
    )
    .await;
    let id = client["client_id"].as_str().expect("id");
    let path = format!("/admin/clients/{id}");

    let (status, renamed) = server.admin_patch(&path, json!({"name": "After"})).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "After");
    assert!(
        renamed.get("client_secret").is_none(),
        "the secret is kept, not reissued"
    );
    let mut expected = client.clone();
    expected["name"] = json!("After");
    expected
        .as_object_mut()
        .expect("object")
        .remove("client_secret");
    assert_eq!(renamed, expected, "nothing else changed");
    let (_, read) = server.admin_get(&path).await;
    assert_eq!(read["name"], "After");

    let cases = [
        (
            json!({"access_token_lifetime_secs": 5}),
            "access_token_lifetime_secs",
        ),
        (json!({"redirect_uris": []}), "redirect_uris"),
        (json!({"client_id": "other"}), "client_id"),
        (json!({"scopes": ["nope:x"]}), "scopes"),
        (json!({"revoked": "yes"}), "revoked"),
    ];
    for (body, field) in cases {
        let (status, answer) = server.admin_patch(&path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["fields"][0]["field"], field, "{body}: {answer}");
    }
    let (_, read) = server.admin_get(&path).await;
    assert_eq!(read, expected, "refused edits change nothing");

    let response = server
        .admin(Method::DELETE, &path)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) = server.admin_get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_a_client_invalidates_its_tokens() {
    let (_db, server) = server().await;
    server
        .admin_post(
            "/admin/scopes",
            json!({"name": "view:things", "description": "See things"}),
        )
        .await;
    let service = create_client(
        &server,
        json!({"name": "Service", "application_type": "m2m", "scopes": ["view:things"]}),
    )
    .await;
    let resource_server = create_client(
        &server,
        json!({"name": "Resource server", "application_type": "m2m", "introspect_any": true}),
    )
    .await;
    let id = service["client_id"].as_str().expect("id");
    let secret = service["client_secret"].as_str().expect("secret");
    let rs = (
        resource_server["client_id"].as_str().expect("id"),
        resource_server["client_secret"].as_str().expect("secret"),
    );

    let (status, answer) = client_credentials(&server, id, secret, "view:things").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let token = access_token(&answer);
    let (_, introspection) = server
        .form("/oauth/introspect", rs, &[("token", &token)])
        .await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert_eq!(introspection["client_id"], id);
    let (status, _) = server.bearer_get("/api/me", &token).await;
    assert_eq!(status, StatusCode::OK);

    let (status, revoked) = server
        .admin_patch(&format!("/admin/clients/{id}"), json!({"revoked": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["revoked"], true);

    let (_, introspection) = server
        .form("/oauth/introspect", rs, &[("token", &token)])
        .await;
    assert_eq!(introspection, json!({"active": false}));
    let (status, _) = server.bearer_get("/api/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = client_credentials(&server, id, secret, "view:things").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"], "invalid_client");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_replaces_the_old_one() {
    let (_db, server) = server().await;
    let client = create_client(
        &server,
        json!({"name": "Service", "application_type": "m2m"}),
    )
    .await;
    let id = client["client_id"].as_str().expect("id");
    let old = client["client_secret"].as_str().expect("secret");
    let (status, _) = client_credentials(&server, id, old, "").await;
    assert_eq!(status, StatusCode::OK);

    let (status, rotated) = server
        .admin_post(&format!("/admin/clients/{id}/secret"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["client_secret"].as_str().expect("a new secret");
    assert_ne!(new, old);
    assert!(rotated.get("secret_hash").is_none());
    assert_eq!(rotated["client_id"], id);

    let (status, answer) = client_credentials(&server, id, old, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"], "invalid_client");
    let (status, answer) = client_credentials(&server, id, new, "").await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // Public clients have no secret to rotate.
    let public = create_client(
        &server,
        json!({"name": "CLI", "application_type": "native",
               "redirect_uris": ["http://127.0.0.1/callback"]}),
    )
    .await;
    let (status, answer) = server
        .admin_post(
            &format!(
                "/admin/clients/{}/secret",
                public["client_id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["fields"][0]["field"], "client_secret");
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_are_the_discovered_urls() {
    let (_db, server) = server().await;
    let client = create_client(
        &server,
        json!({"name": "Web", "application_type": "web", "redirect_uris": ["https://app.example/cb"]}),
    )
    .await;
    let id = client["client_id"].as_str().expect("id");
    let (status, endpoints) = server
        .admin_get(&format!("/admin/clients/{id}/endpoints"))
        .await;
    assert_eq!(status, StatusCode::OK, "{endpoints}");
    let discovery_url = format!("{}/.well-known/openid-configuration", server.base);
    let response = server
        .http
        .get(&discovery_url)
        .send()
        .await
        .expect("discovery");
    let (_, discovery) = json_of(response).await;

    assert_eq!(endpoints["client_id"], id);
    assert_eq!(endpoints["issuer"], server.base.as_str());
    assert_eq!(discovery["issuer"], server.base.as_str());
    assert_eq!(endpoints["discovery_url"], discovery_url.as_str());
    for (ours, theirs) in [
        ("authorization_url", "authorization_endpoint"),
        ("token_url", "token_endpoint"),
        ("logout_url", "end_session_endpoint"),
        ("userinfo_url", "userinfo_endpoint"),
        ("jwks_url", "jwks_uri"),
        ("introspection_url", "introspection_endpoint"),
        ("revocation_url", "revocation_endpoint"),
    ] {
        assert!(endpoints[ours].is_string(), "{ours}");
        assert_eq!(endpoints[ours], discovery[theirs], "{ours} = {theirs}");
    }
    assert_eq!(
        endpoints["authorization_url"],
        format!("{}/oauth/authorize", server.base)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_created_user_gets_a_password_grant_token_that_works_at_userinfo() {
    let (_db, server) = server().await;
    let client = create_client(
        &server,
        json!({"name": "First-party", "application_type": "resource_owner",
               "scopes": ["openid", "profile", "email"]}),
    )
    .await;
    let credentials = (
        client["client_id"].as_str().expect("id"),
        client["client_secret"].as_str().expect("secret"),
    );
    let (_, user) = server
        .admin_post(
            "/admin/users",
            json!({"username": "alice", "password": "correct horse battery",
                   "name": "Alice Example", "email": "alice@example.com"}),
        )
        .await;

    let (status, tokens) = server
        .form(
            "/oauth/token",
            credentials,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "correct horse battery"),
                ("scope", "openid profile email"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(
        tokens["id_token"].is_string(),
        "openid granted: an ID token"
    );
    assert!(
        tokens["refresh_token"].is_string(),
        "the client has refresh_token"
    );
    let (status, claims) = server
        .bearer_get("/oauth/userinfo", &access_token(&tokens))
        .await;
    assert_eq!(status, StatusCode::OK, "{claims}");
    assert_eq!(claims["sub"], user["subject"]);
    assert_eq!(claims["name"], "Alice Example");
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["email"], "alice@example.com");

    for (username, password) in [
        ("alice", "wrong password"),
        ("nobody", "correct horse battery"),
    ] {
        let (status, answer) = server
            .form(
                "/oauth/token",
                credentials,
                &[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}");
        assert_eq!(answer["error"], "invalid_grant", "{username}");
    }
}
