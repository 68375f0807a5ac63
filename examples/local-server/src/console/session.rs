//! Who is signed in to the console: sessions opened with the admin token, kept in this
//! process's memory (a restart signs administrators out), each with its own CSRF token.
//!
//! The session cookie is `HttpOnly`, `SameSite=Strict`, scoped to `/admin`, and `Secure` when
//! the issuer is `https`. Only the SHA-256 of a session id is kept, so the map never holds a
//! usable cookie. Every form carries the session's CSRF token, compared in constant time.
//! The sign-in form, which has no session yet, uses a double-submit cookie instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use portcullis_tokens::{TokenError, TokenHash, random_identifier};
use subtle::ConstantTimeEq as _;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "pc_console";
/// The sign-in form's double-submit cookie.
pub(crate) const SIGN_IN_COOKIE: &str = "pc_console_sign_in";
/// How long a console session lasts after sign-in.
const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);
/// The most sessions kept at once; the oldest is dropped to make room.
const MAX_SESSIONS: usize = 1024;

/// One signed-in administrator.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The token every form of this session must carry.
    pub(crate) csrf: String,
    expires: Instant,
}

impl Session {
    /// Whether `presented` is this session's CSRF token (constant time).
    pub(crate) fn csrf_matches(&self, presented: &str) -> bool {
        same(&self.csrf, presented)
    }
}

/// The open console sessions. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Sessions {
    open: Arc<Mutex<HashMap<TokenHash, Session>>>,
}

impl Sessions {
    /// Opens a session: returns the cookie value (the session id) to send.
    pub(crate) fn open(&self) -> Result<String, TokenError> {
        let id = fresh()?;
        let session = Session {
            csrf: fresh()?,
            expires: Instant::now() + SESSION_LIFETIME,
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        open.retain(|_, session| session.expires > now);
        if open.len() >= MAX_SESSIONS {
            let oldest = open
                .iter()
                .min_by_key(|(_, session)| session.expires)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                open.remove(&oldest);
            }
        }
        open.insert(TokenHash::of(&id), session);
        Ok(id)
    }

    /// The live session the request's cookie names, if any.
    pub(crate) fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&TokenHash::of(id))
            .filter(|session| session.expires > Instant::now())
            .cloned()
    }

    /// Ends the session the request's cookie names.
    pub(crate) fn close(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, SESSION_COOKIE) {
            self.open
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&TokenHash::of(id));
        }
    }
}

/// 256 bits from the operating system, base64url.
pub(crate) fn fresh() -> Result<String, TokenError> {
    Ok(format!("{}{}", random_identifier()?, random_identifier()?))
}

/// Whether two secrets are equal, in time independent of where they differ.
pub(crate) fn same(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// The value of the cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for the console: `HttpOnly`, `SameSite=Strict`, `Path=/admin`,
/// `Secure` when asked; `max_age` `None` for a browser-session cookie, `Some(0)` to delete.
pub(crate) fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Strict");
    if let Some(max_age) = max_age {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The session lifetime in seconds, for the cookie's `Max-Age`.
pub(crate) fn session_max_age() -> u64 {
    SESSION_LIFETIME.as_secs()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_session_is_found_by_its_cookie_until_closed() {
        let sessions = Sessions::default();
        let id = sessions.open().unwrap();
        let headers = with_cookie(&format!("other=1; {SESSION_COOKIE}={id}"));
        let session = sessions.find(&headers).unwrap();
        assert!(session.csrf_matches(&session.csrf.clone()));
        assert!(!session.csrf_matches(""));
        assert!(!session.csrf_matches("guess"));
        assert!(
            sessions
                .find(&with_cookie(&format!("{SESSION_COOKIE}=x")))
                .is_none()
        );
        sessions.close(&headers);
        assert!(sessions.find(&headers).is_none());
    }

    #[test]
    fn sessions_are_bounded() {
        let sessions = Sessions::default();
        let first = sessions.open().unwrap();
        for _ in 0..MAX_SESSIONS {
            sessions.open().unwrap();
        }
        let len = sessions.open.lock().unwrap().len();
        assert_eq!(len, MAX_SESSIONS);
        assert!(
            sessions
                .find(&with_cookie(&format!("{SESSION_COOKIE}={first}")))
                .is_none()
        );
    }

    #[test]
    fn cookies_are_strict_and_scoped() {
        let cookie = set_cookie(SESSION_COOKIE, "v", true, Some(60));
        assert_eq!(
            cookie,
            "pc_console=v; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        assert!(!same("", ""));
        assert!(same("abc", "abc"));
    }
}
