//! The Secrets Store CSI driver and its Azure Key Vault provider, as the sandbox's kubelet
//! (`kubelet.rs`) calls them for one pod volume: find the SecretProviderClass, read its
//! parameters, get a token for the identity it names, and read each object from the vault
//! through the sandbox's own Key Vault data plane — so its RBAC, access policies, network rules
//! and propagation delay decide, exactly as for any client.
//!
//! Failures carry the text a FailedMount Event has on AKS, layer by layer: kubelet's
//! `MountVolume.SetUp failed for volume …`, the driver's and provider's gRPC wrapping, and the
//! Azure SDK for Go's error layout (driver v1.6.0, provider v1.8.2, azcore 1.20;
//! docs/sandbox-kubernetes.md, "Mounting").

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::{self, Principal};
use crate::context::Ctx;
use crate::exchange::{Origin, Req};
use crate::kube::{CsiPod, CsiVolume};
use crate::world::World;
use crate::{hosts, ids, keyvault_data};

/// azcore's separator line in an error's text.
const SEPARATOR: &str =
    "--------------------------------------------------------------------------------";
/// The data-plane api-version the provider's azsecrets client sends.
const API_VERSION: &str = "7.4";

/// A mounted file: its name in the volume, its content (for `secretObjects`; never kept) and
/// a SHA-256 of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedFile {
    pub name: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

/// The Kubernetes Secrets a class's `secretObjects` ask for, from the files just mounted:
/// `(secretName, type, labels, data key → content)`. Entries naming a file that was not
/// mounted are left out, as the driver skips them.
pub fn secret_objects(class: &Value, files: &[MountedFile]) -> Vec<SyncedSecret> {
    class["spec"]["secretObjects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|object| {
            let name = object["secretName"].as_str()?.to_owned();
            let data = object["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|entry| {
                    let file = entry["objectName"].as_str()?;
                    let key = entry["key"].as_str()?;
                    let content = files.iter().find(|mounted| mounted.name == file)?;
                    Some((key.to_owned(), content.content.clone()))
                })
                .collect();
            Some(SyncedSecret {
                name,
                kind: object["type"].as_str().unwrap_or("Opaque").to_owned(),
                labels: object["labels"].clone(),
                data,
            })
        })
        .collect()
}

/// A Kubernetes Secret the driver syncs from mounted files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedSecret {
    pub name: String,
    /// The Secret's `type`.
    pub kind: String,
    /// `secretObjects[].labels` (an object, or null).
    pub labels: Value,
    pub data: std::collections::BTreeMap<String, Vec<u8>>,
}

/// Why a volume's objects could not be fetched: a failure of the driver before it called the
/// provider (its text complete), or the provider's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The add-on is disabled: no driver on the node.
    NoDriver,
    /// The driver's own check failed; the text is what it reports.
    Driver(String),
    /// The provider failed; the text is the provider's error.
    Provider(String),
}

/// Mounts one volume of `pod` in `cluster`; the error is the FailedMount Event's message.
pub fn mount(
    ctx: &Ctx<'_>,
    world: &mut World,
    cluster: &str,
    pod: &CsiPod,
    volume: &CsiVolume,
) -> Result<(Vec<MountedFile>, Vec<SyncedSecret>), String> {
    fetch(ctx, world, cluster, pod, volume).map_err(|failure| {
        let text = match failure {
            Failure::NoDriver => format!(
                "kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name {} not found in the list of registered CSI drivers",
                crate::kube::CSI_DRIVER
            ),
            Failure::Driver(text) => text,
            Failure::Provider(error) => format!(
                "rpc error: code = Unknown desc = failed to mount secrets store objects for pod {}/{}, err: rpc error: code = Unknown desc = failed to mount objects, error: {error}",
                pod.namespace, pod.name
            ),
        };
        format!(
            "MountVolume.SetUp failed for volume \"{}\" : {text}",
            volume.name
        )
    })
}

