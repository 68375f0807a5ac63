//! Client metadata (RFC 7591 §2, OpenID Connect Dynamic Client Registration 1.0 §2) read
//! from JSON into a [`NewClient`], and a [`Client`] written back as metadata
//! (RFC 7591 §3.2.1).
//!
//! Reading only shapes the input: every rule the registry knows (redirect URIs, grant types
//! per kind, scopes in the catalog, `jwks` and `jwks_uri`, …) is left to
//! [`NewClient::build`], so a client registered here obeys exactly the rules of one created
//! by an administrator. What is checked here is what the registry cannot know: JSON types,
//! wire names, and the consistency of `grant_types` with `response_types` (RFC 7591 §2.1).

use std::collections::BTreeSet;
use std::str::FromStr;

use portcullis_grants::authorization_request::ResponseType;
use portcullis_registry::{
    AllowedScopes, Client, ClientKind, GrantType, NewClient, ScopeCatalog, SubjectType,
    TokenEndpointAuthMethod,
};
use serde_json::{Map, Value, json};

use super::RegistrationError;

/// The name a client gets when it registers none (`client_name` is optional, RFC 7591 §2,
/// but the registry and the consent page need one).
pub(crate) const DEFAULT_CLIENT_NAME: &str = "Unnamed client";

/// `application_type` (OpenID Connect Dynamic Client Registration 1.0 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApplicationType {
    /// `web`, the default.
    Web,
    /// `native`.
    Native,
}

/// The client metadata of a registration or update request, shaped but not yet validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metadata {
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) auth_method: Option<TokenEndpointAuthMethod>,
    pub(crate) grant_types: Option<Vec<GrantType>>,
    pub(crate) response_types: Option<Vec<ResponseType>>,
    pub(crate) client_name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) scope: Option<Vec<String>>,
    pub(crate) jwks: Option<Value>,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) application_type: Option<ApplicationType>,
    pub(crate) post_logout_redirect_uris: Vec<String>,
    pub(crate) subject_type: Option<SubjectType>,
    pub(crate) sector_identifier_uri: Option<String>,
    pub(crate) dpop_bound_access_tokens: bool,
    pub(crate) require_pushed_authorization_requests: bool,
    /// Only meaningful in an update (RFC 7592 §2.2); ignored at registration, where the
    /// server chooses the id.
    pub(crate) client_id: Option<String>,
    /// Only meaningful in an update (RFC 7592 §2.2): must equal the current secret.
    pub(crate) client_secret: Option<String>,
}

fn invalid(field: &str, problem: &str) -> RegistrationError {
    RegistrationError::InvalidClientMetadata(format!("{field}: {problem}"))
}

/// The member `name`, treating `null` as absent (RFC 7592 §2.2: "The authorization server
/// MAY ignore any null or empty value in the request just as any other value").
fn member<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn string(object: &Map<String, Value>, name: &str) -> Result<Option<String>, RegistrationError> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(invalid(name, "must be a string")),
    }
}

fn strings(
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<String>>, RegistrationError> {
    match member(object, name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.clone()),
                _ => Err(invalid(name, "must be an array of strings")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid(name, "must be an array of strings")),
    }
}

fn boolean(object: &Map<String, Value>, name: &str) -> Result<bool, RegistrationError> {
    match member(object, name) {
        None => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(invalid(name, "must be true or false")),
    }
}

/// Parses a wire name with `FromStr`, reporting an unknown one against `field`.
fn named<T: FromStr>(field: &str, value: &str) -> Result<T, RegistrationError> {
    value
        .parse()
        .map_err(|_| invalid(field, &format!("{} is not supported", shown(value))))
}

/// A client-supplied value fit to repeat in a description: short, printable ASCII.
fn shown(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect();
    format!("\"{cleaned}\"")
}

