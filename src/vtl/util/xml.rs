//! `$util.xml`: XML documents to maps, as the DG's examples show: an element
//! holding only text becomes that text (numbers and booleans converted),
//! repeated elements become lists, attributes become keys, and text next to
//! children or attributes goes under `content` (the org.json convention the
//! DG's output follows).

use super::json::to_json_string;
use super::{Call, CallError};
use crate::vtl::value::{Map, Value};

/// Deeper documents are rejected rather than risking the stack.
const MAX_DEPTH: usize = 256;

pub(super) fn call(c: &Call) -> Result<Value, CallError> {
    match c.method {
        "toMap" => {
            let sig = "toMap(String)";
            c.arity(1, 1, sig)?;
            parse_document(c.str(0, sig)?)
                .map(Value::map)
                .map_err(CallError::invalid)
        }
        "toJsonString" => {
            let sig = "toJsonString(String[, Boolean])";
            c.arity(1, 2, sig)?;
            let map = parse_document(c.str(0, sig)?).map_err(CallError::invalid)?;
            let json = to_json_string(&Value::map(map));
            // `true` string-encodes the JSON, ready to embed in a JSON document.
            let encode = c.len() == 2 && c.bool(1, sig)?;
            Ok(Value::str(if encode {
                to_json_string(&Value::str(json))
            } else {
                json
            }))
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Why an XML document could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum XmlError {
    #[error("Invalid XML: {problem} at line {line}")]
    At { problem: XmlProblem, line: usize },
    #[error("XML document has no root element")]
    NoRoot,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum XmlProblem {
    #[error("Text outside the root element")]
    TextOutsideRoot,
    #[error("missing '{0}'")]
    Missing(String),
    #[error("expected a name")]
    ExpectedName,
    #[error("elements nested too deeply")]
    TooDeep,
    #[error("attribute '{0}' has no value")]
    AttributeWithoutValue(String),
    #[error("attribute '{0}' is not quoted")]
    AttributeNotQuoted(String),
    #[error("attribute '{0}' is not closed")]
    AttributeNotClosed(String),
    #[error("element '{0}' is not closed")]
    ElementNotClosed(String),
    #[error("unterminated end tag")]
    UnterminatedEndTag,
    #[error("expected </{expected}>, found </{found}>")]
    MismatchedEndTag { expected: String, found: String },
    #[error("unterminated CDATA")]
    UnterminatedCdata,
    #[error("unterminated entity")]
    UnterminatedEntity,
    #[error("unknown entity '&{0};'")]
    UnknownEntity(String),
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

fn parse_document(src: &str) -> Result<Map, XmlError> {
    let mut p = Parser { src, pos: 0 };
    let mut root = Map::new();
    loop {
        p.skip_misc()?;
        if p.pos >= src.len() {
            break;
        }
        if !p.rest().starts_with('<') {
            return Err(p.error(XmlProblem::TextOutsideRoot));
        }
        let (name, value) = p.element(0)?;
        insert(&mut root, name, value);
    }
    if root.is_empty() {
        return Err(XmlError::NoRoot);
    }
    Ok(root)
}

/// Adds a child, turning repeated names into a list.
fn insert(map: &mut Map, name: String, value: Value) {
    match map.get_mut(&name) {
        Some(Value::List(items)) => items.borrow_mut().push(value),
        Some(existing) => {
            let first = std::mem::take(existing);
            *existing = Value::list(vec![first, value]);
        }
        None => {
            map.insert(name, value);
        }
    }
}

/// `"1"` → 1, `"true"` → true; numbers with leading zeros stay text (ids, zip codes).
fn scalar(text: &str) -> Value {
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
    if digits.starts_with(|c: char| c.is_ascii_digit()) && !leading_zero {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
        if text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
            && let Ok(f) = text.parse::<f64>()
        {
            return Value::Float(f);
        }
    }
    Value::str(text)
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn error(&self, problem: XmlProblem) -> XmlError {
        let line = self.src[..self.pos].matches('\n').count() + 1;
        XmlError::At { problem, line }
    }

    /// Skips whitespace, comments, processing instructions and DOCTYPE.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            let trimmed = self.rest().trim_start();
            self.pos = self.src.len() - trimmed.len();
            let close = if trimmed.starts_with("<?") {
                "?>"
            } else if trimmed.starts_with("<!--") {
                "-->"
            } else if trimmed.starts_with("<!DOCTYPE") {
                ">"
            } else {
                return Ok(());
            };
            self.skip_past(close)?;
        }
    }

    fn skip_past(&mut self, close: &str) -> Result<(), XmlError> {
        match self.rest().find(close) {
            Some(idx) => {
                self.pos += idx + close.len();
                Ok(())
            }
            None => Err(self.error(XmlProblem::Missing(close.to_owned()))),
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let rest = self.rest();
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/' | '=' | '<'))
            .unwrap_or(rest.len());
        if end == 0 {
            return Err(self.error(XmlProblem::ExpectedName));
        }
        self.pos += end;
        Ok(rest[..end].to_owned())
    }

    /// Parses `<name attrs>content</name>` at `pos`.
    fn element(&mut self, depth: usize) -> Result<(String, Value), XmlError> {
        if depth > MAX_DEPTH {
            return Err(self.error(XmlProblem::TooDeep));
        }
        self.pos += 1;
        let name = self.name()?;
        let mut fields = Map::new();
        loop {
            let trimmed = self.rest().trim_start();
            self.pos = self.src.len() - trimmed.len();
            if trimmed.starts_with("/>") {
                self.pos += 2;
                let value = if fields.is_empty() {
                    Value::str("")
                } else {
                    Value::map(fields)
                };
                return Ok((name, value));
            }
            if trimmed.starts_with('>') {
                self.pos += 1;
                break;
            }
            let attr = self.name()?;
            let rest = self.rest().trim_start();
            self.pos = self.src.len() - rest.len();
            if !rest.starts_with('=') {
                return Err(self.error(XmlProblem::AttributeWithoutValue(attr.clone())));
            }
            self.pos += 1;
            let rest = self.rest().trim_start();
            self.pos = self.src.len() - rest.len();
            let quote = rest.chars().next().filter(|q| matches!(q, '"' | '\''));
            let Some(quote) = quote else {
                return Err(self.error(XmlProblem::AttributeNotQuoted(attr.clone())));
            };
            let Some(end) = rest[1..].find(quote) else {
                return Err(self.error(XmlProblem::AttributeNotClosed(attr.clone())));
            };
            let raw = &rest[1..1 + end];
            self.pos += end + 2;
            insert(
                &mut fields,
                attr,
                scalar(&unescape(raw).map_err(|e| self.error(e))?),
            );
        }
        let mut text = String::new();
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(self.error(XmlProblem::ElementNotClosed(name.clone())));
            }
            if let Some(after) = rest.strip_prefix("</") {
                let end = after
                    .find('>')
                    .ok_or_else(|| self.error(XmlProblem::UnterminatedEndTag))?;
                let closing = after[..end].trim();
                if closing != name {
                    return Err(self.error(XmlProblem::MismatchedEndTag {
                        expected: name.clone(),
                        found: closing.to_owned(),
                    }));
                }
                self.pos += 2 + end + 1;
                break;
            }
            if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let end = after
                    .find("]]>")
                    .ok_or_else(|| self.error(XmlProblem::UnterminatedCdata))?;
                text.push_str(&after[..end]);
                self.pos += 9 + end + 3;
            } else if rest.starts_with("<!--") || rest.starts_with("<?") {
                self.skip_misc()?;
            } else if rest.starts_with('<') {
                let (child, value) = self.element(depth + 1)?;
                insert(&mut fields, child, value);
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                text.push_str(&unescape(&rest[..end]).map_err(|e| self.error(e))?);
                self.pos += end;
            }
        }
        let text = text.trim();
        let value = match (fields.is_empty(), text.is_empty()) {
            (true, true) => Value::str(""),
            (true, false) => scalar(text),
            (false, true) => Value::map(fields),
            (false, false) => {
                insert(&mut fields, "content".into(), scalar(text));
                Value::map(fields)
            }
        };
        Ok((name, value))
    }
}

/// Resolves the predefined entities and character references.
fn unescape(s: &str) -> Result<String, XmlProblem> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(idx) = rest.find('&') {
        out.push_str(&rest[..idx]);
        let after = &rest[idx + 1..];
        let end = after.find(';').ok_or(XmlProblem::UnterminatedEntity)?;
        let entity = &after[..end];
        let ch = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else {
                    entity.strip_prefix('#').and_then(|d| d.parse::<u32>().ok())
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| XmlProblem::UnknownEntity(entity.to_owned()))?
            }
        };
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;

    const ONE_POST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<posts>
