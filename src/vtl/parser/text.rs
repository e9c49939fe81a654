//! Template text, escapes and references.

use std::sync::Arc;

use super::{DIRECTIVES, PResult, Parser, Stop, is_ident_start};
use crate::vtl::ast::{Node, Part, Reference, Span};

impl<'s> Parser<'s> {
    /// Parses text and directives until EOF or a block terminator.
    pub(super) fn parse_block(&mut self) -> PResult<(Vec<Node>, Stop)> {
        self.nested(|p| {
            let saved = std::mem::take(&mut p.seg_start);
            let res = p.parse_block_inner();
            p.seg_start = saved;
            res
        })
    }

    pub(super) fn parse_block_inner(&mut self) -> PResult<(Vec<Node>, Stop)> {
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

    pub(super) fn backslashes(&mut self, text: &mut String, nodes: &mut Vec<Node>) -> PResult<()> {
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

    /// Parses a reference at `$`. Returns `None` (cursor unspecified) when
    /// the `$` does not start one, so it is text.
    pub(super) fn reference(&mut self) -> PResult<Option<Reference>> {
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
        self.nested(|p| p.ref_parts(&mut parts))?;
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

    pub(super) fn ref_parts(&mut self, parts: &mut Vec<Part>) -> PResult<()> {
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
}