impl Metadata {
    /// Reads the metadata of a JSON object. Members this server does not know are ignored
    /// (RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by the
    /// client that it does not understand").
    pub(crate) fn from_json(body: &[u8]) -> Result<Metadata, RegistrationError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| {
            RegistrationError::InvalidClientMetadata("the body is not valid JSON".into())
        })?;
        let Value::Object(object) = value else {
            return Err(RegistrationError::InvalidClientMetadata(
                "the body must be a JSON object of client metadata".into(),
            ));
        };
        let o = &object;
        let auth_method = string(o, "token_endpoint_auth_method")?
            .map(|method| named::<TokenEndpointAuthMethod>("token_endpoint_auth_method", &method))
            .transpose()?;
        let grant_types = strings(o, "grant_types")?
            .map(|grants| {
                grants
                    .iter()
                    .map(|grant| named::<GrantType>("grant_types", grant))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let response_types = strings(o, "response_types")?
            .map(|types| {
                types
                    .iter()
                    .map(|value| named::<ResponseType>("response_types", value))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let application_type = match string(o, "application_type")?.as_deref() {
            None => None,
            Some("web") => Some(ApplicationType::Web),
            Some("native") => Some(ApplicationType::Native),
            Some(other) => {
                return Err(invalid(
                    "application_type",
                    &format!("{} is not web or native", shown(other)),
                ));
            }
        };
        let subject_type = match string(o, "subject_type")?.as_deref() {
            None => None,
            Some("public") => Some(SubjectType::Public),
            Some("pairwise") => Some(SubjectType::Pairwise),
            Some(other) => {
                return Err(invalid(
                    "subject_type",
                    &format!("{} is not public or pairwise", shown(other)),
                ));
            }
        };
        let jwks = match member(o, "jwks") {
            None => None,
            Some(value @ Value::Object(_)) => Some(value.clone()),
            Some(_) => return Err(invalid("jwks", "must be a JWK Set object")),
        };
        let jwks_uri = string(o, "jwks_uri")?;
        if jwks.is_some() && jwks_uri.is_some() {
            // RFC 7591 §2: "The "jwks_uri" and "jwks" parameters MUST NOT both be present in
            // the same request or response."
            return Err(invalid(
                "jwks",
                "jwks and jwks_uri must not both be present",
            ));
        }
        let scope = string(o, "scope")?.map(|scope| {
            scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        });
        Ok(Metadata {
            redirect_uris: strings(o, "redirect_uris")?.unwrap_or_default(),
            auth_method,
            grant_types,
            response_types,
            client_name: string(o, "client_name")?,
            description: string(o, "description")?,
            scope,
            jwks,
            jwks_uri,
            application_type,
            post_logout_redirect_uris: strings(o, "post_logout_redirect_uris")?.unwrap_or_default(),
            subject_type,
            sector_identifier_uri: string(o, "sector_identifier_uri")?,
            dpop_bound_access_tokens: boolean(o, "dpop_bound_access_tokens")?,
            require_pushed_authorization_requests: boolean(
                o,
                "require_pushed_authorization_requests",
            )?,
            client_id: string(o, "client_id")?,
            client_secret: string(o, "client_secret")?,
        })
    }

    /// The token endpoint authentication method: as registered, or the default, which is
    /// `client_secret_basic` (RFC 7591 §2) except for native applications, which get `none`
    /// (RFC 8252 §8.4: a secret compiled into an app is not a secret).
    pub(crate) fn auth_method(&self) -> TokenEndpointAuthMethod {
        self.auth_method
            .unwrap_or(if self.application_type == Some(ApplicationType::Native) {
                TokenEndpointAuthMethod::None
            } else {
                TokenEndpointAuthMethod::ClientSecretBasic
            })
    }

    /// The grant types: as registered, or `authorization_code` (RFC 7591 §2 default).
    pub(crate) fn grant_types(&self) -> BTreeSet<GrantType> {
        match &self.grant_types {
            Some(grants) => grants.iter().copied().collect(),
            None => [GrantType::AuthorizationCode].into(),
        }
    }

    /// The registry kind, from `application_type` and the authentication method:
    ///
    /// | `application_type` | auth method | grants | kind |
    /// |---|---|---|---|
    /// | `web` | `none` | any | [`ClientKind::Spa`] (public) |
    /// | `native` | `none` | any | [`ClientKind::Native`] (public) |
    /// | `web` | any other | only grants without a user or redirect, `client_credentials` among them | [`ClientKind::Machine`] |
    /// | `web` | any other | anything else | [`ClientKind::Web`] |
    /// | `native` | any other | — | refused: native apps are public clients here |
    pub(crate) fn kind(&self) -> Result<ClientKind, RegistrationError> {
        let native = self.application_type == Some(ApplicationType::Native);
        let method = self.auth_method();
        if !method.is_confidential() {
            return Ok(if native {
                ClientKind::Native
            } else {
                ClientKind::Spa
            });
        }
        if native {
            return Err(invalid(
                "token_endpoint_auth_method",
                "native applications are public clients and must use none (RFC 8252 §8.4)",
            ));
        }
        let grants = self.grant_types();
        let machine = grants.contains(&GrantType::ClientCredentials)
            && grants
                .iter()
                .all(|grant| ClientKind::Machine.permits_grant(*grant));
        Ok(if machine {
            ClientKind::Machine
        } else {
            ClientKind::Web
        })
    }

    /// RFC 7591 §2.1: the grant types and response types must agree. Every response type
    /// needs the grants it belongs to (`code` the authorization code grant, `token` and
    /// `id_token` the implicit grant), and every grant that uses the authorization endpoint
    /// needs a response type. Without `response_types`, they follow the grant types.
    pub(crate) fn check_consistency(&self) -> Result<(), RegistrationError> {
        let Some(response_types) = &self.response_types else {
            return Ok(());
        };
        let grants = self.grant_types();
        for response_type in response_types {
            if let Some(missing) = response_type
                .grant_types()
                .iter()
                .find(|grant| !grants.contains(grant))
            {
                return Err(invalid(
                    "response_types",
                    &format!(
                        "response type \"{}\" needs the {} grant type (RFC 7591 §2.1)",
                        response_type.as_str(),
                        missing.as_str()
                    ),
                ));
            }
        }
        for grant in grants.iter().filter(|grant| grant.uses_redirect_uri()) {
            if !response_types
                .iter()
                .any(|response_type| response_type.grant_types().contains(grant))
            {
                return Err(invalid(
                    "grant_types",
                    &format!(
                        "grant type {} needs a matching response type (RFC 7591 §2.1)",
                        grant.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The [`NewClient`] this metadata describes, for the registry to validate. `scopes` are
    /// the scopes to allow (the caller has applied the registration policy).
    pub(crate) fn new_client(&self, kind: ClientKind, scopes: Vec<String>) -> NewClient {
        let name = self
            .client_name
            .clone()
            .unwrap_or_else(|| DEFAULT_CLIENT_NAME.to_owned());
        let mut new = NewClient::new(name, kind)
            .auth_method(self.auth_method())
            .grant_types(self.grant_types())
            .redirect_uris(self.redirect_uris.iter().cloned())
            .post_logout_redirect_uris(self.post_logout_redirect_uris.iter().cloned())
            .scopes(scopes)
            .subject_type(self.subject_type.unwrap_or_default())
            .dpop_bound_access_tokens(self.dpop_bound_access_tokens)
            .require_pushed_authorization_requests(self.require_pushed_authorization_requests);
        if let Some(description) = &self.description {
            new = new.description(description.clone());
        }
        if let Some(jwks) = &self.jwks {
            new = new.jwks(jwks.clone());
        }
        if let Some(uri) = &self.jwks_uri {
            new = new.jwks_uri(uri.clone());
        }
        if let Some(uri) = &self.sector_identifier_uri {
            new = new.sector_identifier_uri(uri.clone());
        }
        new
    }
}

/// The response types the authorization endpoint accepts from `client`: every supported
/// one whose grants the client holds (RFC 7591 §2.1).
pub(crate) fn response_types(client: &Client) -> Vec<&'static str> {
    ResponseType::ALL
        .into_iter()
        .filter(|response_type| {
            response_type
                .grant_types()
                .iter()
                .all(|grant| client.allows_grant(*grant))
        })
        .map(ResponseType::as_str)
        .collect()
}

/// The client as registered metadata (RFC 7591 §3.2.1: "all registered metadata about the
/// client, including any fields provisioned by the authorization server itself"). Never
/// the secret, its hash or a sealed copy; the caller adds the credentials.
pub(crate) fn client_metadata(client: &Client, catalog: &ScopeCatalog) -> Map<String, Value> {
    let scope = match &client.allowed_scopes {
        AllowedScopes::All => catalog
            .iter()
            .map(|definition| definition.name.as_str().to_owned())
            .collect::<Vec<_>>()
            .join(" "),
        AllowedScopes::List(list) => list.to_string(),
    };
    let uris = |uris: &[portcullis_registry::RedirectUri]| {
        uris.iter()
            .map(|uri| Value::String(uri.as_str().to_owned()))
            .collect::<Vec<_>>()
    };
    let application_type = if client.kind == ClientKind::Native {
        "native"
    } else {
        "web"
    };
    let mut metadata = Map::new();
    metadata.insert("client_id".into(), json!(client.id.as_str()));
    metadata.insert("client_name".into(), json!(client.name));
    if !client.description.is_empty() {
        metadata.insert("description".into(), json!(client.description));
    }
    metadata.insert("application_type".into(), json!(application_type));
    metadata.insert(
        "redirect_uris".into(),
        Value::Array(uris(&client.redirect_uris)),
    );
    metadata.insert(
        "token_endpoint_auth_method".into(),
        json!(client.auth_method.as_str()),
    );
    metadata.insert(
        "grant_types".into(),
        json!(
            client
                .grant_types
                .iter()
                .map(|grant| grant.as_str())
                .collect::<Vec<_>>()
        ),
    );
    metadata.insert("response_types".into(), json!(response_types(client)));
    metadata.insert("scope".into(), json!(scope));
    if !client.post_logout_redirect_uris.is_empty() {
        metadata.insert(
            "post_logout_redirect_uris".into(),
            Value::Array(uris(&client.post_logout_redirect_uris)),
        );
    }
    if let Some(jwks) = &client.jwks {
        metadata.insert("jwks".into(), jwks.clone());
    }
    if let Some(uri) = &client.jwks_uri {
        metadata.insert("jwks_uri".into(), json!(uri));
    }
    let subject_type = match client.subject_type {
        SubjectType::Public => "public",
        SubjectType::Pairwise => "pairwise",
    };
    metadata.insert("subject_type".into(), json!(subject_type));
    if let Some(uri) = &client.sector_identifier_uri {
        metadata.insert("sector_identifier_uri".into(), json!(uri));
    }
    metadata.insert(
        "dpop_bound_access_tokens".into(),
        json!(client.dpop_bound_access_tokens),
    );
    metadata.insert(
        "require_pushed_authorization_requests".into(),
        json!(client.require_pushed_authorization_requests),
    );
    metadata
}
