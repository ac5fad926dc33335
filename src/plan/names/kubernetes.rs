//! Kubernetes naming rules: namespaces (DNS-1123 labels), object names (DNS-1123 subdomains),
//! label and annotation keys and values, Secret data keys and types, and the Secrets Store CSI
//! driver's file rules (permissions and file names).
//!
//! The rules are the API server's (`k8s.io/apimachinery/pkg/util/validation`) and the driver's;
//! a value that passes here is one the server and the driver accept.

use crate::plan::names::rule::{Invalid, Rule, describe_char, first_disallowed, length_outside};

pub const NAMESPACE: Rule = Rule {
    what: "Kubernetes namespace name",
    check: namespace,
};
pub const SPC_NAME: Rule = Rule {
    what: "SecretProviderClass name",
    check: object_name,
};
pub const SERVICE_ACCOUNT_NAME: Rule = Rule {
    what: "ServiceAccount name",
    check: object_name,
};
pub const SECRET_NAME: Rule = Rule {
    what: "Secret name",
    check: object_name,
};
pub const LABEL_KEY: Rule = Rule {
    what: "label key",
    check: qualified_name,
};
pub const LABEL_VALUE: Rule = Rule {
    what: "label value",
    check: label_value,
};
pub const ANNOTATION_KEY: Rule = Rule {
    what: "annotation key",
    check: qualified_name,
};
pub const ANNOTATION_VALUE: Rule = Rule {
    what: "annotation value",
    check: annotation_value,
};
pub const SECRET_DATA_KEY: Rule = Rule {
    what: "Secret data key",
    check: secret_data_key,
};
pub const SECRET_TYPE: Rule = Rule {
    what: "synced Secret type",
    check: secret_type,
};
pub const FILE_PERMISSION: Rule = Rule {
    what: "file permission",
    check: file_permission,
};
pub const FILE_NAME: Rule = Rule {
    what: "file name",
    check: file_name,
};

/// The Secret types the Secrets Store CSI driver can sync (its documentation's list).
pub const SYNCED_SECRET_TYPES: [&str; 8] = [
    "Opaque",
    "kubernetes.io/basic-auth",
    "bootstrap.kubernetes.io/token",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/dockercfg",
    "kubernetes.io/ssh-auth",
    "kubernetes.io/service-account-token",
    "kubernetes.io/tls",
];

/// A DNS-1123 label of at most 63 characters: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
pub fn namespace(name: &str) -> Result<(), Invalid> {
    dns_label(name).map_err(|reason| {
        Invalid::new(
            reason,
            with_suggestion(
                "namespace names are DNS-1123 labels: at most 63 lowercase letters, digits and \
                 `-`, starting and ending with a letter or digit",
                name,
            ),
        )
    })
}

/// A DNS-1123 subdomain of at most 253 characters: dot-separated DNS-1123 labels.
pub fn object_name(name: &str) -> Result<(), Invalid> {
    dns_subdomain(name).map_err(|reason| {
        Invalid::new(
            reason,
            with_suggestion(
                "Kubernetes object names are DNS-1123 subdomains: at most 253 lowercase letters, \
                 digits, `-` and `.`, starting and ending with a letter or digit",
                name,
            ),
        )
    })
}

