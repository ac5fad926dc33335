//! The seeded world of one cluster: the manifests in `system.yaml`, `kube-system.yaml`, `payments.yaml`,
//! `shop.yaml` and `default.yaml`, loaded
//! through the same admission and field-ownership code as API writes, plus what the kubelet
//! would have filled in for pods.

pub(super) mod kubelet;
mod load;

pub(super) use load::seed;
