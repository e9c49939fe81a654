//! CloudFormation and SAM templates (`template.yaml`, `.yml`, `.json`):
//! the `AWS::AppSync::*` resources become the manifest, `AWS::DynamoDB::Table`s
//! the local tables, and `AWS::Serverless::Function` / `AWS::Lambda::Function`
//! with local code the local functions.
//!
//! Intrinsics are evaluated as far as these resources need: `Ref` (to
//! parameters, with their defaults or `--param` values, pseudo parameters
//! and resources), `Fn::GetAtt`, `Fn::Sub` and `Fn::Join`. Inline schema
//! definitions, templates and code become inline sources of the loader;
//! `…S3Location` properties name local files, as `sam build` and
//! `aws cloudformation package` read them before uploading.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};

use super::Loader;
use super::serverless::{merged, read_yaml, tables};
use crate::model::manifest::Manifest;
use crate::model::source::KeyIndex;

/// The files a CloudFormation or SAM project keeps its template in.
pub(super) const FILES: [&str; 3] = ["template.yaml", "template.yml", "template.json"];

/// What intrinsics read besides the resources.
struct Context<'a> {
    resources: &'a Map<String, Json>,
    parameters: HashMap<String, Json>,
    region: String,
}

/// The account local ARNs carry, the one IAM credentials default to.
const ACCOUNT: &str = super::auth::DEFAULT_ACCOUNT_ID;

