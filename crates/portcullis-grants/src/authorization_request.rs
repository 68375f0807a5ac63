//! Authorization request validation (RFC 6749 §4.1.1, §4.2.1, §3.1.2; OpenID Connect Core
//! §3.1.2.1). (Being built.)
