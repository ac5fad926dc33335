//! `vaultwire init [DIR]`: scaffold a repository for a team.
//!
//! Writes a starter plan, the state directory and CI pipelines from the files in `templates/`
//! (embedded at build time). It never overwrites a file that exists: those are reported as kept.

use std::path::{Path, PathBuf};

use crate::cli::args::InitArgs;
use crate::cli::error::{Error, Outcome};

/// One file `init` writes: where, relative to the repository, and its template.
struct Template {
    path: &'static str,
    text: &'static str,
}

const TEMPLATES: &[Template] = &[
    Template {
        path: "plans/{{plan}}.toml",
        text: include_str!("../../../templates/plan.toml"),
    },
    Template {
        path: "state/.gitkeep",
        text: "",
    },
    Template {
        path: ".github/workflows/vaultwire-{{plan}}.yml",
        text: include_str!("../../../templates/github/workflow.yml"),
    },
    Template {
        path: ".azure-pipelines/vaultwire-{{plan}}.yml",
        text: include_str!("../../../templates/azure-pipelines/pipeline.yml"),
    },
    Template {
        path: ".gitignore",
        text: include_str!("../../../templates/gitignore"),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("`{name}` is not a valid plan name")]
    InvalidName { name: String },
}

impl InitError {
    pub fn help(&self) -> Option<String> {
        match self {
            InitError::InvalidName { .. } => {
                Some("use letters, digits, `-` and `_`, such as `--name payments`".to_owned())
            }
        }
    }
}

/// Validated settings of `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitCommand {
    pub dir: PathBuf,
    /// The plan's name: `plans/NAME.toml`, `state/NAME.state.json`.
    pub name: String,
}

impl InitCommand {
    pub fn from_args(args: InitArgs) -> Result<Self, Error> {
        let name = match args.name {
            Some(name) if is_valid_plan_name(&name) => name,
            Some(name) => return Err(InitError::InvalidName { name }.into()),
            None => default_name(&args.dir),
        };
        Ok(Self {
            dir: args.dir,
            name,
        })
    }
}

/// What `init` did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    Created(PathBuf),
    Kept(PathBuf),
}

pub fn execute(options: &InitCommand) -> Result<Outcome, Error> {
    let outcomes = scaffold(options)?;
    for outcome in &outcomes {
        match outcome {
            FileOutcome::Created(path) => println!("  created  {}", path.display()),
            FileOutcome::Kept(path) => println!("  kept     {} (exists)", path.display()),
        }
    }
    let plan = Path::new("plans").join(format!("{}.toml", options.name));
    println!();
    println!("Next steps:");
    println!(
        "  1. Edit {} (docs/plan-reference.md lists every field).",
        plan.display()
    );
    println!("  2. vaultwire validate {}", plan.display());
    println!(
        "  3. Set the CI variables named at the top of the pipeline files, then open a pull request."
    );
    Ok(Outcome::Success)
}

/// Writes every template that does not exist yet under `options.dir`.
pub fn scaffold(options: &InitCommand) -> Result<Vec<FileOutcome>, Error> {
    let mut outcomes = Vec::new();
    for template in TEMPLATES {
        let relative = PathBuf::from(template.path.replace("{{plan}}", &options.name));
        let path = options.dir.join(&relative);
        if path.exists() {
            outcomes.push(FileOutcome::Kept(relative));
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        let text = template.text.replace("{{plan}}", &options.name);
        // `create_new` so a file that appears meanwhile is still never overwritten.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| std::io::Write::write_all(&mut file, text.as_bytes()));
        match written {
            Ok(()) => outcomes.push(FileOutcome::Created(relative)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                outcomes.push(FileOutcome::Kept(relative));
            }
            Err(source) => return Err(Error::Write { path, source }),
        }
    }
    Ok(outcomes)
}

fn is_valid_plan_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The directory's own name, made safe for file and resource names; `main` when there is none.
fn default_name(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let raw = absolute
        .components()
        .filter_map(|part| match part {
            std::path::Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .next_back()
        .unwrap_or_default();
    let mut name: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').chars().take(12).collect();
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() {
        "main".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_name_comes_from_the_directory() {
        assert_eq!(
            default_name(Path::new("/tmp/Payments Team")),
            "payments-tea"
        );
        assert_eq!(default_name(Path::new("/srv/infra")), "infra");
        assert_eq!(default_name(Path::new("/")), "main");
    }

    #[test]
    fn scaffolds_every_file_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
        let options = InitCommand {
            dir: dir.path().to_owned(),
            name: "payments".into(),
        };
        let first = scaffold(&options).unwrap();
        assert_eq!(
            first,
            [
                FileOutcome::Created("plans/payments.toml".into()),
                FileOutcome::Created("state/.gitkeep".into()),
                FileOutcome::Created(".github/workflows/vaultwire-payments.yml".into()),
                FileOutcome::Created(".azure-pipelines/vaultwire-payments.yml".into()),
                FileOutcome::Kept(".gitignore".into()),
            ]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            "target/\n"
        );
        let plan = std::fs::read_to_string(dir.path().join("plans/payments.toml")).unwrap();
        assert!(plan.contains("name = \"kv-payments-app\""));
        assert!(!plan.contains("{{plan}}"));

        std::fs::write(dir.path().join("plans/payments.toml"), "edited").unwrap();
        let second = scaffold(&options).unwrap();
        assert!(second.iter().all(|o| matches!(o, FileOutcome::Kept(_))));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("plans/payments.toml")).unwrap(),
            "edited"
        );
    }
}
