//! What clients read to find things in ARM: the cloud's metadata endpoint, the generic
//! resources list with the filters az sends (`az keyvault show` without `-g`, `az keyvault
//! list`), the managed HSM lists (empty), role definitions at any scope and the operation
//! status a poller reads.

use serde_json::json;
use vaultwire_sandbox::SandboxOptions;

use crate::support::{
    AKS_API, SUB, VAULTS_API, assert_fields, cluster_path, example, start, start_with, vault_body,
    vault_path,
};

#[tokio::test]
async fn the_metadata_endpoint_has_each_api_versions_shape() {
    let env = start();
    let object = env
        .call(
            "GET",
            "/metadata/endpoints?api-version=2022-09-01",
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(object.body["name"], "sandbox");
    assert_eq!(
        object.body["resourceManager"],
        format!("{}/", env.sandbox.endpoint())
    );
    assert_eq!(
        object.body["authentication"]["loginEndpoint"],
        env.sandbox.endpoint()
    );
    assert_eq!(
        object.body["authentication"]["audiences"][0],
        "https://management.core.windows.net/"
    );
    assert_eq!(object.body["suffixes"]["keyVaultDns"], "vault.azure.net");
    let listed = env
        .call(
            "GET",
            "/metadata/endpoints?api-version=2019-05-01",
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(listed.body[0]["name"], "sandbox");
    let old = env
        .call(
            "GET",
            "/metadata/endpoints?api-version=2015-01-01",
            None,
            None,
        )
        .await
        .expect(200);
    assert!(old.body.get("name").is_none(), "{}", old.body);
    assert_eq!(old.body["galleryEndpoint"], "https://gallery.azure.com/");
}

#[tokio::test]
async fn the_resources_list_filters_by_type_and_name_as_az_asks() {
    let env = start();
    for name in ["kv-alpha", "kv-beta"] {
        env.arm(
            "PUT",
            &format!("{}?{VAULTS_API}", vault_path("rg-demo", name)),
            Some(&vault_body(true)),
        )
        .await;
    }
    let filter =
        |clause: &str| form_urlencoded::byte_serialize(clause.as_bytes()).collect::<String>();
    let one = env
        .arm(
            "GET",
            &format!(
                "/subscriptions/{SUB}/resources?$filter={}&api-version=2015-11-01",
                filter("resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'KV-BETA'")
            ),
            None,
        )
        .await
        .expect(200);
    let values = one.body["value"].as_array().unwrap();
    assert_eq!(values.len(), 1, "{}", one.body);
    assert_eq!(
        values[0]["id"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/kv-beta"
        )
    );
    let published = example("resources/listVault.json");
    assert_fields(
        &values[0],
        &published["responses"]["200"]["body"]["value"][0],
        &[],
    );

    // Paged by `$top`, as the published example is; the next page follows the link.
    let first = env
        .arm(
            "GET",
            &format!(
                "/subscriptions/{SUB}/resources?$filter={}&$top=1&api-version=2015-11-01",
                filter("resourceType eq 'Microsoft.KeyVault/vaults'")
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(first.body["value"].as_array().unwrap().len(), 1);
    let next = first.body["nextLink"].as_str().expect("a next link");
    let path = next.strip_prefix(env.sandbox.endpoint()).unwrap();
    let second = env.arm("GET", path, None).await.expect(200);
    assert_eq!(second.body["value"][0]["name"], "kv-beta");
    assert!(second.body.get("nextLink").is_none(), "{}", second.body);

    // No filter value means no filter (`az resource list`); a resource group narrows it.
    let all = env
        .arm(
            "GET",
            &format!("/subscriptions/{SUB}/resourceGroups/rg-demo/resources?$filter=&api-version=2024-11-01"),
            None,
        )
        .await
        .expect(200);
    let types: Vec<&str> = all.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|resource| resource["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"Microsoft.ContainerService/managedClusters"),
        "{types:?}"
    );
    assert!(types.contains(&"Microsoft.KeyVault/vaults"), "{types:?}");

    let bad = env
        .arm(
            "GET",
            &format!(
                "/subscriptions/{SUB}/resources?$filter={}&api-version=2024-11-01",
                filter("tagName eq 'env'")
            ),
            None,
        )
        .await
        .expect(400);
    assert_eq!(bad.code(), "InvalidFilterInQueryString");
}

#[tokio::test]
async fn managed_hsm_lists_are_empty_in_the_published_shape() {
    let env = start();
    for path in [
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.KeyVault/managedHSMs?api-version=2026-02-01"
        ),
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/managedHSMs?api-version=2026-02-01"
        ),
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.KeyVault/deletedManagedHSMs?api-version=2026-02-01"
        ),
    ] {
        let list = env.arm("GET", &path, None).await.expect(200);
        assert_eq!(list.body, json!({"value": []}), "{path}");
    }
    // The examples' lists have `value` (and `nextLink`, absent when there is no next page).
    let published = example("keyvault/DeletedManagedHsm_List.json");
    assert!(published["responses"]["200"]["body"]["value"].is_array());
}

#[tokio::test]
async fn role_definitions_at_any_scope_carry_the_subscription_level_id_assignments_use() {
    let env = start();
    env.arm(
        "PUT",
        &format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-roles")),
        Some(&vault_body(true)),
    )
    .await;
    let filter: String =
        form_urlencoded::byte_serialize(b"roleName eq 'key vault secrets user'").collect();
    for scope in [
        format!("/subscriptions/{SUB}"),
        format!("/subscriptions/{SUB}/resourceGroups/rg-demo"),
        vault_path("rg-demo", "kv-roles"),
    ] {
        let listed = env
            .arm(
                "GET",
                &format!(
                    "{scope}/providers/Microsoft.Authorization/roleDefinitions?$filter={filter}&api-version=2022-05-01-preview"
                ),
                None,
            )
            .await
            .expect(200);
        assert_eq!(
            listed.body["value"][0]["id"],
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
            ),
            "{scope}"
        );
    }
    let published = example("authorization/GetRoleDefinitionAtScope.json");
    let id = published["responses"]["200"]["body"]["value"][0]["id"]
        .as_str()
        .unwrap();
    assert!(id.starts_with("/subscriptions/"), "{id}");
}

#[tokio::test]
async fn a_running_cluster_operation_tells_pollers_when_to_come_back() {
    let env = start_with(SandboxOptions {
        lro_duration: std::time::Duration::from_secs(3),
        ..SandboxOptions::default()
    });
    let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo"));
    let cluster = env.arm("GET", &path, None).await.expect(200).body;
    let put = env.arm("PUT", &path, Some(&cluster)).await.expect(200);
    let status_url = put.header("azure-asyncoperation").unwrap().to_owned();
    let status_path = status_url.strip_prefix(env.sandbox.endpoint()).unwrap();
    let status = env.arm("GET", status_path, None).await.expect(200);
    assert_eq!(status.body["status"], "InProgress");
    let seconds: u64 = status.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&seconds), "{seconds}");
}
