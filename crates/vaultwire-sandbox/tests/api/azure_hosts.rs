//! The sandbox as an HTTPS proxy for Azure's hostnames: a client that sends every request
//! through it reaches Entra, ARM, Key Vault by vault hostname, a cluster's API server by its
//! FQDN and the clusters' OIDC issuers, each behind a certificate for that name; the answers
//! carry those hosts, as Azure's do.

use base64::Engine;
use serde_json::{Value, json};
use vaultwire_sandbox::{SandboxOptions, ids};

use crate::support::{
    AKS_API, AUTHZ_API, Env, KV_API, Reply, VAULTS_API, cluster_path, form_body,
    proxied_client_for, reply, send, start, start_with, vault_body, vault_path,
};

const ARM: &str = "https://management.azure.com";
const LOGIN: &str = "https://login.microsoftonline.com";

/// A client for Azure's hostnames, through the sandbox.
struct Azure {
    http: reqwest::Client,
}

impl Azure {
    fn of(env: &Env) -> Azure {
        Azure {
            http: proxied_client_for(env.sandbox.ca_pem(), env.sandbox.endpoint()),
        }
    }

    async fn token(&self, scope: &str) -> String {
        let response = self
            .http
            .post(format!("{LOGIN}/{}/oauth2/v2.0/token", ids::TENANT_ID))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body([
                ("grant_type", "client_credentials"),
                ("client_id", ids::CLIENT_ID),
                ("client_secret", ids::CLIENT_SECRET),
                ("scope", scope),
            ]))
            .send()
            .await
            .expect("send");
        reply(response).await.expect(200).body["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    async fn call(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        send(&self.http, method, url, token, body).await
    }

    /// `aks-demo` as ARM returns it.
    async fn cluster(&self) -> Value {
        let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo"));
        self.arm("GET", &path, None).await.expect(200).body
    }

    async fn arm(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let token = self
            .token("https://management.core.windows.net//.default")
            .await;
        self.call(method, &format!("{ARM}{path}"), Some(&token), body)
            .await
    }
}

