//! The parsed forms of DynamoDB expressions.

use crate::dynamodb::types::AttributeValue;

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
    pub(super) fn describe(&self) -> String {
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
    pub(super) fn symbol(self) -> &'static str {
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