/// The driver's and provider's work for one volume: the class, then every object.
pub fn fetch(
    ctx: &Ctx<'_>,
    world: &mut World,
    cluster: &str,
    pod: &CsiPod,
    volume: &CsiVolume,
) -> Result<(Vec<MountedFile>, Vec<SyncedSecret>), Failure> {
    let installed = world
        .kube
        .get(cluster)
        .is_some_and(|kube| kube.csi_driver_installed());
    if !installed {
        return Err(Failure::NoDriver);
    }
    let Some(class_name) = volume.class.as_deref().filter(|name| !name.is_empty()) else {
        return Err(Failure::Driver(
            "rpc error: code = Unknown desc = secretProviderClass is not set".to_owned(),
        ));
    };
    let class = world
        .kube
        .get(cluster)
        .and_then(|kube| kube.secret_provider_class(&pod.namespace, class_name))
        .cloned();
    let Some(class) = class else {
        return Err(Failure::Driver(format!(
            "rpc error: code = Unknown desc = failed to get secretproviderclass {}/{class_name}, error: SecretProviderClass.secrets-store.csi.x-k8s.io \"{class_name}\" not found",
            pod.namespace
        )));
    };
    // The driver's own checks, then the provider's; the provider's errors come back through
    // two gRPC layers.
    let spec = &class["spec"];
    if spec["provider"].as_str().unwrap_or_default().is_empty() {
        return Err(Failure::Driver(format!(
            "rpc error: code = Unknown desc = provider not set in {}/{class_name}",
            pod.namespace
        )));
    }
    if spec["provider"] != "azure" {
        let provider = spec["provider"].as_str().unwrap_or_default();
        return Err(Failure::Driver(format!(
            "rpc error: code = Unknown desc = failed to mount secrets store objects for pod {}/{}, err: error connecting to provider \"{provider}\": provider not found: provider \"{provider}\"",
            pod.namespace, pod.name
        )));
    }
    let files = provide(ctx, world, cluster, pod, volume, &spec["parameters"])
        .map_err(Failure::Provider)?;
    let synced = secret_objects(&class, &files);
    Ok((files, synced))
}

/// One entry of the class's `objects` array.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyVaultObject {
    #[serde(default)]
    object_name: String,
    #[serde(default)]
    object_type: String,
    #[serde(default)]
    object_version: String,
    #[serde(default)]
    object_alias: String,
    #[serde(default)]
    object_encoding: String,
}

#[derive(Debug, Deserialize)]
struct ObjectsArray {
    #[serde(default)]
    array: Vec<String>,
}

/// The provider's part: parameters, identity, objects. The error is the provider's text.
fn provide(
    ctx: &Ctx<'_>,
    world: &mut World,
    cluster: &str,
    pod: &CsiPod,
    volume: &CsiVolume,
    parameters: &Value,
) -> Result<Vec<MountedFile>, String> {
    let parameter = |name: &str| parameters[name].as_str().unwrap_or_default().trim();
    let vault = parameter("keyvaultName").to_owned();
    if vault.is_empty() {
        return Err("keyvaultName is not provided".to_owned());
    }
    let tenant = [parameter("tenantID"), parameter("tenantId")]
        .into_iter()
        .find(|tenant| !tenant.is_empty())
        .unwrap_or_default()
        .to_owned();
    if tenant.is_empty() {
        return Err("tenantId is not provided".to_owned());
    }
    let objects = parameter("objects");
    if objects.is_empty() {
        return Err("objects is not set".to_owned());
    }
    let array: ObjectsArray = serde_norway::from_str(objects)
        .map_err(|error| format!("failed to yaml unmarshal objects, error: {error}"))?;
    let mut parsed = Vec::new();
    for (index, item) in array.array.iter().enumerate() {
        let object: KeyVaultObject = serde_norway::from_str(item).map_err(|error| {
            format!("unmarshal failed for keyVaultObjects at index {index}, error: {error}")
        })?;
        parsed.push(object);
    }
    let principal = identity(ctx, world, cluster, pod, volume, parameters, &tenant)?;
    let origin = node_origin(world, cluster);
    let mut files = Vec::new();
    for object in &parsed {
        let wrap = |error: String| {
            format!(
                "failed to get objectType:{}, objectName:{}, objectVersion:{}: {error}",
                object.object_type, object.object_name, object.object_version
            )
        };
        let bytes = read_object(ctx, world, &vault, &principal, &origin, object).map_err(wrap)?;
        let name = if object.object_alias.is_empty() {
            object.object_name.clone()
        } else {
            object.object_alias.clone()
        };
        files.push(MountedFile {
            name,
            sha256: hex(&Sha256::digest(&bytes)),
            content: bytes,
        });
    }
    Ok(files)
}

