#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portcullis_registry::{ClientKind, NewClient, ScopeCatalog};

use super::*;

fn client(id: &str) -> Client {
    NewClient::new("Cached", ClientKind::Machine)
        .client_id(id)
        .build(&ScopeCatalog::with_oidc_scopes())
        .expect("valid client")
        .client
}

#[test]
fn a_kept_client_is_served_from_the_cache() {
    let cache = ReadCache::with_ttl(crate::CACHE_TTL);
    let a = client("a");
    let generation = cache.client(&a.id).expect_err("empty cache");
    cache.keep_client(generation, &a);
    assert_eq!(cache.client(&a.id), Ok(a));
}

#[test]
fn invalidation_forgets_the_client() {
    let cache = ReadCache::with_ttl(crate::CACHE_TTL);
    let generation = cache.client(&client("a").id).expect_err("empty cache");
    cache.keep_client(generation, &client("a"));
    cache.invalidate_client(&client("a").id);
    assert!(cache.client(&client("a").id).is_err());
}

#[test]
fn a_read_that_raced_with_a_write_is_not_kept() {
    let cache = ReadCache::with_ttl(crate::CACHE_TTL);
    // A reader misses and goes to the database...
    let generation = cache.client(&client("a").id).expect_err("empty cache");
    // ...a writer changes the client and invalidates meanwhile...
    cache.invalidate_client(&client("a").id);
    // ...and what the reader read (possibly the old record) is not kept.
    cache.keep_client(generation, &client("a"));
    assert!(cache.client(&client("a").id).is_err());
}

#[test]
fn scopes_are_kept_and_invalidated_the_same_way() {
    let cache = ReadCache::with_ttl(crate::CACHE_TTL);
    let generation = cache.scopes().expect_err("empty cache");
    cache.keep_scopes(generation, &[]);
    assert_eq!(cache.scopes(), Ok(Vec::new()));
    cache.invalidate_scopes();
    let stale = cache.scopes().expect_err("invalidated");
    cache.invalidate_scopes();
    cache.keep_scopes(stale, &[]);
    assert!(cache.scopes().is_err());
}

#[test]
fn a_zero_ttl_caches_nothing() {
    let cache = ReadCache::with_ttl(Duration::ZERO);
    let a = client("a");
    let generation = cache.client(&a.id).expect_err("empty cache");
    cache.keep_client(generation, &a);
    assert!(cache.client(&a.id).is_err());
}

/// Off by default: a store caches only when its owner says it is the database's only writer.
#[test]
fn the_cache_is_off_by_default() {
    let cache = ReadCache::default();
    let a = client("a");
    let generation = cache.client(&a.id).expect_err("empty cache");
    cache.keep_client(generation, &a);
    assert!(cache.client(&a.id).is_err());
}
