//! One run's connection to its target: the cloud, the signed-in credential, the shared ARM
//! client, and the resource clients built on them.
//!
//! The engine builds one [`AzureSession`] per run from the plan's `[target]` and asks it for
//! clients; all of them share the credential's token cache and the ARM rate-limit buckets.
//! Owns only wiring: no resource logic.

use std::sync::Arc;

use crate::plan::model::{Addon, Target};
use crate::providers::azure::aks::{AksClient, AksOptions, ClusterId};
use crate::providers::azure::keyvault::KeyVaultClient;
use crate::providers::azure::keyvault_data::SecretsClient;
use crate::providers::azure::rbac::{RbacClient, RbacOptions};
use crate::providers::azure::{ArmClient, ArmClientOptions, AzureCloud, Credential, sign_in};
use crate::providers::kube::{ClusterAccess, ClusterConnection, KubeTransports, load_kubeconfig};
use crate::providers::{Environment, ProviderError};

#[derive(Debug, Clone)]
pub struct AzureSession {
    cloud: AzureCloud,
    credential: Credential,
    arm: ArmClient,
    subscription_id: String,
    tenant_id: String,
    /// Shared by the run's clusters: those behind one address share a connection.
    kube_transports: KubeTransports,
}

impl AzureSession {
    /// Finds the cloud (the sandbox through its environment variables), signs in as
    /// `target.auth` says and builds the ARM client.
    pub async fn connect(target: &Target, env: &Environment) -> Result<Self, ProviderError> {
        let cloud = AzureCloud::for_plan(target.cloud.value, env)?;
        let credential = sign_in(&target.auth.value, env, &cloud, &target.tenant_id.value).await?;
        Ok(Self::new(
            cloud,
            credential,
            &target.subscription_id.value,
            &target.tenant_id.value,
            ArmClientOptions::default(),
        ))
    }

    /// A session from parts (tests, or a caller that signed in itself).
    pub fn new(
        cloud: AzureCloud,
        credential: Credential,
        subscription_id: &str,
        tenant_id: &str,
        options: ArmClientOptions,
    ) -> Self {
        let arm = ArmClient::new(&cloud, credential.token_credential(), options);
        Self {
            cloud,
            credential,
            arm,
            subscription_id: subscription_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            kube_transports: KubeTransports::default(),
        }
    }

