//! The typed plan file: the desired state the user wrote.
//!
//! Decoded from the spanned TOML tree by [`crate::plan::decode`] and checked by
//! [`crate::plan::validate`]; callers get it from [`crate::plan::check`]. Every value a diagnostic may point at keeps its byte span in the
//! source, so later checks (references, duplicates, authorization mode) can put a caret under
//! the right token. This module holds data only: no I/O, no parsing, no checks.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::plan::address::Address;
use crate::plan::duration::GoDuration;

/// A byte range in the plan file's source text.
pub type Span = Range<usize>;

/// A value and where it was written in the plan file.
///
/// Values that take their default carry the span of the table that omitted them, so a
/// diagnostic about a default still points somewhere useful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// The whole plan file, version 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub version: u32,
    pub target: Target,
    /// `[vault.KEY]` tables by key.
    pub vaults: BTreeMap<String, Vault>,
    /// `[addon.KEY]` tables by key.
    pub addons: BTreeMap<String, Addon>,
    /// `[identity.KEY]` tables by key.
    pub identities: BTreeMap<String, Identity>,
    /// `[federation.KEY]` tables by key.
    pub federations: BTreeMap<String, Federation>,
    /// `[grant.KEY]` tables by key.
    pub grants: BTreeMap<String, Grant>,
    /// `[spc.KEY]` tables by key.
    pub spcs: BTreeMap<String, Spc>,
    pub audit: AuditSettings,
}

/// `[target]`: where the plan is applied and how vaultwire signs in.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub cloud: Spanned<Cloud>,
    pub subscription_id: Spanned<String>,
    pub tenant_id: Spanned<String>,
    /// Overrides the default state path `state/<plan-stem>.state.json`, relative to the plan
    /// file's directory.
    pub state: Option<Spanned<String>>,
    pub auth: Spanned<AuthMethod>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cloud {
    AzureCloud,
    AzureChinaCloud,
    AzureUsGovernment,
    /// vaultwire's built-in emulator; see `vaultwire sandbox serve`.
    Sandbox,
}

impl Cloud {
    /// The spelling used in plan files (and by `az cloud list`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "AzureCloud",
            Cloud::AzureChinaCloud => "AzureChinaCloud",
            Cloud::AzureUsGovernment => "AzureUSGovernment",
            Cloud::Sandbox => "sandbox",
        }
    }
}

/// How vaultwire obtains Azure credentials. `Auto` tries the usual chain in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// Workload identity federation, then Azure Pipelines, then client secret, then managed
    /// identity, then the Azure CLI; the first that is configured wins.
    Auto,
    /// `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE` (GitHub OIDC via
    /// azure/login, AKS workload identity).
    WorkloadIdentity,
    /// An Azure Pipelines service connection with workload identity federation.
    AzurePipelines {
        service_connection_id: Option<String>,
    },
    /// `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_CLIENT_SECRET`.
    ClientSecret,
    /// The managed identity of the machine; a user-assigned one by client ID.
    ManagedIdentity { client_id: Option<String> },
    /// The signed-in Azure CLI (`az login`), for laptops.
    AzureCli,
}

/// `[vault.KEY]`: a `Microsoft.KeyVault/vaults` resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Vault {
    /// Span of the `KEY` in `[vault.KEY]`.
    pub key_span: Span,
    pub name: Spanned<String>,
    pub resource_group: Spanned<String>,
    pub location: Spanned<String>,
    pub sku: Sku,
    pub authorization: Spanned<Authorization>,
    pub soft_delete_retention_days: Spanned<u32>,
    pub purge_protection: Spanned<bool>,
    pub public_network_access: PublicNetworkAccess,
    pub network_acls: Option<NetworkAcls>,
    pub tags: BTreeMap<String, String>,
    pub on_destroy: Spanned<OnDestroy>,
    pub recover_soft_deleted: bool,
    pub depends_on: Vec<Spanned<Address>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sku {
    Standard,
    Premium,
}

/// How a vault authorizes data-plane access: Azure RBAC role assignments or access policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Authorization {
    Rbac,
    AccessPolicies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PublicNetworkAccess {
    Enabled,
    Disabled,
}

/// `network_acls`: the vault firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAcls {
    pub default_action: NetworkDefaultAction,
    pub bypass: NetworkBypass,
    pub ip_rules: Vec<String>,
    pub virtual_network_subnet_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetworkDefaultAction {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetworkBypass {
    AzureServices,
    None,
}

/// What `destroy` does with a vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OnDestroy {
    /// Leave the vault and its secrets in place; only forget it in state.
    Retain,
    /// Delete it (Azure keeps it soft-deleted for the retention period).
    Delete,
    /// Delete and purge it. Impossible under purge protection.
    Purge,
}

