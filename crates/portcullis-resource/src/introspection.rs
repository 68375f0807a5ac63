//! RFC 7662 introspection of a remote provider. (Being built.)