#[tokio::test]
async fn entra_answers_on_its_authority_with_the_public_clouds_documents() {
    let env = start();
    let azure = Azure::of(&env);
    let config = azure
        .call(
            "GET",
            &format!(
                "{LOGIN}/{}/v2.0/.well-known/openid-configuration",
                ids::TENANT_ID
            ),
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        config.body["token_endpoint"],
        format!("{LOGIN}/{}/oauth2/v2.0/token", ids::TENANT_ID)
    );
    assert_eq!(
        config.body["issuer"],
        format!("{LOGIN}/{}/v2.0", ids::TENANT_ID)
    );
    // MSAL's instance discovery, as it asks for the well-known authority's aliases.
    let discovery = azure
        .call(
            "GET",
            &format!("{LOGIN}/common/discovery/instance?api-version=1.1&authorization_endpoint={LOGIN}/common/oauth2/authorize"),
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        discovery.body["metadata"][0]["aliases"],
        json!([
            "login.microsoftonline.com",
            "login.windows.net",
            "login.microsoft.com",
            "sts.windows.net"
        ])
    );
    assert!(
        !azure
            .token("https://management.azure.com/.default")
            .await
            .is_empty()
    );
    // The public cloud's metadata, as management.azure.com answers it.
    let metadata = azure
        .call(
            "GET",
            &format!("{ARM}/metadata/endpoints?api-version=2022-09-01"),
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(metadata.body["name"], "AzureCloud");
    assert_eq!(metadata.body["resourceManager"], format!("{ARM}/"));
    assert_eq!(metadata.body["authentication"]["loginEndpoint"], LOGIN);
}

#[tokio::test]
async fn a_vault_created_through_arm_is_reached_by_its_hostname() {
    let env = start();
    let azure = Azure::of(&env);
    let created = azure
        .arm(
            "PUT",
            &format!("{}?{VAULTS_API}", vault_path("rg-demo", "kv-by-host")),
            Some(&vault_body(true)),
        )
        .await
        .expect(201);
    assert_eq!(
        created.body["properties"]["vaultUri"],
        "https://kv-by-host.vault.azure.net/"
    );
    // Key Vault Secrets Officer for the deploying app.
    let grant = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7", ids::SUBSCRIPTION_ID),
        "principalId": ids::CLIENT_OBJECT_ID,
    }});
    azure
        .arm(
            "PUT",
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments/{}?{AUTHZ_API}",
                vault_path("rg-demo", "kv-by-host"),
                uuid::Uuid::new_v4()
            ),
            Some(&grant),
        )
        .await
        .expect(201);

    // The data plane's challenge names the public authority and the Key Vault resource, which
    // a client verifies against the vault's host.
    let secret = format!("https://kv-by-host.vault.azure.net/secrets/db-password?{KV_API}");
    let challenge = azure.call("PUT", &secret, None, None).await.expect(401);
    assert_eq!(
        challenge.header("www-authenticate"),
        Some(
            format!(
                "Bearer authorization=\"{LOGIN}/{}\", resource=\"https://vault.azure.net\"",
                ids::TENANT_ID
            )
            .as_str()
        )
    );
    let token = azure.token("https://vault.azure.net/.default").await;
    let set = azure
        .call(
            "PUT",
            &secret,
            Some(&token),
            Some(&json!({"value": "canary-value"})),
        )
        .await
        .expect(200);
    let id = set.body["id"].as_str().unwrap();
    assert!(
        id.starts_with("https://kv-by-host.vault.azure.net/secrets/db-password/"),
        "{id}"
    );
    // A name that is no vault of the sandbox's: Key Vault's own not-found, on its host.
    let missing = azure
        .call(
            "GET",
            &format!("https://kv-nowhere.vault.azure.net/secrets?{KV_API}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn a_clusters_credentials_name_its_fqdn_and_its_api_server_answers_there() {
    let env = start();
    let azure = Azure::of(&env);
    let cluster = azure.cluster().await;
    let fqdn = cluster["properties"]["fqdn"].as_str().unwrap().to_owned();
    assert!(fqdn.ends_with(".hcp.westeurope.azmk8s.io"), "{fqdn}");

    let credentials = azure
        .arm(
            "POST",
            &format!(
                "{}/listClusterAdminCredential?{AKS_API}",
                cluster_path("rg-demo", "aks-demo")
            ),
            None,
        )
        .await
        .expect(200);
    let kubeconfig = base64::engine::general_purpose::STANDARD
        .decode(
            credentials.body["kubeconfigs"][0]["value"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let kubeconfig: Value = serde_norway::from_slice(&kubeconfig).unwrap();
    assert_eq!(
        kubeconfig["clusters"][0]["cluster"]["server"],
        format!("https://{fqdn}:443")
    );
    let token = kubeconfig["users"][0]["user"]["token"].as_str().unwrap();
    let namespaces = azure
        .call(
            "GET",
            &format!("https://{fqdn}/api/v1/namespaces"),
            Some(token),
            None,
        )
        .await
        .expect(200);
    assert_eq!(namespaces.body["kind"], "NamespaceList");

    // Another FQDN of the right shape is no cluster of the sandbox's.
    let other = azure
        .call(
            "GET",
            "https://nobody-00000000.hcp.westeurope.azmk8s.io/api/v1/namespaces",
            Some(token),
            None,
        )
        .await;
    assert_eq!(other.status, 404, "{}", other.body);
}

#[tokio::test]
async fn a_clusters_oidc_issuer_serves_its_discovery_document_and_keys() {
    let env = start_with(SandboxOptions::default());
    let azure = Azure::of(&env);
    let cluster = azure.cluster().await;
    let issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .expect("the seeded cluster has an OIDC issuer")
        .to_owned();
    let document = azure
        .call(
            "GET",
            &format!("{issuer}.well-known/openid-configuration"),
            None,
            None,
        )
        .await
        .expect(200);
    assert_eq!(document.body["issuer"], issuer.as_str());
    let jwks = document.body["jwks_uri"].as_str().unwrap().to_owned();
    let keys = azure.call("GET", &jwks, None, None).await.expect(200);
    assert_eq!(keys.body["keys"][0]["kty"], "EC");
}

#[tokio::test]
async fn requests_through_the_proxy_are_journaled_with_their_host() {
    let env = start();
    let azure = Azure::of(&env);
    azure
        .arm("GET", "/subscriptions?api-version=2022-12-01", None)
        .await
        .expect(200);
    let journal = env.sandbox.journal();
    let arm = journal
        .iter()
        .find(|entry| entry.path == "/subscriptions")
        .expect("the ARM request");
    assert_eq!(arm.host.as_deref(), Some("management.azure.com"));
}
