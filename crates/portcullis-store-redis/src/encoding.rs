//! How a record is written to Redis: `<expires_at>|<JSON>`, where `<expires_at>` is
//! `<unix seconds>.<nanoseconds, 9 digits>` so the Lua scripts can compare it with `now`
//! exactly; an authorization code has its state letter in front.

use portcullis_store::{RecordFamily, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::error::corrupt;

const NANOS_PER_SECOND: i128 = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;

/// An instant as whole Unix seconds and the nanoseconds after them (always `0..1e9`, also
/// before 1970), the form the scripts compare.
pub(crate) fn seconds_and_nanos(at: OffsetDateTime) -> (i64, u32) {
    let nanos = at.unix_timestamp_nanos();
    let seconds = i64::try_from(nanos.div_euclid(NANOS_PER_SECOND)).unwrap_or(i64::MAX);
    let rest = u32::try_from(nanos.rem_euclid(NANOS_PER_SECOND)).unwrap_or(0);
    (seconds, rest)
}

/// The Unix millisecond at which Redis may drop a record expiring at `expires_at`:
/// rounded up, so the key never disappears before the record expires, and at least 1
/// (Redis refuses 0 and below; an instant in the past makes the key expire at once).
pub(crate) fn expiry_millis(expires_at: OffsetDateTime) -> i64 {
    let millis =
        (expires_at.unix_timestamp_nanos() + (NANOS_PER_MILLI - 1)).div_euclid(NANOS_PER_MILLI);
    i64::try_from(millis).unwrap_or(i64::MAX).max(1)
}

/// `now` in whole Unix milliseconds, rounded down: a record is due for sweeping when its
/// [`expiry_millis`] is at or below this, which implies `expires_at <= now`.
pub(crate) fn now_millis(now: OffsetDateTime) -> i64 {
    i64::try_from(now.unix_timestamp_nanos().div_euclid(NANOS_PER_MILLI)).unwrap_or(i64::MAX)
}

/// `<expires_at>|<JSON of record>`.
pub(crate) fn encode<T: Serialize>(
    family: RecordFamily,
    expires_at: OffsetDateTime,
    record: &T,
) -> Result<String, StoreError> {
    let json = serde_json::to_string(record).map_err(|error| StoreError::Backend {
        message: format!("cannot serialize a {family} record"),
        source: Some(Box::new(error)),
    })?;
    let (seconds, nanos) = seconds_and_nanos(expires_at);
    Ok(format!("{seconds}.{nanos:09}|{json}"))
}

/// The record in a value written by [`encode`].
pub(crate) fn decode<T: DeserializeOwned>(
    family: RecordFamily,
    value: &str,
) -> Result<T, StoreError> {
    let Some((_, json)) = value.split_once('|') else {
        return Err(corrupt(family, None));
    };
    serde_json::from_str(json).map_err(|error| corrupt(family, Some(error)))
}

/// Where an authorization code stands; the first letter of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeState {
    /// Issued, not yet presented (`U`).
    Unused,
    /// A caller is storing its tokens (`C`).
    Claimed,
    /// Exchanged for tokens (`R`).
    Redeemed,
}

impl CodeState {
    pub(crate) fn letter(self) -> &'static str {
        match self {
            CodeState::Unused => "U",
            CodeState::Claimed => "C",
            CodeState::Redeemed => "R",
        }
    }

    pub(crate) fn from_letter(letter: &str) -> Option<CodeState> {
        match letter {
            "U" => Some(CodeState::Unused),
            "C" => Some(CodeState::Claimed),
            "R" => Some(CodeState::Redeemed),
            _ => None,
        }
    }
}

/// A code's value: its state letter, then [`encode`]d.
pub(crate) fn encode_code<T: Serialize>(
    state: CodeState,
    expires_at: OffsetDateTime,
    record: &T,
) -> Result<String, StoreError> {
    let encoded = encode(RecordFamily::AuthorizationCode, expires_at, record)?;
    Ok(format!("{}{encoded}", state.letter()))
}

/// A code's state and record from a value written by [`encode_code`].
pub(crate) fn decode_code<T: DeserializeOwned>(value: &str) -> Result<(CodeState, T), StoreError> {
    let family = RecordFamily::AuthorizationCode;
    let state = value
        .get(..1)
        .and_then(CodeState::from_letter)
        .ok_or_else(|| corrupt(family, None))?;
    let rest = value.get(1..).ok_or_else(|| corrupt(family, None))?;
    Ok((state, decode(family, rest)?))
}

#[cfg(test)]
mod tests;
