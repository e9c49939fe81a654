//! The expression parser: a recursive descent over the tokens that records
//! semantic problems as it goes and reports the first by DynamoDB's
//! precedence once the whole expression has parsed.

mod condition;
mod update;

use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::expression::ast::{
    Condition, ExpressionKind, Path, PathElement, UpdateAction,
};
use crate::dynamodb::expression::context::ExpressionContext;
use crate::dynamodb::expression::lexer::{Tok, Token, lex};
use crate::dynamodb::types::AttributeValue;

const RESERVED_WORDS: &str = include_str!("../../reserved_words.txt");

/// DynamoDB's documented limit on the length of any expression string.
const MAX_EXPRESSION_LEN: usize = 4096;
/// Nesting limit for parentheses, NOT and function arguments, so hostile
/// input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

fn is_reserved(word: &str) -> bool {
    static WORDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| RESERVED_WORDS.lines().collect());
    let upper = word.to_ascii_uppercase();
    words.binary_search(&upper.as_str()).is_ok()
}

/// First semantic problem of each kind; reported by precedence.
#[derive(Default)]
struct Diags {
    parens: Option<String>,
    unknown_function: Option<String>,
    misused_function: Option<String>,
    reserved: Option<String>,
    section: Option<String>,
    attr_name: Option<String>,
    attr_value: Option<String>,
    path_overlap: Option<String>,
    path_conflict: Option<String>,
    operand: Option<String>,
    distinct: Option<String>,
    function: Option<String>,
}

fn note(slot: &mut Option<String>, msg: impl FnOnce() -> String) {
    if slot.is_none() {
        *slot = Some(msg());
    }
}

/// Operand as parsed, before it is checked against where it is used.
#[derive(Debug, Clone)]
enum Raw {
    Path(Path),
    Value(AttributeValue),
    Func(String, Vec<Raw>),
}

impl Raw {
    /// Type of a literal value, for early operand type checks.
    fn literal_type(&self) -> Option<&'static str> {
        match self {
            Raw::Value(v) => Some(v.type_name()),
            _ => None,
        }
    }
}

struct SyntaxError;

type PResult<T> = std::result::Result<T, SyntaxError>;

struct Parser<'s, 'c> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    furthest: usize,
    ctx: &'c ExpressionContext<'c>,
    diags: Diags,
    last_group: Option<(usize, usize)>,
    kind: ExpressionKind,
    depth: usize,
    too_deep: bool,
}

impl<'s, 'c> Parser<'s, 'c> {
    fn new(src: &'s str, ctx: &'c ExpressionContext<'c>, kind: ExpressionKind) -> Self {
        Parser {
            src,
            toks: lex(src),
            pos: 0,
            furthest: 0,
            ctx,
            diags: Diags::default(),
            last_group: None,
            kind,
            depth: 0,
            too_deep: false,
        }
    }

