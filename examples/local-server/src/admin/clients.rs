//! Clients through the admin API: input parsing (every problem named by its field), creation
//! and edits through the registry's [`NewClient`] rules, the JSON view (never the secret
//! hash), secret rotation, and the URLs a client is configured with.

use std::str::FromStr;

use portcullis_endpoints::SealClientSecretError;
use portcullis_events::Event;
use portcullis_registry::{
    AccessTokenFormat, Client, ClientId, ClientKind, ClientSecret, GrantType, IssuedClient,
    NewClient, RegistryError, RoleAssignment, SubjectType, TokenEndpointAuthMethod,
};
use portcullis_store::{Page, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Admin, AdminError};
use crate::validation::{self, FieldMessage};

/// How many clients one store call lists.
const LIST_PAGE: usize = 200;

/// The scopes a client asks for, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScopesInput {
    /// `"all"`: every scope in the catalog, OIDC scopes included.
    All,
    /// These scopes; each must exist.
    List(Vec<String>),
}

/// Whether input creates a client or edits one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputMode {
    /// `POST /admin/clients`: `name` and `application_type` are required.
    Create,
    /// `PATCH /admin/clients/{id}`: every field optional; the id cannot change.
    Update,
}

/// A client as an administrator describes it, field by field; `None` means "not given"
/// (the kind's default on create, unchanged on update). The console fills one from its
/// form, the API from JSON ([`ClientInput::from_json`]); both go through the same rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClientInput {
    /// A chosen client id (create only); generated when absent.
    pub(crate) client_id: Option<String>,
    /// Display name, shown on the consent page.
    pub(crate) name: Option<String>,
    /// Description for administrators.
    pub(crate) description: Option<String>,
    /// The kind of application.
    pub(crate) application_type: Option<ClientKind>,
    /// Grant types; the kind's defaults when absent on create.
    pub(crate) grant_types: Option<Vec<GrantType>>,
    /// Redirect URIs (none for machine clients).
    pub(crate) redirect_uris: Option<Vec<String>>,
    /// Where the client may send users after logout.
    pub(crate) post_logout_redirect_uris: Option<Vec<String>>,
    /// Allowed scopes.
    pub(crate) scopes: Option<ScopesInput>,
    /// How the client authenticates at the token endpoint.
    pub(crate) token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    /// Access token lifetime, 300 to 172800 seconds.
    pub(crate) access_token_lifetime_secs: Option<u32>,
    /// Refresh token lifetime.
    pub(crate) refresh_token_lifetime_secs: Option<u32>,
    /// Opaque or JWT access tokens.
    pub(crate) access_token_format: Option<AccessTokenFormat>,
    /// Whether the client may introspect any token.
    pub(crate) introspect_any: Option<bool>,
    /// Role × division assignments (machine clients).
    pub(crate) roles: Option<Vec<RoleAssignment>>,
    /// Whether the client is disabled.
    pub(crate) revoked: Option<bool>,
    /// The client's public keys as a JWK Set, for `private_key_jwt` (RFC 7591 §2).
    pub(crate) jwks: Option<Value>,
    /// Where the client publishes its JWK Set.
    pub(crate) jwks_uri: Option<String>,
    /// `public` or `pairwise` subject identifiers (OpenID Connect Core §8).
    pub(crate) subject_type: Option<SubjectType>,
    /// The URL whose host is the client's pairwise sector.
    pub(crate) sector_identifier_uri: Option<String>,
    /// Whether the client must use pushed authorization requests (RFC 9126 §6).
    pub(crate) require_pushed_authorization_requests: Option<bool>,
    /// Whether the client's access tokens must be DPoP-bound (RFC 9449 §5.2).
    pub(crate) dpop_bound_access_tokens: Option<bool>,
}

impl ClientInput {
    /// Reads a JSON object of the admin API (DESIGN §4.1). A field that is `null` counts as
    /// absent; an unknown field is an error, so a typo is never silently ignored.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] naming every field with a problem.
    pub(crate) fn from_json(body: Value, mode: InputMode) -> Result<ClientInput, AdminError> {
        let Value::Object(object) = body else {
            return Err(AdminError::field("body", "must be a JSON object"));
        };
        let kind_given = object
            .get("application_type")
            .is_some_and(|kind| !kind.is_null());
        let mut input = ClientInput::default();
        let mut problems = Vec::new();
        for (key, value) in object {
            if value.is_null() {
                continue;
            }
            if let Err(problem) = input.set(&key, value, mode) {
                problems.push(problem);
            }
        }
        if mode == InputMode::Create && !kind_given {
            problems.push(FieldMessage::new(
                "application_type",
                "is required: web, spa, native, m2m or resource_owner",
            ));
        }
        if problems.is_empty() {
            Ok(input)
        } else {
            Err(AdminError::Invalid(problems))
        }
    }

