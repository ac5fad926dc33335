//! Signed JSON Web Tokens: the access tokens Entra issues and the federated (OIDC) assertions
//! the sandbox mints for workload-identity tests.
//!
//! ES256 with a P-256 key (aws-lc-rs). Owns signing, signature and lifetime checks and the
//! public JWK; deciding which audience a service accepts is the caller's business.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not a signed JWT")]
    Malformed,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("cannot use the token signing key")]
    Key,
}

/// The claims the sandbox reads and writes. Access tokens carry `tid`/`oid`/`appid`; OIDC
/// assertions carry `sub` plus whatever the issuer adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: Audiences,
    pub iss: String,
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    /// A unique token ID, so two tokens issued in the same second differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
}

impl Claims {
    /// The claims of an identity provider's token for `sub` (a service account, a CI job),
    /// as a client assertion carries them: issued at `now` (Unix seconds), valid
    /// `lifetime_seconds`, with none of Entra's own claims.
    pub fn assertion(
        iss: String,
        sub: String,
        aud: Audiences,
        now: i64,
        lifetime_seconds: i64,
    ) -> Self {
        Self {
            aud,
            iss,
            sub,
            iat: now,
            nbf: now,
            exp: now.saturating_add(lifetime_seconds),
            tid: None,
            oid: None,
            appid: None,
            idtyp: None,
            ver: None,
            uti: None,
        }
    }
}

/// A token's `aud`: RFC 7519 allows one audience, written as a string, or several, written as
/// an array. Entra's tokens have one; a service-account token has as many as its TokenRequest
/// asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audiences(Vec<String>);

impl Audiences {
    pub fn one(audience: impl Into<String>) -> Self {
        Self(vec![audience.into()])
    }

    pub fn many(audiences: Vec<String>) -> Self {
        Self(audiences)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn contains(&self, audience: &str) -> bool {
        self.iter().any(|held| held == audience)
    }
}

/// The audiences joined by commas (one audience prints as itself).
impl std::fmt::Display for Audiences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

impl Serialize for Audiences {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Audiences {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(one) => Ok(Self::one(one)),
            serde_json::Value::Array(many) => many
                .into_iter()
                .map(|item| match item {
                    serde_json::Value::String(audience) => Ok(audience),
                    _ => Err(serde::de::Error::custom("an audience is not a string")),
                })
                .collect::<Result<_, _>>()
                .map(Self),
            _ => Err(serde::de::Error::custom(
                "`aud` is neither a string nor an array",
            )),
        }
    }
}

/// The sandbox's token signing key.
pub struct TokenKeys {
    key: EcdsaKeyPair,
    kid: String,
    /// Claims of tokens whose signature was already checked, by token. Every request of a run
    /// carries one of a few tokens, and an ECDSA verification per request was a large share
    /// of the sandbox's CPU (which the benchmarks' client shares); the lifetime is still
    /// checked on every use. Cleared when it holds [`VERIFIED_CAPACITY`] tokens.
    verified: Mutex<HashMap<String, Claims>>,
}

