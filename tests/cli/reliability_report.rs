//! What the reliability scenarios share besides the runner: their settings from the
//! environment, a seeded generator, the canary, and the report row each scenario prints,
//! writes to `VAULTWIRE_RELIABILITY_REPORT` and asserts.

use std::path::Path;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

/// The seed when `VAULTWIRE_RELIABILITY_SEED` is not set.
const DEFAULT_SEED: u64 = 19_007;

/// `VAULTWIRE_RELIABILITY_<name>`, else `default`. A value that does not parse stops the test:
/// silently running the defaults would report figures for a run nobody asked for.
#[track_caller]
pub fn knob<T: FromStr>(name: &str, default: T) -> T {
    let variable = format!("VAULTWIRE_RELIABILITY_{name}");
    match std::env::var(&variable) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{variable}={text:?} does not parse")),
        Err(_) => default,
    }
}

/// The campaign seed: every random choice of a scenario and of its sandbox's faults derives
/// from it, so `VAULTWIRE_RELIABILITY_SEED=<seed>` replays a failing run's choices.
pub fn seed() -> u64 {
    knob("SEED", DEFAULT_SEED)
}

/// A seeded xorshift64* generator: enough for kill points and canaries, and reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that nearby seeds start far apart and 0 is no fixed point.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`0` when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// A unique secret value, and the forms in which it would betray itself in output: as is, and
/// base64-encoded (standard and URL-safe alphabets) at each of the three alignments it can have
/// inside a longer encoded text — a Kubernetes Secret's `data`, or a whole document encoded.
pub struct Canary {
    value: String,
    forms: Vec<String>,
}

impl Canary {
    pub fn new(rng: &mut Rng) -> Self {
        let value = format!("vwcanary{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        let mut forms = vec![value.clone()];
        for offset in 0..3 {
            let mut bytes = vec![0; offset];
            bytes.extend_from_slice(value.as_bytes());
            // Only whole groups of three bytes that are all the canary's encode the same way
            // whatever surrounds them.
            let start = if offset == 0 { 0 } else { 4 };
            let end = bytes.len() / 3 * 4;
            for engine in [STANDARD, URL_SAFE] {
                let core = engine.encode(&bytes)[start..end].to_owned();
                if !forms.contains(&core) {
                    forms.push(core);
                }
            }
        }
        Self { value, forms }
    }

    /// The value itself, to plant; never print it.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The value base64-encoded, as a Kubernetes Secret's `data` holds it.
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.value)
    }

    /// How many times the canary, in any of its forms, occurs in `text`.
    pub fn count_in(&self, text: &str) -> u64 {
        self.forms
            .iter()
            .map(|form| text.matches(form.as_str()).count() as u64)
            .sum()
    }

    /// `text` with every form of the canary replaced, fit to print.
    pub fn redact(&self, text: &str) -> String {
        self.forms
            .iter()
            .fold(text.to_owned(), |text, form| text.replace(form, "<canary>"))
    }
}

/// One scenario's figures: the row of docs/reliability.md.
#[derive(Debug, Default, serde::Serialize)]
pub struct Row {
    /// File-name friendly, such as `fault-soak-20`.
    pub scenario: String,
    /// What the row says in the report, such as "fault soak, 20% of requests faulted".
    pub title: String,
    pub seed: u64,
    pub trials: u64,
    pub converged: u64,
    /// Live resources vaultwire manages that the state did not record after a converging
    /// run; after a destroy, anything left.
    pub orphans: u64,
    /// Role assignments beyond the first with the same scope, principal and role.
    pub duplicate_grants: u64,
    /// State or backup files that did not parse as a state, or serials that went backwards.
    pub corrupt_states: u64,
    /// Panic text in a run's stderr, or a run (or the sandbox) ended by a signal not ours.
    pub panics: u64,
    /// Occurrences of the canary in any output, log, state, backup, saved change set or report.
    pub leaks: u64,
    /// `vaultwire` runs, and how many of them were a pipeline's retry after a clean failure.
    pub runs: u64,
    pub retries: u64,
    pub wall_seconds: u64,
    /// The settings the figures depend on (trial counts, fault rates, ...).
    pub settings: String,
    /// What went wrong, one line each, redacted.
    pub problems: Vec<String>,
    /// Why each retry was needed: the failed run's error, one line each.
    pub retried_after: Vec<String>,
}

