//! The engine: refresh, diff, and walking the change set to apply or destroy it. The async
//! heart of vaultwire; providers do the talking, the engine decides the order.

pub mod backend;
pub mod observe;
pub mod saved;
pub mod walker;
