//! `--demo`: a demo user, four `…:users` scopes and one client of each type, seeded through
//! the same admin operations as the API, and ready-to-paste commands to try them.
//!
//! Seeding is idempotent: what exists is kept (never duplicated), what is missing is
//! created. Secrets and passwords are stored only as hashes, so each `--demo` start gives
//! the demo user a new password and the confidential demo clients new secrets, to be able
//! to print working ones; tokens issued before stay valid.

use std::fmt::Write as _;

use portcullis_registry::{ClientKind, GrantType, IssuedClient, RoleAssignment};
use portcullis_tokens::random_identifier;

use crate::admin::{Admin, AdminError, ClientInput, ScopeInput, ScopesInput};
use crate::users::NewUser;

/// The loopback port of the demo web and SPA clients' redirect URI (where `local-client`
/// can listen).
pub(crate) const DEMO_REDIRECT_PORT: u16 = 8400;

/// The demo user's username.
pub(crate) const DEMO_USERNAME: &str = "demo";

/// The scopes the demo seeds.
const DEMO_SCOPES: [(&str, &str); 4] = [
    ("view:users", "See the list of users"),
    ("create:users", "Create users"),
    ("update:users", "Change users"),
    ("delete:users", "Delete users"),
];

/// One demo client as seeded.
#[derive(Debug, Clone)]
pub(crate) struct DemoClient {
    /// Its id, `demo-<kind>`.
    pub(crate) id: &'static str,
    /// Its kind.
    pub(crate) kind: ClientKind,
    /// Its secret (confidential clients), new at this start.
    pub(crate) secret: Option<String>,
    /// Its first redirect URI, if it has one.
    pub(crate) redirect_uri: Option<String>,
    /// Its roles.
    pub(crate) roles: Vec<RoleAssignment>,
    /// Whether this start created it.
    pub(crate) created: bool,
}

/// What `--demo` seeded, to print.
#[derive(Debug, Clone)]
pub(crate) struct Demo {
    /// The demo user's password, new at this start.
    pub(crate) password: String,
    /// One client of each type.
    pub(crate) clients: Vec<DemoClient>,
}

impl Demo {
    fn client(&self, kind: ClientKind) -> Option<&DemoClient> {
        self.clients.iter().find(|client| client.kind == kind)
    }
}

/// The demo clients: id, kind, and how each differs from its kind's defaults.
fn demo_clients() -> Vec<(&'static str, ClientInput)> {
    let web_redirect = format!("http://127.0.0.1:{DEMO_REDIRECT_PORT}/callback");
    let list = |scopes: &[&str]| {
        Some(ScopesInput::List(
            scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        ))
    };
    let input = |name: &str, kind: ClientKind| ClientInput {
        name: Some(name.to_owned()),
        application_type: Some(kind),
        ..ClientInput::default()
    };
    vec![
        (
            "demo-web",
            ClientInput {
                description: Some("A server-side web app (authorization code).".into()),
                redirect_uris: Some(vec![web_redirect.clone()]),
                scopes: Some(ScopesInput::All),
                ..input("Demo web app", ClientKind::Web)
            },
        ),
        (
            "demo-spa",
            ClientInput {
                description: Some("A single-page app (authorization code + PKCE).".into()),
                redirect_uris: Some(vec![web_redirect]),
                scopes: list(&["openid", "profile", "email", "view:users"]),
                ..input("Demo single-page app", ClientKind::Spa)
            },
        ),
        (
            "demo-native",
            ClientInput {
                description: Some(
                    "A command-line, mobile or TV app (PKCE with a loopback redirect on any \
                     port, or the device flow)."
                        .into(),
                ),
                grant_types: Some(vec![
                    GrantType::AuthorizationCode,
                    GrantType::RefreshToken,
                    GrantType::DeviceCode,
                ]),
                redirect_uris: Some(vec!["http://127.0.0.1/callback".into()]),
                scopes: list(&["openid", "profile", "email", "offline_access", "view:users"]),
                ..input("Demo native app", ClientKind::Native)
            },
        ),
        (
            "demo-m2m",
            ClientInput {
                description: Some(
                    "A service acting as itself (client credentials); may introspect any token."
                        .into(),
                ),
                scopes: list(&["view:users", "create:users", "update:users", "delete:users"]),
                roles: Some(vec![RoleAssignment::new("user-admin", None)]),
                introspect_any: Some(true),
                ..input("Demo service", ClientKind::Machine)
            },
        ),
        (
            "demo-password",
            ClientInput {
                description: Some("A trusted first-party app (password grant).".into()),
                scopes: list(&["openid", "profile", "email", "offline_access", "view:users"]),
                ..input("Demo password app", ClientKind::ResourceOwner)
            },
        ),
    ]
}

