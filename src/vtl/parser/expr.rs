//! Expressions: operators by precedence, literals, lists, maps and ranges.

use std::sync::Arc;

use super::{PResult, Parser, Stop, is_word_char};
use crate::vtl::ast::{BinOp, Expr};

impl<'s> Parser<'s> {
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        self.nested(Self::or_expr)
    }

    /// Matches an operator word (`and`, `eq`, ...) not followed by a word char.
    pub(super) fn word_op(&mut self, word: &str) -> bool {
        if self.starts_with(word) && !self.peek_at(word.len()).is_some_and(is_word_char) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    pub(super) fn sym_op(&mut self, sym: &str) -> bool {
        if self.starts_with(sym) {
            self.pos += sym.len();
            true
        } else {
            false
        }
    }

    pub(super) fn or_expr(&mut self) -> PResult<Expr> {
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

    pub(super) fn and_expr(&mut self) -> PResult<Expr> {
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

    pub(super) fn eq_expr(&mut self) -> PResult<Expr> {
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

    pub(super) fn rel_expr(&mut self) -> PResult<Expr> {
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

    pub(super) fn add_expr(&mut self) -> PResult<Expr> {
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

    pub(super) fn mul_expr(&mut self) -> PResult<Expr> {
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

    pub(super) fn unary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.peek_at(1) != Some(b'=') {
            self.pos += 1;
            let inner = self.nested(Self::unary)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.word_op("not") {
            let inner = self.nested(Self::unary)?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.peek() == Some(b'-') && !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            return self.err_here(
                "Velocity 1.7 has no unary minus: `-` must be followed by a number (write `0 - $x`)",
            );
        }
        self.primary()
    }

    pub(super) fn primary(&mut self) -> PResult<Expr> {
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
                } else if self.word_op("null") {
                    // Not in Velocity 1.7, but AppSync accepts it (Amplify
                    // writes `$util.toJson(null)`).
                    Ok(Expr::Null)
                } else {
                    self.err_here(format!(
                        "expected an expression, found {}",
                        self.describe_here()
                    ))
                }
            }
        }
    }

    pub(super) fn number(&mut self) -> PResult<Expr> {
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

    pub(super) fn dq_string(&mut self) -> PResult<Expr> {
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
