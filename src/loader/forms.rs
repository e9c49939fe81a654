//! Reading the forms serverless-appsync-plugin accepts where they need the
//! file system or the clock: schema globs, and API key lifetimes.

use std::path::Path;

/// Why a `schema` glob names no file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum GlobError {
    #[error("`{pattern}` is not a valid glob: {reason}")]
    Invalid { pattern: String, reason: String },
    #[error("no schema file matches `{0}`")]
    NoMatch(String),
}

/// The files a `schema` entry names: itself, or for a glob (`*`, `?`,
/// `[...]`, `{a,b}`, `**`) the matching files under the project, sorted,
/// as the plugin merges them.
pub(super) fn expand_glob(dir: &Path, pattern: &str) -> Result<Vec<String>, GlobError> {
    if !pattern.contains(['*', '?', '[', '{']) {
        return Ok(vec![pattern.to_owned()]);
    }
    let matcher = globset::GlobBuilder::new(pattern.trim_start_matches("./"))
        .literal_separator(true)
        .build()
        .map_err(|e| GlobError::Invalid {
            pattern: pattern.to_owned(),
            reason: e.to_string(),
        })?
        .compile_matcher();
    // Walk only below the pattern's literal directory.
    let literal: Vec<&str> = pattern
        .trim_start_matches("./")
        .split('/')
        .take_while(|part| !part.contains(['*', '?', '[', '{']))
        .collect();
    let mut found = Vec::new();
    let mut pending = vec![literal.join("/")];
    while let Some(relative) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&relative)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "node_modules" {
                continue;
            }
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else if matcher.is_match(&path) {
                found.push(path);
            }
        }
    }
    if found.is_empty() {
        return Err(GlobError::NoMatch(pattern.to_owned()));
    }
    found.sort();
    Ok(found)
}

/// When an API key with `expiresAfter` expires, as serverless-appsync-plugin
/// counts it: a number is hours; a string is a number with an optional unit
/// (`y` 365 days, `q` quarters and `M` months in the calendar, `w`, `d`, `h`
/// or none for hours, `m` minutes, `s`, `ms`), from the start of the
/// current hour; the lifetime must be 1 to 365 days.
pub(super) fn api_key_expiry(after: &str, now: i64) -> Result<i64, ApiKeyLifetimeError> {
    use chrono::{DateTime, Months, Timelike as _};
    let text = after.trim();
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, unit) = text.split_at(digits);
    let n: u32 = number.parse().map_err(|_| ApiKeyLifetimeError::Format)?;
    let start = DateTime::from_timestamp(now, 0)
        .and_then(|t| t.with_minute(0)?.with_second(0))
        .ok_or(ApiKeyLifetimeError::Format)?;
    let seconds = |per: i64| start.timestamp().checked_add(i64::from(n) * per);
    let months = |per: u32| {
        start
            .checked_add_months(Months::new(n.checked_mul(per)?))
            .map(|t| t.timestamp())
    };
    let expires = match unit {
        "y" => seconds(365 * 86_400),
        "q" => months(3),
        "M" => months(1),
        "w" => seconds(7 * 86_400),
        "d" => seconds(86_400),
        "h" | "" => seconds(3_600),
        "m" => seconds(60),
        "s" => seconds(1),
        "ms" => Some(start.timestamp() + i64::from(n) / 1_000),
        _ => None,
    }
    .ok_or(ApiKeyLifetimeError::Format)?;
    let lifetime = expires - start.timestamp();
    if !(86_400..=365 * 86_400).contains(&lifetime) {
        return Err(ApiKeyLifetimeError::Range);
    }
    Ok(expires)
}

/// Why an `expiresAfter` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ApiKeyLifetimeError {
    Format,
    Range,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_globs_expand_to_sorted_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schema/types")).unwrap();
        for file in [
            "schema/b.graphql",
            "schema/a.graphql",
            "schema/types/c.graphql",
            "schema/x.txt",
        ] {
            std::fs::write(dir.path().join(file), "").unwrap();
        }
        assert_eq!(
            expand_glob(dir.path(), "schema/*.graphql").unwrap(),
            ["schema/a.graphql", "schema/b.graphql"]
        );
        assert_eq!(
            expand_glob(dir.path(), "./schema/**/*.graphql").unwrap(),
            [
                "schema/a.graphql",
                "schema/b.graphql",
                "schema/types/c.graphql"
            ]
        );
        assert_eq!(
            expand_glob(dir.path(), "plain.graphql").unwrap(),
            ["plain.graphql"]
        );
        assert_eq!(
            expand_glob(dir.path(), "none/*.graphql")
                .unwrap_err()
                .to_string(),
            "no schema file matches `none/*.graphql`"
        );
    }

    #[test]
    fn api_key_lifetimes_read_as_the_plugin_reads_them() {
        // 2026-03-15T10:20:30Z; lifetimes count from 10:00.
        let now = 1_773_570_030;
        let hour = 1_773_568_800;
        assert_eq!(api_key_expiry("30d", now), Ok(hour + 30 * 86_400));
        assert_eq!(api_key_expiry("48", now), Ok(hour + 48 * 3_600));
        assert_eq!(api_key_expiry("48h", now), Ok(hour + 48 * 3_600));
        assert_eq!(api_key_expiry("2w", now), Ok(hour + 14 * 86_400));
        assert_eq!(api_key_expiry("1y", now), Ok(hour + 365 * 86_400));
        // Months are calendar months: 15 March to 15 April is 31 days.
        assert_eq!(api_key_expiry("1M", now), Ok(hour + 31 * 86_400));
        assert_eq!(
            api_key_expiry("1q", now),
            Ok(hour + (31 + 30 + 31) * 86_400)
        );
        assert_eq!(api_key_expiry("2880m", now), Ok(hour + 2 * 86_400));
        assert_eq!(api_key_expiry("90m", now), Err(ApiKeyLifetimeError::Range));
        assert_eq!(api_key_expiry("2y", now), Err(ApiKeyLifetimeError::Range));
        assert_eq!(api_key_expiry("5x", now), Err(ApiKeyLifetimeError::Format));
        assert_eq!(api_key_expiry("d", now), Err(ApiKeyLifetimeError::Format));
    }
}
