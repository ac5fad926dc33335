//! The command-line contract: every subcommand is documented, unbuilt ones fail loudly.

use crate::support::Test;

#[test]
fn help_lists_every_subcommand_of_the_contract() {
    let output = Test::new().vaultwire(&["--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for command in [
        "validate", "plan", "apply", "destroy", "audit", "migrate", "import", "output", "state",
        "sandbox", "init",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "`{command}` missing from --help:\n{help}"
        );
    }
}

/// Every `--help` is a snapshot: a changed flag or wording shows in review as a text diff.
#[test]
fn every_subcommand_has_its_own_help() {
    let test = Test::new();
    for args in [
        &["--help"][..],
        &["validate", "--help"],
        &["plan", "--help"],
        &["apply", "--help"],
        &["destroy", "--help"],
        &["audit", "--help"],
        &["migrate", "--help"],
        &["import", "--help"],
        &["output", "--help"],
        &["state", "list", "--help"],
        &["state", "show", "--help"],
        &["state", "rm", "--help"],
        &["sandbox", "serve", "--help"],
        &["sandbox", "reset", "--help"],
        &["init", "--help"],
    ] {
        let output = test.vaultwire(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        let name = format!("help {}", args[..args.len() - 1].join(" "));
        insta::assert_snapshot!(
            name.trim().replace(' ', "_"),
            String::from_utf8(output.stdout).unwrap()
        );
    }
}

/// Every subcommand, as a user types it (with the arguments it needs).
const SUBCOMMANDS: &[&[&str]] = &[
    &["validate", "p.toml"],
    &["plan", "p.toml"],
    &["apply", "p.toml"],
    &["destroy", "p.toml"],
    &["audit", "p.toml"],
    &["migrate", "p.toml", "--namespace", "ns"],
    &["import", "p.toml", "vault.x", "id"],
    &["output", "p.toml"],
    &["state", "list", "p.toml"],
    &["state", "show", "p.toml", "vault.x"],
    &["state", "rm", "p.toml", "vault.x"],
    &["sandbox", "serve"],
    &["sandbox", "reset"],
    &["init"],
];

#[test]
fn help_ends_with_the_exit_codes() {
    let output = Test::new().vaultwire(&["--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    let codes = &help[help.find("Exit codes:").expect("an exit code table")..];
    insta::assert_snapshot!(codes);
}

/// A pipeline running `plan --detailed-exitcode` reads 2 as "changes present": a mistyped
/// flag (`--paralelism`) must not look like that, on any subcommand (regression: clap's 2).
#[test]
fn a_usage_error_exits_1_on_every_subcommand_even_with_detailed_exitcode() {
    let test = Test::new();
    for command in SUBCOMMANDS {
        for bad in [&["--paralelism", "4"][..], &["--detailed-exitcode"]] {
            let args: Vec<&str> = command.iter().chain(bad).copied().collect();
            if args == ["plan", "p.toml", "--detailed-exitcode"] {
                continue;
            }
            let output = test.vaultwire(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(stderr.contains(bad[0]), "{args:?} names the flag: {stderr}");
        }
    }
    for args in [
        &["plan", "p.toml", "--detailed-exitcode", "--frobnicate"][..],
        &["plan", "--detailed-exitcode"],
        &["frobnicate"],
        &[],
        &["state"],
    ] {
        let output = test.vaultwire(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let test = Test::new();
    for args in [
        &["--help"][..],
        &["--version"],
        &["plan", "-h"],
        &["state", "rm", "--help"],
    ] {
        let output = test.vaultwire(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?} prints to stdout");
    }
}

/// Every numeric flag says what range it takes, negative numbers included (which clap took
/// for flags: "unexpected argument '-0'").
#[test]
fn every_numeric_flag_gives_its_range() {
    let test = Test::new();
    let serve = &["sandbox", "serve"][..];
    let whole = |max: u64| format!("a whole number from 0 to {max}");
    let cases = [
        (
            &["plan", "p.toml"][..],
            "--parallelism",
            "a whole number from 1 to 256".to_owned(),
        ),
        (
            &["apply", "p.toml"],
            "--parallelism",
            "a whole number from 1 to 256".to_owned(),
        ),
        (
            &["destroy", "p.toml"],
            "--parallelism",
            "a whole number from 1 to 256".to_owned(),
        ),
        (serve, "--port", whole(65535)),
        (serve, "--seed", whole(u64::MAX)),
        (serve, "--latency-ms", whole(600_000)),
        (serve, "--lro-ms", whole(600_000)),
        (serve, "--rbac-delay-ms", whole(600_000)),
        (serve, "--throttle-rate", "between 0 and 1".to_owned()),
        (serve, "--error-rate", "between 0 and 1".to_owned()),
        (serve, "--drop-rate", "between 0 and 1".to_owned()),
    ];
    for (command, flag, range) in &cases {
        let too_big = if range.starts_with("a whole") {
            "99999999999999999999"
        } else {
            "1.5"
        };
        for value in ["-0.5", "-1", too_big, "ten", "NaN"] {
            let mut args = command.to_vec();
            args.extend([*flag, value]);
            let output = test.vaultwire(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
            assert_eq!(
                stderr,
                format!("error: `{flag}` must be {range}, not {value}\n"),
                "{args:?} names the flag, the value and the range"
            );
        }
    }
}
