//! `check` on broken projects: every problem is listed, with file, key path
//! and line. Each `tests/projects/broken_*` directory is one snapshot.

use std::path::PathBuf;

use appsync_local::project::Project;

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
    for name in ["basic", "features", "limits", "no_introspection"] {
        if let Err(errors) = Project::load(&root.join(name)) {
            panic!("{name}:\n{errors}");
        }
    }
}