impl Context<'_> {
    /// Evaluates the intrinsics in `value`.
    fn eval(&self, value: &Json) -> Json {
        match value {
            Json::Object(map) => self.intrinsic(map).unwrap_or_else(|| {
                Json::Object(map.iter().map(|(k, v)| (k.clone(), self.eval(v))).collect())
            }),
            Json::Array(items) => Json::Array(items.iter().map(|v| self.eval(v)).collect()),
            other => other.clone(),
        }
    }

    /// The value of a one-key map that is an intrinsic function; `None`
    /// for any other map (or an intrinsic it cannot evaluate).
    fn intrinsic(&self, map: &Map<String, Json>) -> Option<Json> {
        let (name, argument) = map.iter().next().filter(|_| map.len() == 1)?;
        match name.as_str() {
            "Ref" => Some(self.reference(argument.as_str().unwrap_or_default())),
            "Fn::GetAtt" => {
                let parts: Vec<String> = match self.eval(argument) {
                    Json::Array(parts) => parts
                        .iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect(),
                    Json::String(path) => path.splitn(2, '.').map(str::to_owned).collect(),
                    _ => Vec::new(),
                };
                match parts.as_slice() {
                    [resource, attribute] => Some(self.attribute(resource, attribute)),
                    _ => None,
                }
            }
            "Fn::Sub" => Some(self.sub(argument)),
            "Fn::Join" => match self.eval(argument) {
                Json::Array(parts) if parts.len() == 2 => {
                    let separator = parts[0].as_str().unwrap_or_default();
                    let items: Vec<String> = parts[1]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(text_of)
                        .collect();
                    Some(Json::String(items.join(separator)))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn reference(&self, name: &str) -> Json {
        if let Some(value) = self.parameters.get(name) {
            return value.clone();
        }
        match name {
            "AWS::Region" => return Json::String(self.region.clone()),
            "AWS::AccountId" => return json!(ACCOUNT),
            "AWS::StackName" => return json!("local"),
            "AWS::Partition" => return json!("aws"),
            "AWS::URLSuffix" => return json!("amazonaws.com"),
            _ => {}
        }
        Json::String(self.physical_name(name))
    }

    /// What `Ref` gives for a resource: its name where it has one.
    fn physical_name(&self, id: &str) -> String {
        let Some(resource) = self.resources.get(id) else {
            return id.to_owned();
        };
        let key = match resource["Type"].as_str().unwrap_or_default() {
            "AWS::DynamoDB::Table" => "TableName",
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => "FunctionName",
            "AWS::AppSync::DataSource" | "AWS::AppSync::FunctionConfiguration" => "Name",
            _ => return id.to_owned(),
        };
        match self.eval(&resource["Properties"][key]) {
            Json::String(name) => name,
            _ => id.to_owned(),
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Json {
        let name = self.physical_name(resource);
        let kind = self.resources.get(resource).map(|r| r["Type"].clone());
        Json::String(match (kind.as_ref().and_then(Json::as_str), attribute) {
            (Some("AWS::Serverless::Function" | "AWS::Lambda::Function"), "Arn") => {
                format!("arn:aws:lambda:{}:{ACCOUNT}:function:{name}", self.region)
            }
            (Some("AWS::DynamoDB::Table"), "Arn") => {
                format!("arn:aws:dynamodb:{}:{ACCOUNT}:table/{name}", self.region)
            }
            // Resolvers and pipelines name functions and data sources.
            (Some("AWS::AppSync::FunctionConfiguration"), "FunctionId" | "Name")
            | (Some("AWS::AppSync::DataSource"), "Name") => name,
            (Some("AWS::AppSync::GraphQLApi"), "ApiId") => resource.to_owned(),
            _ => format!("{resource}.{attribute}"),
        })
    }

    fn sub(&self, argument: &Json) -> Json {
        let (template, variables) = match argument {
            Json::String(text) => (text.clone(), Map::new()),
            Json::Array(parts) if parts.len() == 2 => (
                parts[0].as_str().unwrap_or_default().to_owned(),
                parts[1].as_object().cloned().unwrap_or_default(),
            ),
            _ => return argument.clone(),
        };
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + end];
            let value = match variables.get(name) {
                Some(value) => text_of(&self.eval(value)),
                None => match name.split_once('.') {
                    Some((resource, attribute)) if !name.starts_with("AWS::") => {
                        text_of(&self.attribute(resource, attribute))
                    }
                    _ => text_of(&self.reference(name)),
                },
            };
            out.push_str(&value);
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Json::String(out)
    }
}

fn text_of(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

impl Loader {
    /// Reads a CloudFormation or SAM template as the manifest.
    pub(super) fn parse_cloudformation(&mut self, file: &'static str) -> Option<Manifest> {
        self.manifest_file = file;
        let text = match std::fs::read_to_string(self.dir.join(file)) {
            Ok(text) => text,
            Err(e) => {
                self.file_problem(file, format!("cannot read {file}: {e}"));
                return None;
            }
        };
        self.manifest_keys = KeyIndex::parse(&text);
        self.manifest_text = text;
        let template = match read_yaml(&self.manifest_text) {
            Ok(template) => template,
            Err(e) => {
                self.file_problem(file, format!("{file} is not a template: {e}"));
                return None;
            }
        };
        let Some(resources) = template["Resources"].as_object() else {
            self.file_problem(file, "the template has no `Resources`");
            return None;
        };
        let mut parameters = HashMap::new();
        for (name, parameter) in template["Parameters"].as_object().into_iter().flatten() {
            let value = self
                .options
                .deploy
                .params
                .get(name)
                .map(|v| Json::String(v.clone()))
                .or_else(|| parameter.get("Default").cloned());
            if let Some(value) = value {
                parameters.insert(name.clone(), value);
            }
        }
        let context = Context {
            resources,
            parameters,
            region: crate::lambda::default_region(),
        };
        let manifest = self.manifest_of(&template, &context);
        match serde_json::from_value::<Manifest>(manifest) {
            Ok(mut manifest) => {
                self.apply_local_settings(&mut manifest);
                Some(manifest)
            }
            Err(e) => {
                self.file_problem(
                    file,
                    format!("the AppSync resources do not make an API: {e}"),
                );
                None
            }
        }
    }

    /// The manifest the template's resources describe, as JSON.
    fn manifest_of(&mut self, template: &Json, context: &Context<'_>) -> Json {
        let mut manifest = Map::new();
        let mut data_sources = Map::new();
        let mut resolvers = Map::new();
        let mut functions = Map::new();
        let mut api_keys = Vec::new();
        let mut local_functions = Map::new();
        let globals = context.eval(&template["Globals"]["Function"]);
        // Every intrinsic evaluated once; table names may be ones
        // (`!Sub notes-${Stage}`).
        let resources = context.eval(&template["Resources"]);
        for (id, resource) in resources.as_object().into_iter().flatten() {
            let properties = &resource["Properties"];
            let mut origin = |manifest_path: String| {
                self.manifest_origins
                    .push((manifest_path, vec!["Resources".to_owned(), id.clone()]));
            };
            match resource["Type"].as_str().unwrap_or_default() {
                "AWS::AppSync::GraphQLApi" => {
                    origin("authentication".into());
                    origin("additionalAuthentications".into());
                    manifest.insert("name".into(), properties["Name"].clone());
                    manifest.insert("authentication".into(), authentication(properties));
                    let additional: Vec<Json> = properties["AdditionalAuthenticationProviders"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(authentication)
                        .collect();
                    if !additional.is_empty() {
                        manifest
                            .insert("additionalAuthentications".into(), Json::Array(additional));
                    }
                }
                "AWS::AppSync::GraphQLSchema" => {
                    origin("schema".into());
                    let schema = self.source(
                        id,
                        properties,
                        "Definition",
                        "DefinitionS3Location",
                        "graphql",
                    );
                    if let Some(schema) = schema {
                        manifest.insert("schema".into(), Json::String(schema));
                    }
                }
                "AWS::AppSync::ApiKey" => {
                    origin(format!("apiKeys.{}", api_keys.len()));
                    let mut key = json!({"name": id});
                    if let Some(expires) = properties["Expires"].as_i64()
                        && let Some(at) = chrono::DateTime::from_timestamp(expires, 0)
                    {
                        key["expiresAt"] = json!(at.to_rfc3339());
                    }
                    api_keys.push(key);
                }
                "AWS::AppSync::ApiCache" => {
                    manifest.insert(
                        "caching".into(),
                        json!({
                            "behavior": properties["ApiCachingBehavior"],
                            "ttl": properties["Ttl"],
                            "type": properties["Type"],
                        }),
                    );
                }
                "AWS::AppSync::DataSource" => {
                    let name = properties["Name"].as_str().unwrap_or(id).to_owned();
                    origin(format!("dataSources.{name}"));
                    data_sources.insert(name, data_source(properties));
                }
                "AWS::AppSync::FunctionConfiguration" => {
                    let name = properties["Name"].as_str().unwrap_or(id).to_owned();
                    origin(format!("pipelineFunctions.{name}"));
                    let mut function = json!({"dataSource": properties["DataSourceName"]});
                    self.template_code(id, properties, &mut function);
                    functions.insert(name, function);
                }
                "AWS::AppSync::Resolver" => {
                    let key = format!(
                        "{}.{}",
                        text_of(&properties["TypeName"]),
                        text_of(&properties["FieldName"])
                    );
                    origin(format!("resolvers.{key}"));
                    let mut resolver = Map::new();
                    let pipeline = properties["Kind"] == "PIPELINE";
                    resolver.insert(
                        "kind".into(),
                        json!(if pipeline { "PIPELINE" } else { "UNIT" }),
                    );
                    if pipeline {
                        resolver.insert(
                            "functions".into(),
                            properties["PipelineConfig"]["Functions"].clone(),
                        );
                    } else {
                        resolver.insert("dataSource".into(), properties["DataSourceName"].clone());
                    }
                    if let Some(caching) = properties.get("CachingConfig") {
                        resolver.insert(
                            "caching".into(),
                            json!({"ttl": caching["Ttl"], "keys": caching.get("CachingKeys").cloned().unwrap_or(json!([]))}),
                        );
                    }
                    if let Some(size) = properties.get("MaxBatchSize") {
                        resolver.insert("maxBatchSize".into(), size.clone());
                    }
                    let mut resolver = Json::Object(resolver);
                    self.template_code(id, properties, &mut resolver);
                    resolvers.insert(key, resolver);
                }
                "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                    if let Some((name, function)) = lambda_function(id, properties, &globals) {
                        local_functions.insert(name, function);
                    }
                }
                _ => {}
            }
        }
        manifest.insert("apiKeys".into(), Json::Array(api_keys));
        manifest.insert("dataSources".into(), Json::Object(data_sources));
        manifest.insert("resolvers".into(), Json::Object(resolvers));
        manifest.insert("pipelineFunctions".into(), Json::Object(functions));
        manifest.insert("functions".into(), Json::Object(local_functions));
        let tables = tables(&resources);
        if !tables.is_empty() {
            manifest.insert("tables".into(), Json::Object(tables));
        }
        Json::Object(manifest)
    }

    /// Inline text (registered as an inline source) or a local file named
    /// by an S3 location property; `None` when the resource has neither.
    fn source(
        &mut self,
        id: &str,
        properties: &Json,
        inline: &str,
        location: &str,
        extension: &str,
    ) -> Option<String> {
        if let Some(text) = properties[inline].as_str() {
            let name = format!("{}#{id}.{inline}.{extension}", self.manifest_file);
            self.inline_sources.insert(name.clone(), text.to_owned());
            return Some(name);
        }
        let path = properties[location].as_str()?;
        if path.starts_with("s3://") {
            self.problem_at_keys(
                &["Resources", id],
                format!("Resources.{id}.Properties.{location}"),
                format!(
                    "`{path}` is in S3: give a local path (as before `sam build` or `aws cloudformation package`)"
                ),
            );
            return None;
        }
        Some(path.trim_start_matches("./").to_owned())
    }

    /// A resolver's or function's templates or code.
    fn template_code(&mut self, id: &str, properties: &Json, into: &mut Json) {
        if let Some(code) = self.source(id, properties, "Code", "CodeS3Location", "js") {
            into["code"] = json!(code);
            return;
        }
        for (key, inline, location) in [
            (
                "request",
                "RequestMappingTemplate",
                "RequestMappingTemplateS3Location",
            ),
            (
                "response",
                "ResponseMappingTemplate",
                "ResponseMappingTemplateS3Location",
            ),
        ] {
            if let Some(path) = self.source(id, properties, inline, location, "vtl") {
                into[key] = json!(path);
            }
        }
    }
}

/// `AuthenticationType` and its provider's config, as the manifest has them.
fn authentication(properties: &Json) -> Json {
    let mut config = Map::new();
    let providers = [
        (
            "UserPoolConfig",
            &[
                ("userPoolId", "UserPoolId"),
                ("awsRegion", "AwsRegion"),
                ("defaultAction", "DefaultAction"),
                ("appIdClientRegex", "AppIdClientRegex"),
            ][..],
        ),
        (
            "OpenIDConnectConfig",
            &[
                ("issuer", "Issuer"),
                ("clientId", "ClientId"),
                ("iatTTL", "IatTTL"),
                ("authTTL", "AuthTTL"),
            ][..],
        ),
        (
            "LambdaAuthorizerConfig",
            &[
                ("functionArn", "AuthorizerUri"),
                (
                    "authorizerResultTtlInSeconds",
                    "AuthorizerResultTtlInSeconds",
                ),
                (
                    "identityValidationExpression",
                    "IdentityValidationExpression",
                ),
            ][..],
        ),
    ];
    for (section, keys) in providers {
        for (ours, theirs) in keys {
            if let Some(value) = properties[section].get(theirs) {
                config.insert((*ours).into(), value.clone());
            }
        }
    }
    let mut out = json!({"type": properties["AuthenticationType"]});
    if !config.is_empty() {
        out["config"] = Json::Object(config);
    }
    out
}

/// An `AWS::AppSync::DataSource` as the manifest has it.
fn data_source(properties: &Json) -> Json {
    let config = match properties["Type"].as_str().unwrap_or_default() {
        "AMAZON_DYNAMODB" => json!({"tableName": properties["DynamoDBConfig"]["TableName"]}),
        "AWS_LAMBDA" => json!({"functionArn": properties["LambdaConfig"]["LambdaFunctionArn"]}),
        "HTTP" => json!({"endpoint": properties["HttpConfig"]["Endpoint"]}),
        "AMAZON_OPENSEARCH_SERVICE" => {
            json!({"endpoint": properties["OpenSearchServiceConfig"]["Endpoint"]})
        }
        "AMAZON_ELASTICSEARCH" => {
            json!({"endpoint": properties["ElasticsearchConfig"]["Endpoint"]})
        }
        "AMAZON_EVENTBRIDGE" => {
            json!({"eventBusArn": properties["EventBridgeConfig"]["EventBusArn"]})
        }
        _ => Json::Null,
    };
    let mut out = json!({"type": properties["Type"]});
    if !config.is_null() {
        out["config"] = config;
    }
    out
}

/// A Lambda function with local code: its name and the local function.
fn lambda_function(id: &str, properties: &Json, globals: &Json) -> Option<(String, Json)> {
    let setting = |key: &str| properties.get(key).or_else(|| globals.get(key)).cloned();
    let code = properties["CodeUri"]
        .as_str()
        .or_else(|| properties["Code"].as_str())
        .or_else(|| globals["CodeUri"].as_str())
        .unwrap_or(".");
    let handler = setting("Handler")?;
    let handler = format!(
        "{}/{}",
        code.trim_end_matches('/').trim_start_matches("./"),
        handler.as_str()?
    );
    let name = properties["FunctionName"].as_str().unwrap_or(id).to_owned();
    let mut function = json!({"handler": handler.trim_start_matches("./")});
    for (ours, theirs) in [
        ("runtime", "Runtime"),
        ("timeout", "Timeout"),
        ("memorySize", "MemorySize"),
    ] {
        if let Some(value) = setting(theirs) {
            function[ours] = value;
        }
    }
    function["environment"] = merged(
        &globals["Environment"]["Variables"],
        &properties["Environment"]["Variables"],
    );
    Some((name, function))
}
