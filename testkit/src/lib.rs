//! Fixtures the host's integration tests and `cargo xtask loadtest` share. Never a dependency
//! of the product: only dev-dependencies and xtask use it.

pub mod postgres;

pub use postgres::Postgres;
