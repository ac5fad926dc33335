//! Who is calling: issuing access tokens for a principal and audience, and checking the bearer
//! token of a request against the audience a service accepts.
//!
//! Each service words its own 401; this module only says what was wrong.

use crate::context::Ctx;
use crate::exchange::Req;
use crate::ids;
use crate::token::{Claims, TokenError};

/// The services whose tokens the sandbox issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Arm,
    KeyVault,
    Aks,
    /// Microsoft Graph, as far as the sandbox serves it (`graph.rs`).
    Graph,
}

/// The audiences ARM accepts, as the real service lists them in its 401.
pub const ARM_AUDIENCES: &[&str] = &[
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

impl Audience {
    /// Which service an `aud` claim (or a scope's resource) belongs to. ARM also accepts the
    /// sandbox's own root URL on any loopback port.
    pub fn classify(aud: &str) -> Option<Audience> {
        let lower = aud.to_ascii_lowercase();
        if ARM_AUDIENCES.contains(&lower.as_str()) {
            return Some(Audience::Arm);
        }
        if lower.trim_end_matches('/') == ids::KEY_VAULT_AUDIENCE {
            return Some(Audience::KeyVault);
        }
        if lower == ids::AKS_SERVER_APP_ID {
            return Some(Audience::Aks);
        }
        if lower.trim_end_matches('/') == ids::GRAPH_AUDIENCE || lower == ids::GRAPH_APP_ID {
            return Some(Audience::Graph);
        }
        let local = lower
            .strip_prefix("https://127.0.0.1:")
            .or_else(|| lower.strip_prefix("https://localhost:"))?;
        let port = local.trim_end_matches('/');
        (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())).then_some(Audience::Arm)
    }

    /// The `aud` the sandbox puts in tokens requested for a scope's resource. Entra keeps the
    /// resource as registered; Key Vault's has no trailing slash.
    pub fn token_audience(resource: &str) -> Option<(Audience, String)> {
        let audience = Audience::classify(resource)?;
        let aud = match audience {
            Audience::KeyVault => ids::KEY_VAULT_AUDIENCE.to_owned(),
            Audience::Aks => ids::AKS_SERVER_APP_ID.to_owned(),
            Audience::Graph => ids::GRAPH_AUDIENCE.to_owned(),
            Audience::Arm if resource.ends_with('/') => resource.to_owned(),
            Audience::Arm => format!("{resource}/"),
        };
        Some((audience, aud))
    }
}

/// The principal behind a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub object_id: String,
    /// The application (client) ID, when the principal is an app or managed identity.
    pub app_id: Option<String>,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub object_id: String,
    pub app_id: Option<String>,
    pub claims: Claims,
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Invalid(TokenError),
    WrongAudience { aud: String },
    WrongTenant { tid: String },
}

/// Lifetime of tokens from the token endpoint (Entra's usual hour).
pub const ACCESS_TOKEN_SECONDS: i64 = 3599;

/// Issues an access token for `principal` with audience `aud`.
pub fn issue(
    ctx: &Ctx<'_>,
    principal: &Principal,
    aud: &str,
    lifetime_seconds: i64,
) -> Result<String, TokenError> {
    let now = ctx.now.as_second();
    let claims = Claims {
        aud: crate::token::Audiences::one(aud),
        iss: format!("https://sts.windows.net/{}/", ids::TENANT_ID),
        sub: principal.object_id.clone(),
        iat: now,
        nbf: now,
        exp: now.saturating_add(lifetime_seconds),
        tid: Some(ids::TENANT_ID.to_owned()),
        oid: Some(principal.object_id.clone()),
        appid: principal.app_id.clone(),
        idtyp: Some("app".to_owned()),
        ver: Some("1.0".to_owned()),
        uti: Some(uuid::Uuid::new_v4().simple().to_string()),
    };
    ctx.keys.sign(&claims)
}

/// Checks the request's bearer token for `audience`.
pub fn authenticate(ctx: &Ctx<'_>, req: &Req, audience: Audience) -> Result<Caller, AuthFailure> {
    let token = req.bearer().ok_or(AuthFailure::Missing)?;
    let claims = ctx
        .keys
        .verify(token, ctx.now.as_second())
        .map_err(AuthFailure::Invalid)?;
    // A token for several audiences is good for each of them (RFC 7519, section 4.1.3).
    if !claims
        .aud
        .iter()
        .any(|aud| Audience::classify(aud) == Some(audience))
    {
        return Err(AuthFailure::WrongAudience {
            aud: claims.aud.to_string(),
        });
    }
    let tid = claims.tid.clone().unwrap_or_default();
    if !tid.eq_ignore_ascii_case(ids::TENANT_ID) {
        return Err(AuthFailure::WrongTenant { tid });
    }
    Ok(Caller {
        object_id: claims.oid.clone().unwrap_or_else(|| claims.sub.clone()),
        app_id: claims.appid.clone(),
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_are_classified_like_the_services_do() {
        assert_eq!(
            Audience::classify("https://management.azure.com/"),
            Some(Audience::Arm)
        );
        assert_eq!(
            Audience::classify("https://management.core.windows.net/"),
            Some(Audience::Arm)
        );
        assert_eq!(
            Audience::classify("https://127.0.0.1:8443/"),
            Some(Audience::Arm)
        );
        assert_eq!(
            Audience::classify("https://vault.azure.net"),
            Some(Audience::KeyVault)
        );
        assert_eq!(
            Audience::classify(ids::AKS_SERVER_APP_ID),
            Some(Audience::Aks)
        );
        assert_eq!(
            Audience::classify("https://graph.microsoft.com/"),
            Some(Audience::Graph)
        );
        assert_eq!(Audience::classify("https://127.0.0.1:8443/vaults"), None);
    }

    #[test]
    fn token_audiences_keep_arm_resources_and_normalise_key_vault() {
        assert_eq!(
            Audience::token_audience("https://management.core.windows.net/"),
            Some((
                Audience::Arm,
                "https://management.core.windows.net/".to_owned()
            ))
        );
        assert_eq!(
            Audience::token_audience("https://vault.azure.net/"),
            Some((Audience::KeyVault, "https://vault.azure.net".to_owned()))
        );
    }
}
