//! Console forms: `application/x-www-form-urlencoded` bodies, read into the same inputs the
//! admin API builds from JSON ([`ClientInput`], [`ScopeInput`], [`NewUser`]) so both go
//! through one set of rules; and the messages those rules give, placed next to their field.

use std::collections::BTreeMap;
use std::str::FromStr;

use portcullis_registry::{
    AccessTokenFormat, ClientKind, GrantType, RoleAssignment, TokenEndpointAuthMethod,
};

use crate::admin::{ClientInput, ScopeInput, ScopesInput};
use crate::users::NewUser;
use crate::validation::FieldMessage;

/// A submitted form: every name/value pair, in order (checkboxes repeat a name).
#[derive(Debug, Clone, Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Reads a urlencoded body.
    pub(crate) fn parse(body: &[u8]) -> Form {
        Form {
            pairs: url::form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// The first value of `name`, or `""`.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// Whether the checkbox `name` was ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }
}

/// The problems to show, by form field: `redirect_uris[2]` is shown under `redirect_uris`
/// as "line 3: …".
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldErrors {
    by_field: BTreeMap<String, Vec<String>>,
}

impl FieldErrors {
    /// Places each message next to its field.
    pub(crate) fn new(messages: &[FieldMessage]) -> FieldErrors {
        let mut by_field: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for message in messages {
            let (field, text) = match message.field.split_once('[') {
                Some((field, rest)) => {
                    let line = rest
                        .trim_end_matches(']')
                        .parse::<usize>()
                        .map_or_else(|_| rest.to_owned(), |index| (index + 1).to_string());
                    (
                        field.to_owned(),
                        format!("line {line}: {}", message.message),
                    )
                }
                None => (message.field.clone(), message.message.clone()),
            };
            by_field.entry(field).or_default().push(text);
        }
        FieldErrors { by_field }
    }

    /// The messages for `field` (empty when it is fine).
    pub(crate) fn of(&self, field: &str) -> &[String] {
        self.by_field.get(field).map_or(&[], Vec::as_slice)
    }

    /// Messages for fields the form does not show (so they are not lost).
    pub(crate) fn others(&self, shown: &[&str]) -> Vec<String> {
        self.by_field
            .iter()
            .filter(|(field, _)| !shown.contains(&field.as_str()))
            .flat_map(|(field, messages)| {
                messages
                    .iter()
                    .map(move |message| format!("{field}: {message}"))
            })
            .collect()
    }
}

/// The fields of the new-client form, as the administrator typed them (kept to refill the
/// form when something is wrong).
#[derive(Debug, Clone)]
pub(crate) struct ClientForm {
    /// Display name.
    pub(crate) name: String,
    /// Description.
    pub(crate) description: String,
    /// `web`, `spa`, `native`, `m2m` or `resource_owner`.
    pub(crate) application_type: String,
    /// One URI per line.
    pub(crate) redirect_uris: String,
    /// One URI per line.
    pub(crate) post_logout_redirect_uris: String,
    /// Whether *All scopes* is ticked.
    pub(crate) all_scopes: bool,
    /// The ticked scopes.
    pub(crate) scopes: Vec<String>,
    /// The ticked grant types (none: the type's defaults).
    pub(crate) grant_types: Vec<String>,
    /// Empty for the type's default.
    pub(crate) token_endpoint_auth_method: String,
    /// Seconds, as typed.
    pub(crate) access_token_lifetime_secs: String,
    /// `opaque` or `jwt`.
    pub(crate) access_token_format: String,
    /// One assignment per line: `role` or `role division`.
    pub(crate) roles: String,
    /// Whether the client may introspect any token.
    pub(crate) introspect_any: bool,
}

impl Default for ClientForm {
    fn default() -> ClientForm {
        ClientForm {
            name: String::new(),
            description: String::new(),
            application_type: "web".to_owned(),
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            all_scopes: false,
            scopes: vec!["openid".to_owned(), "profile".to_owned()],
            grant_types: Vec::new(),
            token_endpoint_auth_method: String::new(),
            access_token_lifetime_secs: portcullis_registry::DEFAULT_ACCESS_TOKEN_LIFETIME_SECS
                .to_string(),
            access_token_format: "opaque".to_owned(),
            roles: String::new(),
            introspect_any: false,
        }
    }
}

impl ClientForm {
    /// The form's fields from a submitted body.
    pub(crate) fn from_form(form: &Form) -> ClientForm {
        ClientForm {
            name: form.get("name").to_owned(),
            description: form.get("description").to_owned(),
            application_type: form.get("application_type").to_owned(),
            redirect_uris: form.get("redirect_uris").to_owned(),
            post_logout_redirect_uris: form.get("post_logout_redirect_uris").to_owned(),
            all_scopes: form.checked("all_scopes"),
            scopes: form.all("scope"),
            grant_types: form.all("grant_type"),
            token_endpoint_auth_method: form.get("token_endpoint_auth_method").to_owned(),
            access_token_lifetime_secs: form.get("access_token_lifetime_secs").to_owned(),
            access_token_format: form.get("access_token_format").to_owned(),
            roles: form.get("roles").to_owned(),
            introspect_any: form.checked("introspect_any"),
        }
    }

    /// Whether the scope `name` is ticked.
    pub(crate) fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|scope| scope == name)
    }

    /// Whether the grant type `name` is ticked.
    pub(crate) fn has_grant(&self, name: &str) -> bool {
        self.grant_types.iter().any(|grant| grant == name)
    }

    /// The same input the admin API would build, or every problem the form alone shows
    /// (the registry's rules run after, in [`crate::admin::Admin::create_client`]).
    pub(crate) fn to_input(&self) -> Result<ClientInput, Vec<FieldMessage>> {
        let mut problems = Vec::new();
        let mut input = ClientInput {
            name: Some(self.name.trim().to_owned()),
            ..ClientInput::default()
        };
        let description = self.description.trim();
        if !description.is_empty() {
            input.description = Some(description.to_owned());
        }
        match ClientKind::from_str(self.application_type.trim()) {
            Ok(kind) => input.application_type = Some(kind),
            Err(_) => problems.push(FieldMessage::new("application_type", "choose a type")),
        }
        input.redirect_uris = lines(&self.redirect_uris);
        input.post_logout_redirect_uris = lines(&self.post_logout_redirect_uris);
        input.scopes = Some(if self.all_scopes {
            ScopesInput::All
        } else {
            ScopesInput::List(self.scopes.clone())
        });
        if !self.grant_types.is_empty() {
            let mut grants = Vec::new();
            for name in &self.grant_types {
                match GrantType::from_str(name) {
                    Ok(grant) => grants.push(grant),
                    Err(_) => problems.push(FieldMessage::new(
                        "grant_types",
                        format!("unknown grant type {name:?}"),
                    )),
                }
            }
            input.grant_types = Some(grants);
        }
        let method = self.token_endpoint_auth_method.trim();
        if !method.is_empty() {
            match TokenEndpointAuthMethod::from_str(method) {
                Ok(method) => input.token_endpoint_auth_method = Some(method),
                Err(_) => problems.push(FieldMessage::new(
                    "token_endpoint_auth_method",
                    "must be one of client_secret_basic, client_secret_post, none",
                )),
            }
        }
        let lifetime = self.access_token_lifetime_secs.trim();
        if !lifetime.is_empty() {
            match lifetime.parse::<u64>() {
                Ok(secs) => {
                    input.access_token_lifetime_secs =
                        Some(u32::try_from(secs).unwrap_or(u32::MAX));
                }
                Err(_) => problems.push(FieldMessage::new(
                    "access_token_lifetime_secs",
                    "must be a whole number of seconds",
                )),
            }
        }
        match self.access_token_format.trim() {
            "" => {}
            "opaque" => input.access_token_format = Some(AccessTokenFormat::Opaque),
            "jwt" => input.access_token_format = Some(AccessTokenFormat::Jwt),
            _ => problems.push(FieldMessage::new(
                "access_token_format",
                "must be opaque or jwt",
            )),
        }
        let mut roles = Vec::new();
        for (index, line) in self
            .roles
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .enumerate()
        {
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(role), division, None) => roles.push(RoleAssignment::new(role, division)),
                _ => problems.push(FieldMessage::new(
                    format!("roles[{index}]"),
                    "write a role, or a role and a division, separated by a space",
                )),
            }
        }
        if !roles.is_empty() {
            input.roles = Some(roles);
        }
        if self.introspect_any {
            input.introspect_any = Some(true);
        }
        if problems.is_empty() {
            Ok(input)
        } else {
            Err(problems)
        }
    }
}

