//! The in-memory store against the whole conformance kit.

portcullis_store::conformance_tests!(|| async { portcullis_store::MemoryStore::new() });
