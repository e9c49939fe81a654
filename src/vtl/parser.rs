//! A hand-written recursive-descent parser for Velocity 1.7 templates.
//!
//! Velocity's grammar is context sensitive (text vs. directive arguments), so
//! the parser scans the source bytes directly instead of using a token stream.

use std::sync::Arc;

use crate::vtl::ast::{BinOp, Expr, Macro, Macros, Node, Part, Reference, Span};

/// Deep nesting is refused instead of overflowing the stack.
const MAX_DEPTH: u32 = 100;

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
    stack_base: usize,
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

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        // Debug builds have large frames, so the stack is measured as well.
        if self.depth > MAX_DEPTH
            || self.stack_base.abs_diff(crate::vtl::eval::stack_addr()) > 512 * 1024
        {
            return self.err_here(format!("template nesting deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
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

    /// Parses text and directives until EOF or a block terminator.
    fn parse_block(&mut self) -> PResult<(Vec<Node>, Stop)> {
        self.enter()?;
        let saved = std::mem::take(&mut self.seg_start);
        let res = self.parse_block_inner();
        self.seg_start = saved;
        self.leave();
        res
    }

    fn parse_block_inner(&mut self) -> PResult<(Vec<Node>, Stop)> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        loop {
            // Copy plain text in one go.
            let start = self.pos;
            while let Some(c) = self.peek() {
                if c == b'$' || c == b'#' || c == b'\\' || (self.in_string && c == b'"') {
                    break;
                }
                self.pos += 1;
            }
            text.push_str(&self.src[start..self.pos]);
            let Some(c) = self.peek() else {
                self.flush(&mut text, &mut nodes);
                return Ok((nodes, Stop::Eof));
            };
            match c {
                b'"' => {
                    // Only reached in strings: `""` is an escaped quote.
                    text.push('"');
                    self.pos += if self.peek_at(1) == Some(b'"') { 2 } else { 1 };
                }
                b'$' => {
                    let start = self.pos;
                    match self.reference()? {
                        Some(r) => {
                            self.flush(&mut text, &mut nodes);
                            nodes.push(Node::Ref(r));
                        }
                        None => {
                            // Velocity 1.7 prints a `$!` that starts no reference as `$`.
                            self.pos = start + 1;
                            if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'{') {
                                self.pos += 1;
                            }
                            text.push('$');
                        }
                    }
                }
                b'\\' => {
                    self.backslashes(&mut text, &mut nodes)?;
                    self.seg_start = text.len();
                }
                _ => {
                    if let Some(stop) = self.hash(&mut text, &mut nodes)? {
                        self.flush(&mut text, &mut nodes);
                        return Ok((nodes, stop));
                    }
                }
            }
        }
    }

    fn backslashes(&mut self, text: &mut String, nodes: &mut Vec<Node>) -> PResult<()> {
        let start = self.pos;
        while self.peek() == Some(b'\\') {
            self.pos += 1;
        }
        let count = self.pos - start;
        match self.peek() {
            Some(b'$') => {
                let at = self.pos;
                match self.reference()? {
                    Some(reference) => {
                        self.flush(text, nodes);
                        nodes.push(Node::EscapedRef {
                            backslashes: count as u32,
                            reference,
                        });
                    }
                    None => {
                        self.pos = at;
                        text.push_str(&self.src[start..at]);
                    }
                }
            }
            Some(b'#') => {
                let at = self.pos;
                let word_end = self.directive_word_end();
                let escaped_directive = word_end.is_some_and(|(name, _)| {
                    DIRECTIVES.contains(&name) || self.macros.contains_key(name)
                });
                match word_end {
                    Some((_, end)) if escaped_directive => {
                        for _ in 0..count / 2 {
                            text.push('\\');
                        }
                        if count % 2 == 1 {
                            text.push_str(&self.src[at..end]);
                            self.pos = end;
                        }
                        // An even count leaves the directive to run normally.
                    }
                    _ => text.push_str(&self.src[start..at]),
                }
            }
            _ => text.push_str(&self.src[start..self.pos]),
        }
        Ok(())
    }

    /// Looks at `#name` / `#{name}` at the cursor without moving it.
    fn directive_word_end(&self) -> Option<(&'s str, usize)> {
        let mut i = self.pos + 1;
        let braced = i < self.limit && self.b[i] == b'{';
        if braced {
            i += 1;
        }
        let start = i;
        if !(i < self.limit && self.b[i].is_ascii_alphabetic()) {
            return None;
        }
        while i < self.limit && (is_word_char(self.b[i])) {
            i += 1;
        }
        let name = &self.src[start..i];
        if braced {
            if i < self.limit && self.b[i] == b'}' {
                Some((name, i + 1))
            } else {
                None
            }
        } else {
            Some((name, i))
        }
    }

    /// Handles a `#` in text. Returns a terminator when one is met.
    fn hash(&mut self, text: &mut String, nodes: &mut Vec<Node>) -> PResult<Option<Stop>> {
        let start = self.pos;
        if self.starts_with("##") {
            while let Some(c) = self.peek() {
                self.pos += 1;
                if c == b'\n' {
                    break;
                }
            }
            self.seg_start = text.len();
            return Ok(None);
        }
        if self.starts_with("#*") {
            // Velocity 1.7 lets an unclosed block comment run to the end.
            match self.src[self.pos + 2..self.limit].find("*#") {
                Some(off) => self.pos += 2 + off + 2,
                None => self.pos = self.limit,
            }
            self.seg_start = text.len();
            return Ok(None);
        }
        if self.starts_with("#[[") {
            match self.src[self.pos + 3..self.limit].find("]]#") {
                Some(off) => {
                    text.push_str(&self.src[self.pos + 3..self.pos + 3 + off]);
                    self.pos += 3 + off + 3;
                    self.seg_start = text.len();
                }
                None => return self.err("unclosed `#[[`: missing `]]#`", start, start + 3),
            }
            return Ok(None);
        }
        let Some((name, end)) = self.directive_word_end() else {
            text.push('#');
            self.pos += 1;
            return Ok(None);
        };
        let span_end = end;
        match name {
            "end" => {
                self.pos = end;
                self.gobble_line_end();
                Ok(Some(Stop::End(Span::new(start, span_end))))
            }
            "else" => {
                self.pos = end;
                self.gobble_line_end();
                Ok(Some(Stop::Else(Span::new(start, span_end))))
            }
            "elseif" => {
                self.pos = end;
                let cond = self.paren_expr("#elseif")?;
                self.gobble_line_end();
                Ok(Some(Stop::ElseIf(cond, Span::new(start, span_end))))
            }
            "set" => {
                self.pos = end;
                // Velocity 1.7's #set token swallows the spaces before it,
                // unless they follow other text on the same run.
                let seg = self.seg_start.min(text.len());
                if text[seg..].bytes().all(|c| c == b' ' || c == b'\t') {
                    text.truncate(seg);
                }
                self.flush(text, nodes);
                nodes.push(self.set_directive()?);
                Ok(None)
            }
            "if" => {
                self.pos = end;
                self.flush(text, nodes);
                nodes.push(self.if_directive(start)?);
                Ok(None)
            }
            "foreach" => {
                self.pos = end;
                self.flush(text, nodes);
                nodes.push(self.foreach_directive(start)?);
                Ok(None)
            }
            "break" | "stop" => {
                self.pos = end;
                self.optional_args()?;
                self.flush(text, nodes);
                nodes.push(if name == "break" {
                    Node::Break
                } else {
                    Node::Stop
                });
                Ok(None)
            }
            "return" => {
                self.pos = end;
                let save = self.pos;
                self.skip_inline_ws();
                let value = if self.peek() == Some(b'(') {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        None
                    } else {
                        let e = self.expr()?;
                        self.expect(b')', "`)` to close #return")?;
                        Some(e)
                    }
                } else {
                    self.pos = save;
                    None
                };
                if value.is_some() {
                    self.gobble_line_end();
                }
                self.flush(text, nodes);
                nodes.push(Node::Return(value));
                Ok(None)
            }
            "define" => {
                self.pos = end;
                self.flush(text, nodes);
                nodes.push(self.define_directive(start)?);
                Ok(None)
            }
            "macro" => {
                self.pos = end;
                self.macro_directive(start)?;
                Ok(None)
            }
            _ => {
                // `#name(...)` is a macro call (resolved at render time, as
                // macros may be defined later); anything else is text.
                let save = self.pos;
                self.pos = end;
                self.skip_inline_ws();
                if self.peek() == Some(b'(') && !name.is_empty() {
                    self.pos += 1;
                    let args = self.macro_args()?;
                    let span = Span::new(start, self.pos);
                    self.gobble_line_end();
                    self.flush(text, nodes);
                    nodes.push(Node::MacroCall {
                        name: Arc::from(name),
                        args,
                        span,
                    });
                } else {
                    self.pos = save + 1;
                    text.push('#');
                }
                Ok(None)
            }
        }
    }

    fn skip_inline_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// `#break($foreach)` takes an optional scope argument we do not need.
    fn optional_args(&mut self) -> PResult<()> {
        if self.peek() == Some(b'(') {
            self.pos += 1;
            self.skip_ws();
            if self.peek() != Some(b')') {
                self.expr()?;
            }
            self.expect(b')', "`)`")?;
            self.gobble_line_end();
        }
        Ok(())
    }

    fn paren_expr(&mut self, directive: &str) -> PResult<Expr> {
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return self.err_here(format!(
                "expected `(` after {directive}, found {}",
                self.describe_here()
            ));
        }
        self.pos += 1;
        self.skip_ws();
        let e = self.expr()?;
        self.expect(b')', &format!("`)` to close {directive}"))?;
        Ok(e)
    }

    fn set_directive(&mut self) -> PResult<Node> {
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return self.err_here(format!(
                "expected `(` after #set, found {}",
                self.describe_here()
            ));
        }
        self.pos += 1;
        self.skip_ws();
        let at = self.pos;
        let target = match self.peek() {
            Some(b'$') => self.reference()?,
            _ => None,
        };
        let Some(target) = target else {
            self.pos = at;
            return self.err_here(format!(
                "expected a reference such as `$name` on the left of #set, found {}",
                self.describe_here()
            ));
        };
        self.expect(b'=', "`=` in #set")?;
        self.skip_ws();
        let value = self.expr()?;
        self.expect(b')', "`)` to close #set")?;
        self.gobble_line_end();
        Ok(Node::Set { target, value })
    }

    fn if_directive(&mut self, start: usize) -> PResult<Node> {
        let cond = self.paren_expr("#if")?;
        self.gobble_line_end();
        let mut branches = Vec::new();
        let mut cur = cond;
        loop {
            let (body, stop) = self.parse_block()?;
            match stop {
                Stop::End(_) => {
                    branches.push((cur, body));
                    return Ok(Node::If {
                        branches,
                        otherwise: None,
                    });
                }
                Stop::ElseIf(next, _) => {
                    branches.push((cur, body));
                    cur = next;
                }
                Stop::Else(else_span) => {
                    branches.push((cur, body));
                    let (otherwise, stop) = self.parse_block()?;
                    return match stop {
                        Stop::End(_) => Ok(Node::If {
                            branches,
                            otherwise: Some(otherwise),
                        }),
                        Stop::Eof => self.err("unclosed #if: missing #end", start, start + 3),
                        Stop::Else(span) | Stop::ElseIf(_, span) => {
                            let (line, col) =
                                crate::vtl::eval::line_col(self.src, else_span.start as usize);
                            self.err(
                                format!(
                                    "#else or #elseif after this #if's #else (at line {line}, column {col})"
                                ),
                                span.start as usize,
                                span.end as usize,
                            )
                        }
                    };
                }
                Stop::Eof => return self.err("unclosed #if: missing #end", start, start + 3),
            }
        }
    }

    fn block_until_end(&mut self, directive: &str, start: usize) -> PResult<Vec<Node>> {
        let (body, stop) = self.parse_block()?;
        match stop {
            Stop::End(_) => Ok(body),
            Stop::Eof => self.err(
                format!("unclosed {directive}: missing #end"),
                start,
                start + directive.len(),
            ),
            Stop::Else(span) => self.err(
                format!("#else without #if (inside {directive})"),
                span.start as usize,
                span.end as usize,
            ),
            Stop::ElseIf(_, span) => self.err(
                format!("#elseif without #if (inside {directive})"),
                span.start as usize,
                span.end as usize,
            ),
        }
    }

    fn loop_var(&mut self, directive: &str) -> PResult<Arc<str>> {
        self.skip_ws();
        if self.peek() != Some(b'$') {
            return self.err_here(format!(
                "expected a variable such as `$item` in {directive}, found {}",
                self.describe_here()
            ));
        }
        self.pos += 1;
        if self.peek() == Some(b'!') {
            self.pos += 1;
        }
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(name) = self.ident() else {
            return self.err_here(format!("expected a variable name in {directive}"));
        };
        if braced {
            self.expect(b'}', "`}`")?;
        }
        Ok(Arc::from(name))
    }

    fn foreach_directive(&mut self, start: usize) -> PResult<Node> {
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return self.err_here(format!(
                "expected `(` after #foreach, found {}",
                self.describe_here()
            ));
        }
        self.pos += 1;
        let var = self.loop_var("#foreach")?;
        self.skip_ws();
        // Velocity 1.7 accepts any word here, not only `in`.
        if !self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            return self.err_here(format!(
                "expected `in` in #foreach, found {}",
                self.describe_here()
            ));
        }
        while self.peek().is_some_and(is_word_char) {
            self.pos += 1;
        }
        self.skip_ws();
        let iterable = self.expr()?;
        self.expect(b')', "`)` to close #foreach")?;
        let span = Span::new(start, self.pos);
        self.gobble_line_end();
        let body = self.block_until_end("#foreach", start)?;
        Ok(Node::Foreach {
            var,
            iterable,
            body,
            span,
        })
    }

    fn define_directive(&mut self, start: usize) -> PResult<Node> {
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return self.err_here("expected `(` after #define");
        }
        self.pos += 1;
        let name = self.loop_var("#define")?;
        self.expect(b')', "`)` to close #define")?;
        self.gobble_line_end();
        let body = self.block_until_end("#define", start)?;
        Ok(Node::Define {
            name,
            body: Arc::new(body),
        })
    }

    fn macro_directive(&mut self, start: usize) -> PResult<()> {
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return self.err_here("expected `(` after #macro");
        }
        self.pos += 1;
        self.skip_ws();
        let Some(name) = self.ident() else {
            return self.err_here(format!(
                "expected a macro name in #macro, found {}",
                self.describe_here()
            ));
        };
        let name: Arc<str> = Arc::from(name);
        let mut params = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                Some(b',') => self.pos += 1,
                Some(b'$') => params.push(self.loop_var("#macro")?),
                _ => {
                    return self.err_here(format!(
                        "expected a parameter such as `$arg` or `)` in #macro, found {}",
                        self.describe_here()
                    ));
                }
            }
        }
        self.gobble_line_end();
        // Registered before the body so the macro may call itself.
        let body = self.block_until_end("#macro", start)?;
        self.macros.insert(name, Arc::new(Macro { params, body }));
        Ok(())
    }

    fn macro_args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                Some(b',') => self.pos += 1,
                None => return self.err_here("unclosed macro call: missing `)`"),
                _ => args.push(self.expr()?),
            }
        }
    }

    /// Parses a reference at `$`. Returns `None` (cursor unspecified) when
    /// the `$` does not start one, so it is text.
    fn reference(&mut self) -> PResult<Option<Reference>> {
        let start = self.pos;
        self.pos += 1;
        let quiet = self.peek() == Some(b'!');
        if quiet {
            self.pos += 1;
        }
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(name) = self.ident() else {
            return Ok(None);
        };
        let name = Arc::from(name);
        let mut parts = Vec::new();
        self.enter()?;
        let res = self.ref_parts(&mut parts);
        self.leave();
        res?;
        if braced {
            if self.peek() != Some(b'}') {
                return self.err(
                    format!(
                        "unclosed `${{`: expected `}}`, found {}",
                        self.describe_here()
                    ),
                    start,
                    self.next_char_end(),
                );
            }
            self.pos += 1;
        }
        Ok(Some(Reference {
            name,
            quiet,
            parts,
            span: Span::new(start, self.pos),
        }))
    }

    fn ref_parts(&mut self, parts: &mut Vec<Part>) -> PResult<()> {
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    let part_start = self.pos;
                    self.pos += 1;
                    let name: Arc<str> = Arc::from(self.ident().unwrap_or_default());
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let mut args = Vec::new();
                        self.skip_ws();
                        if self.peek() == Some(b')') {
                            self.pos += 1;
                        } else {
                            loop {
                                self.skip_ws();
                                args.push(self.expr()?);
                                self.skip_ws();
                                match self.peek() {
                                    Some(b',') => self.pos += 1,
                                    Some(b')') => {
                                        self.pos += 1;
                                        break;
                                    }
                                    _ => {
                                        return self.err_here(format!(
                                            "expected `,` or `)` in the arguments of `{name}`, found {}",
                                            self.describe_here()
                                        ));
                                    }
                                }
                            }
                        }
                        parts.push(Part::Method {
                            name,
                            args,
                            span: Span::new(part_start, self.pos),
                        });
                    } else {
                        parts.push(Part::Property(name));
                    }
                }
                Some(b'[') => {
                    // `$a[...]` that does not parse is left as text, as in
                    // `$price[USD]`.
                    let save = self.pos;
                    self.pos += 1;
                    self.skip_ws();
                    let idx = match self.expr() {
                        Ok(e) => e,
                        Err(_) => {
                            self.pos = save;
                            return Ok(());
                        }
                    };
                    self.skip_ws();
                    if self.peek() != Some(b']') {
                        self.pos = save;
                        return Ok(());
                    }
                    self.pos += 1;
                    parts.push(Part::Index(idx, Span::new(save, self.pos)));
                }
                _ => return Ok(()),
            }
        }
    }

    // ---- expressions ----

    pub fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let res = self.or_expr();
        self.leave();
        res
    }

    /// Matches an operator word (`and`, `eq`, ...) not followed by a word char.
    fn word_op(&mut self, word: &str) -> bool {
        if self.starts_with(word) && !self.peek_at(word.len()).is_some_and(is_word_char) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn sym_op(&mut self, sym: &str) -> bool {
        if self.starts_with(sym) {
            self.pos += sym.len();
            true
        } else {
            false
        }
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.and_expr()?;
        loop {
            self.skip_ws();
            if self.sym_op("||") || self.word_op("or") {
                self.skip_ws();
                let rhs = self.and_expr()?;
                lhs = Expr::Binary(BinOp::Or, Box::new(lhs), Box::new(rhs));
            } else {
                return Ok(lhs);
            }
        }
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.eq_expr()?;
        loop {
            self.skip_ws();
            if self.sym_op("&&") || self.word_op("and") {
                self.skip_ws();
                let rhs = self.eq_expr()?;
                lhs = Expr::Binary(BinOp::And, Box::new(lhs), Box::new(rhs));
            } else {
                return Ok(lhs);
            }
        }
    }

    fn eq_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.rel_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym_op("==") || self.word_op("eq") {
                BinOp::Eq
            } else if self.sym_op("!=") || self.word_op("ne") {
                BinOp::Ne
            } else {
                return Ok(lhs);
            };
            self.skip_ws();
            let rhs = self.rel_expr()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn rel_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.add_expr()?;
        loop {
            self.skip_ws();
            let op = if self.sym_op("<=") || self.word_op("le") {
                BinOp::Le
            } else if self.sym_op(">=") || self.word_op("ge") {
                BinOp::Ge
            } else if self.sym_op("<") || self.word_op("lt") {
                BinOp::Lt
            } else if self.sym_op(">") || self.word_op("gt") {
                BinOp::Gt
            } else {
                return Ok(lhs);
            };
            self.skip_ws();
            let rhs = self.add_expr()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn add_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.mul_expr()?;
        loop {
            self.skip_ws();
            let op = match self.peek() {
                Some(b'+') => BinOp::Add,
                Some(b'-') => BinOp::Sub,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            self.skip_ws();
            let rhs = self.mul_expr()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn mul_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            self.skip_ws();
            let op = match self.peek() {
                Some(b'*') => BinOp::Mul,
                Some(b'/') => BinOp::Div,
                Some(b'%') => BinOp::Mod,
                _ => return Ok(lhs),
            };
            self.pos += 1;
            self.skip_ws();
            let rhs = self.unary()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=') {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary();
            self.leave();
            return Ok(Expr::Not(Box::new(inner?)));
        }
        if self.word_op("not") {
            self.enter()?;
            let inner = self.unary();
            self.leave();
            return Ok(Expr::Not(Box::new(inner?)));
        }
        if self.peek() == Some(b'-') && !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            return self.err_here(
                "Velocity 1.7 has no unary minus: `-` must be followed by a number (write `0 - $x`)",
            );
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'$') => match self.reference()? {
                Some(r) => Ok(Expr::Ref(Box::new(r))),
                None => self.err("expected a reference name after `$`", start, start + 1),
            },
            Some(b'"') => self.dq_string(),
            Some(b'\'') => {
                self.pos += 1;
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => {
                            return self.err("unclosed string literal", start, start + 1);
                        }
                        Some(b'\'') if self.peek_at(1) == Some(b'\'') => {
                            s.push('\'');
                            self.pos += 2;
                        }
                        Some(b'\'') => {
                            self.pos += 1;
                            return Ok(Expr::Str(Arc::from(s)));
                        }
                        Some(_) => {
                            let end = self.next_char_end();
                            s.push_str(&self.src[self.pos..end]);
                            self.pos = end;
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => self.number(),
            Some(b'[') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.expr()?;
                self.skip_ws();
                if self.sym_op("..") {
                    self.skip_ws();
                    let last = self.expr()?;
                    self.expect(b']', "`]` to close the range")?;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => {
                            self.pos += 1;
                            self.skip_ws();
                            items.push(self.expr()?);
                        }
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Expr::List(items));
                        }
                        _ => {
                            return self.err_here(format!(
                                "expected `,` or `]` in the list, found {}",
                                self.describe_here()
                            ));
                        }
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut pairs = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Expr::Map(pairs));
                }
                loop {
                    self.skip_ws();
                    let key = self.expr()?;
                    self.expect(b':', "`:` after the map key")?;
                    self.skip_ws();
                    let value = self.expr()?;
                    pairs.push((key, value));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Expr::Map(pairs));
                        }
                        _ => {
                            return self.err_here(format!(
                                "expected `,` or `}}` in the map, found {}",
                                self.describe_here()
                            ));
                        }
                    }
                }
            }
            Some(b'(') => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(b')', "`)`")?;
                Ok(e)
            }
            _ => {
                if self.word_op("true") {
                    Ok(Expr::Bool(true))
                } else if self.word_op("false") {
                    Ok(Expr::Bool(false))
                } else {
                    self.err_here(format!(
                        "expected an expression, found {}",
                        self.describe_here()
                    ))
                }
            }
        }
    }

    fn number(&mut self) -> PResult<Expr> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let mut float = false;
        if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                float = true;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            } else {
                self.pos = save;
            }
        }
        let text = &self.src[start..self.pos];
        if !float && let Ok(i) = text.parse::<i64>() {
            return Ok(Expr::Int(i));
        }
        match text.parse::<f64>() {
            Ok(f) => Ok(Expr::Float(f)),
            Err(_) => self.err(
                format!("invalid number `{text}`"),
                start,
                self.pos.max(start + 1),
            ),
        }
    }

    fn dq_string(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.pos += 1;
        let content_start = self.pos;
        let mut interpolate = false;
        loop {
            match self.peek() {
                None => return self.err("unclosed string literal", start, start + 1),
                Some(b'"') if self.peek_at(1) == Some(b'"') => self.pos += 2,
                Some(b'"') => break,
                // Velocity 1.7 has no `\"` escape: a backslash is a plain character.
                Some(c) => {
                    if c == b'$' || c == b'#' {
                        interpolate = true;
                    }
                    self.pos += 1;
                }
            }
        }
        let content_end = self.pos;
        self.pos += 1;
        if !interpolate {
            let raw = &self.src[content_start..content_end];
            return Ok(Expr::Str(Arc::from(raw.replace("\"\"", "\"").as_str())));
        }
        // Velocity renders the literal's content as a template of its own.
        let saved = (self.pos, self.limit, self.in_string);
        self.pos = content_start;
        self.limit = content_end;
        self.in_string = true;
        let res = self.parse_block();
        self.pos = saved.0;
        self.limit = saved.1;
        self.in_string = saved.2;
        let (nodes, stop) = res?;
        match stop {
            Stop::Eof => Ok(Expr::Interpolated(nodes)),
            _ => self.err(
                "#end, #else or #elseif without an opening directive in the string",
                start,
                content_end + 1,
            ),
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
        stack_base: crate::vtl::eval::stack_addr(),
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
