//! A minimal OpenAPI v3: the root index and one document per group-version holding the PATCH
//! operations with their `x-kubernetes-group-version-kind` and query parameters.
//!
//! That is what kubectl's default `--validate=strict` reads to learn that the server validates
//! fields itself (`fieldValidation`); with it kubectl does no client-side schema validation.
//! No schemas are published (`kubectl explain` is not supported).

use http::StatusCode;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::resources::{self, ResourceDef};
use super::status::StatusError;
use super::wire::KubeResponse;

/// `/openapi/v3`: each served group-version with a content-addressed URL, as the real server
/// does, so kubectl's HTTP cache never serves a stale document.
pub(super) fn root(csi: bool) -> KubeResponse {
    let mut paths = Map::new();
    for (group, version) in group_versions(csi) {
        let key = if group.is_empty() {
            format!("api/{version}")
        } else {
            format!("apis/{group}/{version}")
        };
        let hash = hash(&document(group, version, csi));
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    KubeResponse::json(StatusCode::OK, &json!({"paths": paths}))
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`; the `hash` parameter is
/// ignored.
pub(super) fn group_version(
    group: &str,
    version: &str,
    csi: bool,
) -> Result<KubeResponse, StatusError> {
    if !group_versions(csi).contains(&(group, version)) {
        return Err(StatusError::unknown_path());
    }
    Ok(KubeResponse::json(
        StatusCode::OK,
        &document(group, version, csi),
    ))
}

fn group_versions(csi: bool) -> Vec<(&'static str, &'static str)> {
    let mut pairs: Vec<(&'static str, &'static str)> = Vec::new();
    for def in resources::served(csi) {
        for version in def.versions {
            if !pairs.contains(&(def.group, version.name)) {
                pairs.push((def.group, version.name));
            }
        }
    }
    pairs
}

fn document(group: &str, version: &str, csi: bool) -> Value {
    let mut paths = Map::new();
    for def in resources::served(csi)
        .filter(|def| def.group == group && def.served_version(version).is_some())
    {
        paths.insert(
            object_path(def, version),
            json!({"patch": patch_operation(def, version)}),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.4"},
        "paths": paths,
    })
}

fn object_path(def: &ResourceDef, version: &str) -> String {
    let prefix = if def.group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{}/{version}", def.group)
    };
    if def.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", def.plural)
    } else {
        format!("{prefix}/{}/{{name}}", def.plural)
    }
}

fn patch_operation(def: &ResourceDef, version: &str) -> Value {
    let query = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
    json!({
        "description": format!("partially update the specified {}", def.kind),
        "operationId": format!("patch{}", def.kind),
        "parameters": [
            query("dryRun"),
            query("fieldManager"),
            query("fieldValidation"),
            {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}},
        ],
        "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {"group": def.group, "version": version, "kind": def.kind},
    })
}

fn hash(document: &Value) -> String {
    let digest = Sha256::digest(document.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02X}")).collect()
}
