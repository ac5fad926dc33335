//! `vaultwire state list|show|rm`: reading and editing the state file by hand.

use crate::assert_output_snapshot;
use crate::support::Test;

const PLAN: &str = include_str!("../../plans/example.toml");

const STATE: &str = r#"{
  "format_version": 1,
  "lineage": "0b6f9b8e-8d2a-4f7e-9a51-3f1d2c4b5a69",
  "resources": {
    "spc.payments-db": {
      "attributes": {"cluster": "aks-demo", "name": "payments-db", "namespace": "payments"},
      "id": "/subscriptions/x/resourceGroups/rg-demo/providers/Microsoft.ContainerService/managedClusters/aks-demo/namespaces/payments/secretproviderclasses/payments-db"
    },
    "vault.payments": {
      "attributes": {"name": "kv-vaultwire-demo", "sku": "standard"},
      "id": "/subscriptions/x/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/kv-vaultwire-demo",
      "settings": {"on_destroy": "delete"}
    }
  },
  "serial": 4
}
"#;

fn repo() -> Test {
    let test = Test::new();
    test.write("plans/example.toml", PLAN);
    test.write("state/example.state.json", STATE);
    test
}

fn stdout(test: &Test, args: &[&str]) -> String {
    let output = test.vaultwire(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn list_prints_addresses_in_order() {
    let test = repo();
    assert_eq!(
        stdout(&test, &["state", "list", "plans/example.toml"]),
        "vault.payments\nspc.payments-db\n"
    );
}

#[test]
fn show_prints_the_id_and_properties() {
    let test = repo();
    let text = stdout(
        &test,
        &["state", "show", "plans/example.toml", "vault.payments"],
    );
    assert_output_snapshot!("show", text);
}

#[test]
fn rm_forgets_an_address_bumps_the_serial_and_keeps_a_backup() {
    // Under the run lock (a sandbox started in-process for the plan's cluster), and offline.
    for lock in [None, Some("--lock=false")] {
        let test = repo();
        let mut args = vec!["state", "rm", "plans/example.toml", "spc.payments-db"];
        args.extend(lock);
        let text = stdout(&test, &args);
        assert_output_snapshot!("rm", text);
        let state: serde_json::Value =
            serde_json::from_str(&test.read("state/example.state.json")).unwrap();
        assert_eq!(state["serial"], 5, "{lock:?}");
        assert!(state["resources"].get("spc.payments-db").is_none());
        assert!(state["resources"].get("vault.payments").is_some());
        let backup: serde_json::Value =
            serde_json::from_str(&test.read("state/example.state.json.backup")).unwrap();
        assert_eq!(backup["serial"], 4, "{lock:?}");
        assert_eq!(
            test.path().join(".vaultwire").exists(),
            lock.is_none(),
            "{lock:?}: a sandbox is started only to take the lock"
        );
    }
}

#[test]
fn an_unknown_address_is_an_error_that_changes_nothing() {
    let test = repo();
    let output = test
        .vaultwire(&["state", "rm", "plans/example.toml", "grant.nope"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_output_snapshot!("rm_unknown", String::from_utf8_lossy(&output.stderr));
    assert_eq!(test.read("state/example.state.json"), STATE);
    let output = test
        .vaultwire(&["state", "show", "plans/example.toml", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_output_snapshot!("show_nonsense", String::from_utf8_lossy(&output.stderr));
}
