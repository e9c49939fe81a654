//! The globals APPSYNC_JS code sees: `util`, `extensions`, `runtime` and
//! `console`, bound to the same `$util` implementation VTL uses.
//!
//! The JS library is not the VTL one: `toJson`, `parseJson`, `isNull` and
//! its family, `defaultIfNull*`, `typeOf`, `validate`, `qr`, `log`, `list`
//! and `map` exist only in VTL, and the `…Json` variants of
//! `util.dynamodb` only in VTL. [`UTIL`] lists what JS has (the developer
//! guide's "Built-in utilities" for JS); a name missing here is `undefined`
//! in JS, so calling it fails as it does in AppSync.

use std::cell::RefCell;
use std::rc::Rc;

use rquickjs::function::{Opt, Rest};
use rquickjs::{Ctx, Exception, Function, Object, Value};
use serde_json::Value as Json;

use crate::runtime::{CodeError, Context as ResolverContext, Effect, Host};
use crate::vtl::Value as VtlValue;
use crate::vtl::runtime::RenderState;
use crate::vtl::util::transform::{self, Style};
use crate::vtl::util::{CallError, Namespace};

/// The `util` members of the JS runtime: (namespace, property under
/// `util`, methods). `None` is `util` itself.
const UTIL: &[(Namespace, Option<&str>, &[&str])] = &[
    (
        Namespace::Util,
        None,
        &[
            "urlEncode",
            "urlDecode",
            "base64Encode",
            "base64Decode",
            "escapeJavaScript",
            "autoId",
            "autoUlid",
            "autoKsuid",
            "error",
            "appendError",
            "unauthorized",
            "matches",
            "authType",
        ],
    ),
    (
        Namespace::UtilTime,
        Some("time"),
        &[
            "nowISO8601",
            "nowEpochSeconds",
            "nowEpochMilliSeconds",
            "nowFormatted",
            "parseFormattedToEpochMilliSeconds",
            "parseISO8601ToEpochMilliSeconds",
            "epochMilliSecondsToSeconds",
            "epochMilliSecondsToISO8601",
            "epochMilliSecondsToFormatted",
        ],
    ),
    (Namespace::UtilStr, Some("str"), &["normalize"]),
    (
        Namespace::UtilMath,
        Some("math"),
        &[
            "roundNum",
            "minVal",
            "maxVal",
            "randomDouble",
            "randomWithinRange",
        ],
    ),
    (
        Namespace::UtilDynamodb,
        Some("dynamodb"),
        &[
            "toDynamoDB",
            "toString",
            "toStringSet",
            "toNumber",
            "toNumberSet",
            "toBinary",
            "toBinarySet",
            "toBoolean",
            "toNull",
            "toList",
            "toMap",
            "toMapValues",
            "toS3Object",
            "fromS3ObjectJson",
        ],
    ),
    (
        Namespace::UtilTransform,
        Some("transform"),
        &[
            "toDynamoDBFilterExpression",
            "toDynamoDBConditionExpression",
            "toElasticsearchQueryDSL",
            "toSubscriptionFilter",
        ],
    ),
    (
        Namespace::UtilHttp,
        Some("http"),
        &["copyHeaders", "addResponseHeader", "addResponseHeaders"],
    ),
    (Namespace::UtilXml, Some("xml"), &["toMap", "toJsonString"]),
    (Namespace::UtilRds, Some("rds"), &["toJsonObject"]),
];

const EXTENSIONS: &[&str] = &[
    "evictFromApiCache",
    "setSubscriptionFilter",
    "setSubscriptionInvalidationFilter",
    "invalidateSubscriptions",
];

/// What `@aws-appsync/utils/dynamodb` exports.
pub(super) const DYNAMODB_EXPORTS: &[&str] = &[
    "get",
    "put",
    "remove",
    "update",
    "query",
    "scan",
    "sync",
    "batchGet",
    "batchPut",
    "batchDelete",
    "transactGet",
    "transactWrite",
    "operations",
    "toStringSet",
    "toNumberSet",
    "toBinarySet",
];

/// How `runtime.earlyReturn` asked to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SkipTo {
    /// The default: skip this step's data source and response.
    Next,
    /// Skip to the pipeline's after step.
    End,
}

/// What one evaluation records through the globals. Shared by every native
/// function of a context; reset before each evaluation.
#[derive(Debug, Default)]
pub(super) struct CallState {
    pub host: Host,
    pub now_epoch_millis: i64,
    pub appended_errors: Vec<CodeError>,
    pub logs: Vec<String>,
    pub effects: Vec<Effect>,
    /// `util.error` / `util.unauthorized`: the error that stops the handler.
    pub raised: Option<CodeError>,
    /// `runtime.earlyReturn`: the value and where to go.
    pub early_return: Option<(Json, SkipTo)>,
    /// The request's ctx, moved here for the call: `ctx` getters read it.
    pub ctx: ResolverContext,
    /// The parts of ctx the handler has read.
    pub touched: Touched,
}

