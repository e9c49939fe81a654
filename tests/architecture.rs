//! The invariants of ARCHITECTURE.md that the module structure alone does
//! not enforce, checked over the source tree.

use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !is_test_module(&path) {
                let text =
                    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The code before the file's `#[cfg(test)] mod tests`, if any, without
/// comment lines: unit tests may do what library code may not, and docs may
/// name any module.
fn library_part(text: &str) -> String {
    let code = text.find("#[cfg(test)]\nmod ").map_or(text, |i| &text[..i]);
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files that are test modules as a whole (`#[cfg(test)] mod x;`).
fn is_test_module(path: &Path) -> bool {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    name.ends_with("tests") || name.ends_with("fixtures")
}

fn relative(path: &Path) -> String {
    path.strip_prefix(src())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn assert_no_use(dir: &str, forbidden: &[&str]) {
    assert_no_use_except(dir, forbidden, "", forbidden);
}

/// Like [`assert_no_use`], with file `exception` held only to `its_rules`.
fn assert_no_use_except(dir: &str, forbidden: &[&str], exception: &str, its_rules: &[&str]) {
    let mut found = Vec::new();
    for (path, text) in sources(&src().join(dir)) {
        let forbidden = if relative(&path) == exception {
            its_rules
        } else {
            forbidden
        };
        for needle in forbidden {
            if library_part(&text).contains(needle) {
                found.push(format!("{} uses {needle}", relative(&path)));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_model_knows_nothing_of_execution_and_does_no_io() {
    assert_no_use(
        "model",
        &[
            "crate::execution",
            "crate::server",
            "crate::stores",
            "crate::datasource",
            "crate::loader",
            "crate::cache",
            "crate::vtl",
            "std::fs",
            "tokio",
        ],
    );
}

#[test]
fn runtimes_are_pure() {
    let impure = [
        "crate::execution",
        "crate::server",
        "crate::stores",
        "crate::datasource",
        "crate::loader",
        "crate::cache",
        "std::fs",
        "std::net",
        "tokio",
        "SystemTime::now",
        "Utc::now",
        "thread_rng",
        "rand::rng",
    ];
    // The host (`runtime/host.rs`) is where the real clock and generator are
    // read; every other part of a runtime goes through it.
    assert_no_use_except("runtime", &impure, "runtime/host.rs", &impure[..9]);
    assert_no_use("vtl", &impure);
    assert_no_use("js", &impure);
}

#[test]
fn graphql_error_bodies_are_shaped_in_one_place() {
    // OpenSearch's `_bulk` answer has an `errors` flag of its own.
    let allowed = ["execution/errors.rs", "opensearch/"];
    let mut found = Vec::new();
    for (path, text) in sources(&src()) {
        let name = relative(&path);
        if allowed.iter().any(|a| name.starts_with(a)) {
            continue;
        }
        if library_part(&text).contains("\"errors\"") {
            found.push(name);
        }
    }
    assert!(
        found.is_empty(),
        "GraphQL error bodies built outside execution/errors.rs: {found:?}"
    );
}

#[test]
fn no_source_file_is_over_a_thousand_lines() {
    // Data tables are long by nature.
    let data_tables = ["seed/airports.rs"];
    let mut found = Vec::new();
    for (path, text) in sources(&src()) {
        let name = relative(&path);
        let lines = text.lines().count();
        if lines > 1_000 && !data_tables.contains(&name.as_str()) {
            found.push(format!("{name}: {lines} lines"));
        }
    }
    assert!(found.is_empty(), "split by concern: {found:?}");
}

#[test]
fn library_errors_are_typed() {
    let mut found = Vec::new();
    for (path, text) in sources(&src()) {
        let name = relative(&path);
        // The CLI is the application edge, where anyhow lives.
        if name.starts_with("cli/") {
            continue;
        }
        let code: String = library_part(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = code.as_str();
        while let Some(i) = rest.find("Result<") {
            rest = &rest[i + "Result<".len()..];
            // The type's own angle brackets: find its closing one.
            let mut depth = 1;
            let mut end = 0;
            for (j, c) in rest.char_indices() {
                match c {
                    '<' => depth += 1,
                    '>' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let args = &rest[..end];
            if args.ends_with(", String") || args.ends_with(",String") {
                found.push(format!("{name}: Result<{args}>"));
            }
        }
    }
    assert!(found.is_empty(), "untyped errors: {found:#?}");
}

#[test]
fn only_the_server_the_cli_the_loader_and_the_stores_touch_files() {
    // The stores are `stores.rs` and the engines under it.
    let allowed = [
        "server/",
        "cli/",
        "loader/",
        "stores.rs",
        "dynamodb/",
        "opensearch/",
        "testing.rs",
        // The local token issuer keeps its signing key in the data directory.
        "auth/issuer.rs",
    ];
    let mut found = Vec::new();
    for (path, text) in sources(&src()) {
        let name = relative(&path);
        if allowed.iter().any(|a| name.starts_with(a)) {
            continue;
        }
        for needle in ["std::fs", "File::open", "File::create"] {
            if library_part(&text).contains(needle) {
                found.push(format!("{name} uses {needle}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn only_the_lambda_service_starts_processes_and_only_outbound_calls_out() {
    let rules: [(&[&str], &[&str]); 2] = [
        // Worker processes for the user's functions.
        (
            &["tokio::process", "process::Command"],
            &["lambda/", "cli/"],
        ),
        // One HTTP client for every outward call (the CLI's own client
        // talks to a local server).
        (
            &["hyper_util::client", "hyper_rustls"],
            &["outbound.rs", "cli/"],
        ),
    ];
    let mut found = Vec::new();
    for (path, text) in sources(&src()) {
        let name = relative(&path);
        for (needles, allowed) in rules {
            if allowed.iter().any(|a| name.starts_with(a)) {
                continue;
            }
            for needle in needles {
                if library_part(&text).contains(needle) {
                    found.push(format!("{name} uses {needle}"));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn subscription_filters_projection_and_protocol_are_pure() {
    for file in [
        "realtime/filter.rs",
        "realtime/projection.rs",
        "realtime/protocol.rs",
    ] {
        let text = fs::read_to_string(src().join(file)).expect(file);
        for needle in ["std::fs", "std::net", "tokio", "crate::server", "Utc::now"] {
            assert!(
                !library_part(&text).contains(needle),
                "{file} uses {needle}"
            );
        }
    }
}

/// The hub only queues text for connections: it never touches a socket or
/// a file, so a publication cannot wait on a client.
#[test]
fn the_subscription_hub_does_no_io() {
    let text = fs::read_to_string(src().join("realtime/hub.rs")).expect("hub.rs");
    for needle in [
        "std::fs",
        "std::net",
        "tokio::net",
        "tokio::io",
        "axum",
        "crate::server",
    ] {
        assert!(
            !library_part(&text).contains(needle),
            "hub.rs uses {needle}"
        );
    }
}