/// The non-blank lines of a textarea, trimmed; `None` when there are none.
fn lines(text: &str) -> Option<Vec<String>> {
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    (!lines.is_empty()).then_some(lines)
}

/// The scope form's input.
pub(crate) fn scope_input(form: &Form) -> ScopeInput {
    ScopeInput {
        name: form.get("name").to_owned(),
        description: form.get("description").to_owned(),
    }
}

/// The user form's input; blank optional fields are absent.
pub(crate) fn new_user(form: &Form) -> NewUser {
    let optional = |name: &str| {
        let value = form.get(name).trim();
        (!value.is_empty()).then(|| value.to_owned())
    };
    NewUser {
        username: form.get("username").to_owned(),
        password: form.get("password").to_owned(),
        name: optional("name"),
        email: optional("email"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn checkboxes_repeat_and_text_is_decoded() {
        let form = Form::parse(b"name=My+app&scope=openid&scope=view%3Ausers&all_scopes=on");
        assert_eq!(form.get("name"), "My app");
        assert_eq!(form.all("scope"), ["openid", "view:users"]);
        assert!(form.checked("all_scopes"));
        assert!(!form.checked("introspect_any"));
        assert_eq!(form.get("missing"), "");
    }

    #[test]
    fn a_machine_client_form_becomes_the_api_input() {
        let form = Form::parse(
            b"name=Export&application_type=m2m&redirect_uris=%0D%0A&scope=view%3Ausers\
              &access_token_lifetime_secs=600&roles=reader%0D%0Awriter+emea%0D%0A%0D%0A",
        );
        let input = ClientForm::from_form(&form).to_input().unwrap();
        assert_eq!(input.name.as_deref(), Some("Export"));
        assert_eq!(input.application_type, Some(ClientKind::Machine));
        assert_eq!(input.redirect_uris, None);
        assert_eq!(
            input.scopes,
            Some(ScopesInput::List(vec!["view:users".into()]))
        );
        assert_eq!(input.access_token_lifetime_secs, Some(600));
        assert_eq!(
            input.roles,
            Some(vec![
                RoleAssignment::new("reader", None),
                RoleAssignment::new("writer", Some("emea")),
            ])
        );
        assert_eq!(input.grant_types, None);
    }

    #[test]
    fn form_mistakes_are_named_by_field() {
        let form = Form::parse(
            b"name=x&application_type=desktop&access_token_lifetime_secs=soon\
              &roles=a+b+c&grant_type=magic&access_token_format=paper",
        );
        let problems = ClientForm::from_form(&form).to_input().unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "application_type",
                "grant_types",
                "access_token_lifetime_secs",
                "access_token_format",
                "roles[0]"
            ]
        );
        let errors = FieldErrors::new(&problems);
        assert_eq!(
            errors.of("roles"),
            ["line 1: write a role, or a role and a division, separated by a space"]
        );
        assert!(errors.of("name").is_empty());
        assert_eq!(errors.others(&["application_type", "roles"]).len(), 3);
    }

    #[test]
    fn indexed_fields_become_lines() {
        let errors = FieldErrors::new(&[FieldMessage::new("redirect_uris[1]", "must be absolute")]);
        assert_eq!(errors.of("redirect_uris"), ["line 2: must be absolute"]);
    }
}