/// Label and annotation keys: an optional DNS subdomain prefix and `/`, then a name of at most
/// 63 characters of `[-A-Za-z0-9_.]` that starts and ends with a letter or digit.
pub fn qualified_name(key: &str) -> Result<(), Invalid> {
    const HINT: &str = "keys are an optional DNS subdomain prefix and `/`, then at most 63 \
                        letters, digits, `-`, `_` and `.` starting and ending with a letter or \
                        digit, such as `app.kubernetes.io/name`";
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let reason = prefix
        .and_then(|prefix| dns_subdomain(prefix).err().map(|r| format!("prefix {r}")))
        .or_else(|| label_name(name).err());
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

/// Label values: empty, or at most 63 characters of `[-A-Za-z0-9_.]` that start and end with a
/// letter or digit.
pub fn label_value(value: &str) -> Result<(), Invalid> {
    if value.is_empty() {
        return Ok(());
    }
    label_name(value).map_err(|reason| {
        Invalid::new(
            reason,
            "label values are empty or at most 63 letters, digits, `-`, `_` and `.`, starting \
             and ending with a letter or digit",
        )
    })
}

/// Annotation values are free text; only the total size of an object's annotations (256 KiB)
/// is limited, which a plan file does not approach.
pub fn annotation_value(_value: &str) -> Result<(), Invalid> {
    Ok(())
}

/// Secret (and ConfigMap) data keys: `[-._a-zA-Z0-9]+`, at most 253, not `.` or `..`.
pub fn secret_data_key(key: &str) -> Result<(), Invalid> {
    const HINT: &str = "Secret data keys are at most 253 letters, digits, `-`, `_` and `.`";
    let reason = first_disallowed(key, |c| c.is_ascii_alphanumeric() || "-._".contains(c))
        .or_else(|| length_outside(key, 1, 253))
        .or_else(|| (key == "." || key == "..").then(|| format!("is `{key}`")));
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

/// One of [`SYNCED_SECRET_TYPES`], spelled exactly.
pub fn secret_type(text: &str) -> Result<(), Invalid> {
    if SYNCED_SECRET_TYPES.contains(&text) {
        return Ok(());
    }
    let hint =
        crate::plan::suggest::did_you_mean_or_list(text, &SYNCED_SECRET_TYPES, "the driver syncs");
    Err(Invalid::new("is not a type the driver can sync", hint))
}

/// Four octal digits, such as `0644` or `0440`.
pub fn file_permission(text: &str) -> Result<(), Invalid> {
    if text.len() == 4 && text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Ok(());
    }
    Err(Invalid::new(
        "is not four octal digits",
        "write the mode as a string of four octal digits, such as `\"0440\"`",
    ))
}

/// The driver's `validateFileName`: non-empty, relative, no `..` element.
pub fn file_name(name: &str) -> Result<(), Invalid> {
    const HINT: &str = "the file name is relative to the volume's mount path and cannot leave it";
    let reason = if name.is_empty() {
        Some("is empty".to_owned())
    } else if name.starts_with('/') {
        Some("is an absolute path".to_owned())
    } else if name.split('/').any(|part| part == "..") {
        Some("contains a `..` element".to_owned())
    } else {
        name.chars()
            .find(|c| c.is_control())
            .map(|c| format!("contains {}", describe_char(c)))
    };
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

fn dns_label(name: &str) -> Result<(), String> {
    if let Some(c) = name.chars().find(char::is_ascii_uppercase) {
        return Err(format!("contains uppercase `{c}`"));
    }
    let reason = first_disallowed(name, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
    })
    .or_else(|| length_outside(name, 1, 63))
    .or_else(|| name.starts_with('-').then(|| "starts with `-`".to_owned()))
    .or_else(|| name.ends_with('-').then(|| "ends with `-`".to_owned()));
    reason.map_or(Ok(()), Err)
}

fn dns_subdomain(name: &str) -> Result<(), String> {
    if let Some(c) = name.chars().find(char::is_ascii_uppercase) {
        return Err(format!("contains uppercase `{c}`"));
    }
    let reason = first_disallowed(name, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
    })
    .or_else(|| length_outside(name, 1, 253))
    .or_else(|| {
        let edge = |c: char| c == '-' || c == '.';
        name.starts_with(edge)
            .then(|| "starts with `-` or `.`".to_owned())
            .or_else(|| {
                name.ends_with(edge)
                    .then(|| "ends with `-` or `.`".to_owned())
            })
    })
    .or_else(|| {
        name.split('.')
            .any(|part| part.is_empty() || part.starts_with('-') || part.ends_with('-'))
            .then(|| "has a `.`-separated part that is empty or starts or ends with `-`".to_owned())
    });
    reason.map_or(Ok(()), Err)
}

