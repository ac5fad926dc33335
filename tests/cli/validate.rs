//! `vaultwire validate`: the verdict on stdout, diagnostics on stderr, exit 0 or 1.

use crate::support::Test;

const VALID: &str = include_str!("../../plans/example.toml");

#[test]
fn a_valid_plan_exits_0_and_says_so() {
    let test = Test::new();
    test.write("plans/example.toml", VALID);
    let output = test
        .vaultwire(&["validate", "plans/example.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "`plans/example.toml` is valid\n"
    );
    assert_eq!(String::from_utf8(output.stderr).unwrap(), "");
}

#[test]
fn warnings_are_printed_and_the_plan_is_still_valid() {
    let test = Test::new();
    test.write(
        "plans/ungranted.toml",
        include_str!("../fixtures/warnings/01-spc-identity-without-grant.toml"),
    );
    let output = test
        .vaultwire(&["validate", "plans/ungranted.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "`plans/ungranted.toml` is valid, with 1 warning\n"
    );
    assert!(
        stderr.contains("no grant lets the identity of `spc.payments-db` read vault `payments`"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_plan_exits_1_with_file_line_and_column() {
    let test = Test::new();
    test.write(
        "plans/bad.toml",
        &VALID.replace("name = \"kv-vaultwire-demo\"", "name = \"kv--demo\""),
    );
    let output = test
        .vaultwire(&["validate", "plans/bad.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "");
    let stderr = String::from_utf8(output.stderr).unwrap();
    // The caret's line is wherever the example keeps the vault's name.
    let line = VALID
        .lines()
        .position(|line| line.starts_with("name = \"kv-vaultwire-demo\""))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("[plans/bad.toml:{line}:8]")),
        "{stderr}"
    );
    assert!(
        stderr.contains("`kv--demo` is not a valid Key Vault name"),
        "{stderr}"
    );
    assert!(stderr.contains("contains `--`"), "{stderr}");
    assert!(
        stderr.ends_with("error: `plans/bad.toml` has 1 error\n"),
        "{stderr}"
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let output = Test::new()
        .vaultwire(&["validate", "plans/missing.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: cannot read `plans/missing.toml`\n  caused by: "),
        "{stderr}"
    );
}
