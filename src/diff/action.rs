//! What will happen to one address.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    /// Change properties in place.
    Update,
    /// Delete, then create: some property cannot change in place.
    Replace,
    Delete,
}

impl Action {
    /// Terraform's plan symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }

    /// The `actions` array of the JSON format (Terraform's convention: a replace is
    /// `["delete", "create"]`, so readers can scan for `delete`).
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::Replace => &["delete", "create"],
            Action::Delete => &["delete"],
        }
    }

    /// "will be created", as in `# vault.x will be created`.
    pub fn description(self) -> &'static str {
        match self {
            Action::NoOp => "has no changes",
            Action::Create => "will be created",
            Action::Update => "will be updated in place",
            Action::Replace => "must be replaced",
            Action::Delete => "will be destroyed",
        }
    }

    pub fn is_change(self) -> bool {
        self != Action::NoOp
    }
}
