//! Conditions: ConditionExpression, FilterExpression and the
//! KeyConditionExpression grammar (`key_condition` checks the rest).

use std::cmp::Ordering;

use super::{PResult, Parser, Raw, Tok, brief, note};
use crate::dynamodb::expression::ast::{Comparator, Condition, Operand, Path};
use crate::dynamodb::types::{AttributeValue, compare_values};

impl Parser<'_, '_> {
    pub(super) fn condition(&mut self) -> PResult<Condition> {
        let mut left = self.and_condition()?;
        while self.eat_keyword("OR") {
            let right = self.and_condition()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_condition(&mut self) -> PResult<Condition> {
        let mut left = self.not_condition()?;
        while self.eat_keyword("AND") {
            let right = self.not_condition()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not_condition(&mut self) -> PResult<Condition> {
        if self.eat_keyword("NOT") {
            let inner = self.nested(Self::not_condition)?;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary_condition()
    }

    fn primary_condition(&mut self) -> PResult<Condition> {
        let start = self.pos;
        let saved_group = self.last_group;
        if let Ok(c) = self.simple_condition() {
            return Ok(c);
        }
        self.pos = start;
        self.last_group = saved_group;
        if !self.is_sym("(") {
            return self.fail();
        }
        self.pos += 1;
        let inner = self.nested(Self::condition)?;
        self.expect_sym(")")?;
        let close = self.pos - 1;
        if self.last_group == Some((start + 1, close - 1)) {
            note(&mut self.diags.parens, || {
                "The expression has redundant parentheses;".into()
            });
        }
        self.last_group = Some((start, close));
        Ok(inner)
    }

    fn simple_condition(&mut self) -> PResult<Condition> {
        let first = self.raw_operand_parens()?;
        let comparator = match self.peek() {
            Tok::Sym("=") => Some(Comparator::Eq),
            Tok::Sym("<>") => Some(Comparator::Ne),
            Tok::Sym("<") => Some(Comparator::Lt),
            Tok::Sym("<=") => Some(Comparator::Le),
            Tok::Sym(">") => Some(Comparator::Gt),
            Tok::Sym(">=") => Some(Comparator::Ge),
            _ => None,
        };
        if let Some(cmp) = comparator {
            self.pos += 1;
            let second = self.raw_operand_parens()?;
            self.check_distinct(cmp.symbol(), &first, &second);
            let a = self.condition_operand(first);
            let b = self.condition_operand(second);
            return Ok(Condition::Compare(cmp, a, b));
        }
        if self.eat_keyword("BETWEEN") {
            let lo = self.raw_operand_parens()?;
            if !self.eat_keyword("AND") {
                return self.fail();
            }
            let hi = self.raw_operand_parens()?;
            self.check_between(&lo, &hi);
            let (a, lo, hi) = (
                self.condition_operand(first),
                self.condition_operand(lo),
                self.condition_operand(hi),
            );
            return Ok(Condition::Between(a, lo, hi));
        }
        if self.eat_keyword("IN") {
            self.expect_sym("(")?;
            let mut list = vec![self.raw_operand_parens()?];
            while self.eat_sym(",") {
                list.push(self.raw_operand_parens()?);
            }
            self.expect_sym(")")?;
            let a = self.condition_operand(first);
            let list = list
                .into_iter()
                .map(|r| self.condition_operand(r))
                .collect();
            return Ok(Condition::In(a, list));
        }
        match first {
            Raw::Func(name, args) => Ok(self.condition_function(name, args)),
            _ => self.fail(),
        }
    }

    fn check_distinct(&mut self, op: &str, a: &Raw, b: &Raw) {
        if let (Raw::Path(x), Raw::Path(y)) = (a, b)
            && x == y
        {
            note(&mut self.diags.distinct, || {
                format!(
                    "The first operand must be distinct from the remaining operands for this operator or function; operator: {op}, first operand: {}",
                    x.describe()
                )
            });
        }
    }

    fn check_between(&mut self, lo: &Raw, hi: &Raw) {
        if let (Raw::Value(a), Raw::Value(b)) = (lo, hi) {
            let show =
                |v: &AttributeValue| format!("AttributeValue: {{{}:{}}}", v.type_name(), brief(v));
            if a.type_name() != b.type_name() {
                note(&mut self.diags.function, || {
                    format!(
                        "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {}, upper bound operand: {}",
                        show(a),
                        show(b)
                    )
                });
            } else if compare_values(a, b) == Some(Ordering::Greater) {
                note(&mut self.diags.function, || {
                    format!(
                        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {}, upper bound operand: {}",
                        show(a),
                        show(b)
                    )
                });
            }
        }
    }

    /// An operand of a comparison, BETWEEN or IN: paths, values and `size`.
    fn condition_operand(&mut self, raw: Raw) -> Operand {
        match raw {
            Raw::Path(p) => Operand::Path(p),
            Raw::Value(v) => Operand::Value(v),
            Raw::Func(name, args) => {
                if name != "size" {
                    if self.check_function_arity(&name, args.len()) {
                        self.misused(&name);
                    }
                    return Operand::Value(AttributeValue::Null);
                }
                self.size_operand(args)
            }
        }
    }

    fn size_operand(&mut self, args: Vec<Raw>) -> Operand {
        if !self.check_function_arity("size", args.len()) {
            return Operand::Value(AttributeValue::Null);
        }
        let arg = args
            .into_iter()
            .next()
            .unwrap_or(Raw::Value(AttributeValue::Null));
        if let Some(ty) = arg.literal_type()
            && matches!(ty, "N" | "BOOL" | "NULL")
        {
            self.operand_type_error("size", ty);
        }
        let inner = self.function_argument(arg);
        Operand::Size(Box::new(inner))
    }

    /// A function argument: functions other than `size` are misused there.
    fn function_argument(&mut self, raw: Raw) -> Operand {
        match raw {
            Raw::Func(name, args) if name == "size" => self.size_operand(args),
            Raw::Func(name, args) => {
                if self.check_function_arity(&name, args.len()) {
                    self.misused(&name);
                }
                Operand::Value(AttributeValue::Null)
            }
            other => self.condition_operand(other),
        }
    }

    fn condition_function(&mut self, name: String, args: Vec<Raw>) -> Condition {
        let placeholder = Condition::AttributeExists(Path(vec![]));
        if name == "size" {
            self.check_function_arity("size", args.len());
            self.misused("size");
            return placeholder;
        }
        if !self.check_function_arity(&name, args.len()) {
            return placeholder;
        }
        if args.len() == 2 {
            self.check_distinct(&name, &args[0], &args[1]);
        }
        let mut args = args.into_iter();
        let first = args.next().unwrap_or(Raw::Value(AttributeValue::Null));
        let second = args.next();
        match name.as_str() {
            "attribute_exists" | "attribute_not_exists" => match first {
                Raw::Path(p) if name == "attribute_exists" => Condition::AttributeExists(p),
                Raw::Path(p) => Condition::AttributeNotExists(p),
                other => {
                    if let Raw::Func(f, a) = other {
                        self.function_argument(Raw::Func(f, a));
                    }
                    self.requires_path(&name);
                    placeholder
                }
            },
            "attribute_type" => {
                let second = second.unwrap_or(Raw::Value(AttributeValue::Null));
                match &second {
                    Raw::Value(AttributeValue::S(t)) => {
                        if !["S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"]
                            .contains(&t.as_str())
                        {
                            note(&mut self.diags.function, || {
                                format!(
                                    "Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                                )
                            });
                        }
                    }
                    Raw::Value(v) => self.operand_type_error(&name, v.type_name()),
                    _ => self.operand_type_error(&name, "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"),
                }
                let a = self.function_argument(first);
                let b = self.function_argument(second);
                Condition::AttributeType(a, b)
            }
            "begins_with" | "contains" => {
                let second = second.unwrap_or(Raw::Value(AttributeValue::Null));
                if name == "begins_with" {
                    for raw in [&first, &second] {
                        if let Some(ty) = raw.literal_type()
                            && ty != "S"
                            && ty != "B"
                        {
                            self.operand_type_error(&name, ty);
                        }
                    }
                }
                let a = self.function_argument(first);
                let b = self.function_argument(second);
                if name == "begins_with" {
                    Condition::BeginsWith(a, b)
                } else {
                    Condition::Contains(a, b)
                }
            }
            _ => placeholder,
        }
    }
}
