//! Java methods and properties on template values, with Java semantics
//! (UTF-16 string indices, `java.util.regex` patterns, exception texts).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::vtl::value::{Entry, ForeachScope, Map, Value};

/// A Java exception thrown by a method, e.g.
/// `java.lang.StringIndexOutOfBoundsException: begin 5, end 3, length 3`.
#[derive(Debug)]
pub struct JavaException(pub String);

/// The receiver's Java class, as Velocity names it in error messages.
pub fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Int(i) if i32::try_from(*i).is_ok() => "java.lang.Integer",
        Value::Int(_) => "java.lang.Long",
        Value::Float(_) => "java.lang.Double",
        Value::Str(_) => "java.lang.String",
        Value::List(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.LinkedHashMap",
        Value::Builtin(_) => "java.lang.Object",
        Value::Foreach(_) => "org.apache.velocity.runtime.directive.ForeachScope",
        Value::Entry(_) => "java.util.LinkedHashMap$Entry",
    }
}

/// Nesting beyond this while printing or comparing means a cycle; Java would
/// overflow its stack, we report an error instead.
pub const MAX_VALUE_DEPTH: u32 = 256;

/// Why a value could not be printed or converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooDeep {
    /// Nested beyond [`MAX_VALUE_DEPTH`] (a collection inside itself).
    Nesting,
    /// Longer than [`MAX_TEXT_BYTES`] (shared sub-collections can make a
    /// small value print exponentially large).
    Size,
}

/// No string a template builds may exceed AppSync's 5 MB output limit.
pub const MAX_TEXT_BYTES: usize = 5 * 1024 * 1024;

/// Largest list `addAll` may build; Java would run out of memory first.
pub const MAX_LIST_LEN: usize = 1_000_000;

/// Java's `String.valueOf`, safe on cyclic collections.
pub fn write_java(out: &mut String, v: &Value) -> Result<(), TooDeep> {
    write_java_depth(out, v, 0)
}

fn write_java_depth(out: &mut String, v: &Value, depth: u32) -> Result<(), TooDeep> {
    use std::fmt::Write;
    if depth > MAX_VALUE_DEPTH {
        return Err(TooDeep::Nesting);
    }
    if out.len() > MAX_TEXT_BYTES {
        return Err(TooDeep::Size);
    }
    match v {
        Value::Str(s) => out.push_str(s),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::List(items) => {
            out.push('[');
            let items = items.borrow();
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 {
                    out.push_str(", ");
                }
                if let (Value::List(inner), Value::List(outer)) = (item, v)
                    && Rc::ptr_eq(inner, outer)
                {
                    out.push_str("(this Collection)");
                    continue;
                }
                write_java_depth(out, item, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            let map = map.borrow();
            for (idx, (k, item)) in map.iter().enumerate() {
                if idx > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                if let (Value::Map(inner), Value::Map(outer)) = (item, v)
                    && Rc::ptr_eq(inner, outer)
                {
                    out.push_str("(this Map)");
                    continue;
                }
                write_java_depth(out, item, depth + 1)?;
            }
            out.push('}');
        }
        Value::Foreach(scope) => write_java_depth(out, &Value::map(scope.to_map()), depth + 1)?,
        Value::Entry(entry) => write_java_depth(out, &Value::map(entry.to_map()), depth + 1)?,
        other => {
            let _ = write!(out, "{other}");
        }
    }
    Ok(())
}

pub fn java_string(v: &Value) -> Result<String, TooDeep> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        other => {
            let mut s = String::new();
            write_java(&mut s, other)?;
            Ok(s)
        }
    }
}

/// Java's `Object.equals` (so `Integer(1)` differs from `Double(1.0)`).
pub fn java_equals(a: &Value, b: &Value) -> bool {
    java_equals_depth(a, b, 0)
}

fn java_equals_depth(a: &Value, b: &Value, depth: u32) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::Foreach(x), Value::Foreach(y)) => Rc::ptr_eq(x, y),
        (Value::Entry(x), Value::Entry(y)) => {
            x.key == y.key && java_equals_depth(&x.value, &y.value, depth + 1)
        }
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| java_equals_depth(p, q, depth + 1))
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| java_equals_depth(p, q, depth + 1)))
        }
        _ => false,
    }
}

