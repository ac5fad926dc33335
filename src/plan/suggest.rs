//! "Did you mean …?": the closest known word to what the user typed, and how lists of words
//! read in a hint.
//!
//! Pure string helpers shared by decoding and validation; they know nothing about plans.

/// The candidate closest to `typed`, if one is close enough to be a likely typo.
///
/// A case-insensitive match wins outright (`AzureUsGovernment` → `AzureUSGovernment`); otherwise
/// the smallest edit distance (counting a swap of neighbours as one edit) of the lower-cased words, at most a third of the longer
/// word (and at least 1). Ties go to the earlier candidate, so the answer is deterministic.
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_lower = typed.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let candidate_lower = candidate.to_lowercase();
        if candidate_lower == typed_lower {
            return Some(candidate);
        }
        let distance = strsim::osa_distance(&typed_lower, &candidate_lower);
        let longer = typed_lower
            .chars()
            .count()
            .max(candidate_lower.chars().count());
        let limit = (longer / 3).max(1);
        if distance <= limit && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `` `a` ``, `` `a` or `b` ``, `` `a`, `b` or `c` ``.
pub fn one_of<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = words.into_iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// `` `a` and `b` ``, `` `a`, `b` and `c` ``.
pub fn all_of<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = words.into_iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// "did you mean `x`?" when a candidate is close, else "expected one of …" listing them all.
pub fn did_you_mean_or_list(typed: &str, candidates: &[&str], list_intro: &str) -> String {
    match closest(typed, candidates.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("{list_intro} {}", one_of(candidates.iter().copied())),
    }
}

/// A user-controlled value made safe to quote in a one-line message: control characters
/// escaped and long values shortened, so a pasted certificate cannot flood the terminal.
pub fn shown(value: &str) -> String {
    const MAX: usize = 60;
    let escaped: String = value
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if escaped.chars().count() > MAX {
        let head: String = escaped.chars().take(MAX).collect();
        format!("{head}…")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_case_slips() {
        let keys = ["name", "resource_group", "location", "sku"];
        assert_eq!(closest("nmae", keys), Some("name"));
        assert_eq!(closest("resource-group", keys), Some("resource_group"));
        assert_eq!(closest("LOCATION", keys), Some("location"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(closest("", keys), None);
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(closest("ab", ["aa", "bb"]), Some("aa"));
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(one_of([]), "");
        assert_eq!(one_of(["a"]), "`a`");
        assert_eq!(one_of(["a", "b"]), "`a` or `b`");
        assert_eq!(one_of(["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(all_of(["a", "b", "c"]), "`a`, `b` and `c`");
    }

    #[test]
    fn shown_escapes_and_shortens() {
        assert_eq!(shown("a\nb"), "a\\nb");
        let long = "x".repeat(100);
        assert_eq!(shown(&long).chars().count(), 61);
    }
}
