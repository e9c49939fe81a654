//! serverless.yml: the Serverless Framework's variables, resolved in the
//! file's text so every key keeps its line for error messages, then the
//! `appSync:` block read as a manifest (serverless-appsync-plugin v2), with
//! the DynamoDB tables of `resources.Resources` and the top-level
//! `functions:`.
//!
//! Variables: `${self:a.b}`, `${opt:stage}` / `${opt:region}` / `${sls:stage}`
//! (from `--stage`, else `provider.stage`, else `dev`), `${env:NAME}`,
//! `${param:NAME}` (from `--param NAME=VALUE`), `${file(./x.yml):a.b}`
//! (YAML or JSON, relative to the project), `${aws:region}`, each with
//! fallbacks (`${opt:stage, 'dev'}`) and nesting. A variable that is a
//! whole value and resolves to a map or a list is written as JSON, which
//! YAML reads as a flow collection on the same line. Sources that need AWS
//! (`ssm`, `cf`, `s3`) are refused unless a fallback applies.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};

use super::{Loader, Problem};
use crate::model::manifest::{FunctionConfig, Manifest};
use crate::model::source::KeyIndex;

/// What a deploy command would be given (`serverless deploy --stage S
/// --param K=V`, `sam deploy --parameter-overrides K=V`): the stage of a
/// serverless.yml, and its parameters or a template's.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub stage: Option<String>,
    pub params: HashMap<String, String>,
}

/// The files a Serverless project keeps its configuration in.
pub(super) const FILES: [&str; 2] = ["serverless.yml", "serverless.yaml"];

impl Loader {
    /// Reads serverless.yml's `appSync:` block as the manifest, with the
    /// tables of `resources` and the top-level `functions`.
    pub(super) fn parse_serverless(&mut self, file: &'static str) -> Option<Manifest> {
        self.manifest_file = file;
        self.manifest_root = &["appSync"];
        let raw = match std::fs::read_to_string(self.dir.join(file)) {
            Ok(text) => text,
            Err(e) => {
                self.file_problem(file, format!("cannot read {file}: {e}"));
                return None;
            }
        };
        let dir = self.dir.clone();
        let env = |name: &str| std::env::var(name).ok();
        let read = |path: &str| std::fs::read_to_string(dir.join(path));
        let inputs = Inputs {
            stage: self.options.deploy.stage.as_deref(),
            region: None,
            params: &self.options.deploy.params,
            env: &env,
            read_file: &read,
        };
        let text = match resolve_text(&raw, &inputs) {
            Ok(text) => text,
            Err(e) => {
                let at = Some((e.line, e.column));
                self.problems
                    .push(Problem::at(file, &raw, at, None, e.message));
                return None;
            }
        };
        self.manifest_keys = KeyIndex::parse(&text);
        self.manifest_text = text;
        if self.manifest_keys.locate(&["appSync"]).is_none() {
            self.file_problem(
                file,
                "no `appSync:` block: appsync-local reads serverless-appsync-plugin v2's configuration",
            );
            return None;
        }
        let mut manifest =
            match Manifest::parse_at(&self.manifest_text, &self.manifest_keys, &["appSync"]) {
                Ok(manifest) => manifest,
                Err(errors) => {
                    self.manifest_errors(errors);
                    return None;
                }
            };
        let config = read_yaml(&self.manifest_text).unwrap_or_default();
        if manifest.tables.is_none() {
            let tables = tables(&config["resources"]["Resources"]);
            if !tables.is_empty() {
                manifest.tables = Some(Json::Object(tables));
            }
        }
        let names = table_names(&config["resources"]["Resources"]);
        for data_source in manifest.data_sources.values_mut() {
            if let Some(name) = data_source
                .config
                .as_mut()
                .and_then(|c| c.get_mut("tableName"))
            {
                *name = table_reference(name, &names);
            }
        }
        self.serverless_functions(&config, &mut manifest);
        function_references(&mut manifest);
        self.apply_local_settings(&mut manifest);
        Some(manifest)
    }

