//! TEST-ONLY: serves a `KubeCluster` over plain HTTP on an ephemeral loopback port, under the
//! sandbox's per-cluster prefix `/k8s/clusters/{name}`, so the real kubectl can be pointed at
//! the emulator before the sandbox's HTTPS server exists on this branch. `vaultwire sandbox
//! serve` replaces it; the kubectl helpers do not depend on it.
//!
//! No token check: kubectl (client-go) never sends a bearer token over plain `http://`, so
//! authentication can only be exercised by the HTTPS server.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;
use vaultwire::sandbox::kube::{KubeCluster, KubeRequest};

/// The token the test kubeconfig carries (client-go keeps it to itself over plain HTTP).
pub const TOKEN: &str = "sandbox-test-token";

/// A running adapter; dropping it stops the server.
pub struct KubeServer {
    url: String,
    cluster: Arc<Mutex<KubeCluster>>,
    journal: Arc<Mutex<Vec<String>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl KubeServer {
    pub fn start(cluster: KubeCluster) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("local address").port();
        let url = format!("http://127.0.0.1:{port}/k8s/clusters/{}", cluster.name());
        let prefix = format!("/k8s/clusters/{}", cluster.name());
        let cluster = Arc::new(Mutex::new(cluster));
        let journal = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, stop) = oneshot::channel();
        let shared = (cluster.clone(), journal.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the test server");
            runtime.block_on(serve(listener, prefix, shared, stop));
        });
        Self {
            url,
            cluster,
            journal,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The cluster's server URL, as a kubeconfig names it.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn cluster(&self) -> MutexGuard<'_, KubeCluster> {
        self.cluster
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `METHOD path?query` of every request so far, prefix removed.
    pub fn requests(&self) -> Vec<String> {
        self.journal
            .lock()
            .map(|journal| journal.clone())
            .unwrap_or_default()
    }
}

impl Drop for KubeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Shared = (Arc<Mutex<KubeCluster>>, Arc<Mutex<Vec<String>>>);

async fn serve(
    listener: std::net::TcpListener,
    prefix: String,
    shared: Shared,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (prefix, shared) = (prefix.clone(), shared.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, prefix.clone(), shared.clone()));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        }
    }
}

async fn answer(
    request: Request<Incoming>,
    prefix: String,
    (cluster, journal): Shared,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let query = parts.uri.query().unwrap_or_default();
    let path = parts.uri.path();
    if let Ok(mut journal) = journal.lock() {
        journal.push(format!(
            "{} {}?{query}",
            parts.method,
            path.strip_prefix(&prefix).unwrap_or(path)
        ));
    }
    let response = match path.strip_prefix(&prefix) {
        Some(rest) => {
            let request = KubeRequest {
                method: &parts.method,
                path: if rest.is_empty() { "/" } else { rest },
                query,
                headers: &parts.headers,
                body: &body,
            };
            let mut cluster = cluster
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            cluster.handle(&request, jiff::Timestamp::now())
        }
        None => {
            let mut response =
                Response::new(Full::new(Bytes::from_static(b"404 page not found\n")));
            *response.status_mut() = http::StatusCode::NOT_FOUND;
            return Ok(response);
        }
    };
    let mut out = Response::new(Full::new(Bytes::from(response.body)));
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    Ok(out)
}
