//! One cluster's API server: its stored world and the dispatch from a request to the handler
//! of its endpoint.
//!
//! Pure: no I/O, no clock (the caller passes `now`), no randomness (uids come from a counter).

use http::Method;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::context::Ctx;
use super::request::Query;
use super::resources::{self, CSI_GROUP};
use super::routes::{self, ResourcePath, Route};
use super::status::StatusError;
use super::store::Store;
use super::token_request::{self, TokenSigner};
use super::wire::{KubeRequest, KubeResponse};
use super::{delete, discovery, openapi, patch, read, seed, write};

/// Everything one cluster's API server stores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeCluster {
    /// The cluster's name; uids are derived from it.
    name: String,
    /// Whether the Secrets Store CSI driver (the Key Vault add-on) is installed, which is what
    /// makes SecretProviderClasses exist.
    csi_driver_installed: bool,
    store: Store,
}

impl KubeCluster {
    /// An empty cluster: no namespaces, nothing stored.
    pub fn empty(cluster_name: &str) -> Self {
        Self {
            name: cluster_name.to_owned(),
            csi_driver_installed: false,
            store: Store::new(cluster_name),
        }
    }

    /// The seeded cluster: namespaces, workloads and Secrets covering every audit case
    /// (`docs/sandbox-kubernetes.md` lists them).
    pub fn seeded(cluster_name: &str) -> Self {
        let mut cluster = Self::empty(cluster_name);
        seed::seed(&mut cluster.store);
        cluster
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Answers one request at time `now`, as an API server without a service-account token
    /// issuer: the TokenRequest API is not served.
    pub fn handle(&mut self, request: &KubeRequest<'_>, now: Timestamp) -> KubeResponse {
        self.answer(request, now, None)
    }

    /// [`Self::handle`], serving the TokenRequest API with tokens `signer` signs.
    pub fn handle_with_tokens(
        &mut self,
        request: &KubeRequest<'_>,
        now: Timestamp,
        signer: &dyn TokenSigner,
    ) -> KubeResponse {
        self.answer(request, now, Some(signer))
    }

    fn answer(
        &mut self,
        request: &KubeRequest<'_>,
        now: Timestamp,
        signer: Option<&dyn TokenSigner>,
    ) -> KubeResponse {
        match self.dispatch(request, now, signer) {
            Ok(response) => response,
            Err(error) => error.to_response(),
        }
    }

    /// Installs or removes the CSI driver, as enabling or disabling the add-on does. Stored
    /// SecretProviderClasses stay in the store but are not served while it is removed (AKS
    /// refuses to disable the add-on while any exist, so none are lost in practice).
    pub fn set_csi_driver_installed(&mut self, installed: bool) {
        self.csi_driver_installed = installed;
    }

    pub fn csi_driver_installed(&self) -> bool {
        self.csi_driver_installed
    }

    /// `(namespace, name)` of every SecretProviderClass, sorted.
    pub fn secret_provider_classes(&self) -> Vec<(String, String)> {
        let Some(def) = resources::by_kind(CSI_GROUP, "SecretProviderClass") else {
            return Vec::new();
        };
        self.store
            .list(def, None)
            .into_iter()
            .map(|spc| {
                (
                    super::object::namespace(&spc.object)
                        .unwrap_or_default()
                        .to_owned(),
                    super::object::name(&spc.object)
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// The 401 a request without a valid token gets, in the API server's `Status` shape.
    pub fn unauthorized() -> KubeResponse {
        StatusError {
            code: http::StatusCode::UNAUTHORIZED,
            reason: "Unauthorized",
            message: "Unauthorized".to_owned(),
            details: None,
        }
        .to_response()
    }

    fn dispatch(
        &mut self,
        request: &KubeRequest<'_>,
        now: Timestamp,
        signer: Option<&dyn TokenSigner>,
    ) -> Result<KubeResponse, StatusError> {
        let csi = self.csi_driver_installed;
        let route = routes::parse(request.path);
        if !matches!(route, Route::Resource(_)) && request.method != Method::GET {
            return Err(StatusError::method_not_allowed());
        }
        match route {
            Route::Version => Ok(discovery::version()),
            Route::CoreVersions => Ok(discovery::core_versions(request.headers, csi)),
            Route::Groups => Ok(discovery::groups(request.headers, csi)),
            Route::Group(group) => discovery::group(group, csi),
            Route::GroupVersion { group, version } => discovery::group_version(group, version, csi),
            Route::OpenApiRoot => Ok(openapi::root(csi)),
            Route::OpenApiGroupVersion { group, version } => {
                openapi::group_version(group, version, csi)
            }
            Route::Resource(path) => self.resource(request, &path, now, signer),
            Route::Unknown => Err(StatusError::unknown_path()),
        }
    }

    fn resource(
        &mut self,
        request: &KubeRequest<'_>,
        path: &ResourcePath<'_>,
        now: Timestamp,
        signer: Option<&dyn TokenSigner>,
    ) -> Result<KubeResponse, StatusError> {
        let def = resources::lookup(
            path.group,
            path.version,
            path.resource,
            self.csi_driver_installed,
        )
        .ok_or_else(StatusError::unknown_path)?;
        let version = def
            .served_version(path.version)
            .ok_or_else(StatusError::unknown_path)?;
        // Subresources (status, scale, log, …) are not served; neither are object paths that
        // name a namespace for a cluster-scoped resource or omit it for a namespaced one.
        let misplaced = if def.namespaced {
            path.namespace.is_none() && path.name.is_some()
        } else {
            path.namespace.is_some()
        };
        if let (Some("token"), Some(namespace), Some(name), Some(signer)) =
            (path.subresource, path.namespace, path.name, signer)
            && def.kind == "ServiceAccount"
        {
            if request.method != Method::POST {
                return Err(StatusError::method_not_allowed());
            }
            return token_request::create(&self.store, request, namespace, name, now, signer);
        }
        if path.subresource.is_some() || misplaced {
            return Err(StatusError::unknown_path());
        }
        let ctx = Ctx {
            def,
            version,
            namespace: path.namespace,
            query: Query::parse(request.query),
            headers: request.headers,
            body: request.body,
            now,
        };
        let across_namespaces = def.namespaced && path.namespace.is_none();
        let store = &mut self.store;
        match (request.method, path.name) {
            (&Method::GET, Some(name)) => read::get(store, &ctx, name),
            (&Method::GET, None) => read::list(store, &ctx),
            (&Method::POST, None) if !across_namespaces => write::create(store, &ctx),
            (&Method::PUT, Some(name)) => write::replace(store, &ctx, name),
            (&Method::PATCH, Some(name)) => patch::patch(store, &ctx, name),
            (&Method::DELETE, Some(name)) => delete::delete(store, &ctx, name),
            (&Method::DELETE, None) if !across_namespaces => delete::delete_collection(store, &ctx),
            _ => Err(StatusError::method_not_allowed()),
        }
    }
}
