//! DynamoDB expressions: lexer, parser with DynamoDB's validation messages,
//! and evaluation against items.
//!
//! The parser resolves `#names` and `:values` while parsing and records which
//! ones were used, so a request can report unused ones across all its
//! expressions. Semantic problems are collected and reported in DynamoDB's
//! order of precedence after a successful parse; syntax errors win over all.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::dynamodb::error::{Error, Result};
use crate::dynamodb::types::{AttributeValue, Item, compare_values};

const RESERVED_WORDS: &str = include_str!("reserved_words.txt");

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

/// Which request parameter an expression came from; used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionKind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl ExpressionKind {
    pub fn label(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Update => "UpdateExpression",
            ExpressionKind::Projection => "ProjectionExpression",
        }
    }
}

/// One step of a document path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    Attribute(String),
    Index(usize),
}

/// A document path such as `a.b[0].c`, with names already substituted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    pub fn attribute(name: &str) -> Path {
        Path(vec![PathElement::Attribute(name.to_string())])
    }

    /// The top-level attribute name.
    pub fn head(&self) -> &str {
        match self.0.first() {
            Some(PathElement::Attribute(a)) => a,
            _ => "",
        }
    }

    /// DynamoDB's rendering in messages: `[a, b, [0]]`.
    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| match e {
                PathElement::Attribute(a) => a.clone(),
                PathElement::Index(i) => format!("[{i}]"),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }
}

/// A value-producing operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(AttributeValue),
    Size(Box<Operand>),
    IfNotExists(Path, Box<Operand>),
    ListAppend(Box<Operand>, Box<Operand>),
    Plus(Box<Operand>, Box<Operand>),
    Minus(Box<Operand>, Box<Operand>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

/// A parsed condition (ConditionExpression, FilterExpression, key conditions).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Compare(Comparator, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    AttributeExists(Path),
    AttributeNotExists(Path),
    AttributeType(Operand, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
}

/// One action of an UpdateExpression.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    Set(Path, Operand),
    Remove(Path),
    Add(Path, AttributeValue),
    Delete(Path, AttributeValue),
}

/// `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request,
/// with the bookkeeping of which were used.
#[derive(Debug, Default)]
pub struct ExpressionContext<'a> {
    names: Option<&'a BTreeMap<String, String>>,
    values: Option<&'a Item>,
    used_names: RefCell<BTreeSet<String>>,
    used_values: RefCell<BTreeSet<String>>,
}

impl<'a> ExpressionContext<'a> {
    pub fn new(names: Option<&'a BTreeMap<String, String>>, values: Option<&'a Item>) -> Self {
        ExpressionContext {
            names,
            values,
            ..Default::default()
        }
    }

