//! The report's formats. Renderers decide nothing: they lay out a [`Report`] that is already
//! complete.
//!
//! [`Report`]: crate::audit::model::Report

pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

#[cfg(test)]
mod tests;