const VERIFIED_CAPACITY: usize = 256;

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// A new key and its PKCS#8 encoding (to keep in the sandbox directory).
    pub fn generate() -> Result<(Self, Vec<u8>), TokenError> {
        let document =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| TokenError::Key)?;
        let der = document.as_ref().to_vec();
        Ok((Self::from_pkcs8(&der)?, der))
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, TokenError> {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| TokenError::Key)?;
        let digest = Sha256::digest(key.public_key().as_ref());
        let kid = URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default());
        Ok(Self {
            key,
            kid,
            verified: Mutex::new(HashMap::new()),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "kid": self.kid});
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|_| TokenError::Key)?);
        let signing_input = format!("{header}.{payload}");
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| TokenError::Key)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// Checks the signature and the lifetime at `now` (unix seconds, with 5 minutes of clock
    /// skew like Entra) and returns the claims.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let known = self.verified_cache().get(token).cloned();
        let claims = match known {
            Some(claims) => claims,
            None => {
                let claims = self.verify_signature(token)?;
                let mut verified = self.verified_cache();
                if verified.len() >= VERIFIED_CAPACITY {
                    verified.clear();
                }
                verified.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        const SKEW: i64 = 300;
        if now > claims.exp + SKEW {
            return Err(TokenError::Expired);
        }
        if now + SKEW < claims.nbf {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    fn verified_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Claims>> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The claims of `token` if its signature is ours (its lifetime unchecked).
    fn verify_signature(&self, token: &str) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let signing_input = token
            .get(..header.len() + 1 + payload.len())
            .ok_or(TokenError::Malformed)?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.key.public_key().as_ref())
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;
        URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
            .ok_or(TokenError::Malformed)
    }

    /// The public key as a JWK, for the JWKS documents.
    pub fn jwk(&self) -> serde_json::Value {
        let point = self.key.public_key().as_ref();
        // An uncompressed P-256 point: 0x04, then 32 bytes of x and 32 of y.
        let x = point.get(1..33).unwrap_or_default();
        let y = point.get(33..65).unwrap_or_default();
        serde_json::json!({
            "kty": "EC",
            "use": "sig",
            "alg": "ES256",
            "crv": "P-256",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            aud: Audiences::one("https://vault.azure.net"),
            iss: "https://sts.windows.net/t/".into(),
            sub: "s".into(),
            iat: 100,
            nbf: 100,
            exp,
            tid: None,
            oid: Some("o".into()),
            appid: None,
            idtyp: None,
            ver: None,
            uti: None,
        }
    }

    #[test]
    fn a_signed_token_verifies_and_returns_its_claims() {
        let (keys, _) = TokenKeys::generate().unwrap();
        let token = keys.sign(&claims(1000)).unwrap();
        assert_eq!(keys.verify(&token, 500), Ok(claims(1000)));
    }

    #[test]
    fn a_token_from_another_key_is_rejected() {
        let (keys, _) = TokenKeys::generate().unwrap();
        let (other, _) = TokenKeys::generate().unwrap();
        let token = other.sign(&claims(1000)).unwrap();
        assert_eq!(keys.verify(&token, 500), Err(TokenError::BadSignature));
    }

    #[test]
    fn an_expired_token_is_rejected_after_the_clock_skew() {
        let (keys, _) = TokenKeys::generate().unwrap();
        let token = keys.sign(&claims(1000)).unwrap();
        assert!(keys.verify(&token, 1200).is_ok());
        assert_eq!(keys.verify(&token, 1301), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_verified_before_is_still_held_to_its_lifetime() {
        let (keys, _) = TokenKeys::generate().unwrap();
        let token = keys.sign(&claims(1000)).unwrap();
        assert!(keys.verify(&token, 500).is_ok());
        assert!(keys.verify(&token, 500).is_ok());
        assert_eq!(keys.verify(&token, 1301), Err(TokenError::Expired));
        assert_eq!(keys.verify(&token, -300), Err(TokenError::NotYetValid));
    }

    #[test]
    fn a_tampered_payload_is_rejected() {
        let (keys, _) = TokenKeys::generate().unwrap();
        let token = keys.sign(&claims(1000)).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(9999)).unwrap());
        parts[1] = &forged;
        assert_eq!(
            keys.verify(&parts.join("."), 500),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn one_audience_is_a_string_and_several_are_an_array() {
        let one = serde_json::to_value(Audiences::one("a")).unwrap();
        assert_eq!(one, serde_json::json!("a"));
        let many = Audiences::many(vec!["a".into(), "b".into()]);
        assert_eq!(
            serde_json::to_value(&many).unwrap(),
            serde_json::json!(["a", "b"])
        );
        for text in [r#""a""#, r#"["a","b"]"#] {
            let read: Audiences = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&read).unwrap(), text);
        }
        assert!(serde_json::from_str::<Audiences>("[1]").is_err());
        assert!(serde_json::from_str::<Audiences>("1").is_err());
    }

    #[test]
    fn a_key_survives_its_pkcs8_encoding() {
        let (keys, der) = TokenKeys::generate().unwrap();
        let again = TokenKeys::from_pkcs8(&der).unwrap();
        let token = keys.sign(&claims(1000)).unwrap();
        assert!(again.verify(&token, 500).is_ok());
        assert_eq!(keys.kid(), again.kid());
    }
}
