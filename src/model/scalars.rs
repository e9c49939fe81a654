//! AppSync's predeclared scalars and their validation rules.

use serde_json::Value as Json;

/// A value that does not fit a scalar; callers word the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid scalar value")]
pub struct InvalidScalar;

/// The built-in GraphQL scalars plus AppSync's `AWS*` scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Int,
    Float,
    String,
    Boolean,
    Id,
    AwsDate,
    AwsTime,
    AwsDateTime,
    AwsTimestamp,
    AwsEmail,
    AwsJson,
    AwsUrl,
    AwsPhone,
    AwsIpAddress,
}

impl ScalarKind {
    pub const AWS: [ScalarKind; 9] = [
        ScalarKind::AwsDate,
        ScalarKind::AwsTime,
        ScalarKind::AwsDateTime,
        ScalarKind::AwsTimestamp,
        ScalarKind::AwsEmail,
        ScalarKind::AwsJson,
        ScalarKind::AwsUrl,
        ScalarKind::AwsPhone,
        ScalarKind::AwsIpAddress,
    ];

    pub fn from_name(name: &str) -> Option<ScalarKind> {
        Some(match name {
            "Int" => ScalarKind::Int,
            "Float" => ScalarKind::Float,
            "String" => ScalarKind::String,
            "Boolean" => ScalarKind::Boolean,
            "ID" => ScalarKind::Id,
            "AWSDate" => ScalarKind::AwsDate,
            "AWSTime" => ScalarKind::AwsTime,
            "AWSDateTime" => ScalarKind::AwsDateTime,
            "AWSTimestamp" => ScalarKind::AwsTimestamp,
            "AWSEmail" => ScalarKind::AwsEmail,
            "AWSJSON" => ScalarKind::AwsJson,
            "AWSURL" => ScalarKind::AwsUrl,
            "AWSPhone" => ScalarKind::AwsPhone,
            "AWSIPAddress" => ScalarKind::AwsIpAddress,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ScalarKind::Int => "Int",
            ScalarKind::Float => "Float",
            ScalarKind::String => "String",
            ScalarKind::Boolean => "Boolean",
            ScalarKind::Id => "ID",
            ScalarKind::AwsDate => "AWSDate",
            ScalarKind::AwsTime => "AWSTime",
            ScalarKind::AwsDateTime => "AWSDateTime",
            ScalarKind::AwsTimestamp => "AWSTimestamp",
            ScalarKind::AwsEmail => "AWSEmail",
            ScalarKind::AwsJson => "AWSJSON",
            ScalarKind::AwsUrl => "AWSURL",
            ScalarKind::AwsPhone => "AWSPhone",
            ScalarKind::AwsIpAddress => "AWSIPAddress",
        }
    }

    /// The noun in AppSync's scalar errors ("Unable to parse `x` as a valid
    /// date."). Seen for AWSDate and AWSDateTime; the others are guesses.
    pub fn noun(self) -> &'static str {
        match self {
            ScalarKind::AwsDate => "date",
            ScalarKind::AwsDateTime => "DateTime Object",
            ScalarKind::AwsTime => "time",
            ScalarKind::AwsTimestamp => "timestamp",
            ScalarKind::AwsEmail => "email address",
            ScalarKind::AwsJson => "JSON Object",
            ScalarKind::AwsUrl => "URL",
            ScalarKind::AwsPhone => "phone number",
            ScalarKind::AwsIpAddress => "IP address",
            ScalarKind::Int => "Int",
            ScalarKind::Float => "Float",
            ScalarKind::String => "String",
            ScalarKind::Boolean => "Boolean",
            ScalarKind::Id => "ID",
        }
    }

    pub fn is_aws(self) -> bool {
        ScalarKind::AWS.contains(&self)
    }