    /// Sets the field `key` from `value`.
    fn set(&mut self, key: &str, value: Value, mode: InputMode) -> Result<(), FieldMessage> {
        let problem = |message: &str| FieldMessage::new(key, message);
        match key {
            "client_id" if mode == InputMode::Update => {
                return Err(problem("cannot be changed"));
            }
            "client_id" => self.client_id = Some(string(key, value)?),
            "name" => self.name = Some(string(key, value)?),
            "description" => self.description = Some(string(key, value)?),
            "application_type" => {
                self.application_type =
                    Some(ClientKind::from_str(&string(key, value)?).map_err(|_| {
                        problem("must be one of web, spa, native, m2m, resource_owner")
                    })?);
            }
            "grant_types" => {
                let names = strings(key, value)?;
                let mut grants = Vec::with_capacity(names.len());
                for name in names {
                    grants.push(GrantType::from_str(&name).map_err(|_| {
                        FieldMessage::new(
                            key,
                            format!(
                                "unknown grant type {name:?}: expected one of {}",
                                GrantType::ALL.map(GrantType::as_str).join(", ")
                            ),
                        )
                    })?);
                }
                self.grant_types = Some(grants);
            }
            "redirect_uris" => self.redirect_uris = Some(strings(key, value)?),
            "post_logout_redirect_uris" => {
                self.post_logout_redirect_uris = Some(strings(key, value)?);
            }
            "scopes" => {
                self.scopes = Some(match value {
                    Value::String(all) if all == "all" => ScopesInput::All,
                    value => ScopesInput::List(
                        strings(key, value)
                            .map_err(|_| problem("must be \"all\" or an array of scope names"))?,
                    ),
                });
            }
            "token_endpoint_auth_method" => {
                self.token_endpoint_auth_method = Some(
                    TokenEndpointAuthMethod::from_str(&string(key, value)?).map_err(|_| {
                        problem(
                            "must be one of client_secret_basic, client_secret_post, \
                             client_secret_jwt, private_key_jwt, none",
                        )
                    })?,
                );
            }
            "access_token_lifetime_secs" => {
                self.access_token_lifetime_secs = Some(seconds(key, &value)?);
            }
            "refresh_token_lifetime_secs" => {
                self.refresh_token_lifetime_secs = Some(seconds(key, &value)?);
            }
            "access_token_format" => {
                self.access_token_format = Some(
                    serde_json::from_value(value)
                        .map_err(|_| problem("must be \"opaque\" or \"jwt\""))?,
                );
            }
            "introspect_any" => self.introspect_any = Some(boolean(key, &value)?),
            "revoked" => self.revoked = Some(boolean(key, &value)?),
            "roles" => self.roles = Some(roles(key, value)?),
            "jwks" if value.is_object() => self.jwks = Some(value),
            "jwks" => return Err(problem("must be a JWK Set object {\"keys\": [...]}")),
            "jwks_uri" => self.jwks_uri = Some(string(key, value)?),
            "subject_type" => {
                self.subject_type = Some(
                    serde_json::from_value(value)
                        .map_err(|_| problem("must be \"public\" or \"pairwise\""))?,
                );
            }
            "sector_identifier_uri" => self.sector_identifier_uri = Some(string(key, value)?),
            "require_pushed_authorization_requests" => {
                self.require_pushed_authorization_requests = Some(boolean(key, &value)?);
            }
            "dpop_bound_access_tokens" => {
                self.dpop_bound_access_tokens = Some(boolean(key, &value)?);
            }
            "client_secret" => {
                return Err(problem(
                    "is generated by the server; rotate it with POST /admin/clients/{id}/secret",
                ));
            }
            _ => return Err(problem("unknown field")),
        }
        Ok(())
    }