/// How the provider gets its Key Vault token.
#[derive(Debug, Clone)]
enum Credential {
    /// A managed identity on the node: the token comes from the node's IMDS.
    Node(Principal),
    /// Workload identity: the token Entra gave for the pod's service-account token.
    Exchanged(String),
}

/// The credential the provider uses: with `useVMManagedIdentity`, the node's user-assigned
/// identity `userAssignedIdentityID` names (the add-on's or the kubelet's, the identities AKS
/// puts on the node pool); with `clientID`, workload identity (the pod's service-account token
/// exchanged at Entra).
///
/// The outer error is a configuration error, reported as it is; the inner one is the token
/// request's failure, which the provider only meets when it reads an object.
fn identity(
    ctx: &Ctx<'_>,
    world: &World,
    cluster: &str,
    pod: &CsiPod,
    volume: &CsiVolume,
    parameters: &Value,
    tenant: &str,
) -> Result<Result<Credential, String>, String> {
    let parameter = |name: &str| parameters[name].as_str().unwrap_or_default().trim();
    let flag = |name: &str| -> Result<bool, String> {
        match parameter(name) {
            "" => Ok(false),
            text => parse_bool(text).ok_or_else(|| {
                format!("failed to parse {name} flag, error: strconv.ParseBool: parsing \"{text}\": invalid syntax")
            }),
        }
    };
    let pod_identity = flag("usePodIdentity")?;
    let vm_identity = flag("useVMManagedIdentity")?;
    if pod_identity && vm_identity {
        return Err("only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy".to_owned());
    }
    if vm_identity {
        let wanted = parameter("userAssignedIdentityID");
        if wanted.is_empty() {
            return Ok(Err("ManagedIdentityCredential: failed to authenticate a system assigned identity. The endpoint responded with {\"error\":\"invalid_request\",\"error_description\":\"Identity not found\"}".to_owned()));
        }
        return Ok(node_identities(world, cluster)
            .into_iter()
            .map(Credential::Node)
            .find(|credential| {
                matches!(credential, Credential::Node(principal) if principal
                    .app_id
                    .as_deref()
                    .is_some_and(|client| client.eq_ignore_ascii_case(wanted)))
            })
            .ok_or_else(|| {
                format!(
                    "ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n{SEPARATOR}\nRESPONSE 400: 400 Bad Request\n{SEPARATOR}\n{{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"Identity not found\"\n}}\n{SEPARATOR}\nTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id"
                )
            }));
    }
    if pod_identity {
        return Err(
            "the vaultwire sandbox does not emulate pod identity (usePodIdentity, deprecated by AKS)"
                .to_owned(),
        );
    }
    let client_id = parameter("clientID");
    if !client_id.is_empty() {
        return Ok(exchange(ctx, world, cluster, pod, client_id, tenant).map(Credential::Exchanged));
    }
    match &volume.node_publish_secret {
        Some(secret) => Err(format!(
            "the vaultwire sandbox does not emulate service principal mounts (nodePublishSecretRef `{secret}`)"
        )),
        None => Err("failed to build auth config for mode None: failed to get credentials, nodePublishSecretRef secret is not set".to_owned()),
    }
}