    /// Runs a nested parse step under the depth limit.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            self.too_deep = true;
            return self.fail();
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        let i = (self.pos + k).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    fn fail<T>(&mut self) -> PResult<T> {
        self.furthest = self.furthest.max(self.pos);
        Err(SyntaxError)
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> PResult<()> {
        if self.eat_sym(s) { Ok(()) } else { self.fail() }
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x.eq_ignore_ascii_case(kw))
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.is_keyword(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn is_structural_keyword(&self, word: &str) -> bool {
        let words: &[&str] = match self.kind {
            ExpressionKind::Update => &["SET", "REMOVE", "ADD", "DELETE"],
            _ => &["AND", "OR", "NOT", "BETWEEN", "IN"],
        };
        words.iter().any(|w| w.eq_ignore_ascii_case(word))
    }

    fn syntax_error(&self) -> Error {
        if self.too_deep {
            // DynamoDB's wording for this limit is not documented.
            return Error::validation(format!(
                "Invalid {}: The expression has more than {MAX_DEPTH} levels of nesting",
                self.kind.label()
            ));
        }
        let idx = self.furthest.min(self.toks.len() - 1);
        let tok = &self.toks[idx];
        let token = match &tok.tok {
            Tok::Eof => "<EOF>".to_string(),
            _ => self.src[tok.start..tok.end].to_string(),
        };
        let near_start = if idx > 0 {
            self.toks[idx - 1].start
        } else {
            tok.start
        };
        let near_end = if matches!(tok.tok, Tok::Eof) && idx > 0 {
            self.toks[idx - 1].end
        } else {
            tok.end
        };
        Error::validation(format!(
            "Invalid {}: Syntax error; token: \"{}\", near: \"{}\"",
            self.kind.label(),
            token,
            &self.src[near_start..near_end]
        ))
    }

    fn finish(&mut self, order: &[fn(&Diags) -> &Option<String>]) -> Result<()> {
        if !matches!(self.peek(), Tok::Eof) {
            self.furthest = self.furthest.max(self.pos);
            return Err(self.syntax_error());
        }
        for get in order {
            if let Some(msg) = get(&self.diags) {
                return Err(Error::validation(format!(
                    "Invalid {}: {}",
                    self.kind.label(),
                    msg
                )));
            }
        }
        Ok(())
    }

    // -------- paths and operands

    fn path_name(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Ident(w) if !self.is_structural_keyword(&w) => {
                self.pos += 1;
                if is_reserved(&w) {
                    note(&mut self.diags.reserved, || {
                        format!("Attribute name is a reserved keyword; reserved keyword: {w}")
                    });
                }
                Ok(w)
            }
            Tok::Name(n) => {
                self.pos += 1;
                self.ctx.used_names.borrow_mut().insert(n.clone());
                match self.ctx.names.and_then(|m| m.get(&n)) {
                    Some(v) => Ok(v.clone()),
                    None => {
                        note(&mut self.diags.attr_name, || {
                            format!(
                                "An expression attribute name used in the document path is not defined; attribute name: {n}"
                            )
                        });
                        Ok(n)
                    }
                }
            }
            _ => self.fail(),
        }
    }

    fn path(&mut self) -> PResult<Path> {
        let mut elems = vec![PathElement::Attribute(self.path_name()?)];
        loop {
            if self.eat_sym(".") {
                elems.push(PathElement::Attribute(self.path_name()?));
            } else if self.is_sym("[") {
                self.pos += 1;
                let idx = match self.peek().clone() {
                    Tok::Int(n) => {
                        self.pos += 1;
                        n.parse::<usize>().unwrap_or(usize::MAX)
                    }
                    _ => return self.fail(),
                };
                self.expect_sym("]")?;
                elems.push(PathElement::Index(idx));
            } else {
                break;
            }
        }
        Ok(Path(elems))
    }

    fn value(&mut self) -> PResult<AttributeValue> {
        match self.peek().clone() {
            Tok::Value(v) => {
                self.pos += 1;
                self.ctx.used_values.borrow_mut().insert(v.clone());
                match self.ctx.values.and_then(|m| m.get(&v)) {
                    Some(val) => Ok(val.clone()),
                    None => {
                        note(&mut self.diags.attr_value, || {
                            format!(
                                "An expression attribute value used in expression is not defined; attribute value: {v}"
                            )
                        });
                        Ok(AttributeValue::Null)
                    }
                }
            }
            _ => self.fail(),
        }
    }

    fn raw_operand(&mut self) -> PResult<Raw> {
        match self.peek().clone() {
            Tok::Ident(name)
                if matches!(self.peek_at(1), Tok::Sym("("))
                    && !self.is_structural_keyword(&name) =>
            {
                self.pos += 2;
                let mut args = vec![self.raw_operand_parens()?];
                while self.eat_sym(",") {
                    args.push(self.raw_operand_parens()?);
                }
                self.expect_sym(")")?;
                Ok(Raw::Func(name, args))
            }
            Tok::Value(_) => Ok(Raw::Value(self.value()?)),
            _ => Ok(Raw::Path(self.path()?)),
        }
    }

    fn raw_operand_parens(&mut self) -> PResult<Raw> {
        self.nested(Self::raw_operand_parens_inner)
    }

    fn raw_operand_parens_inner(&mut self) -> PResult<Raw> {
        if self.is_sym("(") {
            let open = self.pos;
            self.pos += 1;
            let inner_start = self.pos;
            let raw = if self.is_sym("(") {
                let r = self.raw_operand_parens()?;
                if self.last_group == Some((inner_start, self.pos - 1)) {
                    note(&mut self.diags.parens, || {
                        "The expression has redundant parentheses;".into()
                    });
                }
                r
            } else {
                self.raw_operand()?
            };
            self.expect_sym(")")?;
            self.last_group = Some((open, self.pos - 1));
            Ok(raw)
        } else {
            self.raw_operand()
        }
    }

    // -------- function checks shared by conditions and updates

    /// Checks a function's name and arity; `None` when unknown.
    fn check_function_arity(&mut self, name: &str, n_args: usize) -> bool {
        let arity = match name {
            "attribute_exists" | "attribute_not_exists" | "size" => 1,
            "attribute_type" | "begins_with" | "contains" => 2,
            "if_not_exists" | "list_append" => 2,
            _ => {
                note(&mut self.diags.unknown_function, || {
                    format!("Invalid function name; function: {name}")
                });
                return false;
            }
        };
        let update_only = matches!(name, "if_not_exists" | "list_append");
        let is_update = self.kind == ExpressionKind::Update;
        if update_only != is_update {
            let place = if is_update {
                "an update"
            } else {
                "a condition"
            };
            note(&mut self.diags.unknown_function, || {
                format!("The function is not allowed in {place} expression; function: {name}")
            });
            return false;
        }
        if arity != n_args {
            let slot = if is_update {
                &mut self.diags.function
            } else {
                &mut self.diags.operand
            };
            note(slot, || {
                format!(
                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {n_args}"
                )
            });
            return false;
        }
        true
    }

    fn misused(&mut self, name: &str) {
        note(&mut self.diags.misused_function, || {
            format!(
                "The function is not allowed to be used this way in an expression; function: {name}"
            )
        });
    }

    fn operand_type_error(&mut self, name: &str, ty: &str) {
        note(&mut self.diags.function, || {
            format!(
                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {ty}"
            )
        });
    }

    fn requires_path(&mut self, name: &str) {
        note(&mut self.diags.function, || {
            format!("Operator or function requires a document path; operator or function: {name}")
        });
    }
}

/// Compact value rendering used inside DynamoDB's messages.
fn brief(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        other => other.to_json().to_string(),
    }
}