    /// The top-level `functions`, with the provider's defaults, as local
    /// functions (the keys our `functions:` knows; others have no local
    /// effect).
    fn serverless_functions(&mut self, config: &Json, manifest: &mut Manifest) {
        let provider = &config["provider"];
        let Some(functions) = config["functions"].as_object() else {
            return;
        };
        for (name, function) in functions {
            let mut local = Map::new();
            // The provider's runtime, timeout and memory are defaults.
            for (key, inherited) in [
                ("handler", false),
                ("description", false),
                ("runtime", true),
                ("timeout", true),
                ("memorySize", true),
                ("reservedConcurrency", false),
                ("provisionedConcurrency", false),
            ] {
                let value = function
                    .get(key)
                    .or_else(|| provider.get(key).filter(|_| inherited));
                if let Some(value) = value {
                    local.insert(key.into(), value.clone());
                }
            }
            local.insert(
                "environment".into(),
                merged(&provider["environment"], &function["environment"]),
            );
            match serde_json::from_value::<FunctionConfig>(Json::Object(local)) {
                Ok(function) => {
                    manifest.functions.entry(name.clone()).or_insert(function);
                }
                Err(e) => self.problem_at_keys(
                    &["functions", name],
                    format!("functions.{name}"),
                    format!("function `{name}`: {e}"),
                ),
            }
        }
    }
}

/// Serverless's logical id of a function: `word-count` is
/// `WordDashcountLambdaFunction`.
fn function_logical_id(name: &str) -> String {
    let name = name.replace('-', "Dash").replace('_', "Underscore");
    let mut chars = name.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    format!("{first}{}LambdaFunction", chars.as_str())
}

/// The function a `functionArn` names through `!GetAtt <Fn>LambdaFunction.Arn`
/// (or its long form), if it is one of the project's functions.
fn function_of_arn(value: &Json, manifest: &Manifest) -> Option<String> {
    let logical_id = match value {
        Json::String(text) => text.strip_suffix(".Arn")?.to_owned(),
        Json::Object(map) => match map.get("Fn::GetAtt")? {
            Json::Array(parts) if parts.get(1) == Some(&json!("Arn")) => {
                parts.first()?.as_str()?.to_owned()
            }
            _ => return None,
        },
        _ => return None,
    };
    manifest
        .functions
        .keys()
        .find(|name| function_logical_id(name) == logical_id)
        .cloned()
}

/// Lambda data sources and authorizers that point at the project's own
/// functions by `!GetAtt ...LambdaFunction.Arn` name them instead, so the
/// local worker runs them.
fn function_references(manifest: &mut Manifest) {
    let mut renames = Vec::new();
    for (name, data_source) in &manifest.data_sources {
        if let Some(function) = data_source
            .config
            .as_ref()
            .and_then(|c| c.get("functionArn"))
            .and_then(|arn| function_of_arn(arn, manifest))
        {
            renames.push((name.clone(), function));
        }
    }
    for (name, function) in renames {
        if let Some(Json::Object(config)) = manifest
            .data_sources
            .get_mut(&name)
            .and_then(|d| d.config.as_mut())
        {
            config.remove("functionArn");
            config.insert("functionName".into(), Json::String(function));
        }
    }
    let functions: Vec<String> = manifest.functions.keys().cloned().collect();
    let authentications = manifest
        .authentication
        .iter_mut()
        .chain(manifest.additional_authentications.iter_mut());
    for authentication in authentications {
        let Some(config) = authentication.config.as_mut() else {
            continue;
        };
        let Some(arn) = config.function_arn.as_deref() else {
            continue;
        };
        let logical_id = arn.strip_suffix(".Arn").unwrap_or(arn);
        if let Some(function) = functions
            .iter()
            .find(|name| function_logical_id(name) == logical_id)
        {
            config.function_arn = None;
            config.function_name = Some(function.clone());
        }
    }
}

/// A data source's `tableName` that names a table of `resources` by
/// logical id (`!Ref NotesTable`, `{Ref: NotesTable}`): the table's name.
fn table_reference(value: &Json, names: &HashMap<String, String>) -> Json {
    let id = match value {
        Json::String(id) => id.as_str(),
        Json::Object(map) => match map.get("Ref").or_else(|| map.get("!Ref")) {
            Some(Json::String(id)) => id.as_str(),
            _ => return value.clone(),
        },
        _ => return value.clone(),
    };
    match names.get(id) {
        Some(name) => Json::String(name.clone()),
        None => value.clone(),
    }
}

/// A problem in serverless.yml, at a line and column of the original text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VariableError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What the variables read besides the file itself.
pub struct Inputs<'a> {
    pub stage: Option<&'a str>,
    pub region: Option<&'a str>,
    pub params: &'a HashMap<String, String>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Reads a file relative to the project (`${file(...)}`).
    pub read_file: &'a dyn Fn(&str) -> std::io::Result<String>,
}

