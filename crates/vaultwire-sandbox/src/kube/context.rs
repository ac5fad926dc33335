//! One request to a resource, resolved: which resource and version, where, by whom, when.
//!
//! Carries request facts and converts stored objects to the requested version; it decides
//! nothing.

use http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::request::{self, Query};
use super::resources::{ResourceDef, ServedVersion};
use super::store::Stored;
use super::wire::KubeResponse;

pub(super) struct Ctx<'a> {
    pub def: &'static ResourceDef,
    pub version: &'static ServedVersion,
    pub namespace: Option<&'a str>,
    pub query: Query,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub now: Timestamp,
}

impl Ctx<'_> {
    /// `group/version` as requested.
    pub fn api_version(&self) -> String {
        self.def.api_version(self.version.name)
    }

    /// `fieldManager`, or the User-Agent prefix as the API server derives it.
    pub fn manager(&self) -> String {
        match self.query.get("fieldManager") {
            Some(manager) if !manager.is_empty() => manager.to_owned(),
            _ => request::default_field_manager(self.headers),
        }
    }

    /// A stored object as the requested version shows it (versions differ only in
    /// `apiVersion`: the CRD converts with strategy None).
    pub fn output(&self, object: &Value) -> Value {
        let mut shown = object.clone();
        if let Some(fields) = shown.as_object_mut() {
            fields.insert("apiVersion".to_owned(), json!(self.api_version()));
        }
        shown
    }

    /// [`Self::respond`] with `object` as this version shows it ([`Self::output`]), written
    /// without copying it when it already carries this version (the usual case: copying every
    /// object a server-side apply returns was a quarter of the sandbox's time per apply).
    pub fn respond_object(
        &self,
        status: StatusCode,
        object: &Value,
        warnings: &[String],
    ) -> KubeResponse {
        if in_version(object, &self.api_version()) {
            self.respond(status, object, warnings)
        } else {
            self.respond(status, &self.output(object), warnings)
        }
    }

    /// [`Self::respond_object`] for an object just stored: its stored JSON when it already
    /// carries this version.
    pub fn respond_stored(
        &self,
        status: StatusCode,
        stored: &Stored,
        warnings: &[String],
    ) -> KubeResponse {
        if in_version(&stored.object, &self.api_version()) {
            self.respond_json(status, stored.json().to_vec(), warnings)
        } else {
            self.respond_object(status, &stored.object, warnings)
        }
    }

    /// A response carrying this version's deprecation warning, if any.
    pub fn respond<T: serde::Serialize + ?Sized>(
        &self,
        status: StatusCode,
        body: &T,
        warnings: &[String],
    ) -> KubeResponse {
        KubeResponse::json(status, body).with_warnings(&self.warnings(warnings))
    }

    /// [`Self::respond`] with a body already written as JSON.
    pub fn respond_json(
        &self,
        status: StatusCode,
        body: Vec<u8>,
        warnings: &[String],
    ) -> KubeResponse {
        KubeResponse::json_bytes(status, body).with_warnings(&self.warnings(warnings))
    }

    /// This version's deprecation warning, if any, then `warnings`.
    fn warnings(&self, warnings: &[String]) -> Vec<String> {
        let mut all: Vec<String> = self
            .version
            .deprecation_warning
            .iter()
            .map(|w| (*w).to_owned())
            .collect();
        all.extend(warnings.iter().cloned());
        all
    }
}

/// Whether `object` is stored in `api_version`, so [`Ctx::output`] would show it unchanged.
pub fn in_version(object: &Value, api_version: &str) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some(api_version)
}
