//! Behaviour tests of the emulator, through `KubeCluster::handle` only: each file is one area
//! of the API, written as the request a client sends and the answer a real server gives.

mod apply;
mod controllers;
mod crud;
mod delete;
mod discovery;
mod leases;
mod patch;
mod seed;
mod selectors;
mod support;
mod tables;
mod token_request;