    /// graphql-java's wording when a value does not fit this scalar; `verb`
    /// is "parse" for inputs and "serialize" for results.
    pub fn mismatch(self, verb: &str, value: &Json) -> String {
        if self.is_aws() {
            let raw = match value {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("Unable to {verb} `{raw}` as a valid {}.", self.noun())
        } else {
            format!(
                "Expected a value that can be converted to type '{}' but it was a '{}'",
                self.name(),
                java_type(value)
            )
        }
    }

    /// AppSync's introspection descriptions, shortened.
    pub fn description(self) -> Option<&'static str> {
        Some(match self {
            ScalarKind::AwsDate => {
                "An extended ISO 8601 date string in the format YYYY-MM-DD, with an optional time zone offset."
            }
            ScalarKind::AwsTime => {
                "An extended ISO 8601 time string in the format hh:mm:ss.sss, with an optional time zone offset."
            }
            ScalarKind::AwsDateTime => {
                "An extended ISO 8601 date and time string in the format YYYY-MM-DDThh:mm:ss.sssZ."
            }
            ScalarKind::AwsTimestamp => {
                "The number of seconds that have elapsed since 1970-01-01T00:00Z."
            }
            ScalarKind::AwsEmail => {
                "An email address in the format local-part@domain-part (RFC 822)."
            }
            ScalarKind::AwsJson => "A JSON string.",
            ScalarKind::AwsUrl => "A URL as defined by RFC 1738.",
            ScalarKind::AwsPhone => "A valid phone number.",
            ScalarKind::AwsIpAddress => {
                "A valid IPv4 or IPv6 address, with an optional CIDR suffix."
            }
            _ => return None,
        })
    }

    /// Whether a string is a valid literal for a string-based AWS scalar.
    pub fn valid_str(self, s: &str) -> bool {
        match self {
            ScalarKind::AwsDate => valid_date_with_offset(s),
            ScalarKind::AwsTime => valid_time_with_offset(s, false),
            ScalarKind::AwsDateTime => valid_date_time(s),
            ScalarKind::AwsEmail => valid_email(s),
            ScalarKind::AwsJson => serde_json::from_str::<Json>(s).is_ok(),
            ScalarKind::AwsUrl => valid_url(s),
            ScalarKind::AwsPhone => valid_phone(s),
            ScalarKind::AwsIpAddress => valid_ip(s),
            ScalarKind::String | ScalarKind::Id => true,
            ScalarKind::Int
            | ScalarKind::Float
            | ScalarKind::Boolean
            | ScalarKind::AwsTimestamp => false,
        }
    }

    /// Input coercion of a JSON value (a variable, or a literal turned into
    /// JSON). AWSJSON is parsed, as resolvers see a map, list or scalar.
    pub fn coerce_input(self, value: &Json) -> Result<Json, InvalidScalar> {
        match (self, value) {
            (ScalarKind::Int, Json::Number(n)) => match n.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => Ok(value.clone()),
                _ => Err(InvalidScalar),
            },
            (ScalarKind::AwsTimestamp, Json::Number(n)) if n.as_i64().is_some() => {
                Ok(value.clone())
            }
            (ScalarKind::Float, Json::Number(_)) => Ok(value.clone()),
            (ScalarKind::Boolean, Json::Bool(_)) => Ok(value.clone()),
            (ScalarKind::Id, Json::Number(n)) if n.is_i64() || n.is_u64() => {
                Ok(Json::String(n.to_string()))
            }
            (ScalarKind::AwsJson, Json::String(s)) => {
                serde_json::from_str(s).map_err(|_| InvalidScalar)
            }
            (kind, Json::String(s)) if kind.valid_str(s) => Ok(value.clone()),
            _ => Err(InvalidScalar),
        }
    }

    /// Output serialization of a resolved value. Follows graphql-java (which
    /// AppSync runs on): numbers and booleans become strings for String/ID, and
    /// an AWSJSON map or list is written out as a JSON string.
    pub fn serialize(self, value: &Json) -> Result<Json, InvalidScalar> {
        match (self, value) {
            (ScalarKind::String | ScalarKind::Id, Json::String(_)) => Ok(value.clone()),
            (ScalarKind::String | ScalarKind::Id, Json::Number(n)) => {
                Ok(Json::String(n.to_string()))
            }
            (ScalarKind::String, Json::Bool(b)) => Ok(Json::String(b.to_string())),
            // graphql-java calls `toString()` on maps and lists, so AppSync
            // returns Java's rendering (`{id=1, tags=[a, b]}`) for them.
            (ScalarKind::String, Json::Array(_) | Json::Object(_)) => {
                Ok(Json::String(java_to_string(value)))
            }
            (ScalarKind::Int, Json::Number(n)) => {
                if let Some(i) = n.as_i64() {
                    i32::try_from(i).map(Json::from).map_err(|_| InvalidScalar)
                } else {
                    match n.as_f64() {
                        Some(f) if f.fract() == 0.0 && f.abs() <= i32::MAX as f64 => {
                            Ok(Json::from(f as i32))
                        }
                        _ => Err(InvalidScalar),
                    }
                }
            }
            (ScalarKind::Int, Json::String(s)) => s
                .trim()
                .parse::<i32>()
                .map(Json::from)
                .map_err(|_| InvalidScalar),
            (ScalarKind::AwsTimestamp, Json::Number(n)) => {
                if n.as_i64().is_some() {
                    Ok(value.clone())
                } else {
                    Err(InvalidScalar)
                }
            }
            (ScalarKind::Float, Json::Number(_)) => Ok(value.clone()),
            (ScalarKind::Float, Json::String(s)) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => serde_json::Number::from_f64(f)
                    .map(Json::Number)
                    .ok_or(InvalidScalar),
                _ => Err(InvalidScalar),
            },
            (ScalarKind::Boolean, Json::Bool(_)) => Ok(value.clone()),
            (ScalarKind::Boolean, Json::String(s)) => match s.as_str() {
                "true" => Ok(Json::Bool(true)),
                "false" => Ok(Json::Bool(false)),
                _ => Err(InvalidScalar),
            },
            (ScalarKind::AwsJson, Json::String(_)) => Ok(value.clone()),
            (ScalarKind::AwsJson, other) => Ok(Json::String(other.to_string())),
            (kind, Json::String(s)) if kind.valid_str(s) => Ok(value.clone()),
            _ => Err(InvalidScalar),
        }
    }
}

