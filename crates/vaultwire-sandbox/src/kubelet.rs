//! The nodes' kubelet, for Secrets Store CSI volumes: before every answer that shows pods (a
//! Kubernetes API read of pods, events or Secrets, the admin API's mounts), each pod that mounts
//! one and is not running yet is mounted (`csi_provider.rs`) when its retry is due. A cluster
//! whose API did not change since the kubelet last looked, and has no retry or rotation due, is
//! skipped. A mount that works starts the pod (`Running`, the files' names and hashes kept in
//! `world.mounts`); one that fails leaves it in `ContainerCreating` with a `FailedMount` Event,
//! and is tried again after the kubelet's backoff: 500 ms, doubling, at most 2 min 2 s. So a
//! grant that propagates later lets the pod start, as on AKS. (Running it only when pods are
//! looked at keeps it off the path of every other request; nothing else can tell when it ran.)
//!
//! While the add-on rotates secrets, the driver's rotation reconciler fetches a running pod's
//! objects again every poll interval, scaled down by [`ROTATION_TIME_SCALE`] (the add-on's
//! default `2m` is 2 s here), and updates the files and synced Secrets that changed.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::context::{Ctx, later};
use crate::csi_provider::{self, Failure, SyncedSecret};
use crate::kube::{CsiPod, KubeCluster, PodState};
use crate::model::PodMount;
use crate::world::World;

const FIRST_RETRY: Duration = Duration::from_millis(500);
const LONGEST_RETRY: Duration = Duration::from_secs(122);
/// The rotation reconciler's Event source.
const ROTATION: &str = "csi-secrets-store-rotation";
/// How many times faster the sandbox's rotation poll runs than the add-on's interval says.
pub const ROTATION_TIME_SCALE: u32 = 60;

/// Mounts what is due in every cluster; marks the world touched when it changed anything.
pub fn settle(ctx: &Ctx<'_>, world: &mut World) {
    let clusters: Vec<String> = world.kube.keys().cloned().collect();
    for cluster in clusters {
        let Some(revision) = world.kube.get(&cluster).map(|kube| kube.revision()) else {
            continue;
        };
        let prefix = format!("{cluster}/");
        let rotation = rotation_interval(world, &cluster);
        let retry_due = world.mounts.iter().any(|(key, mount)| {
            key.starts_with(&prefix)
                && (mount.retry_at.is_some_and(|at| at <= ctx.now)
                    || (mount.mounted
                        && rotation.is_some()
                        && mount.rotate_at.is_none_or(|at| at <= ctx.now)))
        });
        if !retry_due && world.kubelet_seen.get(&cluster) == Some(&revision) {
            continue;
        }
        // The controllers first: a workload applied since the last look gets its pods.
        if let Some(kube) = world.kube.get_mut(&cluster)
            && kube.reconcile_workloads(ctx.now)
        {
            world.touched = true;
        }
        let Some(pods) = world.kube.get(&cluster).map(|kube| kube.csi_pods()) else {
            continue;
        };
        let keys: std::collections::BTreeSet<String> =
            pods.iter().map(|pod| key(&cluster, pod)).collect();
        let gone: Vec<String> = world
            .mounts
            .keys()
            .filter(|key| key.starts_with(&prefix) && !keys.contains(*key))
            .cloned()
            .collect();
        for key in gone {
            if let Some(mount) = world.mounts.remove(&key) {
                unsync(world, &cluster, &mount);
            }
            world.touched = true;
        }
        for pod in &pods {
            settle_pod(ctx, world, &cluster, pod, rotation);
        }
        if let Some(kube) = world.kube.get(&cluster) {
            world.kubelet_seen.insert(cluster, kube.revision());
        }
    }
}

fn key(cluster: &str, pod: &CsiPod) -> String {
    format!("{cluster}/{}/{}/{}", pod.namespace, pod.name, pod.uid)
}

