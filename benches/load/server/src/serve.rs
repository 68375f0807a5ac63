//! `serve`: the provider under load.

use std::error::Error;
use std::io::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use portcullis_axum::{Bearer, Provider, Resource};
use portcullis_grants::{Authenticator, BoxError};
use portcullis_registry::{
    ClientKind, ClientSecret, NewClient, Scope, ScopeCatalog, ScopeDefinition,
};
use portcullis_resource::{JwtValidator, StoreValidator};
use portcullis_store::{MemoryStore, Store};
use portcullis_store_sql::{PostgresStore, SqliteStore};
use portcullis_tokens::{KeySet, SigningAlgorithm, SigningKey, Subject};

/// The one user of the benchmark and the password it signs in with.
pub(crate) const USER: (&str, &str) = ("alice", "load-test-password");
/// The confidential web client of the authorization-code flow.
pub(crate) const WEB_CLIENT: &str = "bench-web";
/// Its redirect URI (nothing listens there: the driver reads the code from `Location`).
pub(crate) const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";
/// The machine client of the client-credentials, introspection and protected-route runs.
pub(crate) const M2M_CLIENT: &str = "bench-m2m";
/// The PostgreSQL schema the benchmark owns (dropped and recreated at start).
const PG_SCHEMA: &str = "portcullis_load";

/// `serve` options.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:38471")]
    bind: String,
    /// `memory`, `sqlite` or `postgres`.
    #[arg(long, default_value = "memory")]
    store: String,
    /// Access token format: `opaque`, or JWTs signed with `es256`, `eddsa` or `rs256`.
    #[arg(long, default_value = "opaque")]
    format: String,
    /// The SQLite file (deleted first).
    #[arg(long, default_value = "target/load-bench.db")]
    sqlite_path: String,
    /// The PostgreSQL server.
    #[arg(
        long,
        env = "PORTCULLIS_TEST_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres: String,
}

/// The benchmark's user directory: one user.
struct Users;

#[async_trait]
impl Authenticator for Users {
    async fn authenticate(&self, user: &str, password: &str) -> Result<Option<Subject>, BoxError> {
        let known = user == USER.0 && password == USER.1;
        Ok(known.then(|| Subject::new(USER.0)).transpose()?)
    }
}

/// The protected routes' answer: who is calling.
async fn me(Bearer(token): Bearer) -> impl IntoResponse {
    let body = serde_json::json!({
        "subject": token.subject.map(String::from),
        "client_id": token.client_id.to_string(),
    });
    ([(CONTENT_TYPE, "application/json")], body.to_string())
}

async fn open_store(args: &Args) -> Result<Arc<dyn Store>, Box<dyn Error>> {
    Ok(match args.store.as_str() {
        "memory" => Arc::new(MemoryStore::new()),
        "sqlite" => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", args.sqlite_path));
            }
            // The load server is the database's only writer: the read cache is safe.
            let store = SqliteStore::connect(&format!("sqlite://{}?mode=rwc", args.sqlite_path))
                .await?
                .with_read_cache_ttl(portcullis_store_sql::CACHE_TTL);
            store.migrate().await?;
            Arc::new(store)
        }
        "postgres" => {
            // One instance: the read cache is safe (see portcullis_store_sql::CACHE_TTL).
            let store = PostgresStore::connect_in_schema(&args.postgres, PG_SCHEMA)
                .await?
                .with_read_cache_ttl(portcullis_store_sql::CACHE_TTL);
            // A clean schema for every run: drop what the last one left.
            sqlx::query("DROP SCHEMA IF EXISTS portcullis_load CASCADE")
                .execute(store.pool())
                .await?;
            sqlx::query("CREATE SCHEMA portcullis_load")
                .execute(store.pool())
                .await?;
            store.migrate().await?;
            Arc::new(store)
        }
        other => return Err(format!("unknown store {other:?}").into()),
    })
}

fn algorithm(format: &str) -> Result<Option<SigningAlgorithm>, Box<dyn Error>> {
    Ok(match format {
        "opaque" => None,
        "es256" => Some(SigningAlgorithm::ES256),
        "eddsa" => Some(SigningAlgorithm::EdDSA),
        "rs256" => Some(SigningAlgorithm::RS256),
        other => return Err(format!("unknown format {other:?}").into()),
    })
}

/// Serves until killed. Prints `ready client_id=… client_secret=… web_secret=…` once it
/// accepts connections.
pub(crate) async fn run(args: Args) -> Result<(), Box<dyn Error>> {
    let issuer = format!("http://{}", args.bind);
    let store = open_store(&args).await?;
    let algorithm = algorithm(&args.format)?;

    let api = ScopeDefinition::new(Scope::new("api")?, "Call the API");
    store.insert_scope(api.clone()).await?;
    let mut catalog = ScopeCatalog::with_oidc_scopes();
    catalog.insert(api)?;
    let m2m = NewClient::new("Load m2m", ClientKind::Machine)
        .client_id(M2M_CLIENT)
        .scopes(["api"])
        .introspect_any(true)
        .build(&catalog)?;
    let web = NewClient::new("Load web", ClientKind::Web)
        .client_id(WEB_CLIENT)
        .redirect_uri(REDIRECT_URI)
        .scopes(["openid", "api"])
        .build(&catalog)?;
    let secret = |issued: &portcullis_registry::IssuedClient| {
        issued
            .secret
            .as_ref()
            .map(ClientSecret::expose_secret)
            .unwrap_or_default()
            .to_owned()
    };
    let (m2m_secret, web_secret) = (secret(&m2m), secret(&web));
    store.insert_client(m2m.client).await?;
    store.insert_client(web.client).await?;

    let keys = KeySet::new(SigningKey::generate(
        algorithm.unwrap_or(SigningAlgorithm::ES256),
    )?);
    let mut builder = Provider::builder(issuer.clone(), store.clone())
        .signing_keys(keys)
        .authenticator(Users);
    if algorithm.is_some() {
        builder = builder.jwt_access_tokens();
    }
    let provider = builder.build()?;

    let keys = provider.clone();
    let by_store = Resource::new(
        StoreValidator::new(store.clone()).with_keys(move || keys.signing_keys(), issuer.clone()),
    );
    let by_jwt = Resource::new(
        JwtValidator::builder(
            issuer.clone(),
            issuer.clone(),
            format!("{issuer}/oauth/jwks"),
        )
        .build()?,
    );
    let app = Router::new()
        .merge(
            Router::new()
                .route("/api/store", get(me))
                .layer(Extension(by_store)),
        )
        .merge(
            Router::new()
                .route("/api/jwt", get(me))
                .layer(Extension(by_jwt)),
        )
        .merge(portcullis_axum::router(provider));

    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    println!("ready client_id={M2M_CLIENT} client_secret={m2m_secret} web_secret={web_secret}");
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
