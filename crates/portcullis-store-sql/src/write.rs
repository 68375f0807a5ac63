//! Write access to a database: a connection (or a transaction) plus, for SQLite, the
//! store's turn to write.

use portcullis_store::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::{Database, Transaction};
use tokio::sync::OwnedMutexGuard;

use crate::error::failed;

/// A pooled connection for a single-statement write (autocommit).
pub(crate) struct Writer<DB: Database> {
    // Field order is drop order: the connection goes back to the pool before the turn ends.
    conn: PoolConnection<DB>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> Writer<DB> {
    pub(crate) fn new(conn: PoolConnection<DB>, turn: Option<OwnedMutexGuard<()>>) -> Self {
        Writer { conn, _turn: turn }
    }

    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

/// A write transaction.
pub(crate) struct WriteTx<DB: Database> {
    // Field order is drop order: a dropped transaction rolls back before the turn ends.
    tx: Transaction<'static, DB>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> WriteTx<DB> {
    pub(crate) fn new(tx: Transaction<'static, DB>, turn: Option<OwnedMutexGuard<()>>) -> Self {
        WriteTx { tx, _turn: turn }
    }

    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }

    /// Commits when the work succeeded, rolls back when it failed, and answers its result.
    pub(crate) async fn finish<T>(
        self,
        result: Result<T, StoreError>,
        op: &'static str,
    ) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                self.tx.commit().await.map_err(failed(op))?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = self.tx.rollback().await {
                    // The connection is dropped from the pool by sqlx if it is broken; the
                    // operation's own error is the one worth reporting.
                    tracing::debug!(op, error = %rollback, "rollback failed");
                }
                Err(err)
            }
        }
    }
}
