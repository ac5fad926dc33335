//! Microsoft Graph as az's role-assignment commands call it (azure-cli 2.91,
//! `role/custom.py`): a service principal by service principal name or app ID through
//! `$filter`, objects by ID through `directoryObjects/getByIds`, Graph-shaped errors.

use serde_json::json;
use vaultwire_sandbox::ids;

use crate::support::{Reply, start};

const GRAPH: &str = "https://graph.microsoft.com/v1.0";

async fn graph(
    env: &crate::support::Env,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Reply {
    let http = crate::support::proxied_client_for(env.sandbox.ca_pem(), env.sandbox.endpoint());
    let token = env.token("https://graph.microsoft.com/.default").await;
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = http
        .request(method, format!("{GRAPH}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    crate::support::reply(request.send().await.unwrap()).await
}

/// `GET /servicePrincipals?$filter=CLAUSE`, the clause percent-encoded whole, as az sends it.
async fn service_principals(env: &crate::support::Env, clause: &str) -> Reply {
    let filter: String = form_urlencoded::byte_serialize(clause.as_bytes()).collect();
    graph(
        env,
        "GET",
        &format!("/servicePrincipals?$filter={filter}"),
        None,
    )
    .await
}

#[tokio::test]
async fn a_service_principal_is_found_by_its_app_id_among_its_names() {
    let env = start();
    let clause = format!("servicePrincipalNames/any(c:c eq '{}')", ids::CLIENT_ID);
    let found = service_principals(&env, &clause).await.expect(200);
    let principals = found.body["value"].as_array().unwrap();
    assert_eq!(principals.len(), 1, "{}", found.body);
    let principal = &principals[0];
    assert_eq!(
        principal["@odata.type"],
        "#microsoft.graph.servicePrincipal"
    );
    assert_eq!(principal["appId"], ids::CLIENT_ID);
    assert_eq!(principal["servicePrincipalNames"][0], ids::CLIENT_ID);
    assert_eq!(
        found.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals"
    );

    let none = service_principals(&env, "servicePrincipalNames/any(c:c eq 'http://nobody')")
        .await
        .expect(200);
    assert_eq!(none.body["value"], json!([]));
}

#[tokio::test]
async fn objects_are_found_by_id_and_unknown_ids_are_left_out() {
    let env = start();
    let clause = format!("appId eq '{}'", ids::CLIENT_ID);
    let found = service_principals(&env, &clause).await.expect(200);
    let object_id = found.body["value"][0]["id"].as_str().unwrap().to_owned();
    let by_ids = graph(
        &env,
        "POST",
        "/directoryObjects/getByIds",
        Some(&json!({
            "ids": [object_id, "00000000-0000-0000-0000-000000000001"],
            "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"],
        })),
    )
    .await
    .expect(200);
    let objects = by_ids.body["value"].as_array().unwrap();
    assert_eq!(objects.len(), 1, "{}", by_ids.body);
    assert_eq!(objects[0]["id"], object_id.as_str());
    assert_eq!(
        objects[0]["@odata.type"],
        "#microsoft.graph.servicePrincipal"
    );

    let one = graph(
        &env,
        "GET",
        &format!("/servicePrincipals/{object_id}"),
        None,
    )
    .await
    .expect(200);
    assert_eq!(one.body["appId"], ids::CLIENT_ID);
}

#[tokio::test]
async fn errors_have_graphs_shape() {
    let env = start();
    let missing = graph(
        &env,
        "GET",
        "/servicePrincipals/00000000-0000-0000-0000-000000000001",
        None,
    )
    .await
    .expect(404);
    assert_eq!(missing.body["error"]["code"], "Request_ResourceNotFound");
    assert!(
        missing.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert!(missing.body["error"]["innerError"]["request-id"].is_string());

    let unsupported = service_principals(&env, "startswith(displayName,'a')")
        .await
        .expect(400);
    assert_eq!(
        unsupported.body["error"]["code"],
        "Request_UnsupportedQuery"
    );

    // An ARM token is not a Graph token.
    let http = crate::support::proxied_client_for(env.sandbox.ca_pem(), env.sandbox.endpoint());
    let arm_token = env.arm_token().await;
    let response = http
        .get(format!("{GRAPH}/servicePrincipals"))
        .bearer_auth(arm_token)
        .send()
        .await
        .unwrap();
    let rejected = crate::support::reply(response).await.expect(401);
    assert_eq!(rejected.body["error"]["code"], "InvalidAuthenticationToken");
}
