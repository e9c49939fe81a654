//! Loading a project directory: `appsync.yaml`, the schema, the templates,
//! and every binding between them. [`Project::load`] collects all problems
//! instead of stopping at the first, so `check` can list them at once.
//!
//! The loader is the IO edge of the model: it reads the files, opens (and
//! seeds) the stores, binds data sources, and builds the
//! [`ExecutableSchema`](crate::execution::ExecutableSchema) that `execution`
//! runs. `crate::model` itself does no IO.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::cache::ApiCache;
use crate::datasource;
use crate::dynamodb::TableDefinition;
use crate::execution::engine::Engine;
use crate::execution::guards::Guards;
use crate::execution::resolver::{BoundDataSource, FunctionPlan, ResolverKindPlan, ResolverPlan};
use crate::execution::{self, Api, ExecutableSchema, Limits};
use crate::graphql::{AuthConfig, AuthType, GraphQLService};
use crate::lambda::Functions;
use crate::metrics::Metrics;
use crate::model::manifest::{
    AuthenticationType, DataSourceType, GuardsConfig, Manifest, ResolverKind, SubstitutionValue,
};
use crate::model::schema::{SchemaModel, TypeDef};
use crate::model::source::{KeyIndex, line_of};
use crate::opensearch::IndexDefinition;
use crate::seed::SeedSpec;
use crate::stores::{SeedSource, Stores, StoresError};

mod auth;
mod cloudformation;
mod code;
mod forms;
mod functions;
mod manifest;
mod serverless;

pub use serverless::DeployOptions;

use code::{CodeConfig, CodeRole};
pub use functions::LambdaOptions;

/// The manifest's file name inside a project directory.
pub const MANIFEST_FILE: &str = "appsync.yaml";
/// AppSync's limit on a request or response template.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// AppSync's limit on the schema.
pub const MAX_SCHEMA_BYTES: usize = 1024 * 1024;
/// AppSync's limit on functions in one pipeline.
pub const MAX_PIPELINE_FUNCTIONS: usize = 10;

/// One problem in a project, pointing at a file and, when known, a position.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Relative to the project directory.
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The manifest key path, e.g. `resolvers.Query.getPost.dataSource`.
    pub key_path: Option<String>,
    pub message: String,
    /// The source line at `line`.
    pub snippet: Option<String>,
}

impl Problem {
    /// A problem at `(line, column)` of `text`, the content of `file`,
    /// quoting that line.
    fn at(
        file: &str,
        text: &str,
        at: Option<(usize, usize)>,
        key_path: Option<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.to_owned(),
            line: at.map(|(line, _)| line),
            column: at.map(|(_, column)| column),
            key_path,
            message: message.into(),
            snippet: at.and_then(|(line, _)| line_of(text, line)),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        write!(f, "  --> {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(key) = &self.key_path {
            write!(f, " (at `{key}`)")?;
        }
        writeln!(f)?;
        if let (Some(line), Some(snippet)) = (self.line, &self.snippet) {
            let width = line.to_string().len();
            writeln!(f, "{:width$} |", "")?;
            writeln!(f, "{line} | {snippet}")?;
            let col = self.column.unwrap_or(1).max(1);
            writeln!(f, "{:width$} | {:>col$}", "", "^")?;
        }
        Ok(())
    }
}

/// Every problem found while loading a project.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ProjectErrors {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ProjectErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        let n = self.problems.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

/// Loads projects.
pub struct Project;

/// Settings that come from the command line rather than the project.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Where stores keep their data; `None` keeps it in memory.
    pub data_dir: Option<PathBuf>,
    /// Stores already open in this process (a reload under `serve --watch`):
    /// they are reused as they are, because a sled directory can be opened
    /// only once, so table and index declarations apply at start only.
    pub stores: Option<Arc<Stores>>,
    /// Leave fresh stores unseeded (tests that write their own data, and
    /// the offline `seed`/`reset` commands, which seed themselves).
    pub no_seed: bool,
    /// `serve --no-local-issuer`: Cognito and OIDC providers accept only
    /// tokens their own keys sign.
    pub no_local_issuer: bool,
    /// Interpreters and endpoints for Lambda functions.
    pub lambda: LambdaOptions,
    /// `--stage` and `--param`: a serverless.yml's stage and parameters, a template's parameters.
    pub deploy: DeployOptions,
}

