//! The resources this API server serves, with the per-resource behaviour the real registry
//! strategies encode (status subresource, generation, unconditional update, what DELETE
//! returns).
//!
//! Pure data and lookups; no request handling here.

/// One served version of a resource.
#[derive(Debug)]
pub(super) struct ServedVersion {
    pub name: &'static str,
    /// Sent as a `Warning` header on every request to this version (CRD `deprecationWarning`).
    pub deprecation_warning: Option<&'static str>,
}

/// How `kubectl get` shows this resource (the server-side Table columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Columns {
    NameAge,
    Namespace,
    Secret,
    ConfigMap,
    ServiceAccount,
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    Lease,
    Event,
}

/// One resource type.
#[derive(Debug)]
pub(super) struct ResourceDef {
    /// Empty for the core group.
    pub group: &'static str,
    /// The first is the preferred and storage version.
    pub versions: &'static [ServedVersion],
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Writes to the main resource keep the stored `status` (it has its own subresource).
    pub status_subresource: bool,
    /// `metadata.generation` exists and counts spec changes.
    pub generation: bool,
    /// PUT without `resourceVersion` is allowed (`AllowUnconditionalUpdate`). False for Leases
    /// and for every custom resource.
    pub unconditional_update: bool,
    /// DELETE answers with the object (`ReturnDeletedObject`) instead of a `Status`.
    pub delete_returns_object: bool,
    /// A custom resource: items carry `kind`, strategic merge patch is refused, lists are atomic
    /// under server-side apply and the CRD schema prunes and validates.
    pub custom: bool,
    /// Served only while the Secrets Store CSI driver (the Key Vault add-on) is installed.
    pub needs_csi_driver: bool,
    /// Field selectors beyond `metadata.name` and `metadata.namespace`.
    pub field_selectors: &'static [&'static str],
    pub columns: Columns,
}

/// The verbs every resource here supports. `watch` is deliberately absent: it is not emulated.
pub(super) const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
];

pub(super) const CSI_GROUP: &str = "secrets-store.csi.x-k8s.io";

const V1: &[ServedVersion] = &[ServedVersion {
    name: "v1",
    deprecation_warning: None,
}];

const SPC_VERSIONS: &[ServedVersion] = &[
    ServedVersion {
        name: "v1",
        deprecation_warning: None,
    },
    ServedVersion {
        name: "v1alpha1",
        deprecation_warning: Some(
            "secrets-store.csi.x-k8s.io/v1alpha1 is deprecated. Use secrets-store.csi.x-k8s.io/v1 instead.",
        ),
    },
];

const fn builtin(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    columns: Columns,
) -> ResourceDef {
    ResourceDef {
        group,
        versions: V1,
        plural,
        singular,
        kind,
        namespaced: true,
        short_names: &[],
        categories: &[],
        status_subresource: false,
        generation: false,
        unconditional_update: true,
        delete_returns_object: false,
        custom: false,
        needs_csi_driver: false,
        field_selectors: &[],
        columns,
    }
}

/// A workload controller: category `all`, status subresource, generation.
const fn workload(
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    group: &'static str,
    columns: Columns,
) -> ResourceDef {
    ResourceDef {
        short_names,
        categories: &["all"],
        status_subresource: true,
        generation: true,
        ..builtin(group, plural, singular, kind, columns)
    }
}