/// Seeds the demo data through `admin`, creating what is missing and refreshing the demo
/// user's password and the confidential demo clients' secrets.
pub(crate) async fn seed(admin: &Admin) -> Result<Demo, AdminError> {
    for (name, description) in DEMO_SCOPES {
        let scope = ScopeInput {
            name: name.to_owned(),
            description: description.to_owned(),
        };
        match admin.create_scope(scope).await {
            Ok(_) | Err(AdminError::Conflict { .. }) => {}
            Err(err) => return Err(err),
        }
    }

    let password = random_identifier()
        .map_err(|err| AdminError::Internal(err.to_string()))?
        .chars()
        .take(16)
        .collect::<String>();
    let user = NewUser {
        username: DEMO_USERNAME.to_owned(),
        password: password.clone(),
        name: Some("Demo User".to_owned()),
        email: Some("demo@example.com".to_owned()),
    };
    match admin.create_user(user).await {
        Ok(_) => {}
        Err(AdminError::Conflict { .. }) => {
            admin.set_password(DEMO_USERNAME, password.clone()).await?;
        }
        Err(err) => return Err(err),
    }

    let mut clients = Vec::new();
    for (id, input) in demo_clients() {
        let kind = input.application_type.unwrap_or(ClientKind::Web);
        let (issued, created) = match admin.get_client(id).await {
            Ok(client) if client.is_public() => (
                IssuedClient {
                    client,
                    secret: None,
                },
                false,
            ),
            Ok(_) => (admin.rotate_secret(id).await?, false),
            Err(AdminError::NotFound { .. }) => {
                let input = ClientInput {
                    client_id: Some(id.to_owned()),
                    ..input
                };
                (admin.create_client(input).await?, true)
            }
            Err(err) => return Err(err),
        };
        clients.push(DemoClient {
            id,
            kind,
            secret: issued
                .secret
                .as_ref()
                .map(|secret| secret.expose_secret().to_owned()),
            redirect_uri: issued
                .client
                .redirect_uris
                .first()
                .map(|uri| uri.as_str().to_owned()),
            roles: issued.client.roles.clone(),
            created,
        });
    }
    Ok(Demo { password, clients })
}

/// The demo's part of the start-up message: credentials and commands to paste.
pub(crate) fn instructions(demo: &Demo, issuer: &str) -> String {
    let mut out = String::new();
    let scopes: Vec<&str> = DEMO_SCOPES.iter().map(|(name, _)| *name).collect();
    let _ = writeln!(
        out,
        "Demo data (--demo; the password and secrets below are new at every --demo start):"
    );
    let _ = writeln!(out, "  user {DEMO_USERNAME}: password {}", demo.password);
    let _ = writeln!(out, "  scopes: {}", scopes.join(" "));
    for client in &demo.clients {
        let mut line = format!("  client {} ({})", client.id, client.kind);
        match &client.secret {
            Some(secret) => {
                let _ = write!(line, ": secret {secret}");
            }
            None => line.push_str(": public, no secret"),
        }
        if let Some(uri) = &client.redirect_uri {
            let _ = write!(line, ", redirect_uri {uri}");
        }
        for role in &client.roles {
            let _ = write!(line, ", role {}", role.role);
            if let Some(division) = &role.division {
                let _ = write!(line, " in {division}");
            }
        }
        if client.created {
            line.push_str(" (created)");
        }
        let _ = writeln!(out, "{line}");
    }

    let secret_of = |kind| {
        demo.client(kind)
            .and_then(|client| client.secret.clone())
            .unwrap_or_default()
    };
    let m2m = secret_of(ClientKind::Machine);
    let password_app = secret_of(ClientKind::ResourceOwner);
    let password = &demo.password;
    let extract = r#"sed 's/.*"access_token":"\([^"]*\)".*/\1/'"#;
    let _ = write!(
        out,
        r#"
Try it:
  # 1. A token for the service (client credentials), introspected, then used on the API:
  TOKEN=$(curl -s -u 'demo-m2m:{m2m}' -d grant_type=client_credentials -d 'scope=view:users' {issuer}/oauth/token | {extract})
  curl -s -u 'demo-m2m:{m2m}' -d "token=$TOKEN" {issuer}/oauth/introspect
  curl -s -H "Authorization: Bearer $TOKEN" {issuer}/api/users

  # 2. A token for the demo user (password grant), then UserInfo:
  TOKEN=$(curl -s -u 'demo-password:{password_app}' -d grant_type=password -d username={DEMO_USERNAME} -d 'password={password}' -d 'scope=openid profile email' {issuer}/oauth/token | {extract})
  curl -s -H "Authorization: Bearer $TOKEN" {issuer}/oauth/userinfo

  # 3. Sign in through the browser (authorization code + PKCE) with local-client
  #    (comes with the local-client tool):
  cargo run -p local-client -- --issuer {issuer} --client-id demo-native --redirect-uri http://127.0.0.1/callback --scope 'openid profile email' login --open

  # 4. Sign in on a device without a browser (device authorization grant, RFC 8628):
  cargo run -p local-client -- --issuer {issuer} --client-id demo-native --scope 'openid profile' device
"#
    );
    out
}
