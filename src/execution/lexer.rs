//! GraphQL's lexical grammar, for the checks that run before a full parse:
//! the `maxQueryTokens` guard and the operation cache's "may this text hold
//! a mutation" question. async-graphql's pest parser exposes no token
//! stream, and a full parse is what these checks exist to avoid.

/// The kinds of lexical token the spec defines. Ignored tokens
/// (whitespace, commas, comments, a byte order mark) are never produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A one-character punctuator such as `{` or `$`.
    Punctuator(u8),
    /// `...`
    Spread,
    Name,
    /// An int or float value (not validated here).
    Number,
    /// A string or block string value.
    String,
    /// A character the grammar does not allow; the parser rejects it later.
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
}

/// The tokens of a document, in order.
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens { text, pos: 0 }
}

/// How many lexical tokens a document has (the `maxQueryTokens` guard).
pub fn count_tokens(text: &str) -> usize {
    tokens(text).count()
}

/// Whether a document may define a mutation: some definition starts with
/// the `mutation` keyword. A `false` is certain; a `true` may come from a
/// fragment named `mutation` and only costs the caller its fast path.
pub fn may_hold_mutation(text: &str) -> bool {
    // This runs per request on the operation cache's fast path: a text
    // without the word at all needs no tokenizing.
    if !text.contains("mutation") {
        return false;
    }
    let mut depth = 0usize;
    let mut at_definition_start = true;
    for token in tokens(text) {
        match token.kind {
            TokenKind::Punctuator(b'{' | b'(' | b'[') => {
                depth += 1;
                at_definition_start = false;
            }
            TokenKind::Punctuator(b'}' | b')' | b']') => {
                depth = depth.saturating_sub(1);
                // A definition ends with its top-level selection set.
                at_definition_start = depth == 0 && token.text == "}";
            }
            TokenKind::Name if depth == 0 && at_definition_start => {
                if token.text == "mutation" {
                    return true;
                }
                at_definition_start = false;
            }
            _ => at_definition_start = false,
        }
    }
    false
}

pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let b = self.text.as_bytes();
        let mut i = self.pos;
        // Skip ignored tokens.
        loop {
            match b.get(i) {
                Some(b' ' | b'\t' | b'\n' | b'\r' | b',') => i += 1,
                Some(b'#') => {
                    while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                        i += 1;
                    }
                }
                // U+FEFF, the byte order mark, is ignored.
                Some(0xEF) if b[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => i += 3,
                Some(_) => break,
                None => {
                    self.pos = i;
                    return None;
                }
            }
        }
        let start = i;
        let kind = match b[i] {
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped triple quote inside a block string.
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                TokenKind::String
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' && b[i] != b'\r' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                TokenKind::String
            }
            b'.' if b[i..].starts_with(b"...") => {
                i += 3;
                TokenKind::Spread
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                TokenKind::Name
            }
            c if c == b'-' || c.is_ascii_digit() => {
                i += 1;
                while i < b.len() {
                    let c = b[i];
                    let sign_after_exponent =
                        (c == b'+' || c == b'-') && matches!(b[i - 1], b'e' | b'E');
                    if c.is_ascii_alphanumeric() || c == b'.' || sign_after_exponent {
                        i += 1;
                    } else {
                        break;
                    }
                }
                TokenKind::Number
            }
            c @ (b'!' | b'$' | b'&' | b'(' | b')' | b':' | b'=' | b'@' | b'[' | b']' | b'{'
            | b'|' | b'}') => {
                i += 1;
                TokenKind::Punctuator(c)
            }
            _ => {
                // One token per character, not per UTF-8 byte.
                i += 1;
                while i < b.len() && b[i] & 0xC0 == 0x80 {
                    i += 1;
                }
                TokenKind::Invalid
            }
        };
        // An unterminated string runs to the end of the text.
        let end = i.min(b.len());
        self.pos = end;
        Some(Token {
            kind,
            text: self.text.get(start..end).unwrap_or(""),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lexical_tokens() {
        let cases = [
            ("", 0),
            ("{ a }", 3),
            ("{a,b , c}", 5),
            ("query Q($id: ID!) { getPost(id: $id) { id } }", 21),
            ("{ a(x: -1.5e+3, y: \"s \\\" t\") }", 11),
            ("# comment only\n{ a } # trailing", 3),
            ("{ ...F } fragment F on Query { a }", 11),
            ("{ a(s: \"\"\"block \\\"\"\" end\"\"\") }", 8),
            ("\u{feff}{ é }", 3),
            ("{ a(s: \"unterminated", 6),
        ];
        for (text, expected) in cases {
            assert_eq!(count_tokens(text), expected, "{text:?}");
        }
    }

    #[test]
    fn token_texts() {
        let texts: Vec<&str> = tokens("query Q { a(s: \"x y\") ...F }")
            .map(|t| t.text)
            .collect();
        assert_eq!(
            texts,
            [
                "query", "Q", "{", "a", "(", "s", ":", "\"x y\"", ")", "...", "F", "}"
            ]
        );
    }

    #[test]
    fn finds_mutations_only_where_a_definition_starts() {
        let cases = [
            ("mutation { a }", true),
            ("  # note\n mutation M($x: Int) { a(x: $x) }", true),
            ("query A { a } mutation B { b }", true),
            ("{ mutation }", false),
            ("{ a(text: \"mutation\") }", false),
            ("# mutation\n{ a }", false),
            ("query Q($m: Kind = mutation) { a }", false),
            ("query mutation { a }", false),
            ("{ a } fragment F on Mutation { b }", false),
            ("{ a(s: \"\"\"\nmutation { x }\n\"\"\") }", false),
            ("subscription { s }", false),
        ];
        for (text, expected) in cases {
            assert_eq!(may_hold_mutation(text), expected, "{text:?}");
        }
    }
}
