//! The whole conformance kit on `RoutedStore<MemoryStore, RedisStore>`, once with codes in
//! Redis and once with codes in the long-lived store; each case under its own key prefix,
//! whose keys are deleted when it ends.
//!
//! Redis is `PORTCULLIS_TEST_REDIS` (default `redis://127.0.0.1:6379`). When it does not
//! answer, the cases fail if `CI` is set and are skipped with a printed reason otherwise.
//! The case list comes from `portcullis_store::conformance_cases!`, so a new kit case runs
//! here without any change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::future::Future;
use std::sync::Arc;

use portcullis_store::{CodesInShortLived, MemoryStore, RoutedStore, Store, conformance};
use portcullis_store_redis::RedisStore;

/// Runs one case on the store `build` makes from the Redis URL and a fresh prefix.
fn run_case<S, B, BF, C, CF>(build: B, case: C)
where
    S: Store,
    B: FnOnce(String, String) -> BF,
    BF: Future<Output = S>,
    C: FnOnce(Arc<S>) -> CF,
    CF: Future<Output = ()>,
{
    let Some((url, prefix, _cleanup)) = common::setup() else {
        return;
    };
    conformance::run(move || build(url, prefix), case);
}

mod codes_in_redis {
    use super::*;

    async fn store(
        url: String,
        prefix: String,
    ) -> RoutedStore<MemoryStore, RedisStore, CodesInShortLived> {
        RoutedStore::with_short_lived_codes(
            MemoryStore::new(),
            common::connect(&url, &prefix).await,
        )
    }

    macro_rules! cases {
        ([] $($case:ident),+ $(,)?) => {
            $(
                #[test]
                fn $case() {
                    run_case(store, conformance::$case);
                }
            )+
        };
    }

    portcullis_store::conformance_cases!(cases, []);
}

mod codes_in_long_lived {
    use super::*;

    async fn store(url: String, prefix: String) -> RoutedStore<MemoryStore, RedisStore> {
        RoutedStore::new(MemoryStore::new(), common::connect(&url, &prefix).await)
    }

    macro_rules! cases {
        ([] $($case:ident),+ $(,)?) => {
            $(
                #[test]
                fn $case() {
                    run_case(store, conformance::$case);
                }
            )+
        };
    }

    portcullis_store::conformance_cases!(cases, []);
}
