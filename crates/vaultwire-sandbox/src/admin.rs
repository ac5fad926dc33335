//! The admin API under `/_sandbox/`: the request journal and counters, fault and timing
//! control, token minting for tests (federated OIDC assertions, access tokens for any
//! principal), out-of-band "drift" changes and reset.
//!
//! It is reachable only on the loopback listener, like the rest of the sandbox, and is not
//! itself journaled or faulted. It never returns secret values.

use std::time::Duration;

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Audience, Principal};
use crate::exchange::{Req, Resp};
use crate::ids;
use crate::instance::{Instance, Timing, lock};
use crate::options::Faults;
use crate::token::Claims;

pub fn handle(instance: &Instance, req: &Req) -> Resp {
    let segments = req.segments();
    let words: Vec<&str> = segments.iter().skip(1).map(String::as_str).collect();
    match (words.as_slice(), &req.method) {
        (["info"], &Method::GET) => info(instance),
        (["journal"], &Method::GET) => Resp::json(
            StatusCode::OK,
            &json!({"entries": lock(&instance.journal).entries()}),
        ),
        (["journal"], &Method::DELETE) => {
            lock(&instance.journal).clear();
            Resp::empty(StatusCode::NO_CONTENT)
        }
        (["counters"], &Method::GET) => Resp::json(
            StatusCode::OK,
            &json!({"routes": lock(&instance.journal).counters()}),
        ),
        (["faults"], &Method::GET) => {
            Resp::json(StatusCode::OK, &json!(lock(&instance.faults).faults))
        }
        (["faults"], &Method::PUT) => match req.json::<Faults>() {
            Ok(faults) => {
                lock(&instance.faults).set(faults.clone());
                Resp::json(StatusCode::OK, &json!(faults))
            }
            Err(error) => bad_request(&error.to_string()),
        },
        (["timing"], &Method::GET) => timing_json(*lock(&instance.timing)),
        (["timing"], &Method::PUT) => set_timing(instance, req),
        (["oidc", "token"], &Method::POST) => federated_token(instance, req),
        (["oidc", ".well-known", "openid-configuration"], &Method::GET) => Resp::json(
            StatusCode::OK,
            &json!({
                "issuer": format!("{}/_sandbox/oidc", instance.endpoint),
                "jwks_uri": format!("{}/_sandbox/oidc/keys", instance.endpoint),
                "subject_types_supported": ["public"],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["ES256"],
            }),
        ),
        (["oidc", "keys"], &Method::GET) => {
            Resp::json(StatusCode::OK, &json!({"keys": [instance.keys.jwk()]}))
        }
        (["tokens"], &Method::POST) => access_token(instance, req),
        // The kubelet's Secrets Store CSI mounts: file names and content hashes, never values.
        (["mounts"], &Method::GET) => outcome(instance.with_world(false, |ctx, world| {
            crate::kubelet::settle(ctx, world);
            json!({"mounts": world.mounts.values().collect::<Vec<_>>()})
        })),
        (["drift", "disable-addon"], &Method::POST) => disable_addon(instance, req),
        (["drift", "delete-role-assignment"], &Method::POST) => {
            delete_role_assignment(instance, req)
        }
        (["drift", "delete-identity"], &Method::POST) => delete_identity(instance, req),
        (["reset"], &Method::POST) => {
            let seeded = instance.seed_world();
            outcome(
                instance
                    .with_world(true, |_, world| *world = seeded)
                    .map(|()| json!({"reset": true})),
            )
        }
        _ => Resp::json(
            StatusCode::NOT_FOUND,
            &json!({"error": {"code": "NotFound", "message": format!("no admin route '{} {}'; see docs/sandbox.md", req.method, req.path)}}),
        ),
    }
}

fn bad_request(message: &str) -> Resp {
    Resp::json(
        StatusCode::BAD_REQUEST,
        &json!({"error": {"code": "BadRequest", "message": message}}),
    )
}

