//! Finding and reading the project's manifest: `appsync.yaml`, or the
//! `appSync:` block of a serverless.yml (`serverless.rs`).

use super::{Loader, MANIFEST_FILE, Problem, cloudformation, serverless};
use crate::model::manifest::{Manifest, ManifestError};
use crate::model::source::{KeyIndex, line_of};

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
            self.problems.push(Problem {
                file: self.manifest_file.to_owned(),
                line: e.position.map(|p| p.line),
                column: e.position.map(|p| p.column),
                snippet: e
                    .position
                    .and_then(|p| line_of(&self.manifest_text, p.line)),
                key_path: e.key_path,
                message: e.kind.to_string(),
            });
        }
    }

    pub(super) fn manifest_problem(&mut self, path: &[&str], message: impl Into<String>) {
        let mut full: Vec<&str> = self.manifest_root.to_vec();
        full.extend_from_slice(path);
        let joined = path.join(".");
        let origin = self
            .manifest_origins
            .iter()
            .filter(|(prefix, _)| joined == *prefix || joined.starts_with(&format!("{prefix}.")))
            .max_by_key(|(prefix, _)| prefix.len());
        let pos = match origin {
            Some((_, keys)) => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                self.manifest_keys.locate(&keys)
            }
            None => self.manifest_keys.locate(&full),
        };
        self.problems.push(Problem {
            file: self.manifest_file.to_owned(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            key_path: Some(path.join(".")),
            message: message.into(),
            snippet: pos.and_then(|p| line_of(&self.manifest_text, p.line)),
        });
    }

    /// A project file's text, or an inline source of that name.
    pub(super) fn read_source(&self, path: &str) -> std::io::Result<String> {
        match self.inline_sources.get(path) {
            Some(text) => Ok(text.clone()),
            None => std::fs::read_to_string(self.dir.join(path)),
        }
    }
}