impl Project {
    /// Loads and checks a project directory, building everything the server
    /// needs once.
    pub fn load(dir: &Path) -> Result<Api, ProjectErrors> {
        Self::load_with(dir, &LoadOptions::default())
    }

    pub fn load_with(dir: &Path, options: &LoadOptions) -> Result<Api, ProjectErrors> {
        Loader::new(dir, options.clone()).load()
    }

    /// Only the project's authorization: no schema, no stores, so it runs
    /// beside a server that holds the data directory (`appsync-local token`).
    pub fn auth_with(dir: &Path, options: &LoadOptions) -> Result<AuthConfig, ProjectErrors> {
        let mut loader = Loader::new(dir, options.clone());
        let Some(manifest) = loader.parse_manifest() else {
            return Err(loader.fail());
        };
        let auth = loader.auth_config(&manifest);
        if loader.problems.is_empty() {
            Ok(auth)
        } else {
            Err(loader.fail())
        }
    }
}

/// Loads a project for the server.
pub fn load_project(dir: &Path) -> Result<Arc<dyn GraphQLService>, ProjectErrors> {
    load_project_with(dir, &LoadOptions::default())
}

/// Loads a project for the server, with command-line settings (`--data`).
pub fn load_project_with(
    dir: &Path,
    options: &LoadOptions,
) -> Result<Arc<dyn GraphQLService>, ProjectErrors> {
    Project::load_with(dir, options).map(|api| Arc::new(api) as Arc<dyn GraphQLService>)
}

struct Loader {
    dir: PathBuf,
    options: LoadOptions,
    /// The file the manifest comes from, and the keys it sits under there
    /// (`appSync` in a serverless.yml).
    manifest_file: &'static str,
    manifest_root: &'static [&'static str],
    manifest_text: String,
    manifest_keys: KeyIndex,
    /// Sources a format holds inline (a CloudFormation schema `Definition`,
    /// a template, `Code`), under the names its manifest gives them.
    inline_sources: HashMap<String, String>,
    /// For a manifest made from another format: a manifest key path (such
    /// as `resolvers.Query.note`) to the keys, in that format's file, of
    /// what it was made from, so problems point there.
    manifest_origins: Vec<(String, Vec<String>)>,
    problems: Vec<Problem>,
}

/// Replaces `${Name}` for the names given; other `${...}` are VTL references.
fn guards(config: &GuardsConfig) -> Guards {
    let size = |v: Option<u32>| v.map(|v| v as usize);
    Guards {
        max_aliases: size(config.max_aliases),
        max_root_fields: size(config.max_root_fields),
        max_query_bytes: size(config.max_query_bytes),
        max_query_tokens: size(config.max_query_tokens),
        max_list_fan_out: size(config.max_list_fan_out),
    }
}

