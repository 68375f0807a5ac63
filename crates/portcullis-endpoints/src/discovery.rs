//! Discovery: OpenID Connect Discovery 1.0 §3-4 and RFC 8414. (Being built.)
