//! Micro-benchmarks of the work one request does besides storage: minting and hashing a
//! token, verifying a client secret, signing and verifying a JWT per algorithm, parsing a
//! scope, matching a redirect URI. No I/O; each runs on one core.
//!
//! `cargo bench --bench primitives`; results and the machine they ran on are in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_registry::{ClientKind, ClientSecret, ClientSecretHash, RedirectUri, ScopeSet};
use portcullis_tokens::{
    JwtExpectations, SigningAlgorithm, SigningKey, TokenHash, TokenKind, mint,
};
use serde_json::json;
use time::OffsetDateTime;

fn tokens(c: &mut Criterion) {
    let mut group = c.benchmark_group("token");
    group.bench_function("mint_access_token", |b| {
        b.iter(|| mint(TokenKind::AccessToken).unwrap());
    });
    let raw = mint(TokenKind::AccessToken).unwrap();
    group.bench_function("lookup_key_sha256", |b| {
        b.iter(|| black_box(&raw).lookup_key());
    });
    let presented = raw.expose_secret().to_owned();
    group.bench_function("hash_presented_token", |b| {
        b.iter(|| TokenHash::of(black_box(&presented)));
    });
    group.finish();
}

fn client_secrets(c: &mut Criterion) {
    let secret = ClientSecret::generate().unwrap();
    let hash = secret.hash();
    let presented = secret.expose_secret().to_owned();
    let mut group = c.benchmark_group("client_secret");
    group.bench_function("verify_right", |b| {
        b.iter(|| assert!(hash.verify(black_box(&presented))));
    });
    group.bench_function("verify_wrong", |b| {
        b.iter(|| assert!(!hash.verify(black_box("not-the-secret"))));
    });
    group.bench_function("generate_and_hash", |b| {
        b.iter(|| ClientSecret::generate().unwrap().hash());
    });
    let _: ClientSecretHash = hash;
    group.finish();
}

fn jwts(c: &mut Criterion) {
    let now = OffsetDateTime::now_utc();
    let claims = json!({
        "iss": "https://id.example",
        "sub": "bench-m2m",
        "aud": "https://id.example",
        "client_id": "bench-m2m",
        "scope": "api",
        "jti": "0123456789abcdef0123456789abcdef",
        "iat": now.unix_timestamp(),
        "exp": now.unix_timestamp() + 3600,
    });
    let mut group = c.benchmark_group("jwt");
    for algorithm in [
        SigningAlgorithm::ES256,
        SigningAlgorithm::EdDSA,
        SigningAlgorithm::RS256,
    ] {
        let key = SigningKey::generate(algorithm).unwrap();
        let name = format!("{algorithm:?}");
        group.bench_function(format!("{name}/sign"), |b| {
            b.iter(|| key.sign(Some("at+jwt"), black_box(&claims)).unwrap());
        });
        let token = key.sign(Some("at+jwt"), &claims).unwrap();
        let expect = JwtExpectations::new("https://id.example", now).with_typ("at+jwt");
        let public = key.public_key().clone();
        group.bench_function(format!("{name}/verify"), |b| {
            b.iter(|| {
                public
                    .verify::<serde_json::Value>(black_box(&token), &expect)
                    .unwrap()
            });
        });
    }
    group.finish();
}

fn registry(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry");
    group.bench_function("scope_parse_3", |b| {
        b.iter(|| ScopeSet::parse(black_box("openid profile view:users")).unwrap());
    });
    let exact = RedirectUri::parse("https://app.example/callback", ClientKind::Web).unwrap();
    group.bench_function("redirect_exact_match", |b| {
        b.iter(|| assert!(exact.matches(black_box("https://app.example/callback"))));
    });
    group.bench_function("redirect_exact_mismatch", |b| {
        b.iter(|| assert!(!exact.matches(black_box("https://app.example/callback/"))));
    });
    let loopback = RedirectUri::parse("http://127.0.0.1/callback", ClientKind::Native).unwrap();
    group.bench_function("redirect_loopback_any_port", |b| {
        b.iter(|| assert!(loopback.matches(black_box("http://127.0.0.1:51234/callback"))));
    });
    group.finish();
}

criterion_group!(benches, tokens, client_secrets, jwts, registry);
criterion_main!(benches);
