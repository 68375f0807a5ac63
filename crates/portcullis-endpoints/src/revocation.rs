//! Token revocation: RFC 7009. (Being built.)
