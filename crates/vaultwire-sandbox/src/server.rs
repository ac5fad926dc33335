//! The HTTPS listener: TLS handshakes, HTTP/1.1 and HTTP/2 connections (by ALPN, as ARM and
//! API servers offer both), reading each request, injecting faults and latency, handing the
//! request to the synchronous handlers (on the answering thread, see `answerer.rs`), and
//! journaling it. A connection that does not open with a TLS handshake is a proxy client
//! (`proxy.rs`), whose tunnels come back here as HTTPS connections for an Azure host.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::admin;
use crate::exchange::{Origin, Req, Resp};
use crate::faults::FaultAction;
use crate::hosts::AzureHost;
use crate::instance::{Instance, lock};
use crate::journal::JournalEntry;
use crate::proxy::{self, Leaves};
use crate::router::{self, Area};

/// The first byte of a TLS connection (a handshake record).
const TLS_HANDSHAKE: u8 = 0x16;

/// Largest request body accepted.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until `shutdown` turns true.
pub async fn run(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    leaves: Arc<Leaves>,
    instance: Arc<Instance>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Numbers the connections in accept order, for the journal.
    let mut connections: u64 = 0;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        connections += 1;
        let connection = Connection {
            number: connections,
            client: peer.ip(),
        };
        lock(&instance.journal).connection_accepted();
        // As real servers do: an HTTP/2 answer is several small writes (headers, data), and
        // Nagle's algorithm would hold the last one back until the client's delayed ACK.
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let leaves = leaves.clone();
        let instance = instance.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut first = [0u8; 1];
            match stream.peek(&mut first).await {
                Ok(1) if first[0] == TLS_HANDSHAKE => {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    serve_https(tls, instance, connection, None, shutdown).await;
                }
                Ok(1) => proxy::serve(stream, instance, leaves, connection, shutdown).await,
                _ => {}
            }
        });
    }
}

/// Serves HTTP/1.1 or HTTP/2 on an established TLS connection: the sandbox's own endpoint
/// (`host` is `None`) or a proxy tunnel to an Azure host.
pub async fn serve_https<Io>(
    tls: Io,
    instance: Arc<Instance>,
    connection: Connection,
    host: Option<AzureHost>,
    mut shutdown: watch::Receiver<bool>,
) where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service =
        service_fn(move |request| answer(instance.clone(), connection, host.clone(), request));
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
    }
}

async fn answer(
    instance: Arc<Instance>,
    connection: Connection,
    host: Option<AzureHost>,
    request: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, DropConnection> {
    let arrived = std::time::Instant::now();
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(to_hyper(Resp::empty(http::StatusCode::PAYLOAD_TOO_LARGE))),
    };
    let via = Via {
        version: format!("{:?}", parts.version),
        connection: connection.number,
        path: parts.uri.path().to_owned(),
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut req = match &host {
        // The data plane's handlers find the vault in the path, as on the endpoint.
        Some(AzureHost::Vault { name }) => {
            Req::new(parts.method, &format!("/vaults/{name}{path_and_query}"))
        }
        _ => Req::new(parts.method, path_and_query),
    };
    req.headers = parts.headers;
    req.body = body;
    req.host = host;
    req.origin = Origin::address(connection.client);
    let area = Area::of(&req);
    if area == Area::Admin {
        // The admin API may take the world's file lock: keep it off the async workers.
        let worker = instance.clone();
        let resp = tokio::task::spawn_blocking(move || admin::handle(&worker, &req))
            .await
            .unwrap_or_else(|_| Resp::empty(http::StatusCode::INTERNAL_SERVER_ERROR));
        return Ok(to_hyper(resp));
    }
    // Latency is added to every service's answers, Entra's included (a real sign-in is a
    // network round trip too); failures only to the services whose clients retry them.
    let (action, latency) = {
        let mut faults = lock(&instance.faults);
        let action = if area.faultable() {
            faults.decide()
        } else {
            FaultAction::Pass
        };
        (action, faults.faults.latency)
    };
    // Worked out halfway through the latency, when the request would reach a real service
    // (the latency stands for a round trip), and sent when the latency has passed. Every
    // request is worked out the same time after it came, in the order they came, so clients
    // see the world as they would if it were worked out at the end; but the sandbox's own work
    // is done while its client waits, not just as the answers reach it — on a machine the two
    // share, it would otherwise take the cores from the client it is there to serve.
    let worker = instance.clone();
    let answering = instance.answerer.answer_at(arrived + latency / 2, move || {
        let label = router::label(&req);
        let now = jiff::Timestamp::now();
        let (resp, fault) = match action {
            FaultAction::Drop => {
                record(&worker, &req, &via, label, 0, Some("drop"));
                return None;
            }
            FaultAction::Throttle => (router::throttled(area, &req, now), Some("throttle")),
            FaultAction::ServerError { status } => {
                (router::server_error(area, &req, status, now), Some("error"))
            }
            FaultAction::Pass => (worker.answer(&req), None),
        };
        record(&worker, &req, &via, label, resp.status.as_u16(), fault);
        Some(resp)
    });
    let answered = answering.await;
    if !latency.is_zero() {
        // At once when working the answer out took longer.
        instance.answerer.until(arrived + latency).await;
    }
    match answered {
        Some(Some(resp)) => Ok(to_hyper(resp)),
        Some(None) => Err(DropConnection),
        // The handler panicked (a sandbox bug), or the sandbox is stopping.
        None => Ok(to_hyper(Resp::empty(
            http::StatusCode::INTERNAL_SERVER_ERROR,
        ))),
    }
}

/// One accepted TCP connection.
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    /// Its number, in the order the server accepted them (for the journal).
    pub number: u64,
    /// The peer's address.
    pub client: std::net::IpAddr,
}

/// How a request came in, as the journal keeps it.
struct Via {
    /// `HTTP/1.1` or `HTTP/2.0`.
    version: String,
    /// The connection's number, in the order the server accepted them.
    connection: u64,
    /// The path as the client sent it (the handlers may see it rewritten, see `answer`).
    path: String,
}

fn record(
    instance: &Instance,
    req: &Req,
    via: &Via,
    label: &str,
    status: u16,
    fault: Option<&str>,
) {
    lock(&instance.journal).record(JournalEntry {
        time: jiff::Timestamp::now(),
        method: req.method.to_string(),
        host: req.host.as_ref().map(ToString::to_string),
        path: via.path.clone(),
        route: format!("{} {label}", req.method),
        status,
        version: via.version.clone(),
        connection: via.connection,
        fault: fault.map(str::to_owned),
    });
}

fn to_hyper(resp: Resp) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(resp.body)));
    *response.status_mut() = resp.status;
    *response.headers_mut() = resp.headers.into_iter().collect();
    response
}