<post>
  <id>1</id>
  <title>Getting started with GraphQL</title>
</post>
</posts>"#;

    const TWO_POSTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<posts>
<post>
  <id>1</id>
  <title>Getting started with GraphQL</title>
</post>
<post>
  <id>2</id>
  <title>Getting started with AWS AppSync</title>
</post>
</posts>"#;

    fn args(xml: &str) -> String {
        serde_json::json!([xml]).to_string()
    }

    #[test]
    fn dg_examples() {
        check(
            "util.xml",
            "toMap",
            &args(ONE_POST),
            r#"{"posts":{"post":{"id":1,"title":"Getting started with GraphQL"}}}"#,
        );
        check(
            "util.xml",
            "toMap",
            &args(TWO_POSTS),
            r#"{"posts":{"post":[{"id":1,"title":"Getting started with GraphQL"},{"id":2,"title":"Getting started with AWS AppSync"}]}}"#,
        );
        check(
            "util.xml",
            "toJsonString",
            &args(ONE_POST),
            r#""{\"posts\":{\"post\":{\"id\":1,\"title\":\"Getting started with GraphQL\"}}}""#,
        );
        let encoded = serde_json::json!([ONE_POST, true]).to_string();
        check(
            "util.xml",
            "toJsonString",
            &encoded,
            r#""\"{\\\"posts\\\":{\\\"post\\\":{\\\"id\\\":1,\\\"title\\\":\\\"Getting started with GraphQL\\\"}}}\"""#,
        );
    }

    #[test]
    fn details() {
        let cases = [
            (
                r#"<!-- c --><r a="1" b='x &amp; y'><e/><t>true</t><z>007</z><f>-1.5</f><m k="v">txt</m><![CDATA[<raw>]]></r>"#,
                r#"{"r":{"a":1,"b":"x & y","e":"","t":true,"z":"007","f":-1.5,"m":{"k":"v","content":"txt"},"content":"<raw>"}}"#,
            ),
            ("<a>&lt;&#65;&#x42;&gt;</a>", r#"{"a":"<AB>"}"#),
            (
                "<a><b>1</b><c/><b>2</b><b>3</b></a>",
                r#"{"a":{"b":[1,2,3],"c":""}}"#,
            ),
        ];
        for (xml, want) in cases {
            check("util.xml", "toMap", &args(xml), want);
        }
    }

    #[test]
    fn malformed_documents() {
        let deep = "<a>".repeat(300);
        let cases = [
            (
                "<a><b></a>",
                "!Invalid: Invalid XML: expected </b>, found </a> at line 1",
            ),
            (
                "<a>",
                "!Invalid: Invalid XML: element 'a' is not closed at line 1",
            ),
            ("", "!Invalid: XML document has no root element"),
            (
                "text",
                "!Invalid: Invalid XML: Text outside the root element at line 1",
            ),
            (
                "<a x=1/>",
                "!Invalid: Invalid XML: attribute 'x' is not quoted at line 1",
            ),
            (
                "<a>&nope;</a>",
                "!Invalid: Invalid XML: unknown entity '&nope;' at line 1",
            ),
            (
                "<a>\n<!-- x",
                "!Invalid: Invalid XML: missing '-->' at line 2",
            ),
            (
                deep.as_str(),
                "!Invalid: Invalid XML: elements nested too deeply at line 1",
            ),
        ];
        for (xml, want) in cases {
            check("util.xml", "toMap", &args(xml), want);
        }
    }
}
