//! The HTTP stack of a cluster's Kubernetes client: kube's own layers (base URI,
//! authentication, extra headers; not its retries, which would multiply the ones every request
//! of vaultwire makes through `retry.rs`) over a connector that
//! offers HTTP/2 as well as HTTP/1.1. API servers speak HTTP/2 (kubectl uses it), and over it a
//! cluster's requests share one connection: with kube's HTTP/1.1-only stack, every request in
//! flight needs a connection of its own and a TLS handshake — ten for the ten server-side
//! applies `--parallelism` allows at once.
//!
//! The connection pools under those layers are the run's [`KubeTransports`]: clusters that
//! trust the same certificates and show no client certificate of their own share one pool, so
//! API servers behind one address (a proxy serving clusters under path prefixes, as Rancher
//! does, or the sandbox) share one connection and one TLS handshake, and a client rebuilt with
//! a fresh token keeps the connection it had.
//!
//! A kubeconfig that needs more than this stack offers (a proxy, a TLS server name override)
//! gets kube's own client instead.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use tokio_rustls::rustls;
use tower::ServiceBuilder;

/// A connection pool: HTTP/2 or HTTP/1.1 over TLS (or plain HTTP), to any number of origins.
type Transport =
    hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, kube::client::Body>;

/// The run's connection pools for Kubernetes API servers, one per [`Trust`]; cheap to clone.
#[derive(Clone, Default)]
pub struct KubeTransports {
    pools: Arc<Mutex<Vec<(Trust, Transport)>>>,
}

/// Counts the pools; what they trust is not for logs.
impl std::fmt::Debug for KubeTransports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pools = self.pools.lock().map_or(0, |pools| pools.len());
        f.debug_struct("KubeTransports")
            .field("pools", &pools)
            .finish()
    }
}

/// What a connection to an API server depends on besides its address: the certificates
/// trusted and how long connecting may take. A client certificate is the other thing a TLS
/// connection carries; configs with one (or an exec plugin, which may hand one out) get a
/// pool of their own.
#[derive(PartialEq, Eq)]
pub(super) struct Trust {
    root_cert: Option<Vec<Vec<u8>>>,
    root_cert_file: Option<PathBuf>,
    accept_invalid_certs: bool,
    connect_timeout: Option<Duration>,
}

impl Trust {
    /// `None` when the config may present a client certificate.
    pub(super) fn of(config: &kube::Config) -> Option<Self> {
        let user = &config.auth_info;
        let identity = user.client_certificate.is_some()
            || user.client_certificate_data.is_some()
            || user.client_key.is_some()
            || user.client_key_data.is_some()
            || user.exec.is_some();
        (!identity).then(|| Self {
            root_cert: config.root_cert.clone(),
            root_cert_file: config.root_cert_file.clone(),
            accept_invalid_certs: config.accept_invalid_certs,
            connect_timeout: config.connect_timeout,
        })
    }
}

impl KubeTransports {
    /// The pool for `config`: a shared one when its [`Trust`] has one, else a new one.
    fn for_config(&self, config: &kube::Config) -> Result<Transport, kube::Error> {
        let Some(trust) = Trust::of(config) else {
            return transport(config);
        };
        // Held while a pool is built (a tenth of a millisecond, nothing awaited), so clusters
        // connecting at once find the first one's pool rather than each building its own.
        let mut pools = self
            .pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, shared)) = pools.iter().find(|(known, _)| *known == trust) {
            return Ok(shared.clone());
        }
        let built = transport(config)?;
        pools.push((trust, built.clone()));
        Ok(built)
    }

    #[cfg(test)]
    pub(crate) fn pools(&self) -> usize {
        self.pools.lock().map_or(0, |pools| pools.len())
    }
}

/// A new connection pool for `config`'s TLS settings.
fn transport(config: &kube::Config) -> Result<Transport, kube::Error> {
    // kube's `rustls_client_config` builds on the process's default crypto provider, which is
    // aws-lc-rs (the only one built in); kube's own builder installs it the same way.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Only fails when another thread installed it first, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
    let tls = config.rustls_client_config()?;
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_connect_timeout(config.connect_timeout);
    tcp.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(tcp);
    Ok(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector))
}

/// A client for `config`, over HTTP/2 where the server offers it, on a pool of `transports`.
pub fn client(
    config: kube::Config,
    transports: &KubeTransports,
) -> Result<kube::Client, kube::Error> {
    if config.proxy_url.is_some() || config.tls_server_name.is_some() {
        // vaultwire retries every request itself (`retry.rs`); kube's retries under it would
        // multiply them.
        let mut config = config;
        config.default_retry = false;
        return kube::Client::try_from(config);
    }
    let http = transports.for_config(&config)?;
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .layer(tower::layer::layer_fn(|inner| Logged { inner }))
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace))
}

/// Logs each request and its status at debug level, as the ARM client does (kube's own stack
/// has a tracing layer too). Path and status only: headers carry the token.
#[derive(Clone)]
struct Logged<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for Logged<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<hyper::body::Incoming>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // Every server-side apply passes here: describe it only when the line is wanted.
        let describe = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| format!("{} {}", request.method(), request.uri().path()));
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            let Some(describe) = describe else {
                return answer;
            };
            match &answer {
                Ok(response) => tracing::debug!(
                    request = describe,
                    status = response.status().as_u16(),
                    service = "kubernetes"
                ),
                Err(_) => tracing::debug!(request = describe, service = "kubernetes", "no answer"),
            }
            answer
        })
    }
}
