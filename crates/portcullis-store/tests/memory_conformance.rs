//! The in-memory store against the whole conformance kit.

portcullis_store::conformance_tests!(|| async { portcullis_store::MemoryStore::new() });

mod extensions {
    portcullis_store::extension_conformance_tests!(|| async {
        portcullis_store::MemoryStore::new()
    });
}
