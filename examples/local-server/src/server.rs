//! Start-up and shutdown: the database (migrated, plus the users table), signing keys kept
//! in the store, the expired-record sweeper, the provider with its login and consent pages,
//! the admin API, the protected API, the request log, and a graceful stop on Ctrl-C or
//! SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use portcullis_endpoints::{ConfigError, Provider, SigningKeyError, load_or_create_signing_keys};
use portcullis_store::{DeviceAuthorizationStore, Store};
use portcullis_store_sql::{SqlStore, SqlStoreError, spawn_sweeper};
use portcullis_tokens::SigningAlgorithm;
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::admin::{self, Admin, AdminError, AdminToken};
use crate::config::Config;
use crate::console;
use crate::demo;
use crate::extension_grants::{self, ExtensionGrantError};
use crate::logging::{self, BodyLimit};
use crate::standards;
use portcullis_events::{EventHandler, EventQueue, Fanout};
use portcullis_store_sql::AuditLog;

/// Latency histogram buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Events waiting for the audit log (and webhooks) at most; more are dropped and counted.
const EVENT_QUEUE_CAPACITY: usize = 10_000;
use crate::users::{UserError, Users};

/// How often expired codes, tokens and sessions are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How many expired records one sweep deletes at most per batch.
const SWEEP_BATCH: usize = 1_000;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServerError {
    /// `--admin-token` is unusable.
    #[error("invalid --admin-token: {0}")]
    AdminToken(&'static str),
    /// No admin token could be generated.
    #[error("cannot generate an admin token: {0}")]
    GenerateToken(#[source] portcullis_tokens::TokenError),
    /// The database could not be opened.
    #[error("cannot open the database {url}")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// Why.
        #[source]
        source: SqlStoreError,
    },
    /// The schema could not be migrated.
    #[error("cannot migrate the database")]
    Migrate(#[source] SqlStoreError),
    /// The users table could not be opened.
    #[error("cannot open the users table")]
    Users(#[source] UserError),
    /// The signing keys could not be loaded or created.
    #[error("cannot load the signing keys")]
    Keys(#[source] SigningKeyError),
    /// The provider's configuration was refused (for example an `http` issuer off loopback).
    #[error("invalid provider configuration")]
    Provider(#[source] ConfigError),
    /// An extension grant's configuration is unusable (an IdP certificate file, …).
    #[error("cannot enable an extension grant")]
    ExtensionGrant(#[from] ExtensionGrantError),
    /// A setting of the advanced standards (issue 11) is unusable.
    #[error("invalid setting: {0}")]
    Standards(String),
    /// Seeding the demo data failed.
    #[error("cannot seed the demo data")]
    Demo(#[source] AdminError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("the server failed")]
    Serve(#[source] std::io::Error),
}

/// Starts everything, serves until Ctrl-C or SIGTERM, then stops gracefully.
pub(crate) async fn run(config: Config) -> Result<(), ServerError> {
    let issuer = config.issuer();
    let (admin_token, generated_token) = match &config.admin_token {
        Some(token) if token.trim().is_empty() => return Err(ServerError::AdminToken("empty")),
        Some(token) if token.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            return Err(ServerError::AdminToken("spaces or control characters"));
        }
        Some(token) => (AdminToken::new(token), None),
        None => {
            let token = AdminToken::generate().map_err(ServerError::GenerateToken)?;
            (AdminToken::new(&token), Some(token))
        }
    };

    let store = SqlStore::connect(&config.database)
        .await
        .map_err(|source| ServerError::Connect {
            url: redact(&config.database),
            source,
        })?;
    store.migrate().await.map_err(ServerError::Migrate)?;
    let users = Users::open(&store).await.map_err(ServerError::Users)?;
    let backend = store.backend();
    let store = Arc::new(store);
    let keys = load_or_create_signing_keys(
        store.as_ref(),
        SigningAlgorithm::ES256,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(ServerError::Keys)?;
    let mut builder = Provider::builder(issuer.clone(), store.clone() as Arc<dyn Store>)
        .signing_keys(keys)
        .authenticator(users.clone())
        .claims(users.clone())
        .code_ttl(time::Duration::seconds(i64::from(config.code_ttl_secs)))
        .device_flow(store.clone() as Arc<dyn DeviceAuthorizationStore>);
    builder = extension_grants::register(builder, &config, &issuer, &store)?;
    builder = standards::register(builder, &config, &store)?;
    // Every event goes to the audit log in the same database, through a bounded queue so
    // recording never slows a response (issue 12).
    let audit = AuditLog::new(store.as_ref().clone());
    let handlers: Vec<Arc<dyn EventHandler>> = vec![Arc::new(audit.clone())];
    let events = EventQueue::spawn(Fanout::new(handlers), EVENT_QUEUE_CAPACITY);
    builder = builder.events(Arc::new(events));
    let provider = builder.build().map_err(ServerError::Provider)?;
    let mut admin = Admin::new(provider.clone(), users.clone()).with_audit(audit);
    // The process-wide recorder the provider's metrics go to; a second server in the same
    // process (tests) keeps the first one's.
    // Latencies as real histograms (buckets from 0.5 ms to 2.5 s), not summaries.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().set_buckets_for_metric(
        metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
        &LATENCY_BUCKETS,
    );
    match recorder.and_then(|recorder| recorder.install_recorder()) {
        Ok(handle) => admin = admin.with_metrics(handle),
        Err(err) => tracing::warn!("metrics are not exported: {err}"),
    }
    let demo = if config.demo {
        Some(demo::seed(&admin).await.map_err(ServerError::Demo)?)
    } else {
        None
    };

    let app = app(&provider, admin, admin_token, users);
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.bind,
            source,
        })?;
    let sweeper = spawn_sweeper(store, SWEEP_EVERY, SWEEP_BATCH);

    print!(
        "{}",
        banner(
            &provider,
            backend,
            &config.database,
            generated_token.as_deref(),
            demo.as_ref()
        )
    );
    tracing::info!(issuer = %issuer, bind = %config.bind, backend, "local-server listening");

    // With the peer address, so per-IP rate limits see who is asking.
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    sweeper.abort();
    tracing::info!("local-server stopped");
    served.map_err(ServerError::Serve)
}

/// Every route: the provider's endpoints and pages, the admin API, the protected API, with
/// the request log around them all.
fn app(provider: &Provider, admin: Admin, token: AdminToken, users: Users) -> Router {
    Router::new()
        .merge(portcullis_axum::router(provider.clone()))
        .merge(admin::router(admin.clone(), token.clone()))
        .merge(console::router(admin, token))
        .merge(crate::api::router(provider, users))
        .layer(middleware::from_fn_with_state(
            BodyLimit(provider.max_body_bytes()),
            logging::log_request,
        ))
}

/// What the server prints once it listens.
fn banner(
    provider: &Provider,
    backend: &str,
    database: &str,
    generated_token: Option<&str>,
    demo: Option<&demo::Demo>,
) -> String {
    let issuer = provider.issuer();
    let mut out = format!(
        "portcullis local-server\n\
         \x20 issuer:      {issuer}\n\
         \x20 discovery:   {issuer}{discovery}\n\
         \x20 database:    {backend} ({database})\n\
         \x20 admin:       {issuer}/admin (console; sign in with the admin token)\n\
         \x20 admin API:   {issuer}/admin/clients (Authorization: Bearer <admin token>)\n",
        discovery = provider.openid_configuration_path(),
        database = redact(database),
    );
    if let Some(token) = generated_token {
        out.push_str(&format!(
            "  admin token: {token}\n\
             \x20              (generated for this run; set --admin-token or PORTCULLIS_ADMIN_TOKEN to keep one)\n"
        ));
    }
    if let Some(demo) = demo {
        out.push('\n');
        out.push_str(&demo::instructions(demo, issuer));
    }
    out.push_str("\nReady. Ctrl-C to stop.\n");
    out
}

/// `url` without the password of its user info (`postgres://user:pw@host` →
/// `postgres://user:***@host`), for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            let masked = if user_info.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:hunter2@db.example:5432/auth"),
            "postgres://app:***@db.example:5432/auth"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(
            redact("sqlite://portcullis.db?mode=rwc"),
            "sqlite://portcullis.db?mode=rwc"
        );
    }
}
