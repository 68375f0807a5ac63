//! Device authorizations to columns and back, with the conventions of [`crate::codec`].

use portcullis_registry::{ClientId, ScopeSet};
use portcullis_store::{DeviceAuthorization, DeviceStatus, StoreError};

use crate::codec::{corrupt, hash, instant, micros};

const TABLE: &str = "device_authorizations";

/// A row of `device_authorizations`.
#[derive(sqlx::FromRow)]
pub(crate) struct DeviceRow {
    device_code: Vec<u8>,
    user_code: Vec<u8>,
    client_id: String,
    scopes: String,
    status: String,
    subject: Option<String>,
    auth_time: Option<i64>,
    granted_scopes: Option<String>,
    interval_secs: i64,
    last_polled_at: Option<i64>,
    created_at: i64,
    expires_at: i64,
}

fn scopes(text: &str, column: &'static str) -> Result<ScopeSet, StoreError> {
    ScopeSet::parse(text).map_err(|_| corrupt(TABLE, column))
}

impl DeviceRow {
    pub(crate) fn into_record(self) -> Result<DeviceAuthorization, StoreError> {
        let status = match (
            self.status.as_str(),
            self.subject,
            self.auth_time,
            self.granted_scopes,
        ) {
            ("pending", None, None, None) => DeviceStatus::Pending,
            ("denied", None, None, None) => DeviceStatus::Denied,
            ("approved", Some(subject), Some(auth_time), Some(granted)) => DeviceStatus::Approved {
                subject,
                auth_time: instant(auth_time, TABLE, "auth_time")?,
                scopes: scopes(&granted, "granted_scopes")?,
            },
            _ => return Err(corrupt(TABLE, "status")),
        };
        Ok(DeviceAuthorization {
            device_code: hash(&self.device_code, TABLE, "device_code")?,
            user_code: hash(&self.user_code, TABLE, "user_code")?,
            client_id: ClientId::new(self.client_id).map_err(|_| corrupt(TABLE, "client_id"))?,
            scopes: scopes(&self.scopes, "scopes")?,
            status,
            interval_secs: u32::try_from(self.interval_secs)
                .map_err(|_| corrupt(TABLE, "interval_secs"))?,
            last_polled_at: self
                .last_polled_at
                .map(|at| instant(at, TABLE, "last_polled_at"))
                .transpose()?,
            created_at: instant(self.created_at, TABLE, "created_at")?,
            expires_at: instant(self.expires_at, TABLE, "expires_at")?,
        })
    }
}

/// A [`DeviceStatus`] as the columns `status`, `subject`, `auth_time`, `granted_scopes`.
pub(crate) struct StatusColumns {
    pub(crate) status: &'static str,
    pub(crate) subject: Option<String>,
    pub(crate) auth_time: Option<i64>,
    pub(crate) granted_scopes: Option<String>,
}

impl StatusColumns {
    pub(crate) fn of(status: &DeviceStatus) -> StatusColumns {
        match status {
            DeviceStatus::Pending => StatusColumns::bare("pending"),
            DeviceStatus::Denied => StatusColumns::bare("denied"),
            DeviceStatus::Approved {
                subject,
                auth_time,
                scopes,
            } => StatusColumns {
                status: "approved",
                subject: Some(subject.clone()),
                auth_time: Some(micros(*auth_time)),
                granted_scopes: Some(scopes.to_string()),
            },
        }
    }

    fn bare(status: &'static str) -> StatusColumns {
        StatusColumns {
            status,
            subject: None,
            auth_time: None,
            granted_scopes: None,
        }
    }
}
