//! The Kubernetes API of one sandbox cluster, as a pure request-to-response function over a
//! serializable world.
//!
//! The sandbox's HTTPS server strips the per-cluster prefix `/k8s/clusters/{name}`, checks the
//! bearer token, and hands the rest of the request to [`KubeCluster::handle`]. Nothing here
//! does I/O or reads the clock: `now` comes from the caller, so tests are deterministic.
//! `docs/sandbox-kubernetes.md` describes what is emulated and what is not.

mod admission;
mod age;
mod apply;
mod cluster;
mod columns;
mod context;
mod controllers;
mod delete;
mod discovery;
mod fieldmanager;
mod fieldset;
mod managed;
mod node;
mod object;
mod openapi;
mod patch;
mod protobuf;
mod read;
mod request;
mod resources;
mod routes;
mod schema;
mod seed;
mod selector;
mod status;
mod store;
mod strategic;
mod token_request;
mod wire;
mod write;

#[cfg(test)]
mod tests;

pub use cluster::KubeCluster;
pub use node::{CSI_DRIVER, CsiPod, CsiVolume, PodState};
pub use token_request::TokenSigner;
pub use wire::{KubeRequest, KubeResponse};
