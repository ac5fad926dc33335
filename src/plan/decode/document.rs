//! The whole plan file: TOML syntax, `version`, and the top-level tables, each handed to its
//! decoder.
//!
//! When the file is not valid TOML only the syntax errors are reported: the recovered tree
//! can miss values that are really there, and checking it would report problems the user
//! does not have.

use std::collections::{BTreeMap, BTreeSet};

use toml::de::{DeTable, DeValue};

use crate::plan::address::{Address, ResourceKind, is_valid_key};
use crate::plan::decode::reader::{Completeness, Field, Sink, Table};
use crate::plan::decode::{addon, grant, identity, spc, target, vault};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{AuditSettings, Plan, Span, Spanned, Target};
use crate::plan::names::kubernetes::NAMESPACE;
use crate::plan::suggest::shown;

/// The plan file as decoded, with holes left by problems already reported.
pub struct Decoded {
    /// Resources that decoded completely; `target` is a placeholder when it did not.
    pub plan: Plan,
    /// The address of every resource table in the file, decoded or not, so references to a
    /// table with its own problems are not also reported as dangling.
    pub defined: BTreeSet<Address>,
    /// Resources in `plan` with an optional field that could not be read and took its
    /// default; checks of such fields skip them.
    pub partial: BTreeSet<Address>,
}

/// The two address sets of [`Decoded`], filled table by table.
#[derive(Default)]
struct Addresses {
    defined: BTreeSet<Address>,
    partial: BTreeSet<Address>,
}

const ROOT_KEYS: &[&str] = &[
    "version",
    "target",
    "vault",
    "addon",
    "identity",
    "federation",
    "grant",
    "spc",
    "audit",
];
const AUDIT_KEYS: &[&str] = &["exclude_namespaces"];
const SUPPORTED_VERSION: i64 = 1;

/// Decodes `source`, pushing every problem found into `sink`. `None` when the file is not
/// valid TOML.
///
/// `on_target` sees the `[target]` table as soon as it has decoded, before the resources are,
/// when nothing in the file so far had a problem (a caller can start signing in while the
/// rest is decoded and checked; the plan may still turn out invalid).
pub fn decode(source: &str, sink: &mut Sink, on_target: impl FnOnce(&Target)) -> Option<Decoded> {
    let (root, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        report_syntax_errors(source, &errors, sink);
        return None;
    }
    let mut addresses = Addresses::default();
    let mut table = Table::new(root.get_ref(), 0..0, String::new(), ROOT_KEYS, sink);
    let version = version(&mut table);
    let target = if table.has("target") {
        table.optional("target", |field| field.table(target::KEYS, target::decode))
    } else {
        table.push(
            Diagnostic::error("missing-field", "missing the `[target]` table", 0..0)
                .with_label("expected `[target]` in this file")
                .with_help(
                    "add a `[target]` table with `cloud`, `subscription_id` and `tenant_id`",
                ),
        );
        None
    };
    if let Some(target) = &target
        && table.nothing_reported()
    {
        on_target(target);
    }
    let vaults = resources(
        &mut table,
        ResourceKind::Vault,
        &mut addresses,
        vault::decode,
    );
    let addons = resources(
        &mut table,
        ResourceKind::Addon,
        &mut addresses,
        addon::decode,
    );
    let identities = resources(
        &mut table,
        ResourceKind::Identity,
        &mut addresses,
        identity::decode_identity,
    );
    let federations = resources(
        &mut table,
        ResourceKind::Federation,
        &mut addresses,
        identity::decode_federation,
    );
    let grants = resources(
        &mut table,
        ResourceKind::Grant,
        &mut addresses,
        grant::decode,
    );
    let spcs = resources(&mut table, ResourceKind::Spc, &mut addresses, spc::decode);
    let audit = table
        .optional("audit", |field| field.table(AUDIT_KEYS, audit))
        .unwrap_or_default();
    Some(Decoded {
        plan: Plan {
            version: version.map_or(1, |_| 1),
            target: target.unwrap_or_else(target::placeholder),
            vaults,
            addons,
            identities,
            federations,
            grants,
            spcs,
            audit,
        },
        defined: addresses.defined,
        partial: addresses.partial,
    })
}

fn report_syntax_errors(source: &str, errors: &[toml::de::Error], sink: &mut Sink) {
    // A recovering parser reports a cascade after one slip (every token of an unclosed
    // array); the first problem on each line is the one worth reading.
    let mut lines_seen = BTreeSet::new();
    for error in errors {
        let span = error.span().unwrap_or(0..0);
        let line = source
            .get(..span.start.min(source.len()))
            .map_or(0, |before| before.matches('\n').count());
        if !lines_seen.insert(line) {
            continue;
        }
        let mut diagnostic = Diagnostic::error("syntax", error.message().to_owned(), span.clone())
            .with_label("invalid TOML");
        if error.message() == "duplicate key" {
            let key = source.get(span.clone()).unwrap_or_default();
            diagnostic =
                Diagnostic::error("syntax", format!("duplicate key `{}`", shown(key)), span)
                    .with_label("already defined above")
                    .with_help("a key, and a `[table]` header, may appear only once");
        }
        sink.push(diagnostic);
    }
}

