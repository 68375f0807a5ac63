//! The SQLite store against the whole conformance kit, each case on a database file of its
//! own.

mod support;

portcullis_store::conformance_tests!(support::sqlite_store);
