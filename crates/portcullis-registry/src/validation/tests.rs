#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

/// Field paths are the wire names of DESIGN §4.1.
#[test]
fn design_4_1_field_paths_are_wire_names() {
    let cases = [
        (Field::ClientId, "client_id"),
        (Field::Name, "name"),
        (Field::Description, "description"),
        (Field::ApplicationType, "application_type"),
        (Field::GrantTypes, "grant_types"),
        (Field::RedirectUris, "redirect_uris"),
        (Field::RedirectUri(2), "redirect_uris[2]"),
        (Field::Scopes, "scopes"),
        (Field::TokenEndpointAuthMethod, "token_endpoint_auth_method"),
        (Field::AccessTokenLifetimeSecs, "access_token_lifetime_secs"),
        (
            Field::RefreshTokenLifetimeSecs,
            "refresh_token_lifetime_secs",
        ),
        (Field::Roles, "roles"),
        (Field::Role(0), "roles[0]"),
        (Field::ClientSecret, "client_secret"),
    ];
    for (field, path) in cases {
        assert_eq!(field.to_string(), path);
    }
}

#[test]
fn reasons_read_as_human_sentences() {
    let cases = [
        (FieldErrorReason::Required, "must not be empty"),
        (
            FieldErrorReason::GrantNotAllowed {
                grant: GrantType::Password,
                kind: ClientKind::Spa,
            },
            "password is not allowed for spa clients",
        ),
        (
            FieldErrorReason::AuthMethodNotAllowed {
                method: TokenEndpointAuthMethod::None,
                kind: ClientKind::Web,
            },
            "none is not allowed for web clients",
        ),
        (
            FieldErrorReason::InvalidRedirectUri(RedirectUriError::Fragment),
            "redirect uri has a fragment",
        ),
        (
            FieldErrorReason::InvalidRole(IdentifierError::Empty),
            "invalid role: must not be empty",
        ),
        (
            FieldErrorReason::LifetimeOutOfRange { min: 300, max: 600 },
            "must be between 300 and 600 seconds",
        ),
    ];
    for (reason, text) in cases {
        assert_eq!(reason.to_string(), text);
    }
}

#[test]
fn validation_errors_are_never_empty() {
    assert!(ValidationErrors::from_errors(Vec::new()).is_none());
    let one = FieldError::new(Field::Name, FieldErrorReason::Required);
    let errors = ValidationErrors::from_errors(vec![one.clone()]).unwrap();
    assert_eq!(errors.errors(), std::slice::from_ref(&one));
    assert_eq!(errors, ValidationErrors::single(one.clone()));
    assert_eq!(
        errors.to_string(),
        "invalid client: name: must not be empty"
    );
    assert_eq!(one.to_string(), "name: must not be empty");
    assert_eq!(errors.into_errors(), [one]);
}
