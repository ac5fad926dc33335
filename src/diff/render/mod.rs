//! Rendering change sets: human (terminal), JSON (machines), Markdown (pull requests).
//! Renderers read the change set and decide nothing.

pub mod human;
pub mod json;
pub mod lines;
pub mod markdown;
mod yaml;

#[cfg(test)]
mod tests;
