//! The PostgreSQL store against the whole conformance kit, each case in a schema of its own
//! (`t_<random>`, dropped afterwards) of the database at `PORTCULLIS_TEST_POSTGRES`
//! (default `postgres://postgres@127.0.0.1:5432/test`).
//!
//! When the server cannot be reached the tests fail if `CI` is set; otherwise each case
//! prints `skipped: PostgreSQL unreachable at …` and passes without running.

mod support;

portcullis_store::conformance_tests!(optional support::postgres_store);