fn substitute(text: &str, subs: &IndexMap<String, String>) -> String {
    if subs.is_empty() || !text.contains("${") {
        return text.to_owned();
    }
    let mut out = text.to_owned();
    for (name, value) in subs {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    out
}

impl Loader {
    fn new(dir: &Path, options: LoadOptions) -> Self {
        Loader {
            dir: dir.to_path_buf(),
            options,
            manifest_file: MANIFEST_FILE,
            manifest_root: &[],
            manifest_text: String::new(),
            manifest_keys: KeyIndex::default(),
            inline_sources: HashMap::new(),
            manifest_origins: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn file_problem(&mut self, file: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_owned(),
            line: None,
            column: None,
            key_path: None,
            message: message.into(),
            snippet: None,
        });
    }

    fn fail(self) -> ProjectErrors {
        ProjectErrors {
            problems: self.problems,
        }
    }

    fn load(mut self) -> Result<Api, ProjectErrors> {
        let Some(manifest) = self.parse_manifest() else {
            return Err(self.fail());
        };
        let (schema_files, model) = self.load_schema(&manifest);
        let stores = self.open_stores(&manifest);
        let functions = Arc::new(self.local_functions(&manifest));
        let data_sources = self.build_data_sources(&manifest, &stores, &functions);
        let global_subs: IndexMap<String, String> = manifest
            .substitutions
            .iter()
            .map(|(k, v)| (k.clone(), v.as_text()))
            .collect();

        let pipeline_functions = self.load_functions(&manifest, &data_sources, &global_subs);
        let plans = self.load_resolvers(
            &manifest,
            model.as_ref(),
            &data_sources,
            &pipeline_functions,
            &global_subs,
        );
        self.check_limits(&manifest);
        let cache = match ApiCache::from_manifest(&manifest) {
            Ok(cache) => cache,
            Err(problems) => {
                for problem in problems {
                    let path: Vec<&str> = problem.key_path.iter().map(String::as_str).collect();
                    self.manifest_problem(&path, problem.message);
                }
                None
            }
        };
        let mut auth = self.auth_config(&manifest);
        self.bind_lambda_authorizer(&manifest, &mut auth, &functions);
        let env = Arc::new(self.environment(&manifest));
        let Some(mut model) = model else {
            return Err(self.fail());
        };
        if !self.problems.is_empty() {
            return Err(self.fail());
        }
        settle_field_auth(&mut model, &auth);
        let engine = match Engine::build(&model) {
            Ok(e) => e,
            Err(error) => {
                let file = schema_files.first().cloned().unwrap_or_default();
                self.file_problem(&file, error.to_string());
                return Err(self.fail());
            }
        };
        let resolver_count = match manifest.resolver_count_limit {
            0 => 10_000,
            n => n as usize,
        };
        let mut schema = ExecutableSchema::new(model);
        for plan in plans {
            // Bindings were checked above, so every plan finds its field.
            schema.attach(plan);
        }
        Ok(Api {
            name: manifest.name.clone(),
            auth,
            engine,
            limits: Limits {
                query_depth: manifest.query_depth_limit as usize,
                resolver_count,
                guards: guards(&manifest.guards),
            },
            introspection: manifest.introspection.as_ref().is_none_or(|i| i.enabled()),
            env,
            schema,
            manifest,
            stores,
            functions,
            cache,
            metrics: Metrics::default(),
        })
    }

    fn load_schema(&mut self, manifest: &Manifest) -> (Vec<String>, Option<SchemaModel>) {
        let patterns = manifest
            .schema
            .as_ref()
            .map(|s| s.paths())
            .unwrap_or_else(|| vec!["schema.graphql".to_owned()]);
        let mut schema_files = Vec::new();
        for pattern in patterns {
            match forms::expand_glob(&self.dir, &pattern) {
                Ok(files) => schema_files.extend(files),
                Err(error) => self.manifest_problem(&["schema"], error.to_string()),
            }
        }
        let mut schema_texts = Vec::new();
        for file in &schema_files {
            match self.read_source(file) {
                Ok(t) => schema_texts.push(t),
                Err(e) => {
                    self.manifest_problem(
                        &["schema"],
                        format!("cannot read schema file `{file}`: {e}"),
                    );
                    schema_texts.push(String::new());
                }
            }
        }
        let schema_bytes: usize = schema_texts.iter().map(String::len).sum();
        if schema_bytes > MAX_SCHEMA_BYTES {
            let file = schema_files.first().cloned().unwrap_or_default();
            self.file_problem(
                &file,
                format!(
                    "the schema is {schema_bytes} bytes; AppSync allows at most {MAX_SCHEMA_BYTES}"
                ),
            );
        }
        let model = if self.problems.is_empty() {
            match crate::model::schema::build(&schema_texts) {
                Ok(m) => Some(m),
                Err(problems) => {
                    for p in problems {
                        let file = schema_files.get(p.file).map(String::as_str).unwrap_or("");
                        let text = schema_texts.get(p.file).map(String::as_str).unwrap_or("");
                        let at = p.pos.map(|pos| (pos.line, pos.column));
                        self.problems
                            .push(Problem::at(file, text, at, None, p.message));
                    }
                    None
                }
            }
        } else {
            None
        };

        (schema_files, model)
    }

    /// The stores given by the caller, or opened from the manifest's `tables`
    /// and `indexes` sections. A problem there is reported and the load goes on
    /// with empty in-memory stores, so every other problem is listed too.
    fn open_stores(&mut self, manifest: &Manifest) -> Arc<Stores> {
        let seed = self.seed_source(manifest);
        if let Some(stores) = &self.options.stores {
            if self.problems.is_empty() {
                stores.set_seed(seed);
            }
            return Arc::clone(stores);
        }
        let tables: Vec<TableDefinition> =
            self.store_section(manifest.tables.as_ref(), "tables", "tableName");
        let indexes: Vec<IndexDefinition> =
            self.store_section(manifest.indexes.as_ref(), "indexes", "name");
        for table in &tables {
            if let Err(e) = table.validate() {
                self.manifest_problem(&["tables"], e.to_string());
            }
        }
        if let Some(source) = &seed {
            for table in source.spec.tables() {
                if !tables.iter().any(|t| t.table_name == table) {
                    let key = match &source.spec {
                        SeedSpec::Files(_) => table.clone(),
                        SeedSpec::FlightCatalog(_) => "generator".to_owned(),
                    };
                    self.manifest_problem(
                        &["seed", &key],
                        format!("the seed writes table {table}, which `tables` does not declare"),
                    );
                }
            }
        }
        match Stores::open(self.options.data_dir.as_deref(), &tables, &indexes) {
            Ok(stores) => {
                if self.problems.is_empty() {
                    stores.set_seed(seed);
                    if !self.options.no_seed
                        && let Err(err) = stores.seed_on_first_start()
                    {
                        self.manifest_problem(&["seed"], err.to_string());
                    }
                }
                Arc::new(stores)
            }
            Err(err) => {
                let section = match err {
                    StoresError::Indexes(_) => "indexes",
                    _ => "tables",
                };
                self.manifest_problem(&[section], err.to_string());
                // Empty in-memory stores cannot fail to open.
                Arc::new(Stores::open(None, &[], &[]).expect("empty in-memory stores"))
            }
        }
    }

    /// The manifest's `seed` section, checked.
    fn seed_source(&mut self, manifest: &Manifest) -> Option<SeedSource> {
        match crate::seed::parse(manifest.seed.as_ref()) {
            Ok(spec) => spec.map(|spec| SeedSource {
                spec,
                project_dir: self.dir.clone(),
            }),
            Err(problems) => {
                for problem in problems {
                    let path: Vec<&str> = std::iter::once("seed")
                        .chain(problem.path.iter().map(String::as_str))
                        .collect();
                    self.manifest_problem(&path, problem.message);
                }
                None
            }
        }
    }

    /// Reads `tables` or `indexes`: a map keyed by name, like `dataSources`
    /// (the key fills `name_key`), or a list of declarations.
    fn store_section<T: serde::de::DeserializeOwned>(
        &mut self,
        section: Option<&Json>,
        section_name: &str,
        name_key: &str,
    ) -> Vec<T> {
        let entries: Vec<(Option<String>, Json)> = match section {
            None | Some(Json::Null) => return Vec::new(),
            Some(Json::Object(map)) => map
                .iter()
                .map(|(name, decl)| {
                    let mut decl = decl.clone();
                    if let Json::Object(fields) = &mut decl {
                        fields.insert(name_key.to_owned(), Json::String(name.clone()));
                    }
                    (Some(name.clone()), decl)
                })
                .collect(),
            Some(Json::Array(list)) => list.iter().map(|d| (None, d.clone())).collect(),
            Some(_) => {
                self.manifest_problem(
                    &[section_name],
                    format!("`{section_name}` must be a map keyed by name"),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (idx, (name, decl)) in entries.into_iter().enumerate() {
            let key = name.unwrap_or_else(|| idx.to_string());
            match serde_json::from_value(decl) {
                Ok(parsed) => out.push(parsed),
                Err(err) => self.manifest_problem(&[section_name, &key], err.to_string()),
            }
        }
        out
    }

    fn build_data_sources(
        &mut self,
        manifest: &Manifest,
        stores: &Arc<Stores>,
        functions: &Functions,
    ) -> HashMap<String, BoundDataSource> {
        let mut data_sources: HashMap<String, BoundDataSource> = HashMap::new();
        let build_context = datasource::BuildContext {
            stores,
            functions,
            lambda_endpoint: self.options.lambda.endpoint.as_ref(),
        };
        let mut ds_problems = Vec::new();
        for (name, config) in &manifest.data_sources {
            match datasource::build(name, config, &build_context) {
                Ok(source) => {
                    data_sources.insert(
                        name.clone(),
                        BoundDataSource {
                            name: name.clone(),
                            source,
                        },
                    );
                }
                Err(err) => ds_problems.push((name.clone(), err.config_key(), err.to_string())),
            }
        }
        for (name, key, message) in ds_problems {
            match key {
                Some(key) => self.manifest_problem(&["dataSources", &name, "config", key], message),
                None => self.manifest_problem(&["dataSources", &name], message),
            }
        }

        data_sources
    }

    fn load_functions(
        &mut self,
        manifest: &Manifest,
        data_sources: &HashMap<String, BoundDataSource>,
        global_subs: &IndexMap<String, String>,
    ) -> HashMap<String, Arc<FunctionPlan>> {
        let mut functions: HashMap<String, Arc<FunctionPlan>> = HashMap::new();
        for (name, config) in &manifest.pipeline_functions {
            let key = ["pipelineFunctions", name.as_str()];
            let ds_name = config.data_source_name();
            let ds = data_sources.get(ds_name).cloned();
            if ds.is_none() && !manifest.data_sources.contains_key(ds_name) {
                self.manifest_problem(
                    &["pipelineFunctions", name, "dataSource"],
                    format!("unknown data source `{ds_name}`"),
                );
            }
            let subs = merged(global_subs, &config.substitutions);
            let code_config = CodeConfig {
                request: config.request.as_deref(),
                response: config.response.as_deref(),
                code: config.code.as_deref(),
                runtime: config.runtime.as_ref(),
            };
            let default_base = format!("resolvers/functions/{name}");
            let direct = ds.as_ref().and_then(|ds| {
                self.direct_lambda(ds, &code_config, &default_base, config.max_batch_size)
            });
            let (ds, code) = match direct {
                Some((ds, code)) => (Some(ds), Some(code)),
                None => {
                    let code =
                        self.code(&key, code_config, &default_base, &subs, CodeRole::Function);
                    (ds, code)
                }
            };
            if let (Some(data_source), Some(code)) = (ds, code) {
                functions.insert(
                    name.clone(),
                    Arc::new(FunctionPlan {
                        name: name.clone(),
                        data_source,
                        code,
                        max_batch_size: config.max_batch_size,
                    }),
                );
            }
        }

        functions
    }

    fn load_resolvers(
        &mut self,
        manifest: &Manifest,
        model: Option<&SchemaModel>,
        data_sources: &HashMap<String, BoundDataSource>,
        functions: &HashMap<String, Arc<FunctionPlan>>,
        global_subs: &IndexMap<String, String>,
    ) -> Vec<ResolverPlan> {
        let mut plans: Vec<ResolverPlan> = Vec::new();
        for (key_name, config) in &manifest.resolvers {
            let key = ["resolvers", key_name.as_str()];
            let (type_name, field_name) = match (&config.type_name, &config.field) {
                (Some(t), Some(f)) => (t.clone(), f.clone()),
                _ => match key_name.split_once('.') {
                    Some((t, f)) => (
                        config.type_name.clone().unwrap_or_else(|| t.to_owned()),
                        config.field.clone().unwrap_or_else(|| f.to_owned()),
                    ),
                    None => {
                        self.manifest_problem(
                            &key,
                            format!("resolver `{key_name}` needs a `Type.field` key, or `type` and `field`"),
                        );
                        continue;
                    }
                },
            };
            if let Some(model) = model {
                match model.types.get(&type_name) {
                    Some(TypeDef::Object(obj)) => {
                        if !obj.fields.contains_key(&field_name) {
                            self.manifest_problem(
                                &key,
                                format!("type `{type_name}` has no field `{field_name}`"),
                            );
                        }
                    }
                    Some(other) => self.manifest_problem(
                        &key,
                        format!(
                            "`{type_name}` is {} {}, not an object type; resolvers attach to object fields",
                            if other.kind_name().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
                            other.kind_name()
                        ),
                    ),
                    None => self.manifest_problem(
                        &key,
                        format!("type `{type_name}` is not defined in the schema"),
                    ),
                }
            }
            let kind = config.kind.unwrap_or(
                if config.data_source.is_some() && config.functions.is_empty() {
                    ResolverKind::Unit
                } else {
                    ResolverKind::Pipeline
                },
            );
            let subs = merged(global_subs, &config.substitutions);
            let default_base = format!("resolvers/{type_name}.{field_name}");
            let code_config = CodeConfig {
                request: config.request.as_deref(),
                response: config.response.as_deref(),
                code: config.code.as_deref(),
                runtime: config.runtime.as_ref(),
            };
            match kind {
                ResolverKind::Unit => {
                    if !config.functions.is_empty() {
                        self.manifest_problem(
                            &[key[0], key[1], "functions"],
                            "a UNIT resolver cannot have `functions`; use `kind: PIPELINE`",
                        );
                    }
                    let ds = match config.data_source_name() {
                        None => {
                            self.manifest_problem(&key, "a UNIT resolver needs a `dataSource`");
                            None
                        }
                        Some(ds_name) => {
                            let ds = data_sources.get(ds_name).cloned();
                            if ds.is_none() && !manifest.data_sources.contains_key(ds_name) {
                                self.manifest_problem(
                                    &[key[0], key[1], "dataSource"],
                                    format!("unknown data source `{ds_name}`"),
                                );
                            }
                            ds
                        }
                    };
                    let direct = ds.as_ref().and_then(|ds| {
                        self.direct_lambda(ds, &code_config, &default_base, config.max_batch_size)
                    });
                    let (ds, code) = match direct {
                        Some((ds, code)) => (Some(ds), Some(code)),
                        // A direct Lambda resolver whose data source failed to
                        // build: that problem is reported; missing templates
                        // would only repeat it.
                        None if ds.is_none()
                            && lambda_named(manifest, config.data_source_name())
                            && code_config.is_empty() =>
                        {
                            (None, None)
                        }
                        None => {
                            let code =
                                self.code(&key, code_config, &default_base, &subs, CodeRole::Unit);
                            (ds, code)
                        }
                    };
                    if let (Some(data_source), Some(code)) = (ds, code) {
                        plans.push(
                            ResolverPlan::new(
                                type_name,
                                field_name,
                                ResolverKindPlan::Unit { data_source, code },
                            )
                            .with_max_batch_size(config.max_batch_size),
                        );
                    }
                }
                ResolverKind::Pipeline => {
                    if config.data_source.is_some() {
                        self.manifest_problem(
                            &[key[0], key[1], "dataSource"],
                            "a PIPELINE resolver has no `dataSource`; its functions name theirs",
                        );
                    }
                    if config.functions.len() > MAX_PIPELINE_FUNCTIONS {
                        self.manifest_problem(
                            &[key[0], key[1], "functions"],
                            format!(
                                "a pipeline has at most {MAX_PIPELINE_FUNCTIONS} functions; this one has {}",
                                config.functions.len()
                            ),
                        );
                    }
                    let mut resolved = Vec::new();
                    for f in config.function_names() {
                        match functions.get(f) {
                            Some(plan) => resolved.push(plan.clone()),
                            None if manifest.pipeline_functions.contains_key(f) => {}
                            None => self.manifest_problem(
                                &[key[0], key[1], "functions"],
                                format!("unknown pipeline function `{f}`"),
                            ),
                        }
                    }
                    let code =
                        self.code(&key, code_config, &default_base, &subs, CodeRole::Pipeline);
                    if let Some(code) = code
                        && resolved.len() == config.functions.len()
                    {
                        plans.push(ResolverPlan::new(
                            type_name,
                            field_name,
                            ResolverKindPlan::Pipeline {
                                code,
                                functions: resolved,
                            },
                        ));
                    }
                }
            }
        }

        plans
    }

    /// A direct Lambda resolver or function: a data source that runs
    /// without code, and neither code nor templates configured or present
    /// at their default paths.
    fn direct_lambda(
        &self,
        ds: &BoundDataSource,
        config: &CodeConfig<'_>,
        default_base: &str,
        max_batch_size: Option<u32>,
    ) -> Option<(BoundDataSource, execution::resolver::CodeRef)> {
        if !config.is_empty() {
            return None;
        }
        let has_default = ["req", "res"].iter().any(|step| {
            self.dir
                .join(format!("{default_base}.{step}.vtl"))
                .is_file()
        });
        if has_default {
            return None;
        }
        let source = ds.source.direct_resolver()?;
        let code = Arc::new(crate::runtime::direct::DirectLambda {
            batched: max_batch_size.is_some_and(|n| n > 0),
        });
        Some((
            BoundDataSource {
                name: ds.name.clone(),
                source,
            },
            code,
        ))
    }

    fn check_limits(&mut self, manifest: &Manifest) {
        if manifest.query_depth_limit > 75 {
            self.manifest_problem(
                &["queryDepthLimit"],
                "queryDepthLimit must be between 0 and 75",
            );
        }
        if manifest.resolver_count_limit > 10_000 {
            self.manifest_problem(
                &["resolverCountLimit"],
                "resolverCountLimit must be between 0 and 10000",
            );
        }
        let guards = &manifest.guards;
        let ranges = [
            ("maxAliases", guards.max_aliases, 0, 10_000),
            ("maxRootFields", guards.max_root_fields, 1, 10_000),
            ("maxQueryBytes", guards.max_query_bytes, 1, 104_857_600),
            ("maxQueryTokens", guards.max_query_tokens, 1, 10_000_000),
            ("maxListFanOut", guards.max_list_fan_out, 1, 1_000_000),
        ];
        for (key, value, min, max) in ranges {
            if let Some(value) = value
                && !(min..=max).contains(&value)
            {
                self.manifest_problem(
                    &["guards", key],
                    format!("{key} must be between {min} and {max}, not {value}"),
                );
            }
        }
    }
}

impl Loader {
    /// `environment`: AppSync's environment variables, checked against its
    /// rules (at most 50; keys of two or more letters, digits and `_`
    /// starting with a letter; string values of at most 512 characters).
    /// Numbers and booleans are taken as their text, as YAML writes them.
    fn environment(&mut self, manifest: &Manifest) -> Json {
        let mut env = serde_json::Map::new();
        let Some(config) = &manifest.environment else {
            return Json::Object(env);
        };
        let Json::Object(entries) = config else {
            self.manifest_problem(&["environment"], "environment must map names to strings");
            return Json::Object(env);
        };
        if entries.len() > 50 {
            self.manifest_problem(
                &["environment"],
                format!(
                    "environment has {} variables; AppSync allows at most 50",
                    entries.len()
                ),
            );
        }
        for (key, value) in entries {
            let well_formed = key.len() >= 2
                && key.starts_with(|c: char| c.is_ascii_alphabetic())
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !well_formed {
                self.manifest_problem(
                    &["environment", key],
                    format!("environment variable `{key}`: names start with a letter and hold at least two letters, digits or `_`"),
                );
            }
            let text = match value {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                _ => {
                    self.manifest_problem(
                        &["environment", key],
                        format!("environment variable `{key}` must be a string"),
                    );
                    continue;
                }
            };
            if text.chars().count() > 512 {
                self.manifest_problem(
                    &["environment", key],
                    format!("environment variable `{key}` is longer than AppSync's 512 characters"),
                );
            }
            env.insert(key.clone(), Json::String(text));
        }
        Json::Object(env)
    }
}

/// Field-level authorization, settled once at load (`crate::auth`).
/// Whether `name` is a Lambda data source in the manifest.
fn lambda_named(manifest: &Manifest, name: Option<&str>) -> bool {
    name.and_then(|n| manifest.data_sources.get(n))
        .is_some_and(|ds| ds.kind == DataSourceType::AwsLambda)
}

fn settle_field_auth(model: &mut SchemaModel, auth: &AuthConfig) {
    let default_mode = auth.default_mode();
    let cognito_deny = auth.cognito_default_deny();
    for def in model.types.values_mut() {
        if let TypeDef::Object(obj) = def {
            let type_rules = obj.auth_directives.clone();
            for field in obj.fields.values_mut() {
                field.auth_rules = crate::auth::settle_field_rules(
                    &field.auth_directives,
                    &type_rules,
                    default_mode,
                    cognito_deny,
                );
            }
        }
    }
}

fn merged(
    global: &IndexMap<String, String>,
    local: &IndexMap<String, SubstitutionValue>,
) -> IndexMap<String, String> {
    let mut out = global.clone();
    for (k, v) in local {
        out.insert(k.clone(), v.as_text());
    }
    out
}

fn auth_type(kind: AuthenticationType) -> AuthType {
    match kind {
        AuthenticationType::ApiKey => AuthType::ApiKey,
        AuthenticationType::AwsIam => AuthType::AwsIam,
        AuthenticationType::AmazonCognitoUserPools => AuthType::AmazonCognitoUserPools,
        AuthenticationType::OpenidConnect => AuthType::OpenidConnect,
        AuthenticationType::AwsLambda => AuthType::AwsLambda,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_replace_only_known_names() {
        let mut subs = IndexMap::new();
        subs.insert("Table".to_owned(), "posts".to_owned());
        assert_eq!(
            substitute("${Table} ${ctx.args}", &subs),
            "posts ${ctx.args}"
        );
    }
}
