//! Token introspection: RFC 7662. An authenticated client asks whether a token is active
//! and, if it is, what it grants.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use portcullis_registry::{Client, ClientId, RoleAssignment, ScopeSet};
use portcullis_store::TokenRecord;
use portcullis_tokens::{Subject, TokenKind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::revocation::find_presented_token;
use crate::{OAuthError, Provider, client_auth, request, response};

/// The `token_type` of an active access token (RFC 6750).
const BEARER: &str = "Bearer";
/// The `token_type` of an active refresh token.
const REFRESH_TOKEN: &str = "refresh_token";

/// The answer of the introspection endpoint (RFC 7662 §2.2).
///
/// An inactive token is `{"active": false}` and nothing else: the answer does not say why,
/// nor whether the token ever existed. An active one carries what the token grants. The
/// type deserializes too, for resource servers reading the answer.
///
/// ```
/// use portcullis_endpoints::IntrospectionResponse;
///
/// let inactive = IntrospectionResponse::inactive();
/// assert_eq!(serde_json::to_string(&inactive)?, r#"{"active":false}"#);
///
/// let active: IntrospectionResponse = serde_json::from_str(
///     r#"{"active":true,"scope":"view:users","client_id":"reports","exp":1700003600,
///         "iat":1700000000,"token_type":"Bearer","iss":"https://id.example",
///         "roles":[{"role":"auditor","division":"emea"}]}"#,
/// )?;
/// assert!(active.active);
/// assert_eq!(active.subject, None); // client credentials: no user
/// assert_eq!(active.roles[0].division.as_deref(), Some("emea"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IntrospectionResponse {
    /// Whether the token is active: issued here, not expired, not revoked or rotated, and
    /// its client still in good standing (`active`, REQUIRED).
    pub active: bool,
    /// The scopes granted (`scope`, space-separated on the wire); absent when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeSet>,
    /// The client the token was issued to (`client_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// The user the token acts for (`sub`); absent for client credentials.
    #[serde(rename = "sub", default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// When the token expires (`exp`, seconds since the Unix epoch).
    #[serde(
        rename = "exp",
        default,
        with = "time::serde::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// When the token was issued (`iat`, seconds since the Unix epoch).
    #[serde(
        rename = "iat",
        default,
        with = "time::serde::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub issued_at: Option<OffsetDateTime>,
    /// `Bearer` for an access token (`DPoP` for a DPoP-bound one, RFC 9449 §6.2),
    /// `refresh_token` for a refresh token (`token_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The issuer that issued the token (`iss`), exactly the provider's issuer.
    #[serde(rename = "iss", default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The resource servers the token is for (`aud`, RFC 7662 §2.2 / RFC 8707); absent when
    /// the token is not restricted.
    #[serde(rename = "aud", default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// The key a DPoP-bound token is bound to (`cnf`, RFC 9449 §6.2); absent for bearer
    /// tokens.
    #[serde(rename = "cnf", default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<crate::Confirmation>,
    /// The role × division assignments the client held when the token was issued (machine
    /// clients; `roles`, each `{"role", "division"?}`); absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleAssignment>,
}

impl IntrospectionResponse {
    /// `{"active": false}`: the answer for any token that may not be used, or may not be
    /// described to this caller (RFC 7662 §2.2).
    ///
    /// ```
    /// assert!(!portcullis_endpoints::IntrospectionResponse::inactive().active);
    /// ```
    pub fn inactive() -> IntrospectionResponse {
        IntrospectionResponse::default()
    }

    /// The description of an active token, issued by `issuer`.
    fn active(record: TokenRecord, issuer: &str) -> IntrospectionResponse {
        let token_type = match record.kind {
            TokenKind::RefreshToken => REFRESH_TOKEN,
            // RFC 9449 §6.2: a bound access token is a `DPoP` token.
            _ if record.confirmation.is_some() => crate::dpop::DPOP_TOKEN_TYPE,
            _ => BEARER,
        };
        IntrospectionResponse {
            active: true,
            scope: (!record.scopes.is_empty()).then_some(record.scopes),
            client_id: Some(record.client_id),
            subject: record.subject,
            expires_at: Some(record.expires_at),
            issued_at: Some(record.issued_at),
            token_type: Some(token_type.to_owned()),
            issuer: Some(issuer.to_owned()),
            audience: record.audience,
            confirmation: record.confirmation.map(|jkt| crate::Confirmation { jkt }),
            roles: record.roles,
        }
    }
}