/// Nested variables deeper than this are a cycle.
const MAX_DEPTH: usize = 16;

struct Resolver<'a> {
    config: Json,
    inputs: &'a Inputs<'a>,
}

/// Resolves every variable in `text`, keeping lines where they are.
pub fn resolve_text(text: &str, inputs: &Inputs<'_>) -> Result<String, VariableError> {
    let config = read_yaml(text).map_err(|e| {
        let at = e.location();
        VariableError {
            line: at.as_ref().map_or(1, |l| l.line()),
            column: at.as_ref().map_or(1, |l| l.column()),
            message: format!("serverless.yml is not valid YAML: {e}"),
        }
    })?;
    let resolver = Resolver { config, inputs };
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split_inclusive('\n').enumerate() {
        // Comments keep their variables as written.
        let (code, comment) = split_comment(line);
        let whole_value = whole_value_variable(code);
        let resolved =
            resolver
                .interpolate(code, 0, whole_value)
                .map_err(|(column, message)| VariableError {
                    line: index + 1,
                    column: column + 1,
                    message,
                })?;
        out.push_str(&resolved);
        out.push_str(comment);
    }
    Ok(out)
}

/// The line without its comment, and the comment (a `#` after a space,
/// outside quotes).
fn split_comment(line: &str) -> (&str, &str) {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => return line.split_at(at),
            _ => {}
        }
        previous = c;
    }
    (line, "")
}

/// Whether the line's value is one variable and nothing else
/// (`key: ${...}` or `- ${...}`), so a map or list may replace it.
fn whole_value_variable(code: &str) -> bool {
    let value = match code.split_once(": ") {
        Some((_, value)) => value,
        None => code.trim_start().strip_prefix("- ").unwrap_or(""),
    };
    let value = value.trim();
    value.starts_with("${")
        && value.ends_with('}')
        && matching_close(value, 2) == Some(value.len() - 1)
}

/// The index of the `}` closing the `${` whose content starts at `from`.
fn matching_close(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 1;
    let mut at = from;
    while at < bytes.len() {
        if bytes[at] == b'$' && bytes.get(at + 1) == Some(&b'{') {
            depth += 1;
            at += 2;
            continue;
        }
        if bytes[at] == b'}' {
            depth -= 1;
            if depth == 0 {
                return Some(at);
            }
        }
        at += 1;
    }
    None
}

/// Why a variable has no value, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct Unresolved(String);

impl From<String> for Unresolved {
    fn from(message: String) -> Self {
        Unresolved(message)
    }
}

type Failure = (usize, String);

