//! Signing in to Azure: which credential the plan and the environment select, and the
//! azure_identity credential built from it.

mod cache;
mod sign_in;
mod source;

pub use sign_in::{Attempt, AttemptFailure, AuthError, Credential, sign_in};
pub use source::{CredentialKind, CredentialSource, NotUsable, candidates};
