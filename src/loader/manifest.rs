//! Finding and reading the project's manifest: `appsync.yaml`, or the
//! `appSync:` block of a serverless.yml (`serverless.rs`).

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

use super::{Loader, MANIFEST_FILE, Problem, cloudformation, serverless};
use crate::model::manifest::{GuardsConfig, IamCredentialConfig, Manifest, ManifestError};
use crate::model::source::KeyIndex;

/// The local settings a project of another tool's format keeps beside it:
/// what AWS would generate or hold, and our local sections.
pub(super) const LOCAL_SETTINGS: &str = "appsync-local.yaml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LocalSettings {
    /// API key names (as the plugin names them) to their local values.
    #[serde(default)]
    api_keys: IndexMap<String, String>,
    #[serde(default)]
    iam_credentials: Vec<IamCredentialConfig>,
    #[serde(default)]
    guards: Option<GuardsConfig>,
    #[serde(default)]
    tables: Option<Json>,
    #[serde(default)]
    indexes: Option<Json>,
    #[serde(default)]
    seed: Option<Json>,
}

impl Loader {
    pub(super) fn parse_manifest(&mut self) -> Option<Manifest> {
        let manifest_path = self.dir.join(MANIFEST_FILE);
        if !manifest_path.exists()
            && let Some(file) = serverless::FILES
                .into_iter()
                .find(|file| self.dir.join(file).is_file())
        {
            return self.parse_serverless(file);
        }
        if !manifest_path.exists()
            && let Some(file) = cloudformation::FILES
                .into_iter()
                .find(|file| self.dir.join(file).is_file())
        {
            return self.parse_cloudformation(file);
        }
        self.manifest_text = match std::fs::read_to_string(&manifest_path) {
            Ok(t) => t,
            Err(e) => {
                self.file_problem(MANIFEST_FILE, format!("cannot read the manifest: {e}"));
                return None;
            }
        };
        self.manifest_keys = KeyIndex::parse(&self.manifest_text);
        let manifest = match Manifest::parse(&self.manifest_text, &self.manifest_keys) {
            Ok(m) => m,
            Err(errors) => {
                self.manifest_errors(errors);
                return None;
            }
        };

        Some(manifest)
    }

    pub(super) fn manifest_errors(&mut self, errors: Vec<ManifestError>) {
        for e in errors {
            let at = e.position.map(|p| (p.line, p.column));
            let problem = Problem::at(
                self.manifest_file,
                &self.manifest_text,
                at,
                e.key_path,
                e.kind.to_string(),
            );
            self.problems.push(problem);
        }
    }

    pub(super) fn manifest_problem(&mut self, path: &[&str], message: impl Into<String>) {
        let joined = path.join(".");
        // Where the key comes from: what another format made it from, or
        // the key itself under the manifest's root.
        let keys: Vec<String> = match self
            .manifest_origins
            .iter()
            .filter(|(prefix, _)| joined == *prefix || joined.starts_with(&format!("{prefix}.")))
            .max_by_key(|(prefix, _)| prefix.len())
        {
            Some((_, keys)) => keys.clone(),
            None => self
                .manifest_root
                .iter()
                .chain(path)
                .map(|key| (*key).to_owned())
                .collect(),
        };
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.problem_at_keys(&keys, joined, message);
    }

    /// A problem in the manifest's file at `keys` (a path there), reported
    /// under the key path `key_path`.
    pub(super) fn problem_at_keys(
        &mut self,
        keys: &[&str],
        key_path: String,
        message: impl Into<String>,
    ) {
        let at = self.manifest_keys.locate(keys).map(|p| (p.line, p.column));
        let problem = Problem::at(
            self.manifest_file,
            &self.manifest_text,
            at,
            Some(key_path),
            message,
        );
        self.problems.push(problem);
    }

    /// A project file's text, or an inline source of that name.
    pub(super) fn read_source(&self, path: &str) -> std::io::Result<String> {
        match self.inline_sources.get(path) {
            Some(text) => Ok(text.clone()),
            None => std::fs::read_to_string(self.dir.join(path)),
        }
    }

    /// `appsync-local.yaml` beside the project: API key values, IAM
    /// credentials and the local sections.
    pub(super) fn apply_local_settings(&mut self, manifest: &mut Manifest) {
        let Ok(text) = std::fs::read_to_string(self.dir.join(LOCAL_SETTINGS)) else {
            return;
        };
        let settings: LocalSettings = match serde_saphyr::from_str(&text) {
            Ok(settings) => settings,
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| (l.line() as usize, l.column() as usize));
                self.problems
                    .push(Problem::at(LOCAL_SETTINGS, &text, at, None, e.to_string()));
                return;
            }
        };
        for key in &mut manifest.api_keys {
            if let Some(value) = settings.api_keys.get(&key.name) {
                key.value = Some(value.clone());
            }
        }
        for name in settings.api_keys.keys() {
            if !manifest.api_keys.iter().any(|key| &key.name == name) {
                let at = KeyIndex::parse(&text)
                    .locate(&["apiKeys", name])
                    .map(|p| (p.line, p.column));
                self.problems.push(Problem::at(
                    LOCAL_SETTINGS,
                    &text,
                    at,
                    Some(format!("apiKeys.{name}")),
                    format!("the project has no API key named `{name}`"),
                ));
            }
        }
        manifest.iam_credentials.extend(settings.iam_credentials);
        if let Some(guards) = settings.guards {
            manifest.guards = guards;
        }
        for (ours, theirs) in [
            (&mut manifest.tables, settings.tables),
            (&mut manifest.indexes, settings.indexes),
            (&mut manifest.seed, settings.seed),
        ] {
            if theirs.is_some() {
                *ours = theirs;
            }
        }
    }
}
