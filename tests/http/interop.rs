//! Interop with the `oauth2` crate (5.x) as a real client: it must be able to use us with
//! its defaults (Basic client authentication, PKCE S256, standard revocation).

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    RevocationUrl, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};

use super::Adapter;
use super::cases::walk_pages;
use super::fixture::*;

fn oauth2_http() -> reqwest::Client {
    // oauth2's own guidance: never follow redirects from a token endpoint (SSRF).
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// RFC 6749 §4.4 through the `oauth2` crate.
pub async fn interop_oauth2_client_credentials<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let client = BasicClient::new(ClientId::new(fx.machine.id.clone()))
        .set_client_secret(ClientSecret::new(fx.machine.secret().to_owned()))
        .set_token_uri(TokenUrl::new(fx.url("/oauth/token")).unwrap());
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("view:users".into()))
        .request_async(&oauth2_http())
        .await
        .unwrap_or_else(|err| panic!("{}: {err:?}", A::NAME));
    let scopes: Vec<String> = token
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(scopes, ["view:users"]);
    let me = fx.api("/api/me", Some(token.access_token().secret())).await;
    assert_eq!(me.status().as_u16(), 200);
}

/// RFC 6749 §4.1 + RFC 7636 (PKCE) + §6 (refresh) + RFC 7009 (revocation) through the
/// `oauth2` crate, with the login and consent forms driven over HTTP.
pub async fn interop_oauth2_code_pkce_refresh_revoke<A: Adapter>() {
    let fx = Fixture::start::<A>().await;
    let client = BasicClient::new(ClientId::new(fx.web.id.clone()))
        .set_client_secret(ClientSecret::new(fx.web.secret().to_owned()))
        .set_auth_uri(AuthUrl::new(fx.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(fx.url("/oauth/token")).unwrap())
        .set_revocation_url(RevocationUrl::new(fx.url("/oauth/revoke")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let http = oauth2_http();

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("view:users".into()))
        .set_pkce_challenge(challenge)
        .url();
    let redirect = walk_pages(&fx, auth_url.as_str(), "allow").await;
    let params = redirect_params(&redirect, REDIRECT);
    assert_eq!(
        &params["state"],
        csrf.secret(),
        "the client's state comes back"
    );
    assert_eq!(params["iss"], fx.server.base, "RFC 9207");

    let token = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|err| panic!("{}: code exchange: {err:?}", A::NAME));
    let refresh = token.refresh_token().expect("a refresh token").clone();
    assert_eq!(
        fx.api("/api/me", Some(token.access_token().secret()))
            .await
            .status()
            .as_u16(),
        200
    );

    let rotated = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .unwrap_or_else(|err| panic!("{}: refresh: {err:?}", A::NAME));
    let new_refresh = rotated
        .refresh_token()
        .expect("a rotated refresh token")
        .clone();
    assert_ne!(
        new_refresh.secret(),
        refresh.secret(),
        "refresh tokens rotate"
    );
    // Reusing the rotated token fails (RFC 9700 §4.14.2).
    assert!(
        client
            .exchange_refresh_token(&refresh)
            .request_async(&http)
            .await
            .is_err()
    );

    let fresh = fx.machine_token(&fx.machine, "view:users").await; // unrelated grant
    // The oauth2 crate refuses a revocation URL without TLS (RFC 7009 §5 requires TLS) and
    // these servers are plain loopback HTTP, so it builds the request and we send it.
    let revocation = client.revoke_token(StandardRevocableToken::RefreshToken(new_refresh.clone()));
    assert!(
        matches!(revocation, Err(oauth2::ConfigurationError::InsecureUrl(_))),
        "oauth2 insists on https for revocation"
    );
    let response = fx
        .post_form(
            "/oauth/revoke",
            &[
                ("token", new_refresh.secret()),
                ("token_type_hint", "refresh_token"),
            ],
            Some((&fx.web.id, fx.web.secret())),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(!fx.active(new_refresh.secret()).await);
    assert!(
        !fx.active(rotated.access_token().secret()).await,
        "the family is revoked"
    );
    assert!(fx.active(&fresh).await, "other grants are untouched");
}
