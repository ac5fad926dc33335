//! No input makes checking a plan panic: arbitrary bytes, TOML-shaped noise, and the shipped
//! plans mutated line by line. Checking is deterministic, the plan is returned exactly when
//! there is no error, and every diagnostic renders.

use proptest::prelude::*;
use proptest::sample::Index;

use vaultwire::plan::diagnostic::{RenderStyle, render};
use vaultwire::plan::{self, PlanSource};

const VALID_PLANS: [&str; 4] = [
    include_str!("../../plans/example.toml"),
    include_str!("../../plans/production.example.toml"),
    include_str!("../../plans/workload-identity.toml"),
    include_str!("../../templates/plan.toml"),
];

/// Values a mutation may put on the right of an `=`.
const VALUES: [&str; 17] = [
    "\"\"",
    "\"x\"",
    "0",
    "-1",
    "99999999999999999999",
    "true",
    "1.5",
    "[]",
    "{}",
    "[1, \"a\"]",
    "{ addon = \"demo\" }",
    "{ identity = \"payments\" }",
    "\"vault.payments\"",
    "\"spc.payments-db\"",
    "[\"vault.payments\", \"spc.shop-api\"]",
    "1979-05-27T07:32:00Z",
    "\"\u{1F600}\u{0}\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    Truncate(Index),
    FlipChar(Index, char),
    ChangeValue(Index, Index),
    InsertLine(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<char>()).prop_map(|(i, c)| Mutation::FlipChar(i, c)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, v)| Mutation::ChangeValue(i, v)),
        (any::<Index>(), "[a-z_\\[\\]\\.\"= {},0-9-]{0,40}")
            .prop_map(|(i, line)| Mutation::InsertLine(i, line)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        return text.to_owned();
    }
    let len = lines.len();
    match mutation {
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(len));
        }
        Mutation::DuplicateLine(i) => {
            let line = lines[i.index(len)].clone();
            lines.insert(i.index(len), line);
        }
        Mutation::SwapLines(a, b) => lines.swap(a.index(len), b.index(len)),
        Mutation::Truncate(i) => {
            let chars: Vec<char> = text.chars().collect();
            return chars[..i.index(chars.len() + 1)].iter().collect();
        }
        Mutation::FlipChar(i, c) => {
            let mut chars: Vec<char> = text.chars().collect();
            let at = i.index(chars.len());
            chars[at] = *c;
            return chars.into_iter().collect();
        }
        Mutation::ChangeValue(i, v) => {
            let line = &mut lines[i.index(len)];
            if let Some((key, _)) = line.split_once('=') {
                *line = format!("{key}= {}", VALUES[v.index(VALUES.len())]);
            }
        }
        Mutation::InsertLine(i, new) => lines.insert(i.index(len), new.clone()),
    }
    lines.join("\n")
}

/// The properties every input must keep.
fn check_properties(text: String) -> Result<(), TestCaseError> {
    let source = PlanSource {
        name: "fuzz.toml".to_owned(),
        text,
    };
    let checked = plan::check(&source);
    prop_assert_eq!(&checked, &plan::check(&source), "checking is deterministic");
    prop_assert_eq!(checked.plan.is_some(), checked.error_count() == 0);
    let starts: Vec<usize> = checked
        .diagnostics
        .iter()
        .map(|d| d.span.as_ref().map_or(0, |span| span.start))
        .collect();
    prop_assert!(starts.windows(2).all(|w| w[0] <= w[1]), "sorted by span");
    for diagnostic in &checked.diagnostics {
        if let Some(span) = &diagnostic.span {
            prop_assert!(span.start <= span.end && span.end <= source.text.len());
            prop_assert!(source.text.is_char_boundary(span.start));
            prop_assert!(source.text.is_char_boundary(span.end));
        }
    }
    let _ = render(
        &source.name,
        &source.text,
        &checked.diagnostics,
        RenderStyle::default(),
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_properties(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn toml_shaped_noise_never_panics(
        text in "(\\[(vault|addon|grant|spc|target|audit)(\\.[a-z]{1,3})?\\]\n|(name|vault|addon|namespace|cloud|role|objects|sync|identity|principal|depends_on|version|[a-z_]{1,8}) = (\"[a-z.-]{0,8}\"|[0-9]{1,3}|true|\\[\\]|\\[\"[a-z.-]{1,8}\"\\]|\\{ ?[a-z_]{1,6} = \"[a-z-]{0,6}\" ?\\})\n){0,24}"
    ) {
        check_properties(text)?;
    }

    #[test]
    fn mutated_valid_plans_never_panic(
        plan in 0usize..VALID_PLANS.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut text = VALID_PLANS[plan].replace("{{plan}}", "fuzz");
        for mutation in &mutations {
            text = apply(&text, mutation);
        }
        check_properties(text)?;
    }
}
