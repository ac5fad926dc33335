//! Which endpoint a path names. The resource part follows the API server's URL layout:
//! `/api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]` and the same under
//! `/apis/{group}/{version}`.
//!
//! Path syntax only; whether a resource is served is decided by the caller.

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route<'a> {
    Version,
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(&'a str),
    /// `/api/v1` (group empty) or `/apis/{group}/{version}`
    GroupVersion {
        group: &'a str,
        version: &'a str,
    },
    OpenApiRoot,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`
    OpenApiGroupVersion {
        group: &'a str,
        version: &'a str,
    },
    Resource(ResourcePath<'a>),
    Unknown,
}

/// A path to a collection, an object, or an object's subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResourcePath<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub namespace: Option<&'a str>,
    pub resource: &'a str,
    pub name: Option<&'a str>,
    pub subresource: Option<&'a str>,
}

pub(super) fn parse(path: &str) -> Route<'_> {
    let trimmed = path.trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    match segments.as_slice() {
        ["version"] => Route::Version,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", group] => Route::Group(group),
        ["api", version] => Route::GroupVersion { group: "", version },
        ["apis", group, version] => Route::GroupVersion { group, version },
        ["openapi", "v3"] => Route::OpenApiRoot,
        ["openapi", "v3", "api", version] => Route::OpenApiGroupVersion { group: "", version },
        ["openapi", "v3", "apis", group, version] => Route::OpenApiGroupVersion { group, version },
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::Unknown,
    }
}

fn resource_route<'a>(group: &'a str, version: &'a str, rest: &[&'a str]) -> Route<'a> {
    let path = |namespace, resource, name, subresource| {
        Route::Resource(ResourcePath {
            group,
            version,
            namespace,
            resource,
            name,
            subresource,
        })
    };
    if rest.iter().any(|segment| segment.is_empty()) {
        return Route::Unknown;
    }
    match rest {
        // `/api/v1/namespaces/{ns}` is the Namespace object itself; three or more segments
        // after `namespaces` address something inside the namespace.
        ["namespaces", namespace, resource] => path(Some(*namespace), *resource, None, None),
        ["namespaces", namespace, resource, name] => {
            path(Some(*namespace), *resource, Some(*name), None)
        }
        ["namespaces", namespace, resource, name, sub] => {
            path(Some(*namespace), *resource, Some(*name), Some(*sub))
        }
        [resource] => path(None, *resource, None, None),
        [resource, name] => path(None, *resource, Some(*name), None),
        [resource, name, sub] => path(None, *resource, Some(*name), Some(*sub)),
        _ => Route::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> ResourcePath<'_> {
        match parse(path) {
            Route::Resource(resource) => resource,
            other => panic!("{path} parsed as {other:?}"),
        }
    }

    #[test]
    fn the_namespace_object_is_a_cluster_scoped_path() {
        let ns = resource("/api/v1/namespaces/payments");
        assert_eq!(
            (ns.resource, ns.name, ns.namespace),
            ("namespaces", Some("payments"), None)
        );
    }

    #[test]
    fn namespaced_objects_and_subresources() {
        let spc = resource(
            "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/shop/secretproviderclasses/db",
        );
        assert_eq!(spc.group, "secrets-store.csi.x-k8s.io");
        assert_eq!(spc.namespace, Some("shop"));
        assert_eq!(spc.name, Some("db"));
        let status = resource("/apis/apps/v1/namespaces/shop/deployments/web/status");
        assert_eq!(status.subresource, Some("status"));
    }

    #[test]
    fn discovery_and_unknown_paths() {
        assert_eq!(parse("/apis/apps"), Route::Group("apps"));
        assert_eq!(
            parse("/api/v1"),
            Route::GroupVersion {
                group: "",
                version: "v1"
            }
        );
        assert_eq!(parse("/healthz/ready"), Route::Unknown);
        assert_eq!(parse("/api/v1/namespaces/a/secrets/b/c/d"), Route::Unknown);
    }
}
