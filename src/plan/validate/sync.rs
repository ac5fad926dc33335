//! `sync` data must name a file the SecretProviderClass mounts: the object's `alias` when it
//! has one, else its name — the driver matches `objectName` against mounted file names.

use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Plan, Spc};
use crate::plan::suggest::{all_of, closest, shown};

pub(super) fn unknown_objects(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (key, spc) in &plan.spcs {
        let files: Vec<&str> = spc
            .objects
            .iter()
            .map(|object| object.file_name())
            .collect();
        for secret in &spc.sync {
            for data in &secret.data {
                let wanted = data.object.value.as_str();
                if files.contains(&wanted) {
                    continue;
                }
                out.push(
                    Diagnostic::error(
                        "unknown-sync-object",
                        format!("`spc.{key}` mounts no file named `{}`", shown(wanted)),
                        data.object.span.clone(),
                    )
                    .with_label("not a mounted file")
                    .with_help(help(spc, wanted, &files)),
                );
            }
        }
    }
}

fn help(spc: &Spc, wanted: &str, files: &[&str]) -> String {
    // The common slip: naming the vault object when an alias renamed its file.
    if let Some(object) = spc
        .objects
        .iter()
        .find(|object| object.name.value == wanted && object.alias.is_some())
    {
        return format!(
            "object `{}` is mounted as `{}` (its `alias`); `sync` refers to file names",
            shown(wanted),
            shown(object.file_name())
        );
    }
    match closest(wanted, files.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("the mounted files are {}", all_of(files.iter().copied())),
    }
}
