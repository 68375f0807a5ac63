#![doc = include_str!("../README.md")]

mod code;
mod encoding;
mod error;
mod pending;
mod scripts;
mod session;
mod store;

pub use error::RedisStoreError;
pub use store::RedisStore;
