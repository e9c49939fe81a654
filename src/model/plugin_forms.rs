//! The shorthand forms serverless-appsync-plugin v2 accepts besides the
//! plain ones, so an `appSync:` block reads unchanged: an API key as a bare
//! name, `caching: true` on a resolver, a data source or pipeline function
//! defined inline where a name is expected, and `dataSources`, `resolvers`
//! and `pipelineFunctions` given as a list of maps.
//!
//! Each form is read by a visitor that hands a map to the derived
//! deserializer, so a typo inside still reports its own key and line.

use std::fmt;
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::model::manifest::{
    ApiKeyConfig, DataSourceConfig, Manifest, PipelineFunctionConfig, ResolverCaching,
    ResolverConfig,
};

/// `apiKeys`: each entry a name or a map.
pub fn api_keys<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ApiKeyConfig>, D::Error> {
    struct Entry(ApiKeyConfig);
    impl<'de> Deserialize<'de> for Entry {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer
                .deserialize_any(NameOr::<ApiKeyConfig, _> {
                    named: |name| ApiKeyConfig {
                        name,
                        ..ApiKeyConfig::default()
                    },
                    inline: |config| config,
                    what: "an API key",
                })
                .map(Entry)
        }
    }
    let entries = Vec::<Entry>::deserialize(deserializer)?;
    Ok(entries.into_iter().map(|Entry(key)| key).collect())
}

/// A resolver's `caching`: `true` (the plugin's 3600 s, or the API's TTL,
/// keyed on the whole request), `false` (none), or `{ttl, keys}`.
pub fn resolver_caching<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ResolverCaching>, D::Error> {
    struct CachingVisitor;
    impl<'de> Visitor<'de> for CachingVisitor {
        type Value = Option<ResolverCaching>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean, or a map with `ttl` and `keys`")
        }
        fn visit_bool<E: de::Error>(self, on: bool) -> Result<Self::Value, E> {
            Ok(on.then(ResolverCaching::default))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            ResolverCaching::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }
    }
    deserializer.deserialize_any(CachingVisitor)
}

/// A template's path, or `false` to omit it. An omitted template reads as
/// an absent one: a Lambda resolver with neither is direct, as in the
/// plugin (which leaves it out of the template), while our default
/// `resolvers/<Type.field>.req.vtl` still applies if the file exists.
pub fn template_path<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    struct PathVisitor;
    impl<'de> Visitor<'de> for PathVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a template's path, or `false`")
        }
        fn visit_str<E: de::Error>(self, path: &str) -> Result<Self::Value, E> {
            Ok(Some(path.to_owned()))
        }
        fn visit_bool<E: de::Error>(self, on: bool) -> Result<Self::Value, E> {
            if on {
                Err(E::invalid_value(de::Unexpected::Bool(true), &self))
            } else {
                Ok(None)
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(PathVisitor)
}

/// A data source by name, or defined in place.
#[derive(Debug, Clone)]
pub enum DataSourceRef {
    Named(String),
    Inline(Box<DataSourceConfig>),
}

/// A pipeline function by name, or defined in place.
#[derive(Debug, Clone)]
pub enum FunctionRef {
    Named(String),
    Inline(Box<PipelineFunctionConfig>),
}

impl DataSourceRef {
    /// The name; `None` only before [`crate::model::manifest::Manifest`]
    /// has hoisted inline definitions.
    pub fn name(&self) -> Option<&str> {
        match self {
            DataSourceRef::Named(name) => Some(name),
            DataSourceRef::Inline(_) => None,
        }
    }
}

impl FunctionRef {
    pub fn name(&self) -> Option<&str> {
        match self {
            FunctionRef::Named(name) => Some(name),
            FunctionRef::Inline(_) => None,
        }
    }
}

/// A string, or a map read as `T`.
struct NameOr<T, R> {
    named: fn(String) -> R,
    inline: fn(T) -> R,
    what: &'static str,
}

impl<'de, T: Deserialize<'de>, R> Visitor<'de> for NameOr<T, R> {
    type Value = R;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}'s name, or its definition", self.what)
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<R, E> {
        Ok((self.named)(name.to_owned()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<R, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(self.inline)
    }
}

impl<'de> Deserialize<'de> for DataSourceRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NameOr::<DataSourceConfig, _> {
            named: DataSourceRef::Named,
            inline: |config| DataSourceRef::Inline(Box::new(config)),
            what: "a data source",
        })
    }
}

