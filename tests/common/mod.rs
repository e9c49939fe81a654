//! Shared by several test files: copies of projects, among them the demo
//! with a small seed, so tests exercise the real generator without loading
//! 70k items.

#![allow(dead_code)]

use std::path::Path;

/// The demo project (manifest, schema, templates) in `dir`, with the
/// generator asked for `flights` and `bookings`.
pub fn small_demo(dir: &Path, flights: usize, bookings: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("appsync.yaml")).expect("the demo manifest");
    let manifest = manifest
        .replace("flights: 20000", &format!("flights: {flights}"))
        .replace("bookings: 50000", &format!("bookings: {bookings}"));
    assert!(manifest.contains(&format!("flights: {flights}\n")));
    std::fs::write(dir.join("appsync.yaml"), manifest).expect("write the manifest");
    std::fs::copy(root.join("schema.graphql"), dir.join("schema.graphql")).expect("schema");
    copy_dir(&root.join("resolvers"), &dir.join("resolvers"));
}

/// Copies a directory tree (a project and its templates).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}
