//! From plan file text to the typed model: TOML syntax, then every table walked with spans,
//! collecting every problem as a diagnostic instead of stopping at the first.
//!
//! Decoding checks each value on its own (type, allowed values, naming rules) and rules local
//! to one table; checks across resources are `plan::validate`'s. No I/O.

mod addon;
mod choices;
mod document;
mod forms;
mod grant;
mod identity;
mod problems;
mod reader;
mod spc;
mod spc_items;
mod target;
mod values;
mod vault;

pub use document::{Decoded, decode};