/// The sandbox's rotation poll interval of `cluster`, while its add-on rotates secrets.
fn rotation_interval(world: &World, cluster: &str) -> Option<Duration> {
    world
        .clusters
        .get(cluster)?
        .secret_rotation_interval()
        .map(|interval| interval / ROTATION_TIME_SCALE)
}

fn settle_pod(
    ctx: &Ctx<'_>,
    world: &mut World,
    cluster: &str,
    pod: &CsiPod,
    rotation: Option<Duration>,
) {
    let key = key(cluster, pod);
    let state = match world.mounts.get(&key) {
        Some(state) => state.clone(),
        None => PodMount {
            cluster: cluster.to_owned(),
            namespace: pod.namespace.clone(),
            pod: pod.name.clone(),
            uid: pod.uid.clone(),
            // A pod that already runs mounted its volumes before the kubelet saw it (the
            // seeded ones); what it holds is not known.
            mounted: pod.running,
            ..PodMount::default()
        },
    };
    if state.mounted {
        match rotation {
            Some(interval) => match state.rotate_at {
                Some(at) if at > ctx.now => {}
                // The first poll comes one interval after the kubelet saw the pod running.
                None => {
                    let mut state = state;
                    state.rotate_at = Some(later(ctx.now, interval));
                    world.mounts.insert(key, state);
                    world.touched = true;
                }
                Some(_) => rotate(ctx, world, cluster, pod, key, state, interval),
            },
            None if state.rotate_at.is_some() => {
                let mut state = state;
                state.rotate_at = None;
                world.mounts.insert(key, state);
                world.touched = true;
            }
            None => {
                if let std::collections::btree_map::Entry::Vacant(slot) = world.mounts.entry(key) {
                    slot.insert(state);
                    world.touched = true;
                }
            }
        }
        return;
    }
    if state.retry_at.is_some_and(|at| at > ctx.now) {
        return;
    }
    attempt(ctx, world, cluster, pod, key, state, rotation);
}

/// One mount of every volume of `pod`; `state` is what the kubelet knew of it before.
fn attempt(
    ctx: &Ctx<'_>,
    world: &mut World,
    cluster: &str,
    pod: &CsiPod,
    key: String,
    mut state: PodMount,
    rotation: Option<Duration>,
) {
    let mut files = std::collections::BTreeMap::new();
    let mut secrets = Vec::new();
    let mut failure = None;
    for volume in &pod.volumes {
        match csi_provider::mount(ctx, world, cluster, pod, volume) {
            Ok((mounted, synced)) => {
                for file in mounted {
                    files.insert(format!("{}/{}", volume.name, file.name), file.sha256);
                }
                secrets.extend(synced);
            }
            Err(message) => {
                failure = Some(message);
                break;
            }
        }
    }
    let Some(kube) = world.kube.get_mut(cluster) else {
        return;
    };
    match failure {
        None => {
            // The driver syncs `secretObjects` while the pod mounts the class.
            for secret in &secrets {
                sync(kube, pod, secret, ctx.now);
            }
            state.synced = secrets.iter().map(|secret| secret.name.clone()).collect();
            kube.set_pod_state(pod, PodState::Running, ctx.now);
            state.mounted = true;
            state.failures = 0;
            state.retry_at = None;
            state.error = None;
            state.files = files;
            state.rotate_at = rotation.map(|interval| later(ctx.now, interval));
        }
        Some(message) => {
            kube.set_pod_state(pod, PodState::ContainerCreating, ctx.now);
            kube.record_event(pod, "kubelet", true, "FailedMount", &message, ctx.now);
            state.retry_at = Some(later(ctx.now, backoff(state.failures)));
            state.failures = state.failures.saturating_add(1);
            state.error = Some(message);
        }
    }
    world.mounts.insert(key, state);
    world.touched = true;
}

