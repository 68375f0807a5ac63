//! `RoutedStore` on in-memory stores against the whole conformance kit, in both code
//! placements, plus the claim / confirm / release steps of redeeming a code that lives apart
//! from its tokens, with the long-lived store failing in each way that matters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::testing::{Failure, FaultyStore};
use portcullis_store::{
    AuthorizationCode, CodeClaim, CodeClaimStore, CodeRedemption, CodeStore, CodesInShortLived,
    FamilyId, MemoryStore, PendingAuthorization, PendingAuthorizationStore, RecordFamily,
    RoutedStore, SessionRecord, SessionStore, StoreError, SweepExpired, TokenRecord, TokenStatus,
    TokenStore,
};
use portcullis_tokens::{Subject, TokenHash, TokenKind, mint};
use time::{Duration, OffsetDateTime};

mod codes_in_long_lived {
    portcullis_store::conformance_tests!(|| async {
        portcullis_store::RoutedStore::new(
            portcullis_store::MemoryStore::new(),
            portcullis_store::MemoryStore::new(),
        )
    });
}

mod extensions_in_long_lived {
    portcullis_store::extension_conformance_tests!(|| async {
        portcullis_store::RoutedStore::new(
            portcullis_store::MemoryStore::new(),
            portcullis_store::MemoryStore::new(),
        )
    });
}

mod codes_in_short_lived {
    portcullis_store::conformance_tests!(|| async {
        portcullis_store::RoutedStore::with_short_lived_codes(
            portcullis_store::MemoryStore::new(),
            super::ShortLived::default(),
        )
    });
}

// ---------------------------------------------------------------------------------------
// A short-lived store with codes: a MemoryStore for pending authorizations and sessions,
// and a map for codes with the claim protocol.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeState {
    Unused,
    Claimed,
    Redeemed,
}

#[derive(Debug, Default)]
struct ShortLived {
    memory: MemoryStore,
    codes: Mutex<HashMap<TokenHash, (AuthorizationCode, CodeState)>>,
}

impl ShortLived {
    fn codes(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<TokenHash, (AuthorizationCode, CodeState)>> {
        self.codes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn settle(&self, code: &TokenHash, to: CodeState) -> bool {
        match self.codes().get_mut(code) {
            Some((_, state)) if *state == CodeState::Claimed => {
                *state = to;
                true
            }
            _ => false,
        }
    }

    fn state(&self, code: &TokenHash) -> Option<CodeState> {
        self.codes().get(code).map(|(_, state)| *state)
    }
}

/// How long a claim waits for another caller's claim to settle.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

#[async_trait]
impl CodeClaimStore for ShortLived {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        let mut codes = self.codes();
        if codes.contains_key(&code.code) {
            return Err(StoreError::Conflict {
                family: RecordFamily::AuthorizationCode,
                key: code.code.to_string(),
            });
        }
        codes.insert(code.code, (code, CodeState::Unused));
        Ok(())
    }

    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        Ok(self
            .codes()
            .get(code)
            .filter(|(record, _)| !record.is_expired(now))
            .map(|(record, _)| record.clone()))
    }