impl Resolver<'_> {
    /// Replaces the variables of `text`. `whole` allows a map or list.
    fn interpolate(&self, text: &str, depth: usize, whole: bool) -> Result<String, Failure> {
        let mut out = String::with_capacity(text.len());
        let mut rest = 0;
        while let Some(found) = text[rest..].find("${") {
            let start = rest + found;
            let Some(end) = matching_close(text, start + 2) else {
                return Err((start, "a `${` variable is not closed".to_owned()));
            };
            out.push_str(&text[rest..start]);
            let value = self
                .evaluate(&text[start + 2..end], depth)
                .map_err(|Unresolved(message)| (start, message))?;
            match value {
                Json::String(s) => out.push_str(&s),
                Json::Object(_) | Json::Array(_) if whole => out.push_str(&value.to_string()),
                Json::Object(_) | Json::Array(_) => {
                    return Err((
                        start,
                        format!(
                            "`${{{}}}` is a map or a list inside a longer value",
                            &text[start + 2..end]
                        ),
                    ));
                }
                other => out.push_str(&other.to_string()),
            }
            rest = end + 1;
        }
        out.push_str(&text[rest..]);
        Ok(out)
    }

    /// One variable's content: `source:address, fallback, ...`.
    fn evaluate(&self, content: &str, depth: usize) -> Result<Json, Unresolved> {
        if depth > MAX_DEPTH {
            return Err(format!("`${{{content}}}` refers to itself").into());
        }
        // Inner variables first: `${opt:stage, ${self:custom.stage}}`.
        let mut last_error = None;
        for candidate in split_top_level(content) {
            let candidate = candidate.trim();
            if let Some(literal) = literal(candidate) {
                return Ok(literal);
            }
            // A fallback that is a variable of its own gives its value.
            if candidate.starts_with("${")
                && matching_close(candidate, 2) == Some(candidate.len() - 1)
            {
                match self.evaluate(&candidate[2..candidate.len() - 1], depth + 1) {
                    Ok(value) => return Ok(value),
                    Err(message) => {
                        last_error = Some(message);
                        continue;
                    }
                }
            }
            // A reference built from variables: `self:custom.${sls:stage}`.
            let candidate = if candidate.contains("${") {
                match self.interpolate(candidate, depth + 1, false) {
                    Ok(text) => text,
                    Err((_, message)) => return Err(message.into()),
                }
            } else {
                candidate.to_owned()
            };
            match self.source(&candidate, depth) {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => last_error = Some(format!("`${{{candidate}}}` has no value").into()),
                Err(message) => last_error = Some(message),
            }
        }
        Err(last_error.unwrap_or_else(|| format!("`${{{content}}}` is empty").into()))
    }

    /// A source's value, `None` when it has none (so a fallback applies).
    fn source(&self, reference: &str, depth: usize) -> Result<Option<Json>, Unresolved> {
        let inputs = self.inputs;
        if let Some(rest) = reference.strip_prefix("file(") {
            let Some((path, address)) = rest.split_once(')') else {
                return Err(format!("`{reference}`: `file(` is not closed").into());
            };
            let path = path.trim().trim_matches(['\'', '"']);
            let text = (inputs.read_file)(path).map_err(|e| {
                Unresolved(format!("`${{{reference}}}`: cannot read `{path}`: {e}"))
            })?;
            let value =
                read_yaml(&text).map_err(|e| format!("`{path}` is not YAML or JSON: {e}"))?;
            let address = address.trim_start_matches(':');
            return self.resolve_value(lookup(&value, address), depth);
        }
        let Some((source, address)) = reference.split_once(':') else {
            return Err(format!("`${{{reference}}}` is not a Serverless variable").into());
        };
        let address = address.trim();
        Ok(match source.trim() {
            "self" => self.resolve_value(lookup(&self.config, address), depth)?,
            "opt" | "sls" => match address {
                "stage" => Some(Json::String(self.stage())),
                "region" => Some(Json::String(self.region())),
                "instanceId" => Some(json!("local")),
                _ => None,
            },
            "env" => (inputs.env)(address).map(Json::String),
            "param" => inputs.params.get(address).cloned().map(Json::String),
            "aws" => match address {
                "region" => Some(Json::String(self.region())),
                "accountId" => Some(json!(super::auth::DEFAULT_ACCOUNT_ID)),
                _ => None,
            },
            "strToBool" => Some(Json::Bool(address == "true")),
            other => {
                return Err(format!(
                    "`${{{reference}}}` needs AWS (`{other}`); give it a fallback, such as `${{{reference}, 'local'}}`"
                ).into());
            }
        })
    }

    /// A looked-up value with its own variables resolved.
    fn resolve_value(&self, value: Option<Json>, depth: usize) -> Result<Option<Json>, Unresolved> {
        match value {
            Some(Json::String(text)) if text.contains("${") => {
                let resolved = self
                    .interpolate(&text, depth + 1, true)
                    .map_err(|(_, message)| Unresolved(message))?;
                Ok(Some(
                    serde_json::from_str(&resolved).unwrap_or(Json::String(resolved)),
                ))
            }
            other => Ok(other),
        }
    }

    fn stage(&self) -> String {
        self.inputs
            .stage
            .map(str::to_owned)
            .or_else(|| self.provider_setting("stage"))
            .unwrap_or_else(|| "dev".to_owned())
    }

    fn region(&self) -> String {
        self.inputs
            .region
            .map(str::to_owned)
            .or_else(|| self.provider_setting("region"))
            .unwrap_or_else(crate::lambda::default_region)
    }

    /// `provider.stage` or `provider.region` when it holds no variable.
    fn provider_setting(&self, key: &str) -> Option<String> {
        self.config["provider"][key]
            .as_str()
            .filter(|value| !value.contains("${"))
            .map(str::to_owned)
    }
}

/// The keys of `defaults` overridden by those of `own` (two maps, either
/// absent): an environment with the provider's or template's globals.
pub(super) fn merged(defaults: &Json, own: &Json) -> Json {
    let mut out = defaults.as_object().cloned().unwrap_or_default();
    if let Some(own) = own.as_object() {
        out.extend(own.clone());
    }
    Json::Object(out)
}

