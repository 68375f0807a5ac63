#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use portcullis_registry::{ClientKind, NewClient, ScopeCatalog, ScopeSet};
use portcullis_tokens::{Subject, mint};
use time::Duration;

fn at() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn client_id() -> ClientId {
    ClientId::new("memory-test").unwrap()
}

fn token(issued_at: OffsetDateTime, ttl: Duration) -> TokenRecord {
    TokenRecord {
        hash: mint(TokenKind::AccessToken).unwrap().lookup_key(),
        kind: TokenKind::AccessToken,
        client_id: client_id(),
        subject: Some(Subject::new("u").unwrap()),
        scopes: ScopeSet::default(),
        roles: Vec::new(),
        family: FamilyId::generate().unwrap(),
        issued_at,
        expires_at: issued_at + ttl,
        status: TokenStatus::Active,
        audience: Vec::new(),
        confirmation: None,
    }
}

fn code(issued_at: OffsetDateTime, ttl: Duration) -> AuthorizationCode {
    AuthorizationCode {
        code: mint(TokenKind::AuthorizationCode).unwrap().lookup_key(),
        client_id: client_id(),
        redirect_uri: Some("https://app.example/cb".into()),
        subject: Subject::new("u").unwrap(),
        scopes: ScopeSet::default(),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        auth_time: None,
        family: FamilyId::generate().unwrap(),
        issued_at,
        expires_at: issued_at + ttl,
        resources: Vec::new(),
        dpop_jkt: None,
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn a_full_token_family_refuses_new_records_and_never_evicts_live_ones() {
    block_on(async {
        let store = MemoryStore::with_limits(MemoryLimits {
            tokens: 3,
            ..MemoryLimits::default()
        });
        let now = at();
        let live: Vec<TokenRecord> = (0..3).map(|_| token(now, Duration::hours(1))).collect();
        store.insert_tokens(live.clone()).await.unwrap();
        match store
            .insert_tokens(vec![token(now, Duration::hours(1))])
            .await
        {
            Err(StoreError::CapacityExceeded {
                family: RecordFamily::Token,
                limit: 3,
            }) => {}
            other => panic!("expected CapacityExceeded, got {other:?}"),
        }
        for record in &live {
            assert!(store.find_token(&record.hash, now).await.unwrap().is_some());
        }
    });
}

#[test]
fn a_full_family_makes_room_by_sweeping_expired_records() {
    block_on(async {
        let store = MemoryStore::with_limits(MemoryLimits {
            tokens: 2,
            codes: 2,
            ..MemoryLimits::default()
        });
        let then = at() - Duration::hours(3);
        let now = at();
        store
            .insert_tokens(vec![
                token(then, Duration::hours(1)),
                token(then, Duration::hours(1)),
            ])
            .await
            .unwrap();
        store
            .insert_tokens(vec![
                token(now, Duration::hours(1)),
                token(now, Duration::hours(1)),
            ])
            .await
            .unwrap();
        assert_eq!(lock(&store.tokens).by_hash.len(), 2);

        store
            .insert_code(code(then, Duration::minutes(1)))
            .await
            .unwrap();
        store
            .insert_code(code(then, Duration::minutes(1)))
            .await
            .unwrap();
        store
            .insert_code(code(now, Duration::minutes(1)))
            .await
            .unwrap();
        assert_eq!(lock(&store.codes).records.len(), 1);
    });
}

#[test]
fn expired_records_are_removed_without_an_explicit_sweep() {
    block_on(async {
        let store = MemoryStore::new();
        let then = at() - Duration::hours(3);
        let expired: Vec<TokenRecord> = (0..MIN_SWEEP_LEN)
            .map(|_| token(then, Duration::hours(1)))
            .collect();
        store.insert_tokens(expired).await.unwrap();
        assert_eq!(lock(&store.tokens).by_hash.len(), MIN_SWEEP_LEN);
        store
            .insert_tokens(vec![token(at(), Duration::hours(1))])
            .await
            .unwrap();
        let table = lock(&store.tokens);
        assert_eq!(table.by_hash.len(), 1);
        assert_eq!(
            table.by_family.len(),
            1,
            "indexes are swept with the records"
        );
        assert_eq!(
            table.by_client.get(&client_id()).map(BTreeSet::len),
            Some(1)
        );
    });
}

#[test]
fn sweep_respects_its_batch_bound() {
    block_on(async {
        let store = MemoryStore::new();
        let then = at() - Duration::hours(3);
        let expired: Vec<TokenRecord> = (0..10).map(|_| token(then, Duration::hours(1))).collect();
        store.insert_tokens(expired).await.unwrap();
        assert_eq!(store.sweep_expired(at(), 4).await.unwrap(), 4);
        assert_eq!(store.sweep_expired(at(), 4).await.unwrap(), 4);
        assert_eq!(store.sweep_expired(at(), 4).await.unwrap(), 2);
        assert_eq!(store.sweep_expired(at(), 4).await.unwrap(), 0);
    });
}

#[test]
fn full_client_table_is_refused() {
    block_on(async {
        let store = MemoryStore::with_limits(MemoryLimits {
            clients: 1,
            ..MemoryLimits::default()
        });
        let catalog = ScopeCatalog::with_oidc_scopes();
        let make = || {
            NewClient::new("m", ClientKind::Machine)
                .build(&catalog)
                .unwrap()
                .client
        };
        store.insert_client(make()).await.unwrap();
        assert!(matches!(
            store.insert_client(make()).await,
            Err(StoreError::CapacityExceeded {
                family: RecordFamily::Client,
                ..
            })
        ));
    });
}

fn session(subject: &str, created_at: OffsetDateTime, ttl: Duration) -> SessionRecord {
    SessionRecord {
        id: mint(TokenKind::PendingAuthorization).unwrap().lookup_key(),
        subject: Subject::new(subject).unwrap(),
        auth_time: created_at,
        amr: vec!["pwd".into()],
        clients: BTreeSet::new(),
        created_at,
        expires_at: created_at + ttl,
    }
}

fn signing_key(kid: &str) -> KeyRecord {
    KeyRecord {
        kid: kid.into(),
        algorithm: "ES256".into(),
        private_pkcs8: vec![1, 2, 3],
        created_at: at(),
        activated_at: None,
        retired_at: None,
    }
}

#[test]
fn a_full_session_table_sweeps_then_refuses() {
    block_on(async {
        let store = MemoryStore::with_limits(MemoryLimits {
            sessions: 2,
            ..MemoryLimits::default()
        });
        let then = at() - Duration::hours(3);
        let now = at();
        store
            .insert_session(session("u1", then, Duration::hours(1)))
            .await
            .unwrap();
        store
            .insert_session(session("u1", now, Duration::hours(1)))
            .await
            .unwrap();
        // Full: the expired session makes room.
        store
            .insert_session(session("u2", now, Duration::hours(1)))
            .await
            .unwrap();
        {
            let table = lock(&store.sessions);
            assert_eq!(table.by_id.len(), 2);
            assert_eq!(
                table
                    .by_subject
                    .get(&Subject::new("u1").unwrap())
                    .map(BTreeSet::len),
                Some(1),
                "the subject index is swept with the records"
            );
        }
        match store
            .insert_session(session("u3", now, Duration::hours(1)))
            .await
        {
            Err(StoreError::CapacityExceeded {
                family: RecordFamily::Session,
                limit: 2,
            }) => {}
            other => panic!("expected CapacityExceeded, got {other:?}"),
        }
    });
}

#[test]
fn ended_sessions_leave_the_subject_index() {
    block_on(async {
        let store = MemoryStore::new();
        let now = at();
        let first = session("u", now, Duration::hours(1));
        let second = session("u", now, Duration::hours(1));
        store.insert_session(first.clone()).await.unwrap();
        store.insert_session(second.clone()).await.unwrap();
        store.delete_session(&first.id, now).await.unwrap();
        assert_eq!(lock(&store.sessions).by_subject.len(), 1);
        let subject = Subject::new("u").unwrap();
        assert_eq!(
            store.delete_subject_sessions(&subject, now).await.unwrap(),
            1
        );
        let table = lock(&store.sessions);
        assert!(table.by_id.is_empty());
        assert!(table.by_subject.is_empty());
    });
}

#[test]
fn sweep_covers_sessions() {
    block_on(async {
        let store = MemoryStore::new();
        let then = at() - Duration::hours(3);
        for _ in 0..3 {
            store
                .insert_session(session("u", then, Duration::hours(1)))
                .await
                .unwrap();
        }
        assert_eq!(store.sweep_expired(at(), 2).await.unwrap(), 2);
        assert_eq!(store.sweep_expired(at(), 2).await.unwrap(), 1);
        assert!(lock(&store.sessions).by_subject.is_empty());
    });
}

#[test]
fn full_key_table_is_refused() {
    block_on(async {
        let store = MemoryStore::with_limits(MemoryLimits {
            keys: 1,
            ..MemoryLimits::default()
        });
        store.insert_key(signing_key("k1")).await.unwrap();
        assert!(matches!(
            store.insert_key(signing_key("k2")).await,
            Err(StoreError::CapacityExceeded {
                family: RecordFamily::SigningKey,
                limit: 1,
            })
        ));
        store.delete_key("k1").await.unwrap();
        store.insert_key(signing_key("k2")).await.unwrap();
    });
}

/// A store with deliberate flaws, to prove the conformance kit fails when a contract is
/// broken (a kit that cannot fail proves nothing).
#[cfg(feature = "conformance")]
mod kit_catches_flaws {
    use super::*;
    use crate::conformance;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    #[derive(Clone, Copy, PartialEq)]
    enum Flaw {
        /// `redeem_code` reads, yields, then writes: not atomic.
        RacyCodeRedemption,
        /// `update_client` stores `revoked` without revoking the client's tokens.
        RevocationWithoutCascade,
        /// `insert_tokens` writes record by record and stops at the first clash.
        PartialBatchInsert,
        /// `activate_key` reads the active key, yields, then writes: two keys can end up
        /// active.
        RacyKeyActivation,
        /// `delete_session` reads, yields, then removes: several callers get the session.
        RacySessionDelete,
        /// `add_session_client` copies the client set, yields, then writes it back: a
        /// concurrent addition is lost.
        LostSessionClientUpdate,
    }

    struct Flawed {
        inner: MemoryStore,
        flaw: Flaw,
    }

    #[async_trait]
    impl ClientStore for Flawed {
        async fn insert_client(&self, client: Client) -> Result<(), StoreError> {
            self.inner.insert_client(client).await
        }
        async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
            self.inner.get_client(id).await
        }
        async fn update_client(&self, client: Client) -> Result<(), StoreError> {
            if self.flaw == Flaw::RevocationWithoutCascade {
                write(&self.inner.clients).insert(client.id.clone(), client);
                return Ok(());
            }
            self.inner.update_client(client).await
        }
        async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
            self.inner.delete_client(id).await
        }
        async fn list_clients(&self, page: Page<ClientId>) -> Result<Vec<Client>, StoreError> {
            self.inner.list_clients(page).await
        }
    }

    #[async_trait]
    impl ScopeStore for Flawed {
        async fn insert_scope(&self, scope: ScopeDefinition) -> Result<(), StoreError> {
            self.inner.insert_scope(scope).await
        }
        async fn get_scope(&self, name: &str) -> Result<Option<ScopeDefinition>, StoreError> {
            self.inner.get_scope(name).await
        }
        async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, StoreError> {
            self.inner.list_scopes().await
        }
        async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
            self.inner.delete_scope(name).await
        }
    }

    #[async_trait]
    impl PendingAuthorizationStore for Flawed {
        async fn insert_pending(&self, p: PendingAuthorization) -> Result<(), StoreError> {
            self.inner.insert_pending(p).await
        }
        async fn get_pending(
            &self,
            h: &TokenHash,
            now: OffsetDateTime,
        ) -> Result<Option<PendingAuthorization>, StoreError> {
            self.inner.get_pending(h, now).await
        }
        async fn take_pending(
            &self,
            h: &TokenHash,
            now: OffsetDateTime,
        ) -> Result<Option<PendingAuthorization>, StoreError> {
            self.inner.take_pending(h, now).await
        }
    }

    #[async_trait]
    impl CodeStore for Flawed {
        async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
            self.inner.insert_code(code).await
        }
        async fn find_code(
            &self,
            code: &TokenHash,
            now: OffsetDateTime,
        ) -> Result<Option<AuthorizationCode>, StoreError> {
            self.inner.find_code(code, now).await
        }
        async fn redeem_code(
            &self,
            code: &TokenHash,
            tokens: Vec<TokenRecord>,
            now: OffsetDateTime,
        ) -> Result<CodeRedemption, StoreError> {
            if self.flaw != Flaw::RacyCodeRedemption {
                return self.inner.redeem_code(code, tokens, now).await;
            }
            let seen = lock(&self.inner.codes).records.get(code).cloned();
            let Some(entry) = seen.filter(|e| !e.code.is_expired(now)) else {
                return Ok(CodeRedemption::NotFound);
            };
            if entry.redeemed {
                return Ok(CodeRedemption::AlreadyRedeemed(entry.code));
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            self.inner.insert_tokens(tokens).await?;
            if let Some(stored) = lock(&self.inner.codes).records.get_mut(code) {
                stored.redeemed = true;
            }
            Ok(CodeRedemption::Redeemed(entry.code))
        }
    }

    #[async_trait]
    impl TokenStore for Flawed {
        async fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError> {
            if self.flaw == Flaw::PartialBatchInsert {
                for token in tokens {
                    self.inner.insert_tokens(vec![token]).await?;
                }
                return Ok(());
            }
            self.inner.insert_tokens(tokens).await
        }
        async fn find_token(
            &self,
            h: &TokenHash,
            now: OffsetDateTime,
        ) -> Result<Option<TokenRecord>, StoreError> {
            self.inner.find_token(h, now).await
        }
        async fn rotate_refresh_token(
            &self,
            h: &TokenHash,
            s: Vec<TokenRecord>,
            now: OffsetDateTime,
        ) -> Result<Rotation, StoreError> {
            self.inner.rotate_refresh_token(h, s, now).await
        }
        async fn revoke_token(
            &self,
            h: &TokenHash,
            now: OffsetDateTime,
        ) -> Result<Option<TokenRecord>, StoreError> {
            self.inner.revoke_token(h, now).await
        }
        async fn revoke_family(
            &self,
            f: &FamilyId,
            now: OffsetDateTime,
        ) -> Result<u64, StoreError> {
            self.inner.revoke_family(f, now).await
        }
        async fn revoke_client_tokens(
            &self,
            c: &ClientId,
            now: OffsetDateTime,
        ) -> Result<u64, StoreError> {
            self.inner.revoke_client_tokens(c, now).await
        }
        async fn list_client_tokens(
            &self,
            c: &ClientId,
            now: OffsetDateTime,
        ) -> Result<Vec<TokenRecord>, StoreError> {
            self.inner.list_client_tokens(c, now).await
        }
        async fn list_family(
            &self,
            f: &FamilyId,
            now: OffsetDateTime,
        ) -> Result<Vec<TokenRecord>, StoreError> {
            self.inner.list_family(f, now).await
        }
    }

    #[async_trait]
    impl SessionStore for Flawed {
        async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
            self.inner.insert_session(session).await
        }
        async fn get_session(
            &self,
            id: &TokenHash,
            now: OffsetDateTime,
        ) -> Result<Option<SessionRecord>, StoreError> {
            self.inner.get_session(id, now).await
        }
        async fn add_session_client(
            &self,
            id: &TokenHash,
            client: &ClientId,
            now: OffsetDateTime,
        ) -> Result<bool, StoreError> {
            if self.flaw != Flaw::LostSessionClientUpdate {
                return self.inner.add_session_client(id, client, now).await;
            }
            let Some(mut clients) = lock(&self.inner.sessions)
                .live(id, now)
                .map(|session| session.clients.clone())
            else {
                return Ok(false);
            };
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            clients.insert(client.clone());
            if let Some(session) = lock(&self.inner.sessions).live_mut(id, now) {
                session.clients = clients;
            }
            Ok(true)
        }
        async fn delete_session(
            &self,
            id: &TokenHash,
            now: OffsetDateTime,
        ) -> Result<Option<SessionRecord>, StoreError> {
            if self.flaw != Flaw::RacySessionDelete {
                return self.inner.delete_session(id, now).await;
            }
            let seen = lock(&self.inner.sessions).live(id, now).cloned();
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            lock(&self.inner.sessions).remove(id);
            Ok(seen)
        }
        async fn delete_subject_sessions(
            &self,
            subject: &Subject,
            now: OffsetDateTime,
        ) -> Result<u64, StoreError> {
            self.inner.delete_subject_sessions(subject, now).await
        }
    }

    #[async_trait]
    impl KeyStore for Flawed {
        async fn insert_key(&self, key: KeyRecord) -> Result<(), StoreError> {
            self.inner.insert_key(key).await
        }
        async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
            self.inner.list_keys().await
        }
        async fn activate_key(&self, kid: &str, now: OffsetDateTime) -> Result<(), StoreError> {
            if self.flaw != Flaw::RacyKeyActivation {
                return self.inner.activate_key(kid, now).await;
            }
            let previous: Vec<String> = read(&self.inner.keys)
                .values()
                .filter(|key| key.is_active())
                .map(|key| key.kid.clone())
                .collect();
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            let mut keys = write(&self.inner.keys);
            for kid in previous {
                if let Some(key) = keys.get_mut(&kid) {
                    key.retired_at = Some(now);
                }
            }
            match keys.get_mut(kid) {
                Some(key) => {
                    key.activated_at = Some(now);
                    Ok(())
                }
                None => Err(StoreError::NotFound {
                    family: RecordFamily::SigningKey,
                    key: kid.to_owned(),
                }),
            }
        }
        async fn delete_key(&self, kid: &str) -> Result<bool, StoreError> {
            self.inner.delete_key(kid).await
        }
    }

    #[async_trait]
    impl SweepExpired for Flawed {
        async fn sweep_expired(&self, now: OffsetDateTime, b: usize) -> Result<usize, StoreError> {
            self.inner.sweep_expired(now, b).await
        }
    }

    fn fails<C, CF>(flaw: Flaw, case: C) -> bool
    where
        C: FnOnce(std::sync::Arc<Flawed>) -> CF,
        CF: std::future::Future<Output = ()>,
    {
        let make = move || async move {
            Flawed {
                inner: MemoryStore::new(),
                flaw,
            }
        };
        catch_unwind(AssertUnwindSafe(|| conformance::run(make, case))).is_err()
    }

    #[test]
    fn racy_code_redemption_fails_the_concurrency_case() {
        assert!(fails(
            Flaw::RacyCodeRedemption,
            conformance::code_single_use_under_concurrency
        ));
    }

    #[test]
    fn revocation_without_cascade_fails_the_client_revocation_case() {
        assert!(fails(
            Flaw::RevocationWithoutCascade,
            conformance::client_revocation_cuts_off_its_tokens
        ));
    }

    #[test]
    fn partial_batch_insert_fails_the_all_or_nothing_case() {
        assert!(fails(
            Flaw::PartialBatchInsert,
            conformance::token_insert_is_all_or_nothing
        ));
    }

    #[test]
    fn racy_key_activation_fails_the_concurrency_case() {
        assert!(fails(
            Flaw::RacyKeyActivation,
            conformance::key_activation_single_active_under_concurrency
        ));
    }

    #[test]
    fn racy_session_delete_fails_the_concurrency_case() {
        assert!(fails(
            Flaw::RacySessionDelete,
            conformance::session_delete_single_use_under_concurrency
        ));
    }

    #[test]
    fn lost_session_client_update_fails_the_concurrency_case() {
        assert!(fails(
            Flaw::LostSessionClientUpdate,
            conformance::session_add_client_keeps_concurrent_additions
        ));
    }

    #[test]
    fn the_flawless_wrapper_passes_the_same_cases() {
        // The wrapper itself is sound when no flaw is switched on for the case under test.
        assert!(!fails(
            Flaw::PartialBatchInsert,
            conformance::code_single_use_under_concurrency
        ));
        assert!(!fails(
            Flaw::RacyCodeRedemption,
            conformance::client_revocation_cuts_off_its_tokens
        ));
        assert!(!fails(
            Flaw::RevocationWithoutCascade,
            conformance::token_insert_is_all_or_nothing
        ));
        assert!(!fails(
            Flaw::RacySessionDelete,
            conformance::key_activation_single_active_under_concurrency
        ));
        assert!(!fails(
            Flaw::LostSessionClientUpdate,
            conformance::session_delete_single_use_under_concurrency
        ));
        assert!(!fails(
            Flaw::RacyKeyActivation,
            conformance::session_add_client_keeps_concurrent_additions
        ));
    }
}
