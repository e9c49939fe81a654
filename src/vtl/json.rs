//! Reads a rendered template as JSON the way AppSync does: duplicate keys and
//! trailing characters are errors with AppSync's exact messages, and key order
//! is kept.

// `TemplateError` is the public error type of this API; errors here are rare
// and end the request, so its size does not matter.
#![allow(clippy::result_large_err)]

use serde_json::{Map, Number, Value as Json};

use crate::vtl::runtime::TemplateError;

const MAX_DEPTH: u32 = 512;

/// Parses a rendered template as JSON with AppSync's error messages
/// (duplicate keys, trailing characters, invalid JSON). Errors have
/// `errorType: "MappingTemplate"`.
pub fn parse_json_output(template_name: &str, text: &str) -> Result<Json, TemplateError> {
    let mut r = Reader {
        s: text.as_bytes(),
        text,
        pos: 0,
        name: template_name,
        depth: 0,
    };
    r.ws();
    if r.pos == r.s.len() {
        return Err(r.error("No content to map due to end-of-input"));
    }
    let v = r.value()?;
    r.ws();
    if r.pos < r.s.len() {
        return Err(TemplateError::mapping_template(
            "Trailing characters at the end of the JSON string are not allowed.",
        ));
    }
    Ok(v)
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    name: &'a str,
    depth: u32,
}

impl Reader<'_> {
    /// Jackson-style message with the template name and the position in the
    /// rendered text.
    fn error(&self, detail: impl AsRef<str>) -> TemplateError {
        let before = &self.text[..self.pos.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        TemplateError::mapping_template(format!(
            "Unable to parse the JSON document: '{}' at [Source: {}; line: {line}, column: {col}]",
            detail.as_ref(),
            self.name
        ))
    }

    fn unexpected(&self, expecting: &str) -> TemplateError {
        match self.text[self.pos.min(self.text.len())..].chars().next() {
            None => self.error(format!("Unexpected end-of-input: {expecting}")),
            Some(c) => self.error(format!(
                "Unexpected character ('{c}' (code {})): {expecting}",
                c as u32
            )),
        }
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn value(&mut self) -> Result<Json, TemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("Document nesting depth exceeds {MAX_DEPTH}")));
        }
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Result<Json, TemplateError> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.keyword("true", Json::Bool(true)),
            Some(b'f') => self.keyword("false", Json::Bool(false)),
            Some(b'n') => self.keyword("null", Json::Null),
            Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
            _ => Err(self.unexpected("expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")),
        }
    }

    fn keyword(&mut self, word: &str, v: Json) -> Result<Json, TemplateError> {
        let end = self.pos + word.len();
        if self.s.get(self.pos..end) == Some(word.as_bytes())
            && !self.s.get(end).is_some_and(|c| c.is_ascii_alphanumeric())
        {
            self.pos = end;
            Ok(v)
        } else {
            let token: String = self.text[self.pos..]
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            Err(self.error(format!(
                "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
            )))
        }
    }

    fn object(&mut self) -> Result<Json, TemplateError> {
        self.pos += 1;
        let mut map = Map::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(map));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("was expecting double-quote to start field name"));
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(
                    self.unexpected("was expecting a colon to separate field name and value")
                );
            }
            self.pos += 1;
            let v = self.value()?;
            if map.contains_key(&key) {
                return Err(TemplateError::mapping_template(format!(
                    "Duplicate field '{key}' detected on Object. Duplicate JSON keys are not allowed."
                )));
            }
            map.insert(key, v);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(map));
                }
                _ => {
                    return Err(self.unexpected("was expecting comma to separate Object entries"));
                }
            }
        }
    }

    fn array(&mut self) -> Result<Json, TemplateError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => {
                    return Err(self.unexpected("was expecting comma to separate Array entries"));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, TemplateError> {
        let Some(h) = self.text.get(self.pos..self.pos + 4) else {
            return Err(self.error("Unexpected end-of-input in character escape sequence"));
        };
        let v = u32::from_str_radix(h, 16).map_err(|_| {
            self.error("Unexpected character: expected a hex-digit for character escape sequence")
        })?;
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, TemplateError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.pos < self.s.len()
                && !matches!(self.s[self.pos], b'"' | b'\\')
                && self.s[self.pos] >= 0x20
            {
                self.pos += 1;
            }
            out.push_str(&self.text[start..self.pos]);
            match self.peek() {
                None => {
                    return Err(self.error(
                        "Unexpected end-of-input: was expecting closing quote for a string value",
                    ));
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(c) = self.peek() else {
                        return Err(
                            self.error("Unexpected end-of-input in character escape sequence")
                        );
                    };
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.unwrap_or('\u{FFFD}'));
                        }
                        other => {
                            self.pos -= 1;
                            return Err(self.error(format!(
                                "Unrecognized character escape '{}' (code {other})",
                                other as char
                            )));
                        }
                    }
                }
                Some(c) => {
                    return Err(self.error(format!(
                        "Illegal unquoted character ((CTRL-CHAR, code {c})): has to be escaped using backslash to be included in string value"
                    )));
                }
            }
        }
    }

    fn number(&mut self) -> Result<Json, TemplateError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let int_digits = self.pos - int_start;
        if int_digits == 0 {
            return Err(self
                .unexpected("expected digit (0-9) to follow minus sign, for valid numeric value"));
        }
        if int_digits > 1 && self.s[int_start] == b'0' {
            return Err(self.error("Invalid numeric value: Leading zeroes not allowed"));
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.pos += 1;
            let frac = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            if self.pos == frac {
                return Err(self.unexpected("Decimal point not followed by a digit"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            let exp = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            if self.pos == exp {
                return Err(self.unexpected("Exponent indicator not followed by a digit"));
            }
        }
        let text = &self.text[start..self.pos];
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Json::Number(i.into()));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Json::Number(u.into()));
            }
        }
        let f: f64 = text
            .parse()
            .map_err(|_| self.error(format!("Invalid numeric value: {text}")))?;
        Number::from_f64(f)
            .map(Json::Number)
            .ok_or_else(|| self.error(format!("Numeric value ({text}) out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> String {
        parse_json_output("t.vtl", text).unwrap_err().message
    }

    #[test]
    fn appsync_messages() {
        assert_eq!(
            msg(r#"{"aField": 1, "aField": 2}"#),
            "Duplicate field 'aField' detected on Object. Duplicate JSON keys are not allowed."
        );
        assert_eq!(
            msg(r#"{"a": 1} x"#),
            "Trailing characters at the end of the JSON string are not allowed."
        );
        assert_eq!(
            msg("{\n  \"a\": 1,\n}"),
            "Unable to parse the JSON document: 'Unexpected character ('}' (code 125)): was expecting double-quote to start field name' at [Source: t.vtl; line: 3, column: 1]"
        );
        let err = parse_json_output("t.vtl", "{}").unwrap();
        assert_eq!(err, serde_json::json!({}));
    }

    #[test]
    fn keeps_key_order_and_values() {
        let v = parse_json_output(
            "t",
            r#" {"b": [1, -2.5e1, "\u00e9\n"], "a": {"c": null, "d": true}} "#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"b":[1,-25.0,"é\n"],"a":{"c":null,"d":true}}"#
        );
    }
}
