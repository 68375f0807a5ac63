//! Token endpoint: RFC 6749 §3.2, responses per §5.1 and §5.2; `id_token` per OpenID
//! Connect Core §3.1.3.3.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use portcullis_events::Event;
use portcullis_grants::{GrantContext, GrantError, Signing, TokenResponse};
use serde_json::{Map, Value};

use crate::{OAuthError, Provider, client_auth, request, response};

impl Provider {
    /// The token endpoint: authenticates the client, dispatches on `grant_type`, and answers
    /// JSON with `Cache-Control: no-store` (RFC 6749 §5.1), or an RFC 6749 §5.2 error.
    ///
    /// The access token is opaque, or an RFC 9068 JWT when the provider or the client is
    /// configured for them. When `openid` is granted (authorization code, password) or was
    /// in the refreshed grant, the response also carries an `id_token` (OpenID Connect Core
    /// §3.1.3.3, §12.2).
    ///
    /// With [`ProviderBuilder::rate_limits`](crate::ProviderBuilder::rate_limits), a request
    /// over the per-IP or per-client limit, or a password grant request whose username and
    /// IP are locked out, gets 429 `temporarily_unavailable` with `Retry-After`.
    ///
    /// A success is reported to [`Provider::events`] as `token.issued` (and, for a
    /// refresh, also `token.refreshed`); a replayed refresh token as
    /// `token.refresh_reuse_detected`. Emitting never waits or fails the response.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().expect("rt").block_on(async {
    /// let provider = Provider::builder("https://id.example", Arc::new(portcullis_store::MemoryStore::new()))
    ///     .build()
    ///     .expect("valid configuration");
    /// let request = http::Request::post("/oauth/token")
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(Bytes::from_static(b"grant_type=client_credentials"))
    ///     .expect("request");
    /// let response = provider.token(request).await;
    /// assert_eq!(response.status(), 401); // no client authentication
    /// assert_eq!(response.headers()["cache-control"], "no-store");
    /// # });
    /// ```
    pub async fn token(&self, request: Request<Bytes>) -> Response<Bytes> {
        let started = std::time::Instant::now();
        let answer = match self.exchange(&request).await {
            Ok((client_id, grant_type, tokens)) => {
                crate::telemetry::token_request(&grant_type, "issued", started.elapsed());
                self.emit_issued(client_id, grant_type, &tokens);
                response::json(StatusCode::OK, &Value::Object(token_body(tokens)))
            }
            Err(err) => {
                let grant_type = grant_type_of(&request);
                crate::telemetry::token_request(&grant_type, err.code(), started.elapsed());
                response::oauth_error(&err)
            }
        };
        crate::dpop::with_nonce(self, answer)
    }

    /// Reports a successful token response: `token.issued` for every grant, and for a
    /// refresh also `token.refreshed` (one event per response that counts issuance, one
    /// that tells refreshes apart). Never waits.
    fn emit_issued(&self, client_id: String, grant_type: String, tokens: &TokenResponse) {
        let refreshed = (grant_type == "refresh_token").then(|| Event::TokenRefreshed {
            client_id: client_id.clone(),
            subject: tokens.subject.clone(),
        });
        self.events().emit(Event::TokenIssued {
            client_id,
            subject: tokens.subject.clone(),
            grant_type,
            scope: tokens.scope.to_string(),
        });
        if let Some(refreshed) = refreshed {
            self.events().emit(refreshed);
        }
    }

    /// The client's id, the grant type, and the tokens.
    async fn exchange(
        &self,
        request: &Request<Bytes>,
    ) -> Result<(String, String, TokenResponse), OAuthError> {
        // Rate limits (`rate_limit`): per IP before anything is read, per client once known.
        self.limit_token_ip(request)?;
        let params = request::form(request, self.max_body_bytes())?;
        let client = client_auth::authenticate(self, request, &params).await?;
        self.limit_token_client(client.id.as_str())?;
        let grant_type = params
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        let grant = self.grant(grant_type).ok_or_else(|| {
            OAuthError::from(GrantError::UnsupportedGrantType(
                "this grant_type is not supported".into(),
            ))
        })?;
        // The password grant is a login: the login limits and lockout apply.
        let login = self.password_attempt(request, grant_type, &params)?;
        let catalog = self
            .scope_catalog()
            .await
            .map_err(|err| OAuthError::store(&err))?;
        // RFC 9449 §5: a valid DPoP proof binds the tokens to its key.
        let dpop_jkt = crate::dpop::token_request(self, request, &client, &params).await?;
        let keys = self.signing_keys();
        let mut cx = GrantContext::new(
            self.store().as_ref(),
            &client,
            &params,
            self.now(),
            self.policy(),
            &catalog,
            self.0.authenticator.as_deref(),
            Signing {
                settings: self.issuer_settings(),
                keys: &keys,
                claims: self.0.claims.as_ref(),
            },
        );
        cx.dpop_jkt = dpop_jkt;
        cx.events = self.events().as_ref();
        let outcome = grant.exchange(&cx).await;
        if let Some(login) = login {
            login.finish(self, &outcome);
        }
        let tokens = outcome.map_err(OAuthError::from)?;
        Ok((client.id.to_string(), grant_type.to_owned(), tokens))
    }
}

/// RFC 6749 §5.1 members; `scope` is always sent when non-empty so clients need not guess.
/// The `grant_type` of a refused request, for its metrics label (`unknown` when absent).
fn grant_type_of(request: &Request<Bytes>) -> String {
    url::form_urlencoded::parse(request.body())
        .find(|(name, _)| name == "grant_type")
        .map_or_else(|| "unknown".to_owned(), |(_, value)| value.into_owned())
}

fn token_body(tokens: TokenResponse) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert(
        "access_token".into(),
        tokens.access_token.expose_secret().into(),
    );
    body.insert("token_type".into(), tokens.token_type.into());
    body.insert("expires_in".into(), tokens.expires_in.into());
    if let Some(refresh) = &tokens.refresh_token {
        body.insert("refresh_token".into(), refresh.expose_secret().into());
    }
    if !tokens.scope.is_empty() {
        body.insert("scope".into(), tokens.scope.to_string().into());
    }
    for (name, value) in tokens.extra {
        body.entry(name).or_insert(value);
    }
    body
}