fn label_name(name: &str) -> Result<(), String> {
    let reason = first_disallowed(name, |c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        .or_else(|| length_outside(name, 1, 63))
        .or_else(|| {
            let edge = |c: char| !c.is_ascii_alphanumeric();
            (name.starts_with(edge) || name.ends_with(edge))
                .then(|| "does not start and end with a letter or digit".to_owned())
        });
    reason.map_or(Ok(()), Err)
}

/// Adds "such as `x`" when lower-casing and replacing `_` and spaces gives a valid name.
fn with_suggestion(rule: &str, name: &str) -> String {
    let fixed: String = name
        .trim()
        .chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    if fixed != name && dns_subdomain(&fixed).is_ok() && fixed.len() <= 63 {
        format!("{rule}, such as `{fixed}`")
    } else {
        rule.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::names::rule::assert_rule;

    #[test]
    fn namespaces_are_dns_labels() {
        assert_rule(
            &NAMESPACE,
            &["payments", "a", "team-1", &"n".repeat(63)],
            &[
                ("Payments", "contains uppercase `P`"),
                ("pay_ments", "contains `_`"),
                ("pay.ments", "contains `.`"),
                ("-pay", "starts with `-`"),
                ("pay-", "ends with `-`"),
                ("", "is empty"),
                (&"n".repeat(64), "is 64 characters long (at most 63)"),
            ],
        );
        assert!(
            NAMESPACE
                .check("Pay_Ments")
                .unwrap_err()
                .hint
                .ends_with("such as `pay-ments`")
        );
    }

    #[test]
    fn object_names_are_dns_subdomains() {
        assert_rule(
            &SPC_NAME,
            &["payments-db", "a.b.c", &"s".repeat(253)],
            &[
                ("Payments", "contains uppercase `P`"),
                (
                    "a..b",
                    "has a `.`-separated part that is empty or starts or ends with `-`",
                ),
                (
                    "a.-b",
                    "has a `.`-separated part that is empty or starts or ends with `-`",
                ),
                (".a", "starts with `-` or `.`"),
                ("a-", "ends with `-` or `.`"),
                ("a_b", "contains `_`"),
                (&"s".repeat(254), "is 254 characters long (at most 253)"),
            ],
        );
    }

    #[test]
    fn label_and_annotation_keys_are_qualified_names() {
        assert_rule(
            &LABEL_KEY,
            &["app", "app.kubernetes.io/name", "a_b.c-D"],
            &[
                ("", "is empty"),
                ("Example.com/app", "prefix contains uppercase `E`"),
                ("example.com/", "is empty"),
                ("-app", "does not start and end with a letter or digit"),
                ("a b", "contains a space"),
                (&"k".repeat(64), "is 64 characters long (at most 63)"),
            ],
        );
        assert_rule(
            &ANNOTATION_KEY,
            &["example.com/owner"],
            &[("a/b/c", "contains `/`")],
        );
    }

    #[test]
    fn label_values() {
        assert_rule(
            &LABEL_VALUE,
            &["", "v1", "a.b_c-d"],
            &[
                ("a b", "contains a space"),
                ("-v", "does not start and end with a letter or digit"),
            ],
        );
    }

    #[test]
    fn secret_data_keys() {
        assert_rule(
            &SECRET_DATA_KEY,
            &["password", "tls.crt", ".env", "a_b-c"],
            &[
                ("", "is empty"),
                (".", "is `.`"),
                ("..", "is `..`"),
                ("a/b", "contains `/`"),
            ],
        );
    }

    #[test]
    fn secret_types() {
        assert_rule(
            &SECRET_TYPE,
            &["Opaque", "kubernetes.io/tls"],
            &[
                ("opaque", "is not a type the driver can sync"),
                ("kubernetes.io/x", "is not a type the driver can sync"),
            ],
        );
        assert_eq!(
            SECRET_TYPE.check("opaque").unwrap_err().hint,
            "did you mean `Opaque`?"
        );
    }

    #[test]
    fn file_permissions_and_names() {
        assert_rule(
            &FILE_PERMISSION,
            &["0644", "0400", "0777"],
            &[
                ("644", "is not four octal digits"),
                ("0648", "is not four octal digits"),
            ],
        );
        assert_rule(
            &FILE_NAME,
            &["db-password", "tls/cert.pem", "a..b"],
            &[
                ("", "is empty"),
                ("/etc/passwd", "is an absolute path"),
                ("../x", "contains a `..` element"),
                ("a\nb", "contains `\\n`"),
            ],
        );
    }
}
