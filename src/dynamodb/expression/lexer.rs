//! Expression text to tokens; unknown characters become `Bad` tokens so the
//! parser reports them as DynamoDB does, as syntax errors.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Name(String),
    Value(String),
    Int(String),
    Sym(&'static str),
    Bad(char),
    Eof,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn lex(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_part = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c == b'#' || c == b':' {
            i += 1;
            while i < bytes.len() && ident_part(bytes[i]) {
                i += 1;
            }
            let text = src[start..i].to_string();
            if c == b'#' {
                Tok::Name(text)
            } else {
                Tok::Value(text)
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && ident_part(bytes[i]) {
                i += 1;
            }
            Tok::Ident(src[start..i].to_string())
        } else if c.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            Tok::Int(src[start..i].to_string())
        } else {
            let two = src.get(i..i + 2).unwrap_or("");
            let sym = match two {
                "<>" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                i += 2;
                Tok::Sym(s)
            } else {
                let one = match c {
                    b'(' => Some("("),
                    b')' => Some(")"),
                    b'[' => Some("["),
                    b']' => Some("]"),
                    b',' => Some(","),
                    b'.' => Some("."),
                    b'=' => Some("="),
                    b'<' => Some("<"),
                    b'>' => Some(">"),
                    b'+' => Some("+"),
                    b'-' => Some("-"),
                    _ => None,
                };
                match one {
                    Some(s) => {
                        i += 1;
                        Tok::Sym(s)
                    }
                    None => {
                        let ch = src[i..].chars().next().unwrap_or('?');
                        i += ch.len_utf8();
                        Tok::Bad(ch)
                    }
                }
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::Eof,
        start: src.len(),
        end: src.len(),
    });
    out
}
