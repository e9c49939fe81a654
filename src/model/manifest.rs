//! `appsync.yaml`: the `appSync:` block of serverless-appsync-plugin v2, so a
//! block can be copied across, plus local sections for the stores.
//!
//! Every struct denies unknown keys: a typo in a manifest is an error with the
//! key path and line, never a silently ignored setting.
//!
//! ```yaml
//! name: blog
//! schema: schema.graphql            # or a list of files
//! authentication:
//!   type: API_KEY
//! apiKeys:
//!   - name: local
//!     value: da2-local              # local only: the key clients send
//!     expiresAfter: 30d             # or expiresAt: 2027-01-01T00:00:00Z
//! dataSources:
//!   none:
//!     type: NONE
//! resolvers:
//!   Query.getPost:                  # kind UNIT is inferred from dataSource
//!     dataSource: none              # templates default to
//!                                   # resolvers/Query.getPost.{req,res}.vtl
//!   Query.listPosts:
//!     kind: PIPELINE
//!     functions: [auth, fetch]      # resolvers/functions/<name>.{req,res}.vtl
//! pipelineFunctions:
//!   auth: { dataSource: none }
//!   fetch: { dataSource: none }
//! queryDepthLimit: 10
//! introspection: true               # or ENABLED / DISABLED
//! guards:                           # local, beyond AppSync; all off by default
//!   maxAliases: 20
//!   maxRootFields: 10
//!   maxQueryBytes: 8192
//!   maxQueryTokens: 2000
//!   maxListFanOut: 500
//! substitutions:
//!   Stage: local                    # `${Stage}` in templates
//! environment:                      # `ctx.env` in VTL and JS (strings)
//!   STAGE: local
//! seed:                             # loaded on the first start (see `crate::seed`)
//!   Posts: seed/posts.json          # or: { generator: flight-catalog, flights: 20000, ... }
//! ```
//!
//! An API key without `value` uses its `name` as the key string, since AWS
//! would generate one and a local server needs a known value.

use std::fmt;
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;
use serde_path_to_error::Segment;
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter};

