//! Why a sandbox could not start or keep its files.

use std::path::PathBuf;

use crate::persist::PersistError;
use crate::tls::TlsError;
use crate::token::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Persist(#[from] PersistError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot use the sandbox's token signing key")]
    Token(#[from] TokenError),
    #[error("cannot write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the sandbox's runtime")]
    Runtime(#[source] std::io::Error),
    #[error("`{name}` is not a valid aks cluster name")]
    InvalidClusterName { name: String },
    #[error("the sandbox in `{}` is already served at {endpoint}", dir.display())]
    AlreadyServed { dir: PathBuf, endpoint: String },
}

impl SandboxError {
    pub fn help(&self) -> Option<String> {
        match self {
            SandboxError::Persist(error) => error.help(),
            SandboxError::AlreadyServed { dir, .. } => Some(format!(
                "use it (`. {}/env`), or stop it first",
                dir.display()
            )),
            SandboxError::InvalidClusterName { .. } => Some(
                "use 1-63 letters, digits, `-` or `_`, starting and ending with a letter or digit"
                    .to_owned(),
            ),
            SandboxError::Bind { .. } => {
                Some("choose another `--port`, or 0 for any free one".to_owned())
            }
            _ => None,
        }
    }
}
