//! The plan files the scenarios apply: S1 is `plans/example.toml` as shipped; S2 and S3 are
//! generated here, shaped like the example (RBAC vaults, an add-on per cluster, the add-on
//! identity granted `Key Vault Secrets User`, SecretProviderClasses with two secrets and a
//! synced Kubernetes Secret).

use std::fmt::Write;

/// The `[target]` every generated plan uses: the sandbox.
const TARGET: &str = r#"version = 1

[target]
cloud = "sandbox"
subscription_id = "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
tenant_id = "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c"
"#;

/// The names of `count` clusters: the seeded `aks-demo` and `aks-01`… as extra clusters.
pub fn cluster_names(count: usize) -> Vec<String> {
    (0..count)
        .map(|index| {
            if index == 0 {
                "aks-demo".to_owned()
            } else {
                format!("aks-{index:02}")
            }
        })
        .collect()
}

/// Namespaces for S3: `ns-000`…
pub fn namespace_names(count: usize) -> Vec<String> {
    (0..count).map(|index| format!("ns-{index:03}")).collect()
}

/// One vault, add-on and grant per cluster (`c00`, `c01`, …) and `spcs_per_cluster`
/// SecretProviderClasses in each, spread round-robin over `namespaces`.
pub fn generate(clusters: &[String], spcs_per_cluster: usize, namespaces: &[String]) -> String {
    let mut plan = String::from(TARGET);
    for (index, cluster) in clusters.iter().enumerate() {
        let key = format!("c{index:02}");
        // `writeln!` into a String cannot fail.
        let _ = writeln!(
            plan,
            r#"
[vault.{key}]
name = "kv-bench-{key}"
resource_group = "rg-demo"
location = "westeurope"
authorization = "rbac"
soft_delete_retention_days = 7
on_destroy = "delete"

[addon.{key}]
cluster = "{cluster}"
resource_group = "rg-demo"
secret_rotation = true
rotation_poll_interval = "2m"

[grant.{key}-reads]
vault = "{key}"
principal = {{ addon = "{key}" }}
role = "Key Vault Secrets User""#
        );
        for spc in 0..spcs_per_cluster {
            let namespace = namespaces
                .get(spc % namespaces.len().max(1))
                .map_or("default", String::as_str);
            let _ = writeln!(
                plan,
                r#"
[spc.{key}-app-{spc:04}]
addon = "{key}"
namespace = "{namespace}"
vault = "{key}"
identity = {{ addon = "{key}" }}
objects = [
  {{ name = "db-password-{spc}", type = "secret" }},
  {{ name = "db-username-{spc}", type = "secret" }},
]
sync = [
  {{ secret_name = "app-{spc:04}-db", type = "Opaque", data = [
    {{ object = "db-password-{spc}", key = "password" }},
    {{ object = "db-username-{spc}", key = "username" }},
  ] }},
]"#
            );
        }
    }
    plan
}