use crate::model::plugin_forms;
pub use crate::model::plugin_forms::{DataSourceRef, FunctionRef};
use crate::model::source::{KeyIndex, Position};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest {
    pub name: String,
    /// One path or a list of paths, relative to the project; default `schema.graphql`.
    #[serde(default)]
    pub schema: Option<OneOrMany>,
    #[serde(default)]
    pub authentication: Option<Authentication>,
    #[serde(default)]
    pub additional_authentications: Vec<Authentication>,
    /// Names, or maps (the plugin accepts both).
    #[serde(default, deserialize_with = "plugin_forms::api_keys")]
    pub api_keys: Vec<ApiKeyConfig>,
    /// Local extension: the credentials AWS_IAM requests may be signed with,
    /// and whom each stands for.
    #[serde(default)]
    pub iam_credentials: Vec<IamCredentialConfig>,
    /// These three are maps, or lists of maps merged in order.
    #[serde(default, deserialize_with = "plugin_forms::map_or_list")]
    pub data_sources: IndexMap<String, DataSourceConfig>,
    #[serde(default, deserialize_with = "plugin_forms::map_or_list")]
    pub resolvers: IndexMap<String, ResolverConfig>,
    #[serde(default, deserialize_with = "plugin_forms::map_or_list")]
    pub pipeline_functions: IndexMap<String, PipelineFunctionConfig>,
    /// Local extension: Lambda functions run on this machine, shaped like
    /// the Serverless Framework's `functions:`.
    #[serde(default)]
    pub functions: IndexMap<String, FunctionConfig>,
    #[serde(default)]
    pub caching: Option<CachingConfig>,
    /// 0 (the default) means unlimited; 1..=75 otherwise.
    #[serde(default)]
    pub query_depth_limit: u32,
    /// 0 (the default) means AppSync's 10000; 1..=10000 otherwise.
    #[serde(default)]
    pub resolver_count_limit: u32,
    /// The plugin writes a boolean; AppSync's API writes ENABLED/DISABLED. Both work.
    #[serde(default)]
    pub introspection: Option<Introspection>,
    /// Local extension: gateway guards for a shared server.
    #[serde(default)]
    pub guards: GuardsConfig,
    /// `${Name}` placeholders replaced in every template before parsing.
    #[serde(default)]
    pub substitutions: IndexMap<String, SubstitutionValue>,
    // Plugin settings with no local effect, accepted so a block can be
    // copied across unchanged.
    #[serde(default)]
    pub xray_enabled: Option<bool>,
    #[serde(default)]
    pub tags: Option<IndexMap<String, String>>,
    #[serde(default)]
    pub logging: Option<Json>,
    #[serde(default)]
    pub waf: Option<Json>,
    #[serde(default)]
    pub domain: Option<Json>,
    #[serde(default)]
    pub visibility: Option<Json>,
    #[serde(default)]
    pub environment: Option<Json>,
    /// How the plugin bundles JS code; code here is read as it is.
    #[serde(default)]
    pub esbuild: Option<Json>,
    #[serde(default)]
    pub enhanced_metrics: Option<Json>,
    /// Local DynamoDB tables; owned by the DynamoDB store.
    #[serde(default)]
    pub tables: Option<Json>,
    /// Local OpenSearch indexes; owned by the OpenSearch store.
    #[serde(default)]
    pub indexes: Option<Json>,
    /// Local seed data, loaded on the first start: table name to a JSON file
    /// (relative to the project) holding an array of plain JSON items, or a
    /// generator (`generator: flight-catalog`); see `crate::seed`.
    #[serde(default)]
    pub seed: Option<Json>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn paths(&self) -> Vec<String> {
        match self {
            OneOrMany::One(p) => vec![p.clone()],
            OneOrMany::Many(ps) => ps.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthenticationType {
    ApiKey,
    AwsIam,
    AmazonCognitoUserPools,
    OpenidConnect,
    AwsLambda,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Authentication {
    #[serde(rename = "type")]
    pub kind: AuthenticationType,
    /// Mode-specific settings: the user pool, OIDC issuer or Lambda
    /// authorizer. One struct for every mode, so a misspelt key is an error
    /// with its line; the loader checks which keys the mode needs.
    #[serde(default)]
    pub config: Option<AuthenticationConfig>,
}

/// `authentication.config` as serverless-appsync-plugin v2 writes it, plus
/// the local `jwks`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthenticationConfig {
    // AMAZON_COGNITO_USER_POOLS
    #[serde(default)]
    pub user_pool_id: Option<String>,
    #[serde(default)]
    pub aws_region: Option<String>,
    /// `ALLOW` (the default) or `DENY`.
    #[serde(default)]
    pub default_action: Option<String>,
    #[serde(default)]
    pub app_id_client_regex: Option<String>,
    // OPENID_CONNECT
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Milliseconds.
    #[serde(default, rename = "iatTTL")]
    pub iat_ttl: Option<u64>,
    /// Milliseconds.
    #[serde(default, rename = "authTTL")]
    pub auth_ttl: Option<u64>,
    // AWS_LAMBDA
    #[serde(default)]
    pub function_name: Option<String>,
    #[serde(default)]
    pub function_alias: Option<String>,
    #[serde(default)]
    pub function_arn: Option<String>,
    #[serde(default)]
    pub function: Option<Json>,
    #[serde(default)]
    pub identity_validation_expression: Option<String>,
    #[serde(default)]
    pub authorizer_result_ttl_in_seconds: Option<u64>,
    /// Local extension for Cognito and OIDC: a JWKS file (relative to the
    /// project) or URL, instead of the provider's own.
    #[serde(default)]
    pub jwks: Option<String>,
}

/// One local IAM credential (`iamCredentials`). Exactly one of `user`,
/// `role` and `cognitoIdentity` says whom it stands for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IamCredentialConfig {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default)]
    pub session_token: Option<String>,
    /// Default `123456789012`.
    #[serde(default)]
    pub account_id: Option<String>,
    /// An IAM user's name.
    #[serde(default)]
    pub user: Option<String>,
    /// An assumed role's name; `session` names the session.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub cognito_identity: Option<CognitoIdentityConfig>,
}

/// A Cognito identity pool's credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CognitoIdentityConfig {
    pub identity_pool_id: String,
    pub identity_id: String,
    /// `true` for the pool's authenticated role (the default).
    #[serde(default)]
    pub authenticated: Option<bool>,
    /// The role's name.
    pub role: String,
    /// `cognitoIdentityAuthProvider`, as AppSync reports it.
    #[serde(default)]
    pub auth_provider: Option<String>,
}

/// An API key. `value` is a local extension: the plugin lets AWS generate the
/// key, but a local server needs a known one (e.g. `da2-local`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiKeyConfig {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// e.g. `30d`, `12h`, `1y`, `1M`, or a number of hours.
    #[serde(default)]
    pub expires_after: Option<SubstitutionValue>,
    /// An ISO 8601 date-time.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub waf_rules: Option<Json>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataSourceType {
    None,
    AmazonDynamodb,
    AmazonOpensearchService,
    AmazonElasticsearch,
    AwsLambda,
    Http,
    RelationalDatabase,
    AmazonEventbridge,
    AmazonBedrockRuntime,
    /// Test-only: sleeps `config.millis` then answers like NONE. It exists to
    /// prove that sibling fields resolve concurrently; never use it in a real API.
    Sleep,
}