/// The ctx parts read during a call, by name.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Touched(u16);

impl Touched {
    const PARTS: [&'static str; 10] = crate::runtime::CONTEXT_PARTS;

    fn add(&mut self, key: &str) {
        if let Some(i) = Self::PARTS.iter().position(|p| *p == key) {
            self.0 |= 1 << i;
        }
    }

    pub fn contains(self, key: &str) -> bool {
        Self::PARTS
            .iter()
            .position(|p| *p == key)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }
}

impl CallState {
    pub fn begin(&mut self, host: Host) {
        self.now_epoch_millis = host.now_epoch_millis();
        self.host = host;
        self.appended_errors.clear();
        self.logs.clear();
        self.effects.clear();
        self.raised = None;
        self.early_return = None;
        self.touched = Touched::default();
    }

    /// Runs a `$util` helper with this evaluation's host and records.
    // `CallError::Raise` carries a whole error by `vtl::util`'s contract.
    #[allow(clippy::result_large_err)]
    fn call(
        &mut self,
        namespace: Namespace,
        method: &str,
        args: &[VtlValue],
    ) -> Result<VtlValue, CallError> {
        let mut render = RenderState {
            host: &mut self.host,
            now_epoch_millis: self.now_epoch_millis,
            appended_errors: std::mem::take(&mut self.appended_errors),
            logs: std::mem::take(&mut self.logs),
            effects: std::mem::take(&mut self.effects),
            auth_type: self.ctx.auth_type(),
        };
        let result = crate::vtl::util::call(&mut render, namespace, method, args);
        self.appended_errors = render.appended_errors;
        self.logs = render.logs;
        self.effects = render.effects;
        result
    }
}

pub(super) type SharedState = Rc<RefCell<CallState>>;

/// Installs `util`, `extensions`, `runtime` and `console` on the global
/// object.
pub(super) fn install<'js>(ctx: &Ctx<'js>, state: &SharedState) -> rquickjs::Result<()> {
    let globals = ctx.globals();
    let util = Object::new(ctx.clone())?;
    for (namespace, property, methods) in UTIL {
        let target = match property {
            None => util.clone(),
            Some(name) => {
                let child = Object::new(ctx.clone())?;
                util.set(*name, child.clone())?;
                child
            }
        };
        for method in *methods {
            target.set(*method, helper(ctx, state, *namespace, method)?)?;
        }
    }
    globals.set("util", util)?;

    let extensions = Object::new(ctx.clone())?;
    for method in EXTENSIONS {
        extensions.set(*method, helper(ctx, state, Namespace::Extensions, method)?)?;
    }
    globals.set("extensions", extensions)?;

    let runtime = Object::new(ctx.clone())?;
    let st = state.clone();
    runtime.set(
        "earlyReturn",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, value: Opt<Value<'js>>, options: Opt<Value<'js>>| {
                early_return(&ctx, &st, value.0, options.0)
            },
        )?,
    )?;
    globals.set("runtime", runtime)?;

    let console = Object::new(ctx.clone())?;
    for (name, level) in [
        ("log", "INFO"),
        ("info", "INFO"),
        ("warn", "WARN"),
        ("error", "ERROR"),
        ("debug", "DEBUG"),
    ] {
        let st = state.clone();
        console.set(
            name,
            Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
                let line = args
                    .0
                    .iter()
                    .map(|v| display(&ctx, v))
                    .collect::<Vec<_>>()
                    .join(" ");
                st.borrow_mut().logs.push(format!("{level} - {line}"));
            })?,
        )?;
    }
    globals.set("console", console)?;

    // Taken (and removed) by the prelude, for the ctx getters.
    let st = state.clone();
    globals.set(
        "__loadCtxPart",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, key: String| {
            let mut state = st.borrow_mut();
            state.touched.add(&key);
            let c = &state.ctx;
            match key.as_str() {
                "arguments" => from_json(&ctx, &c.arguments),
                "source" => from_json(&ctx, &c.source),
                "result" => from_json(&ctx, &c.result),
                "identity" => from_json(&ctx, &c.identity),
                "stash" => from_map(&ctx, &c.stash),
                "prev" => from_json(&ctx, &c.prev),
                "request" => from_json(&ctx, &c.request),
                "info" => from_json(&ctx, &c.info),
                "error" => from_json(&ctx, &c.error),
                "env" => from_json(&ctx, &c.env),
                _ => Ok(Value::new_undefined(ctx.clone())),
            }
        })?,
    )?;

    // Taken (and removed) by the prelude for String.prototype.replace.
    globals.set(
        "__javaReplace",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, s: String, pattern: String, replacement: String, all: bool| {
                crate::vtl::methods::regex_replace(&s, &pattern, &replacement, all)
                    .map_err(|e| Exception::throw_type(&ctx, &e.0))
            },
        )?,
    )?;
    Ok(())
}

