//! The syntax tree of a parsed template. Immutable and `Send + Sync`, so one
//! parse serves every render on every thread.

use std::collections::HashMap;
use std::sync::Arc;

/// Byte offsets into the template source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Node {
    Text(Arc<str>),
    /// `$a.b`, printed literally when it evaluates to null and is not quiet.
    Ref(Reference),
    /// `\$a` (odd count) or `\\$a` (even count): Velocity 1.7 only unescapes
    /// references that are defined.
    EscapedRef {
        backslashes: u32,
        reference: Reference,
    },
    Set {
        target: Reference,
        value: Expr,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Foreach {
        var: Arc<str>,
        iterable: Expr,
        body: Vec<Node>,
        span: Span,
    },
    Break,
    Stop,
    /// AppSync's `#return` / `#return(value)`.
    Return(Option<Expr>),
    Define {
        name: Arc<str>,
        body: Arc<Vec<Node>>,
    },
    MacroCall {
        name: Arc<str>,
        args: Vec<Expr>,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub struct Reference {
    pub name: Arc<str>,
    /// `$!a`: renders nothing instead of its source text when null.
    pub quiet: bool,
    pub parts: Vec<Part>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Part {
    Property(Arc<str>),
    Method {
        name: Arc<str>,
        args: Vec<Expr>,
        span: Span,
    },
    Index(Expr, Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Ref(Box<Reference>),
    /// `'...'`, or `"..."` without `$` or `#`.
    Str(Arc<str>),
    /// `"..."` holding references or directives: rendered as a small template.
    Interpolated(Vec<Node>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// AppSync's `null` literal: Java `null`.
    Null,
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Range(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// A `#macro` definition. Velocity 1.7 macros are global to the template.
#[derive(Debug, Clone)]
pub struct Macro {
    pub params: Vec<Arc<str>>,
    pub body: Vec<Node>,
}

pub type Macros = HashMap<Arc<str>, Arc<Macro>>;
