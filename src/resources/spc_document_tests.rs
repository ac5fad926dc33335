//! SecretProviderClass rendering: snapshots for both identity kinds, and the `objects` string
//! read back the way the Azure provider reads it.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;
use crate::plan::model::{ObjectType, Spanned, SyncData};

fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(value, 0..0)
}

fn object(name: &str, object_type: ObjectType) -> SpcObject {
    SpcObject {
        span: 0..0,
        name: spanned(name.to_owned()),
        object_type,
        version: None,
        alias: None,
        format: None,
        encoding: None,
        file_permission: None,
    }
}

fn payments_db() -> SpcSpec {
    let certificate = SpcObject {
        alias: Some(spanned("tls.pfx".to_owned())),
        format: Some(ObjectFormat::Pfx),
        encoding: Some(ObjectEncoding::Base64),
        version: Some("4387e9f3d6e14c459867679a90fd0f79".to_owned()),
        file_permission: Some("0640".to_owned()),
        ..object("payments-tls", ObjectType::Secret)
    };
    SpcSpec {
        namespace: "payments".into(),
        name: "payments-db".into(),
        keyvault_name: "kv-vaultwire-demo".into(),
        tenant_id: crate::sandbox::ids::TENANT_ID.into(),
        cloud_name: "AzurePublicCloud".into(),
        identity: SpcIdentityRef::AddonIdentity {
            client_id: "aaaaaaaa-0000-0000-0000-000000000001".into(),
        },
        objects: vec![object("db-password", ObjectType::Secret), certificate],
        sync: vec![SyncSecret {
            span: 0..0,
            secret_name: spanned("payments-db".to_owned()),
            secret_type: spanned("Opaque".to_owned()),
            labels: BTreeMap::from([("team".to_owned(), "payments".to_owned())]),
            annotations: BTreeMap::new(),
            data: vec![SyncData {
                object: spanned("db-password".to_owned()),
                key: spanned("password".to_owned()),
            }],
        }],
    }
}

fn shop_api() -> SpcSpec {
    SpcSpec {
        namespace: "shop".into(),
        name: "shop-api".into(),
        identity: SpcIdentityRef::WorkloadIdentity {
            client_id: "bbbbbbbb-0000-0000-0000-000000000001".into(),
        },
        objects: vec![
            object("api-key", ObjectType::Secret),
            object("signing", ObjectType::Key),
        ],
        sync: Vec::new(),
        ..payments_db()
    }
}

#[test]
fn addon_identity_spc() {
    insta::assert_snapshot!(payments_db().to_yaml());
}

#[test]
fn workload_identity_spc() {
    insta::assert_snapshot!(shop_api().to_yaml());
}

#[test]
fn identity_parameters_follow_the_identity_kind() {
    let addon = payments_db().parameters();
    assert_eq!(addon["usePodIdentity"], "false");
    assert_eq!(addon["useVMManagedIdentity"], "true");
    assert_eq!(
        addon["userAssignedIdentityID"],
        "aaaaaaaa-0000-0000-0000-000000000001"
    );
    assert!(!addon.contains_key("clientID"));

    let workload = shop_api().parameters();
    assert_eq!(workload["clientID"], "bbbbbbbb-0000-0000-0000-000000000001");
    assert!(!workload.contains_key("useVMManagedIdentity"));
    assert!(!workload.contains_key("userAssignedIdentityID"));
    for parameters in [&addon, &workload] {
        assert_eq!(parameters["keyvaultName"], "kv-vaultwire-demo");
        assert_eq!(
            parameters["tenantID"],
            "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"
        );
        assert!(
            !parameters.contains_key("tenantId"),
            "the deprecated spelling"
        );
        assert_eq!(parameters["cloudName"], "AzurePublicCloud");
    }
}

/// `StringArray` in the provider (`pkg/provider/types`): the outer document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StringArray {
    array: Vec<String>,
}

/// `KeyVaultObject` in the provider, with its YAML field names; unknown fields fail the test
/// so a misspelt key cannot slip through (the provider would silently ignore it).
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct KeyVaultObject {
    object_name: String,
    object_type: String,
    #[serde(default)]
    object_version: String,
    #[serde(default)]
    object_alias: String,
    #[serde(default)]
    object_format: String,
    #[serde(default)]
    object_encoding: String,
    #[serde(default)]
    file_permission: String,
}