/// A YAML document as JSON, CloudFormation's short forms as its long ones
/// (`!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`,
/// `!Sub` is `{"Fn::Sub": ...}`).
pub(super) fn read_yaml(text: &str) -> Result<Json, serde_norway::Error> {
    serde_norway::from_str::<serde_norway::Value>(text).map(to_json)
}

fn to_json(value: serde_norway::Value) -> Json {
    use serde_norway::Value as Yaml;
    match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(b),
        Yaml::Number(n) => serde_json::to_value(&n).unwrap_or(Json::Null),
        Yaml::String(s) => Json::String(s),
        Yaml::Sequence(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Yaml::Mapping(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s,
                        other => serde_norway::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let value = to_json(tagged.value);
            match (name, value) {
                ("Ref", value) => json!({ "Ref": value }),
                ("GetAtt", Json::String(path)) => {
                    let (resource, attribute) = path.split_once('.').unwrap_or((&path, ""));
                    json!({ "Fn::GetAtt": [resource, attribute] })
                }
                (name, value) => json!({ format!("Fn::{name}"): value }),
            }
        }
    }
}

/// `a.b.c` in `value`; an empty address is the whole value.
fn lookup(value: &Json, address: &str) -> Option<Json> {
    let mut at = value;
    for key in address.split('.').filter(|k| !k.is_empty()) {
        at = match at {
            Json::Object(map) => map.get(key)?,
            Json::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i))?,
            _ => return None,
        };
    }
    Some(at.clone())
}

/// A fallback literal: `'text'`, `"text"`, a number or a boolean.
fn literal(candidate: &str) -> Option<Json> {
    let quoted = |q: char| {
        candidate
            .strip_prefix(q)
            .and_then(|rest| rest.strip_suffix(q))
            .map(|text| Json::String(text.to_owned()))
    };
    quoted('\'')
        .or_else(|| quoted('"'))
        .or_else(|| candidate.parse::<i64>().ok().map(Json::from))
        .or_else(|| match candidate {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            _ => None,
        })
}

/// Splits at commas outside nested variables and quotes.
fn split_top_level(content: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut quote = None;
    let mut start = 0;
    let bytes = content.as_bytes();
    for (at, c) in content.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if bytes.get(at + 1) == Some(&b'{') => depth += 1,
            (None, '}') if depth > 0 => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&content[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&content[start..]);
    parts
}

