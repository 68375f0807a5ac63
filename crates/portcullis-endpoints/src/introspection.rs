//! Token introspection: RFC 7662. (Being built.)
