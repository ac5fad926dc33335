//! The workload patches as files for their owners' repositories: one strategic-merge patch
//! per workload, in YAML, that `kubectl patch --patch-file` applies and a kustomization can
//! list under `patches:` (it names its target by apiVersion, kind and metadata).

use std::path::{Path, PathBuf};

use super::model::WorkloadPatch;
use crate::files::{OutputError, OutputKind, write_output};

/// The first line of every patch file: how an earlier one is recognised and may be replaced.
pub const HEADER: &str = "# Written by `vaultwire migrate`:";

/// The output kind of patch files: they replace only earlier patch files.
pub const PATCH: OutputKind = OutputKind {
    name: "workload patch",
    recognises: |text| text.starts_with(HEADER),
};

/// The file's text: what it does in comments, how to apply it (from `path`), then the patch.
pub fn text(patch: &WorkloadPatch, path: &Path) -> String {
    let mut out = format!(
        "{HEADER} {} {}/{} on cluster {}.\n",
        patch.kind, patch.namespace, patch.name, patch.cluster
    );
    for change in &patch.changes {
        out.push_str(&format!("# - {change}\n"));
    }
    for change in &patch.owner_changes {
        out.push_str(&format!("# - owner: {change}\n"));
    }
    if let Some(caveat) = &patch.caveat {
        out.push_str(&format!("# Note: {caveat}.\n"));
    }
    out.push_str(&format!(
        "# Apply: kubectl patch {} {} --namespace {} --patch-file {}\n",
        patch.kind.to_ascii_lowercase(),
        patch.name,
        patch.namespace,
        path.display()
    ));
    out.push_str(&serde_norway::to_string(&patch.patch).unwrap_or_default());
    out
}

/// Writes every patch under `dir` (created as needed); returns the paths written. An existing
/// file is replaced only when it is an earlier patch, never when it is an input.
pub fn write_all<P: AsRef<Path>>(
    dir: &Path,
    patches: &[WorkloadPatch],
    inputs: &[(&'static str, P)],
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    for patch in patches {
        let path = dir.join(&patch.file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| OutputError::Write {
                path: path.clone(),
                kind: PATCH.name,
                source,
            })?;
        }
        write_output(&path, &text(patch, &path), PATCH, inputs)?;
        written.push(path);
    }
    Ok(written)
}
