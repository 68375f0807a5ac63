//! Authorization endpoint: RFC 6749 §3.1, §4.1.1-4.1.2, §4.2; RFC 9207 iss. (Being built.)