    /// Applies every given field to `builder`.
    fn apply(self, mut builder: NewClient) -> NewClient {
        if let Some(id) = self.client_id {
            builder = builder.client_id(id);
        }
        if let Some(name) = self.name {
            builder = builder.name(name);
        }
        if let Some(kind) = self.application_type {
            builder = builder.kind(kind);
        }
        if let Some(description) = self.description {
            builder = builder.description(description);
        }
        if let Some(grants) = self.grant_types {
            builder = builder.grant_types(grants);
        }
        if let Some(uris) = self.redirect_uris {
            builder = builder.redirect_uris(uris);
        }
        if let Some(uris) = self.post_logout_redirect_uris {
            builder = builder.post_logout_redirect_uris(uris);
        }
        match self.scopes {
            Some(ScopesInput::All) => builder = builder.all_scopes(),
            Some(ScopesInput::List(scopes)) => builder = builder.scopes(scopes),
            None => {}
        }
        if let Some(method) = self.token_endpoint_auth_method {
            builder = builder.auth_method(method);
        }
        if let Some(secs) = self.access_token_lifetime_secs {
            builder = builder.access_token_lifetime_secs(secs);
        }
        if let Some(secs) = self.refresh_token_lifetime_secs {
            builder = builder.refresh_token_lifetime_secs(secs);
        }
        if let Some(format) = self.access_token_format {
            builder = builder.access_token_format(format);
        }
        if let Some(introspect_any) = self.introspect_any {
            builder = builder.introspect_any(introspect_any);
        }
        if let Some(roles) = self.roles {
            builder = builder.roles(roles);
        }
        if let Some(revoked) = self.revoked {
            builder = builder.revoked(revoked);
        }
        if let Some(jwks) = self.jwks {
            builder = builder.jwks(jwks);
        }
        if let Some(uri) = self.jwks_uri {
            builder = builder.jwks_uri(uri);
        }
        if let Some(subject_type) = self.subject_type {
            builder = builder.subject_type(subject_type);
        }
        if let Some(uri) = self.sector_identifier_uri {
            builder = builder.sector_identifier_uri(uri);
        }
        if let Some(required) = self.require_pushed_authorization_requests {
            builder = builder.require_pushed_authorization_requests(required);
        }
        if let Some(bound) = self.dpop_bound_access_tokens {
            builder = builder.dpop_bound_access_tokens(bound);
        }
        builder
    }
}

fn string(field: &str, value: Value) -> Result<String, FieldMessage> {
    match value {
        Value::String(text) => Ok(text),
        _ => Err(FieldMessage::new(field, "must be a string")),
    }
}

fn strings(field: &str, value: Value) -> Result<Vec<String>, FieldMessage> {
    let wrong = || FieldMessage::new(field, "must be an array of strings");
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                _ => Err(wrong()),
            })
            .collect(),
        _ => Err(wrong()),
    }
}

fn boolean(field: &str, value: &Value) -> Result<bool, FieldMessage> {
    value
        .as_bool()
        .ok_or_else(|| FieldMessage::new(field, "must be true or false"))
}

/// A whole number of seconds; numbers too large for `u32` become `u32::MAX`, which the
/// registry then reports as out of range with the allowed range in the message.
fn seconds(field: &str, value: &Value) -> Result<u32, FieldMessage> {
    value
        .as_u64()
        .map(|secs| u32::try_from(secs).unwrap_or(u32::MAX))
        .ok_or_else(|| FieldMessage::new(field, "must be a whole number of seconds"))
}

fn roles(field: &str, value: Value) -> Result<Vec<RoleAssignment>, FieldMessage> {
    let Value::Array(items) = value else {
        return Err(FieldMessage::new(
            field,
            "must be an array of {\"role\", \"division\"?} objects",
        ));
    };
    let mut roles = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let at = format!("{field}[{index}]");
        let Value::Object(mut object) = item else {
            return Err(FieldMessage::new(
                at,
                "must be an object {\"role\", \"division\"?}",
            ));
        };
        let role = match object.remove("role") {
            Some(Value::String(role)) => role,
            _ => return Err(FieldMessage::new(at, "role must be a string")),
        };
        let division = match object.remove("division") {
            None | Some(Value::Null) => None,
            Some(Value::String(division)) => Some(division),
            Some(_) => return Err(FieldMessage::new(at, "division must be a string")),
        };
        if let Some(unknown) = object.keys().next() {
            return Err(FieldMessage::new(at, format!("unknown field {unknown:?}")));
        }
        roles.push(RoleAssignment {
            role,
            division: division.filter(|division| !division.is_empty()),
        });
    }
    Ok(roles)
}

