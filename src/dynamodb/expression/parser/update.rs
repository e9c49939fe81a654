//! UpdateExpression and ProjectionExpression grammars, which share the
//! overlap and conflict checks of document paths.

use super::{Diags, PResult, Parser, Raw, note};
use crate::dynamodb::expression::ast::{Operand, Path, PathElement, UpdateAction};
use crate::dynamodb::expression::lexer::Tok;
use crate::dynamodb::expression::update::updated_attributes;
use crate::dynamodb::types::AttributeValue;

impl Parser<'_, '_> {
    pub(super) fn update(&mut self) -> PResult<Vec<UpdateAction>> {
        let mut actions = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        loop {
            let section = match self.peek() {
                Tok::Ident(w) if self.is_structural_keyword(w) => w.to_ascii_uppercase(),
                _ => return self.fail(),
            };
            self.pos += 1;
            if seen.contains(&section) {
                note(&mut self.diags.section, || {
                    format!(
                        "The \"{section}\" section can only be used once in an update expression;"
                    )
                });
            }
            seen.push(section.clone());
            loop {
                let path = self.path()?;
                let action = match section.as_str() {
                    "SET" => {
                        self.expect_sym("=")?;
                        let value = if self.is_sym("(") && self.paren_wraps_set_value() {
                            self.pos += 1;
                            let v = self.set_value()?;
                            self.expect_sym(")")?;
                            v
                        } else {
                            self.set_value()?
                        };
                        UpdateAction::Set(path, value)
                    }
                    "REMOVE" => UpdateAction::Remove(path),
                    _ => {
                        let value = self.value()?;
                        let type_word = match value.type_name() {
                            "S" => Some("STRING"),
                            "N" if section == "ADD" => None,
                            "N" => Some("NUMBER"),
                            "B" => Some("BINARY"),
                            "NULL" => Some("NULL"),
                            "BOOL" => Some("BOOLEAN"),
                            "L" => Some("LIST"),
                            "M" => Some("MAP"),
                            _ => None,
                        };
                        if let Some(t) = type_word {
                            note(&mut self.diags.operand, || {
                                format!(
                                    "Incorrect operand type for operator or function; operator: {section}, operand type: {t}"
                                )
                            });
                        }
                        if section == "ADD" {
                            UpdateAction::Add(path, value)
                        } else {
                            UpdateAction::Delete(path, value)
                        }
                    }
                };
                actions.push(action);
                if !self.eat_sym(",") {
                    break;
                }
            }
            if matches!(self.peek(), Tok::Eof) {
                break;
            }
        }
        check_overlaps(&updated_attributes(&actions), &mut self.diags);
        Ok(actions)
    }

    /// Whether a `(` after `=` encloses the whole set value (`(a + b)`),
    /// rather than starting a parenthesised operand.
    fn paren_wraps_set_value(&self) -> bool {
        let mut depth = 0usize;
        for (k, t) in self.toks[self.pos..].iter().enumerate() {
            match &t.tok {
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => {
                    depth -= 1;
                    if depth == 0 {
                        // Wraps the value if an operator sits directly inside.
                        return self.toks[self.pos..self.pos + k]
                            .iter()
                            .any(|t| matches!(t.tok, Tok::Sym("+") | Tok::Sym("-")));
                    }
                }
                Tok::Eof => return false,
                _ => {}
            }
        }
        false
    }

    fn set_value(&mut self) -> PResult<Operand> {
        let first = self.raw_operand_parens()?;
        let op = if self.eat_sym("+") {
            Some("+")
        } else if self.eat_sym("-") {
            Some("-")
        } else {
            None
        };
        let a = self.update_operand(first.clone());
        match op {
            None => Ok(a),
            Some(op) => {
                let second = self.raw_operand_parens()?;
                for raw in [&first, &second] {
                    if let Some(ty) = raw.literal_type()
                        && ty != "N"
                    {
                        self.operand_type_error(op, ty);
                    }
                }
                let b = self.update_operand(second);
                Ok(if op == "+" {
                    Operand::Plus(Box::new(a), Box::new(b))
                } else {
                    Operand::Minus(Box::new(a), Box::new(b))
                })
            }
        }
    }

    fn update_operand(&mut self, raw: Raw) -> Operand {
        match raw {
            Raw::Path(p) => Operand::Path(p),
            Raw::Value(v) => Operand::Value(v),
            Raw::Func(name, args) => {
                if !self.check_function_arity(&name, args.len()) {
                    return Operand::Value(AttributeValue::Null);
                }
                let mut args = args.into_iter();
                let (a, b) = match (args.next(), args.next()) {
                    (Some(a), Some(b)) => (a, b),
                    _ => return Operand::Value(AttributeValue::Null),
                };
                if name == "if_not_exists" {
                    let b = self.update_operand(b);
                    match a {
                        Raw::Path(p) => Operand::IfNotExists(p, Box::new(b)),
                        _ => {
                            self.requires_path(&name);
                            Operand::Value(AttributeValue::Null)
                        }
                    }
                } else {
                    for raw in [&a, &b] {
                        if let Some(ty) = raw.literal_type()
                            && ty != "L"
                        {
                            self.operand_type_error(&name, ty);
                        }
                    }
                    let (a, b) = (self.update_operand(a), self.update_operand(b));
                    Operand::ListAppend(Box::new(a), Box::new(b))
                }
            }
        }
    }

    pub(super) fn projection(&mut self) -> PResult<Vec<Path>> {
        let mut paths = vec![self.path()?];
        while self.eat_sym(",") {
            paths.push(self.path()?);
        }
        let refs: Vec<&Path> = paths.iter().collect();
        check_overlaps(&refs, &mut self.diags);
        Ok(paths)
    }
}

fn check_overlaps(paths: &[&Path], diags: &mut Diags) {
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[..i] {
            let n = a.0.len().min(b.0.len());
            let mut conflict = false;
            let mut diverged = false;
            for k in 0..n {
                match (&b.0[k], &a.0[k]) {
                    (PathElement::Attribute(x), PathElement::Attribute(y)) if x != y => {
                        diverged = true
                    }
                    (PathElement::Index(x), PathElement::Index(y)) if x != y => diverged = true,
                    (PathElement::Attribute(_), PathElement::Index(_))
                    | (PathElement::Index(_), PathElement::Attribute(_)) => conflict = true,
                    _ => {}
                }
                if diverged || conflict {
                    break;
                }
            }
            if conflict {
                note(&mut diags.path_conflict, || {
                    format!(
                        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        b.describe(),
                        a.describe()
                    )
                });
            } else if !diverged {
                note(&mut diags.path_overlap, || {
                    format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                        b.describe(),
                        a.describe()
                    )
                });
            }
        }
    }
}
