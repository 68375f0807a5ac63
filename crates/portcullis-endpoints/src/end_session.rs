//! End-session endpoint: OpenID Connect RP-Initiated Logout 1.0. (Being built.)