/// Velocity 1.7's `==`: numbers by value, same classes by `equals`, other
/// pairs by their `toString()`; null equals only null.
pub fn velocity_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            as_f64(a) == as_f64(b)
        }
        (Value::Str(_), Value::Str(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::List(_), Value::List(_))
        | (Value::Map(_), Value::Map(_)) => java_equals(a, b),
        _ => match (java_string(a), java_string(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
    }
}

pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A Java `int` argument.
fn int_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) if i32::try_from(*i).is_ok() => Some(*i),
        _ => None,
    }
}

fn str_arg(v: &Value) -> Option<&str> {
    v.as_str()
}

fn key_of(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

/// Velocity's property lookup (`$x.name`): `get("name")` on maps, `isEmpty()`
/// for `.empty` on strings and lists. `None` when unresolved.
pub fn property(recv: &Value, name: &str) -> Option<Value> {
    match recv {
        Value::Map(map) => map.borrow().get(name).cloned(),
        Value::Foreach(scope) => scope.property(name),
        Value::Entry(entry) => entry.property(name),
        // Velocity tries `isEmpty()` for both `.empty` and `.Empty`.
        Value::Str(s) if name == "empty" || name == "Empty" => Some(Value::Bool(s.is_empty())),
        Value::List(items) if name == "empty" || name == "Empty" => {
            Some(Value::Bool(items.borrow().is_empty()))
        }
        _ => None,
    }
}

/// The value Velocity renders for a `void` method: the empty string.
fn void() -> Option<Value> {
    Some(Value::str(""))
}

/// Calls a Java method on a value. `Ok(None)` means no such method (or no
/// overload for these argument types): Velocity then renders the reference
/// literally. `Ok(Some(Value::Null))` is a method that returned null.
pub fn call(recv: &Value, name: &str, args: &[Value]) -> Result<Option<Value>, JavaException> {
    let res = call_inner(recv, name, args)?;
    if let Some(Value::Str(s)) = &res
        && s.len() > MAX_TEXT_BYTES
    {
        return Err(JavaException(format!(
            "java.lang.OutOfMemoryError: a string may hold at most {MAX_TEXT_BYTES} bytes here"
        )));
    }
    Ok(res)
}

fn call_inner(recv: &Value, name: &str, args: &[Value]) -> Result<Option<Value>, JavaException> {
    let res = match recv {
        Value::Str(s) => string_method(s, name, args)?,
        Value::List(items) => list_method(items, name, args)?,
        Value::Map(map) => map_method(map, name, args)?,
        Value::Int(_) | Value::Float(_) => number_method(recv, name, args),
        Value::Bool(b) => match (name, args) {
            ("booleanValue", []) => Some(Value::Bool(*b)),
            _ => None,
        },
        Value::Foreach(scope) => foreach_method(scope, name, args),
        Value::Entry(entry) => match (name, args) {
            ("getKey", []) => Some(Value::Str(entry.key.clone())),
            ("getValue", []) => Some(entry.value.clone()),
            _ => None,
        },
        Value::Null | Value::Builtin(_) => None,
    };
    if res.is_some() {
        return Ok(res);
    }
    // Methods every Java object has.
    Ok(match (name, args) {
        ("toString", []) => match java_string(recv) {
            Ok(s) => Some(Value::str(s)),
            Err(_) => None,
        },
        ("equals", [other]) => Some(Value::Bool(java_equals(recv, other))),
        _ => None,
    })
}

/// `String.compareTo`: the first differing UTF-16 unit, else the length difference.
fn java_compare(a: &str, b: &str) -> i64 {
    let (a, b) = (utf16(a), utf16(b));
    for (x, y) in a.iter().zip(b.iter()) {
        if x != y {
            return i64::from(*x) - i64::from(*y);
        }
    }
    a.len() as i64 - b.len() as i64
}

fn number_method(recv: &Value, name: &str, args: &[Value]) -> Option<Value> {
    if let ("compareTo", [other]) = (name, args) {
        // `Integer.compareTo(Integer)`: -1, 0 or 1; other types do not match.
        let ord = match (recv, other) {
            (Value::Int(x), Value::Int(y)) => x.cmp(y),
            (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
            _ => return None,
        };
        return Some(Value::Int(ord as i64));
    }
    if !args.is_empty() {
        return None;
    }
    Some(match (name, recv) {
        ("intValue", Value::Int(i)) => Value::Int(*i as i32 as i64),
        ("intValue", Value::Float(f)) => Value::Int(*f as i32 as i64),
        ("longValue", Value::Int(i)) => Value::Int(*i),
        ("longValue", Value::Float(f)) => Value::Int(*f as i64),
        ("doubleValue", _) => Value::Float(as_f64(recv)?),
        _ => return None,
    })
}

/// Java strings index by UTF-16 code unit.
fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from_utf16(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

fn index_of(hay: &[u16], needle: &[u16], from: i64) -> i64 {
    let from = from.max(0) as usize;
    if needle.is_empty() {
        return from.min(hay.len()) as i64;
    }
    if from >= hay.len() {
        return -1;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map_or(-1, |p| (p + from) as i64)
}

fn last_index_of(hay: &[u16], needle: &[u16], from: i64) -> i64 {
    if from < 0 || needle.len() > hay.len() {
        return -1;
    }
    let max_start = (hay.len() - needle.len()).min(from as usize);
    (0..=max_start)
        .rev()
        .find(|&i| hay[i..i + needle.len()] == *needle)
        .map_or(-1, |i| i as i64)
}

fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

fn string_method(s: &str, name: &str, args: &[Value]) -> Result<Option<Value>, JavaException> {
    let v = match (name, args) {
        ("length", []) => Value::Int(if s.is_ascii() {
            s.len() as i64
        } else {
            s.encode_utf16().count() as i64
        }),
        ("isEmpty", []) => Value::Bool(s.is_empty()),
        ("substring", [b]) | ("substring", [b, _]) => {
            let Some(begin) = int_arg(b) else {
                return Ok(None);
            };
            let units = utf16(s);
            let len = units.len() as i64;
            let end = match args.get(1) {
                Some(e) => match int_arg(e) {
                    Some(e) => e,
                    None => return Ok(None),
                },
                None => len,
            };
            if begin < 0 || end > len || begin > end {
                return Err(JavaException(format!(
                    "java.lang.StringIndexOutOfBoundsException: begin {begin}, end {end}, length {len}"
                )));
            }
            Value::str(from_utf16(&units[begin as usize..end as usize]))
        }
        ("charAt", [i]) => {
            let Some(i) = int_arg(i) else {
                return Ok(None);
            };
            let units = utf16(s);
            if i < 0 || i >= units.len() as i64 {
                return Err(JavaException(format!(
                    "java.lang.StringIndexOutOfBoundsException: String index out of range: {i}"
                )));
            }
            Value::str(from_utf16(&units[i as usize..i as usize + 1]))
        }
        ("indexOf", [needle]) | ("indexOf", [needle, _]) => {
            let Some(needle) = str_arg(needle) else {
                return Ok(None);
            };
            let from = match args.get(1) {
                Some(f) => match int_arg(f) {
                    Some(f) => f,
                    None => return Ok(None),
                },
                None => 0,
            };
            Value::Int(index_of(&utf16(s), &utf16(needle), from))
        }
        ("lastIndexOf", [needle]) | ("lastIndexOf", [needle, _]) => {
            let Some(needle) = str_arg(needle) else {
                return Ok(None);
            };
            let from = match args.get(1) {
                Some(f) => match int_arg(f) {
                    Some(f) => f,
                    None => return Ok(None),
                },
                None => i64::MAX,
            };
            Value::Int(last_index_of(&utf16(s), &utf16(needle), from))
        }
        ("contains", [Value::Str(x)]) => Value::Bool(s.contains(&**x)),
        ("startsWith", [Value::Str(x)]) => Value::Bool(s.starts_with(&**x)),
        ("startsWith", [Value::Str(x), off]) => {
            let Some(off) = int_arg(off) else {
                return Ok(None);
            };
            let units = utf16(s);
            let x = utf16(x);
            Value::Bool(
                off >= 0 && (off as usize) <= units.len() && units[off as usize..].starts_with(&x),
            )
        }
        ("endsWith", [Value::Str(x)]) => Value::Bool(s.ends_with(&**x)),
        ("toLowerCase", []) => Value::str(s.to_lowercase()),
        ("toUpperCase", []) => Value::str(s.to_uppercase()),
        ("trim", []) => Value::str(java_trim(s)),
        ("replace", [Value::Str(a), Value::Str(b)]) => Value::str(s.replace(&**a, b)),
        ("replaceAll", [Value::Str(re), Value::Str(rep)]) => {
            Value::str(regex_replace(s, re, rep, true)?)
        }
        ("replaceFirst", [Value::Str(re), Value::Str(rep)]) => {
            Value::str(regex_replace(s, re, rep, false)?)
        }
        ("matches", [Value::Str(re)]) => {
            let anchored = format!("\\A(?:{re})\\z");
            let rx = compile(&anchored).map_err(|_| pattern_error(re))?;
            Value::Bool(rx.is_match(s).map_err(regex_runtime)?)
        }
        ("split", [Value::Str(re)]) => java_split(s, re, 0)?,
        ("split", [Value::Str(re), limit]) => {
            let Some(limit) = int_arg(limit) else {
                return Ok(None);
            };
            java_split(s, re, limit)?
        }
        ("equals", [other]) => Value::Bool(other.as_str() == Some(s)),
        ("equalsIgnoreCase", [other]) => Value::Bool(match other.as_str() {
            Some(o) => {
                let (a, b) = (utf16(s), utf16(o));
                a.len() == b.len() && s.to_lowercase() == o.to_lowercase()
            }
            None => false,
        }),
        ("concat", [Value::Str(x)]) => Value::str(format!("{s}{x}")),
        ("concat", [Value::Null]) => {
            return Err(JavaException("java.lang.NullPointerException".into()));
        }
        ("toString", []) => Value::str(s),
        ("compareTo", [Value::Str(o)]) => Value::Int(java_compare(s, o)),
        ("compareToIgnoreCase", [Value::Str(o)]) => Value::Int(java_compare(
            &s.to_uppercase().to_lowercase(),
            &o.to_uppercase().to_lowercase(),
        )),
        // A `char[]`; templates iterate it, so chars become one-char strings.
        ("toCharArray", []) => Value::list(
            s.encode_utf16()
                .map(|u| Value::str(String::from_utf16_lossy(&[u])))
                .collect(),
        ),
        ("hashCode", []) => {
            let h = s
                .encode_utf16()
                .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)));
            Value::Int(i64::from(h))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn pattern_error(re: &str) -> JavaException {
    JavaException(format!(
        "java.util.regex.PatternSyntaxException: invalid regular expression `{re}`"
    ))
}

fn regex_runtime(e: fancy_regex::Error) -> JavaException {
    JavaException(format!("java.lang.StackOverflowError: {e}"))
}

thread_local! {
    /// Templates reuse a handful of patterns; compiling is far costlier than matching.
    static REGEX_CACHE: RefCell<HashMap<String, Rc<fancy_regex::Regex>>> = RefCell::new(HashMap::new());
}

fn compile(pattern: &str) -> Result<Rc<fancy_regex::Regex>, Box<fancy_regex::Error>> {
    if let Some(rx) = REGEX_CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(rx);
    }
    let rx = Rc::new(
        fancy_regex::RegexBuilder::new(pattern)
            .backtrack_limit(1_000_000)
            .build()
            .map_err(Box::new)?,
    );
    REGEX_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(pattern.to_owned(), rx.clone());
    });
    Ok(rx)
}

/// `Matcher.appendReplacement` syntax: `$n`, `${name}`, `\` escapes.
fn expand_replacement(
    rep: &str,
    caps: &fancy_regex::Captures<'_, str>,
    rx: &fancy_regex::Regex,
    out: &mut String,
) -> Result<(), JavaException> {
    let group_count = caps.len() - 1;
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.push(n),
                None => {
                    return Err(JavaException(
                        "java.lang.IllegalArgumentException: character to be escaped is missing"
                            .into(),
                    ));
                }
            },
            '$' => match chars.peek().copied() {
                Some('{') => {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(ch) if ch.is_ascii_alphanumeric() => name.push(ch),
                            _ => {
                                return Err(JavaException(
                                    "java.lang.IllegalArgumentException: named capturing group is missing trailing '}'"
                                        .into(),
                                ));
                            }
                        }
                    }
                    if !rx.capture_names().any(|n| n == Some(name.as_str())) {
                        return Err(JavaException(format!(
                            "java.lang.IllegalArgumentException: No group with name {{{name}}}"
                        )));
                    }
                    if let Some(m) = caps.name(&name) {
                        out.push_str(m.as_str());
                    }
                }
                Some(d) if d.is_ascii_digit() => {
                    chars.next();
                    let mut group = d as usize - '0' as usize;
                    // Java keeps reading digits while the group number exists.
                    while let Some(&n) = chars.peek() {
                        let Some(digit) = n.to_digit(10) else { break };
                        let next = group * 10 + digit as usize;
                        if next > group_count {
                            break;
                        }
                        group = next;
                        chars.next();
                    }
                    if group > group_count {
                        return Err(JavaException(format!(
                            "java.lang.IndexOutOfBoundsException: No group {group}"
                        )));
                    }
                    if let Some(m) = caps.get(group) {
                        out.push_str(m.as_str());
                    }
                }
                _ => {
                    return Err(JavaException(
                        "java.lang.IllegalArgumentException: Illegal group reference".into(),
                    ));
                }
            },
            c => out.push(c),
        }
    }
    Ok(())
}

