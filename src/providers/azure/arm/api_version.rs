//! The api-version of every ARM and data-plane call, pinned per resource type.
//!
//! Why each was chosen is in `docs/azure-api-versions.md`; change them only together with that
//! file and the recorded fixtures in `tests/fixtures/spec-examples/`.

/// `Microsoft.KeyVault/vaults` and `deletedVaults`. Widely deployed GA; its
/// `enableRbacAuthorization` default is `false` (2026-02-01 flips it to `true`), which
/// vaultwire never relies on because it always sends the field.
pub const KEY_VAULT: &str = "2025-05-01";

/// `Microsoft.ContainerService/managedClusters`: a GA version some months old, so every region
/// serves it, that has the `azureKeyvaultSecretsProvider` add-on and `eTag`s.
pub const CONTAINER_SERVICE: &str = "2025-10-01";

/// `Microsoft.Authorization/roleAssignments` and `roleDefinitions`: the current GA.
pub const AUTHORIZATION: &str = "2022-04-01";

/// `Microsoft.ManagedIdentity/userAssignedIdentities` and their federated identity
/// credentials: the first GA version with federated credentials.
pub const MANAGED_IDENTITY: &str = "2023-01-31";

/// `Microsoft.Network/publicIPAddresses`, read for a cluster's outbound IPs: a GA version
/// every region serves.
pub const NETWORK: &str = "2024-05-01";

/// The Key Vault secrets data plane: the newest stable date-based version.
pub const KEY_VAULT_DATA: &str = "2025-07-01";
