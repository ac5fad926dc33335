//! The HTTP stack of a cluster's Kubernetes client: kube's own layers (base URI, retries of
//! throttled and unavailable answers, authentication, extra headers) over a connector that
//! offers HTTP/2 as well as HTTP/1.1. API servers speak HTTP/2 (kubectl uses it), and over it a
//! cluster's requests share one connection: with kube's HTTP/1.1-only stack, every request in
//! flight needs a connection of its own and a TLS handshake — ten for the ten server-side
//! applies `--parallelism` allows at once.
//!
//! A kubeconfig that needs more than this stack offers (a proxy, a TLS server name override)
//! gets kube's own client instead.

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use kube::client::retry::RetryPolicy;
use tokio_rustls::rustls;
use tower::ServiceBuilder;
use tower::retry::RetryLayer;

/// A client for `config`, over HTTP/2 where the server offers it.
pub fn client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    if config.proxy_url.is_some() || config.tls_server_name.is_some() {
        return kube::Client::try_from(config);
    }
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
    let http: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let retry = config
        .default_retry
        .then(|| RetryLayer::new(RetryPolicy::server_retry()));
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(retry)
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