    pub fn cloud(&self) -> &AzureCloud {
        &self.cloud
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub fn arm(&self) -> &ArmClient {
        &self.arm
    }

    pub fn subscription_id(&self) -> &str {
        &self.subscription_id
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn key_vaults(&self) -> KeyVaultClient {
        KeyVaultClient::new(self.arm.clone())
    }

    pub fn aks(&self) -> AksClient {
        AksClient::new(self.arm.clone(), AksOptions::default())
    }

    pub fn msi(&self) -> crate::providers::azure::msi::MsiClient {
        crate::providers::azure::msi::MsiClient::new(self.arm.clone())
    }

    pub fn rbac(&self) -> RbacClient {
        RbacClient::new(self.arm.clone(), RbacOptions::default())
    }

    /// The secrets of the vault at `vault_uri` (a live vault's `properties.vaultUri`).
    pub fn secrets(&self, vault_uri: &str) -> Result<SecretsClient, ProviderError> {
        Ok(SecretsClient::new(
            &self.cloud,
            self.credential.token_credential(),
            vault_uri,
            self.arm.timer(),
            self.arm.retry_settings(),
        )?)
    }

    /// The Kubernetes API of the add-on's cluster: through the plan's `kube_context` when it
    /// names one, else with the user kubeconfig ARM returns (and this session's Entra token
    /// for AAD-enabled clusters).
    pub async fn cluster_connection(
        &self,
        addon: &Addon,
        env: &Environment,
    ) -> Result<ClusterConnection, ProviderError> {
        self.cluster_connection_at(
            &addon.resource_group.value,
            &addon.cluster.value,
            addon
                .kube_context
                .as_ref()
                .map(|context| context.value.as_str()),
            env,
        )
        .await
    }

    /// As [`Self::cluster_connection`], for a cluster named by resource group and name.
    pub async fn cluster_connection_at(
        &self,
        resource_group: &str,
        cluster: &str,
        kube_context: Option<&str>,
        env: &Environment,
    ) -> Result<ClusterConnection, ProviderError> {
        let access = match kube_context {
            Some(context) => ClusterAccess::Context {
                kubeconfig: Box::new(load_kubeconfig(env)?),
                context: context.to_owned(),
            },
            None => {
                let id = ClusterId::new(&self.subscription_id, resource_group, cluster);
                // AKS clusters with Entra integration (the usual case) need a token for the
                // AKS server application: ask for it while the kubeconfig is on its way
                // rather than after. It lands in the run's token cache; a failure here is
                // reported, if it matters, when the connection asks again.
                let credential = self.credential.token_credential();
                let scopes = [self.cloud.aks_server_scope()];
                let aks = self.aks();
                let (kubeconfig, _prefetched) = tokio::join!(
                    aks.user_kubeconfig(&id),
                    credential.get_token(&scopes, None)
                );
                tracing::debug!(cluster, "kubeconfig received");
                ClusterAccess::Arm {
                    kubeconfig: kubeconfig?,
                }
            }
        };
        Ok(ClusterConnection::open(
            cluster,
            access,
            self.credential.token_credential(),
            self.cloud.aks_server_scope(),
            &self.kube_transports,
        )
        .await?
        .with_extra_roots(self.cloud.extra_roots())
        .with_environment_proxy(env)?)
    }

    /// The credential as azure_core wants it, for callers building their own pipelines.
    pub fn token_credential(&self) -> Arc<dyn azure_core::credentials::TokenCredential> {
        self.credential.token_credential()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::duration::GoDuration;
    use crate::plan::model::Spanned;
    use crate::providers::azure::auth::CredentialKind;
    use crate::providers::testing::{FakeCredential, FakeTimer, Reply, ScriptedHttp};

    const SUB: &str = crate::sandbox::ids::SUBSCRIPTION_ID;

    fn addon(kube_context: Option<&str>) -> Addon {
        let spanned = |value: &str| Spanned::new(value.to_owned(), 0..0);
        Addon {
            key_span: 0..0,
            cluster: spanned("aks-demo"),
            resource_group: spanned("rg-demo"),
            secret_rotation: Spanned::new(true, 0..0),
            rotation_poll_interval: Spanned::new(GoDuration::parse("2m").unwrap(), 0..0),
            kube_context: kube_context.map(spanned),
            workload_identity: Spanned::new(false, 0..0),
            depends_on: Vec::new(),
        }
    }

    fn session(http: &Arc<ScriptedHttp>) -> (AzureSession, Arc<FakeCredential>) {
        let inner = FakeCredential::new();
        let credential =
            Credential::from_token_credential(CredentialKind::ClientSecret, inner.clone());
        let options = ArmClientOptions {
            timer: FakeTimer::new(),
            ..ArmClientOptions::default()
        };
        let cloud = AzureCloud::public().with_http_client(http.clone());
        (
            AzureSession::new(cloud, credential, SUB, "t", options),
            inner,
        )
    }

    #[tokio::test]
    async fn by_default_the_cluster_is_reached_with_the_kubeconfig_arm_returns() {
        let http = ScriptedHttp::new();
        let kubeconfig = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://aks-demo-dns-4f1c.hcp.westeurope.azmk8s.io:443
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin}
";
        http.expect(
            "POST",
            &format!("/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.ContainerService/managedClusters/aks-demo/listClusterUserCredential"),
            Reply::json(200, serde_json::json!({"kubeconfigs": [{"name": "clusterUser", "value": azure_core::base64::encode(kubeconfig)}]})),
        );
        let (session, credential) = session(&http);
        // Behind a proxy, as kubectl would be.
        let env = Environment::from_pairs([("HTTPS_PROXY", "http://proxy.corp:3128")]);
        let connection = session
            .cluster_connection(&addon(None), &env)
            .await
            .unwrap();
        assert!(connection.uses_entra_token());
        assert_eq!(
            connection.config().proxy_url,
            Some(http::Uri::from_static("http://proxy.corp:3128"))
        );
        connection.client().await.unwrap();
        assert!(
            credential
                .scopes()
                .contains(&"6dae42f8-4368-4678-94ff-3960e28e3630/.default".to_owned())
        );
    }

    #[tokio::test]
    async fn a_kube_context_in_the_plan_skips_arm() {
        let http = ScriptedHttp::new();
        let (session, _) = session(&http);
        let error = session
            .cluster_connection(&addon(Some("prod")), &Environment::default())
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Kube(_)), "{error}");
        assert!(http.requests().is_empty());
    }
}
