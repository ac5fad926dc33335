//! Snapshots of the three renderings of one change set that has every kind of change.

use serde_json::{Value, json};

use crate::diff::action::Action;
use crate::diff::change::{ChangeSet, Drift, Reason, ResourceChange, UNKNOWN};
use crate::diff::render::{human, json as json_render, markdown};
use crate::plan::address::Address;
use crate::state::model::Attributes;

fn attributes(value: Value) -> Attributes {
    serde_json::from_value(value).unwrap()
}

fn manifest(client_id: &str) -> Value {
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "payments-db", "namespace": "payments"},
        "spec": {"provider": "azure", "parameters": {
            "keyvaultName": "kv-vaultwire-demo",
            "userAssignedIdentityID": client_id,
        }},
    })
}

fn sample() -> ChangeSet {
    let mut change_set = ChangeSet {
        changes: vec![
            ResourceChange {
                address: Address::vault("payments"),
                action: Action::Create,
                before: None,
                after: Some(attributes(json!({
                    "name": "kv-vaultwire-demo", "sku": "standard", "tags": {"team": "payments"}
                }))),
                replace_paths: vec![],
                reason: None,
            },
            ResourceChange {
                address: Address::addon("demo"),
                action: Action::Update,
                before: Some(attributes(json!({"enabled": false, "cluster": "aks-demo"}))),
                after: Some(attributes(json!({"enabled": true, "cluster": "aks-demo"}))),
                replace_paths: vec![],
                reason: None,
            },
            ResourceChange {
                address: Address::grant("demo-reads-payments"),
                action: Action::Replace,
                before: Some(attributes(
                    json!({"principal_id": "1111", "role": "Key Vault Secrets User"}),
                )),
                after: Some(attributes(
                    json!({"principal_id": UNKNOWN, "role": "Key Vault Secrets User"}),
                )),
                replace_paths: vec!["principal_id".into()],
                reason: Some(Reason::CannotUpdate(vec!["principal_id".into()])),
            },
            ResourceChange {
                address: Address::spc("payments-db"),
                action: Action::Update,
                before: Some(attributes(
                    json!({"namespace": "payments", "manifest": manifest("aaaa")}),
                )),
                after: Some(attributes(
                    json!({"namespace": "payments", "manifest": manifest("bbbb")}),
                )),
                replace_paths: vec![],
                reason: None,
            },
            ResourceChange {
                address: Address::spc("old"),
                action: Action::Delete,
                before: Some(attributes(json!({"namespace": "shop", "name": "old"}))),
                after: None,
                replace_paths: vec![],
                reason: Some(Reason::NotInPlan),
            },
            ResourceChange {
                address: Address::spc("steady"),
                action: Action::NoOp,
                before: Some(attributes(json!({"namespace": "shop"}))),
                after: Some(attributes(json!({"namespace": "shop"}))),
                replace_paths: vec![],
                reason: None,
            },
        ],
        drift: vec![
            Drift {
                address: Address::addon("demo"),
                before: Some(attributes(json!({"enabled": true}))),
                after: Some(attributes(json!({"enabled": false}))),
            },
            Drift {
                address: Address::grant("demo-reads-payments"),
                before: Some(attributes(json!({"principal_id": "1111"}))),
                after: None,
            },
        ],
        warnings: vec![],
    };
    change_set.normalize();
    change_set
}

#[test]
fn human_rendering() {
    insta::assert_snapshot!(human::render(&sample(), false));
}

#[test]
fn human_rendering_without_changes() {
    let mut change_set = sample();
    change_set
        .changes
        .retain(|change| change.action == Action::NoOp);
    change_set.drift.clear();
    assert_eq!(
        human::render(&change_set, false),
        "No changes. Azure and the clusters match the plan file.\n"
    );
}

#[test]
fn colour_only_when_asked() {
    assert!(!human::render(&sample(), false).contains('\u{1b}'));
    assert!(human::render(&sample(), true).contains("\u{1b}[32m"));
}

#[test]
fn json_rendering() {
    insta::assert_snapshot!(json_render::render(&sample()));
}

#[test]
fn markdown_rendering() {
    insta::assert_snapshot!(markdown::render(&sample(), "plans/example.toml"));
}

#[test]
fn markdown_stays_under_the_comment_limit_and_says_it_was_cut() {
    let mut change_set = ChangeSet::default();
    for index in 0..3000 {
        change_set.changes.push(ResourceChange {
            address: Address::spc(format!("spc-{index:04}")),
            action: Action::Create,
            before: None,
            after: Some(attributes(
                json!({"namespace": "payments", "name": format!("spc-{index:04}")}),
            )),
            replace_paths: vec![],
            reason: None,
        });
    }
    let text = markdown::render(&change_set, "plans/big.toml");
    assert!(text.chars().count() < markdown::MAX_CHARS, "{}", text.len());
    assert!(text.contains("**Truncated:**"));
    assert!(text.contains("Plan: 3000 to add, 0 to change, 0 to destroy."));
    // The collapsible block is closed even when cut.
    assert!(text.contains("```\n\n</details>"));
}
