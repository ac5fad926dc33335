//! The engine's test support: an in-memory backend that speaks the engine's protocol.

pub mod fake;

pub use fake::FakeBackend;