impl Provider {
    /// The introspection endpoint (RFC 7662): an authenticated client asks about a token.
    ///
    /// - The request is a form POST with client authentication (§2.1); public clients have
    ///   no credentials and are refused like any failed authentication: 401 `invalid_client`.
    /// - `token` is required (`invalid_request` otherwise). `token_type_hint` is only a hint
    ///   and is not needed: the token is found whatever its type, and an unknown hint value
    ///   is ignored (§2.1 defines no error for it). An RFC 9068 JWT access token is found
    ///   by its `jti` once its signature verifies with the provider's keys; one that does
    ///   not verify (tampered, another issuer's key, expired) is inactive.
    /// - The answer is `{"active": false}` and nothing else (§2.2) when the token is unknown,
    ///   malformed, expired, revoked or rotated; when it was issued to another client and the
    ///   caller may not introspect any token (DESIGN §4.1, `introspect_any`); or when the
    ///   client it was issued to has since been revoked or deleted.
    /// - An active token is described by an [`IntrospectionResponse`]: `active`, `scope`,
    ///   `client_id`, `sub`, `exp`, `iat`, `token_type`, `iss` and, for machine clients,
    ///   `roles`.
    ///
    /// Every answer is JSON with `Cache-Control: no-store`; a store failure answers 503
    /// `temporarily_unavailable` or 500 `server_error`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use portcullis_endpoints::Provider;
    /// use portcullis_grants::{Issuance, NoClaims, Signing, mint_tokens};
    /// use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet, TokenEndpointAuthMethod};
    /// use portcullis_store::{ClientStore, FamilyId, MemoryStore, TokenStore};
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let provider = Provider::builder("https://id.example", store.clone()).build()?;
    ///
    /// // A machine client with a role, holding a client-credentials token.
    /// let issued = NewClient::new("Reports", ClientKind::Machine)
    ///     .auth_method(TokenEndpointAuthMethod::ClientSecretPost)
    ///     .role("auditor", Some("emea"))
    ///     .build(&ScopeCatalog::with_oidc_scopes())?;
    /// let (client, secret) = (issued.client, issued.secret.ok_or("a confidential client")?);
    /// store.insert_client(client.clone()).await?;
    /// let keys = provider.signing_keys();
    /// let minted = mint_tokens(Issuance {
    ///     audience: portcullis_grants::Audience::unrestricted(),
    ///     confirmation: None,
    ///     client: &client,
    ///     subject: None,
    ///     scopes: ScopeSet::new(),
    ///     family: FamilyId::generate()?,
    ///     now: provider.now(),
    ///     refresh_scopes: None,
    ///     auth_time: None,
    ///     signing: Signing { settings: provider.issuer_settings(), keys: &keys, claims: &NoClaims },
    /// })?;
    /// store.insert_tokens(minted.records).await?;
    ///
    /// let body = format!(
    ///     "client_id={}&client_secret={}&token={}",
    ///     client.id,
    ///     secret.expose_secret(),
    ///     minted.response.access_token.expose_secret(),
    /// );
    /// let request = http::Request::post("/oauth/introspect")
    ///     .header("content-type", "application/x-www-form-urlencoded")
    ///     .body(Bytes::from(body))?;
    /// let response = provider.introspect(request).await;
    /// assert_eq!(response.status(), 200);
    /// let answer: serde_json::Value = serde_json::from_slice(response.body())?;
    /// assert_eq!(answer["active"], true);
    /// assert_eq!(answer["token_type"], "Bearer");
    /// assert_eq!(answer["iss"], "https://id.example");
    /// assert_eq!(answer["roles"], serde_json::json!([{"role": "auditor", "division": "emea"}]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn introspect(&self, request: Request<Bytes>) -> Response<Bytes> {
        match self.introspection(&request).await {
            Ok(answer) => {
                // Serializing this struct cannot fail; if it ever did, fail closed.
                let body =
                    serde_json::to_value(&answer).unwrap_or_else(|_| json!({"active": false}));
                response::json(StatusCode::OK, &body)
            }
            Err(err) => response::oauth_error(&err),
        }
    }

    async fn introspection(
        &self,
        request: &Request<Bytes>,
    ) -> Result<IntrospectionResponse, OAuthError> {
        let params = request::form(request, self.max_body_bytes())?;
        let caller = client_auth::authenticate(self, request, &params).await?;
        if !caller.auth_method.is_confidential() {
            // §2.1: "the endpoint MUST also require some form of authorization". A public
            // client proves nothing by naming itself; refused with the same answer as any
            // failed authentication.
            return Err(OAuthError::invalid_client(
                "client authentication failed",
                None,
            ));
        }
        let presented = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        let Some(record) = find_presented_token(self, presented).await? else {
            return Ok(IntrospectionResponse::inactive());
        };
        if !record.is_active(self.now()) {
            return Ok(IntrospectionResponse::inactive());
        }
        if record.client_id != caller.id {
            if !caller.introspect_any {
                // DESIGN §4.1: a client may introspect only its own tokens. "Inactive", not
                // an error, so the caller cannot learn that the token exists (§4).
                return Ok(IntrospectionResponse::inactive());
            }
            if !self.client_in_good_standing(&record.client_id).await? {
                return Ok(IntrospectionResponse::inactive());
            }
        }
        // The caller is the token's client otherwise, and authentication has just checked
        // that it is not revoked.
        Ok(IntrospectionResponse::active(record, self.issuer()))
    }

    /// Whether the client a token was issued to still exists and is not revoked: a revoked
    /// client's tokens are inactive everywhere at once, even in a store that has not yet
    /// marked them revoked.
    async fn client_in_good_standing(&self, id: &ClientId) -> Result<bool, OAuthError> {
        let client: Option<Client> = self
            .store()
            .get_client(id)
            .await
            .map_err(|err| OAuthError::store(&err))?;
        Ok(client.is_some_and(|client| !client.revoked))
    }
}

#[cfg(test)]
mod tests;
