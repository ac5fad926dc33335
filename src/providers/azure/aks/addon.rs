//! The add-on inside a managedCluster document: reading it, and changing only it.
//!
//! A managedCluster PUT is a full replace: whatever the body omits, AKS removes (other add-ons,
//! profiles newer than vaultwire). So the document stays a `serde_json::Value` from GET to PUT
//! and only `properties.addonProfiles.azureKeyvaultSecretsProvider` changes. Read-only fields
//! (`provisioningState`, `fqdn`, `eTag`, the add-on `identity`, …) go back verbatim: ARM
//! ignores read-only properties in a PUT, and removing fields is exactly the failure mode this
//! design avoids. (az-cli nulls `servicePrincipalProfile` before its PUT, but only because its
//! old client-side model validation demanded a secret; the service does not need that.) Pure.

use serde_json::{Map, Value, json};

use crate::plan::model::Addon;

/// The add-on's key in `addonProfiles`, as az-cli and the API spell it.
pub const ADDON_KEY: &str = "azureKeyvaultSecretsProvider";

/// The add-on as the plan wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonSettings {
    pub enabled: bool,
    pub secret_rotation: bool,
    /// A Go duration such as `2m`, the add-on's default.
    pub rotation_poll_interval: String,
    /// Make sure the cluster's OIDC issuer and workload identity are on (`false` leaves them
    /// as they are: AKS cannot turn an issuer off).
    pub workload_identity: bool,
}

impl AddonSettings {
    pub fn from_plan(addon: &Addon) -> Self {
        Self {
            enabled: true,
            secret_rotation: addon.secret_rotation.value,
            rotation_poll_interval: addon.rotation_poll_interval.value.as_str().to_owned(),
            workload_identity: addon.workload_identity.value,
        }
    }

    /// The add-on turned off (`destroy`).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            secret_rotation: false,
            rotation_poll_interval: "2m".to_owned(),
            workload_identity: false,
        }
    }
}

/// The user-assigned identity AKS creates for the add-on (in the node resource group). Its
/// `object_id` is granted access to vaults; its `client_id` goes into SecretProviderClasses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AddonIdentity {
    pub client_id: String,
    pub object_id: String,
    pub resource_id: String,
}

/// The add-on as AKS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveAddon {
    pub enabled: bool,
    pub secret_rotation: Option<bool>,
    pub rotation_poll_interval: Option<String>,
    pub identity: Option<AddonIdentity>,
    /// The cluster's OIDC issuer and workload identity are both on.
    pub workload_identity: bool,
    /// The cluster's OIDC issuer URL, while the issuer is on.
    pub issuer: Option<String>,
}

impl LiveAddon {
    fn from_profile(profile: &Value) -> Self {
        let text = |pointer: &str| profile.pointer(pointer).and_then(Value::as_str);
        let identity = match (
            text("/identity/clientId"),
            text("/identity/objectId"),
            text("/identity/resourceId"),
        ) {
            (Some(client_id), Some(object_id), resource_id) => Some(AddonIdentity {
                client_id: client_id.to_owned(),
                object_id: object_id.to_owned(),
                resource_id: resource_id.unwrap_or_default().to_owned(),
            }),
            _ => None,
        };
        Self {
            enabled: profile
                .get("enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            secret_rotation: text("/config/enableSecretRotation")
                .map(|value| value.eq_ignore_ascii_case("true")),
            rotation_poll_interval: text("/config/rotationPollInterval").map(str::to_owned),
            identity,
            workload_identity: false,
            issuer: None,
        }
    }

    /// Whether AKS already has the add-on as `settings` want it.
    pub fn matches(&self, settings: &AddonSettings) -> bool {
        if !settings.enabled {
            return !self.enabled;
        }
        (self.workload_identity || !settings.workload_identity)
            && self.enabled
            && self.secret_rotation.unwrap_or(false) == settings.secret_rotation
            && self.rotation_poll_interval.as_deref().unwrap_or("2m")
                == settings.rotation_poll_interval
    }
}

/// A managed cluster: the document verbatim, its `eTag`, and the typed add-on view.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveCluster {
    pub id: String,
    pub name: String,
    pub location: String,
    pub node_resource_group: Option<String>,
    pub provisioning_state: Option<String>,
    /// The body's `eTag`, else the `ETag` header; sent back as `If-Match`.
    pub etag: Option<String>,
    pub addon: LiveAddon,
    pub document: Value,
}

/// The key of the add-on in `profiles`, matched case-insensitively (AKS has returned add-on
/// keys in other cases; az-cli canonicalises them the same way).
fn addon_key(profiles: &Map<String, Value>) -> Option<String> {
    if profiles.contains_key(ADDON_KEY) {
        return Some(ADDON_KEY.to_owned());
    }
    profiles
        .keys()
        .find(|key| key.eq_ignore_ascii_case(ADDON_KEY))
        .cloned()
}

