//! The extension grants' families (device authorizations, used assertion ids) against the
//! conformance kit: on SQLite (a file per case), on PostgreSQL (a schema per case, skipped
//! off CI when the server is unreachable, see `support`), through [`SqlStore`] on each, and
//! behind a `RoutedStore` whose long-lived side is SQL.
//!
//! [`SqlStore`]: portcullis_store_sql::SqlStore

mod support;

mod sqlite {
    portcullis_store::extension_conformance_tests!(super::support::sqlite_store);
}

mod postgres {
    portcullis_store::extension_conformance_tests!(optional super::support::postgres_store);
}

mod sql_store_sqlite {
    portcullis_store::extension_conformance_tests!(|| async {
        portcullis_store_sql::SqlStore::from(super::support::sqlite_store().await)
    });
}

mod sql_store_postgres {
    portcullis_store::extension_conformance_tests!(
        optional
            || async {
                super::support::postgres_store()
                    .await
                    .map(portcullis_store_sql::SqlStore::from)
            }
    );
}

mod routed_sqlite_memory {
    portcullis_store::extension_conformance_tests!(|| async {
        portcullis_store::RoutedStore::new(
            super::support::sqlite_store().await,
            portcullis_store::MemoryStore::new(),
        )
    });
}
