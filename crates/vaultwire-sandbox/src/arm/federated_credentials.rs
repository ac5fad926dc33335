//! Federated identity credentials of a user-assigned identity
//! (`…/userAssignedIdentities/{name}/federatedIdentityCredentials/{credential}`): PUT, GET,
//! DELETE and the list, in the shape of the FederatedIdentityCredentials examples, with the
//! service's rules: a name of 3-120 of `[a-zA-Z0-9-_]` starting with a letter or digit, at most
//! 20 per identity, one audience, an issuer and subject pair at most once per identity, and
//! one write at a time under an identity: a write that arrives while another's answer is still
//! on its way gets 409 `ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity`
//! (so only with injected latency can two writes overlap). Entra (`entra.rs`) exchanges tokens
//! under them.

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::identities::{find, not_found};
use crate::arm::response;
use crate::exchange::Resp;
use crate::model::{FederatedCredential, ManagedIdentity};
use crate::world::World;

const TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials";
/// How many federated credentials one identity may have.
const MAX_PER_IDENTITY: usize = 20;

fn document(world: &World, identity: &ManagedIdentity, credential: &FederatedCredential) -> Value {
    json!({
        "id": format!("{}/federatedIdentityCredentials/{}", identity.resource_id(&world.subscription_id), credential.name),
        "name": credential.name,
        "type": TYPE,
        "properties": {
            "issuer": credential.issuer,
            "subject": credential.subject,
            "audiences": credential.audiences,
        },
    })
}

pub fn list(_call: &Call<'_>, world: &World, rg: &str, name: &str) -> Resp {
    let Some(identity) = find(world, rg, name) else {
        return not_found(rg, name);
    };
    let value: Vec<Value> = identity
        .federated_credentials
        .values()
        .map(|credential| document(world, identity, credential))
        .collect();
    Resp::json(StatusCode::OK, &json!({"value": value}))
}

#[derive(Debug, Deserialize)]
struct CredentialPut {
    properties: CredentialProperties,
}

#[derive(Debug, Deserialize)]
struct CredentialProperties {
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    audiences: Vec<String>,
}

pub fn handle(
    call: &Call<'_>,
    world: &mut World,
    rg: &str,
    name: &str,
    credential: &str,
    method: &Method,
) -> Resp {
    let Some(identity) = find(world, rg, name).cloned() else {
        return not_found(rg, name);
    };
    let key = credential.to_ascii_lowercase();
    let stored = identity.federated_credentials.get(&key).cloned();
    if *method != Method::GET {
        let ctx = call.ctx;
        let half = jiff::SignedDuration::try_from(ctx.latency / 2).unwrap_or_default();
        let arrived = ctx.now.checked_sub(half).unwrap_or(ctx.now);
        if identity
            .credentials_busy_until
            .is_some_and(|until| arrived < until)
        {
            // UNVERIFIED message; the code is the one the research names.
            return response::error(
                StatusCode::CONFLICT,
                "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
                format!(
                    "Too many Federated Identity Credentials are written concurrently for the managed identity '{}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.",
                    identity.resource_id(&world.subscription_id)
                ),
            );
        }
        let answered = ctx.after(ctx.latency / 2);
        if let Some(stored) = world.identities.get_mut(
            &identity
                .resource_id(&world.subscription_id)
                .to_ascii_lowercase(),
        ) {
            stored.credentials_busy_until = Some(answered);
        }
    }
    match *method {
        Method::GET => match stored {
            Some(found) => Resp::json(StatusCode::OK, &document(world, &identity, &found)),
            None => response::resource_not_found(TYPE, credential, rg),
        },
        Method::DELETE => {
            if stored.is_none() {
                return Resp::empty(StatusCode::NO_CONTENT);
            }
            update(world, &identity, |credentials| {
                credentials.remove(&key);
            });
            Resp::empty(StatusCode::OK)
        }
        _ => put(call, world, &identity, credential, stored.is_none()),
    }
}

fn put(
    call: &Call<'_>,
    world: &mut World,
    identity: &ManagedIdentity,
    name: &str,
    created: bool,
) -> Resp {
    let body: CredentialPut = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let bad = |message: String| response::error(StatusCode::BAD_REQUEST, "BadRequest", message);
    let valid_name = (3..=120).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_name {
        return bad(format!(
            "The federated identity credential name '{name}' is invalid: it must be 3 to 120 characters of letters, digits, '-' and '_', starting with a letter or digit."
        ));
    }
    let properties = body.properties;
    if !properties.issuer.starts_with("https://") {
        return bad(format!(
            "The issuer '{}' is invalid: it must be an https URL.",
            properties.issuer
        ));
    }
    if properties.subject.trim().is_empty() {
        return bad("The subject of a federated identity credential is required.".to_owned());
    }
    if properties.audiences.len() != 1 {
        return bad(
            "A federated identity credential takes exactly one audience, such as api://AzureADTokenExchange."
                .to_owned(),
        );
    }
    let key = name.to_ascii_lowercase();
    if created && identity.federated_credentials.len() >= MAX_PER_IDENTITY {
        return bad(format!(
            "The identity '{}' already has the maximum of {MAX_PER_IDENTITY} federated identity credentials.",
            identity.name
        ));
    }
    let duplicate = identity.federated_credentials.values().find(|other| {
        other.name.to_ascii_lowercase() != key
            && other.issuer == properties.issuer
            && other.subject == properties.subject
    });
    if let Some(other) = duplicate {
        return bad(format!(
            "A federated identity credential with the same issuer and subject already exists on the identity: '{}'.",
            other.name
        ));
    }
    let stored = identity.federated_credentials.get(&key).filter(|stored| {
        stored.issuer == properties.issuer
            && stored.subject == properties.subject
            && stored.audiences == properties.audiences
    });
    let credential = FederatedCredential {
        name: name.to_owned(),
        issuer: properties.issuer,
        subject: properties.subject,
        audiences: properties.audiences,
        // Rewritten as it was, it stays in use.
        written: stored.map_or(Some(call.ctx.now), |stored| stored.written),
    };
    update(world, identity, |credentials| {
        credentials.insert(key.clone(), credential.clone());
    });
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Resp::json(status, &document(world, identity, &credential))
}

fn update(
    world: &mut World,
    identity: &ManagedIdentity,
    change: impl FnOnce(&mut std::collections::BTreeMap<String, FederatedCredential>),
) {
    let key = identity
        .resource_id(&world.subscription_id)
        .to_ascii_lowercase();
    if let Some(stored) = world.identities.get_mut(&key) {
        change(&mut stored.federated_credentials);
    }
}
