//! The methods directly on `$util`, and `$util.log`.

use base64::Engine as _;

use super::json::{parse_json, to_json_string};
use super::{Call, CallError, void};
use crate::vtl::runtime::{RenderState, TemplateError};
use crate::vtl::value::Value;

pub(super) fn call(host: &mut RenderState<'_>, c: &Call) -> Result<Value, CallError> {
    match c.method {
        "qr" | "quiet" => void(),
        "parseJson" => {
            let sig = "parseJson(String)";
            c.arity(1, 1, sig)?;
            let text = c.str(0, sig)?;
            parse_json(text).map_err(|e| CallError::invalid(UtilError::ParseJson(e)))
        }
        "toJson" => {
            c.arity(1, 1, "toJson(Object)")?;
            Ok(Value::str(to_json_string(&c.arg(0))))
        }
        "urlEncode" => {
            let sig = "urlEncode(String)";
            c.arity(1, 1, sig)?;
            Ok(Value::str(url_encode(c.str(0, sig)?)))
        }
        "urlDecode" => {
            let sig = "urlDecode(String)";
            c.arity(1, 1, sig)?;
            url_decode(c.str(0, sig)?)
                .map(Value::str)
                .map_err(CallError::invalid)
        }
        "base64Encode" => {
            let sig = "base64Encode(String)";
            c.arity(1, 1, sig)?;
            Ok(Value::str(
                base64::engine::general_purpose::STANDARD.encode(c.str(0, sig)?.as_bytes()),
            ))
        }
        "base64Decode" => {
            let sig = "base64Decode(String)";
            c.arity(1, 1, sig)?;
            base64_decode(c.str(0, sig)?)
                .map(Value::str)
                .map_err(CallError::invalid)
        }
        "escapeJavaScript" => {
            let sig = "escapeJavaScript(String)";
            c.arity(1, 1, sig)?;
            Ok(Value::str(escape_java_script(c.str(0, sig)?)))
        }
        "autoId" => {
            c.arity(0, 0, "autoId()")?;
            Ok(Value::str(host.host.uuid_v4().to_string()))
        }
        "autoUlid" => {
            c.arity(0, 0, "autoUlid()")?;
            let now = host.now_epoch_millis;
            Ok(Value::str(host.host.ulid(now).to_string()))
        }
        "autoKsuid" => {
            c.arity(0, 0, "autoKsuid()")?;
            let now = host.now_epoch_millis;
            Ok(Value::str(host.host.ksuid(now)))
        }
        "error" => {
            c.arity(1, 4, "error(String[, String[, Object[, Object]]])")?;
            Err(CallError::Raise(template_error(c)?))
        }
        "appendError" => {
            c.arity(1, 4, "appendError(String[, String[, Object[, Object]]])")?;
            let err = template_error(c)?;
            host.appended_errors.push(err);
            void()
        }
        "validate" => {
            let sig = "validate(Boolean, String[, String[, Object]])";
            c.arity(2, 4, sig)?;
            if c.bool(0, sig)? {
                return void();
            }
            let message = c.str(1, sig)?;
            // The DG: "throw a CustomTemplateException with the specified message".
            let error_type = c.opt_str(2, sig)?.unwrap_or("CustomTemplateException");
            let mut err = TemplateError::new(message, Some(error_type));
            if c.len() > 3 {
                err.data = Some(c.arg(3).to_json());
            }
            Err(CallError::Raise(err))
        }
        "unauthorized" => {
            c.arity(0, 0, "unauthorized()")?;
            Err(CallError::Raise(TemplateError::unauthorized()))
        }
        "isNull" => {
            c.arity(1, 1, "isNull(Object)")?;
            Ok(Value::Bool(c.arg(0).is_null()))
        }
        "isNullOrEmpty" | "isNullOrBlank" => {
            c.arity(1, 1, "(String)")?;
            let blank_ok = c.method == "isNullOrBlank";
            Ok(Value::Bool(is_empty(&c.arg(0), blank_ok)))
        }
        "defaultIfNull" => {
            c.arity(2, 2, "defaultIfNull(Object, Object)")?;
            Ok(if c.arg(0).is_null() {
                c.arg(1)
            } else {
                c.arg(0)
            })
        }
        "defaultIfNullOrEmpty" | "defaultIfNullOrBlank" => {
            c.arity(2, 2, "(String, String)")?;
            let blank_ok = c.method == "defaultIfNullOrBlank";
            Ok(if is_empty(&c.arg(0), blank_ok) {
                c.arg(1)
            } else {
                c.arg(0)
            })
        }
        "typeOf" => {
            c.arity(1, 1, "typeOf(Object)")?;
            Ok(Value::str(c.arg(0).type_of()))
        }
        "isString" | "isNumber" | "isBoolean" | "isList" | "isMap" => {
            c.arity(1, 1, "(Object)")?;
            let v = c.arg(0);
            let is = match c.method {
                "isString" => matches!(v, Value::Str(_)),
                "isNumber" => matches!(v, Value::Int(_) | Value::Float(_)),
                "isBoolean" => matches!(v, Value::Bool(_)),
                "isList" => matches!(v, Value::List(_)),
                _ => matches!(v, Value::Map(_)),
            };
            Ok(Value::Bool(is))
        }
        "matches" => {
            let sig = "matches(String, String)";
            c.arity(2, 2, sig)?;
            java_matches(c.str(0, sig)?, c.str(1, sig)?)
                .map(Value::Bool)
                .map_err(CallError::invalid)
        }
        "authType" => {
            c.arity(0, 0, "authType()")?;
            Ok(Value::str(host.auth_type.util_name()))
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Why a `$util` helper refused its input.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UtilError {
    #[error("Unable to parse the JSON document: {0}")]
    ParseJson(serde_json::Error),
    #[error("URLDecoder: Illegal hex characters in escape (%) pattern in {0:?}")]
    UrlEscape(String),
    #[error("Invalid base64 input: {0}")]
    Base64(base64::DecodeError),
    #[error("Invalid regular expression {pattern:?}: {source}")]
    BadRegex {
        pattern: String,
        source: fancy_regex::Error,
    },
    #[error("Regular expression {pattern:?} failed: {source}")]
    RegexFailed {
        pattern: String,
        source: fancy_regex::Error,
    },
}

/// `$util.log.info|debug|error(...)`: SLF4J-style `{}` formatting.
pub(super) fn call_log(host: &mut RenderState<'_>, c: &Call) -> Result<Value, CallError> {
    match c.method {
        "info" | "debug" | "error" | "warn" | "trace" => {
            c.arity(1, usize::MAX, "(Object | String, Object...)")?;
            let line = match c.args {
                [Value::Str(fmt), rest @ ..] if !rest.is_empty() => slf4j_format(fmt, rest),
                [one] => one.to_string(),
                [first, ..] => first.to_string(),
                [] => String::new(),
            };
            host.logs.push(line);
            void()
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Replaces each `{}` with the next argument's `toString`; `\{}` stays literal
/// and extra arguments are ignored, as in SLF4J's `MessageFormatter`.
fn slf4j_format(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut rest = fmt;
    while let Some(pos) = rest.find("{}") {
        let (before, after) = rest.split_at(pos);
        if before.ends_with('\\') && !before.ends_with("\\\\") {
            out.push_str(&before[..before.len() - 1]);
            out.push_str("{}");
        } else {
            let before = before.strip_suffix('\\').unwrap_or(before);
            out.push_str(before);
            match args.next() {
                Some(arg) => out.push_str(&arg.to_string()),
                None => out.push_str("{}"),
            }
        }
        rest = &after[2..];
    }
    out.push_str(rest);
    out
}

fn template_error(c: &Call) -> Result<TemplateError, CallError> {
    let sig = "(String[, String[, Object[, Object]]])";
    // Java passes a null message through; AppSync then reports "null".
    let message = match c.arg(0) {
        Value::Null => "null".to_owned(),
        Value::Str(s) => s.to_string(),
        _ => return Err(c.invalid(sig)),
    };
    let mut err = TemplateError::new(message, c.opt_str(1, sig)?);
    if c.len() > 2 {
        err.data = Some(c.arg(2).to_json());
    }
    if c.len() > 3 {
        err.error_info = Some(c.arg(3).to_json());
    }
    Ok(err)
}

/// The test behind `isNullOrEmpty`/`isNullOrBlank` and their `defaultIf`
/// forms. The DG types them on `String`; templates also pass lists and maps,
/// which count as empty when they have no elements, as a user would expect.
/// `blank` is commons-lang `StringUtils.isBlank`: only whitespace.
fn is_empty(v: &Value, blank: bool) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) if blank => s.chars().all(char::is_whitespace),
        Value::Str(s) => s.is_empty(),
        Value::List(items) => items.borrow().is_empty(),
        Value::Map(map) => map.borrow().is_empty(),
        _ => false,
    }
}

/// Java `URLEncoder.encode(s, "UTF-8")`: form encoding, space as `+`.
fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Java `URLDecoder.decode(s, "UTF-8")`, which rejects malformed escapes.
fn url_decode(s: &str) -> Result<String, UtilError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'+' => {
                out.push(b' ');
                idx += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(idx + 1..idx + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| UtilError::UrlEscape(s.to_owned()))?;
                out.push(hex);
                idx += 3;
            }
            b => {
                out.push(b);
                idx += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Decodes standard base64, padded or not; the bytes are read as UTF-8 as
/// Java's `new String(bytes)` does (bad sequences become U+FFFD).
fn base64_decode(s: &str) -> Result<String, UtilError> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine
        .decode(s.trim().as_bytes())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(UtilError::Base64)
}

/// Commons-lang 2 `StringEscapeUtils.escapeJavaScript`: quotes, backslash and
/// `/` get a backslash, control characters their short escape or `\u00XX`,
/// and everything above U+007F `\uXXXX` per UTF-16 unit, uppercase (DEL
/// itself passes through, as in commons-lang).
pub(crate) fn escape_java_script(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            0x08 => out.push_str("\\b"),
            0x0a => out.push_str("\\n"),
            0x09 => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            u if !(0x20..=0x7f).contains(&u) => out.push_str(&format!("\\u{u:04X}")),
            u => out.push(char::from(u as u8)),
        }
    }
    out
}

/// Java `String.matches`: the whole input must match.
fn java_matches(pattern: &str, input: &str) -> Result<bool, UtilError> {
    let invalid = |source| UtilError::BadRegex {
        pattern: pattern.to_owned(),
        source,
    };
    // Compiling the bare pattern first keeps error positions the user's.
    fancy_regex::Regex::new(pattern).map_err(invalid)?;
    let re = fancy_regex::Regex::new(&format!(r"\A(?:{pattern})\z")).map_err(invalid)?;
    re.is_match(input).map_err(|source| UtilError::RegexFailed {
        pattern: pattern.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, check, run, show};
    use super::*;
    use crate::runtime::{Host, ksuid};

    #[test]
    fn json_and_encodings() {
        let cases = [
            (
                "parseJson",
                r#"["{\"a\":[1,2.5,\"x\"]}"]"#,
                r#"{"a":[1,2.5,"x"]}"#,
            ),
            (
                "parseJson",
                r#"["{\"a\":"]"#,
                "!Invalid: Unable to parse the JSON document: EOF while parsing a value at line 1 column 5",
            ),
            (
                "parseJson",
                "[1]",
                "!Invalid: Invalid arguments for $util.parseJson(Number): expected parseJson(String)",
            ),
            (
                "toJson",
                r#"[{"a":"b/c","n":null}]"#,
                r#""{\"a\":\"b/c\",\"n\":null}""#,
            ),
            ("toJson", "[null]", r#""null""#),
            (
                "toJson",
                "[]",
                "!Invalid: Invalid arguments for $util.toJson(): expected toJson(Object)",
            ),
            (
                "urlEncode",
                r#"["a b&c=d/é*~"]"#,
                r#""a+b%26c%3Dd%2F%C3%A9*%7E""#,
            ),
            ("urlDecode", r#"["a+b%26c%3Dd%2F%C3%A9"]"#, r#""a b&c=d/é""#),
            (
                "urlDecode",
                r#"["%zz"]"#,
                r#"!Invalid: URLDecoder: Illegal hex characters in escape (%) pattern in "%zz""#,
            ),
            (
                "base64Encode",
                r#"["hello wörld"]"#,
                r#""aGVsbG8gd8O2cmxk""#,
            ),
            (
                "base64Decode",
                r#"["aGVsbG8gd8O2cmxk"]"#,
                r#""hello wörld""#,
            ),
            ("base64Decode", r#"["aGk"]"#, r#""hi""#),
            (
                "base64Decode",
                r#"["!!"]"#,
                "!Invalid: Invalid base64 input: Invalid symbol 33, offset 0.",
            ),
            (
                "escapeJavaScript",
                r#"["It's \"q\" a/b \\ \n\t é 😀 \u0001"]"#,
                r#""It\\'s \\\"q\\\" a\\/b \\\\ \\n\\t \\u00E9 \\uD83D\\uDE00 \\u0001""#,
            ),
            // DEL passes through; U+0080 is the first escaped code unit.
            (
                "escapeJavaScript",
                "[\"\u{7f}\u{80}\"]",
                "\"\u{7f}\\\\u0080\"",
            ),
        ];
        for (method, args, want) in cases {
            check("util", method, args, want);
        }
    }

    #[test]
    fn null_and_type_helpers() {
        let cases = [
            ("isNull", "[null]", "true"),
            ("isNull", r#"[""]"#, "false"),
            ("isNullOrEmpty", "[null]", "true"),
            ("isNullOrEmpty", r#"[""]"#, "true"),
            ("isNullOrEmpty", r#"[" "]"#, "false"),
            ("isNullOrBlank", r#"[" \t\n"]"#, "true"),
            ("isNullOrBlank", r#"[" x "]"#, "false"),
            ("isNullOrEmpty", "[[]]", "true"),
            ("isNullOrEmpty", "[{}]", "true"),
            ("isNullOrEmpty", "[[0]]", "false"),
            ("isNullOrEmpty", "[0]", "false"),
            ("defaultIfNullOrEmpty", r#"[[], ["d"]]"#, r#"["d"]"#),
            ("defaultIfNull", r#"[null, "d"]"#, r#""d""#),
            ("defaultIfNull", r#"[0, "d"]"#, "0"),
            ("defaultIfNullOrEmpty", r#"["", "d"]"#, r#""d""#),
            ("defaultIfNullOrEmpty", r#"[" ", "d"]"#, r#"" ""#),
            ("defaultIfNullOrBlank", r#"[" ", "d"]"#, r#""d""#),
            ("defaultIfNullOrBlank", r#"["x", "d"]"#, r#""x""#),
            ("typeOf", "[null]", r#""Null""#),
            ("typeOf", "[1.5]", r#""Number""#),
            ("typeOf", r#"["s"]"#, r#""String""#),
            ("typeOf", "[[1]]", r#""List""#),
            ("typeOf", "[{}]", r#""Map""#),
            ("typeOf", "[false]", r#""Boolean""#),
            ("isString", r#"["s"]"#, "true"),
            ("isString", "[1]", "false"),
            ("isNumber", "[1]", "true"),
            ("isBoolean", "[true]", "true"),
            ("isList", "[[]]", "true"),
            ("isMap", "[{}]", "true"),
            ("isMap", "[[]]", "false"),
            ("matches", r#"["a.c", "abc"]"#, "true"),
            ("matches", r#"["a.c", "abcd"]"#, "false"),
            (
                "matches",
                r#"["^[a-z]+@[a-z]+\\.com$", "me@x.com"]"#,
                "true",
            ),
            (
                "matches",
                r#"["(", "x"]"#,
                "!Invalid: Invalid regular expression \"(\": Parsing error at position 1: Opening parenthesis without closing parenthesis",
            ),
            ("authType", "[]", r#""API Key Authorization""#),
            ("qr", "[1]", r#""""#),
            ("quiet", "[]", r#""""#),
        ];
        for (method, args, want) in cases {
            check("util", method, args, want);
        }
    }

    #[test]
    fn errors() {
        let cases = [
            ("error", r#"["boom"]"#, "!Raise: boom / - / - / -"),
            (
                "error",
                r#"["boom", "MyType"]"#,
                "!Raise: boom / MyType / - / -",
            ),
            (
                "error",
                r#"["boom", "T", {"a":1}, [1]]"#,
                r#"!Raise: boom / T / {"a":1} / [1]"#,
            ),
            (
                "error",
                r#"["boom", null, null]"#,
                "!Raise: boom / - / null / -",
            ),
            (
                "error",
                "[]",
                "!Invalid: Invalid arguments for $util.error(): expected error(String[, String[, Object[, Object]]])",
            ),
            (
                "unauthorized",
                "[]",
                "!Raise: Unauthorized / Unauthorized / - / -",
            ),
            ("validate", r#"[true, "no"]"#, r#""""#),
            (
                "validate",
                r#"[false, "no"]"#,
                "!Raise: no / CustomTemplateException / - / -",
            ),
            (
                "validate",
                r#"[false, "no", "Bad", {"x":1}]"#,
                r#"!Raise: no / Bad / {"x":1} / -"#,
            ),
            (
                "validate",
                r#"["yes", "no"]"#,
                "!Invalid: Invalid arguments for $util.validate(String, String): expected validate(Boolean, String[, String[, Object]])",
            ),
        ];
        for (method, args, want) in cases {
            check("util", method, args, want);
        }
    }

    #[test]
    fn append_error_keeps_going() {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        let res = run(
            &mut host,
            "util",
            "appendError",
            r#"["a", "T", {"k":"v"}, {"i":2}]"#,
        );
        assert_eq!(show(&res), r#""""#);
        run(&mut host, "util", "appendError", r#"["b"]"#).expect("append");
        let shown: Vec<String> = host
            .appended_errors
            .iter()
            .map(|e| serde_json::to_string(e).expect("serialize"))
            .collect();
        assert_eq!(
            shown,
            [
                r#"{"message":"a","errorType":"T","data":{"k":"v"},"errorInfo":{"i":2}}"#,
                r#"{"message":"b","errorType":null,"data":null,"errorInfo":null}"#,
            ]
        );
    }

    #[test]
    fn ids() {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        let id = show(&run(&mut host, "util", "autoId", "[]"));
        let re = fancy_regex::Regex::new(
            r#"^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$"#,
        )
        .expect("regex");
        assert!(re.is_match(&id).expect("match"), "{id}");

        let ulid = run(&mut host, "util", "autoUlid", "[]")
            .expect("ulid")
            .to_string();
        assert_eq!(ulid.len(), 26);
        let parsed = ulid::Ulid::from_string(&ulid).expect("valid ulid");
        assert_eq!(parsed.timestamp_ms(), NOW as u64);

        let ksuid = run(&mut host, "util", "autoKsuid", "[]")
            .expect("ksuid")
            .to_string();
        assert_eq!(ksuid.len(), 27);
        assert!(ksuid.bytes().all(|b| b.is_ascii_alphanumeric()), "{ksuid}");
        assert_ne!(
            ksuid,
            run(&mut host, "util", "autoKsuid", "[]")
                .expect("ksuid")
                .to_string()
        );
    }

    #[test]
    fn ksuid_encoding_matches_reference() {
        // Segment's reference implementation: the all-zero KSUID and the maximum.
        assert_eq!(ksuid(EPOCH_MS, [0; 16]), "000000000000000000000000000");
        assert_eq!(
            ksuid((1_400_000_000 + u32::MAX as i64) * 1000, [0xff; 16]),
            "aWgEPTl1tmebfsQzFP4bxwgy80V"
        );
        // The timestamp prefix orders ids by the host clock.
        assert!(ksuid(NOW, [0; 16]) < ksuid(NOW + 1000, [0; 16]));
    }

    const EPOCH_MS: i64 = 1_400_000_000_000;

    #[test]
    fn logs_format_like_slf4j() {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        run(&mut host, "util.log", "info", r#"["plain"]"#).expect("log");
        run(
            &mut host,
            "util.log",
            "debug",
            r#"["a={} b={} c={}", 1, [true]]"#,
        )
        .expect("log");
        run(&mut host, "util.log", "error", r#"[{"k":[1,"x"]}]"#).expect("log");
        run(
            &mut host,
            "util.log",
            "info",
            r#"["esc \\{} {}", "v", "extra"]"#,
        )
        .expect("log");
        assert_eq!(
            host.logs,
            ["plain", "a=1 b=[true] c={}", "{k=[1, x]}", "esc {} v"]
        );
        assert_eq!(
            show(&run(&mut host, "util.log", "info", "[]")),
            "!Invalid: Invalid arguments for $util.log.info(): expected (Object | String, Object...)"
        );
        assert_eq!(
            show(&run(&mut host, "util.log", "fatal", "[1]")),
            "!NoSuchMethod"
        );
    }
}