/// A client as the admin API shows it: every stored field under its wire name, never the
/// secret hash; `client_secret` only when a secret was just issued.
pub(crate) fn client_json(client: &Client, secret: Option<&ClientSecret>) -> Value {
    let mut object = match serde_json::to_value(client) {
        Ok(Value::Object(object)) => object,
        // A client always serializes to an object; keep the id if it ever does not.
        _ => Map::from_iter([("client_id".to_owned(), Value::from(client.id.as_str()))]),
    };
    // Never the secret's hash, nor the sealed copy kept for client_secret_jwt.
    object.remove("secret_hash");
    object.remove("sealed_secret");
    // The same shape as the input: plain URI strings (the registry's form also carries each
    // URI's match rule, which follows from the client's kind).
    for (key, uris) in [
        ("redirect_uris", &client.redirect_uris),
        (
            "post_logout_redirect_uris",
            &client.post_logout_redirect_uris,
        ),
    ] {
        object.insert(
            key.to_owned(),
            uris.iter().map(|uri| Value::from(uri.as_str())).collect(),
        );
    }
    if let Some(secret) = secret {
        object.insert(
            "client_secret".to_owned(),
            Value::from(secret.expose_secret()),
        );
    }
    Value::Object(object)
}

/// The URLs a client is configured with (`GET /admin/clients/{id}/endpoints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ClientEndpoints {
    /// The client.
    pub(crate) client_id: String,
    /// The issuer identifier.
    pub(crate) issuer: String,
    /// OpenID Connect discovery document.
    pub(crate) discovery_url: String,
    /// Authorization endpoint.
    pub(crate) authorization_url: String,
    /// Token endpoint.
    pub(crate) token_url: String,
    /// End-session (logout) endpoint.
    pub(crate) logout_url: String,
    /// UserInfo endpoint.
    pub(crate) userinfo_url: String,
    /// JWK Set.
    pub(crate) jwks_url: String,
    /// Introspection endpoint.
    pub(crate) introspection_url: String,
    /// Revocation endpoint.
    pub(crate) revocation_url: String,
}