impl DataSourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            DataSourceType::None => "NONE",
            DataSourceType::AmazonDynamodb => "AMAZON_DYNAMODB",
            DataSourceType::AmazonOpensearchService => "AMAZON_OPENSEARCH_SERVICE",
            DataSourceType::AmazonElasticsearch => "AMAZON_ELASTICSEARCH",
            DataSourceType::AwsLambda => "AWS_LAMBDA",
            DataSourceType::Http => "HTTP",
            DataSourceType::RelationalDatabase => "RELATIONAL_DATABASE",
            DataSourceType::AmazonEventbridge => "AMAZON_EVENTBRIDGE",
            DataSourceType::AmazonBedrockRuntime => "AMAZON_BEDROCK_RUNTIME",
            DataSourceType::Sleep => "SLEEP",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DataSourceConfig {
    #[serde(rename = "type")]
    pub kind: DataSourceType,
    #[serde(default)]
    pub description: Option<String>,
    /// Type-specific settings (`tableName`, `endpoint`, ...), read by the store.
    #[serde(default)]
    pub config: Option<Json>,
}

/// A Lambda function run locally, as the Serverless Framework declares it:
/// `handler: path/file.export`, `runtime`, `environment`, `timeout`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FunctionConfig {
    /// `dir/file.export` for nodejs and python; for `provided*` runtimes the
    /// path of the `bootstrap` executable (or of its directory).
    pub handler: String,
    /// `nodejs*`, `python3.*`, `provided`, `provided.al2`, `provided.al2023`;
    /// Serverless's default, `nodejs20.x`, when absent.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Variables for the function's process; scalars, as in Lambda.
    #[serde(default)]
    pub environment: IndexMap<String, Json>,
    /// Seconds, 1 to 900; Serverless's default is 6.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// MB, 128 to 10240; passed to the function, not enforced.
    #[serde(default)]
    pub memory_size: Option<u32>,
    /// At most this many warm workers at once (default: the machine's cores).
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Workers started with the server, so the first calls find them warm.
    #[serde(default)]
    pub provisioned_concurrency: Option<u32>,
    #[serde(default)]
    pub description: Option<String>,
    // Serverless keys with no local effect, accepted so a `functions:`
    // block can be copied across unchanged.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub events: Option<Json>,
    #[serde(default)]
    pub package: Option<Json>,
    #[serde(default)]
    pub layers: Option<Json>,
    #[serde(default)]
    pub role: Option<Json>,
    #[serde(default)]
    pub tags: Option<Json>,
    #[serde(default)]
    pub vpc: Option<Json>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub tracing: Option<Json>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResolverKind {
    Unit,
    Pipeline,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResolverConfig {
    /// Optional when the key is `Type.field`.
    #[serde(default, rename = "type")]
    pub type_name: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    /// The plugin defaults to PIPELINE; a resolver that names a data source and
    /// no functions is clearly meant as UNIT, so that is inferred instead.
    #[serde(default)]
    pub kind: Option<ResolverKind>,
    /// A name, or a definition (named after the resolver, `Query_user`).
    #[serde(default)]
    pub data_source: Option<DataSourceRef>,
    /// Names, or definitions (named `Query_user_0`, ...).
    #[serde(default)]
    pub functions: Vec<FunctionRef>,
    /// A path, or `false` to omit it.
    #[serde(default, deserialize_with = "plugin_forms::template_path")]
    pub request: Option<String>,
    #[serde(default, deserialize_with = "plugin_forms::template_path")]
    pub response: Option<String>,
    /// An APPSYNC_JS module (`.js`, or `.ts` with its types stripped);
    /// excludes `request`/`response`.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub runtime: Option<RuntimeConfig>,
    /// `true`, `false`, or `{ttl, keys}`.
    #[serde(default, deserialize_with = "plugin_forms::resolver_caching")]
    pub caching: Option<ResolverCaching>,
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    #[serde(default)]
    pub substitutions: IndexMap<String, SubstitutionValue>,
    /// Conflict detection for versioned tables; read by the DynamoDB store.
    #[serde(default)]
    pub sync: Option<Json>,
    /// The plugin's per-resolver CloudWatch setting; no local effect.
    #[serde(default)]
    pub metrics_config: Option<Json>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PipelineFunctionConfig {
    /// A name, or a definition (named after the function).
    pub data_source: DataSourceRef,
    #[serde(default)]
    pub description: Option<String>,
    /// A path, or `false` to omit it.
    #[serde(default, deserialize_with = "plugin_forms::template_path")]
    pub request: Option<String>,
    #[serde(default, deserialize_with = "plugin_forms::template_path")]
    pub response: Option<String>,
    /// An APPSYNC_JS module; excludes `request`/`response`.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub runtime: Option<RuntimeConfig>,
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    #[serde(default)]
    pub substitutions: IndexMap<String, SubstitutionValue>,
    #[serde(default)]
    pub sync: Option<Json>,
}

/// `runtime: { name: APPSYNC_JS, runtimeVersion: 1.0.0 }`, as AppSync's API
/// and CloudFormation write it. serverless-appsync-plugin sets it itself
/// whenever `code` is given, so it is optional here too.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuntimeConfig {
    pub name: RuntimeName,
    #[serde(default)]
    pub runtime_version: Option<RuntimeVersion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RuntimeName {
    #[serde(rename = "APPSYNC_JS")]
    AppsyncJs,
}

/// The one version AppSync has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RuntimeVersion {
    #[serde(rename = "1.0.0")]
    V1_0_0,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResolverCaching {
    #[serde(default)]
    pub ttl: Option<u32>,
    /// e.g. `$context.arguments.id`.
    #[serde(default)]
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CachingBehavior {
    FullRequestCaching,
    PerResolverCaching,
    OperationLevelCaching,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CachingConfig {
    pub behavior: CachingBehavior,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default, rename = "type")]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub at_rest_encryption: Option<bool>,
    #[serde(default)]
    pub transit_encryption: Option<bool>,
    /// Local extension: the cache's byte budget, instead of the instance
    /// type's (see `crate::cache::instance_budget`).
    #[serde(default)]
    pub max_size_bytes: Option<u64>,
}

/// Gateway guards beyond AppSync, all off unless set (AppSync has none, so
/// any default would reject queries AppSync accepts). Ranges are checked at
/// load; see `crate::execution::guards` for how each is counted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardsConfig {
    /// Aliased fields in the operation, fragments counted per spread; 0..=10000.
    #[serde(default)]
    pub max_aliases: Option<u32>,
    /// Distinct response keys at the root; 1..=10000.
    #[serde(default)]
    pub max_root_fields: Option<u32>,
    /// Bytes of the query text; 1..=104857600.
    #[serde(default)]
    pub max_query_bytes: Option<u32>,
    /// Lexical tokens of the query text; 1..=10000000.
    #[serde(default)]
    pub max_query_tokens: Option<u32>,
    /// Items in any one list value of the response; 1..=1000000.
    #[serde(default)]
    pub max_list_fan_out: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Introspection {
    Flag(bool),
    Mode(IntrospectionMode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntrospectionMode {
    Enabled,
    Disabled,
}

impl Introspection {
    pub fn enabled(&self) -> bool {
        match self {
            Introspection::Flag(b) => *b,
            Introspection::Mode(m) => *m == IntrospectionMode::Enabled,
        }
    }
}

/// Substitution values are strings in the plugin; numbers and booleans are
/// accepted too and written as YAML shows them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SubstitutionValue {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
}

impl SubstitutionValue {
    pub fn as_text(&self) -> String {
        match self {
            SubstitutionValue::Text(s) => s.clone(),
            SubstitutionValue::Number(n) => n.to_string(),
            SubstitutionValue::Bool(b) => b.to_string(),
        }
    }
}

/// A problem that stops the manifest from being read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct ManifestError {
    pub kind: ManifestErrorKind,
    pub position: Option<Position>,
    /// The key path, e.g. `resolvers.Query.getPost`; for an unknown or
    /// duplicate key, the map that holds it.
    pub key_path: Option<String>,
}

/// What is wrong, worded as serde words it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManifestErrorKind {
    #[error("unknown field `{field}`, {}", OneOf(expected, "fields"))]
    UnknownField {
        field: String,
        expected: Vec<&'static str>,
    },
    #[error("unknown variant `{variant}`, {}", OneOf(expected, "variants"))]
    UnknownVariant {
        variant: String,
        expected: Vec<&'static str>,
    },
    #[error("invalid type: {unexpected}, expected {expected}")]
    InvalidType {
        unexpected: String,
        expected: String,
    },
    #[error("invalid value: {unexpected}, expected {expected}")]
    InvalidValue {
        unexpected: String,
        expected: String,
    },
    #[error("missing field `{0}`")]
    MissingField(String),
    #[error("duplicate key `{0}`")]
    DuplicateKey(String),
    /// Anything else the YAML parser refuses, in its words.
    #[error("{0}")]
    Yaml(String),
}

/// serde's "expected one of" list.
struct OneOf<'a>(&'a [&'static str], &'static str);

impl fmt::Display for OneOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => write!(f, "there are no {}", self.1),
            [one] => write!(f, "expected `{one}`"),
            [a, b] => write!(f, "expected `{a}` or `{b}`"),
            names => {
                f.write_str("expected one of ")?;
                for (idx, name) in names.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                Ok(())
            }
        }
    }
}