fn outcome(result: Result<Value, crate::persist::PersistError>) -> Resp {
    match result {
        Ok(value) if value.get("error").is_some() => Resp::json(StatusCode::NOT_FOUND, &value),
        Ok(value) => Resp::json(StatusCode::OK, &value),
        Err(error) => Resp::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": {"code": "SandboxStorageError", "message": error.to_string()}}),
        ),
    }
}

fn info(instance: &Instance) -> Resp {
    Resp::json(
        StatusCode::OK,
        &json!({
            "endpoint": instance.endpoint,
            "tenantId": ids::TENANT_ID,
            "subscriptionId": ids::SUBSCRIPTION_ID,
            "clientId": ids::CLIENT_ID,
            "clientObjectId": ids::CLIENT_OBJECT_ID,
            "federatedSubject": ids::FEDERATED_SUBJECT,
            "dir": instance.dir,
            "seed": instance.seed,
        }),
    )
}

fn timing_json(timing: Timing) -> Resp {
    Resp::json(
        StatusCode::OK,
        &json!({
            "lroMs": timing.lro_duration.as_millis(),
            "rbacDelayMs": timing.rbac_delay.as_millis(),
            "principalDelayMs": timing.principal_delay.as_millis(),
            "credentialDelayMs": timing.credential_delay.as_millis(),
        }),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimingBody {
    lro_ms: Option<u64>,
    rbac_delay_ms: Option<u64>,
    principal_delay_ms: Option<u64>,
    credential_delay_ms: Option<u64>,
}

fn set_timing(instance: &Instance, req: &Req) -> Resp {
    let body: TimingBody = match req.json() {
        Ok(body) => body,
        Err(error) => return bad_request(&error.to_string()),
    };
    let mut timing = lock(&instance.timing);
    if let Some(ms) = body.lro_ms {
        timing.lro_duration = Duration::from_millis(ms);
    }
    if let Some(ms) = body.rbac_delay_ms {
        timing.rbac_delay = Duration::from_millis(ms);
    }
    if let Some(ms) = body.principal_delay_ms {
        timing.principal_delay = Duration::from_millis(ms);
    }
    if let Some(ms) = body.credential_delay_ms {
        timing.credential_delay = Duration::from_millis(ms);
    }
    timing_json(*timing)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OidcBody {
    subject: Option<String>,
    audience: Option<String>,
    lifetime_seconds: Option<i64>,
}

/// Mints a GitHub-style OIDC token (issuer `{endpoint}/_sandbox/oidc`) to use as a federated
/// client assertion, e.g. the file behind `AZURE_FEDERATED_TOKEN_FILE`.
pub fn mint_federated(
    instance: &Instance,
    subject: &str,
    audience: &str,
    lifetime_seconds: i64,
) -> Option<String> {
    let claims = Claims {
        uti: Some(uuid::Uuid::new_v4().simple().to_string()),
        ..Claims::assertion(
            format!("{}/_sandbox/oidc", instance.endpoint),
            subject.to_owned(),
            crate::token::Audiences::one(audience),
            jiff::Timestamp::now().as_second(),
            lifetime_seconds,
        )
    };
    instance.keys.sign(&claims).ok()
}

fn federated_token(instance: &Instance, req: &Req) -> Resp {
    let body: OidcBody = if req.body.is_empty() {
        OidcBody::default()
    } else {
        match req.json() {
            Ok(body) => body,
            Err(error) => return bad_request(&error.to_string()),
        }
    };
    let subject = body
        .subject
        .unwrap_or_else(|| ids::FEDERATED_SUBJECT.to_owned());
    let audience = body
        .audience
        .unwrap_or_else(|| ids::FEDERATED_AUDIENCE.to_owned());
    match mint_federated(
        instance,
        &subject,
        &audience,
        body.lifetime_seconds.unwrap_or(600),
    ) {
        Some(token) => Resp::json(StatusCode::OK, &json!({"token": token})),
        None => Resp::empty(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenBody {
    object_id: String,
    app_id: Option<String>,
    /// `arm`, `keyvault`, `aks`, or a raw audience.
    audience: String,
    lifetime_seconds: Option<i64>,
}

/// Mints an access token for any principal, such as the add-on identity, for tests.
fn access_token(instance: &Instance, req: &Req) -> Resp {
    let body: TokenBody = match req.json() {
        Ok(body) => body,
        Err(error) => return bad_request(&error.to_string()),
    };
    let aud = match body.audience.to_ascii_lowercase().as_str() {
        "arm" => "https://management.azure.com/".to_owned(),
        "keyvault" => ids::KEY_VAULT_AUDIENCE.to_owned(),
        "aks" => ids::AKS_SERVER_APP_ID.to_owned(),
        other => match Audience::token_audience(other) {
            Some((_, aud)) => aud,
            None => return bad_request(&format!("unknown audience `{}`", body.audience)),
        },
    };
    let principal = Principal {
        object_id: body.object_id,
        app_id: body.app_id,
    };
    let ctx = instance.ctx(jiff::Timestamp::now());
    match auth::issue(
        &ctx,
        &principal,
        &aud,
        body.lifetime_seconds.unwrap_or(auth::ACCESS_TOKEN_SECONDS),
    ) {
        Ok(token) => Resp::json(
            StatusCode::OK,
            &json!({"accessToken": token, "audience": aud}),
        ),
        Err(_) => Resp::empty(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddonBody {
    cluster: String,
    addon: Option<String>,
}

/// Turns an add-on off behind ARM's back (as if someone used the portal), skipping AKS's
/// SecretProviderClass check: the identity goes away and the CSI driver is uninstalled.
fn disable_addon(instance: &Instance, req: &Req) -> Resp {
    let body: AddonBody = match req.json() {
        Ok(body) => body,
        Err(error) => return bad_request(&error.to_string()),
    };
    let addon = body
        .addon
        .unwrap_or_else(|| "azureKeyvaultSecretsProvider".to_owned());
    outcome(instance.with_world(true, |_, world| {
        let key = body.cluster.to_ascii_lowercase();
        let Some(mut cluster) = world.clusters.remove(&key) else {
            return json!({"error": {"code": "NotFound", "message": format!("no cluster `{}`", body.cluster)}});
        };
        if let Some(profile) = cluster.properties.get_mut("addonProfiles").and_then(|p| p.get_mut(&addon)).and_then(Value::as_object_mut) {
            profile.insert("enabled".to_owned(), json!(false));
            profile.insert("config".to_owned(), Value::Null);
        }
        crate::arm::cluster_document::finish(world, &mut cluster);
        cluster.etag = world.next_uuid("cluster-etag");
        if addon.eq_ignore_ascii_case("azureKeyvaultSecretsProvider")
            && let Some(kube) = world.kube.get_mut(&key)
        {
            kube.set_csi_driver_installed(false);
        }
        world.clusters.insert(key, cluster);
        json!({"cluster": body.cluster, "addon": addon, "enabled": false})
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleAssignmentBody {
    /// The assignment's name (GUID) or full resource ID (for an identity, its resource ID).
    id: String,
}

/// Deletes a user-assigned identity (and so its federated credentials) as someone in the
/// portal would; role assignments to its principal stay, as in Azure.
fn delete_identity(instance: &Instance, req: &Req) -> Resp {
    let body: RoleAssignmentBody = match req.json() {
        Ok(body) => body,
        Err(error) => return bad_request(&error.to_string()),
    };
    let key = body.id.to_ascii_lowercase();
    outcome(instance.with_world(true, |_, world| match world.identities.remove(&key) {
        Some(_) => json!({"deleted": key}),
        None => json!({"error": {"code": "ResourceNotFound", "message": format!("no identity `{key}`")}}),
    }))
}

fn delete_role_assignment(instance: &Instance, req: &Req) -> Resp {
    let body: RoleAssignmentBody = match req.json() {
        Ok(body) => body,
        Err(error) => return bad_request(&error.to_string()),
    };
    let name = body
        .id
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    outcome(instance.with_world(true, |_, world| match world.role_assignments.remove(&name) {
        Some(_) => json!({"deleted": name}),
        None => json!({"error": {"code": "RoleAssignmentNotFound", "message": format!("no role assignment `{name}`")}}),
    }))
}
