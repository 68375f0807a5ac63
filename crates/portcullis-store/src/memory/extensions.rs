//! The extension grants' families in memory: device authorizations (RFC 8628) and used
//! assertion identifiers (RFC 7522, RFC 7523).

use std::collections::HashMap;

use async_trait::async_trait;
use portcullis_tokens::TokenHash;
use time::{Duration, OffsetDateTime};

use super::{Expires, Expiring, MemoryStore, lock};
use crate::{
    DeviceAuthorization, DeviceAuthorizationStore, DevicePoll, DeviceStatus, RecordFamily,
    ReplayStore, StoreError,
};

/// How much `slow_down` adds to a device's polling interval (RFC 8628 §3.5: "the interval
/// MUST be increased by 5 seconds for this and all subsequent requests").
const SLOW_DOWN_STEP_SECS: u32 = 5;

impl Expires for DeviceAuthorization {
    fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
}

/// Device authorizations by device code, with the user-code index, under one lock.
#[derive(Debug, Default)]
pub(super) struct DeviceTable {
    by_device: Expiring<DeviceAuthorization>,
    by_user_code: HashMap<TokenHash, TokenHash>,
}

impl DeviceTable {
    fn remove(&mut self, device_code: &TokenHash) -> Option<DeviceAuthorization> {
        let removed = self.by_device.records.remove(device_code)?;
        self.by_user_code.remove(&removed.user_code);
        Some(removed)
    }

    pub(super) fn sweep(&mut self, now: OffsetDateTime, batch: usize) -> usize {
        let swept = self.by_device.sweep(now, batch);
        let live = &self.by_device.records;
        self.by_user_code
            .retain(|_, device_code| live.contains_key(device_code));
        swept
    }

    /// The live request with `user_code`.
    fn by_user_code_mut(
        &mut self,
        user_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Option<&mut DeviceAuthorization> {
        let device_code = self.by_user_code.get(user_code)?;
        self.by_device
            .records
            .get_mut(device_code)
            .filter(|device| !device.is_expired(now))
    }
}

/// When a used assertion identifier may be forgotten.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReplayEntry {
    expires_at: OffsetDateTime,
}

impl Expires for ReplayEntry {
    fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
}

#[async_trait]
impl DeviceAuthorizationStore for MemoryStore {
    async fn insert_device(&self, device: DeviceAuthorization) -> Result<(), StoreError> {
        let now = device.created_at;
        let mut table = lock(&self.devices);
        if let Some(taken) = table.by_user_code.get(&device.user_code).copied() {
            if table.by_device.live(&taken, now).is_some() {
                return Err(StoreError::Conflict {
                    family: RecordFamily::DeviceAuthorization,
                    key: device.user_code.to_string(),
                });
            }
            table.remove(&taken);
        }
        let (device_code, user_code) = (device.device_code, device.user_code);
        if table
            .by_device
            .records
            .get(&device_code)
            .is_some_and(|held| held.is_expired(now))
        {
            table.remove(&device_code);
        }
        table.by_device.insert(
            device_code,
            device,
            now,
            self.limits.devices,
            RecordFamily::DeviceAuthorization,
        )?;
        table.by_user_code.insert(user_code, device_code);
        Ok(())
    }

    async fn device_by_user_code(
        &self,
        user_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        Ok(lock(&self.devices)
            .by_user_code_mut(user_code, now)
            .map(|device| device.clone()))
    }

    async fn decide_device(
        &self,
        user_code: &TokenHash,
        decision: DeviceStatus,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut table = lock(&self.devices);
        match table.by_user_code_mut(user_code, now) {
            Some(device) if device.status == DeviceStatus::Pending => {
                device.status = decision;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn poll_device(
        &self,
        device_code: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<DevicePoll, StoreError> {
        let mut table = lock(&self.devices);
        let Some(device) = table
            .by_device
            .records
            .get_mut(device_code)
            .filter(|device| !device.is_expired(now))
        else {
            return Ok(DevicePoll::Gone);
        };
        match device.status {
            DeviceStatus::Approved { .. } => Ok(table
                .remove(device_code)
                .map_or(DevicePoll::Gone, DevicePoll::Approved)),
            DeviceStatus::Denied => Ok(table
                .remove(device_code)
                .map_or(DevicePoll::Gone, DevicePoll::Denied)),
            DeviceStatus::Pending => {
                let too_soon = device.last_polled_at.is_some_and(|last| {
                    now < last + Duration::seconds(i64::from(device.interval_secs))
                });
                device.last_polled_at = Some(now);
                if too_soon {
                    device.interval_secs = device.interval_secs.saturating_add(SLOW_DOWN_STEP_SECS);
                    Ok(DevicePoll::SlowDown {
                        interval_secs: device.interval_secs,
                    })
                } else {
                    Ok(DevicePoll::Pending)
                }
            }
        }
    }
}

#[async_trait]
impl ReplayStore for MemoryStore {
    async fn first_use(
        &self,
        key: TokenHash,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut replays = lock(&self.replays);
        if replays.live(&key, now).is_some() {
            return Ok(false);
        }
        replays.records.remove(&key);
        replays.insert(
            key,
            ReplayEntry { expires_at },
            now,
            self.limits.replays,
            RecordFamily::UsedAssertion,
        )?;
        Ok(true)
    }
}
