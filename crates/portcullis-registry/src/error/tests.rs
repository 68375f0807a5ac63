#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::error::Error as _;

use super::*;
use crate::client::{ClientId, ClientKind};
use crate::new_client::NewClient;
use crate::redirect::RedirectUri;
use crate::scope::{Scope, ScopeCatalog};

/// Narrow errors convert with `?`, keeping their message.
#[test]
fn narrow_errors_convert() {
    fn scope() -> Result<Scope, RegistryError> {
        Ok(Scope::new("a b")?)
    }
    fn redirect() -> Result<RedirectUri, RegistryError> {
        Ok(RedirectUri::parse("http://a.example/", ClientKind::Web)?)
    }
    fn client_id() -> Result<ClientId, RegistryError> {
        Ok(ClientId::new("")?)
    }
    fn client() -> Result<(), RegistryError> {
        NewClient::new("", ClientKind::Machine).build(&ScopeCatalog::new())?;
        Ok(())
    }

    let cases = [
        (scope().unwrap_err(), "invalid character in scope at byte 1"),
        (
            redirect().unwrap_err(),
            "http redirect uris must use a loopback host",
        ),
        (
            client_id().unwrap_err(),
            "invalid client id: must not be empty",
        ),
        (
            client().unwrap_err(),
            "invalid client: name: must not be empty",
        ),
        (
            RegistryError::PublicClientHasNoSecret,
            "public clients have no secret",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
        // Display is lowercase and terse: no capital first letter, no trailing period.
        assert!(!text.starts_with(char::is_uppercase) && !text.ends_with('.'));
        // A message is never repeated by its source.
        if let Some(source) = error.source() {
            assert!(!text.contains(&source.to_string()), "{text}");
        }
    }
}