fn check_length(src: &str, kind: ExpressionKind) -> Result<()> {
    if src.len() > MAX_EXPRESSION_LEN {
        // DynamoDB's wording for this limit is not documented.
        return Err(Error::validation(format!(
            "Invalid {}: Expression size has exceeded the maximum allowed size; expression size: {}",
            kind.label(),
            src.len()
        )));
    }
    Ok(())
}

fn empty_error(kind: ExpressionKind) -> Error {
    Error::validation(format!(
        "Invalid {}: The expression can not be empty;",
        kind.label()
    ))
}

/// Runs one of the parser's entry points over a whole expression, then
/// reports deferred problems in DynamoDB's order of precedence for that kind.
fn parse_expression<T>(
    src: &str,
    ctx: &ExpressionContext<'_>,
    kind: ExpressionKind,
    parse: impl FnOnce(&mut Parser<'_, '_>) -> std::result::Result<T, SyntaxError>,
    precedence: &[fn(&Diags) -> &Option<String>],
) -> Result<T> {
    ctx.check_empty()?;
    check_length(src, kind)?;
    if src.trim().is_empty() {
        return Err(empty_error(kind));
    }
    let mut p = Parser::new(src, ctx, kind);
    let parsed = match parse(&mut p) {
        Ok(v) => v,
        Err(SyntaxError) => return Err(p.syntax_error()),
    };
    p.finish(precedence)?;
    Ok(parsed)
}

/// Parses a ConditionExpression, FilterExpression or KeyConditionExpression.
pub fn parse_condition(
    src: &str,
    ctx: &ExpressionContext<'_>,
    kind: ExpressionKind,
) -> Result<Condition> {
    parse_expression(
        src,
        ctx,
        kind,
        |p| p.condition(),
        &[
            |d| &d.parens,
            |d| &d.unknown_function,
            |d| &d.misused_function,
            |d| &d.reserved,
            |d| &d.attr_name,
            |d| &d.attr_value,
            |d| &d.operand,
            |d| &d.distinct,
            |d| &d.function,
        ],
    )
}

/// Parses an UpdateExpression.
pub fn parse_update(src: &str, ctx: &ExpressionContext<'_>) -> Result<Vec<UpdateAction>> {
    parse_expression(
        src,
        ctx,
        ExpressionKind::Update,
        |p| p.update(),
        &[
            |d| &d.reserved,
            |d| &d.unknown_function,
            |d| &d.section,
            |d| &d.attr_name,
            |d| &d.attr_value,
            |d| &d.path_overlap,
            |d| &d.path_conflict,
            |d| &d.operand,
            |d| &d.function,
        ],
    )
}

/// Parses a ProjectionExpression.
pub fn parse_projection(src: &str, ctx: &ExpressionContext<'_>) -> Result<Vec<Path>> {
    parse_expression(
        src,
        ctx,
        ExpressionKind::Projection,
        |p| p.projection(),
        &[
            |d| &d.reserved,
            |d| &d.attr_name,
            |d| &d.path_overlap,
            |d| &d.path_conflict,
        ],
    )
}
