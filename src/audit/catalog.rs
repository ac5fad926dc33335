//! The catalogue of audit checks: each check's stable id, title, group, benchmark references,
//! what it means and how to fix it.
//!
//! Ids are an API (SARIF rule ids, JUnit test names, JSON keys pipelines filter on): never
//! rename one. This module is data only; the checks themselves live in `audit::checks`.

use serde::{Serialize, Serializer};

use super::model::Status;

/// One reference to an external benchmark or policy the check implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Benchmark {
    /// Such as `CIS AKS`, `kubescape`, `Checkov`.
    pub framework: &'static str,
    /// Such as `4.5.1`, `C-0207`, `CKV_AZURE_172`.
    pub id: &'static str,
}

const fn bench(framework: &'static str, id: &'static str) -> Benchmark {
    Benchmark { framework, id }
}

const CIS_451: Benchmark = bench("CIS AKS", "4.5.1");
const CIS_452: Benchmark = bench("CIS AKS", "4.5.2");

/// The areas checks are grouped by in every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckGroup {
    Addon,
    SecretProviderClasses,
    Vaults,
    Workloads,
}

impl CheckGroup {
    pub fn title(self) -> &'static str {
        match self {
            CheckGroup::Addon => "Key Vault secrets provider add-on",
            CheckGroup::SecretProviderClasses => "SecretProviderClasses",
            CheckGroup::Vaults => "Key Vaults",
            CheckGroup::Workloads => "Workloads",
        }
    }
}

