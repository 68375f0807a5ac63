//! The least code that embeds a portcullis provider in an actix-web app: an in-memory store,
//! one user, two clients, the provider's endpoints with the default login and consent
//! pages, and one protected route. `cargo run -p minimal-actix`, then follow what it prints.

use std::error::Error;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use async_trait::async_trait;
use portcullis_actix::{Bearer, Provider, RequireScope, Resource, configure};
use portcullis_grants::{Authenticator, BoxError};
use portcullis_registry::{
    ClientKind, ClientSecret, NewClient, Scope, ScopeCatalog, ScopeDefinition,
};
use portcullis_resource::StoreValidator;
use portcullis_store::{ClientStore, MemoryStore, ScopeStore};
use portcullis_tokens::Subject;
use serde_json::json;

/// The app's users: just alice. A real app checks its own user table (and a password hash).
struct DemoUsers {
    password: String,
}

#[async_trait]
impl Authenticator for DemoUsers {
    async fn authenticate(&self, user: &str, password: &str) -> Result<Option<Subject>, BoxError> {
        let ok = user == "alice" && password == self.password;
        Ok(if ok {
            Some(Subject::new("alice")?)
        } else {
            None
        })
    }
}

/// `GET /api/me`: who is calling, as the access token says.
async fn me(Bearer(token): Bearer) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "subject": token.subject.map(String::from),
        "client_id": token.client_id.to_string(),
        "scopes": token.scopes.iter().map(Scope::as_str).collect::<Vec<_>>(),
    }))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8082".into());
    let base = format!("http://127.0.0.1:{port}");

    // Storage, with one application scope.
    let store = Arc::new(MemoryStore::new());
    let api_scope = ScopeDefinition::new(Scope::new("api")?, "Call the demo API");
    store.insert_scope(api_scope.clone()).await?;
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog.insert(api_scope)?;

    // A service that calls the API as itself (client credentials)...
    let service = NewClient::new("Demo service", ClientKind::Machine)
        .client_id("demo-service")
        .scopes(["api"])
        .build(&catalog)?;
    let secret = service
        .secret
        .as_ref()
        .map(ClientSecret::expose_secret)
        .unwrap_or_default()
        .to_owned();
    store.insert_client(service.client).await?;
    // ...and a command-line app that acts for alice (authorization code + PKCE, loopback).
    let cli = NewClient::new("Demo CLI", ClientKind::Native)
        .client_id("demo-cli")
        .redirect_uri("http://127.0.0.1/callback")
        .scopes(["openid", "api"])
        .build(&catalog)?;
    store.insert_client(cli.client).await?;

    let password = ClientSecret::generate()?
        .expose_secret()
        .chars()
        .take(12)
        .collect::<String>();
    let provider = Provider::builder(base.clone(), store.clone())
        .authenticator(DemoUsers {
            password: password.clone(),
        })
        .build()?;
    let resource = Resource::new(StoreValidator::new(store)).realm("minimal-actix");

    let server = HttpServer::new(move || {
        App::new()
            .app_data(resource.clone())
            .configure(configure(provider.clone()))
            .service(
                web::resource("/api/me")
                    .wrap(RequireScope::new("api"))
                    .route(web::get().to(me)),
            )
    })
    // actix-web's own Ctrl-C handling is a forced shutdown; ours lets requests finish.
    .disable_signals()
    .bind(("127.0.0.1", port.parse::<u16>()?))?
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            handle.stop(true).await;
        }
    });
    print_how_to_try(&base, &secret, &password);
    server.await?;
    Ok(())
}

fn print_how_to_try(base: &str, secret: &str, password: &str) {
    // RFC 7636 Appendix B's verifier and challenge: fine for a demo, never for a real client.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    println!(
        r#"portcullis minimal-actix provider on {base} (Ctrl-C to stop)

1. A token for the service (client credentials), then call the API with it:

   TOKEN=$(curl -s -u 'demo-service:{secret}' -d grant_type=client_credentials -d scope=api \
     {base}/oauth/token | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
   curl -s -H "Authorization: Bearer $TOKEN" {base}/api/me

2. As alice (password: {password}), in a browser:

   {base}/oauth/authorize?response_type=code&client_id=demo-cli&scope=openid%20api&redirect_uri=http://127.0.0.1/callback&state=xyz&code_challenge={challenge}&code_challenge_method=S256

   Sign in and allow; the browser lands on http://127.0.0.1/callback?code=... (nothing
   listens there: copy the code from the address bar), then:

   curl -s -d grant_type=authorization_code -d client_id=demo-cli -d code=PASTE_CODE \
     -d redirect_uri=http://127.0.0.1/callback -d code_verifier={verifier} {base}/oauth/token
"#
    );
}
