//! The `#` directives: `#set`, `#if`, `#foreach`, `#define`, `#macro`, ...

use std::sync::Arc;

use super::{PResult, Parser, Stop, is_word_char};
use crate::vtl::ast::{Expr, Macro, Node, Span};

impl<'s> Parser<'s> {
    /// Looks at `#name` / `#{name}` at the cursor without moving it.
    pub(super) fn directive_word_end(&self) -> Option<(&'s str, usize)> {
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
    pub(super) fn hash(
        &mut self,
        text: &mut String,
        nodes: &mut Vec<Node>,
    ) -> PResult<Option<Stop>> {
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

    pub(super) fn skip_inline_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// `#break($foreach)` takes an optional scope argument we do not need.
    pub(super) fn optional_args(&mut self) -> PResult<()> {
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

    pub(super) fn paren_expr(&mut self, directive: &str) -> PResult<Expr> {
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

    pub(super) fn set_directive(&mut self) -> PResult<Node> {
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

    pub(super) fn if_directive(&mut self, start: usize) -> PResult<Node> {
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

    pub(super) fn block_until_end(&mut self, directive: &str, start: usize) -> PResult<Vec<Node>> {
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

    pub(super) fn loop_var(&mut self, directive: &str) -> PResult<Arc<str>> {
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

    pub(super) fn foreach_directive(&mut self, start: usize) -> PResult<Node> {
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

    pub(super) fn define_directive(&mut self, start: usize) -> PResult<Node> {
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

    pub(super) fn macro_directive(&mut self, start: usize) -> PResult<()> {
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

    pub(super) fn macro_args(&mut self) -> PResult<Vec<Expr>> {
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
}