/// Every resource, in discovery order within each group.
pub(super) static RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        namespaced: false,
        short_names: &["ns"],
        status_subresource: true,
        delete_returns_object: true,
        field_selectors: &["status.phase"],
        ..builtin(
            "",
            "namespaces",
            "namespace",
            "Namespace",
            Columns::Namespace,
        )
    },
    ResourceDef {
        short_names: &["cm"],
        ..builtin(
            "",
            "configmaps",
            "configmap",
            "ConfigMap",
            Columns::ConfigMap,
        )
    },
    ResourceDef {
        short_names: &["po"],
        categories: &["all"],
        status_subresource: true,
        delete_returns_object: true,
        field_selectors: &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
        ],
        ..builtin("", "pods", "pod", "Pod", Columns::Pod)
    },
    ResourceDef {
        field_selectors: &["type"],
        ..builtin("", "secrets", "secret", "Secret", Columns::Secret)
    },
    // The core v1 Events kubelets record and `kubectl describe`/`kubectl get events` read.
    ResourceDef {
        short_names: &["ev"],
        field_selectors: &[
            "involvedObject.apiVersion",
            "involvedObject.fieldPath",
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
            "involvedObject.resourceVersion",
            "involvedObject.uid",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ..builtin("", "events", "event", "Event", Columns::Event)
    },
    ResourceDef {
        short_names: &["sa"],
        delete_returns_object: true,
        ..builtin(
            "",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            Columns::ServiceAccount,
        )
    },
    workload(
        "daemonsets",
        "daemonset",
        "DaemonSet",
        &["ds"],
        "apps",
        Columns::DaemonSet,
    ),
    workload(
        "deployments",
        "deployment",
        "Deployment",
        &["deploy"],
        "apps",
        Columns::Deployment,
    ),
    workload(
        "replicasets",
        "replicaset",
        "ReplicaSet",
        &["rs"],
        "apps",
        Columns::ReplicaSet,
    ),
    workload(
        "statefulsets",
        "statefulset",
        "StatefulSet",
        &["sts"],
        "apps",
        Columns::StatefulSet,
    ),
    workload(
        "cronjobs",
        "cronjob",
        "CronJob",
        &["cj"],
        "batch",
        Columns::CronJob,
    ),
    ResourceDef {
        field_selectors: &["status.successful"],
        ..workload("jobs", "job", "Job", &[], "batch", Columns::Job)
    },
    ResourceDef {
        unconditional_update: false,
        ..builtin(
            "coordination.k8s.io",
            "leases",
            "lease",
            "Lease",
            Columns::Lease,
        )
    },
    ResourceDef {
        versions: SPC_VERSIONS,
        generation: true,
        unconditional_update: false,
        delete_returns_object: true,
        custom: true,
        needs_csi_driver: true,
        ..builtin(
            CSI_GROUP,
            "secretproviderclasses",
            "secretproviderclass",
            "SecretProviderClass",
            Columns::NameAge,
        )
    },
];

impl ResourceDef {
    /// `secrets`, `deployments.apps`: how errors name the resource.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Secret`, `Lease.coordination.k8s.io`: how validation errors name the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_owned()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub fn storage_version(&self) -> &'static str {
        self.versions.first().map_or("v1", |version| version.name)
    }

    /// `v1` or `apps/v1`.
    pub fn api_version(&self, version: &str) -> String {
        group_version(self.group, version)
    }

    pub fn served_version(&self, version: &str) -> Option<&'static ServedVersion> {
        self.versions.iter().find(|served| served.name == version)
    }

    /// The key of this resource in the store: the plural plus group, independent of version.
    pub fn store_key(&self) -> String {
        self.qualified_resource()
    }
}

/// `v1` for the core group, `group/version` otherwise.
pub(super) fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}

/// The resources currently served: SecretProviderClasses only with the CSI driver installed.
pub(super) fn served(csi_driver_installed: bool) -> impl Iterator<Item = &'static ResourceDef> {
    RESOURCES
        .iter()
        .filter(move |def| csi_driver_installed || !def.needs_csi_driver)
}

/// The resource `plural` in `group`/`version`, if served.
pub(super) fn lookup(
    group: &str,
    version: &str,
    plural: &str,
    csi_driver_installed: bool,
) -> Option<&'static ResourceDef> {
    served(csi_driver_installed).find(|def| {
        def.group == group && def.plural == plural && def.served_version(version).is_some()
    })
}

/// The resource of `kind` in `group`, served or not (used by the seed and by owner lookups).
pub(super) fn by_kind(group: &str, kind: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|def| def.group == group && def.kind == kind)
}

/// The groups served, in discovery order, each with its versions (preferred first).
pub(super) fn groups(csi_driver_installed: bool) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for def in served(csi_driver_installed).filter(|def| !def.group.is_empty()) {
        if groups.iter().all(|(group, _)| *group != def.group) {
            groups.push((def.group, def.versions.iter().map(|v| v.name).collect()));
        }
    }
    groups
}
