//! Durations as kubectl shows them (apimachinery `duration.HumanDuration`): `45s`, `3m20s`,
//! `5h10m`, `6d`, `2y30d`.
//!
//! Formatting only.

use jiff::Timestamp;

/// The Age cell of `timestamp` at `now`; `<unknown>` without a timestamp.
pub(super) fn since(timestamp: Option<&str>, now: Timestamp) -> String {
    let Some(then) = timestamp.and_then(|text| text.parse::<Timestamp>().ok()) else {
        return "<unknown>".to_owned();
    };
    human(now.as_second() - then.as_second())
}

/// The span between two timestamps (a Job's Duration).
pub(super) fn between(start: &str, end: &str) -> Option<String> {
    let start = start.parse::<Timestamp>().ok()?;
    let end = end.parse::<Timestamp>().ok()?;
    Some(human(end.as_second() - start.as_second()))
}

pub(super) fn human(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let rest = seconds % 60;
        return if rest == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{rest}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let rest = minutes % 60;
        return if rest == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{rest}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let rest = hours % 24;
        return if rest == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{rest}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn reads_like_kubectl() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (45, "45s"),
            (119, "119s"),
            (200, "3m20s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 3600, "3d1h"),
            (40 * 86400, "40d"),
            (3 * 365 * 86400 + 86400 * 24, "3y24d"),
        ];
        for (seconds, shown) in cases {
            assert_eq!(human(seconds), shown, "{seconds}s");
        }
    }
}