    async fn claim_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<CodeClaim, StoreError> {
        let deadline = std::time::Instant::now() + CLAIM_WAIT;
        loop {
            {
                let mut codes = self.codes();
                let Some((record, state)) = codes.get_mut(code) else {
                    return Ok(CodeClaim::NotFound);
                };
                if record.is_expired(now) {
                    return Ok(CodeClaim::NotFound);
                }
                match *state {
                    CodeState::Unused => {
                        *state = CodeState::Claimed;
                        return Ok(CodeClaim::Claimed(record.clone()));
                    }
                    CodeState::Redeemed => return Ok(CodeClaim::AlreadyRedeemed(record.clone())),
                    CodeState::Claimed if std::time::Instant::now() >= deadline => {
                        return Ok(CodeClaim::AlreadyRedeemed(record.clone()));
                    }
                    CodeState::Claimed => {}
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    async fn confirm_code(&self, code: &TokenHash) -> Result<bool, StoreError> {
        Ok(self.settle(code, CodeState::Redeemed))
    }

    async fn release_code(&self, code: &TokenHash) -> Result<bool, StoreError> {
        Ok(self.settle(code, CodeState::Unused))
    }
}

#[async_trait]
impl PendingAuthorizationStore for ShortLived {
    async fn insert_pending(&self, pending: PendingAuthorization) -> Result<(), StoreError> {
        self.memory.insert_pending(pending).await
    }
    async fn get_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        self.memory.get_pending(handle, now).await
    }
    async fn take_pending(
        &self,
        handle: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAuthorization>, StoreError> {
        self.memory.take_pending(handle, now).await
    }
}

#[async_trait]
impl SessionStore for ShortLived {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        self.memory.insert_session(session).await
    }
    async fn get_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.memory.get_session(id, now).await
    }
    async fn add_session_client(
        &self,
        id: &TokenHash,
        client: &ClientId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.memory.add_session_client(id, client, now).await
    }
    async fn delete_session(
        &self,
        id: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.memory.delete_session(id, now).await
    }
    async fn delete_subject_sessions(
        &self,
        subject: &Subject,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.memory.delete_subject_sessions(subject, now).await
    }
}

#[async_trait]
impl SweepExpired for ShortLived {
    async fn sweep_expired(&self, now: OffsetDateTime, batch: usize) -> Result<usize, StoreError> {
        let swept = self.memory.sweep_expired(now, batch).await?;
        let mut codes = self.codes();
        let expired: Vec<TokenHash> = codes
            .values()
            .filter(|(record, _)| record.is_expired(now))
            .map(|(record, _)| record.code)
            .take(batch.saturating_sub(swept))
            .collect();
        for code in &expired {
            codes.remove(code);
        }
        Ok(swept + expired.len())
    }
}

// ---------------------------------------------------------------------------------------
// Redeeming a code that lives apart from its tokens

type Split = RoutedStore<FaultyStore<MemoryStore>, ShortLived, CodesInShortLived>;

fn split() -> Split {
    RoutedStore::with_short_lived_codes(FaultyStore::new(MemoryStore::new()), ShortLived::default())
}

fn code(at: OffsetDateTime) -> AuthorizationCode {
    AuthorizationCode {
        code: mint(TokenKind::AuthorizationCode).unwrap().lookup_key(),
        client_id: ClientId::new("routed-test").unwrap(),
        redirect_uri: None,
        subject: Subject::new("user-1").unwrap(),
        scopes: ScopeSet::default(),
        nonce: None,
        code_challenge: None,
        code_challenge_method: None,
        auth_time: Some(at),
        family: FamilyId::generate().unwrap(),
        issued_at: at,
        expires_at: at + Duration::minutes(1),
        resources: Vec::new(),
        dpop_jkt: None,
    }
}

fn tokens_for(code: &AuthorizationCode, at: OffsetDateTime) -> Vec<TokenRecord> {
    vec![TokenRecord {
        hash: mint(TokenKind::AccessToken).unwrap().lookup_key(),
        kind: TokenKind::AccessToken,
        client_id: code.client_id.clone(),
        subject: Some(code.subject.clone()),
        scopes: ScopeSet::default(),
        roles: Vec::new(),
        family: code.family.clone(),
        issued_at: at,
        expires_at: at + Duration::hours(1),
        status: TokenStatus::Active,
        audience: Vec::new(),
        confirmation: None,
    }]
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn unavailable_long_lived_store_releases_the_code_for_a_retry() {
    block_on(async {
        let store = split();
        let at = OffsetDateTime::now_utc();
        let record = code(at);
        store.insert_code(record.clone()).await.unwrap();
        let tokens = tokens_for(&record, at);

        store
            .long_lived()
            .fail(RecordFamily::Token, Failure::Unavailable);
        let refused = store.redeem_code(&record.code, tokens.clone(), at).await;
        assert!(
            matches!(refused, Err(StoreError::Unavailable { .. })),
            "{refused:?}"
        );
        assert_eq!(
            store.short_lived().state(&record.code),
            Some(CodeState::Unused)
        );

        store.long_lived().heal(RecordFamily::Token);
        assert_eq!(
            store
                .redeem_code(&record.code, tokens.clone(), at)
                .await
                .unwrap(),
            CodeRedemption::Redeemed(record.clone())
        );
        assert_eq!(
            store.short_lived().state(&record.code),
            Some(CodeState::Redeemed)
        );
        assert!(
            store
                .find_token(&tokens[0].hash, at)
                .await
                .unwrap()
                .is_some()
        );
    });
}

#[test]
fn ambiguous_long_lived_failure_spends_the_code() {
    block_on(async {
        let store = split();
        let at = OffsetDateTime::now_utc();
        let record = code(at);
        store.insert_code(record.clone()).await.unwrap();

        store
            .long_lived()
            .fail(RecordFamily::Token, Failure::Backend);
        let failed = store
            .redeem_code(&record.code, tokens_for(&record, at), at)
            .await;
        assert!(
            matches!(failed, Err(StoreError::Backend { .. })),
            "{failed:?}"
        );
        store.long_lived().heal(RecordFamily::Token);

        assert_eq!(
            store
                .redeem_code(&record.code, tokens_for(&record, at), at)
                .await
                .unwrap(),
            CodeRedemption::AlreadyRedeemed(record),
            "the tokens may exist: the code must never be redeemable again"
        );
    });
}

#[test]
fn tokens_of_another_family_release_the_code() {
    block_on(async {
        let store = split();
        let at = OffsetDateTime::now_utc();
        let record = code(at);
        store.insert_code(record.clone()).await.unwrap();
        let mut stray = tokens_for(&record, at);
        stray[0].family = FamilyId::generate().unwrap();
        let refused = store.redeem_code(&record.code, stray, at).await;
        assert!(
            matches!(refused, Err(StoreError::InvalidRecord { .. })),
            "{refused:?}"
        );
        assert_eq!(
            store.short_lived().state(&record.code),
            Some(CodeState::Unused)
        );
    });
}

#[test]
fn a_replay_during_the_redemption_waits_for_its_outcome() {
    block_on(async {
        let store = Arc::new(split());
        let at = OffsetDateTime::now_utc();
        let record = code(at);
        store.insert_code(record.clone()).await.unwrap();

        // Someone holds the claim; it is confirmed shortly after.
        let held = store
            .short_lived()
            .claim_code(&record.code, at)
            .await
            .unwrap();
        assert_eq!(held, CodeClaim::Claimed(record.clone()));
        let confirmer = {
            let store = store.clone();
            let hash = record.code;
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                store.short_lived().confirm_code(&hash).await.unwrap()
            })
        };
        let started = std::time::Instant::now();
        assert_eq!(
            store
                .redeem_code(&record.code, tokens_for(&record, at), at)
                .await
                .unwrap(),
            CodeRedemption::AlreadyRedeemed(record.clone())
        );
        assert!(started.elapsed() >= std::time::Duration::from_millis(40));
        assert!(confirmer.await.unwrap());

        // A claim that is released instead lets the waiting caller redeem.
        let other = code(at);
        store.insert_code(other.clone()).await.unwrap();
        store
            .short_lived()
            .claim_code(&other.code, at)
            .await
            .unwrap();
        let releaser = {
            let store = store.clone();
            let hash = other.code;
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                store.short_lived().release_code(&hash).await.unwrap()
            })
        };
        assert_eq!(
            store
                .redeem_code(&other.code, tokens_for(&other, at), at)
                .await
                .unwrap(),
            CodeRedemption::Redeemed(other)
        );
        assert!(releaser.await.unwrap());
    });
}