/// Java's `String.replaceAll` (`all`) or `replaceFirst`: a regex pattern
/// and `$n` replacements. The JS runtime's `replace` and `replaceAll` read
/// a string pattern this way too.
pub(crate) fn regex_replace(
    s: &str,
    re: &str,
    rep: &str,
    all: bool,
) -> Result<String, JavaException> {
    let rx = compile(re).map_err(|_| pattern_error(re))?;
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in rx.captures_iter(s) {
        let caps = caps.map_err(regex_runtime)?;
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        expand_replacement(rep, &caps, &rx, &mut out)?;
        last = m.end();
        if !all {
            break;
        }
    }
    out.push_str(&s[last..]);
    Ok(out)
}

/// `String.split(regex, limit)`: no leading empty string for a zero-width
/// match at 0, trailing empty strings dropped when `limit == 0`.
fn java_split(s: &str, re: &str, limit: i64) -> Result<Value, JavaException> {
    let rx = compile(re).map_err(|_| pattern_error(re))?;
    let mut parts: Vec<&str> = Vec::new();
    let mut index = 0;
    let limited = limit > 0;
    let mut matched = false;
    for m in rx.find_iter(s) {
        let m = m.map_err(regex_runtime)?;
        if !limited || (parts.len() as i64) < limit - 1 {
            if index == 0 && m.start() == 0 && m.start() == m.end() {
                continue;
            }
            matched = true;
            parts.push(&s[index..m.start()]);
            index = m.end();
        } else {
            break;
        }
    }
    if !matched {
        return Ok(Value::list(vec![Value::str(s)]));
    }
    parts.push(&s[index..]);
    if limit == 0 {
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
    }
    Ok(Value::list(parts.into_iter().map(Value::str).collect()))
}