/// The audience the driver requests service-account tokens for (the add-on's CSIDriver
/// `tokenRequests`), which federated credentials trust.
const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Workload identity: a token for the pod's service account, issued by the cluster (its OIDC
/// issuer URL when the issuer is enabled), exchanged at Entra for a Key Vault token of the
/// identity `client_id`. The error is the provider's text for a refused exchange.
fn exchange(
    ctx: &Ctx<'_>,
    world: &World,
    cluster: &str,
    pod: &CsiPod,
    client_id: &str,
    tenant: &str,
) -> Result<String, String> {
    let issuer = crate::oidc_issuer::issuer(world.clusters.get(cluster));
    let assertion = crate::oidc_issuer::service_account_token(
        ctx,
        &issuer,
        &pod.namespace,
        &pod.service_account,
        crate::token::Audiences::one(TOKEN_EXCHANGE_AUDIENCE),
        3600,
    )
    .map_err(|_| "the sandbox cannot sign a service account token".to_owned())?;
    let path = format!("/{tenant}/oauth2/v2.0/token");
    let mut req = Req::new(Method::POST, &path);
    req.body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client_id)
        .append_pair(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .append_pair("client_assertion", &assertion)
        .append_pair("scope", "https://vault.azure.net/.default")
        .finish()
        .into_bytes()
        .into();
    let resp = crate::entra::handle(ctx, world, &req);
    let body = resp.body_json();
    if resp.status == StatusCode::OK
        && let Some(token) = body["access_token"].as_str()
    {
        return Ok(token.to_owned());
    }
    // UNVERIFIED: azidentity's layout for ClientAssertionCredential, as for the managed
    // identity credential above.
    let reason = resp.status.canonical_reason().unwrap_or_default();
    let body = serde_json::to_string_pretty(&body).unwrap_or_default();
    Err(format!(
        "ClientAssertionCredential authentication failed. \nPOST https://{}{path}\n{SEPARATOR}\nRESPONSE {}: {} {reason}\n{SEPARATOR}\n{body}\n{SEPARATOR}\nTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#client-assertion",
        hosts::AUTHORITY_HOST,
        resp.status.as_u16(),
        resp.status.as_u16(),
    ))
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The user-assigned identities on the cluster's nodes: the Key Vault add-on's (while it is
/// enabled) and the kubelet's.
fn node_identities(world: &World, cluster: &str) -> Vec<Principal> {
    let Some(managed) = world.clusters.get(cluster) else {
        return Vec::new();
    };
    let principal = |identity: &Value| {
        Some(Principal {
            object_id: identity["objectId"].as_str()?.to_owned(),
            app_id: Some(identity["clientId"].as_str()?.to_owned()),
        })
    };
    let addon = managed
        .addon_profiles()
        .into_iter()
        .flat_map(|profiles| profiles.iter())
        .filter(|(name, profile)| {
            name.eq_ignore_ascii_case("azureKeyvaultSecretsProvider") && profile["enabled"] == true
        })
        .filter_map(|(_, profile)| principal(&profile["identity"]));
    let kubelet = managed
        .properties
        .get("identityProfile")
        .and_then(|profile| profile.get("kubeletidentity"))
        .and_then(principal);
    addon.chain(kubelet).collect()
}

/// Where the nodes' requests come from: the cluster's first outbound IP (the sandbox's nodes
/// share one) and its node subnets.
fn node_origin(world: &World, cluster: &str) -> Origin {
    let egress = world
        .clusters
        .get(cluster)
        .map(crate::model::ManagedCluster::egress);
    let address = egress
        .as_ref()
        .and_then(|egress| egress.public_ips.first())
        .map_or(std::net::Ipv4Addr::UNSPECIFIED, |(_, address)| *address);
    Origin {
        address: std::net::IpAddr::V4(address),
        subnets: egress.map(|egress| egress.subnets).unwrap_or_default(),
    }
}

/// Reads one object through the data plane as `principal`; the error is the provider's text
/// for it (the Azure SDK's layout of the HTTP answer).
fn read_object(
    ctx: &Ctx<'_>,
    world: &mut World,
    vault: &str,
    credential: &Result<Credential, String>,
    origin: &Origin,
    object: &KeyVaultObject,
) -> Result<Vec<u8>, String> {
    if object.object_type != "secret" {
        return match object.object_type.as_str() {
            "key" | "cert" => Err(format!(
                "the vaultwire sandbox's Key Vault serves secrets only, not objectType {}",
                object.object_type
            )),
            _ => Err("Invalid vaultObjectTypes. Should be secret, key, or cert".to_owned()),
        };
    }
    let host = format!("{}.{}", vault.to_ascii_lowercase(), hosts::VAULT_DNS_SUFFIX);
    // "Latest" is the empty version, which the SDK sends as a trailing slash.
    let path = format!("/secrets/{}/{}", object.object_name, object.object_version);
    if !world.vaults.contains_key(&vault.to_ascii_lowercase()) {
        return Err(format!(
            "Get \"https://{host}{path}?api-version={API_VERSION}\": dial tcp: lookup {host} on 10.0.0.10:53: no such host"
        ));
    }
    // The first request goes without a token, for the challenge; then the token is fetched.
    let token = match credential.as_ref().map_err(Clone::clone)? {
        Credential::Node(principal) => auth::issue(ctx, principal, ids::KEY_VAULT_AUDIENCE, 3600)
            .map_err(|_| "the sandbox cannot sign a token".to_owned())?,
        Credential::Exchanged(token) => token.clone(),
    };
    let mut req = Req::new(
        Method::GET,
        &format!("/vaults/{vault}{path}?api-version={API_VERSION}"),
    );
    if let Ok(value) = format!("Bearer {token}").parse::<http::HeaderValue>() {
        req.headers.insert(http::header::AUTHORIZATION, value);
    }
    req.origin = origin.clone();
    let resp = keyvault_data::handle(ctx, world, &req);
    let body = resp.body_json();
    if resp.status == StatusCode::OK {
        let value = body["value"].as_str().unwrap_or_default();
        return decode(value, &object.object_encoding);
    }
    Err(response_error(
        "GET",
        &format!("https://{host}{path}"),
        resp.status,
        &body,
    ))
}

/// The value as the file holds it, by `objectEncoding`.
fn decode(value: &str, encoding: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    match encoding.to_ascii_lowercase().as_str() {
        "" | "utf-8" => Ok(value.as_bytes().to_vec()),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|error| format!("illegal base64 data: {error}")),
        "hex" => (0..value.len())
            .step_by(2)
            .map(|at| {
                value
                    .get(at..at + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| "encoding/hex: invalid byte".to_owned())
            })
            .collect(),
        other => Err(format!(
            "invalid objectEncoding: {other}, should be hex, base64 or utf-8"
        )),
    }
}

/// azcore's `ResponseError` text: the request line (no query), the status, the error code
/// (Key Vault's outer `error.code`) and the body indented by two spaces.
fn response_error(method: &str, url: &str, status: StatusCode, body: &Value) -> String {
    let code = body["error"]["code"].as_str().map_or_else(
        || "ERROR CODE UNAVAILABLE".to_owned(),
        |code| format!("ERROR CODE: {code}"),
    );
    let reason = status.canonical_reason().unwrap_or_default();
    let body = if body.is_null() {
        "Response contained no body".to_owned()
    } else {
        serde_json::to_string_pretty(body).unwrap_or_default()
    };
    format!(
        "{method} {url}\n{SEPARATOR}\nRESPONSE {}: {} {reason}\n{code}\n{SEPARATOR}\n{body}\n{SEPARATOR}\n",
        status.as_u16(),
        status.as_u16(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_key_vault_answer_reads_as_the_azure_sdk_for_go_prints_it() {
        let body = json!({"error": {"code": "SecretNotFound", "message": "A secret with (name/id) db-password was not found in this key vault."}});
        let text = response_error(
            "GET",
            "https://kv.vault.azure.net/secrets/db-password/",
            StatusCode::NOT_FOUND,
            &body,
        );
        assert_eq!(
            text,
            format!(
                "GET https://kv.vault.azure.net/secrets/db-password/\n{SEPARATOR}\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n{SEPARATOR}\n{{\n  \"error\": {{\n    \"code\": \"SecretNotFound\",\n    \"message\": \"A secret with (name/id) db-password was not found in this key vault.\"\n  }}\n}}\n{SEPARATOR}\n"
            )
        );
        assert_eq!(SEPARATOR.len(), 80);
    }

    #[test]
    fn objects_are_decoded_as_their_encoding_says() {
        assert_eq!(decode("aGk=", "base64").unwrap(), b"hi");
        assert_eq!(decode("6869", "hex").unwrap(), b"hi");
        assert_eq!(decode("hi", "").unwrap(), b"hi");
        assert!(
            decode("x", "rot13")
                .unwrap_err()
                .starts_with("invalid objectEncoding: rot13")
        );
    }

    #[test]
    fn go_booleans_parse_as_strconv_does() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
