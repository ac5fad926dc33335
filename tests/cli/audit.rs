//! `vaultwire audit` end to end, without a sandbox: what it refuses and how it fails. The runs
//! against the sandbox server (findings before and after apply, no write request in the
//! journal) come with the server.

use crate::support::Test;

#[test]
fn an_invalid_plan_is_an_error_before_anything_is_read() {
    let test = Test::new();
    test.write("plans/bad.toml", "version = 1\n");
    let output = test
        .vaultwire(&["audit", "plans/bad.toml", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "no report for an invalid plan");
}

#[test]
fn the_formats_are_documented_in_help() {
    let test = Test::new();
    let output = test.vaultwire(&["audit", "--help"]).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("human, json, sarif, junit"), "{stdout}");
}