/// One `util.*` or `extensions.*` method.
fn helper<'js>(
    ctx: &Ctx<'js>,
    state: &SharedState,
    namespace: Namespace,
    method: &'static str,
) -> rquickjs::Result<Function<'js>> {
    let state = state.clone();
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, args: Rest<Value<'js>>| -> rquickjs::Result<Value<'js>> {
            let args = args
                .0
                .iter()
                .map(|v| to_json(&ctx, v).map(|j| VtlValue::from_json(&j)))
                .collect::<rquickjs::Result<Vec<_>>>()?;
            let result = match (namespace, method) {
                // JS prints these expressions its own way (see `Style`).
                (
                    Namespace::UtilTransform,
                    "toDynamoDBFilterExpression" | "toDynamoDBConditionExpression",
                ) => match args.first() {
                    None | Some(VtlValue::Null) => Ok(VtlValue::Null),
                    Some(VtlValue::Map(filter)) => {
                        let filter = filter.borrow().clone();
                        transform::expression_json(&filter, Style::Js)
                    }
                    Some(other) => Err(CallError::Invalid(format!(
                        "util.transform.{method} expects an object, got {}",
                        other.type_of()
                    ))),
                },
                // In JS, the typed helpers take optional input and give
                // null for null or undefined (the @aws-appsync/utils
                // typings); VTL's Java overloads refuse it.
                (Namespace::UtilDynamodb, m)
                    if !matches!(m, "toDynamoDB" | "toNull")
                        && args.first().is_none_or(VtlValue::is_null) =>
                {
                    Ok(VtlValue::Null)
                }
                _ => state.borrow_mut().call(namespace, method, &args),
            };
            match result {
                Ok(value) => from_json(&ctx, &js_result(namespace, method, value)),
                Err(CallError::Raise(error)) => {
                    state.borrow_mut().raised = Some(error);
                    Err(Exception::throw_message(&ctx, "util.error"))
                }
                Err(CallError::Invalid(message)) => Err(Exception::throw_type(&ctx, &message)),
                Err(CallError::NoSuchMethod) => Err(Exception::throw_type(
                    &ctx,
                    &format!("{}.{method} is not a function", namespace.name()),
                )),
            }
        },
    )
}

/// A helper's value as JS sees it. Where VTL returns text that JS code uses
/// as an object, JS gets the object.
fn js_result(namespace: Namespace, method: &str, value: VtlValue) -> Json {
    // `toSubscriptionFilter` feeds `extensions.setSubscriptionFilter`,
    // which takes the filter object in JS.
    let parse = matches!(
        (namespace, method),
        (Namespace::UtilTransform, "toSubscriptionFilter")
    );
    match value {
        VtlValue::Str(text) if parse => serde_json::from_str(&text).unwrap_or(Json::Null),
        other => other.to_json(),
    }
}

fn early_return<'js>(
    ctx: &Ctx<'js>,
    state: &SharedState,
    value: Option<Value<'js>>,
    options: Option<Value<'js>>,
) -> rquickjs::Result<()> {
    let value = match value {
        Some(v) => to_json(ctx, &v)?,
        None => Json::Null,
    };
    let skip = match options.map(|o| to_json(ctx, &o)).transpose()? {
        Some(Json::Object(o)) => match o.get("skipTo").and_then(Json::as_str) {
            Some("END") => SkipTo::End,
            Some("NEXT") | None => SkipTo::Next,
            Some(other) => {
                return Err(Exception::throw_type(
                    ctx,
                    &format!("runtime.earlyReturn: skipTo must be 'END' or 'NEXT', not '{other}'"),
                ));
            }
        },
        _ => SkipTo::Next,
    };
    state.borrow_mut().early_return = Some((value, skip));
    Err(Exception::throw_message(ctx, "runtime.earlyReturn"))
}

/// A JS value as JSON, with `JSON.stringify`'s meaning; `undefined`,
/// functions and symbols read as `null` at the top.
pub(super) fn to_json<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> rquickjs::Result<Json> {
    Ok(walk(ctx, value, 0)?.unwrap_or(Json::Null))
}

/// Nesting past which a value goes through `JSON.stringify` itself (which
/// also reports cycles as AppSync's runtime does).
const MAX_WALK_DEPTH: usize = 64;

