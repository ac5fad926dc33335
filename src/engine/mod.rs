//! The engine: refresh, diff, and walking the change set to apply or destroy it. The async
//! heart of vaultwire; providers do the talking, the engine decides the order.

pub mod apply;
pub mod backend;
pub mod events;
pub mod import;
pub mod mounts;
pub mod node;
pub mod observe;
pub mod outputs;
pub mod plan;
pub mod preflight;
pub mod refresh;
pub mod saved;
pub mod schedule;
pub mod state_writer;
pub mod verify;

#[cfg(test)]
pub mod testing;

#[cfg(test)]
mod tests;
