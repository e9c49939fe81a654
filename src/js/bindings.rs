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

use crate::runtime::{CodeError, Effect, Host};
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

/// A JS value as JSON; `undefined` and functions read as `null`.
pub(super) fn to_json<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> rquickjs::Result<Json> {
    if let Some(s) = value.as_string() {
        return Ok(Json::String(s.to_string()?));
    }
    if value.is_undefined() || value.is_null() || value.is_function() {
        return Ok(Json::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Json::Bool(b));
    }
    if let Some(i) = value.as_int() {
        return Ok(Json::from(i));
    }
    match ctx.json_stringify(value.clone())? {
        Some(text) => Ok(serde_json::from_str(&text.to_string()?).unwrap_or(Json::Null)),
        None => Ok(Json::Null),
    }
}

/// A JSON value in JS.
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
        other => ctx.json_parse(other.to_string()),
    }
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