/// The `AWS::DynamoDB::Table`s among CloudFormation `resources`, as the
/// local `tables:` section: by their `TableName` (or logical id), with
/// keys, GSIs and LSIs.
pub fn tables(resources: &Json) -> Map<String, Json> {
    let mut tables = Map::new();
    let Some(resources) = resources.as_object() else {
        return tables;
    };
    for (logical_id, resource) in resources {
        if resource["Type"] != "AWS::DynamoDB::Table" {
            continue;
        }
        let properties = &resource["Properties"];
        let name = properties["TableName"]
            .as_str()
            .unwrap_or(logical_id)
            .to_owned();
        let types: HashMap<&str, &str> = properties["AttributeDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| Some((d["AttributeName"].as_str()?, d["AttributeType"].as_str()?)))
            .collect();
        let keys = |schema: &Json| {
            let mut out = Map::new();
            for key in schema.as_array().into_iter().flatten() {
                let Some(attribute) = key["AttributeName"].as_str() else {
                    continue;
                };
                let role = if key["KeyType"] == "RANGE" {
                    "sortKey"
                } else {
                    "partitionKey"
                };
                let kind = types.get(attribute).copied().unwrap_or("S");
                out.insert(role.into(), json!({"name": attribute, "type": kind}));
            }
            out
        };
        let mut table = keys(&properties["KeySchema"]);
        for (section, ours) in [
            ("GlobalSecondaryIndexes", "globalSecondaryIndexes"),
            ("LocalSecondaryIndexes", "localSecondaryIndexes"),
        ] {
            let indexes: Vec<Json> = properties[section]
                .as_array()
                .into_iter()
                .flatten()
                .map(|index| {
                    let mut out = keys(&index["KeySchema"]);
                    out.insert("indexName".into(), index["IndexName"].clone());
                    let projection = index["Projection"]["ProjectionType"]
                        .as_str()
                        .unwrap_or("ALL");
                    let mut projected = json!({"type": projection});
                    if let Some(attributes) = index["Projection"].get("NonKeyAttributes") {
                        projected["nonKeyAttributes"] = attributes.clone();
                    }
                    out.insert("projection".into(), projected);
                    Json::Object(out)
                })
                .collect();
            if !indexes.is_empty() {
                table.insert(ours.into(), Json::Array(indexes));
            }
        }
        tables.insert(name, Json::Object(table));
    }
    tables
}

/// The logical ids of the tables among `resources` to their names, for
/// `Ref`/`Fn::GetAtt` in data sources.
pub fn table_names(resources: &Json) -> HashMap<String, String> {
    resources
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table")
        .map(|(id, r)| {
            let name = r["Properties"]["TableName"].as_str().unwrap_or(id);
            (id.clone(), name.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str, files: &[(&str, &str)]) -> Result<String, VariableError> {
        let params = HashMap::from([("tier".to_owned(), "gold".to_owned())]);
        let files: HashMap<String, String> = files
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let env = |name: &str| (name == "HOME_TABLE").then(|| "home".to_owned());
        let read = move |path: &str| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        };
        resolve_text(
            text,
            &Inputs {
                stage: None,
                region: None,
                params: &params,
                env: &env,
                read_file: &read,
            },
        )
    }

    #[test]
    fn variables_resolve_in_place() {
        let text = "service: notes\nprovider:\n  stage: ${opt:stage, 'qa'}\ncustom:\n  table: ${self:service}-${sls:stage}\nappSync:\n  name: ${self:custom.table} # ${not:resolved}\n  tier: ${param:tier}\n  home: ${env:HOME_TABLE, 'none'}\n  missing: ${env:NOPE, ${self:service}}\n";
        let out = resolve(text, &[]).unwrap();
        assert_eq!(
            out,
            "service: notes\nprovider:\n  stage: dev\ncustom:\n  table: notes-dev\nappSync:\n  name: notes-dev # ${not:resolved}\n  tier: gold\n  home: home\n  missing: notes\n"
        );
    }

    #[test]
    fn files_give_values_and_whole_maps() {
        let text = "appSync:\n  dataSources:\n    - ${file(./ds.yml)}\n  table: ${file(ds.yml):users.config.tableName}\n";
        let ds = "users:\n  type: AMAZON_DYNAMODB\n  config:\n    tableName: Users\n";
        let out = resolve(text, &[("./ds.yml", ds), ("ds.yml", ds)]).unwrap();
        assert_eq!(
            out,
            "appSync:\n  dataSources:\n    - {\"users\":{\"type\":\"AMAZON_DYNAMODB\",\"config\":{\"tableName\":\"Users\"}}}\n  table: Users\n"
        );
    }

    #[test]
    fn unresolvable_variables_point_at_their_place() {
        let err = resolve("a: 1\nb: x-${ssm:/secret}\n", &[]).unwrap_err();
        assert_eq!((err.line, err.column), (2, 6));
        assert!(err.message.contains("needs AWS (`ssm`)"), "{}", err.message);
        let err = resolve("a: ${self:a}\n", &[]).unwrap_err();
        assert!(err.message.contains("refers to itself"), "{}", err.message);
        let err = resolve("a: ${file(none.yml)}\n", &[]).unwrap_err();
        assert!(
            err.message.contains("cannot read `none.yml`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn function_logical_ids_follow_serverless() {
        assert_eq!(function_logical_id("wordCount"), "WordCountLambdaFunction");
        assert_eq!(
            function_logical_id("word-count_v2"),
            "WordDashcountUnderscorev2LambdaFunction"
        );
    }

    #[test]
    fn tables_come_from_cloudformation() {
        let config = json!({"resources": {"Resources": {
            "NotesTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "TableName": "Notes",
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "owner", "AttributeType": "S"},
                    {"AttributeName": "at", "AttributeType": "N"}
                ],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "byOwner",
                    "KeySchema": [
                        {"AttributeName": "owner", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"}
                    ],
                    "Projection": {"ProjectionType": "ALL"}
                }]
            }},
            "Bucket": {"Type": "AWS::S3::Bucket"}
        }}});
        assert_eq!(
            Json::Object(tables(&config["resources"]["Resources"])),
            json!({"Notes": {
                "partitionKey": {"name": "id", "type": "S"},
                "globalSecondaryIndexes": [{
                    "partitionKey": {"name": "owner", "type": "S"},
                    "sortKey": {"name": "at", "type": "N"},
                    "indexName": "byOwner",
                    "projection": {"type": "ALL"}
                }]
            }})
        );
        assert_eq!(
            table_names(&config["resources"]["Resources"])["NotesTable"],
            "Notes"
        );
    }
}
