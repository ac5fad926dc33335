//! Commands whose engine has not landed yet. They fail loudly rather than pretend to succeed.

use crate::error::Error;

/// The error for `vaultwire COMMAND` until it is built.
pub fn not_built(command: &'static str) -> Error {
    Error::NotBuilt {
        command,
        help: "see the README's \"Status\" section for what works today",
    }
}
