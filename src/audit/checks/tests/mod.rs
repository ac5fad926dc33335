//! Every check, with hand-built gathered data, for each status it can report.

mod spc;
mod support;
mod world;
