//! `[target]`: the cloud, subscription and tenant, the state path, and how vaultwire signs in.

use crate::plan::decode::reader::{Field, Table};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{AuthMethod, Cloud, Spanned, Target};
use crate::plan::names::azure::GUID;
use crate::plan::suggest::{did_you_mean_or_list, shown};

pub(super) const KEYS: &[&str] = &["cloud", "subscription_id", "tenant_id", "state", "auth"];
const AUTH_KEYS: &[&str] = &["method", "client_id", "service_connection_id"];

/// The `auth` methods, as spelled in plan files.
const METHODS: &[&str] = &[
    "auto",
    "workload-identity",
    "azure-pipelines",
    "client-secret",
    "managed-identity",
    "azure-cli",
];

pub(super) fn decode(mut table: Table<'_, '_, '_>) -> Option<Target> {
    let cloud = table.required("cloud", r#"cloud = "AzureCloud""#, |field| field.choice());
    let subscription_id = table.required_guid("subscription_id");
    let tenant_id = table.required_guid("tenant_id");
    let state = table.optional("state", |field| {
        let mut field = field;
        let span = field.span();
        match field.value.get_ref().as_str() {
            Some("") => {
                field.push(
                    Diagnostic::error("invalid-value", "`target.state` is empty", span)
                        .with_label("empty path")
                        .with_help("omit `state` to use `state/<plan>.state.json`"),
                );
                None
            }
            _ => field.string(),
        }
    });
    let auth = table.defaulted("auth", AuthMethod::Auto, auth);
    table.finish()?;
    Some(Target {
        cloud: cloud?,
        subscription_id: subscription_id?,
        tenant_id: tenant_id?,
        state,
        auth,
    })
}

/// Stands in for a `[target]` that did not decode, so the rest of the plan can still be
/// checked; its problems are already reported, so the plan is never used.
pub(super) fn placeholder() -> Target {
    Target {
        cloud: Spanned::new(Cloud::Sandbox, 0..0),
        subscription_id: Spanned::new(String::new(), 0..0),
        tenant_id: Spanned::new(String::new(), 0..0),
        state: None,
        auth: Spanned::new(AuthMethod::Auto, 0..0),
    }
}

/// `auth = "azure-cli"` or `auth = { method = "managed-identity", client_id = "…" }`.
fn auth(field: Field<'_, '_, '_>) -> Option<Spanned<AuthMethod>> {
    let span = field.span();
    if field.value.get_ref().is_table() {
        return field.table(AUTH_KEYS, |mut table| {
            let method = table.required("method", r#"method = "managed-identity""#, method)?;
            let client_id = table.optional("client_id", |field| field.name(&GUID));
            let connection = table.optional("service_connection_id", |field| field.name(&GUID));
            for (key, value, allowed_for) in [
                ("client_id", client_id.as_ref(), "managed-identity"),
                (
                    "service_connection_id",
                    connection.as_ref(),
                    "azure-pipelines",
                ),
            ] {
                if let Some(value) = value
                    && method.value != allowed_for
                {
                    table.push(
                        Diagnostic::error(
                            "invalid-auth",
                            format!("`{key}` does not apply to `method = \"{}\"`", method.value),
                            value.span.clone(),
                        )
                        .with_label(format!("only for `method = \"{allowed_for}\"`"))
                        .with_related(method.span.clone(), "method chosen here")
                        .with_help(format!(
                            "remove `{key}`, or use `method = \"{allowed_for}\"`"
                        )),
                    );
                }
            }
            table.finish()?;
            let value = method_value(&method.value, client_id, connection)?;
            Some(Spanned::new(value, span))
        });
    }
    let method = method(field)?;
    method_value(&method.value, None, None).map(|value| Spanned::new(value, method.span))
}

/// A method name from [`METHODS`].
fn method(mut field: Field<'_, '_, '_>) -> Option<Spanned<String>> {
    let span = field.span();
    let Some(text) = field.value.get_ref().as_str() else {
        return field.wrong_type("a string or a table such as `{ method = \"azure-cli\" }`");
    };
    if METHODS.contains(&text) {
        return Some(Spanned::new(text.to_owned(), span));
    }
    let diagnostic = Diagnostic::error(
        "invalid-value",
        format!(
            "invalid sign-in method `{}` for `{}`",
            shown(text),
            field.path
        ),
        span,
    )
    .with_label("unknown sign-in method")
    .with_help(did_you_mean_or_list(text, METHODS, "expected"));
    field.push(diagnostic);
    None
}

fn method_value(
    method: &str,
    client_id: Option<Spanned<String>>,
    service_connection_id: Option<Spanned<String>>,
) -> Option<AuthMethod> {
    Some(match method {
        "auto" => AuthMethod::Auto,
        "workload-identity" => AuthMethod::WorkloadIdentity,
        "azure-pipelines" => AuthMethod::AzurePipelines {
            service_connection_id: service_connection_id.map(|id| id.value),
        },
        "client-secret" => AuthMethod::ClientSecret,
        "managed-identity" => AuthMethod::ManagedIdentity {
            client_id: client_id.map(|id| id.value),
        },
        "azure-cli" => AuthMethod::AzureCli,
        _ => return None,
    })
}
