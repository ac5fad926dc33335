//! The binary at its highest verbosity (`-vvv`: TRACE, dependencies' logs bridged in) logs no
//! secret. The clients' own logging is checked in-process by `tests/clients/logs.rs`.

use vaultwire::sandbox::ids;

use crate::support::Test;

/// Fails naming the line where `secret` appears in `logs`.
fn assert_absent(logs: &str, what: &str, secret: &str) {
    assert!(!secret.is_empty());
    if let Some(at) = logs.find(secret) {
        let line = logs[..at].lines().count();
        panic!("{what} appears in the logs, line {line}");
    }
}

#[test]
fn the_binary_at_the_highest_verbosity_logs_no_secret_either() {
    let test = Test::new();
    let plan = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plans/example.toml"),
    )
    .unwrap();
    test.write("plans/example.toml", &plan);
    let output = test
        .vaultwire(&["-vvv", "plan", "plans/example.toml"])
        .env("VAULTWIRE_SANDBOX_DIR", test.path().join("sb"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("TRACE"), "trace logging was on:\n{stderr}");
    assert!(
        stderr.contains("kubernetes") || stderr.contains("k8s/clusters"),
        "the cluster was read"
    );
    assert_absent(&stderr, "the client secret", ids::CLIENT_SECRET);
    assert_absent(&stderr, "a JWT", "eyJ");
}
