//! Executor overhead for a trivial NONE query, without HTTP.
//! `cargo bench --bench execution`.

use std::path::PathBuf;

use appsync_local::graphql::{GraphQLRequest, GraphQLService, RequestContext};
use appsync_local::loader::Project;
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/projects/basic");
    let api = match Project::load(&dir) {
        Ok(api) => api,
        Err(e) => panic!("{e}"),
    };
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    };
    let query = "{ getPost(id: \"1\") { id title author { name } } }";
    c.bench_function("none_unit_resolver", |b| {
        b.iter(|| {
            let request = GraphQLRequest {
                query: query.to_owned(),
                ..Default::default()
            };
            rt.block_on(api.execute(request, RequestContext::default()))
        })
    });
    c.bench_function("project_load", |b| b.iter(|| Project::load(&dir).is_ok()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