/// `JSON.stringify`'s conversion, done by walking the value (cheaper than
/// printing and parsing text for the small values handlers return). `None`
/// is what `JSON.stringify` leaves out: `undefined`, functions, symbols.
/// Objects with a `toJSON`, BigInts and deep values go through
/// `JSON.stringify`, so the two never disagree.
fn walk<'js>(ctx: &Ctx<'js>, value: &Value<'js>, depth: usize) -> rquickjs::Result<Option<Json>> {
    use rquickjs::Type;
    Ok(Some(match value.type_of() {
        Type::Uninitialized
        | Type::Undefined
        | Type::Function
        | Type::Constructor
        | Type::Symbol => return Ok(None),
        Type::Null => Json::Null,
        Type::Bool => Json::Bool(value.as_bool().unwrap_or_default()),
        Type::Int => Json::from(value.as_int().unwrap_or_default()),
        Type::Float => {
            // QuickJS keeps numbers beyond 32 bits as doubles; JSON.stringify
            // prints the integral ones as integers, and so do we, so that
            // an epoch in milliseconds stays an integer.
            let x = value.as_float().unwrap_or(f64::NAN);
            if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
                Json::from(x as i64)
            } else if x.fract() == 0.0 && x.abs() < 1e21 {
                // Past 2^53 JavaScript prints the shortest digits that read
                // back as the same double, as Rust's Display does.
                serde_json::from_str(&format!("{x}")).unwrap_or(Json::Null)
            } else {
                serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
            }
        }
        Type::String => Json::String(
            value
                .as_string()
                .map(rquickjs::String::to_string)
                .transpose()?
                .unwrap_or_default(),
        ),
        Type::Array | Type::Object if depth < MAX_WALK_DEPTH => {
            let Some(object) = value.as_object() else {
                return stringify(ctx, value);
            };
            if object.get::<_, Value>("toJSON")?.is_function() {
                return stringify(ctx, value);
            }
            match value.as_array() {
                Some(array) => {
                    let mut items = Vec::with_capacity(array.len());
                    for item in array.iter::<Value>() {
                        items.push(walk(ctx, &item?, depth + 1)?.unwrap_or(Json::Null));
                    }
                    Json::Array(items)
                }
                None => {
                    let mut map = serde_json::Map::new();
                    for entry in object.props::<String, Value>() {
                        let (key, item) = entry?;
                        if let Some(item) = walk(ctx, &item, depth + 1)? {
                            map.insert(key, item);
                        }
                    }
                    Json::Object(map)
                }
            }
        }
        _ => return stringify(ctx, value),
    }))
}

fn stringify<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> rquickjs::Result<Option<Json>> {
    match ctx.json_stringify(value.clone())? {
        Some(text) => Ok(Some(
            serde_json::from_str(&text.to_string()?).unwrap_or(Json::Null),
        )),
        None => Ok(None),
    }
}

/// A JSON value in JS, built directly (cheaper than printing and parsing
/// JSON for the small values requests carry).
pub(super) fn from_json<'js>(ctx: &Ctx<'js>, value: &Json) -> rquickjs::Result<Value<'js>> {
    match value {
        Json::Null => Ok(Value::new_null(ctx.clone())),
        Json::Bool(b) => Ok(Value::new_bool(ctx.clone(), *b)),
        Json::String(s) => Ok(rquickjs::String::from_str(ctx.clone(), s)?.into_value()),
        Json::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => Ok(Value::new_int(ctx.clone(), i)),
            None => Ok(Value::new_float(
                ctx.clone(),
                n.as_f64().unwrap_or(f64::NAN),
            )),
        },
        Json::Array(items) => {
            let array = rquickjs::Array::new(ctx.clone())?;
            for (i, item) in items.iter().enumerate() {
                array.set(i, from_json(ctx, item)?)?;
            }
            Ok(array.into_value())
        }
        Json::Object(map) => from_map(ctx, map),
    }
}

fn from_map<'js>(
    ctx: &Ctx<'js>,
    map: &serde_json::Map<String, Json>,
) -> rquickjs::Result<Value<'js>> {
    let object = Object::new(ctx.clone())?;
    for (key, item) in map {
        object.set(key.as_str(), from_json(ctx, item)?)?;
    }
    Ok(object.into_value())
}

/// How `console.log` prints a value: strings as they are, the rest as JSON.
fn display<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> String {
    if let Some(s) = value.as_string() {
        return s.to_string().unwrap_or_default();
    }
    if value.is_undefined() {
        return "undefined".to_owned();
    }
    if value.is_function() {
        return "[Function]".to_owned();
    }
    match ctx.json_stringify(value.clone()) {
        Ok(Some(text)) => text.to_string().unwrap_or_default(),
        _ => String::new(),
    }
}