#[test]
fn sweeping_a_routed_store_sweeps_both_sides() {
    block_on(async {
        let store = RoutedStore::new(MemoryStore::new(), MemoryStore::new());
        let past = OffsetDateTime::now_utc() - Duration::hours(2);
        let old = code(past);
        store.insert_code(old.clone()).await.unwrap();
        let client = ClientId::new("routed-test").unwrap();
        let pending = PendingAuthorization {
            handle: mint(TokenKind::PendingAuthorization).unwrap().lookup_key(),
            client_id: client,
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_in_request: false,
            response_type: "code".into(),
            response_mode: "query".into(),
            scopes: ScopeSet::default(),
            state: None,
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            prompt: Vec::new(),
            max_age: None,
            created_at: past,
            expires_at: past + Duration::minutes(10),
            resources: Vec::new(),
            dpop_jkt: None,
        };
        store.insert_pending(pending).await.unwrap();
        let now = OffsetDateTime::now_utc();
        // One expired code in the long-lived store, one pending authorization in the short.
        assert_eq!(store.sweep_expired(now, 1).await.unwrap(), 1);
        assert_eq!(store.sweep_expired(now, 10).await.unwrap(), 1);
        assert_eq!(store.sweep_expired(now, 10).await.unwrap(), 0);
    });
}
