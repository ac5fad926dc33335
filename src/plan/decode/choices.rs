//! The enumerations a plan file spells as strings, and how a field becomes one.
//!
//! The spellings are exactly those of the plan file format (and of Azure where Azure has one,
//! such as `AzureUSGovernment` or `AzureServices`); nothing else is accepted, but a near miss
//! gets a "did you mean".

use crate::plan::decode::problems;
use crate::plan::decode::reader::Field;
use crate::plan::model::{
    Authorization, Cloud, NetworkBypass, NetworkDefaultAction, ObjectEncoding, ObjectFormat,
    ObjectType, OnDestroy, PrincipalType, PublicNetworkAccess, Sku, Spanned,
};

/// A closed set of values written as strings.
pub(super) trait Choice: Copy + 'static {
    /// What the value is, for messages: "cloud".
    const WHAT: &'static str;
    const CHOICES: &'static [(&'static str, Self)];
}

impl Field<'_, '_, '_> {
    /// One of `T`'s spellings.
    pub fn choice<T: Choice>(mut self) -> Option<Spanned<T>> {
        let span = self.span();
        let Some(text) = self.value.get_ref().as_str() else {
            return self.wrong_type("a string");
        };
        let found = T::CHOICES
            .iter()
            .find(|(spelling, _)| *spelling == text)
            .map(|(_, value)| Spanned::new(*value, span.clone()));
        if found.is_none() {
            let diagnostic = problems::invalid_choice(
                text,
                &self.path.to_string(),
                T::WHAT,
                span,
                &spellings::<T>(),
            );
            self.push(diagnostic);
        }
        found
    }
}

pub(super) fn spellings<T: Choice>() -> Vec<&'static str> {
    T::CHOICES.iter().map(|(spelling, _)| *spelling).collect()
}

macro_rules! choice {
    ($type:ty, $what:literal, [$($spelling:literal => $value:expr),+ $(,)?]) => {
        impl Choice for $type {
            const WHAT: &'static str = $what;
            const CHOICES: &'static [(&'static str, Self)] = &[$(($spelling, $value)),+];
        }
    };
}

choice!(Cloud, "cloud", [
    "AzureCloud" => Cloud::AzureCloud,
    "AzureChinaCloud" => Cloud::AzureChinaCloud,
    "AzureUSGovernment" => Cloud::AzureUsGovernment,
    "sandbox" => Cloud::Sandbox,
]);
choice!(Sku, "SKU", ["standard" => Sku::Standard, "premium" => Sku::Premium]);
choice!(Authorization, "authorization mode", [
    "rbac" => Authorization::Rbac,
    "access-policies" => Authorization::AccessPolicies,
]);
choice!(PublicNetworkAccess, "public network access setting", [
    "enabled" => PublicNetworkAccess::Enabled,
    "disabled" => PublicNetworkAccess::Disabled,
]);
choice!(NetworkDefaultAction, "default action", [
    "Allow" => NetworkDefaultAction::Allow,
    "Deny" => NetworkDefaultAction::Deny,
]);
choice!(NetworkBypass, "bypass setting", [
    "AzureServices" => NetworkBypass::AzureServices,
    "None" => NetworkBypass::None,
]);
choice!(OnDestroy, "destroy behaviour", [
    "retain" => OnDestroy::Retain,
    "delete" => OnDestroy::Delete,
    "purge" => OnDestroy::Purge,
]);
choice!(PrincipalType, "principal type", [
    "User" => PrincipalType::User,
    "Group" => PrincipalType::Group,
    "ServicePrincipal" => PrincipalType::ServicePrincipal,
    "ForeignGroup" => PrincipalType::ForeignGroup,
]);
choice!(ObjectType, "object type", [
    "secret" => ObjectType::Secret,
    "key" => ObjectType::Key,
    "cert" => ObjectType::Cert,
]);
choice!(ObjectFormat, "object format", ["pem" => ObjectFormat::Pem, "pfx" => ObjectFormat::Pfx]);
choice!(ObjectEncoding, "object encoding", [
    "utf-8" => ObjectEncoding::Utf8,
    "hex" => ObjectEncoding::Hex,
    "base64" => ObjectEncoding::Base64,
]);
