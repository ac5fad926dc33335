//! Go-style durations (`30s`, `2m`, `1h30m`), as the AKS add-on's `rotationPollInterval` takes.
//!
//! The text is kept as written, because it is what vaultwire sends to ARM; the length in
//! seconds is what comparisons use, so `120s` and `2m` are the same interval.

use std::fmt;

/// A parsed Go duration. Only whole seconds are accepted: the add-on polls no faster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoDuration {
    text: String,
    seconds: u64,
}

/// Why a string is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("duration is empty")]
    Empty,
    #[error("`{0}` has no unit: write it like `30s`, `2m` or `1h`")]
    MissingUnit(String),
    #[error("`{unit}` is not a duration unit: use `s`, `m` or `h`")]
    UnknownUnit { unit: String },
    #[error("expected a number before `{0}`")]
    MissingNumber(String),
    #[error("duration is zero")]
    Zero,
    #[error("duration is too long")]
    Overflow,
}

impl GoDuration {
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        if text.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut seconds: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(DurationError::MissingNumber(rest.to_owned()));
            }
            let (number, after) = rest.split_at(digits);
            let unit_len = after.bytes().take_while(|b| !b.is_ascii_digit()).count();
            if unit_len == 0 {
                return Err(DurationError::MissingUnit(text.to_owned()));
            }
            let (unit, after) = after.split_at(unit_len);
            let scale = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => {
                    return Err(DurationError::UnknownUnit {
                        unit: unit.to_owned(),
                    });
                }
            };
            let number: u64 = number.parse().map_err(|_| DurationError::Overflow)?;
            seconds = number
                .checked_mul(scale)
                .and_then(|part| seconds.checked_add(part))
                .ok_or(DurationError::Overflow)?;
            rest = after;
        }
        if seconds == 0 {
            return Err(DurationError::Zero);
        }
        Ok(Self {
            text: text.to_owned(),
            seconds,
        })
    }

    /// The duration as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn seconds(&self) -> u64 {
        self.seconds
    }

    /// Whether two durations are the same length, however they are written.
    pub fn same_length(&self, other: &GoDuration) -> bool {
        self.seconds == other.seconds
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_compound_units() {
        for (text, seconds) in [("30s", 30), ("2m", 120), ("1h", 3600), ("1h30m15s", 5415)] {
            let duration = GoDuration::parse(text).unwrap();
            assert_eq!(duration.seconds(), seconds, "{text}");
            assert_eq!(duration.as_str(), text);
        }
        assert!(
            GoDuration::parse("120s")
                .unwrap()
                .same_length(&GoDuration::parse("2m").unwrap())
        );
    }

    #[test]
    fn rejects_what_go_or_the_add_on_would() {
        assert_eq!(GoDuration::parse(""), Err(DurationError::Empty));
        assert_eq!(
            GoDuration::parse("120"),
            Err(DurationError::MissingUnit("120".into()))
        );
        assert_eq!(
            GoDuration::parse("2d"),
            Err(DurationError::UnknownUnit { unit: "d".into() })
        );
        assert_eq!(
            GoDuration::parse("m"),
            Err(DurationError::MissingNumber("m".into()))
        );
        assert_eq!(GoDuration::parse("0s"), Err(DurationError::Zero));
        assert_eq!(
            GoDuration::parse("99999999999999999999h"),
            Err(DurationError::Overflow)
        );
    }
}