fn index_error(i: i64, len: usize) -> JavaException {
    JavaException(format!(
        "java.lang.IndexOutOfBoundsException: Index {i} out of bounds for length {len}"
    ))
}

/// A list or array-like argument (`addAll`, `containsAll`, ...).
fn list_items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(items) => Some(items.borrow().clone()),
        _ => None,
    }
}

fn list_method(
    items: &Rc<RefCell<Vec<Value>>>,
    name: &str,
    args: &[Value],
) -> Result<Option<Value>, JavaException> {
    let v = match (name, args) {
        ("size", []) => Value::Int(items.borrow().len() as i64),
        ("isEmpty", []) => Value::Bool(items.borrow().is_empty()),
        ("get", [i]) => {
            let Some(i) = int_arg(i) else {
                return Ok(None);
            };
            let items = items.borrow();
            match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                Some(v) => v.clone(),
                None => return Err(index_error(i, items.len())),
            }
        }
        ("add", [x]) => {
            items.borrow_mut().push(x.clone());
            Value::Bool(true)
        }
        ("add", [i, x]) => {
            let Some(i) = int_arg(i) else {
                return Ok(None);
            };
            let mut items = items.borrow_mut();
            if i < 0 || i as usize > items.len() {
                return Err(JavaException(format!(
                    "java.lang.IndexOutOfBoundsException: Index: {i}, Size: {}",
                    items.len()
                )));
            }
            items.insert(i as usize, x.clone());
            return Ok(void());
        }
        ("addAll", [other]) => {
            let Some(extra) = list_items(other) else {
                return Ok(None);
            };
            if items.borrow().len() + extra.len() > MAX_LIST_LEN {
                return Err(JavaException(format!(
                    "java.lang.OutOfMemoryError: a list may hold at most {MAX_LIST_LEN} items here"
                )));
            }
            let changed = !extra.is_empty();
            items.borrow_mut().extend(extra);
            Value::Bool(changed)
        }
        ("remove", [Value::Int(i)]) if int_arg(&Value::Int(*i)).is_some() => {
            let mut items = items.borrow_mut();
            if *i < 0 || *i as usize >= items.len() {
                return Err(index_error(*i, items.len()));
            }
            items.remove(*i as usize)
        }
        ("remove", [x]) => {
            let mut items = items.borrow_mut();
            match items.iter().position(|y| java_equals(x, y)) {
                Some(p) => {
                    items.remove(p);
                    Value::Bool(true)
                }
                None => Value::Bool(false),
            }
        }
        ("contains", [x]) => Value::Bool(items.borrow().iter().any(|y| java_equals(x, y))),
        ("containsAll", [other]) => {
            let Some(other) = list_items(other) else {
                return Ok(None);
            };
            let items = items.borrow();
            Value::Bool(
                other
                    .iter()
                    .all(|x| items.iter().any(|y| java_equals(x, y))),
            )
        }
        ("removeAll", [other]) | ("retainAll", [other]) => {
            let Some(other) = list_items(other) else {
                return Ok(None);
            };
            let retain = name == "retainAll";
            let mut items = items.borrow_mut();
            let before = items.len();
            items.retain(|y| other.iter().any(|x| java_equals(x, y)) == retain);
            Value::Bool(items.len() != before)
        }
        ("indexOf", [x]) => Value::Int(
            items
                .borrow()
                .iter()
                .position(|y| java_equals(x, y))
                .map_or(-1, |p| p as i64),
        ),
        ("lastIndexOf", [x]) => Value::Int(
            items
                .borrow()
                .iter()
                .rposition(|y| java_equals(x, y))
                .map_or(-1, |p| p as i64),
        ),
        ("set", [i, x]) => {
            let Some(i) = int_arg(i) else {
                return Ok(None);
            };
            let mut items = items.borrow_mut();
            let len = items.len();
            match usize::try_from(i).ok().and_then(|i| items.get_mut(i)) {
                Some(slot) => std::mem::replace(slot, x.clone()),
                None => return Err(index_error(i, len)),
            }
        }
        ("subList", [a, b]) => {
            let (Some(a), Some(b)) = (int_arg(a), int_arg(b)) else {
                return Ok(None);
            };
            let items = items.borrow();
            if a < 0 {
                return Err(JavaException(format!(
                    "java.lang.IndexOutOfBoundsException: fromIndex = {a}"
                )));
            }
            if b as usize > items.len() || b < 0 {
                return Err(JavaException(format!(
                    "java.lang.IndexOutOfBoundsException: toIndex = {b}"
                )));
            }
            if a > b {
                return Err(JavaException(format!(
                    "java.lang.IllegalArgumentException: fromIndex({a}) > toIndex({b})"
                )));
            }
            // Java returns a view; a copy is indistinguishable for reads.
            Value::list(items[a as usize..b as usize].to_vec())
        }
        ("clear", []) => {
            items.borrow_mut().clear();
            return Ok(void());
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn map_method(
    map: &Rc<RefCell<Map>>,
    name: &str,
    args: &[Value],
) -> Result<Option<Value>, JavaException> {
    let v = match (name, args) {
        ("get", [k]) => match key_of(k) {
            Some(k) => map.borrow().get(&k).cloned().unwrap_or(Value::Null),
            None => Value::Null,
        },
        ("getOrDefault", [k, d]) => match key_of(k).and_then(|k| map.borrow().get(&k).cloned()) {
            Some(v) => v,
            None => d.clone(),
        },
        ("put", [k, v]) => {
            let Some(k) = key_of(k) else {
                return Ok(None);
            };
            map.borrow_mut().insert(k, v.clone()).unwrap_or(Value::Null)
        }
        ("putIfAbsent", [k, v]) => {
            let Some(k) = key_of(k) else {
                return Ok(None);
            };
            let mut map = map.borrow_mut();
            match map.get(&k) {
                Some(existing) if !existing.is_null() => existing.clone(),
                _ => {
                    map.insert(k, v.clone());
                    Value::Null
                }
            }
        }
        ("putAll", [Value::Map(other)]) => {
            let extra: Vec<(String, Value)> = other
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            map.borrow_mut().extend(extra);
            return Ok(void());
        }
        ("remove", [k]) => match key_of(k) {
            Some(k) => map.borrow_mut().shift_remove(&k).unwrap_or(Value::Null),
            None => Value::Null,
        },
        ("containsKey", [k]) => {
            Value::Bool(key_of(k).is_some_and(|k| map.borrow().contains_key(&k)))
        }
        ("containsValue", [v]) => Value::Bool(map.borrow().values().any(|x| java_equals(v, x))),
        ("keySet", []) => Value::list(
            map.borrow()
                .keys()
                .map(|k| Value::str(k.as_str()))
                .collect(),
        ),
        ("values", []) => Value::list(map.borrow().values().cloned().collect()),
        ("entrySet", []) => Value::list(
            map.borrow()
                .iter()
                .map(|(k, v)| {
                    Value::Entry(Rc::new(Entry {
                        key: Rc::from(k.as_str()),
                        value: v.clone(),
                    }))
                })
                .collect(),
        ),
        ("size", []) => Value::Int(map.borrow().len() as i64),
        ("isEmpty", []) => Value::Bool(map.borrow().is_empty()),
        ("clear", []) => {
            map.borrow_mut().clear();
            return Ok(void());
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// The Java accessors of Velocity's `ForeachScope` (Amplify's templates call
/// `$foreach.hasNext()`).
fn foreach_method(scope: &ForeachScope, name: &str, args: &[Value]) -> Option<Value> {
    if !args.is_empty() {
        return None;
    }
    Some(match name {
        "hasNext" | "getHasNext" => Value::Bool(scope.has_next()),
        "isFirst" | "getFirst" => Value::Bool(scope.first()),
        "isLast" | "getLast" => Value::Bool(scope.last()),
        "getCount" => Value::Int(scope.count()),
        "getIndex" => Value::Int(scope.index()),
        "getParent" => scope.parent.clone()?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str, re: &str, limit: i64) -> String {
        java_split(s, re, limit).unwrap().to_string()
    }

    #[test]
    fn split_follows_java() {
        assert_eq!(split(",a,,b,,", ",", 0), "[, a, , b]");
        assert_eq!(split("abc", "", 0), "[a, b, c]");
        assert_eq!(split("a1b2", "(?=\\d)", -1), "[a, 1b, 2]");
        assert_eq!(
            java_split("", ",", 0).unwrap().to_json(),
            serde_json::json!([""])
        );
        assert_eq!(split(",,", ",", 0), "[]");
        assert_eq!(split("a,b,c", ",", 2), "[a, b,c]");
    }

    #[test]
    fn replacement_syntax_follows_java() {
        assert_eq!(regex_replace("abc", "(b)", "[$1]", true).unwrap(), "a[b]c");
        assert_eq!(regex_replace("aaa", "a", "\\$", true).unwrap(), "$$$");
        assert_eq!(regex_replace("ab", "", "-", true).unwrap(), "-a-b-");
        assert!(regex_replace("a", "a", "$2", true).is_err());
    }
}
