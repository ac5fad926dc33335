//! Secret metadata as the data plane reports it, and secret values that cannot leak.

use std::fmt;

use serde_json::Value;

/// A secret's metadata: everything but its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretProperties {
    pub name: String,
    /// `https://{vault}/secrets/{name}[/{version}]`.
    pub id: String,
    pub version: Option<String>,
    pub enabled: Option<bool>,
    pub content_type: Option<String>,
    /// Unix seconds.
    pub created: Option<i64>,
    pub updated: Option<i64>,
    /// Backs a Key Vault certificate.
    pub managed: bool,
}

impl SecretProperties {
    /// Reads an item of `GET /secrets` or a `SecretBundle`, ignoring any `value` it holds.
    pub fn from_document(value: &Value) -> Option<Self> {
        let id = value.get("id")?.as_str()?.to_owned();
        let (name, version) = name_and_version(&id)?;
        let attribute = |key: &str| value.pointer(&format!("/attributes/{key}"));
        Some(Self {
            name,
            version,
            enabled: attribute("enabled").and_then(Value::as_bool),
            content_type: value
                .get("contentType")
                .and_then(Value::as_str)
                .map(str::to_owned),
            created: attribute("created").and_then(Value::as_i64),
            updated: attribute("updated").and_then(Value::as_i64),
            managed: value
                .get("managed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            id,
        })
    }
}

/// `(name, version)` from a secret ID's path `…/secrets/{name}[/{version}]`.
fn name_and_version(id: &str) -> Option<(String, Option<String>)> {
    let path = id.split_once("://").map_or(id, |(_, rest)| rest);
    let mut segments = path
        .split('/')
        .skip_while(|segment| *segment != "secrets")
        .skip(1);
    let name = segments.next().filter(|name| !name.is_empty())?.to_owned();
    let version = segments
        .next()
        .filter(|version| !version.is_empty())
        .map(str::to_owned);
    Some((name, version))
}

/// A secret value. `Debug` and `Display` never show it; [`SecretValue::expose`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::spec_response;

    #[test]
    fn the_published_secret_examples_parse_without_keeping_the_value() {
        let listed = spec_response("keyvault-data/GetSecrets-example.json", 200);
        let item = SecretProperties::from_document(&listed["value"][0]).unwrap();
        assert_eq!(item.name, "listsecrettest0");
        assert_eq!(item.version, None);
        assert_eq!(item.content_type.as_deref(), Some("plainText"));
        assert_eq!(item.enabled, Some(true));
        assert_eq!(item.created, Some(1_482_189_047));

        for file in [
            "keyvault-data/GetSecret-example.json",
            "keyvault-data/SetSecret-example.json",
        ] {
            let bundle = spec_response(file, 200);
            let properties = SecretProperties::from_document(&bundle).unwrap();
            assert!(
                !format!("{properties:?}").contains("mysecretvalue"),
                "{file}"
            );
        }
        let got = SecretProperties::from_document(&spec_response(
            "keyvault-data/GetSecret-example.json",
            200,
        ))
        .unwrap();
        assert_eq!(got.name, "mysecretname");
        assert_eq!(
            got.version.as_deref(),
            Some("4387e9f3d6e14c459867679a90fd0f79")
        );

        let deleted = SecretProperties::from_document(&spec_response(
            "keyvault-data/DeleteSecret-example.json",
            200,
        ))
        .unwrap();
        assert_eq!(deleted.name, "GetDeletedSecretTest");
    }

    #[test]
    fn values_never_print() {
        let value = SecretValue::new("hunter2".into());
        assert_eq!(format!("{value:?}"), "SecretValue(<redacted>)");
        assert_eq!(value.expose(), "hunter2");
    }
}