#[test]
fn objects_parse_the_way_the_provider_parses_them() {
    let parameters = payments_db().parameters();
    let outer: StringArray = serde_norway::from_str(&parameters["objects"]).unwrap();
    let objects: Vec<KeyVaultObject> = outer
        .array
        .iter()
        .map(|item| serde_norway::from_str(item).unwrap())
        .collect();
    assert_eq!(
        objects,
        [
            KeyVaultObject {
                object_name: "db-password".into(),
                object_type: "secret".into(),
                object_version: String::new(),
                object_alias: String::new(),
                object_format: String::new(),
                object_encoding: String::new(),
                file_permission: String::new(),
            },
            KeyVaultObject {
                object_name: "payments-tls".into(),
                object_type: "secret".into(),
                object_version: "4387e9f3d6e14c459867679a90fd0f79".into(),
                object_alias: "tls.pfx".into(),
                object_format: "pfx".into(),
                object_encoding: "base64".into(),
                file_permission: "0640".into(),
            },
        ]
    );
}

#[test]
fn names_yaml_would_misread_stay_strings() {
    let parameters = SpcSpec {
        objects: vec![
            object("true", ObjectType::Secret),
            object("0755", ObjectType::Key),
        ],
        ..shop_api()
    }
    .parameters();
    let outer: StringArray = serde_norway::from_str(&parameters["objects"]).unwrap();
    let names: Vec<String> = outer
        .array
        .iter()
        .map(|item| {
            serde_norway::from_str::<KeyVaultObject>(item)
                .unwrap()
                .object_name
        })
        .collect();
    assert_eq!(names, ["true", "0755"]);
}

#[test]
fn the_manifest_matches_the_published_crd() {
    let crd: serde_json::Value = serde_norway::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/spec-examples/kubernetes/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(crd["spec"]["group"], GROUP);
    assert_eq!(crd["spec"]["names"]["plural"], PLURAL);
    assert_eq!(crd["spec"]["names"]["kind"], KIND);
    let v1 = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|version| version["name"] == VERSION)
        .unwrap();
    assert_eq!(v1["storage"], true);
    let schema = &v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
    let manifest = payments_db().manifest();
    for field in manifest["spec"].as_object().unwrap().keys() {
        assert!(
            schema.get(field).is_some(),
            "`spec.{field}` is not in the CRD"
        );
    }
    let data_schema = &schema["secretObjects"]["items"]["properties"];
    for field in manifest["spec"]["secretObjects"][0]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(
            data_schema.get(field).is_some(),
            "`secretObjects[].{field}` is not in the CRD"
        );
    }
    assert_eq!(manifest["apiVersion"], format!("{GROUP}/{VERSION}"));
    assert_eq!(manifest["kind"], KIND);
}

mod written_like_serde_norway {
    //! The direct writer of KeyVaultObjects must write exactly what `serde_norway` writes, or
    //! an unchanged plan would show every SecretProviderClass as changed.

    use proptest::prelude::*;

    use super::super::KeyVaultObject;

    /// Words of every kind: plain names, YAML keywords in any case, numbers, and punctuation
    /// YAML gives meaning to.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z][A-Za-z0-9_-]{0,12}",
            prop::sample::select(vec![
                "y",
                "N",
                "yes",
                "No",
                "on",
                "OFF",
                "true",
                "False",
                "null",
                "NULL",
                "~",
                "inf",
                "Infinity",
                "nan",
                "NaN",
                ".inf",
                ".nan",
                "0644",
                "1e5",
                "0x1f",
                "-1",
                "+1",
                "a: b",
                "a #b",
                "#a",
                "-a",
                "a-",
                "_a",
                "2001-12-14",
                "",
            ])
            .prop_map(str::to_owned),
            "[ -~]{0,8}",
        ]
    }

    proptest! {
        #[test]
        fn for_any_words(
            name in word(),
            version in proptest::option::of(word()),
            alias in proptest::option::of(word()),
            permission in proptest::option::of(word()),
        ) {
            let object = KeyVaultObject {
                object_name: &name,
                object_type: "secret",
                object_version: version.as_deref(),
                object_alias: alias.as_deref(),
                object_format: Some("pem"),
                object_encoding: None,
                file_permission: permission.as_deref(),
            };
            prop_assert_eq!(object.to_yaml(), serde_norway::to_string(&object).unwrap());
        }
    }

    #[test]
    fn plain_names_are_written_directly() {
        // The fast path is taken (and so tested above) for the usual names.
        assert!(super::super::is_plain_word("db-password"));
        assert!(!super::super::is_plain_word("True"));
        assert!(!super::super::is_plain_word("0644"));
    }
}
