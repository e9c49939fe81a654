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
//! seed:                             # loaded on the first start (see `crate::seed`)
//!   Posts: seed/posts.json          # or: { generator: flight-catalog, flights: 20000, ... }
//! ```
//!
//! An API key without `value` uses its `name` as the key string, since AWS
//! would generate one and a local server needs a known value.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

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
    #[serde(default)]
    pub api_keys: Vec<ApiKeyConfig>,
    #[serde(default)]
    pub data_sources: IndexMap<String, DataSourceConfig>,
    #[serde(default)]
    pub resolvers: IndexMap<String, ResolverConfig>,
    #[serde(default)]
    pub pipeline_functions: IndexMap<String, PipelineFunctionConfig>,
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
    /// Mode-specific settings (user pool, OIDC issuer, Lambda authorizer); kept
    /// opaque until those modes are implemented.
    #[serde(default)]
    pub config: Option<Json>,
}

/// An API key. `value` is a local extension: the plugin lets AWS generate the
/// key, but a local server needs a known one (e.g. `da2-local`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiKeyConfig {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// e.g. `30d`, `12h`, `1y`.
    #[serde(default)]
    pub expires_after: Option<String>,
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
    #[serde(default)]
    pub data_source: Option<String>,
    #[serde(default)]
    pub functions: Vec<String>,
    #[serde(default)]
    pub request: Option<String>,
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub caching: Option<ResolverCaching>,
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    #[serde(default)]
    pub substitutions: IndexMap<String, SubstitutionValue>,
    /// Conflict detection for versioned tables; read by the DynamoDB store.
    #[serde(default)]
    pub sync: Option<Json>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PipelineFunctionConfig {
    pub data_source: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub request: Option<String>,
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    #[serde(default)]
    pub substitutions: IndexMap<String, SubstitutionValue>,
    #[serde(default)]
    pub sync: Option<Json>,
}

#[derive(Debug, Clone, Deserialize)]
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

/// Finds the 1-based line and column of a key path (`resolvers`, `Query.getPost`,
/// `dataSource`) in block-style YAML, so binding errors found after parsing can
/// still point at the file. Falls back to the deepest key found.
pub fn locate(text: &str, path: &[&str]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0usize;
    let mut min_indent: Option<usize> = None;
    let mut found = None;
    for seg in path {
        let mut hit = None;
        for (idx, line) in lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(min) = min_indent
                && indent <= min
                && idx > start
            {
                break;
            }
            let key = trimmed.strip_prefix("- ").unwrap_or(trimmed);
            let key_col = indent + (trimmed.len() - key.len());
            let bare = key.split(':').next().unwrap_or("").trim();
            let bare = bare.trim_matches(|c| c == '"' || c == '\'');
            if bare == *seg && key.contains(':') {
                hit = Some((idx, indent, key_col));
                break;
            }
        }
        match hit {
            Some((idx, indent, col)) => {
                found = Some((idx + 1, col + 1));
                start = idx + 1;
                min_indent = Some(indent);
            }
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn locates_nested_keys() {
        let text = "name: x\nresolvers:\n  Query.a:\n    dataSource: none\n  Query.b:\n    dataSource: other\n";
        assert_eq!(
            locate(text, &["resolvers", "Query.b", "dataSource"]),
            Some((6, 5))
        );
        assert_eq!(locate(text, &["resolvers", "Query.a"]), Some((3, 3)));
    }
}
