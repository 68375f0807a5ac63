#![doc = include_str!("docs/overview.md")]

mod audit;
mod cache;
mod codec;
mod error;
mod extensions;
mod group;
mod postgres;
mod sql;
mod sql_store;
mod sqlite;
mod store_impl;
mod sweeper;
mod write;

pub use audit::{AUDIT_QUERY_MAX, AuditFilter, AuditLog};
pub use cache::{CACHE_TTL, MAX_CACHED_CLIENTS};
pub use error::SqlStoreError;
pub use postgres::{POSTGRES_POOL_SIZE, PostgresStore};
pub use sql_store::SqlStore;
pub use sqlite::{SQLITE_BUSY_TIMEOUT, SQLITE_POOL_SIZE, SqliteStore};
pub use sweeper::spawn_sweeper;
