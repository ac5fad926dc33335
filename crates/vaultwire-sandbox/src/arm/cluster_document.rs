//! The managed-cluster document: turning a PUT body into the stored cluster (keeping what the
//! client sent, filling what AKS owns) and rendering it back.
//!
//! AKS owns: provisioning and power state, versions, FQDNs, the node resource group, agent
//! pool read-only fields, identities (cluster, kubelet, add-ons) and the eTag. Secrets a client
//! sends (service principal secret, Windows admin password) are never stored.

use serde_json::{Map, Value, json};

use crate::model::ManagedCluster;
use crate::seed::{KUBERNETES_VERSION, create_identity, identity_block};
use crate::world::{World, derived_uuid};

type Object = Map<String, Value>;

/// The cluster's `oidcIssuerProfile` after a PUT: an issuer once on stays on with its URL
/// (AKS cannot turn it off); one a PUT turns on gets its URL,
/// `https://<location>.oic.prod-aks.azure.com/<tenant>/<guid>/`. `None`: as the PUT sent it.
fn oidc_issuer(
    seed: u64,
    tenant_id: &str,
    old: Option<&Object>,
    props: &Object,
    rg: &str,
    name: &str,
    location: &str,
) -> Option<Value> {
    let enabled = |profile: Option<&Value>| {
        profile
            .and_then(|profile| profile.get("enabled"))
            .and_then(Value::as_bool)
            == Some(true)
    };
    let before = old.and_then(|old| old.get("oidcIssuerProfile"));
    if enabled(before) {
        return before.cloned();
    }
    if !enabled(props.get("oidcIssuerProfile")) {
        return before.cloned();
    }
    let guid = derived_uuid(seed, &format!("oidc:{rg}/{name}").to_ascii_lowercase());
    Some(json!({
        "enabled": true,
        "issuerURL": format!("https://{location}.oic.prod-aks.azure.com/{tenant_id}/{guid}/"),
    }))
}

