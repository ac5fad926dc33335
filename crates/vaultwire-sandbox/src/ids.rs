//! The sandbox's fixed identifiers: tenant, subscription, the deploying application and the
//! well-known Azure application IDs it checks tokens against.
//!
//! These values are part of the sandbox's contract (docs/sandbox.md, tests, the example plans);
//! they never change. Nothing here is valid against real Azure.

/// The sandbox's Entra ID tenant.
pub const TENANT_ID: &str = "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c";
/// The sandbox's one subscription.
pub const SUBSCRIPTION_ID: &str = "3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8";
/// Display name of the subscription.
pub const SUBSCRIPTION_NAME: &str = "vaultwire-sandbox";

/// The application (service principal) vaultwire signs in as.
pub const CLIENT_ID: &str = "5b8e2c1d-9f3a-4d6e-b7c8-1a2b3c4d5e6f";
/// The object ID of that service principal: the `oid` of its tokens, the `principalId` of its
/// role assignments.
pub const CLIENT_OBJECT_ID: &str = "9d4c3b2a-1e0f-4a5b-8c7d-6e5f4a3b2c1d";
/// The client secret of [`CLIENT_ID`]. It is public on purpose: it is only ever valid against
/// the sandbox, which is why it may appear in `DIR/env`.
pub const CLIENT_SECRET: &str = "vw-sandbox~only-valid-against-the-local-sandbox";
/// The subject of the GitHub-style federated credential seeded for [`CLIENT_ID`].
pub const FEDERATED_SUBJECT: &str = "repo:contoso/platform:environment:sandbox";
/// The audience Entra expects in a federated assertion.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Entra's well-known application ID of the AKS AAD server: the audience of tokens the
/// Kubernetes API of an AAD-enabled cluster accepts.
pub const AKS_SERVER_APP_ID: &str = "6dae42f8-4368-4678-94ff-3960e28e3630";
/// The Key Vault data plane's token audience.
pub const KEY_VAULT_AUDIENCE: &str = "https://vault.azure.net";
/// The `aud` of Microsoft Graph tokens from the v1 endpoint, and Graph's application ID.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The seeded resource group, its location, the AKS cluster in it and its node resource group.
pub const RESOURCE_GROUP: &str = "rg-demo";
pub const LOCATION: &str = "westeurope";
pub const CLUSTER: &str = "aks-demo";
pub const NODE_RESOURCE_GROUP: &str = "MC_rg-demo_aks-demo_westeurope";
