//! `$util.str`: case, replacement and Unicode normalization.

use unicode_normalization::UnicodeNormalization as _;

use super::{Call, CallError};
use crate::vtl::value::Value;

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    match c.method {
        "toUpper" | "toLower" => {
            let sig = "(String)";
            c.arity(1, 1, sig)?;
            let s = c.str(0, sig)?;
            Ok(Value::str(if c.method == "toUpper" {
                s.to_uppercase()
            } else {
                s.to_lowercase()
            }))
        }
        "toReplace" => {
            let sig = "toReplace(String, String, String)";
            c.arity(3, 3, sig)?;
            let (s, from, to) = (c.str(0, sig)?, c.str(1, sig)?, c.str(2, sig)?);
            Ok(Value::str(java_replace(s, from, to)))
        }
        "normalize" => {
            let sig = "normalize(String, String)";
            c.arity(2, 2, sig)?;
            let s = c.str(0, sig)?;
            let form = c.str(1, sig)?;
            let out: String = match form.to_ascii_lowercase().as_str() {
                "nfc" => s.nfc().collect(),
                "nfd" => s.nfd().collect(),
                "nfkc" => s.nfkc().collect(),
                "nfkd" => s.nfkd().collect(),
                _ => {
                    return Err(CallError::Invalid(format!(
                        "Unknown normalization form {form:?}: expected nfc, nfd, nfkc or nfkd"
                    )));
                }
            };
            Ok(Value::str(out))
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Java `String.replace(CharSequence, CharSequence)`: an empty target
/// inserts the replacement between every character, unlike Rust's.
fn java_replace(s: &str, from: &str, to: &str) -> String {
    if !from.is_empty() {
        return s.replace(from, to);
    }
    let mut out = String::from(to);
    for ch in s.chars() {
        out.push(ch);
        out.push_str(to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;

    #[test]
    fn str_helpers() {
        let cases = [
            ("toUpper", r#"["hello wörld"]"#, r#""HELLO WÖRLD""#),
            ("toLower", r#"["HeLLo"]"#, r#""hello""#),
            (
                "toUpper",
                "[1]",
                "!Invalid: Invalid arguments for $util.str.toUpper(Number): expected (String)",
            ),
            (
                "toReplace",
                r#"["hello world, world", "world", "there"]"#,
                r#""hello there, there""#,
            ),
            ("toReplace", r#"["ab", "", "-"]"#, r#""-a-b-""#),
            ("normalize", "[\"e\u{301}\", \"nfc\"]", "\"\u{e9}\""),
            ("normalize", "[\"\u{e9}\", \"NFD\"]", "\"e\u{301}\""),
            ("normalize", "[\"\u{fb01}\", \"nfkc\"]", r#""fi""#),
            ("normalize", "[\"\u{fb01}\", \"nfkd\"]", r#""fi""#),
            (
                "normalize",
                r#"["x", "nfx"]"#,
                r#"!Invalid: Unknown normalization form "nfx": expected nfc, nfd, nfkc or nfkd"#,
            ),
        ];
        for (method, args, want) in cases {
            check("util.str", method, args, want);
        }
    }
}