/// Every check the audit runs, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    AddonEnabled,
    AddonSecretRotation,
    SpcExists,
    SpcMatchesPlan,
    SpcVault,
    SpcIdentity,
    SpcGrant,
    SpcObjects,
    SpcVaultNetwork,
    SpcFederation,
    SpcPodsMount,
    VaultSoftDelete,
    VaultPurgeProtection,
    VaultRbacAuthorization,
    VaultNetworkAccess,
    SecretsInEnv,
    SecretsAsFiles,
    CsiNodePublishSecret,
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl CheckId {
    pub const ALL: [CheckId; 18] = [
        CheckId::AddonEnabled,
        CheckId::AddonSecretRotation,
        CheckId::SpcExists,
        CheckId::SpcMatchesPlan,
        CheckId::SpcVault,
        CheckId::SpcIdentity,
        CheckId::SpcGrant,
        CheckId::SpcObjects,
        CheckId::SpcVaultNetwork,
        CheckId::SpcFederation,
        CheckId::SpcPodsMount,
        CheckId::VaultSoftDelete,
        CheckId::VaultPurgeProtection,
        CheckId::VaultRbacAuthorization,
        CheckId::VaultNetworkAccess,
        CheckId::SecretsInEnv,
        CheckId::SecretsAsFiles,
        CheckId::CsiNodePublishSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::AddonEnabled => "addon-enabled",
            CheckId::AddonSecretRotation => "addon-secret-rotation",
            CheckId::SpcExists => "spc-exists",
            CheckId::SpcMatchesPlan => "spc-matches-plan",
            CheckId::SpcVault => "spc-vault",
            CheckId::SpcIdentity => "spc-identity",
            CheckId::SpcGrant => "spc-grant",
            CheckId::SpcObjects => "spc-objects",
            CheckId::SpcVaultNetwork => "spc-vault-network",
            CheckId::SpcFederation => "spc-federation",
            CheckId::SpcPodsMount => "spc-pods-mount",
            CheckId::VaultSoftDelete => "vault-soft-delete",
            CheckId::VaultPurgeProtection => "vault-purge-protection",
            CheckId::VaultRbacAuthorization => "vault-rbac-authorization",
            CheckId::VaultNetworkAccess => "vault-network-access",
            CheckId::SecretsInEnv => "secrets-in-env",
            CheckId::SecretsAsFiles => "secrets-as-files",
            CheckId::CsiNodePublishSecret => "csi-node-publish-secret",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CheckId::AddonEnabled => "The Key Vault secrets provider add-on is enabled",
            CheckId::AddonSecretRotation => "Secret rotation of the Key Vault add-on is on",
            CheckId::SpcExists => "The plan's SecretProviderClass exists in the cluster",
            CheckId::SpcMatchesPlan => "The SecretProviderClass matches the plan",
            CheckId::SpcVault => "The SecretProviderClass names an existing Key Vault",
            CheckId::SpcIdentity => "The SecretProviderClass uses the current identity",
            CheckId::SpcGrant => "The SecretProviderClass identity may read the vault",
            CheckId::SpcObjects => {
                "Every object the SecretProviderClass mounts exists in its vault"
            }
            CheckId::SpcVaultNetwork => "The vault's firewall admits the cluster's nodes",
            CheckId::SpcFederation => {
                "The workload identity trusts the service accounts of the pods that mount it"
            }
            CheckId::SpcPodsMount => "Pods that mount the SecretProviderClass get their files",
            CheckId::VaultSoftDelete => "Soft delete is enabled on the Key Vault",
            CheckId::VaultPurgeProtection => "Purge protection is enabled on the Key Vault",
            CheckId::VaultRbacAuthorization => "The Key Vault uses Azure RBAC authorization",
            CheckId::VaultNetworkAccess => {
                "Public network access to the Key Vault is disabled or restricted"
            }
            CheckId::SecretsInEnv => "No workload reads a Secret into environment variables",
            CheckId::SecretsAsFiles => "No workload mounts a native Kubernetes Secret",
            CheckId::CsiNodePublishSecret => {
                "No CSI volume takes Key Vault credentials from a Kubernetes Secret"
            }
        }
    }

    pub fn group(self) -> CheckGroup {
        match self {
            CheckId::AddonEnabled | CheckId::AddonSecretRotation => CheckGroup::Addon,
            CheckId::SpcExists
            | CheckId::SpcMatchesPlan
            | CheckId::SpcVault
            | CheckId::SpcIdentity
            | CheckId::SpcGrant
            | CheckId::SpcObjects
            | CheckId::SpcVaultNetwork
            | CheckId::SpcFederation
            | CheckId::SpcPodsMount => CheckGroup::SecretProviderClasses,
            CheckId::VaultSoftDelete
            | CheckId::VaultPurgeProtection
            | CheckId::VaultRbacAuthorization
            | CheckId::VaultNetworkAccess => CheckGroup::Vaults,
            CheckId::SecretsInEnv | CheckId::SecretsAsFiles | CheckId::CsiNodePublishSecret => {
                CheckGroup::Workloads
            }
        }
    }

    /// The status the check reports when what it checks does not hold: `Fail` for violations
    /// of the benchmark (exit code 4), `Warn` for advice.
    pub fn severity(self) -> Status {
        match self {
            CheckId::VaultSoftDelete
            | CheckId::VaultPurgeProtection
            | CheckId::VaultRbacAuthorization
            | CheckId::VaultNetworkAccess
            | CheckId::SecretsAsFiles
            | CheckId::CsiNodePublishSecret => Status::Warn,
            _ => Status::Fail,
        }
    }

    /// The benchmarks and policies the check implements.
    ///
    /// The Azure Policy names of the vault checks are the built-in policies' display names;
    /// only "Key vaults should have deletion protection enabled" was checked against the
    /// policy definition, the others are UNVERIFIED spellings of well-known built-ins.
    pub fn benchmarks(self) -> &'static [Benchmark] {
        const ADDON: &[Benchmark] = &[CIS_452, bench("kubescape", "C-0208")];
        const ROTATION: &[Benchmark] = &[
            bench("Checkov", "CKV_AZURE_172"),
            bench("PSRule for Azure", "Azure.AKS.SecretStoreRotation"),
        ];
        const SPC: &[Benchmark] = &[CIS_452];
        const RECOVERABLE: &[Benchmark] = &[bench(
            "Azure Policy",
            "Key vaults should have deletion protection enabled",
        )];
        const RBAC: &[Benchmark] = &[bench(
            "Azure Policy",
            "Azure Key Vault should use RBAC permission model",
        )];
        const NETWORK: &[Benchmark] = &[bench(
            "Azure Policy",
            "Azure Key Vault should have firewall enabled or public network access disabled",
        )];
        const ENV: &[Benchmark] = &[
            CIS_451,
            bench("kubescape", "C-0207"),
            bench("Checkov", "CKV_K8S_35"),
        ];
        const FILES: &[Benchmark] = &[CIS_452];
        match self {
            CheckId::AddonEnabled => ADDON,
            CheckId::AddonSecretRotation => ROTATION,
            CheckId::SpcExists
            | CheckId::SpcMatchesPlan
            | CheckId::SpcVault
            | CheckId::SpcIdentity
            | CheckId::SpcGrant
            | CheckId::SpcObjects
            | CheckId::SpcVaultNetwork
            | CheckId::SpcFederation
            | CheckId::SpcPodsMount => SPC,
            CheckId::VaultSoftDelete | CheckId::VaultPurgeProtection => RECOVERABLE,
            CheckId::VaultRbacAuthorization => RBAC,
            CheckId::VaultNetworkAccess => NETWORK,
            CheckId::SecretsInEnv => ENV,
            CheckId::SecretsAsFiles | CheckId::CsiNodePublishSecret => FILES,
        }
    }

    /// What the check verifies and why, in a sentence or two.
    pub fn description(self) -> &'static str {
        match self {
            CheckId::AddonEnabled => {
                "External secret storage on AKS (CIS AKS 4.5.2) is the Secrets Store CSI driver with the Azure Key Vault provider: `addonProfiles.azureKeyvaultSecretsProvider.enabled` must be true, as `az aks show --query addonProfiles.azureKeyvaultSecretsProvider.enabled` shows."
            }
            CheckId::AddonSecretRotation => {
                "Without rotation, pods keep the secret values they mounted at start; `enableSecretRotation` makes the driver re-read Key Vault every `rotationPollInterval`."
            }
            CheckId::SpcExists => {
                "Every SecretProviderClass of the plan exists in its namespace; pods that mount a missing one stay in ContainerCreating."
            }
            CheckId::SpcMatchesPlan => {
                "The live SecretProviderClass is exactly what the reviewed plan renders: same vault, tenant, identity, objects and synced Secrets."
            }
            CheckId::SpcVault => "The vault the SecretProviderClass reads (`keyvaultName`) exists.",
            CheckId::SpcIdentity => {
                "The SecretProviderClass names the add-on identity the cluster has now (or the plan's workload identity); a cluster or add-on that was re-created gets a new identity."
            }
            CheckId::SpcGrant => {
                "The identity the SecretProviderClass uses has a grant on the vault: a Key Vault data role assigned at or above the vault (RBAC vaults) or an access-policy entry with `get` (access-policy vaults)."
            }
            CheckId::SpcObjects => {
                "Every secret and certificate the SecretProviderClass mounts exists in its vault (checked on the Key Vault data plane, names only)."
            }
            CheckId::SpcVaultNetwork => {
                "The vault the SecretProviderClass reads admits the cluster's nodes: with a firewall that denies by default, one of the cluster's outbound IPs (`networkProfile.loadBalancerProfile.effectiveOutboundIPs`) is in its IP rules or a node subnet in its virtual network rules. The `AzureServices` bypass does not cover AKS."
            }
            CheckId::SpcFederation => {
                "A SecretProviderClass with `clientID` reads the vault as a workload identity: Entra exchanges the pod's service-account token only under a federated credential of the identity with the cluster's OIDC issuer (exactly, trailing slash included), the subject `system:serviceaccount:NAMESPACE:ACCOUNT` of each pod that mounts it, and the audience `api://AzureADTokenExchange`."
            }
            CheckId::SpcPodsMount => {
                "No pod that mounts the SecretProviderClass is stuck in ContainerCreating: the kubelet's `FailedMount` Events for those pods (a missing grant, object, class or CSI driver, an identity not on the node, a vault firewall) are the evidence, as `kubectl describe pod` shows them."
            }
            CheckId::VaultSoftDelete => {
                "Soft delete keeps deleted vaults and secrets recoverable for the retention period."
            }
            CheckId::VaultPurgeProtection => {
                "Purge protection stops anyone, an attacker included, from purging a deleted vault or secret before its retention ends."
            }
            CheckId::VaultRbacAuthorization => {
                "Azure RBAC gives per-vault, auditable, Entra-governed data-plane access; access policies are the legacy model."
            }
            CheckId::VaultNetworkAccess => {
                "The vault is not open to the internet: public network access is disabled, or the firewall denies by default."
            }
            CheckId::SecretsInEnv => {
                "CIS AKS 4.5.1: prefer secrets as files over environment variables. Fails for every workload that reads a Secret through `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef` (containers, initContainers, ephemeralContainers), including Secrets the CSI driver syncs from Key Vault."
            }
            CheckId::SecretsAsFiles => {
                "CIS AKS 4.5.2: consider external secret storage. Warns for every workload that mounts a native Kubernetes Secret (a `secret` volume or a projected `secret` source) instead of a Key Vault object through the CSI driver."
            }
            CheckId::CsiNodePublishSecret => {
                "A CSI volume with `nodePublishSecretRef` reads Key Vault with service-principal credentials kept in a native Kubernetes Secret; the add-on identity or a workload identity needs none."
            }
        }
    }

    /// How to make the check pass.
    pub fn remediation(self) -> &'static str {
        match self {
            CheckId::AddonEnabled => {
                "enable the add-on: `vaultwire apply PLAN` (with an `[addon.KEY]` table), or `az aks enable-addons --addons azure-keyvault-secrets-provider`"
            }
            CheckId::AddonSecretRotation => {
                "set `secret_rotation = true` in the plan's `[addon.KEY]` and run `vaultwire apply`, or `az aks addon update --addon azure-keyvault-secrets-provider --enable-secret-rotation`"
            }
            CheckId::SpcExists | CheckId::SpcMatchesPlan | CheckId::SpcIdentity => {
                "run `vaultwire apply PLAN` to make the SecretProviderClass match the plan"
            }
            CheckId::SpcVault => {
                "create the vault (`vaultwire apply PLAN`), or point the SecretProviderClass at an existing one"
            }
            CheckId::SpcGrant => {
                "add a `[grant.KEY]` for the identity that reads what it mounts — role `Key Vault Secrets User` for secrets, `Key Vault Certificate User` for certificates (RBAC vaults), or `get` in `secret_permissions` / `certificate_permissions` (access-policy vaults) — and run `vaultwire apply`"
            }
            CheckId::SpcObjects => {
                "create the missing objects in the vault (`az keyvault secret set`), or remove them from the SecretProviderClass"
            }
            CheckId::SpcVaultNetwork => {
                "allow the cluster's outbound IP in the plan's `network_acls.ip_rules` (`az aks show --query networkProfile.loadBalancerProfile.effectiveOutboundIPs`, then `az network public-ip show --ids … --query ipAddress`), or its node subnet (with the `Microsoft.KeyVault` service endpoint) in `virtual_network_subnet_ids`, and run `vaultwire apply`; or reach the vault through a private endpoint"
            }
            CheckId::SpcFederation => {
                "add a federated credential for each service account named (`az identity federated-credential create --identity-name ID -g RG --name NAME --issuer \"$(az aks show -g RG -n CLUSTER --query oidcIssuerProfile.issuerUrl -o tsv)\" --subject system:serviceaccount:NAMESPACE:ACCOUNT --audiences api://AzureADTokenExchange`), or run the pods as a trusted service account — in the plan, a `[federation]` per service account; enable the cluster's OIDC issuer and workload identity if they are off (`workload_identity = true` on the plan's add-on)"
            }
            CheckId::SpcPodsMount => {
                "fix what the FailedMount message names — `vaultwire apply PLAN` for a missing class, add-on or grant, `az keyvault secret set` for a missing object, the vault's network rules for a firewall — then the kubelet retries on its own"
            }
            CheckId::VaultSoftDelete => {
                "enable soft delete on the vault (it cannot be turned off again)"
            }
            CheckId::VaultPurgeProtection => {
                "set `purge_protection = true` on the plan's `[vault.KEY]` and run `vaultwire apply` (it cannot be turned off again)"
            }
            CheckId::VaultRbacAuthorization => {
                "set `authorization = \"rbac\"` on the plan's `[vault.KEY]`, with role grants instead of access policies"
            }
            CheckId::VaultNetworkAccess => {
                "set `public_network_access = \"disabled\"` (private endpoints), or `network_acls` with `default_action = \"Deny\"` and the allowed networks"
            }
            CheckId::SecretsInEnv => {
                "mount the secret as a file from a SecretProviderClass volume (driver `secrets-store.csi.k8s.io`) and have the application read the file instead of `env`/`envFrom`"
            }
            CheckId::SecretsAsFiles => {
                "keep the secret in Key Vault and mount it through a SecretProviderClass volume instead of a Kubernetes Secret"
            }
            CheckId::CsiNodePublishSecret => {
                "remove `nodePublishSecretRef` and let the SecretProviderClass use the add-on identity or a workload identity; then delete the credentials Secret"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_in_report_order() {
        let ids: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!(ids, unique);
        for id in &ids {
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{id}"
            );
        }
        let mut sorted = CheckId::ALL;
        sorted.sort();
        assert_eq!(sorted, CheckId::ALL);
    }

    #[test]
    fn the_cis_controls_map_to_the_checks_that_implement_them() {
        let implementing = |id: &str| -> Vec<&str> {
            CheckId::ALL
                .iter()
                .filter(|check| check.benchmarks().iter().any(|b| b.id == id))
                .map(|check| check.as_str())
                .collect()
        };
        assert_eq!(implementing("4.5.1"), ["secrets-in-env"]);
        assert!(implementing("4.5.2").contains(&"addon-enabled"));
        assert_eq!(implementing("CKV_AZURE_172"), ["addon-secret-rotation"]);
    }
}