/// The sections whose entries are checked one by one after the first error.
const ENTRY_SECTIONS: [&str; 3] = ["dataSources", "resolvers", "pipelineFunctions"];

impl Manifest {
    /// Reads `appsync.yaml`. On failure returns the first problem, then one
    /// for each other broken data source, resolver or function, so one run
    /// lists them all. `keys` is the index of the same text.
    pub fn parse(text: &str, keys: &KeyIndex) -> Result<Manifest, Vec<ManifestError>> {
        Self::parse_at(text, keys, &[])
    }

    /// [`Self::parse`] for a manifest under the keys `root` of a larger
    /// file (the `appSync:` block of a serverless.yml); key paths in errors
    /// start at the root of the file.
    pub fn parse_at(
        text: &str,
        keys: &KeyIndex,
        root: &[&str],
    ) -> Result<Manifest, Vec<ManifestError>> {
        let first = match from_yaml::<Manifest>(text, root) {
            Ok(mut manifest) => {
                manifest.hoist_inline_definitions();
                return Ok(manifest);
            }
            Err(err) => ManifestError::new(err, keys),
        };
        let first_path = first.key_path.clone().unwrap_or_default();
        let mut errors = vec![first];
        for section in ENTRY_SECTIONS {
            let mut at: Vec<&str> = root.to_vec();
            at.push(section);
            for name in keys.keys(&at) {
                let entry = format!("{}{section}.{name}", prefix(root));
                if first_path == entry || first_path.starts_with(&format!("{entry}.")) {
                    continue;
                }
                let mut path = at.clone();
                path.push(name);
                let result = match section {
                    "dataSources" => from_yaml::<DataSourceConfig>(text, &path).map(drop),
                    "resolvers" => from_yaml::<ResolverConfig>(text, &path).map(drop),
                    _ => from_yaml::<PipelineFunctionConfig>(text, &path).map(drop),
                };
                if let Err(err) = result {
                    errors.push(ManifestError::in_entry(err, keys, &path));
                }
            }
        }
        Err(errors)
    }
}