/// The stored properties for a PUT of `body` (already known to be an object), given the
/// cluster it replaces, if any. `state` is `Creating` or `Updating`.
#[expect(
    clippy::too_many_arguments,
    reason = "the cluster's identity (seed, tenant, name, group, location) and the PUT"
)]
pub fn prepared_properties(
    seed: u64,
    tenant_id: &str,
    existing: Option<&ManagedCluster>,
    body: &Object,
    name: &str,
    rg: &str,
    location: &str,
    state: &str,
) -> Object {
    let mut props: Object = body
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let old = existing.map(|cluster| &cluster.properties);
    let version = props
        .get("kubernetesVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or(KUBERNETES_VERSION)
        .to_owned();
    let dns_prefix = props
        .get("dnsPrefix")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{name}-dns"));
    let suffix: String = derived_uuid(seed, &format!("fqdn:{rg}/{name}"))
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let keep = |key: &str, default: Value| old.and_then(|o| o.get(key)).cloned().unwrap_or(default);
    let nrg = keep(
        "nodeResourceGroup",
        json!(
            props
                .get("nodeResourceGroup")
                .and_then(Value::as_str)
                .map_or_else(|| format!("MC_{rg}_{name}_{location}"), str::to_owned)
        ),
    );
    let set = |props: &mut Object, key: &str, value: Value| {
        props.insert(key.to_owned(), value);
    };
    set(&mut props, "provisioningState", json!(state));
    set(&mut props, "powerState", json!({"code": "Running"}));
    set(&mut props, "kubernetesVersion", json!(version));
    set(&mut props, "currentKubernetesVersion", json!(version));
    set(&mut props, "dnsPrefix", json!(dns_prefix));
    set(
        &mut props,
        "fqdn",
        keep(
            "fqdn",
            json!(format!("{dns_prefix}-{suffix}.hcp.{location}.azmk8s.io")),
        ),
    );
    set(
        &mut props,
        "azurePortalFQDN",
        keep(
            "azurePortalFQDN",
            json!(format!(
                "{dns_prefix}-{suffix}.portal.hcp.{location}.azmk8s.io"
            )),
        ),
    );
    set(&mut props, "nodeResourceGroup", nrg);
    set(&mut props, "maxAgentPools", json!(100));
    if !props.contains_key("enableRBAC") {
        set(&mut props, "enableRBAC", json!(true));
    }
    for key in ["identityProfile", "resourceUID"] {
        if let Some(value) = old.and_then(|o| o.get(key)) {
            props.insert(key.to_owned(), value.clone());
        }
    }
    let issuer = oidc_issuer(seed, tenant_id, old, &props, rg, name, location);
    if let Some(issuer) = issuer {
        props.insert("oidcIssuerProfile".to_owned(), issuer);
    }
    if let Some(sp) = props
        .get_mut("servicePrincipalProfile")
        .and_then(Value::as_object_mut)
    {
        sp.remove("secret");
    }
    // A managed-identity cluster has no service principal: AKS reports `{"clientId": "msi"}`
    // whatever a PUT sends, and azure-cli's add-on commands read it (`az aks enable-addons`
    // fails with "'NoneType' object has no attribute 'client_id'" without it).
    let identity = body
        .get("identity")
        .or_else(|| existing.and_then(|cluster| cluster.identity.as_ref()));
    if uses_managed_identity(identity) && !props.contains_key("servicePrincipalProfile") {
        set(
            &mut props,
            "servicePrincipalProfile",
            json!({"clientId": "msi"}),
        );
    }
    if let Some(windows) = props
        .get_mut("windowsProfile")
        .and_then(Value::as_object_mut)
    {
        windows.remove("adminPassword");
    }
    fill_agent_pools(&mut props, old, &version, seed, state, name);
    let nrg_name = props
        .get("nodeResourceGroup")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    fill_network_profile(&mut props, &nrg_name, seed, name);
    keep_addon_identities(&mut props, old);
    props
}

fn fill_agent_pools(
    props: &mut Object,
    old: Option<&Object>,
    version: &str,
    seed: u64,
    state: &str,
    name: &str,
) {
    let Some(pools) = props
        .get_mut("agentPoolProfiles")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
        let pool_name = pool
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("nodepool1")
            .to_owned();
        let old_pool = old
            .and_then(|o| o.get("agentPoolProfiles"))
            .and_then(Value::as_array)
            .and_then(|pools| {
                pools
                    .iter()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(pool_name.as_str()))
            });
        let defaults = [
            ("type", json!("VirtualMachineScaleSets")),
            ("mode", json!("System")),
            ("osType", json!("Linux")),
            ("maxPods", json!(110)),
            ("count", json!(1)),
            ("enableEncryptionAtHost", json!(false)),
            ("enableNodePublicIP", json!(false)),
        ];
        for (key, value) in defaults {
            pool.entry(key.to_owned()).or_insert(value);
        }
        pool.insert("provisioningState".to_owned(), json!(state));
        pool.insert("powerState".to_owned(), json!({"code": "Running"}));
        pool.insert("orchestratorVersion".to_owned(), json!(version));
        pool.insert("currentOrchestratorVersion".to_owned(), json!(version));
        pool.insert(
            "nodeImageVersion".to_owned(),
            json!("AKSUbuntu-2204gen2containerd-202511.03.0"),
        );
        let etag = old_pool
            .and_then(|p| p.get("eTag"))
            .cloned()
            .unwrap_or_else(|| json!(derived_uuid(seed, &format!("{name}:{pool_name}:etag"))));
        pool.insert("eTag".to_owned(), etag);
    }
}

