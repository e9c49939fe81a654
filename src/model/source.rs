//! Positions in YAML sources, taken from the parser's spans, so a problem found
//! after parsing (an unknown data source, a missing template) points at its key
//! whether the file is written in block style or in flow style
//! (`auth: { type: API_KEY }`).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Unexpected, Visitor};
use serde_saphyr::{Location, Spanned};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// `None` for the parser's "unknown location" (line 0).
    pub fn from_location(location: &Location) -> Option<Position> {
        let line = usize::try_from(location.line()).ok()?;
        let column = usize::try_from(location.column()).ok()?;
        (line > 0).then_some(Position {
            line,
            column: column.max(1),
        })
    }
}

/// The keys, items and scalars of a YAML document with their positions.
#[derive(Debug, Default)]
pub struct KeyIndex {
    root: Option<Node>,
}

#[derive(Debug)]
enum Node {
    Map(Vec<Entry>),
    Seq(Vec<(Option<Position>, Node)>),
    Scalar(Scalar),
}

#[derive(Debug)]
struct Entry {
    key: String,
    key_at: Option<Position>,
    value_at: Option<Position>,
    value: Node,
}

/// A scalar as the deserializer saw it, to name it in messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Signed(i64),
    Unsigned(u64),
    Float(f64),
    Str(String),
}

impl Scalar {
    /// How serde names it in "invalid type" messages (``integer `-1` ``).
    pub fn unexpected(&self) -> Unexpected<'_> {
        match self {
            Scalar::Null => Unexpected::Unit,
            Scalar::Bool(b) => Unexpected::Bool(*b),
            Scalar::Signed(n) => Unexpected::Signed(*n),
            Scalar::Unsigned(n) => Unexpected::Unsigned(*n),
            Scalar::Float(n) => Unexpected::Float(*n),
            Scalar::Str(s) => Unexpected::Str(s),
        }
    }
}

impl KeyIndex {
    /// Indexes `text`. A document the parser refuses has no positions; its
    /// parse error carries its own.
    pub fn parse(text: &str) -> KeyIndex {
        KeyIndex {
            root: serde_saphyr::from_str::<Node>(text).ok(),
        }
    }

    /// The position of the deepest key of `path` found (`resolvers`,
    /// `Query.getPost`, `dataSource`). In a sequence a segment is an index,
    /// or a key of the first item that has it (`apiKeys`, `expiresAt`).
    pub fn locate(&self, path: &[&str]) -> Option<Position> {
        let mut node = self.root.as_ref()?;
        let mut found = None;
        for segment in path {
            let Some((at, next)) = child(node, segment) else {
                break;
            };
            found = at.or(found);
            node = next;
        }
        found
    }

    /// The keys of the map at `path`, in document order.
    pub fn keys(&self, path: &[&str]) -> Vec<&str> {
        let mut node = self.root.as_ref();
        for segment in path {
            node = node.and_then(|n| child(n, segment)).map(|(_, n)| n);
        }
        match node {
            Some(Node::Map(entries)) => entries.iter().map(|e| e.key.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The scalar whose value starts at `at`.
    pub fn scalar_at(&self, at: Position) -> Option<&Scalar> {
        fn find(node: &Node, at: Position) -> Option<&Scalar> {
            match node {
                Node::Scalar(_) => None,
                Node::Map(entries) => entries.iter().find_map(|e| match &e.value {
                    Node::Scalar(s) if e.value_at == Some(at) => Some(s),
                    other => find(other, at),
                }),
                Node::Seq(items) => items.iter().find_map(|(item_at, item)| match item {
                    Node::Scalar(s) if *item_at == Some(at) => Some(s),
                    other => find(other, at),
                }),
            }
        }
        find(self.root.as_ref()?, at)
    }
}

fn child<'a>(node: &'a Node, segment: &str) -> Option<(Option<Position>, &'a Node)> {
    let in_map = |entries: &'a [Entry]| {
        entries
            .iter()
            .find(|e| e.key == segment)
            .map(|e| (e.key_at, &e.value))
    };
    match node {
        Node::Map(entries) => in_map(entries),
        Node::Seq(items) => match segment.parse::<usize>() {
            Ok(idx) => items.get(idx).map(|(at, item)| (*at, item)),
            Err(_) => items.iter().find_map(|(_, item)| match item {
                Node::Map(entries) => in_map(entries),
                _ => None,
            }),
        },
        Node::Scalar(_) => None,
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Signed(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Unsigned(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Float(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Str(v.to_owned())))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Null))
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Null))
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push((Position::from_location(&item.referenced), item.value));
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value: Spanned<Node> = map.next_value()?;
            entries.push(Entry {
                key: key.value,
                key_at: Position::from_location(&key.referenced),
                value_at: Position::from_location(&value.referenced),
                value: value.value,
            });
        }
        Ok(Node::Map(entries))
    }
}

/// The source line at `line` (1-based), for snippets.
pub fn line_of(text: &str, line: usize) -> Option<String> {
    text.lines().nth(line.checked_sub(1)?).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::{KeyIndex, Position, Scalar};

    fn at(line: usize, column: usize) -> Option<Position> {
        Some(Position { line, column })
    }

    #[test]
    fn locates_block_style_keys() {
        let index = KeyIndex::parse(
            "name: x\nresolvers:\n  Query.a:\n    dataSource: none\n  Query.b:\n    dataSource: other\n",
        );
        assert_eq!(
            index.locate(&["resolvers", "Query.b", "dataSource"]),
            at(6, 5)
        );
        assert_eq!(index.locate(&["resolvers", "Query.a"]), at(3, 3));
        // The deepest key found when the rest is missing.
        assert_eq!(index.locate(&["resolvers", "Query.a", "request"]), at(3, 3));
        assert_eq!(index.locate(&["nothing"]), None);
    }

    #[test]
    fn locates_flow_style_keys() {
        let index = KeyIndex::parse(
            "name: x\nauthentication: { type: API_KEY }\ndataSources: { ds: { type: NONE, config: { millis: 5 } } }\n",
        );
        assert_eq!(index.locate(&["authentication", "type"]), at(2, 19));
        assert_eq!(index.locate(&["dataSources", "ds", "config"]), at(3, 34));
        assert_eq!(index.keys(&["dataSources"]), vec!["ds"]);
    }

    #[test]
    fn locates_keys_in_sequences() {
        let index = KeyIndex::parse(
            "apiKeys:\n  - name: a\n  - { name: b, expiresAt: soon }\nfunctions: [x, zed]\n",
        );
        assert_eq!(index.locate(&["apiKeys", "1", "expiresAt"]), at(3, 16));
        assert_eq!(index.locate(&["apiKeys", "name"]), at(2, 5));
        assert_eq!(
            index.scalar_at(Position {
                line: 4,
                column: 16
            }),
            Some(&Scalar::Str("zed".to_owned()))
        );
    }

    #[test]
    fn an_unparsable_document_has_no_positions() {
        let index = KeyIndex::parse("name: x\n  bad: [\n");
        assert_eq!(index.locate(&["name"]), None);
    }
}