impl LiveCluster {
    /// Reads a managedCluster document; `None` without a `name` or `properties`.
    pub fn from_document(document: Value, header_etag: Option<&str>) -> Option<Self> {
        let text = |pointer: &str| document.pointer(pointer).and_then(Value::as_str);
        let properties = document.get("properties")?.as_object()?;
        let mut addon = properties
            .get("addonProfiles")
            .and_then(Value::as_object)
            .and_then(|profiles| profiles.get(&addon_key(profiles)?))
            .map(LiveAddon::from_profile)
            .unwrap_or_default();
        let on = |pointer: &str| {
            document
                .pointer(pointer)
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let issuer_on = on("/properties/oidcIssuerProfile/enabled");
        addon.workload_identity =
            issuer_on && on("/properties/securityProfile/workloadIdentity/enabled");
        // The API spells it `issuerURL`; older documents and az output `issuerUrl`.
        addon.issuer = [
            "/properties/oidcIssuerProfile/issuerURL",
            "/properties/oidcIssuerProfile/issuerUrl",
        ]
        .into_iter()
        .find_map(|pointer| document.pointer(pointer).and_then(Value::as_str))
        .filter(|url| issuer_on && !url.is_empty())
        .map(str::to_owned);
        Some(Self {
            id: text("/id").unwrap_or_default().to_owned(),
            name: text("/name")?.to_owned(),
            location: text("/location").unwrap_or_default().to_owned(),
            node_resource_group: text("/properties/nodeResourceGroup").map(str::to_owned),
            provisioning_state: text("/properties/provisioningState").map(str::to_owned),
            etag: text("/eTag").or(header_etag).map(str::to_owned),
            addon,
            document,
        })
    }
}

/// Where a cluster's pods reach Azure services from, as its document says: the load
/// balancer's outbound public IPs (resource IDs) and the node pools' subnets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterEgress {
    pub outbound_ip_ids: Vec<String>,
    pub subnets: Vec<String>,
}

impl LiveCluster {
    pub fn egress(&self) -> ClusterEgress {
        let strings = |pointer: &str, field: &str| -> Vec<String> {
            let mut found: Vec<String> = self
                .document
                .pointer(pointer)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|item| item.get(field)?.as_str().map(str::to_owned))
                .collect();
            found.sort();
            found.dedup();
            found
        };
        ClusterEgress {
            outbound_ip_ids: strings(
                "/properties/networkProfile/loadBalancerProfile/effectiveOutboundIPs",
                "id",
            ),
            subnets: strings("/properties/agentPoolProfiles", "vnetSubnetID"),
        }
    }
}

/// `document` with the add-on set as `settings` say and everything else untouched.
///
/// Enabling keeps the existing profile's other fields and config keys and sets `enabled`,
/// `enableSecretRotation` (`"true"`/`"false"`) and `rotationPollInterval`, and, when asked,
/// `oidcIssuerProfile.enabled` and `securityProfile.workloadIdentity.enabled`. Disabling sends
/// `{"enabled": false}`, which is what az-cli's `disable-addons` puts on the wire (`config`
/// nulled, the read-only identity left out).
pub fn with_addon(document: &Value, settings: &AddonSettings) -> Value {
    let mut document = document.clone();
    // Indexing below only ever meets objects: each level is made one first.
    ensure_object(&mut document);
    ensure_object(&mut document["properties"]);
    ensure_object(&mut document["properties"]["addonProfiles"]);
    let mut existing = None;
    if let Some(profiles) = document["properties"]["addonProfiles"].as_object_mut() {
        existing = addon_key(profiles).and_then(|key| profiles.remove(&key));
        // Drop any other spelling too, so the PUT carries exactly one add-on entry.
        profiles.retain(|key, _| !key.eq_ignore_ascii_case(ADDON_KEY));
    }
    let profile = if settings.enabled {
        let mut profile = existing.unwrap_or(Value::Null);
        ensure_object(&mut profile);
        profile["enabled"] = json!(true);
        ensure_object(&mut profile["config"]);
        profile["config"]["enableSecretRotation"] = json!(settings.secret_rotation.to_string());
        profile["config"]["rotationPollInterval"] = json!(settings.rotation_poll_interval);
        profile
    } else {
        json!({"enabled": false})
    };
    document["properties"]["addonProfiles"][ADDON_KEY] = profile;
    if settings.enabled && settings.workload_identity {
        // Only these two flags: the profiles' other fields (the issuer URL AKS assigned)
        // go back as they were.
        ensure_object(&mut document["properties"]["oidcIssuerProfile"]);
        document["properties"]["oidcIssuerProfile"]["enabled"] = json!(true);
        ensure_object(&mut document["properties"]["securityProfile"]);
        ensure_object(&mut document["properties"]["securityProfile"]["workloadIdentity"]);
        document["properties"]["securityProfile"]["workloadIdentity"]["enabled"] = json!(true);
    }
    document
}

/// Makes `value` an object, replacing anything else (absent values index as `null`).
fn ensure_object(value: &mut Value) {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
}

/// `namespace/name` of the SecretProviderClasses an AKS error says block disabling the
/// add-on, or nothing when the message is about something else.
///
/// The exact wording is UNVERIFIED; this accepts any message that mentions
/// SecretProviderClass(es) and lists them as `namespace/name`, e.g. "… SecretProviderClasses
/// still exist: payments/payments-db, shop/shop-api".
pub fn blocking_spcs(message: &str) -> Vec<String> {
    if !message.to_ascii_lowercase().contains("secretproviderclass") {
        return Vec::new();
    }
    let is_name = |part: &str| {
        !part.is_empty()
            && part.len() <= 253
            && part.bytes().all(|byte| {
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || matches!(byte, b'-' | b'.')
            })
            && part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let mut found: Vec<String> = message
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | '[' | ']' | '(' | ')' | '"' | '\'' | '`')
        })
        .map(|token| token.trim_end_matches(['.', ':']))
        .filter(|token| !token.contains("://"))
        .filter(|token| {
            let mut parts = token.split('/');
            matches!(
                (parts.next(), parts.next(), parts.next()),
                (Some(namespace), Some(name), None) if is_name(namespace) && is_name(name)
            )
        })
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
#[path = "addon_tests.rs"]
pub(super) mod tests;