/// `a.b.` for the root `[a, b]`.
fn prefix(root: &[&str]) -> String {
    root.iter().map(|key| format!("{key}.")).collect()
}

/// The error and the key path where it happened.
struct YamlError {
    error: Box<serde_saphyr::Error>,
    path: Option<serde_path_to_error::Path>,
}

/// Deserializes the value at `at` (map keys from the root) as `T`.
fn from_yaml<T: de::DeserializeOwned>(text: &str, at: &[&str]) -> Result<T, YamlError> {
    let mut path = None;
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        let mut track = serde_path_to_error::Track::new();
        let seed = At {
            path: at,
            target: PhantomData::<T>,
        };
        let result = seed.deserialize(serde_path_to_error::Deserializer::new(de, &mut track));
        if result.is_err() {
            path = Some(track.path());
        }
        result
    });
    match result {
        Ok(Some(value)) => Ok(value),
        // Callers only ask for keys the index found.
        Ok(None) => Err(YamlError {
            error: Box::new(serde_saphyr::Error::Message {
                msg: format!("no value at `{}`", at.join(".")),
                location: serde_saphyr::Location::UNKNOWN,
            }),
            path,
        }),
        Err(error) => Err(YamlError {
            error: Box::new(error),
            path,
        }),
    }
}

/// Walks down map keys and deserializes what is there, skipping the rest.
struct At<'a, T> {
    path: &'a [&'a str],
    target: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for At<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        if self.path.is_empty() {
            return T::deserialize(deserializer).map(Some);
        }
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for At<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a map with `{}`", self.path.first().unwrap_or(&""))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if found.is_none() && key == self.path[0] {
                found = map.next_value_seed(At {
                    path: &self.path[1..],
                    target: PhantomData::<T>,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

impl ManifestError {
    fn new(err: YamlError, keys: &KeyIndex) -> ManifestError {
        let position = err
            .error
            .location()
            .as_ref()
            .and_then(Position::from_location);
        let kind = kind_of(&err.error, position, keys);
        // serde names the map an unknown or duplicate key is in.
        let in_map = matches!(
            kind,
            ManifestErrorKind::UnknownField { .. } | ManifestErrorKind::DuplicateKey(_)
        );
        ManifestError {
            kind,
            position,
            key_path: err.path.as_ref().and_then(|path| key_path(path, in_map)),
        }
    }

    /// An error in one entry, found after the first: it points at the entry,
    /// or at the key when the key is unknown.
    fn in_entry(err: YamlError, keys: &KeyIndex, entry: &[&str]) -> ManifestError {
        let at = err
            .error
            .location()
            .as_ref()
            .and_then(Position::from_location);
        let kind = kind_of(&err.error, at, keys);
        let mut path = entry.to_vec();
        if let ManifestErrorKind::UnknownField { field, .. } = &kind {
            path.push(field);
        }
        let position = keys.locate(&path);
        let key_path = Some(path.join("."));
        ManifestError {
            kind,
            position,
            key_path,
        }
    }
}

fn kind_of(err: &serde_saphyr::Error, at: Option<Position>, keys: &KeyIndex) -> ManifestErrorKind {
    use serde_saphyr::Error as E;
    match err {
        E::WithSnippet { error, .. } => kind_of(error, at, keys),
        E::SerdeUnknownField {
            field, expected, ..
        } => ManifestErrorKind::UnknownField {
            field: field.clone(),
            expected: expected.clone(),
        },
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => ManifestErrorKind::UnknownVariant {
            variant: variant.clone(),
            expected: expected.clone(),
        },
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => ManifestErrorKind::InvalidType {
            unexpected: unexpected.clone(),
            expected: expected.clone(),
        },
        E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => ManifestErrorKind::InvalidValue {
            unexpected: unexpected.clone(),
            expected: expected.clone(),
        },
        E::SerdeMissingField { field, .. } => ManifestErrorKind::MissingField(field.to_string()),
        E::DuplicateMappingKey { key, .. } => {
            ManifestErrorKind::DuplicateKey(key.clone().unwrap_or_default())
        }
        // The parser names only the type it wanted; the index knows what was there.
        E::InvalidScalar { ty, .. } => match at.and_then(|at| keys.scalar_at(at)) {
            Some(found) => ManifestErrorKind::InvalidType {
                unexpected: found.unexpected().to_string(),
                expected: (*ty).to_owned(),
            },
            None => ManifestErrorKind::Yaml(DefaultMessageFormatter.format_message(err).into()),
        },
        other => ManifestErrorKind::Yaml(DefaultMessageFormatter.format_message(other).into()),
    }
}

/// `resolvers.Query.getPost`, `apiKeys[0].name`; without the last key when
/// `parent` is set. `None` at the root.
fn key_path(path: &serde_path_to_error::Path, parent: bool) -> Option<String> {
    let mut segments: Vec<&Segment> = path.iter().collect();
    if parent {
        segments.pop();
    }
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => break,
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{Manifest, ManifestErrorKind};
    use crate::model::source::{KeyIndex, Position};

    type Found = (ManifestErrorKind, Option<(usize, usize)>, Option<String>);

    fn errors(text: &str) -> Vec<Found> {
        let keys = KeyIndex::parse(text);
        match Manifest::parse(text, &keys) {
            Ok(_) => panic!("parsed: {text}"),
            Err(errors) => errors
                .into_iter()
                .map(|e| {
                    (
                        e.kind,
                        e.position.map(|Position { line, column }| (line, column)),
                        e.key_path,
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn flow_style_mistakes_point_at_the_value() {
        let found = errors("name: x\nauthentication: { type: API_KEYY }\n");
        assert_eq!(found.len(), 1);
        assert!(
            matches!(&found[0].0, ManifestErrorKind::UnknownVariant { variant, .. } if variant == "API_KEYY")
        );
        assert_eq!(found[0].1, Some((2, 25)));
        assert_eq!(found[0].2.as_deref(), Some("authentication.type"));
    }

    #[test]
    fn unknown_keys_name_their_map() {
        let found = errors("name: x\nguards: { maxAlias: 5 }\n");
        assert!(
            matches!(&found[0].0, ManifestErrorKind::UnknownField { field, .. } if field == "maxAlias")
        );
        assert_eq!(found[0].1, Some((2, 11)));
        assert_eq!(found[0].2.as_deref(), Some("guards"));
    }

    #[test]
    fn negative_numbers_are_named_like_serde_names_them() {
        let found = errors("name: x\nqueryDepthLimit: -3\n");
        assert_eq!(
            found[0].0.to_string(),
            "invalid type: integer `-3`, expected u32"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let found = errors("name: x\ndataSources:\n  a: { type: NONE }\n  a: { type: NONE }\n");
        assert_eq!(found[0].0, ManifestErrorKind::DuplicateKey("a".to_owned()));
        assert_eq!(found[0].1, Some((4, 3)));
        assert_eq!(found[0].2.as_deref(), Some("dataSources"));
    }
}