/// One poll of the driver's rotation reconciler for a running pod: each volume's objects are
/// fetched again; changed files are updated (`MountRotationComplete`), and each synced Secret
/// is patched when its data changed (`SecretRotationComplete`, every poll, as the reconciler
/// reports it). A provider failure keeps the old files (`MountRotationFailed`); a class that is
/// gone is skipped without an Event, as the reconciler does.
fn rotate(
    ctx: &Ctx<'_>,
    world: &mut World,
    cluster: &str,
    pod: &CsiPod,
    key: String,
    mut state: PodMount,
    interval: Duration,
) {
    state.rotate_at = Some(later(ctx.now, interval));
    for volume in &pod.volumes {
        let prefix = format!("{}/", volume.name);
        let class = volume.class.clone().unwrap_or_default();
        let fetched = csi_provider::fetch(ctx, world, cluster, pod, volume);
        let Some(kube) = world.kube.get_mut(cluster) else {
            return;
        };
        let (mounted, synced) = match fetched {
            Ok(fetched) => fetched,
            Err(Failure::Provider(error)) => {
                let message = format!(
                    "provider mount err: rpc error: code = Unknown desc = failed to mount objects, error: {error}"
                );
                kube.record_event(
                    pod,
                    ROTATION,
                    true,
                    "MountRotationFailed",
                    &message,
                    ctx.now,
                );
                continue;
            }
            Err(Failure::NoDriver | Failure::Driver(_)) => continue,
        };
        let files: BTreeMap<String, String> = mounted
            .into_iter()
            .map(|file| (format!("{prefix}{}", file.name), file.sha256))
            .collect();
        let old: BTreeMap<String, String> = state
            .files
            .iter()
            .filter(|(name, _)| name.starts_with(&prefix))
            .map(|(name, hash)| (name.clone(), hash.clone()))
            .collect();
        if files != old {
            state.files.retain(|name, _| !name.starts_with(&prefix));
            state.files.extend(files);
            let message = format!(
                "successfully rotated mounted contents for spc {}/{class}",
                pod.namespace
            );
            kube.record_event(
                pod,
                ROTATION,
                false,
                "MountRotationComplete",
                &message,
                ctx.now,
            );
        }
        for secret in &synced {
            sync(kube, pod, secret, ctx.now);
            let message = format!("successfully rotated K8s secret {}", secret.name);
            kube.record_event(
                pod,
                ROTATION,
                false,
                "SecretRotationComplete",
                &message,
                ctx.now,
            );
            if !state.synced.contains(&secret.name) {
                state.synced.push(secret.name.clone());
            }
        }
    }
    world.mounts.insert(key, state);
    world.touched = true;
}

/// Creates or updates the Kubernetes Secret `secret` in `pod`'s namespace.
fn sync(kube: &mut KubeCluster, pod: &CsiPod, secret: &SyncedSecret, now: jiff::Timestamp) {
    kube.sync_secret(
        &pod.namespace,
        &secret.name,
        &secret.kind,
        &secret.labels,
        &secret.data,
        now,
    );
}

/// Deletes the Secrets `mount` synced that no other pod of the namespace syncs, as the
/// driver's owner references have them collected with the last pod that mounts the class.
fn unsync(world: &mut World, cluster: &str, mount: &PodMount) {
    for name in &mount.synced {
        let still_used = world.mounts.values().any(|other| {
            other.cluster == cluster
                && other.namespace == mount.namespace
                && other.synced.contains(name)
        });
        if !still_used && let Some(kube) = world.kube.get_mut(cluster) {
            kube.remove_synced_secret(&mount.namespace, name);
        }
    }
}

/// The kubelet's wait after `failures` earlier failures.
fn backoff(failures: u32) -> Duration {
    FIRST_RETRY
        .checked_mul(2u32.saturating_pow(failures.min(16)))
        .unwrap_or(LONGEST_RETRY)
        .min(LONGEST_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_half_a_second_up_to_two_minutes_two_seconds() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(8), LONGEST_RETRY);
        assert_eq!(backoff(40), LONGEST_RETRY);
    }
}