/// The Java class a JSON value becomes in AppSync, for error messages.
pub fn java_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "Boolean",
        Json::Number(n) if n.is_f64() => "Double",
        Json::Number(_) => "Integer",
        Json::String(_) => "String",
        Json::Array(_) => "ArrayList",
        Json::Object(_) => "LinkedHashMap",
    }
}

/// Java's `toString()` of the Map/List/String/Number a JSON value becomes.
fn java_to_string(value: &Json) -> String {
    match value {
        Json::Null => "null".to_owned(),
        Json::String(s) => s.clone(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::Array(items) => {
            let parts: Vec<String> = items.iter().map(java_to_string).collect();
            format!("[{}]", parts.join(", "))
        }
        Json::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", java_to_string(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    if s.len() < n || !s.as_bytes()[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    s[..n].parse().ok().map(|v| (v, &s[n..]))
}

fn parse_date(s: &str) -> Option<&str> {
    let (year, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    chrono::NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some(rest)
}

fn parse_time(s: &str) -> Option<&str> {
    let (h, rest) = digits(s, 2)?;
    let rest = rest.strip_prefix(':')?;
    let (m, mut rest) = digits(rest, 2)?;
    if h > 23 || m > 59 {
        return None;
    }
    if let Some(after) = rest.strip_prefix(':') {
        let (sec, after) = digits(after, 2)?;
        if sec > 59 {
            return None;
        }
        rest = after;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if !(1..=9).contains(&n) {
                return None;
            }
            rest = &frac[n..];
        }
    }
    Some(rest)
}

/// `Z`, `±hh:mm` or `±hh:mm:ss`; must consume the whole rest.
fn valid_offset(s: &str) -> bool {
    if s == "Z" {
        return true;
    }
    let Some(rest) = s.strip_prefix('+').or_else(|| s.strip_prefix('-')) else {
        return false;
    };
    let Some((h, rest)) = digits(rest, 2) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    let Some((m, rest)) = digits(rest, 2) else {
        return false;
    };
    if h > 23 || m > 59 {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    match rest.strip_prefix(':').and_then(|r| digits(r, 2)) {
        Some((sec, "")) => sec <= 59,
        _ => false,
    }
}

fn valid_date_with_offset(s: &str) -> bool {
    match parse_date(s) {
        Some("") => true,
        Some(rest) => valid_offset(rest),
        None => false,
    }
}

fn valid_time_with_offset(s: &str, offset_required: bool) -> bool {
    match parse_time(s) {
        Some("") => !offset_required,
        Some(rest) => valid_offset(rest),
        None => false,
    }
}

fn valid_date_time(s: &str) -> bool {
    match parse_date(s) {
        Some(rest) => rest
            .strip_prefix('T')
            .is_some_and(|t| valid_time_with_offset(t, true)),
        None => false,
    }
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let ok_chars = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\\\"".contains(c))
    };
    ok_chars(local)
        && ok_chars(domain)
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

fn valid_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() || s.chars().any(char::is_whitespace) {
        return false;
    }
    match rest.strip_prefix("//") {
        Some(after) => {
            let (authority, path) = match after.find(['/', '?', '#']) {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            };
            let path = path.split(['?', '#']).next().unwrap_or("");
            !authority.is_empty() && !path.contains("//")
        }
        None => true,
    }
}

fn valid_phone(s: &str) -> bool {
    let (international, body) = match s.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        || !body.starts_with(|c: char| c.is_ascii_digit())
    {
        return false;
    }
    let n = body.chars().filter(char::is_ascii_digit).count();
    if international {
        (8..=15).contains(&n)
    } else {
        // No country code: a North American number, optionally with the leading 1.
        n == 10 || (n == 11 && body.starts_with('1'))
    }
}

fn valid_ip(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    match prefix {
        None => true,
        Some(p) => {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            p.parse::<u8>().is_ok_and(|n| n <= max) && !p.starts_with('+')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ScalarKind::*;

    #[test]
    fn aws_scalars_follow_the_reference() {
        let cases = [
            (AwsDate, "1970-01-01", true),
            (AwsDate, "1970-01-01Z", true),
            (AwsDate, "1970-01-01-07:00", true),
            (AwsDate, "1970-01-01+05:30:15", true),
            (AwsDate, "1970-13-01", false),
            (AwsDate, "1970-1-01", false),
            (AwsTime, "12:30", true),
            (AwsTime, "12:30:45.123456789", true),
            (AwsTime, "12:30:45.1234567890", false),
            (AwsTime, "12:30:45+01:00", true),
            (AwsTime, "24:00", false),
            (AwsDateTime, "2020-01-01T12:30:45.123Z", true),
            (AwsDateTime, "2020-01-01T12:30:45", false),
            (AwsDateTime, "2020-01-01T12:30-05:00", true),
            (AwsEmail, "a.b@example.com", true),
            (AwsEmail, "no-at-sign", false),
            (AwsEmail, "a b@example.com", false),
            (AwsJson, "{\"a\":1}", true),
            (AwsJson, "{a:1}", false),
            (AwsUrl, "https://example.com/a/b?x=1", true),
            (AwsUrl, "http://localhost:3000", true),
            (AwsUrl, "example.com", false),
            (AwsUrl, "https://example.com//a", false),
            (AwsPhone, "+1 206-555-0100", true),
            (AwsPhone, "206 555 0100", true),
            (AwsPhone, "555-0100", false),
            (AwsPhone, "+44 20 7946 0958", true),
            (AwsIpAddress, "192.168.0.1", true),
            (AwsIpAddress, "10.0.0.0/8", true),
            (AwsIpAddress, "10.0.0.0/33", false),
            (AwsIpAddress, "::1/128", true),
            (AwsIpAddress, "300.1.1.1", false),
        ];
        for (kind, input, expected) in cases {
            assert_eq!(kind.valid_str(input), expected, "{} {input:?}", kind.name());
        }
    }

    #[test]
    fn maps_in_string_fields_render_like_java() {
        let v = serde_json::json!({"id": 1, "tags": ["a", "b"], "x": null});
        assert_eq!(
            String.serialize(&v),
            Ok(serde_json::json!("{id=1, tags=[a, b], x=null}"))
        );
    }

    #[test]
    fn timestamps_are_integers() {
        assert!(AwsTimestamp.coerce_input(&serde_json::json!(-5)).is_ok());
        assert!(AwsTimestamp.coerce_input(&serde_json::json!(1.5)).is_err());
        assert!(AwsTimestamp.coerce_input(&serde_json::json!("5")).is_err());
    }

    proptest::proptest! {
        #[test]
        fn validation_never_panics(input in "\\PC{0,40}") {
            for kind in super::ScalarKind::AWS {
                let _ = kind.valid_str(&input);
                let _ = kind.coerce_input(&serde_json::Value::String(input.clone()));
            }
        }

        #[test]
        fn formatted_dates_are_valid(days in -100_000i64..100_000) {
            let date = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
                .and_then(|d| d.checked_add_signed(chrono::Duration::days(days)));
            if let Some(date) = date.filter(|d| (0..=9999).contains(&chrono::Datelike::year(d))) {
                let text = date.format("%Y-%m-%d").to_string();
                proptest::prop_assert!(AwsDate.valid_str(&text), "{}", text);
                let stamp = format!("{text}T12:34:56.789Z");
                proptest::prop_assert!(AwsDateTime.valid_str(&stamp), "{}", stamp);
            }
        }
    }
}
