//! `check` on broken projects: every problem is listed, with file, key path
//! and line. Each `tests/projects/broken_*` directory is one snapshot.

use std::path::PathBuf;

use appsync_local::loader::Project;

#[test]
fn broken_projects_list_every_problem() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/projects");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixture directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("broken_"))
        })
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "fixtures missing: {dirs:?}");
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let errors = match Project::load(&dir) {
            Ok(_) => panic!("{name} loaded but is broken"),
            Err(errors) => errors,
        };
        insta::assert_snapshot!(name, errors.to_string());
    }
}

#[test]
fn good_projects_load() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/projects");
    for name in ["basic", "features", "guards", "limits", "no_introspection"] {
        if let Err(errors) = Project::load(&root.join(name)) {
            panic!("{name}:\n{errors}");
        }
    }
}

#[test]
fn templates_over_appsync_size_limit_are_problems() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |path: &str, text: &str| {
        let full = dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(full, text).expect("write fixture");
    };
    write(
        "appsync.yaml",
        "name: big\ndataSources:\n  none:\n    type: NONE\nresolvers:\n  Query.hello:\n    dataSource: none\n",
    );
    write("schema.graphql", "type Query {\n  hello: String\n}\n");
    write(
        "resolvers/Query.hello.req.vtl",
        &"## padding\n".repeat(7000),
    );
    write("resolvers/Query.hello.res.vtl", "\"ok\"\n");
    let errors = match Project::load(dir.path()) {
        Ok(_) => panic!("a 77 KB template loaded"),
        Err(errors) => errors,
    };
    assert_eq!(
        errors.to_string(),
        "error: the template is 77000 bytes; AppSync allows at most 65536\n  --> resolvers/Query.hello.req.vtl\n\n1 problem found"
    );
}