fn version(table: &mut Table<'_, '_, '_>) -> Option<i64> {
    if !table.has("version") {
        table.push(
            Diagnostic::error("missing-field", "missing `version`", 0..0)
                .with_label("expected `version = 1` first")
                .with_help("start the file with `version = 1`"),
        );
        return None;
    }
    let field = table.field("version")?;
    let span = field.span();
    let DeValue::Integer(integer) = field.value.get_ref() else {
        let _: Option<()> = field.wrong_type("an integer");
        table.fail();
        return None;
    };
    let version = i64::from_str_radix(integer.as_str(), integer.radix()).ok();
    if version != Some(SUPPORTED_VERSION) {
        table.push(
            Diagnostic::error(
                "unsupported-version",
                format!("unsupported plan file version {integer}"),
                span,
            )
            .with_label(format!("expected {SUPPORTED_VERSION}"))
            .with_help("this vaultwire reads version 1 plan files; write `version = 1`"),
        );
        return None;
    }
    version
}

/// Decodes one `[KIND.KEY]` table, given its key.
type ResourceDecoder<'t, 'i, T> =
    fn(Table<'t, 'i, '_>, &Spanned<String>) -> Option<(T, Completeness)>;

/// The `[KIND.KEY]` tables of one kind, each decoded by `decode`.
fn resources<'t, 'i, T>(
    table: &mut Table<'t, 'i, '_>,
    kind: ResourceKind,
    addresses: &mut Addresses,
    decode: ResourceDecoder<'t, 'i, T>,
) -> BTreeMap<String, T> {
    let mut decoded = BTreeMap::new();
    let Some(field) = table.field(kind.as_str()) else {
        return decoded;
    };
    let DeValue::Table(entries) = field.value.get_ref() else {
        let _: Option<()> = field.wrong_type(&format!("`[{kind}.KEY]` tables"));
        table.fail();
        return decoded;
    };
    let sink = field.sink;
    for (key, value) in entries.iter() {
        let key = Spanned::new(key.get_ref().to_string(), key.span());
        let path = format!("{kind}.{}", shown(&key.value));
        check_key(sink, kind, &key);
        let address = Address::new(kind, key.value.clone());
        addresses.defined.insert(address.clone());
        let DeValue::Table(resource) = value.get_ref() else {
            sink.push(not_a_resource_table(kind, &path, value, key.span.clone()));
            continue;
        };
        let reader = Table::new(resource, value.span(), path, kind_keys(kind), &mut *sink);
        if let Some((resource, completeness)) = decode(reader, &key) {
            if completeness == Completeness::Partial {
                addresses.partial.insert(address);
            }
            decoded.insert(key.value, resource);
        }
    }
    decoded
}

fn kind_keys(kind: ResourceKind) -> &'static [&'static str] {
    match kind {
        ResourceKind::Vault => vault::KEYS,
        ResourceKind::Addon => addon::KEYS,
        ResourceKind::Identity => identity::IDENTITY_KEYS,
        ResourceKind::Federation => identity::FEDERATION_KEYS,
        ResourceKind::Grant => grant::KEYS,
        ResourceKind::Spc => spc::KEYS,
    }
}

fn check_key(sink: &mut Sink, kind: ResourceKind, key: &Spanned<String>) {
    if !is_valid_key(&key.value) {
        sink.push(
            Diagnostic::error(
                "invalid-key",
                format!("`{}` cannot be used as a {kind} key", shown(&key.value)),
                key.span.clone(),
            )
            .with_label("not a valid key")
            .with_help(format!(
                "keys are letters, digits, `_` and `-`, such as `[{kind}.payments]`; the \
                 address `{kind}.KEY` names the resource"
            )),
        );
    }
}

fn not_a_resource_table(
    kind: ResourceKind,
    path: &str,
    value: &toml::Spanned<DeValue<'_>>,
    key_span: Span,
) -> Diagnostic {
    Diagnostic::error(
        "wrong-type",
        format!(
            "expected a table for `{path}`, found {}",
            crate::plan::decode::problems::type_name(value.get_ref())
        ),
        key_span,
    )
    .with_label("expected a table")
    .with_help(format!(
        "resources are tables named `[{kind}.KEY]`, such as `[{kind}.payments]`, with their \
         fields inside"
    ))
}

fn audit(mut table: Table<'_, '_, '_>) -> Option<AuditSettings> {
    let excluded = table.optional("exclude_namespaces", |field: Field<'_, '_, '_>| {
        field.names(&NAMESPACE)
    });
    table.finish()?;
    Some(match excluded {
        Some(namespaces) => AuditSettings {
            exclude_namespaces: namespaces.value.into_iter().map(|ns| ns.value).collect(),
        },
        None => AuditSettings::default(),
    })
}
