//! `vaultwire init`: scaffolds a team repository and never overwrites.

use crate::support::Test;

#[test]
fn init_scaffolds_a_repository_named_after_its_directory() {
    let test = Test::new();
    let output = test.vaultwire(&["init", "payments"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("created  plans/payments.toml"), "{stdout}");
    assert!(stdout.contains("created  .github/workflows/vaultwire-payments.yml"));
    assert!(stdout.contains("created  .azure-pipelines/vaultwire-payments.yml"));
    assert!(test.path().join("payments/state/.gitkeep").exists());
}

#[test]
fn init_keeps_existing_files() {
    let test = Test::new();
    test.write("repo/plans/main.toml", "# mine\n");
    let output = test
        .vaultwire(&["init", "repo", "--name", "main"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("kept     plans/main.toml (exists)"),
        "{stdout}"
    );
    assert_eq!(test.read("repo/plans/main.toml"), "# mine\n");
}

#[test]
fn init_rejects_a_name_that_is_not_a_file_stem() {
    Test::new()
        .vaultwire(&["init", "repo", "--name", "../evil"])
        .assert()
        .code(1);
}
