//! The files a sandbox keeps in its directory: CA and leaf certificates, the token signing
//! key, and — for `vaultwire sandbox serve` — `env`, `kubeconfig`, `ca.pem` and `server.json`.
//!
//! Writes are atomic (temporary file, fsync, rename); private keys are mode 0600.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SandboxError;
use crate::ids;
use crate::tls::{self, CaPem};
use crate::token::TokenKeys;

pub const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";
const LEAF_FILE: &str = "tls.pem";
const LEAF_KEY_FILE: &str = "tls-key.pem";
const TOKEN_KEY_FILE: &str = "token-key.der";
pub const ENV_FILE: &str = "env";
pub const KUBECONFIG_FILE: &str = "kubeconfig";
pub const SERVER_FILE: &str = "server.json";
pub const SERVER_LOCK_FILE: &str = "server.lock";

/// Every file a sandbox keeps in its directory (no other may be there: see
/// [`crate::persist::check_directory`]).
pub const ALL_FILES: [&str; 11] = [
    CA_FILE,
    CA_KEY_FILE,
    LEAF_FILE,
    LEAF_KEY_FILE,
    TOKEN_KEY_FILE,
    ENV_FILE,
    KUBECONFIG_FILE,
    SERVER_FILE,
    SERVER_LOCK_FILE,
    crate::persist::WORLD_FILE,
    crate::persist::WORLD_LOCK_FILE,
];

