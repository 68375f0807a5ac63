//! Browser sessions (OpenID Connect Core §3.1.2.1, RP-Initiated Logout 1.0): per session a
//! string key with the record and a set of its clients, both expiring at `expires_at`, and
//! per subject a set of session ids for "log out everywhere".

use async_trait::async_trait;
use portcullis_registry::ClientId;
use portcullis_store::{RecordFamily, SessionRecord, SessionStore, StoreError};
use portcullis_tokens::{Subject, TokenHash};
use time::OffsetDateTime;

use crate::encoding::{decode, encode, expiry_millis, seconds_and_nanos};
use crate::error::{command_failed, corrupt};
use crate::scripts;
use crate::store::{RedisStore, SESSION, SESSION_CLIENTS, SUBJECT_SESSIONS};

const FAMILY: RecordFamily = RecordFamily::Session;

impl RedisStore {
    /// The subject's index of session ids. Keyed by the subject's SHA-256, so key names
    /// carry no user identifiers and have a fixed shape.
    fn subject_sessions(&self, subject: &Subject) -> String {
        self.key(SUBJECT_SESSIONS, TokenHash::of(subject.as_str()))
    }
}

/// A stored session (stored without clients) with the members of its clients set.
fn assemble(value: &str, clients: &[String]) -> Result<SessionRecord, StoreError> {
    let mut session: SessionRecord = decode(FAMILY, value)?;
    for client in clients {
        let id = ClientId::new(client.as_str()).map_err(|_| corrupt(FAMILY, None))?;
        session.clients.insert(id);
    }
    Ok(session)
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn insert_session(&self, mut session: SessionRecord) -> Result<(), StoreError> {
        let clients = std::mem::take(&mut session.clients);
        let value = encode(FAMILY, session.expires_at, &session)?;
        let mut connection = self.connection().await?;
        let stored: bool = scripts::INSERT_SESSION
            .key(self.key(SESSION, session.id))
            .key(self.key(SESSION_CLIENTS, session.id))
            .key(self.subject_sessions(&session.subject))
            .key(self.expiries())
            .arg(value)
            .arg(expiry_millis(session.expires_at))
            .arg(session.id.to_string())
            .arg(self.key(SESSION, ""))
            .arg(format!("{SESSION}{}", session.id))
            .arg(clients.iter().map(ClientId::as_str).collect::<Vec<_>>())
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("insert_session", error))?;
        if stored {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                family: FAMILY,
                key: session.id.to_string(),
            })
        }
    }

    async fn get_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut connection = self.connection().await?;
        let (value, clients): (Option<String>, Vec<String>) = redis::pipe()
            .atomic()
            .cmd("GET")
            .arg(self.key(SESSION, id))
            .cmd("SMEMBERS")
            .arg(self.key(SESSION_CLIENTS, id))
            .query_async(&mut connection)
            .await
            .map_err(|error| command_failed("get_session", error))?;
        let Some(value) = value else {
            return Ok(None);
        };
        let session = assemble(&value, &clients)?;
        Ok((!session.is_expired(now)).then_some(session))
    }

    async fn add_session_client(
        &self,
        id: &TokenHash,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (seconds, nanos) = seconds_and_nanos(now);
        let mut connection = self.connection().await?;
        scripts::ADD_SESSION_CLIENT
            .key(self.key(SESSION, id))
            .key(self.key(SESSION_CLIENTS, id))
            .arg(seconds)
            .arg(nanos)
            .arg(client.as_str())
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("add_session_client", error))
    }

    async fn delete_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut connection = self.connection().await?;
        let ended: Vec<String> = scripts::DELETE_SESSION
            .key(self.key(SESSION, id))
            .key(self.key(SESSION_CLIENTS, id))
            .key(self.expiries())
            .arg(format!("{SESSION}{id}"))
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("delete_session", error))?;
        let Some((value, clients)) = ended.split_first() else {
            return Ok(None);
        };
        let session = assemble(value, clients)?;
        // The session is gone whatever happens next; a stale index entry is pruned by the
        // subject's next login and expires with the index.
        let unindexed: Result<u64, _> = redis::cmd("SREM")
            .arg(self.subject_sessions(&session.subject))
            .arg(id.to_string())
            .query_async(&mut connection)
            .await;
        if let Err(error) = unindexed {
            tracing::warn!(%error, "ended session left in its subject's index");
        }
        Ok((!session.is_expired(now)).then_some(session))
    }

    async fn delete_subject_sessions(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut connection = self.connection().await?;
        let ended: Vec<String> = scripts::DELETE_SUBJECT_SESSIONS
            .key(self.subject_sessions(subject))
            .key(self.expiries())
            .arg(self.key(SESSION, ""))
            .arg(self.key(SESSION_CLIENTS, ""))
            .arg(SESSION)
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("delete_subject_sessions", error))?;
        let mut live = 0;
        for value in &ended {
            let session: SessionRecord = decode(FAMILY, value)?;
            if !session.is_expired(now) {
                live += 1;
            }
        }
        Ok(live)
    }
}