/// `[addon.KEY]`: the `azureKeyvaultSecretsProvider` add-on of an existing AKS cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Addon {
    pub key_span: Span,
    pub cluster: Spanned<String>,
    pub resource_group: Spanned<String>,
    pub secret_rotation: Spanned<bool>,
    pub rotation_poll_interval: Spanned<GoDuration>,
    /// A kubeconfig context to reach the cluster; by default vaultwire asks ARM for the
    /// cluster's user credentials.
    pub kube_context: Option<Spanned<String>>,
    /// Make sure the cluster has its OIDC issuer and workload identity on (never turned off:
    /// `false` leaves the cluster as it is).
    pub workload_identity: Spanned<bool>,
    pub depends_on: Vec<Spanned<Address>>,
}

/// `[identity.KEY]`: a user-assigned managed identity
/// (`Microsoft.ManagedIdentity/userAssignedIdentities`).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub key_span: Span,
    pub name: Spanned<String>,
    pub resource_group: Spanned<String>,
    pub location: Spanned<String>,
    pub tags: BTreeMap<String, String>,
    /// `retain` or `delete` (the default); an identity cannot be purged.
    pub on_destroy: Spanned<OnDestroy>,
    pub depends_on: Vec<Spanned<Address>>,
}

/// `[federation.KEY]`: a federated identity credential letting a service account of a plan
/// cluster sign in as an identity. The issuer is the cluster's, never typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Federation {
    pub key_span: Span,
    /// The `[identity.KEY]` that trusts the service account.
    pub identity: Spanned<String>,
    /// The add-on whose cluster issues the service account's tokens.
    pub addon: Spanned<String>,
    pub namespace: Spanned<String>,
    pub service_account: Spanned<String>,
    /// The credential's name under the identity; defaults to the table key.
    pub name: Spanned<String>,
    pub depends_on: Vec<Spanned<Address>>,
}

impl Federation {
    /// `system:serviceaccount:NAMESPACE:NAME`, the subject of the service account's tokens.
    pub fn subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace.value, self.service_account.value
        )
    }
}

/// The audience every workload-identity token exchange uses.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// `[grant.KEY]`: lets a principal read a vault.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub key_span: Span,
    pub vault: Spanned<String>,
    pub principal: Spanned<Principal>,
    /// For RBAC vaults: the role assigned at the vault's scope.
    pub role: Option<Spanned<Role>>,
    /// For access-policy vaults: the permissions of the access-policy entry.
    pub secret_permissions: Option<Spanned<Vec<String>>>,
    pub key_permissions: Option<Spanned<Vec<String>>>,
    pub certificate_permissions: Option<Spanned<Vec<String>>>,
    pub depends_on: Vec<Spanned<Address>>,
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The add-on identity of `[addon.KEY]`, known only once the add-on is enabled.
    Addon(Spanned<String>),
    /// The managed identity of `[identity.KEY]`, known once it exists.
    Identity(Spanned<String>),
    /// A user-assigned managed identity or app registration federated with a service account.
    WorkloadIdentity {
        client_id: String,
        object_id: String,
    },
    /// Any Entra ID object.
    Object {
        object_id: String,
        principal_type: PrincipalType,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalType {
    User,
    Group,
    ServicePrincipal,
    ForeignGroup,
}

impl PrincipalType {
    /// The value of `principalType` in a role assignment.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "User",
            PrincipalType::Group => "Group",
            PrincipalType::ServicePrincipal => "ServicePrincipal",
            PrincipalType::ForeignGroup => "ForeignGroup",
        }
    }
}

/// A role for an RBAC grant: a built-in Key Vault role by name, or any role definition by GUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    BuiltIn(BuiltInRole),
    DefinitionId(String),
}

/// The built-in Key Vault data-plane roles a grant may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BuiltInRole {
    SecretsUser,
    SecretsOfficer,
    CertificateUser,
    CryptoUser,
    Reader,
}

impl BuiltInRole {
    pub const ALL: [BuiltInRole; 5] = [
        BuiltInRole::SecretsUser,
        BuiltInRole::SecretsOfficer,
        BuiltInRole::CertificateUser,
        BuiltInRole::CryptoUser,
        BuiltInRole::Reader,
    ];