impl Admin {
    /// Registers a client; a confidential one gets a secret, shown this once.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] naming each bad field (an unknown scope is named),
    /// [`AdminError::Conflict`] for a chosen client id that exists, store failures.
    pub(crate) async fn create_client(
        &self,
        mut input: ClientInput,
    ) -> Result<IssuedClient, AdminError> {
        let kind = input
            .application_type
            .ok_or_else(|| AdminError::field("application_type", "is required"))?;
        let name = input.name.take().unwrap_or_default();
        let catalog = self.provider.scope_catalog().await?;
        let mut issued = build(input.apply(NewClient::new(name, kind)), &catalog)?;
        self.seal_secret(&mut issued)?;
        match self.store().insert_client(issued.client.clone()).await {
            Ok(()) => {
                tracing::info!(client_id = %issued.client.id, kind = %kind, "client created");
                self.provider.events().emit(Event::ClientCreated {
                    client_id: issued.client.id.to_string(),
                });
                Ok(issued)
            }
            Err(StoreError::Conflict { .. }) => Err(AdminError::Conflict {
                what: "client",
                key: issued.client.id.to_string(),
                field: "client_id",
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// Every client, by id.
    pub(crate) async fn list_clients(&self) -> Result<Vec<Client>, AdminError> {
        let mut clients = Vec::new();
        let mut page = Page::first(LIST_PAGE);
        loop {
            let batch = self.store().list_clients(page.clone()).await?;
            let full = batch.len() == LIST_PAGE;
            page.after = batch.last().map(|client| client.id.clone());
            clients.extend(batch);
            if !full {
                return Ok(clients);
            }
        }
    }

    /// The client `id`.
    ///
    /// # Errors
    ///
    /// [`AdminError::NotFound`] when there is none (or `id` cannot be a client id).
    pub(crate) async fn get_client(&self, id: &str) -> Result<Client, AdminError> {
        let not_found = || AdminError::NotFound {
            what: "client",
            key: id.to_owned(),
        };
        let id = ClientId::new(id).map_err(|_| not_found())?;
        self.store().get_client(&id).await?.ok_or_else(not_found)
    }

    /// Edits the client `id` with the given fields, re-validating the whole client. Revoking
    /// it revokes every token it holds in the same store operation. The answer carries a
    /// secret only if the client just became confidential.
    pub(crate) async fn update_client(
        &self,
        id: &str,
        input: ClientInput,
    ) -> Result<IssuedClient, AdminError> {
        let _turn = self.writes.lock().await;
        let current = self.get_client(id).await?;
        let catalog = self.provider.scope_catalog().await?;
        let revoking = input.revoked == Some(true) && !current.revoked;
        let restoring = input.revoked == Some(false) && current.revoked;
        let mut issued = build(input.apply(NewClient::from_client(&current)), &catalog)?;
        self.seal_secret(&mut issued)?;
        match self.store().update_client(issued.client.clone()).await {
            Ok(()) => {}
            Err(StoreError::NotFound { .. }) => {
                return Err(AdminError::NotFound {
                    what: "client",
                    key: id.to_owned(),
                });
            }
            Err(err) => return Err(err.into()),
        }
        if revoking {
            tracing::info!(client_id = %issued.client.id, "client revoked with its tokens");
        } else {
            tracing::info!(client_id = %issued.client.id, "client updated");
        }
        // A change of the revoked flag is `client.revoked` (true or false); any other edit
        // is `client.updated`.
        let client_id = issued.client.id.to_string();
        self.provider.events().emit(if revoking || restoring {
            Event::ClientRevoked {
                client_id,
                revoked: revoking,
            }
        } else {
            Event::ClientUpdated { client_id }
        });
        Ok(issued)
    }

    /// Disables (or re-enables) the client `id`: the console's **Revoked** toggle.
    pub(crate) async fn set_revoked(&self, id: &str, revoked: bool) -> Result<Client, AdminError> {
        let input = ClientInput {
            revoked: Some(revoked),
            ..ClientInput::default()
        };
        Ok(self.update_client(id, input).await?.client)
    }

    /// Deletes the client `id` and revokes its tokens.
    pub(crate) async fn delete_client(&self, id: &str) -> Result<(), AdminError> {
        let _turn = self.writes.lock().await;
        let client = self.get_client(id).await?;
        if self.store().delete_client(&client.id).await? {
            tracing::info!(client_id = %client.id, "client deleted");
            self.provider.events().emit(Event::ClientDeleted {
                client_id: client.id.to_string(),
            });
            Ok(())
        } else {
            Err(AdminError::NotFound {
                what: "client",
                key: id.to_owned(),
            })
        }
    }

    /// Gives the client `id` a new secret, shown this once; the old one stops working.
    ///
    /// # Errors
    ///
    /// [`AdminError::Invalid`] for a public client, which has no secret.
    pub(crate) async fn rotate_secret(&self, id: &str) -> Result<IssuedClient, AdminError> {
        let _turn = self.writes.lock().await;
        let mut client = self.get_client(id).await?;
        let secret = client.rotate_secret().map_err(|err| match err {
            RegistryError::PublicClientHasNoSecret => AdminError::field(
                "client_secret",
                format!("{} clients are public and have no secret", client.kind),
            ),
            other => AdminError::Internal(other.to_string()),
        })?;
        let mut issued = IssuedClient {
            client,
            secret: Some(secret),
        };
        self.seal_secret(&mut issued)?;
        self.store().update_client(issued.client.clone()).await?;
        tracing::info!(client_id = %issued.client.id, "client secret rotated");
        self.provider.events().emit(Event::ClientSecretRotated {
            client_id: issued.client.id.to_string(),
        });
        Ok(issued)
    }

    /// A `client_secret_jwt` client needs a sealed copy of its secret (the provider checks
    /// a MAC made with it): seals the secret just issued, or issues a new one (shown once)
    /// when the client switched to the method keeping a secret that was never sealed.
    fn seal_secret(&self, issued: &mut IssuedClient) -> Result<(), AdminError> {
        if issued.client.auth_method != TokenEndpointAuthMethod::ClientSecretJwt
            || (issued.secret.is_none() && issued.client.sealed_secret.is_some())
        {
            return Ok(());
        }
        let secret = match issued.secret.take() {
            Some(secret) => secret,
            None => issued
                .client
                .rotate_secret()
                .map_err(|err| AdminError::Internal(err.to_string()))?,
        };
        self.provider
            .seal_client_secret(&mut issued.client, &secret)
            .map_err(|err| match err {
                SealClientSecretError::NoSealingKey => AdminError::field(
                    "token_endpoint_auth_method",
                    "client_secret_jwt needs the server's --secret-sealing-key",
                ),
                other => AdminError::Internal(other.to_string()),
            })?;
        issued.secret = Some(secret);
        Ok(())
    }

    /// The URLs the client `id` is configured with.
    pub(crate) async fn client_endpoints(&self, id: &str) -> Result<ClientEndpoints, AdminError> {
        let client = self.get_client(id).await?;
        let issuer = self.provider.issuer();
        let paths = self.provider.paths();
        let url = |path: &str| format!("{issuer}{path}");
        Ok(ClientEndpoints {
            client_id: client.id.to_string(),
            issuer: issuer.to_owned(),
            discovery_url: url(&self.provider.openid_configuration_path()),
            authorization_url: url(&paths.authorize),
            token_url: url(&paths.token),
            logout_url: url(&paths.end_session),
            userinfo_url: url(&paths.userinfo),
            jwks_url: url(&paths.jwks),
            introspection_url: url(&paths.introspect),
            revocation_url: url(&paths.revoke),
        })
    }
}

/// Builds through the registry's rules, turning its verdict into field messages.
fn build(
    builder: NewClient,
    catalog: &portcullis_registry::ScopeCatalog,
) -> Result<IssuedClient, AdminError> {
    builder
        .build(catalog)
        .map_err(|errors| match validation::from_registry(errors) {
            Ok(fields) => AdminError::Invalid(fields),
            Err(reason) => AdminError::Internal(reason),
        })
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(err: AdminError) -> Vec<String> {
        err.fields().into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn create_needs_an_application_type() {
        let err = ClientInput::from_json(json!({"name": "x"}), InputMode::Create).unwrap_err();
        assert_eq!(fields(err), ["application_type"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = ClientInput::from_json(
            json!({
                "name": 5,
                "application_type": "desktop",
                "grant_types": ["magic"],
                "scopes": 7,
                "access_token_lifetime_secs": -1,
                "roles": [{"division": "x"}],
                "colour": "blue",
            }),
            InputMode::Create,
        )
        .unwrap_err();
        let mut names = fields(err);
        names.sort();
        assert_eq!(
            names,
            [
                "access_token_lifetime_secs",
                "application_type",
                "colour",
                "grant_types",
                "name",
                "roles[0]",
                "scopes",
            ]
        );
    }

    #[test]
    fn update_cannot_change_the_id() {
        let err =
            ClientInput::from_json(json!({"client_id": "other"}), InputMode::Update).unwrap_err();
        assert_eq!(fields(err), ["client_id"]);
    }

    #[test]
    fn nulls_are_absent_and_all_means_all() {
        let input = ClientInput::from_json(
            json!({"application_type": "m2m", "name": "svc", "description": null, "scopes": "all"}),
            InputMode::Create,
        )
        .unwrap();
        assert_eq!(input.description, None);
        assert_eq!(input.scopes, Some(ScopesInput::All));
        assert_eq!(input.application_type, Some(ClientKind::Machine));
    }

    #[test]
    fn huge_lifetimes_reach_the_range_check() {
        let input = ClientInput::from_json(
            json!({"application_type": "m2m", "access_token_lifetime_secs": 99_999_999_999_u64}),
            InputMode::Create,
        )
        .unwrap();
        assert_eq!(input.access_token_lifetime_secs, Some(u32::MAX));
    }

    #[test]
    fn the_view_never_shows_the_secret_hash() {
        let catalog = portcullis_registry::ScopeCatalog::with_oidc_scopes();
        let issued = NewClient::new("svc", ClientKind::Machine)
            .build(&catalog)
            .unwrap();
        assert!(issued.client.secret_hash.is_some());
        let view = client_json(&issued.client, issued.secret.as_ref());
        assert!(view.get("secret_hash").is_none());
        assert!(
            !view
                .to_string()
                .contains(&issued.client.secret_hash.unwrap().to_hex())
        );
        assert_eq!(
            view["client_secret"],
            issued.secret.as_ref().unwrap().expose_secret()
        );
        assert_eq!(view["application_type"], "m2m");
        assert_eq!(view["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(view["grant_types"], json!(["client_credentials"]));
        assert_eq!(view["redirect_uris"], json!([]));
    }

    #[test]
    fn redirect_uris_are_shown_as_given() {
        let catalog = portcullis_registry::ScopeCatalog::with_oidc_scopes();
        let issued = NewClient::new("cli", ClientKind::Native)
            .redirect_uri("http://127.0.0.1/callback")
            .post_logout_redirect_uri("http://127.0.0.1/bye")
            .build(&catalog)
            .unwrap();
        let view = client_json(&issued.client, None);
        assert_eq!(view["redirect_uris"], json!(["http://127.0.0.1/callback"]));
        assert_eq!(
            view["post_logout_redirect_uris"],
            json!(["http://127.0.0.1/bye"])
        );
        assert!(view.get("client_secret").is_none());
    }
}
