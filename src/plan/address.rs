//! Resource addresses: `vault.KEY`, `addon.KEY`, `identity.KEY`, `federation.KEY`,
//! `grant.KEY`, `spc.KEY`.
//!
//! An address names a resource across the plan file, the state file, the change set and the
//! command line (`--target`, `state rm`, `import`). Addresses order by kind, then key, which is
//! the order every listing uses.

use std::fmt;
use std::str::FromStr;

/// The kinds of resource a plan manages, in dependency order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    Vault,
    Addon,
    Identity,
    Federation,
    Grant,
    Spc,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 6] = [
        ResourceKind::Vault,
        ResourceKind::Addon,
        ResourceKind::Identity,
        ResourceKind::Federation,
        ResourceKind::Grant,
        ResourceKind::Spc,
    ];

    /// The table name in plan files and the prefix of addresses.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Vault => "vault",
            ResourceKind::Addon => "addon",
            ResourceKind::Identity => "identity",
            ResourceKind::Federation => "federation",
            ResourceKind::Grant => "grant",
            ResourceKind::Spc => "spc",
        }
    }

    pub fn from_table_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stable resource name: kind and the key of its table in the plan file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: ResourceKind,
    pub key: String,
}

impl Address {
    pub fn new(kind: ResourceKind, key: impl Into<String>) -> Self {
        Self {
            kind,
            key: key.into(),
        }
    }

    pub fn vault(key: impl Into<String>) -> Self {
        Self::new(ResourceKind::Vault, key)
    }

    pub fn addon(key: impl Into<String>) -> Self {
        Self::new(ResourceKind::Addon, key)
    }

    pub fn identity(key: impl Into<String>) -> Self {
        Self::new(ResourceKind::Identity, key)
    }

    pub fn federation(key: impl Into<String>) -> Self {
        Self::new(ResourceKind::Federation, key)
    }

    pub fn grant(key: impl Into<String>) -> Self {
        Self::new(ResourceKind::Grant, key)
    }

    pub fn spc(key: impl Into<String>) -> Self {
        Self::new(ResourceKind::Spc, key)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.key)
    }
}

/// Whether `key` may be used as a table key, and so in an address.
///
/// Keys are TOML bare keys: ASCII letters, digits, `_` and `-`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("`{0}` is not an address: expected `KIND.KEY`, such as `vault.payments`")]
    Shape(String),
    #[error(
        "`{kind}` is not a resource kind: expected one of vault, addon, identity, federation, grant, spc"
    )]
    UnknownKind { kind: String },
    #[error("`{key}` is not a valid key: use letters, digits, `_` and `-`")]
    InvalidKey { key: String },
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, key) = text
            .split_once('.')
            .ok_or_else(|| AddressError::Shape(text.to_owned()))?;
        let kind =
            ResourceKind::from_table_name(kind).ok_or_else(|| AddressError::UnknownKind {
                kind: kind.to_owned(),
            })?;
        if !is_valid_key(key) {
            return Err(AddressError::InvalidKey {
                key: key.to_owned(),
            });
        }
        Ok(Address::new(kind, key))
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_round_trip() {
        for text in ["vault.payments", "addon.main", "grant.a-b_c", "spc.db"] {
            let address: Address = text.parse().unwrap();
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        assert_eq!(
            "payments".parse::<Address>(),
            Err(AddressError::Shape("payments".into()))
        );
        assert_eq!(
            "cluster.main".parse::<Address>(),
            Err(AddressError::UnknownKind {
                kind: "cluster".into()
            })
        );
        assert_eq!(
            "vault.".parse::<Address>(),
            Err(AddressError::InvalidKey { key: String::new() })
        );
        assert_eq!(
            "vault.a.b".parse::<Address>(),
            Err(AddressError::InvalidKey { key: "a.b".into() })
        );
    }

    #[test]
    fn orders_by_kind_then_key() {
        let mut addresses = [
            Address::spc("a"),
            Address::vault("z"),
            Address::grant("m"),
            Address::addon("b"),
            Address::vault("a"),
        ];
        addresses.sort();
        let shown: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["vault.a", "vault.z", "addon.b", "grant.m", "spc.a"]);
    }
}
