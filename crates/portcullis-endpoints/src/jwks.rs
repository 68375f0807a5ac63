//! The JWKS endpoint: the provider's public signing keys (RFC 7517). (Being built.)
