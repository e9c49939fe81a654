//! The REST paths, matched with `matchit` (the router axum is built on).
//!
//! HTTP (`rest.rs`) and the data source both reach the engine through
//! [`Engine::handle`](crate::opensearch::Engine::handle) and its siblings, so one table
//! serves both. A path selects an [`Endpoint`]; the method is checked by the handler
//! dispatch, as several endpoints answer more than one method.

use std::sync::LazyLock;

use percent_encoding::percent_decode_str;

/// What a path asks for; the index, type and id come with it in [`Route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/`: the cluster information clients read the version from.
    Root,
    /// `/_bulk`, `/{index}/_bulk`.
    Bulk,
    /// `/_refresh`, `/{index}/_refresh`.
    Refresh,
    /// `/_search`, `/{index}/_search`, `/{index}/{type}/_search`.
    Search,
    /// `/_count`, `/{index}/_count`, `/{index}/{type}/_count`.
    Count,
    /// `/{index}`: create, read, probe or delete an index.
    Index,
    /// `/{index}/_mapping`.
    Mapping,
    /// `/{index}/_doc`: index a document under a generated id.
    NewDocument,
    /// `/{index}/_doc/{id}`.
    Document,
    /// `/{index}/_create/{id}`.
    Create,
    /// `/{index}/_source/{id}`.
    Source,
    /// `/{index}/_update/{id}`.
    Update,
    /// `/{index}/_mget`.
    Mget,
    /// `/{index}/_delete_by_query`.
    DeleteByQuery,
    /// `/{index}/{type}/{id}`: ES 6 typed paths that AppSync's older examples still use.
    TypedDocument,
}

/// A matched path with its decoded parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub endpoint: Endpoint,
    pub index: Option<String>,
    pub doc_type: Option<String>,
    pub id: Option<String>,
}

const ROUTES: &[(&str, Endpoint)] = &[
    ("/", Endpoint::Root),
    ("/_bulk", Endpoint::Bulk),
    ("/_refresh", Endpoint::Refresh),
    ("/_search", Endpoint::Search),
    ("/_count", Endpoint::Count),
    ("/{index}", Endpoint::Index),
    ("/{index}/_bulk", Endpoint::Bulk),
    ("/{index}/_refresh", Endpoint::Refresh),
    ("/{index}/_search", Endpoint::Search),
    ("/{index}/{type}/_search", Endpoint::Search),
    ("/{index}/_count", Endpoint::Count),
    ("/{index}/{type}/_count", Endpoint::Count),
    ("/{index}/_mapping", Endpoint::Mapping),
    ("/{index}/_doc", Endpoint::NewDocument),
    ("/{index}/_doc/{id}", Endpoint::Document),
    ("/{index}/_create/{id}", Endpoint::Create),
    ("/{index}/_source/{id}", Endpoint::Source),
    ("/{index}/_update/{id}", Endpoint::Update),
    ("/{index}/_mget", Endpoint::Mget),
    ("/{index}/_delete_by_query", Endpoint::DeleteByQuery),
    ("/{index}/{type}/{id}", Endpoint::TypedDocument),
];

static ROUTER: LazyLock<matchit::Router<Endpoint>> = LazyLock::new(|| {
    let mut router = matchit::Router::new();
    for (path, endpoint) in ROUTES {
        // The table is constant, and `routes_are_unambiguous` inserts it in a test.
        router
            .insert(*path, *endpoint)
            .unwrap_or_else(|e| panic!("route {path}: {e}"));
    }
    router
});

/// Matches a path (without its query string). Empty segments are ignored, as OpenSearch
/// ignores a trailing or doubled `/`. Parameters are matched before they are
/// percent-decoded, so an id holding `%2F` stays one segment.
pub(crate) fn resolve(path: &str) -> Option<Route> {
    let normalized = format!(
        "/{}",
        path.split('/')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/")
    );
    let matched = ROUTER.at(&normalized).ok()?;
    let param = |name: &str| {
        matched
            .params
            .get(name)
            .map(|raw| percent_decode_str(raw).decode_utf8_lossy().into_owned())
    };
    Some(Route {
        endpoint: *matched.value,
        index: param("index"),
        doc_type: param("type"),
        id: param("id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Option<(Endpoint, Option<String>, Option<String>)> {
        resolve(path).map(|r| (r.endpoint, r.index, r.id))
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn routes_are_unambiguous() {
        let mut router = matchit::Router::new();
        for (path, endpoint) in ROUTES {
            assert!(router.insert(*path, *endpoint).is_ok(), "{path}");
        }
    }

    #[test]
    fn reserved_names_win_over_parameters() {
        assert_eq!(route(""), Some((Endpoint::Root, None, None)));
        assert_eq!(route("/"), Some((Endpoint::Root, None, None)));
        assert_eq!(route("/_bulk"), Some((Endpoint::Bulk, None, None)));
        assert_eq!(
            route("/orders/_bulk/"),
            Some((Endpoint::Bulk, some("orders"), None))
        );
        assert_eq!(
            route("/orders/_doc/1"),
            Some((Endpoint::Document, some("orders"), some("1")))
        );
        assert_eq!(
            route("/post/doc/_search"),
            Some((Endpoint::Search, some("post"), None))
        );
        assert_eq!(
            route("/post/doc/1"),
            Some((Endpoint::TypedDocument, some("post"), some("1")))
        );
        // A name that only starts like a reserved one is an index.
        assert_eq!(
            route("/_bulky"),
            Some((Endpoint::Index, some("_bulky"), None))
        );
        assert_eq!(route("/orders/_frobnicate"), None);
        assert_eq!(route("/a/b/c/d"), None);
    }

    #[test]
    fn parameters_are_percent_decoded_after_matching() {
        assert_eq!(
            route("//orders//_doc/weird%2Fid%20x"),
            Some((Endpoint::Document, some("orders"), some("weird/id x")))
        );
        // An escape at the very end decodes too; a lone `%` stays as it is.
        assert_eq!(
            route("/orders/_doc/a%41"),
            Some((Endpoint::Document, some("orders"), some("aA")))
        );
        assert_eq!(
            route("/orders/_doc/100%"),
            Some((Endpoint::Document, some("orders"), some("100%")))
        );
    }
}
