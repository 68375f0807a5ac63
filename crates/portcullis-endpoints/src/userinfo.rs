//! UserInfo endpoint: OpenID Connect Core §5.3. (Being built.)
