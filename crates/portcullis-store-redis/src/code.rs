//! Authorization codes (RFC 6749 §4.1.2): one string key each, expiring at `expires_at`,
//! whose first letter is the code's state — `U` unused, `C` claimed, `R` redeemed. Claiming
//! and settling are Lua scripts that keep the key's expiry, so a redeemed code is
//! remembered (for reuse detection) exactly until it expires.

use std::time::Duration;

use async_trait::async_trait;
use portcullis_store::{AuthorizationCode, CodeClaim, CodeClaimStore, RecordFamily, StoreError};
use portcullis_tokens::TokenHash;
use time::OffsetDateTime;

use crate::encoding::{CodeState, decode_code, encode_code, expiry_millis, seconds_and_nanos};
use crate::error::{command_failed, corrupt};
use crate::scripts;
use crate::store::{CODE, RedisStore};

const FAMILY: RecordFamily = RecordFamily::AuthorizationCode;

/// First and longest pause between two looks at a code another caller holds.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
const LONGEST_PAUSE: Duration = Duration::from_millis(50);

/// What one run of the claim script found.
enum Attempt {
    Claimed(AuthorizationCode),
    Held(AuthorizationCode),
    Redeemed(AuthorizationCode),
    NotFound,
}

impl RedisStore {
    async fn attempt_claim(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Attempt, StoreError> {
        let (seconds, nanos) = seconds_and_nanos(now);
        let mut connection = self.connection().await?;
        let answer: Vec<String> = scripts::CLAIM_CODE
            .key(self.key(CODE, code))
            .arg(seconds)
            .arg(nanos)
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("claim_code", error))?;
        match answer.as_slice() {
            [status] if status == "missing" || status == "expired" => Ok(Attempt::NotFound),
            [status, value] => {
                let (_, record) = decode_code::<AuthorizationCode>(value)?;
                match status.as_str() {
                    "claimed" => Ok(Attempt::Claimed(record)),
                    "C" => Ok(Attempt::Held(record)),
                    "R" => Ok(Attempt::Redeemed(record)),
                    _ => Err(corrupt(FAMILY, None)),
                }
            }
            _ => Err(corrupt(FAMILY, None)),
        }
    }

    async fn settle(
        &self,
        operation: &'static str,
        code: &TokenHash,
        to: CodeState,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection().await?;
        scripts::SETTLE_CODE
            .key(self.key(CODE, code))
            .arg(to.letter())
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed(operation, error))
    }
}

/// The claim protocol of [`CodeClaimStore`]. `claim_code` waits for a code another caller
/// holds (see [`RedisStore::with_claim_wait`]), looking again after 2 ms, then at doubling
/// intervals up to 50 ms, without holding a connection in between.
#[async_trait]
impl CodeClaimStore for RedisStore {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        let value = encode_code(CodeState::Unused, code.expires_at, &code)?;
        let mut connection = self.connection().await?;
        let stored: bool = scripts::INSERT
            .key(self.key(CODE, code.code))
            .key(self.expiries())
            .arg(value)
            .arg(expiry_millis(code.expires_at))
            .arg(format!("{CODE}{}", code.code))
            .invoke_async(&mut connection)
            .await
            .map_err(|error| command_failed("insert_code", error))?;
        if stored {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                family: FAMILY,
                key: code.code.to_string(),
            })
        }
    }

    async fn find_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        let mut connection = self.connection().await?;
        let value: Option<String> = redis::cmd("GET")
            .arg(self.key(CODE, code))
            .query_async(&mut connection)
            .await
            .map_err(|error| command_failed("find_code", error))?;
        let Some(value) = value else {
            return Ok(None);
        };
        let (_, record): (CodeState, AuthorizationCode) = decode_code(&value)?;
        Ok((!record.is_expired(now)).then_some(record))
    }

    async fn claim_code(
        &self,
        code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<CodeClaim, StoreError> {
        let deadline = tokio::time::Instant::now() + self.claim_wait();
        let mut pause = FIRST_PAUSE;
        loop {
            match self.attempt_claim(code, now).await? {
                Attempt::Claimed(record) => return Ok(CodeClaim::Claimed(record)),
                Attempt::Redeemed(record) => return Ok(CodeClaim::AlreadyRedeemed(record)),
                Attempt::NotFound => return Ok(CodeClaim::NotFound),
                Attempt::Held(record) => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if left.is_zero() {
                        return Ok(CodeClaim::AlreadyRedeemed(record));
                    }
                    tokio::time::sleep(pause.min(left)).await;
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
            }
        }
    }

    async fn confirm_code(&self, code: &TokenHash) -> Result<bool, StoreError> {
        self.settle("confirm_code", code, CodeState::Redeemed).await
    }

    async fn release_code(&self, code: &TokenHash) -> Result<bool, StoreError> {
        self.settle("release_code", code, CodeState::Unused).await
    }
}
