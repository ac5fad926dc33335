//! `vaultwire output PLAN [NAME]`: the values applications need after apply, from the state
//! alone (no sign-in, no lock), as `terraform output` gives them: every output as
//! `name = "value"`, one output's bare value for a script, or JSON for the next pipeline step.

use std::path::PathBuf;

use crate::cli::args::{OutputArgs, OutputFormat};
use crate::cli::commands::common::load_plan;
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::engine::outputs::outputs;

/// Validated settings of `output`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputCommand {
    pub plan: PathBuf,
    pub name: Option<String>,
    pub format: OutputFormat,
}

impl OutputCommand {
    pub fn from_args(args: OutputArgs) -> Self {
        Self {
            plan: args.plan,
            name: args.name,
            format: args.format,
        }
    }
}

pub fn execute(command: &OutputCommand, output: Output) -> Result<Outcome, Error> {
    let loaded = load_plan(&command.plan, output)?;
    let path = loaded.state_path();
    let state = loaded
        .load_state()?
        .ok_or_else(|| Error::NoState { path: path.clone() })?;
    let values = outputs(&loaded.plan, &state);
    print!(
        "{}",
        render(&values, command.name.as_deref(), command.format).map_err(|name| {
            Error::UnknownOutput {
                name,
                path,
                known: values.keys().cloned().collect(),
            }
        },)?
    );
    Ok(Outcome::Success)
}

/// The text `output` prints; `Err(name)` when `name` is not among `values`.
pub fn render(
    values: &std::collections::BTreeMap<String, String>,
    name: Option<&str>,
    format: OutputFormat,
) -> Result<String, String> {
    match (name, format) {
        (Some(name), format) => {
            let value = values.get(name).ok_or_else(|| name.to_owned())?;
            Ok(match format {
                OutputFormat::Text => format!("{value}\n"),
                OutputFormat::Json => format!("{}\n", serde_json::Value::String(value.clone())),
            })
        }
        (None, OutputFormat::Text) => {
            let width = values.keys().map(String::len).max().unwrap_or(0);
            Ok(values
                .iter()
                .map(|(name, value)| {
                    format!(
                        "{name:<width$} = {}\n",
                        serde_json::Value::String(value.clone())
                    )
                })
                .collect())
        }
        (None, OutputFormat::Json) => Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(values).unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn values() -> BTreeMap<String, String> {
        [("identity.payments.client_id", "c"), ("tenant_id", "t")]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    #[test]
    fn every_output_aligned_one_bare_or_json() {
        assert_eq!(
            render(&values(), None, OutputFormat::Text).unwrap(),
            "identity.payments.client_id = \"c\"\ntenant_id                   = \"t\"\n"
        );
        assert_eq!(
            render(&values(), Some("tenant_id"), OutputFormat::Text).unwrap(),
            "t\n"
        );
        assert_eq!(
            render(&values(), Some("tenant_id"), OutputFormat::Json).unwrap(),
            "\"t\"\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&values(), None, OutputFormat::Json).unwrap()).unwrap();
        assert_eq!(json["identity.payments.client_id"], "c");
        assert_eq!(
            render(&values(), Some("tenant"), OutputFormat::Text),
            Err("tenant".to_owned())
        );
    }
}