impl Row {
    pub fn is_bad(&self) -> bool {
        self.converged < self.trials
            || self.orphans + self.duplicate_grants + self.corrupt_states + self.panics + self.leaks
                > 0
    }

    /// The Markdown table row of docs/reliability.md (`tests/reliability/run.sh` writes the
    /// header).
    pub fn markdown(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} s | {} runs, {} retries | {} | {} |",
            self.title,
            self.trials,
            self.converged,
            self.orphans,
            self.duplicate_grants,
            self.corrupt_states,
            self.panics,
            self.leaks,
            self.wall_seconds,
            self.runs,
            self.retries,
            self.seed,
            if self.is_bad() { "**FAIL**" } else { "ok" },
        )
    }

    /// Prints the row, writes it to `VAULTWIRE_RELIABILITY_REPORT` when that is set (as
    /// `<scenario>.json`, the table row `<scenario>.md` and its settings and problems
    /// `<scenario>.notes.md`), and fails the test on any bad count.
    #[track_caller]
    pub fn report(self) {
        let summary = format!(
            "reliability {}: trials {}, converged {}, orphans {}, duplicate grants {}, corrupt states {}, panics {}, leaks {} ({} s, {} runs, {} retries; {}; seed {}: VAULTWIRE_RELIABILITY_SEED={} reproduces it)",
            self.scenario,
            self.trials,
            self.converged,
            self.orphans,
            self.duplicate_grants,
            self.corrupt_states,
            self.panics,
            self.leaks,
            self.wall_seconds,
            self.runs,
            self.retries,
            self.settings,
            self.seed,
            self.seed,
        );
        println!("{summary}");
        for problem in &self.problems {
            println!("  {problem}");
        }
        for cause in &self.retried_after {
            println!("  retried after: {cause}");
        }
        if let Ok(dir) = std::env::var("VAULTWIRE_RELIABILITY_REPORT") {
            self.write(Path::new(&dir));
        }
        assert!(
            !self.is_bad(),
            "{summary}\n  {}",
            self.problems.join("\n  ")
        );
    }

    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).expect("create the report directory");
        let json = serde_json::to_string_pretty(self).expect("a row is JSON");
        std::fs::write(dir.join(format!("{}.json", self.scenario)), json + "\n")
            .expect("write the report row");
        std::fs::write(
            dir.join(format!("{}.md", self.scenario)),
            self.markdown() + "\n",
        )
        .expect("write the report row");
        let mut notes = format!("- **{}**: {}.\n", self.title, self.settings);
        for problem in &self.problems {
            notes.push_str(&format!("  - {problem}\n"));
        }
        for cause in &self.retried_after {
            notes.push_str(&format!("  - retried after: {cause}\n"));
        }
        std::fs::write(dir.join(format!("{}.notes.md", self.scenario)), notes)
            .expect("write the report notes");
    }
}

#[test]
fn the_canary_is_found_raw_and_base64_encoded_at_any_alignment_and_redacted() {
    let canary = Canary::new(&mut Rng::new(7));
    for prefix in ["", "a", "ab", "abc"] {
        let encoded = STANDARD.encode(format!("{prefix}{}\"}}", canary.value()));
        assert_eq!(canary.count_in(&encoded), 1, "{prefix:?}: {encoded}");
    }
    let text = format!("password: {} / {}", canary.value(), canary.base64());
    assert_eq!(canary.count_in(&text), 2);
    // The encoding's last group mixes the canary with padding: not a form of its own.
    assert_eq!(
        canary.redact(&text),
        format!("password: <canary> / <canary>{}", &canary.base64()[52..])
    );
    assert_eq!(canary.count_in("vwcanary"), 0);
}

#[test]
fn the_generator_is_reproducible_from_its_seed() {
    let draw = |seed| {
        let mut rng = Rng::new(seed);
        [rng.below(100), rng.below(100), rng.below(100)]
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    assert_eq!(Rng::new(0).below(0), 0);
}