/// A leaf older than this is re-issued at start (it is valid for 397 days).
const LEAF_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(300 * 86_400);

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` atomically, with `mode` permissions.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SandboxError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(mode)
        .open(&temp)
        .map_err(io(&temp))?;
    file.write_all(bytes).map_err(io(&temp))?;
    file.sync_all().map_err(io(&temp))?;
    std::fs::rename(&temp, path).map_err(io(path))
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, SandboxError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SandboxError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The keys and certificates of a sandbox.
pub struct Material {
    pub ca: CaPem,
    pub leaf_cert: String,
    pub leaf_key: String,
    pub token_keys: TokenKeys,
}

/// Fresh material, kept nowhere (memory-only sandboxes).
pub fn ephemeral_material() -> Result<Material, SandboxError> {
    let ca = tls::generate_ca()?;
    let (leaf_cert, leaf_key) = tls::issue_leaf(&ca, jiff::Zoned::now().date())?;
    let (token_keys, _) = TokenKeys::generate()?;
    Ok(Material {
        ca,
        leaf_cert,
        leaf_key,
        token_keys,
    })
}

/// The material in `dir`, creating what is missing. Call under the world lock so two
/// instances starting together agree on one CA and key.
pub fn load_or_create_material(dir: &Path) -> Result<Material, SandboxError> {
    let ca_path = dir.join(CA_FILE);
    let ca_key_path = dir.join(CA_KEY_FILE);
    let ca = match (read_if_exists(&ca_path)?, read_if_exists(&ca_key_path)?) {
        (Some(cert), Some(key)) => CaPem {
            cert: String::from_utf8_lossy(&cert).into_owned(),
            key: String::from_utf8_lossy(&key).into_owned(),
        },
        _ => {
            let ca = tls::generate_ca()?;
            write_atomic(&ca_key_path, ca.key.as_bytes(), 0o600)?;
            write_atomic(&ca_path, ca.cert.as_bytes(), 0o644)?;
            // A new CA invalidates any old leaf.
            let _ = std::fs::remove_file(dir.join(LEAF_FILE));
            ca
        }
    };
    let leaf_path = dir.join(LEAF_FILE);
    let leaf_key_path = dir.join(LEAF_KEY_FILE);
    let fresh = std::fs::metadata(&leaf_path)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age < LEAF_MAX_AGE);
    let (leaf_cert, leaf_key) = match (
        fresh,
        read_if_exists(&leaf_path)?,
        read_if_exists(&leaf_key_path)?,
    ) {
        (true, Some(cert), Some(key)) => (
            String::from_utf8_lossy(&cert).into_owned(),
            String::from_utf8_lossy(&key).into_owned(),
        ),
        _ => {
            let (cert, key) = tls::issue_leaf(&ca, jiff::Zoned::now().date())?;
            write_atomic(&leaf_key_path, key.as_bytes(), 0o600)?;
            write_atomic(&leaf_path, cert.as_bytes(), 0o644)?;
            (cert, key)
        }
    };
    let token_path = dir.join(TOKEN_KEY_FILE);
    let token_keys = match read_if_exists(&token_path)? {
        Some(der) => TokenKeys::from_pkcs8(&der)?,
        None => {
            let (keys, der) = TokenKeys::generate()?;
            write_atomic(&token_path, &der, 0o600)?;
            keys
        }
    };
    Ok(Material {
        ca,
        leaf_cert,
        leaf_key,
        token_keys,
    })
}

/// Single-quotes a value for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// The `env` file: exports pointing Azure SDKs, az, kubectl, curl and vaultwire at a sandbox —
/// at its endpoint by path, and at Azure's own hostnames through it as an HTTPS proxy (the
/// same port spoken to in plain HTTP, see `proxy.rs`). Both spellings of the proxy variables:
/// Python, curl and Go read the lower-case ones too, some in preference.
pub fn env_text(endpoint: &str, dir: &Path) -> String {
    let ca = dir.join(CA_FILE).display().to_string();
    let kubeconfig = dir.join(KUBECONFIG_FILE).display().to_string();
    let proxy = endpoint.replacen("https://", "http://", 1);
    let no_proxy = "127.0.0.1,localhost".to_owned();
    let vars = [
        ("AZURE_AUTHORITY_HOST", format!("{endpoint}/")),
        ("AZURE_TENANT_ID", ids::TENANT_ID.to_owned()),
        ("AZURE_SUBSCRIPTION_ID", ids::SUBSCRIPTION_ID.to_owned()),
        ("AZURE_CLIENT_ID", ids::CLIENT_ID.to_owned()),
        ("AZURE_CLIENT_SECRET", ids::CLIENT_SECRET.to_owned()),
        ("AZURE_RESOURCE_MANAGER_ENDPOINT", format!("{endpoint}/")),
        ("VAULTWIRE_SANDBOX_ENDPOINT", endpoint.to_owned()),
        ("VAULTWIRE_SANDBOX_CA", ca.clone()),
        ("REQUESTS_CA_BUNDLE", ca.clone()),
        ("SSL_CERT_FILE", ca.clone()),
        ("CURL_CA_BUNDLE", ca),
        ("HTTPS_PROXY", proxy.clone()),
        ("https_proxy", proxy),
        ("NO_PROXY", no_proxy.clone()),
        ("no_proxy", no_proxy),
        ("KUBECONFIG", kubeconfig),
    ];
    let mut text = format!(
        "# vaultwire sandbox at {endpoint}. Load it with: . {}\n# The client secret below is only valid against this sandbox.\n",
        dir.join(ENV_FILE).display()
    );
    for (name, value) in vars {
        text.push_str(&format!("export {name}={}\n", shell_quote(&value)));
    }
    text
}

/// `DIR/server.json`: where a running `serve` can be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerInfo {
    /// 1; bumped if the shape changes.
    pub format_version: u32,
    pub endpoint: String,
    pub pid: u32,
    pub ca_file: PathBuf,
}

/// An absolute form of `dir` for the files others read.
pub fn absolute(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_file_exports_every_variable_quoted() {
        let text = env_text("https://127.0.0.1:9443", Path::new("/tmp/it's"));
        assert!(text.contains("export AZURE_AUTHORITY_HOST='https://127.0.0.1:9443/'\n"));
        assert!(text.contains("export VAULTWIRE_SANDBOX_CA='/tmp/it'\\''s/ca.pem'\n"));
        assert!(text.contains("export HTTPS_PROXY='http://127.0.0.1:9443'\n"));
        assert!(text.contains("export https_proxy='http://127.0.0.1:9443'\n"));
        for name in [
            "AZURE_TENANT_ID",
            "AZURE_SUBSCRIPTION_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_RESOURCE_MANAGER_ENDPOINT",
            "VAULTWIRE_SANDBOX_ENDPOINT",
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "CURL_CA_BUNDLE",
            "NO_PROXY",
            "KUBECONFIG",
        ] {
            assert!(text.contains(&format!("export {name}=")), "{name}");
        }
    }

    #[test]
    fn material_is_created_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_material(dir.path()).unwrap();
        let second = load_or_create_material(dir.path()).unwrap();
        assert_eq!(first.ca.cert, second.ca.cert);
        assert_eq!(first.leaf_cert, second.leaf_cert);
        assert_eq!(first.token_keys.kid(), second.token_keys.kid());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("ca-key.pem"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }
}
