//! A hand-written recursive-descent parser for Velocity 1.7 templates.
//!
//! Velocity's grammar is context sensitive (text vs. directive arguments), so
//! the parser scans the source bytes directly instead of using a token stream.
//!
//! `text` reads template text and references, `directives` the `#` directives,
//! `expr` the expressions inside them.

mod directives;
mod expr;
mod text;

use std::sync::Arc;

use crate::vtl::ast::{Expr, Macros, Node, Span};

/// Deep nesting is refused instead of overflowing the stack.
const MAX_DEPTH: u32 = 100;
/// Stack left when a nested parse moves to a fresh segment, and that segment's size.
const STACK_RED_ZONE: usize = 64 * 1024;
const STACK_GROWTH: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

type PResult<T> = Result<T, SyntaxError>;

/// What ended a block.
enum Stop {
    Eof,
    End(Span),
    Else(Span),
    ElseIf(Expr, Span),
}

const DIRECTIVES: &[&str] = &[
    "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "return", "define", "macro",
];

pub struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    /// Parsing stops here (the end of a string literal when interpolating).
    limit: usize,
    /// Inside a `"..."` literal, `""` stands for one `"`.
    in_string: bool,
    depth: u32,
    /// Where the current run of plain text began in the block's text buffer
    /// (after the last reference, directive or comment).
    seg_start: usize,
    pub macros: Macros,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Velocity 1.7 identifiers may contain `-`: `$a-b` is one reference.
fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<u8> {
        (self.pos < self.limit).then(|| self.b[self.pos])
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        let i = self.pos + off;
        (i < self.limit).then(|| self.b[i])
    }

    fn starts_with(&self, s: &str) -> bool {
        self.b[self.pos..self.limit].starts_with(s.as_bytes())
    }

    fn err<T>(&self, message: impl Into<String>, start: usize, end: usize) -> PResult<T> {
        Err(SyntaxError {
            message: message.into(),
            span: Span::new(start, end.max(start)),
        })
    }

    fn err_here<T>(&self, message: impl Into<String>) -> PResult<T> {
        let end = self.next_char_end();
        self.err(message, self.pos, end)
    }

    fn next_char_end(&self) -> usize {
        match self.src[self.pos.min(self.limit)..self.limit]
            .chars()
            .next()
        {
            Some(c) => self.pos + c.len_utf8(),
            None => self.pos,
        }
    }

    /// Runs `f` one nesting level deeper. Deep nesting is refused; the
    /// native stack grows when it runs low (debug builds have large frames).
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return self.err_here(format!("template nesting deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let res = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || f(self));
        self.depth -= 1;
        res
    }

    fn describe_here(&self) -> String {
        match self.src[self.pos.min(self.limit)..self.limit]
            .chars()
            .next()
        {
            None => "end of input".into(),
            Some('\n') => "end of line".into(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn ident(&mut self) -> Option<&'s str> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        self.pos += 1;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        Some(&self.src[start..self.pos])
    }

    /// Velocity 1.7 eats `[ \t]*` plus one newline after a directive's `)`,
    /// `#else` and `#end`; leading indentation is kept.
    fn gobble_line_end(&mut self) {
        let mut i = self.pos;
        while i < self.limit && (self.b[i] == b' ' || self.b[i] == b'\t') {
            i += 1;
        }
        if i < self.limit && self.b[i] == b'\n' {
            self.pos = i + 1;
        } else if i < self.limit && self.b[i] == b'\r' {
            self.pos = if i + 1 < self.limit && self.b[i + 1] == b'\n' {
                i + 2
            } else {
                i + 1
            };
        }
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> PResult<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err_here(format!("expected {what}, found {}", self.describe_here()))
        }
    }

    fn flush(&mut self, text: &mut String, nodes: &mut Vec<Node>) {
        self.seg_start = 0;
        if !text.is_empty() {
            nodes.push(Node::Text(Arc::from(text.as_str())));
            text.clear();
        }
    }
}

/// Top-level check used by `parse`: a terminator at top level is an error.
pub fn parse_template(src: &str) -> PResult<(Vec<Node>, Macros)> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        limit: src.len(),
        in_string: false,
        depth: 0,
        seg_start: 0,
        macros: Macros::new(),
    };
    let (nodes, stop) = p.parse_block()?;
    match stop {
        Stop::Eof => Ok((nodes, p.macros)),
        Stop::End(span) => p.err(
            "#end without a matching #if, #foreach, #define or #macro",
            span.start as usize,
            span.end as usize,
        ),
        Stop::Else(span) => p.err(
            "#else without a matching #if",
            span.start as usize,
            span.end as usize,
        ),
        Stop::ElseIf(_, span) => p.err(
            "#elseif without a matching #if",
            span.start as usize,
            span.end as usize,
        ),
    }
}
