//! Date values in queries: the field's formats and date math anchored on `now`.

use serde_json::Value;
use tantivy::DateTime;

use crate::opensearch::mapping::{date_from_json, date_from_millis, date_with_format};

/// Dates in queries also accept date math anchored on `now` (`now-7d/d`).
pub(super) fn parse_date_value(value: &Value, format: Option<&str>) -> Option<DateTime> {
    if let Some(s) = value.as_str()
        && let Some(rest) = s.strip_prefix("now")
    {
        return date_math(chrono::Utc::now(), rest);
    }
    // A custom format still accepts ISO and epoch millis, as OpenSearch's default does.
    date_with_format(value, format).or_else(|| date_from_json(value))
}

fn date_math(now: chrono::DateTime<chrono::Utc>, mut rest: &str) -> Option<DateTime> {
    use chrono::{Datelike, Duration, Months, TimeZone, Timelike};
    let mut t = now;
    while !rest.is_empty() {
        let op = rest.chars().next()?;
        rest = &rest[1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        rest = &rest[digits.len()..];
        let unit = rest.chars().next()?;
        rest = &rest[unit.len_utf8()..];
        if op == '/' {
            t = match unit {
                'y' => chrono::Utc
                    .with_ymd_and_hms(t.year(), 1, 1, 0, 0, 0)
                    .single()?,
                'M' => chrono::Utc
                    .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
                    .single()?,
                'w' => {
                    let d =
                        t.date_naive() - Duration::days(t.weekday().num_days_from_monday() as i64);
                    d.and_hms_opt(0, 0, 0)?.and_utc()
                }
                'd' => t.date_naive().and_hms_opt(0, 0, 0)?.and_utc(),
                'h' | 'H' => t.date_naive().and_hms_opt(t.hour(), 0, 0)?.and_utc(),
                'm' => t
                    .date_naive()
                    .and_hms_opt(t.hour(), t.minute(), 0)?
                    .and_utc(),
                's' => t.with_nanosecond(0)?,
                _ => return None,
            };
            continue;
        }
        let n: i64 = if digits.is_empty() {
            1
        } else {
            digits.parse().ok()?
        };
        let n = if op == '-' {
            -n
        } else if op == '+' {
            n
        } else {
            return None;
        };
        t = match unit {
            // Checked all the way: `now+99999999999y` must fail, not overflow.
            'y' | 'M' => {
                let months = if unit == 'y' { n.checked_mul(12)? } else { n };
                let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
                if months >= 0 {
                    t.checked_add_months(magnitude)?
                } else {
                    t.checked_sub_months(magnitude)?
                }
            }
            'w' => t.checked_add_signed(Duration::try_weeks(n)?)?,
            'd' => t.checked_add_signed(Duration::try_days(n)?)?,
            'h' | 'H' => t.checked_add_signed(Duration::try_hours(n)?)?,
            'm' => t.checked_add_signed(Duration::try_minutes(n)?)?,
            's' => t.checked_add_signed(Duration::try_seconds(n)?)?,
            _ => return None,
        };
    }
    date_from_millis(t.timestamp_millis())
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_math_rounds_and_offsets() {
        use chrono::TimeZone;
        let now = chrono::Utc
            .with_ymd_and_hms(2024, 3, 15, 13, 45, 10)
            .unwrap();
        let ms = |s: &str| date_math(now, s).map(|d| d.into_timestamp_millis());
        let at = |y, m, d, h| {
            chrono::Utc
                .with_ymd_and_hms(y, m, d, h, 0, 0)
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(ms("-1d/d"), Some(at(2024, 3, 14, 0)));
        assert_eq!(ms("/M"), Some(at(2024, 3, 1, 0)));
        assert_eq!(ms("+2h/h"), Some(at(2024, 3, 15, 15)));
        assert_eq!(ms("-1x"), None);
        assert_eq!(ms("+99999999999y"), None);
        assert_eq!(ms("-99999999999999999d"), None);
        assert_eq!(ms("+9999999999999999999s"), None);
    }
}