    /// DynamoDB rejects empty maps before looking at any expression.
    fn check_empty(&self) -> Result<()> {
        if self.names.is_some_and(|n| n.is_empty()) {
            return Err(Error::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if self.values.is_some_and(|v| v.is_empty()) {
            return Err(Error::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        Ok(())
    }

    /// Fails when names or values were supplied but not used by any
    /// expression of the request, as DynamoDB does.
    pub fn check_unused(&self, any_expression: bool) -> Result<()> {
        if let Some(names) = self.names {
            if !any_expression {
                return Err(Error::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            if names.is_empty() {
                return Err(Error::validation(
                    "ExpressionAttributeNames must not be empty",
                ));
            }
            let used = self.used_names.borrow();
            let unused: Vec<&str> = names
                .keys()
                .filter(|k| !used.contains(*k))
                .map(|k| k.as_str())
                .collect();
            if !unused.is_empty() {
                return Err(Error::validation(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        if let Some(values) = self.values {
            if !any_expression {
                return Err(Error::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
            }
            if values.is_empty() {
                return Err(Error::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            let used = self.used_values.borrow();
            let unused: Vec<&str> = values
                .keys()
                .filter(|k| !used.contains(*k))
                .map(|k| k.as_str())
                .collect();
            if !unused.is_empty() {
                return Err(Error::validation(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Name(String),
    Value(String),
    Int(String),
    Sym(&'static str),
    Bad(char),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn lex(src: &str) -> Vec<Token> {
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

// ---------------------------------------------------------------- parser

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

    // -------- conditions

    fn condition(&mut self) -> PResult<Condition> {
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

    // -------- update expressions

    fn update(&mut self) -> PResult<Vec<UpdateAction>> {
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
        let paths: Vec<&Path> = actions
            .iter()
            .map(|a| match a {
                UpdateAction::Set(p, _)
                | UpdateAction::Remove(p)
                | UpdateAction::Add(p, _)
                | UpdateAction::Delete(p, _) => p,
            })
            .collect();
        check_overlaps(&paths, &mut self.diags);
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

    // -------- projections

    fn projection(&mut self) -> PResult<Vec<Path>> {
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

// ---------------------------------------------------------------- key conditions

/// The sort-key part of a key condition.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKeyCondition {
    Compare(Comparator, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// A validated KeyConditionExpression.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub partition_value: AttributeValue,
    pub sort: Option<SortKeyCondition>,
}

/// Checks that a parsed condition is a valid key condition for the schema.
pub fn key_condition(
    cond: &Condition,
    partition_key: &str,
    sort_key: Option<&str>,
) -> Result<KeyCondition> {
    let invalid = |msg: String| Error::validation(format!("Invalid KeyConditionExpression: {msg}"));
    let mut parts = Vec::new();
    fn flatten<'c>(
        c: &'c Condition,
        out: &mut Vec<&'c Condition>,
    ) -> std::result::Result<(), &'static str> {
        match c {
            Condition::And(a, b) => {
                flatten(a, out)?;
                flatten(b, out)
            }
            Condition::Or(..) => Err("OR"),
            Condition::Not(..) => Err("NOT"),
            Condition::In(..) => Err("IN"),
            Condition::Compare(Comparator::Ne, ..) => Err("<>"),
            Condition::AttributeExists(_) => Err("attribute_exists"),
            Condition::AttributeNotExists(_) => Err("attribute_not_exists"),
            Condition::AttributeType(..) => Err("attribute_type"),
            Condition::Contains(..) => Err("contains"),
            other => {
                out.push(other);
                Ok(())
            }
        }
    }
    flatten(cond, &mut parts).map_err(|op| {
        invalid(format!(
            "Invalid operator used in KeyConditionExpression: {op}"
        ))
    })?;
    if parts.len() > 2 {
        return Err(invalid("Conditions can be of length 1 or 2 only".into()));
    }
    let mut partition = None;
    let mut sort = None;
    let key_of = |op: &Operand| -> Result<String> {
        match op {
            Operand::Path(p) if p.0.len() == 1 => Ok(p.head().to_string()),
            Operand::Path(_) => Err(invalid(
                "Nested attributes are not supported in KeyConditionExpression".into(),
            )),
            _ => Err(Error::validation("Query key condition not supported")),
        }
    };
    let literal = |op: &Operand| -> Result<AttributeValue> {
        match op {
            Operand::Value(v) => Ok(v.clone()),
            _ => Err(Error::validation("Query key condition not supported")),
        }
    };
    for part in parts {
        let (name, cond) = match part {
            Condition::Compare(cmp, a, b) => {
                let (path, value, cmp) = match (a, b) {
                    (Operand::Path(_), _) => (a, b, *cmp),
                    (_, Operand::Path(_)) => (b, a, flip(*cmp)),
                    _ => (a, b, *cmp),
                };
                (
                    key_of(path)?,
                    SortKeyCondition::Compare(cmp, literal(value)?),
                )
            }
            Condition::Between(a, lo, hi) => (
                key_of(a)?,
                SortKeyCondition::Between(literal(lo)?, literal(hi)?),
            ),
            Condition::BeginsWith(a, b) => (key_of(a)?, SortKeyCondition::BeginsWith(literal(b)?)),
            _ => return Err(Error::validation("Query key condition not supported")),
        };
        if name == partition_key {
            if partition.is_some() {
                return Err(invalid(
                    "KeyConditionExpressions must only contain one condition per key".into(),
                ));
            }
            match cond {
                SortKeyCondition::Compare(Comparator::Eq, v) => partition = Some(v),
                _ => return Err(Error::validation("Query key condition not supported")),
            }
        } else if Some(name.as_str()) == sort_key {
            if sort.is_some() {
                return Err(invalid(
                    "KeyConditionExpressions must only contain one condition per key".into(),
                ));
            }
            sort = Some(cond);
        } else {
            // DynamoDB names the key element it expected instead.
            let expected = if name != partition_key && partition.is_none() {
                partition_key
            } else {
                sort_key.unwrap_or(partition_key)
            };
            return Err(Error::validation(format!(
                "Query condition missed key schema element: {expected}"
            )));
        }
    }
    let partition_value = partition.ok_or_else(|| {
        Error::validation(format!(
            "Query condition missed key schema element: {partition_key}"
        ))
    })?;
    Ok(KeyCondition {
        partition_value,
        sort,
    })
}

fn flip(c: Comparator) -> Comparator {
    match c {
        Comparator::Lt => Comparator::Gt,
        Comparator::Le => Comparator::Ge,
        Comparator::Gt => Comparator::Lt,
        Comparator::Ge => Comparator::Le,
        other => other,
    }
}

impl SortKeyCondition {
    pub fn matches(&self, v: &AttributeValue) -> bool {
        match self {
            SortKeyCondition::Compare(cmp, x) => compare(*cmp, Some(v), Some(x)),
            SortKeyCondition::Between(lo, hi) => {
                compare(Comparator::Ge, Some(v), Some(lo))
                    && compare(Comparator::Le, Some(v), Some(hi))
            }
            SortKeyCondition::BeginsWith(p) => begins_with(v, p),
        }
    }

    /// Literal values of the condition, for type checks against the schema.
    pub fn values(&self) -> Vec<&AttributeValue> {
        match self {
            SortKeyCondition::Compare(_, v) | SortKeyCondition::BeginsWith(v) => vec![v],
            SortKeyCondition::Between(a, b) => vec![a, b],
        }
    }
}

// ---------------------------------------------------------------- evaluation

/// Looks up a document path in an item.
pub fn resolve<'i>(item: &'i Item, path: &Path) -> Option<&'i AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElement::Attribute(a) => item.get(a)?,
        PathElement::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get(a)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn operand_value<'i>(item: &'i Item, op: &'i Operand) -> Option<Cow<'i, AttributeValue>> {
    match op {
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(inner) => {
            let v = operand_value(item, inner)?;
            let n = match v.as_ref() {
                AttributeValue::S(s) => s.len(),
                AttributeValue::B(b) => b.len(),
                AttributeValue::L(l) => l.len(),
                AttributeValue::M(m) => m.len(),
                AttributeValue::Ss(s) => s.len(),
                AttributeValue::Ns(s) => s.len(),
                AttributeValue::Bs(s) => s.len(),
                _ => return None,
            };
            Some(Cow::Owned(AttributeValue::N((n as i64).into())))
        }
        // Update-only operands never reach condition evaluation.
        _ => None,
    }
}

fn compare(cmp: Comparator, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    match cmp {
        Comparator::Eq => matches!((a, b), (Some(x), Some(y)) if x.same_as(y)),
        Comparator::Ne => !matches!((a, b), (Some(x), Some(y)) if x.same_as(y)),
        _ => {
            let (Some(x), Some(y)) = (a, b) else {
                return false;
            };
            match compare_values(x, y) {
                Some(o) => match cmp {
                    Comparator::Lt => o == Ordering::Less,
                    Comparator::Le => o != Ordering::Greater,
                    Comparator::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
                None => false,
            }
        }
    }
}

fn begins_with(v: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (v, prefix) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
        (AttributeValue::B(s), AttributeValue::B(p)) => s.starts_with(p),
        _ => false,
    }
}

/// Evaluates a condition against an item (an absent item is an empty one).
pub fn evaluate(cond: &Condition, item: &Item) -> bool {
    let val = |op| operand_value(item, op);
    match cond {
        Condition::Compare(cmp, a, b) => compare(*cmp, val(a).as_deref(), val(b).as_deref()),
        Condition::Between(a, lo, hi) => {
            let a = val(a);
            compare(Comparator::Ge, a.as_deref(), val(lo).as_deref())
                && compare(Comparator::Le, a.as_deref(), val(hi).as_deref())
        }
        Condition::In(a, list) => {
            let a = val(a);
            list.iter()
                .any(|o| compare(Comparator::Eq, a.as_deref(), val(o).as_deref()))
        }
        Condition::And(a, b) => evaluate(a, item) && evaluate(b, item),
        Condition::Or(a, b) => evaluate(a, item) || evaluate(b, item),
        Condition::Not(a) => !evaluate(a, item),
        Condition::AttributeExists(p) => resolve(item, p).is_some(),
        Condition::AttributeNotExists(p) => resolve(item, p).is_none(),
        Condition::AttributeType(a, t) => match (val(a), val(t)) {
            (Some(v), Some(t)) => matches!(t.as_ref(), AttributeValue::S(t) if t == v.type_name()),
            _ => false,
        },
        Condition::BeginsWith(a, p) => match (val(a), val(p)) {
            (Some(v), Some(p)) => begins_with(&v, &p),
            _ => false,
        },
        Condition::Contains(a, x) => match (val(a), val(x)) {
            (Some(v), Some(x)) => contains(&v, &x),
            _ => false,
        },
    }
}

fn contains(v: &AttributeValue, x: &AttributeValue) -> bool {
    match (v, x) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.contains(p.as_str()),
        (AttributeValue::B(s), AttributeValue::B(p)) => {
            p.is_empty() || s.windows(p.len()).any(|w| w == p.as_slice())
        }
        (AttributeValue::Ss(s), AttributeValue::S(p)) => s.contains(p),
        (AttributeValue::Ns(s), AttributeValue::N(p)) => s.contains(p),
        (AttributeValue::Bs(s), AttributeValue::B(p)) => s.contains(p),
        (AttributeValue::L(l), x) => l.iter().any(|e| e.same_as(x)),
        _ => false,
    }
}

/// Which parts of a value a projection keeps.
#[derive(Debug, Default)]
enum Selection {
    #[default]
    Nothing,
    All,
    Fields(BTreeMap<String, Selection>),
    Indexes(BTreeMap<usize, Selection>),
}

impl Selection {
    fn add(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            *self = Selection::All;
            return;
        };
        if matches!(self, Selection::All) {
            return;
        }
        let child = match (first, &mut *self) {
            (PathElement::Attribute(a), Selection::Fields(m)) => m.entry(a.clone()).or_default(),
            (PathElement::Index(i), Selection::Indexes(m)) => m.entry(*i).or_default(),
            (PathElement::Attribute(a), slot) => {
                *slot = Selection::Fields(BTreeMap::new());
                match slot {
                    Selection::Fields(m) => m.entry(a.clone()).or_default(),
                    _ => return,
                }
            }
            (PathElement::Index(i), slot) => {
                *slot = Selection::Indexes(BTreeMap::new());
                match slot {
                    Selection::Indexes(m) => m.entry(*i).or_default(),
                    _ => return,
                }
            }
        };
        child.add(rest);
    }

    fn apply(&self, v: &AttributeValue) -> Option<AttributeValue> {
        match (self, v) {
            (Selection::All, v) => Some(v.clone()),
            (Selection::Fields(sel), AttributeValue::M(m)) => {
                let kept = select_fields(sel, m);
                (!kept.is_empty()).then_some(AttributeValue::M(kept))
            }
            // Kept list elements are compacted, in their original order.
            (Selection::Indexes(sel), AttributeValue::L(l)) => {
                let kept: Vec<AttributeValue> = sel
                    .iter()
                    .filter_map(|(i, s)| l.get(*i).and_then(|e| s.apply(e)))
                    .collect();
                (!kept.is_empty()).then_some(AttributeValue::L(kept))
            }
            _ => None,
        }
    }
}

fn select_fields(sel: &BTreeMap<String, Selection>, m: &Item) -> Item {
    sel.iter()
        .filter_map(|(k, s)| Some((k.clone(), s.apply(m.get(k)?)?)))
        .collect()
}

/// Builds the item holding only the projected paths, keeping the item's
/// structure and list order, as DynamoDB returns projections.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut top: BTreeMap<String, Selection> = BTreeMap::new();
    for path in paths {
        if let Some((PathElement::Attribute(head), rest)) = path.0.split_first() {
            top.entry(head.clone()).or_default().add(rest);
        }
    }
    select_fields(&top, item)
}

const MISSING_OPERAND: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";

fn update_value(item: &Item, op: &Operand) -> Result<AttributeValue> {
    match op {
        Operand::Path(p) => resolve(item, p)
            .cloned()
            .ok_or_else(|| Error::validation(MISSING_OPERAND)),
        Operand::Value(v) => Ok(v.clone()),
        Operand::IfNotExists(p, alt) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => update_value(item, alt),
        },
        Operand::ListAppend(a, b) => match (update_value(item, a)?, update_value(item, b)?) {
            (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                x.extend(y);
                Ok(AttributeValue::L(x))
            }
            _ => Err(Error::validation(WRONG_TYPE)),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => {
            match (update_value(item, a)?, update_value(item, b)?) {
                (AttributeValue::N(x), AttributeValue::N(y)) => {
                    let r = if matches!(op, Operand::Plus(..)) {
                        x.add(&y)
                    } else {
                        x.sub(&y)
                    };
                    r.map(AttributeValue::N)
                        .map_err(|e| Error::validation(e.to_string()))
                }
                _ => Err(Error::validation(WRONG_TYPE)),
            }
        }
        Operand::Size(_) => Err(Error::validation(WRONG_TYPE)),
    }
}

fn parent_mut<'i>(item: &'i mut Item, path: &Path) -> Result<Option<&'i mut AttributeValue>> {
    let elems = &path.0[..path.0.len() - 1];
    let Some((PathElement::Attribute(head), rest)) = elems.split_first() else {
        return Ok(None);
    };
    let mut cur = item
        .get_mut(head)
        .ok_or_else(|| Error::validation(INVALID_PATH))?;
    for e in rest {
        cur = match (e, cur) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get_mut(a),
            (PathElement::Index(i), AttributeValue::L(l)) => l.get_mut(*i),
            _ => None,
        }
        .ok_or_else(|| Error::validation(INVALID_PATH))?;
    }
    Ok(Some(cur))
}

fn set_path(item: &mut Item, path: &Path, v: AttributeValue) -> Result<()> {
    let last = path
        .0
        .last()
        .ok_or_else(|| Error::validation(INVALID_PATH))?;
    match parent_mut(item, path)? {
        None => match last {
            PathElement::Attribute(a) => {
                item.insert(a.clone(), v);
                Ok(())
            }
            PathElement::Index(_) => Err(Error::validation(INVALID_PATH)),
        },
        Some(parent) => match (last, parent) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => {
                m.insert(a.clone(), v);
                Ok(())
            }
            (PathElement::Index(i), AttributeValue::L(l)) => {
                // Past the end appends, as DynamoDB does.
                if *i < l.len() {
                    l[*i] = v;
                } else {
                    l.push(v);
                }
                Ok(())
            }
            _ => Err(Error::validation(INVALID_PATH)),
        },
    }
}

fn remove_path(item: &mut Item, path: &Path) -> Result<()> {
    let Some(last) = path.0.last() else {
        return Ok(());
    };
    let parent = match parent_mut(item, path) {
        Ok(p) => p,
        // Removing below a missing attribute is a no-op.
        Err(_) => return Ok(()),
    };
    match (last, parent) {
        (PathElement::Attribute(a), None) => {
            item.remove(a);
        }
        (PathElement::Attribute(a), Some(AttributeValue::M(m))) => {
            m.remove(a);
        }
        (PathElement::Index(i), Some(AttributeValue::L(l))) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    Ok(())
}

fn path_mut<'i>(item: &'i mut Item, path: &Path) -> Option<&'i mut AttributeValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElement::Attribute(a) => item.get_mut(a)?,
        PathElement::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElement::Attribute(a), AttributeValue::M(m)) => m.get_mut(a)?,
            (PathElement::Index(i), AttributeValue::L(l)) => l.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Applies update actions; right-hand sides see the item as it was before
/// the update, as in DynamoDB.
pub fn apply_update(item: &Item, actions: &[UpdateAction]) -> Result<Item> {
    let mut out = item.clone();
    let mut removes: Vec<&Path> = Vec::new();
    for action in actions {
        match action {
            UpdateAction::Set(path, op) => {
                let v = update_value(item, op)?;
                set_path(&mut out, path, v)?;
            }
            UpdateAction::Remove(path) => removes.push(path),
            UpdateAction::Add(path, v) => match path_mut(&mut out, path) {
                None => set_path(&mut out, path, v.clone())?,
                Some(cur) => {
                    let merged = match (&*cur, v) {
                        (AttributeValue::N(a), AttributeValue::N(b)) => AttributeValue::N(
                            a.add(b).map_err(|e| Error::validation(e.to_string()))?,
                        ),
                        (AttributeValue::Ss(a), AttributeValue::Ss(b)) => {
                            AttributeValue::Ss(union(a, b))
                        }
                        (AttributeValue::Ns(a), AttributeValue::Ns(b)) => {
                            AttributeValue::Ns(union(a, b))
                        }
                        (AttributeValue::Bs(a), AttributeValue::Bs(b)) => {
                            AttributeValue::Bs(union(a, b))
                        }
                        _ => return Err(Error::validation(WRONG_TYPE)),
                    };
                    *cur = merged;
                }
            },
            UpdateAction::Delete(path, v) => {
                let Some(cur) = path_mut(&mut out, path) else {
                    continue;
                };
                let (left, empty) = match (&*cur, v) {
                    (AttributeValue::Ss(a), AttributeValue::Ss(b)) => {
                        let r = difference(a, b);
                        (r.is_empty(), AttributeValue::Ss(r))
                    }
                    (AttributeValue::Ns(a), AttributeValue::Ns(b)) => {
                        let r = difference(a, b);
                        (r.is_empty(), AttributeValue::Ns(r))
                    }
                    (AttributeValue::Bs(a), AttributeValue::Bs(b)) => {
                        let r = difference(a, b);
                        (r.is_empty(), AttributeValue::Bs(r))
                    }
                    _ => return Err(Error::validation(WRONG_TYPE)),
                }
                .clone();
                if left {
                    // An emptied set disappears: DynamoDB has no empty sets.
                    remove_path(&mut out, path)?;
                } else {
                    *cur = empty;
                }
            }
        }
    }
    // Remove higher list indexes first so indexes refer to the original list.
    removes.sort_by(|a, b| b.cmp(a));
    for path in removes {
        remove_path(&mut out, path)?;
    }
    Ok(out)
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn difference<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Top-level attributes an update writes or removes, for key checks.
pub fn updated_attributes(actions: &[UpdateAction]) -> Vec<&Path> {
    actions
        .iter()
        .map(|a| match a {
            UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _) => p,
        })
        .collect()
}