    /// The role's display name, as written in plan files and the Azure portal.
    pub fn name(self) -> &'static str {
        match self {
            BuiltInRole::SecretsUser => "Key Vault Secrets User",
            BuiltInRole::SecretsOfficer => "Key Vault Secrets Officer",
            BuiltInRole::CertificateUser => "Key Vault Certificate User",
            BuiltInRole::CryptoUser => "Key Vault Crypto User",
            BuiltInRole::Reader => "Key Vault Reader",
        }
    }

    /// The role definition GUID, the same in every tenant and cloud.
    pub fn definition_guid(self) -> &'static str {
        match self {
            BuiltInRole::SecretsUser => "4633458b-17de-408a-b874-0445c86b69e6",
            BuiltInRole::SecretsOfficer => "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
            BuiltInRole::CertificateUser => "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
            BuiltInRole::CryptoUser => "12338af0-0e69-4776-bea7-57ae8d297424",
            BuiltInRole::Reader => "21090545-7ca7-4776-b22c-e363652d74d2",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.name() == name)
    }
}

impl Role {
    /// The role definition GUID this role refers to.
    pub fn definition_guid(&self) -> &str {
        match self {
            Role::BuiltIn(role) => role.definition_guid(),
            Role::DefinitionId(guid) => guid,
        }
    }
}

/// `[spc.KEY]`: a `secrets-store.csi.x-k8s.io/v1` SecretProviderClass.
#[derive(Debug, Clone, PartialEq)]
pub struct Spc {
    pub key_span: Span,
    /// The add-on whose cluster holds this SecretProviderClass.
    pub addon: Spanned<String>,
    pub namespace: Spanned<String>,
    /// The Kubernetes object name; defaults to the table key.
    pub name: Spanned<String>,
    pub vault: Spanned<String>,
    pub identity: Spanned<SpcIdentity>,
    pub objects: Vec<SpcObject>,
    pub sync: Vec<SyncSecret>,
    /// `destroy` first writes each `sync` Secret back as a native Secret from the current Key
    /// Vault values (`migrate --write` turns it on), so workloads keep running without it.
    pub restore_on_destroy: bool,
    pub depends_on: Vec<Spanned<Address>>,
}

/// The identity the Azure provider uses to read the vault for a SecretProviderClass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpcIdentity {
    /// The add-on's user-assigned identity (`useVMManagedIdentity` + `userAssignedIdentityID`).
    Addon(Spanned<String>),
    /// The managed identity of `[identity.KEY]` as a workload identity (`clientID`).
    Identity(Spanned<String>),
    /// A workload identity (`clientID`); pods must run as the federated service account.
    WorkloadIdentity { client_id: String },
}

/// One entry of `objects`: a Key Vault object mounted as a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpcObject {
    pub span: Span,
    pub name: Spanned<String>,
    pub object_type: ObjectType,
    pub version: Option<String>,
    pub alias: Option<Spanned<String>>,
    pub format: Option<ObjectFormat>,
    pub encoding: Option<ObjectEncoding>,
    pub file_permission: Option<String>,
}

impl SpcObject {
    /// The file name the provider writes, which `sync` data must refer to.
    pub fn file_name(&self) -> &str {
        self.alias
            .as_ref()
            .map_or(&self.name.value, |alias| &alias.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectType {
    Secret,
    Key,
    Cert,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Secret => "secret",
            ObjectType::Key => "key",
            ObjectType::Cert => "cert",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectFormat {
    Pem,
    Pfx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectEncoding {
    Utf8,
    Hex,
    Base64,
}

/// One entry of `sync`: a Kubernetes Secret the driver fills from mounted objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSecret {
    pub span: Span,
    pub secret_name: Spanned<String>,
    pub secret_type: Spanned<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub data: Vec<SyncData>,
}

/// `{ object, key }`: the mounted object (by file name) copied into a Secret key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncData {
    pub object: Spanned<String>,
    pub key: Spanned<String>,
}

/// `[audit]`: settings of `vaultwire audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// Namespaces whose workloads the audit does not scan.
    pub exclude_namespaces: Vec<String>,
}

impl AuditSettings {
    /// kube-system and the namespaces AKS manages itself.
    pub const DEFAULT_EXCLUDED_NAMESPACES: [&'static str; 5] = [
        "calico-system",
        "gatekeeper-system",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    ];
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            exclude_namespaces: Self::DEFAULT_EXCLUDED_NAMESPACES
                .iter()
                .map(|ns| (*ns).to_owned())
                .collect(),
        }
    }
}
