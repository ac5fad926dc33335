//! The AKS `azureKeyvaultSecretsProvider` add-on of existing managed clusters, and the
//! cluster user credentials vaultwire reaches the Kubernetes API with.

mod addon;
mod client;
mod requests;

pub use addon::{
    ADDON_KEY, AddonIdentity, AddonSettings, ClusterEgress, LiveAddon, LiveCluster, blocking_spcs,
    with_addon,
};
pub use client::{AksClient, AksError, AksOptions};
pub use requests::{
    ClusterId, ClusterKubeconfig, get_cluster, get_public_ip, kubeconfig_from_credentials,
    list_cluster_user_credential, put_cluster,
};
