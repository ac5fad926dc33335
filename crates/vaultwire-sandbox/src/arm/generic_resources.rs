//! ARM's generic resources list (`/subscriptions/{sub}[/resourceGroups/{rg}]/resources`), with
//! the `$filter` clauses clients send (`resourceType eq '…'`, `name eq '…'`, joined by `and`)
//! and `$top` paging; and the managed HSM lists, which are empty (the sandbox emulates no
//! managed HSMs). az finds a vault's resource group through the former (`az keyvault show`
//! without `-g`); the Key Vault SDK's `Vaults_List` is the former too.

use http::StatusCode;
use serde_json::{Value, json};

use crate::arm::call::Call;
use crate::arm::response;
use crate::exchange::Resp;
use crate::world::World;

pub fn list(call: &Call<'_>, world: &World, rg: Option<&str>) -> Resp {
    // `az resource list` sends `$filter=` with no value: no filter.
    let filter = match call
        .req
        .query_param("$filter")
        .filter(|text| !text.trim().is_empty())
    {
        None => Vec::new(),
        Some(text) => match parse_filter(&text) {
            Some(clauses) => clauses,
            None => {
                return response::error(
                    StatusCode::BAD_REQUEST,
                    "InvalidFilterInQueryString",
                    // ARM's message, then what the sandbox supports.
                    format!(
                        "Invalid $filter '{text}' specified in the query string. (The sandbox supports `resourceType eq '…'`, `name eq '…'`, `resourceGroup eq '…'` and `location eq '…'`, joined by `and`.)"
                    ),
                );
            }
        },
    };
    let all: Vec<Value> = resources(world)
        .into_iter()
        .filter(|resource| {
            rg.is_none_or(|rg| {
                resource_group(resource).is_some_and(|group| group.eq_ignore_ascii_case(rg))
            })
        })
        .filter(|resource| filter.iter().all(|clause| clause.matches(resource)))
        .collect();
    let skip: usize = call
        .req
        .query_param("$skiptoken")
        .and_then(|token| token.parse().ok())
        .unwrap_or(0);
    let top: Option<usize> = call
        .req
        .query_param("$top")
        .and_then(|top| top.parse().ok())
        .filter(|top| *top > 0);
    let page: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(top.unwrap_or(usize::MAX))
        .cloned()
        .collect();
    let mut body = json!({"value": page});
    if let Some(top) = top
        && skip + top < all.len()
    {
        body["nextLink"] = json!(next_link(call, skip + top));
    }
    Resp::json(StatusCode::OK, &body)
}

/// An empty list, for the resource types the sandbox has none of.
pub fn empty() -> Resp {
    Resp::json(StatusCode::OK, &json!({"value": []}))
}

/// The same request from `skip` on.
fn next_link(call: &Call<'_>, skip: usize) -> String {
    let query: Vec<(String, String)> = form_urlencoded::parse(call.req.query.as_bytes())
        .filter(|(key, _)| !key.eq_ignore_ascii_case("$skiptoken"))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .chain([("$skiptoken".to_owned(), skip.to_string())])
        .collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    call.url(&format!("{}?{query}", call.req.path))
}

/// Every resource of the world in the generic list's shape, sorted by ID.
fn resources(world: &World) -> Vec<Value> {
    let sub = &world.subscription_id;
    let vaults = world.vaults.values().map(|vault| {
        json!({
            "id": world.vault_id(vault),
            "name": vault.name,
            "type": "Microsoft.KeyVault/vaults",
            "location": vault.location,
            "tags": vault.tags,
        })
    });
    let clusters = world.clusters.values().map(|cluster| {
        let mut value = json!({
            "id": cluster.id(sub),
            "name": cluster.name,
            "type": "Microsoft.ContainerService/managedClusters",
            "location": cluster.location,
            "tags": cluster.tags,
        });
        if let Some(sku) = &cluster.sku {
            value["sku"] = sku.clone();
        }
        if let Some(identity) = cluster.identity.as_ref().and_then(|i| i.get("type")) {
            value["identity"] = json!({"type": identity});
        }
        value
    });
    let identities = world.identities.values().map(|identity| {
        json!({
            "id": format!(
                "/subscriptions/{sub}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
                identity.resource_group, identity.name
            ),
            "name": identity.name,
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "location": identity.location,
            "tags": {},
        })
    });
    let mut all: Vec<Value> = vaults.chain(clusters).chain(identities).collect();
    all.sort_by_key(|resource| {
        resource["id"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
    });
    all
}

fn resource_group(resource: &Value) -> Option<&str> {
    let id = resource["id"].as_str()?;
    let mut segments = id.split('/');
    segments.find(|segment| segment.eq_ignore_ascii_case("resourceGroups"))?;
    segments.next()
}

/// One `field eq 'value'` clause.
struct Clause {
    field: Field,
    value: String,
}

enum Field {
    ResourceType,
    Name,
    ResourceGroup,
    Location,
}

impl Clause {
    fn matches(&self, resource: &Value) -> bool {
        let actual = match self.field {
            Field::ResourceType => resource["type"].as_str(),
            Field::Name => resource["name"].as_str(),
            Field::Location => resource["location"].as_str(),
            Field::ResourceGroup => resource_group(resource),
        };
        actual.is_some_and(|actual| actual.eq_ignore_ascii_case(&self.value))
    }
}

/// `resourceType eq 'A' and name eq 'B'`; `None` for anything else.
fn parse_filter(text: &str) -> Option<Vec<Clause>> {
    split_and(text)
        .into_iter()
        .map(|clause| {
            let clause = clause.trim();
            let (field, rest) = clause.split_once(char::is_whitespace)?;
            let rest = rest.trim_start();
            let (operator, value) = rest.split_once(char::is_whitespace)?;
            if !operator.eq_ignore_ascii_case("eq") {
                return None;
            }
            let value = value.trim();
            let value = value
                .strip_prefix('\'')?
                .strip_suffix('\'')?
                .replace("''", "'");
            let field = match field.to_ascii_lowercase().as_str() {
                "resourcetype" => Field::ResourceType,
                "name" => Field::Name,
                "resourcegroup" => Field::ResourceGroup,
                "location" => Field::Location,
                _ => return None,
            };
            Some(Clause { field, value })
        })
        .collect()
}

/// The clauses of `text` split on ` and ` outside quotes (any case).
fn split_and(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut clauses = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\'') => quoted = !quoted,
            Some(b' ') if !quoted && lower.get(i..i + 5) == Some(" and ") => {
                clauses.push(text.get(start..i).unwrap_or_default());
                start = i + 5;
                i += 4;
            }
            _ => {}
        }
        i += 1;
    }
    clauses.push(text.get(start..).unwrap_or_default());
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_az_sends_parse_and_others_do_not() {
        let clauses =
            parse_filter("resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'kv-and-more'")
                .unwrap();
        assert_eq!(clauses.len(), 2);
        let vault = json!({"type": "Microsoft.KeyVault/vaults", "name": "KV-and-more", "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/KV-and-more"});
        assert!(clauses.iter().all(|clause| clause.matches(&vault)));
        assert!(parse_filter("resourceGroup eq 'rg'").is_some());
        assert!(parse_filter("tagName eq 'env'").is_none());
        assert!(parse_filter("name ne 'x'").is_none());
        assert!(parse_filter("substringof('kv', name)").is_none());
    }
}