fn fill_network_profile(props: &mut Object, nrg: &str, seed: u64, cluster: &str) {
    let network = props
        .entry("networkProfile".to_owned())
        .or_insert_with(|| json!({}));
    let Some(network) = network.as_object_mut() else {
        return;
    };
    let defaults = [
        ("networkPlugin", json!("kubenet")),
        ("loadBalancerSku", json!("standard")),
        ("outboundType", json!("loadBalancer")),
        ("podCidr", json!("10.244.0.0/16")),
        ("serviceCidr", json!("10.0.0.0/16")),
        ("dnsServiceIP", json!("10.0.0.10")),
        ("podCidrs", json!(["10.244.0.0/16"])),
        ("serviceCidrs", json!(["10.0.0.0/16"])),
        ("ipFamilies", json!(["IPv4"])),
    ];
    for (key, value) in defaults {
        network.entry(key.to_owned()).or_insert(value);
    }
    let outbound = network.get("outboundType").and_then(Value::as_str) == Some("loadBalancer");
    if !outbound {
        return;
    }
    let balancer = network
        .entry("loadBalancerProfile".to_owned())
        .or_insert_with(|| json!({}));
    let Some(balancer) = balancer.as_object_mut() else {
        return;
    };
    let count = balancer
        .get("managedOutboundIPs")
        .and_then(|m| m.get("count"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    balancer
        .entry("managedOutboundIPs".to_owned())
        .or_insert_with(|| json!({"count": count}));
    balancer
        .entry("allocatedOutboundPorts".to_owned())
        .or_insert(json!(0));
    balancer
        .entry("idleTimeoutInMinutes".to_owned())
        .or_insert(json!(30));
    // AKS creates the managed outbound IPs in the node resource group (the subscription is
    // the sandbox's one).
    let ips: Vec<Value> = (1..=count)
        .map(|n| {
            json!({"id": format!(
                "/subscriptions/{}/resourceGroups/{nrg}/providers/Microsoft.Network/publicIPAddresses/{}",
                crate::ids::SUBSCRIPTION_ID,
                derived_uuid(seed, &format!("{cluster}:outbound-ip:{n}"))
            )})
        })
        .collect();
    balancer.insert("effectiveOutboundIPs".to_owned(), json!(ips));
}

/// Whether the cluster `identity` block is a managed identity (system- or user-assigned).
fn uses_managed_identity(identity: Option<&Value>) -> bool {
    identity
        .and_then(|identity| identity.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|kind| {
            kind.eq_ignore_ascii_case("SystemAssigned") || kind.eq_ignore_ascii_case("UserAssigned")
        })
}

/// Add-on identities are read-only: an enabled add-on keeps the identity it had, whatever the
/// PUT says; a disabled or new one has none until the operation finishes.
fn keep_addon_identities(props: &mut Object, old: Option<&Object>) {
    let Some(profiles) = props
        .get_mut("addonProfiles")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (key, profile) in profiles.iter_mut() {
        let Some(profile) = profile.as_object_mut() else {
            continue;
        };
        let enabled = profile.get("enabled").and_then(Value::as_bool) == Some(true);
        let old_identity = old
            .and_then(|o| o.get("addonProfiles"))
            .and_then(|p| p.get(key))
            .filter(|p| p.get("enabled").and_then(Value::as_bool) == Some(true))
            .and_then(|p| p.get("identity"))
            .cloned();
        match (enabled, old_identity) {
            (true, Some(identity)) => {
                profile.insert("identity".to_owned(), identity);
            }
            _ => {
                profile.remove("identity");
            }
        }
    }
}

/// When an operation finishes: every enabled add-on gets its identity
/// (`<add-on lower-cased>-<cluster lower-cased>` in the node resource group), identities of
/// add-ons no longer enabled are deleted, and the state turns `Succeeded`.
pub fn finish(world: &mut World, cluster: &mut ManagedCluster) {
    let nrg = cluster.node_resource_group();
    let cluster_name = cluster.name.to_ascii_lowercase();
    let mut wanted = Vec::new();
    let mut unwanted = Vec::new();
    if let Some(profiles) = cluster
        .properties
        .get("addonProfiles")
        .and_then(Value::as_object)
    {
        for (key, profile) in profiles {
            let name = format!("{}-{cluster_name}", key.to_ascii_lowercase());
            let enabled = profile.get("enabled").and_then(Value::as_bool) == Some(true);
            let has_identity = profile.get("identity").is_some();
            if enabled && !has_identity {
                wanted.push((key.clone(), name));
            } else if !enabled {
                unwanted.push(name);
            }
        }
    }
    for name in unwanted {
        let id = format!("/subscriptions/{}/resourcegroups/{nrg}/providers/microsoft.managedidentity/userassignedidentities/{name}", world.subscription_id).to_ascii_lowercase();
        world.identities.remove(&id);
    }
    for (key, name) in wanted {
        let identity = create_identity(world, &nrg, &name);
        let block = identity_block(world, &identity);
        if let Some(profile) = cluster
            .properties
            .get_mut("addonProfiles")
            .and_then(|p| p.get_mut(&key))
            .and_then(Value::as_object_mut)
        {
            profile.insert("identity".to_owned(), block);
        }
    }
    cluster
        .properties
        .insert("provisioningState".to_owned(), json!("Succeeded"));
    if let Some(pools) = cluster
        .properties
        .get_mut("agentPoolProfiles")
        .and_then(Value::as_array_mut)
    {
        for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
            pool.insert("provisioningState".to_owned(), json!("Succeeded"));
        }
    }
    cluster.operation = None;
}

/// The cluster as ARM returns it.
pub fn render(world: &World, cluster: &ManagedCluster) -> Value {
    let mut value = json!({
        "id": cluster.id(&world.subscription_id),
        "name": cluster.name,
        "type": "Microsoft.ContainerService/ManagedClusters",
        "location": cluster.location,
        "eTag": cluster.etag,
        "tags": cluster.tags,
        "properties": cluster.properties,
    });
    if let Some(object) = value.as_object_mut() {
        if let Some(sku) = &cluster.sku {
            object.insert("sku".to_owned(), sku.clone());
        }
        if let Some(identity) = &cluster.identity {
            object.insert("identity".to_owned(), identity.clone());
        }
    }
    value
}

#[cfg(test)]
mod issuer_tests {
    use serde_json::json;

    use super::*;

    fn props(value: serde_json::Value) -> Object {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_put_turning_the_issuer_on_gets_a_url_and_an_issuer_once_on_stays() {
        let off = props(json!({"oidcIssuerProfile": {"enabled": false}}));
        let asked = props(json!({"oidcIssuerProfile": {"enabled": true}}));
        let on = oidc_issuer(1, "tenant", Some(&off), &asked, "rg", "aks", "westeurope")
            .expect("an issuer");
        assert_eq!(on["enabled"], true);
        let url = on["issuerURL"].as_str().unwrap();
        assert!(
            url.starts_with("https://westeurope.oic.prod-aks.azure.com/tenant/")
                && url.ends_with('/'),
            "{url}"
        );
        // The same cluster gets the same URL; another cluster another.
        let again = oidc_issuer(1, "tenant", Some(&off), &asked, "RG", "AKS", "westeurope");
        assert_eq!(again.as_ref(), Some(&on));
        let other = oidc_issuer(1, "tenant", Some(&off), &asked, "rg", "aks-2", "westeurope");
        assert_ne!(other.as_ref(), Some(&on));
        // Once on, a PUT that leaves it out or turns it off keeps it.
        let was_on = props(json!({"oidcIssuerProfile": on.clone()}));
        for body in [props(json!({})), off.clone()] {
            let kept = oidc_issuer(1, "tenant", Some(&was_on), &body, "rg", "aks", "westeurope");
            assert_eq!(kept.as_ref(), Some(&on));
        }
        // Never asked for: as before.
        assert_eq!(
            oidc_issuer(
                1,
                "tenant",
                Some(&off),
                &props(json!({})),
                "rg",
                "aks",
                "westeurope"
            ),
            Some(json!({"enabled": false}))
        );
    }
}