impl<'de> Deserialize<'de> for FunctionRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NameOr::<PipelineFunctionConfig, _> {
            named: FunctionRef::Named,
            inline: |config| FunctionRef::Inline(Box::new(config)),
            what: "a pipeline function",
        })
    }
}

/// A section given as a map, or as a list of maps merged in order (a later
/// entry of the same name replaces an earlier one), as the plugin allows.
pub fn map_or_list<'de, D, T>(deserializer: D) -> Result<IndexMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Sections<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Sections<T> {
        type Value = IndexMap<String, T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map, or a list of maps")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            IndexMap::deserialize(MapAccessDeserializer::new(map))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut merged = IndexMap::new();
            while let Some(part) = seq.next_element::<IndexMap<String, T>>()? {
                merged.extend(part);
            }
            Ok(merged)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(IndexMap::new())
        }
    }
    deserializer.deserialize_any(Sections(PhantomData))
}

impl Manifest {
    /// Gives inline data sources and functions the names the plugin gives
    /// them and moves them into their sections, so the rest of the loader
    /// sees names only.
    pub(crate) fn hoist_inline_definitions(&mut self) {
        let mut data_sources = Vec::new();
        let mut functions = Vec::new();
        let mut hoist = |data_source: &mut DataSourceRef, name: String| {
            if let DataSourceRef::Inline(config) = data_source {
                data_sources.push((name.clone(), (**config).clone()));
                *data_source = DataSourceRef::Named(name);
            }
        };
        for (key, resolver) in &mut self.resolvers {
            let base = inline_name(key);
            if let Some(data_source) = &mut resolver.data_source {
                hoist(data_source, base.clone());
            }
            for (index, function) in resolver.functions.iter_mut().enumerate() {
                if let FunctionRef::Inline(config) = function {
                    let name = format!("{base}_{index}");
                    let mut config = (**config).clone();
                    hoist(&mut config.data_source, inline_name(&name));
                    functions.push((name.clone(), config));
                    *function = FunctionRef::Named(name);
                }
            }
        }
        for (name, function) in &mut self.pipeline_functions {
            hoist(&mut function.data_source, inline_name(name));
        }
        self.data_sources.extend(data_sources);
        self.pipeline_functions.extend(functions);
    }
}

impl Manifest {
    /// One line for each setting that has no local effect, so users know
    /// it was read and why nothing happens.
    pub fn notices(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.waf.is_some() || self.api_keys.iter().any(|k| k.waf_rules.is_some()) {
            out.push("waf: AWS WAF rules are not applied locally".to_owned());
        }
        if self.xray_enabled == Some(true) {
            out.push("xrayEnabled: no X-Ray traces are recorded locally".to_owned());
        }
        if self.domain.is_some() {
            out.push(
                "domain: custom domains are not served locally; use the server's own address"
                    .to_owned(),
            );
        }
        if self.logging.is_some() {
            out.push("logging: resolver logs go to the server's log (`serve --verbose` for evaluated templates), not CloudWatch".to_owned());
        }
        if self.enhanced_metrics.is_some() {
            out.push(
                "enhancedMetrics: metrics are served at /metrics, not sent to CloudWatch"
                    .to_owned(),
            );
        }
        if self
            .esbuild
            .as_ref()
            .is_some_and(|e| e != &serde_json::Value::Bool(false))
        {
            out.push("esbuild: JavaScript code is read as it is, without bundling".to_owned());
        }
        if self.visibility.is_some() {
            out.push("visibility: the local server answers wherever it listens".to_owned());
        }
        out
    }
}

impl ResolverConfig {
    /// The data source's name (inline ones are named by now).
    pub fn data_source_name(&self) -> Option<&str> {
        self.data_source.as_ref().and_then(DataSourceRef::name)
    }

    /// The pipeline functions' names.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.functions.iter().filter_map(FunctionRef::name)
    }
}

impl PipelineFunctionConfig {
    pub fn data_source_name(&self) -> &str {
        self.data_source.name().unwrap_or_default()
    }
}

/// The plugin's name for an inline definition: the resolver's key with its
/// first non-letter (the `.` of `Type.field`) replaced by `_`.
pub fn inline_name(key: &str) -> String {
    match key.char_indices().find(|(_, c)| !c.is_ascii_alphabetic()) {
        Some((at, c)) => format!("{}_{}", &key[..at], &key[at + c.len_utf8()..]),
        None => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_names_follow_the_plugin() {
        assert_eq!(inline_name("Query.user"), "Query_user");
        assert_eq!(inline_name("Mutation.toggleNote"), "Mutation_toggleNote");
        assert_eq!(inline_name("plain"), "plain");
    }
}
