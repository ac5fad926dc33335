//! The sandbox as an HTTPS forward proxy for Azure's hostnames. A client that sends
//! `CONNECT management.azure.com:443` (as `HTTPS_PROXY` makes az, the Azure SDKs, kubectl and
//! vaultwire do) gets a tunnel the sandbox terminates itself, with a leaf certificate for that
//! name issued by the sandbox CA; the requests inside are answered as the named service would
//! answer them. A `CONNECT` to any other host or port is refused: nothing is ever forwarded.
//!
//! The proxy shares the sandbox's port: a connection whose first byte opens a TLS handshake is
//! the sandbox's own endpoint, anything else is spoken to as a proxy (`server.rs`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use crate::hosts::AzureHost;
use crate::instance::{Instance, lock};
use crate::server;
use crate::tls::{self, CaPem, TlsError};

/// Issues and keeps one leaf certificate per host a client tunnels to.
#[derive(Debug)]
pub struct Leaves {
    ca: CaPem,
    issued: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl Leaves {
    pub fn new(ca: CaPem) -> Self {
        Self {
            ca,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// The TLS configuration presenting a leaf for `host`, issued on first use.
    fn config(&self, host: &str) -> Result<Arc<ServerConfig>, TlsError> {
        if let Some(config) = lock(&self.issued).get(host) {
            return Ok(config.clone());
        }
        let (cert, key) =
            tls::issue_leaf_for(&self.ca, vec![host.to_owned()], jiff::Zoned::now().date())?;
        let config = tls::server_config(&cert, &key)?;
        lock(&self.issued).insert(host.to_owned(), config.clone());
        Ok(config)
    }
}

/// Speaks HTTP/1.1 on `stream` as a proxy: each `CONNECT` to an emulated host becomes a TLS
/// connection to that host's service.
pub async fn serve(
    stream: TcpStream,
    instance: Arc<Instance>,
    leaves: Arc<Leaves>,
    connection: server::Connection,
    shutdown: watch::Receiver<bool>,
) {
    let service = service_fn(move |request| {
        connect(
            instance.clone(),
            leaves.clone(),
            connection,
            shutdown.clone(),
            request,
        )
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

async fn connect(
    instance: Arc<Instance>,
    leaves: Arc<Leaves>,
    connection: server::Connection,
    shutdown: watch::Receiver<bool>,
    request: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::CONNECT {
        return Ok(refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "this is the vaultwire sandbox: use {} over HTTPS, or use it as an HTTPS proxy (HTTPS_PROXY) for Azure's hostnames",
                instance.endpoint
            ),
        ));
    }
    let authority = request.uri().authority().cloned();
    let (host, port) = match &authority {
        Some(authority) => (authority.host(), authority.port_u16().unwrap_or(443)),
        None => ("", 0),
    };
    let Some(azure_host) = AzureHost::of(host).filter(|_| port == 443) else {
        tracing::info!(
            host,
            port,
            "refused a CONNECT to a host the sandbox does not emulate"
        );
        return Ok(refusal(
            StatusCode::FORBIDDEN,
            format!(
                "the vaultwire sandbox does not emulate `{host}:{port}` and forwards nothing off this machine; it answers on port 443 of {}",
                EMULATED
            ),
        ));
    };
    let config = match leaves.config(host) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, host, "cannot issue a certificate");
            return Ok(refusal(
                StatusCode::BAD_GATEWAY,
                format!("the vaultwire sandbox cannot issue a certificate for `{host}`"),
            ));
        }
    };
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(request).await else {
            return;
        };
        let Ok(tls) = TlsAcceptor::from(config)
            .accept(TokioIo::new(upgraded))
            .await
        else {
            return;
        };
        server::serve_https(tls, instance, connection, Some(azure_host), shutdown).await;
    });
    Ok(http::Response::new(Full::new(Bytes::new())))
}

/// The hosts a refusal lists.
const EMULATED: &str = "login.microsoftonline.com (and its aliases), management.azure.com, graph.microsoft.com, NAME.vault.azure.net, the clusters' API servers (*.hcp.LOCATION.azmk8s.io) and OIDC issuers (LOCATION.oic.prod-aks.azure.com)";

fn refusal(status: StatusCode, message: String) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
