//! The command-line contract: every subcommand is documented, unbuilt ones fail loudly.

use crate::support::Test;

#[test]
fn help_lists_every_subcommand_of_the_contract() {
    let output = Test::new().vaultwire(&["--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in [
        "validate", "plan", "apply", "destroy", "audit", "import", "state", "sandbox", "init",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "`{command}` missing from --help:\n{help}"
        );
    }
}

#[test]
fn every_subcommand_has_its_own_help() {
    let test = Test::new();
    for args in [
        &["validate", "--help"][..],
        &["plan", "--help"],
        &["apply", "--help"],
        &["destroy", "--help"],
        &["audit", "--help"],
        &["import", "--help"],
        &["state", "list", "--help"],
        &["state", "show", "--help"],
        &["state", "rm", "--help"],
        &["sandbox", "serve", "--help"],
        &["sandbox", "reset", "--help"],
        &["init", "--help"],
    ] {
        test.vaultwire(args).assert().success();
    }
}

#[test]
fn unknown_flags_are_usage_errors() {
    let output = Test::new()
        .vaultwire(&["plan", "p.toml", "--frobnicate"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--frobnicate"));
}
