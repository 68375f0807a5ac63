//! The admin token: `Authorization: Bearer <admin token>` on every admin API request
//! (RFC 6750 §2.1), compared in constant time; without it or with a wrong one, `401` with
//! `WWW-Authenticate: Bearer` (RFC 6750 §3).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portcullis_tokens::{TokenHash, random_identifier};
use serde_json::json;
use subtle::ConstantTimeEq as _;

/// The realm named in the admin API's challenges.
const REALM: &str = "portcullis-admin";

/// The admin token, kept only as its SHA-256 so that comparing takes the same time whatever
/// the presented token's length.
#[derive(Clone)]
pub(crate) struct AdminToken(Arc<TokenHash>);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

impl AdminToken {
    /// The token `token` (as given with `--admin-token`).
    pub(crate) fn new(token: &str) -> AdminToken {
        AdminToken(Arc::new(TokenHash::of(token)))
    }

    /// A fresh token: 256 bits from the operating system's random generator, base64url.
    pub(crate) fn generate() -> Result<String, portcullis_tokens::TokenError> {
        Ok(format!("{}{}", random_identifier()?, random_identifier()?))
    }

    /// Whether `presented` is the admin token, compared in constant time. The console's
    /// sign-in form uses this too.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        TokenHash::of(presented)
            .as_bytes()
            .ct_eq(self.0.as_bytes())
            .into()
    }

    /// What the `Authorization` header of `headers` says about the caller.
    fn check(&self, headers: &HeaderMap) -> Verdict {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Verdict::Missing;
        };
        let Ok(value) = value.to_str() else {
            return Verdict::Wrong;
        };
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                if self.matches(token.trim()) {
                    Verdict::Admin
                } else {
                    Verdict::Wrong
                }
            }
            _ => Verdict::Missing,
        }
    }
}

enum Verdict {
    Admin,
    Missing,
    Wrong,
}

/// Middleware: lets the request through only with the admin token.
pub(crate) async fn require_admin(
    State(token): State<AdminToken>,
    request: Request,
    next: Next,
) -> Response {
    match token.check(request.headers()) {
        Verdict::Admin => {
            // Answers may carry a client secret: never cached (RFC 6749 §5.1's rule for
            // token responses, applied to everything the admin API says).
            let mut response = next.run(request).await;
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        // RFC 6750 §3.1: no error code when the request had no credentials.
        Verdict::Missing => unauthorized(
            format!("Bearer realm=\"{REALM}\""),
            "the admin API needs Authorization: Bearer <admin token>",
        ),
        Verdict::Wrong => unauthorized(
            format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
            "the admin token is wrong",
        ),
    }
}

fn unauthorized(challenge: String, description: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (WWW_AUTHENTICATE, challenge),
            (CACHE_CONTROL, "no-store".into()),
        ],
        Json(json!({"error": "invalid_token", "error_description": description})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_matches() {
        let token = AdminToken::new("test-token");
        assert!(token.matches("test-token"));
        assert!(!token.matches("test-token "));
        assert!(!token.matches(""));
        assert!(!token.matches("test"));
    }

    #[test]
    fn generated_tokens_are_long_and_distinct() {
        let (Ok(a), Ok(b)) = (AdminToken::generate(), AdminToken::generate()) else {
            panic!("entropy");
        };
        assert_eq!(a.len(), 44);
        assert_ne!(a, b);
    }
}
