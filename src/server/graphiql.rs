//! The GraphiQL page for people in a browser. GraphiQL, React and their CSS
//! are embedded in the binary and served under `/graphiql/`, so the page
//! works offline; the page prefills a valid API key.
//!
//! The files in `assets/graphiql/` come from npm through
//! `scripts/update-graphiql.sh`; its pinned versions must match the macros
//! below, which name the files.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::server::auth::now_epoch_seconds;
use crate::server::graphql_http::Shared;

// Macros rather than consts, because `include_bytes!` takes only literals.
macro_rules! graphiql_js {
    () => {
        "graphiql-4.1.2.min.js"
    };
}
macro_rules! graphiql_css {
    () => {
        "graphiql-4.1.2.min.css"
    };
}
macro_rules! react_js {
    () => {
        "react-18.3.1.production.min.js"
    };
}
macro_rules! react_dom_js {
    () => {
        "react-dom-18.3.1.production.min.js"
    };
}

/// One embedded file, served at `/graphiql/{name}`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:expr, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/graphiql/",
                $name
            )),
        }
    };
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The licences ship too: the binary redistributes the code they cover.
const ASSETS: [Asset; 7] = [
    asset!(graphiql_js!(), JAVASCRIPT),
    asset!(graphiql_css!(), "text/css; charset=utf-8"),
    asset!(react_js!(), JAVASCRIPT),
    asset!(react_dom_js!(), JAVASCRIPT),
    asset!("LICENSE.graphiql", TEXT),
    asset!("LICENSE.react", TEXT),
    asset!("LICENSE.react-dom", TEXT),
];

/// File names carry their versions, so a browser may keep them for good.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

const PAGE: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>appsync-local · GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="/graphiql/"#,
    graphiql_css!(),
    r#"">
  <script src="/graphiql/"#,
    react_js!(),
    r#""></script>
  <script src="/graphiql/"#,
    react_dom_js!(),
    r#""></script>
  <script src="/graphiql/"#,
    graphiql_js!(),
    r#""></script>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script>
    const headers = __HEADERS__;
    // `?query=` opens the editor on that query, as GraphiQL's own examples do.
    const query = new URLSearchParams(location.search).get('query') ?? undefined;
    const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', location.href).href, headers });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        query,
        headers: JSON.stringify(headers, null, 2),
        shouldPersistHeaders: true,
      })
    );
  </script>
</body>
</html>
"#
);

pub async fn graphiql_page(State(shared): State<Shared>) -> Html<String> {
    let service = shared.service.current();
    let now = now_epoch_seconds();
    let key = service
        .auth()
        .api_keys
        .iter()
        .find(|key| key.expires.is_none_or(|expires| now < expires));
    let headers = match key {
        Some(key) => serde_json::json!({"x-api-key": key.value}),
        None => serde_json::json!({}),
    };
    // `<` is escaped so a key can never close the script element.
    let headers = headers.to_string().replace('<', "\\u003c");
    Html(PAGE.replace("__HEADERS__", &headers))
}

/// `GET /graphiql/{file}`: one of the embedded assets, or 404.
pub async fn graphiql_asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, CACHE_FOREVER),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file the update script adds must be embedded, or the page would
    /// miss it; a stale name fails the build already.
    #[test]
    fn every_file_in_the_asset_folder_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/graphiql");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| !name.starts_with('.'))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<&str> = ASSETS.iter().map(|asset| asset.name).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn the_page_loads_every_script_and_style_from_the_server() {
        for asset in ASSETS.iter().filter(|asset| asset.content_type != TEXT) {
            assert!(
                PAGE.contains(&format!("\"/graphiql/{}\"", asset.name)),
                "{}",
                asset.name
            );
        }
        assert!(!PAGE.contains("http"), "the page names no other host");
    }
}
