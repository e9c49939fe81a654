//! The GraphiQL page for people in a browser. GraphiQL, React and their CSS
//! are embedded in the binary and served under `/graphiql/`, so the page
//! works offline; the page prefills a valid API key.
//!
//! Above GraphiQL, an authorization panel (`auth-panel.js`) reads the API's
//! modes and keys from `GET /admin/auth`, lets the user pick an API key or
//! mint a Cognito or OIDC token through `POST /admin/token`, hands the chosen
//! headers to GraphiQL, and shows the identity `GET /admin/identity` resolves
//! for them. It starts on the default mode; until that mode has credentials
//! (a JWT mode before a token is minted), GraphiQL keeps the prefilled key.
//!
//! Subscriptions go through `realtime.js` over AppSync's real-time WebSocket
//! protocol on `/graphql/realtime`, which GraphiQL's own fetcher does not
//! speak; queries and mutations stay on HTTP.
//!
//! The GraphiQL, React and licence files in `assets/graphiql/` come from npm
//! through `scripts/update-graphiql.sh`; its pinned versions must match the
//! macros below, which name the files. `auth-panel.js` and `realtime.js` are
//! this project's own.

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
macro_rules! auth_panel_js {
    () => {
        "auth-panel.js"
    };
}
macro_rules! realtime_js {
    () => {
        "realtime.js"
    };
}

/// One embedded file, served at `/graphiql/{name}`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:expr, $content_type:expr) => {
        asset!($name, $content_type, CACHE_FOREVER)
    };
    ($name:expr, $content_type:expr, $cache_control:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            cache_control: $cache_control,
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
const ASSETS: [Asset; 9] = [
    asset!(graphiql_js!(), JAVASCRIPT),
    asset!(graphiql_css!(), "text/css; charset=utf-8"),
    asset!(react_js!(), JAVASCRIPT),
    asset!(react_dom_js!(), JAVASCRIPT),
    asset!(auth_panel_js!(), JAVASCRIPT, REVALIDATE),
    asset!(realtime_js!(), JAVASCRIPT, REVALIDATE),
    asset!("LICENSE.graphiql", TEXT),
    asset!("LICENSE.react", TEXT),
    asset!("LICENSE.react-dom", TEXT),
];

/// File names carry their versions, so a browser may keep them for good.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// Our own scripts' names carry no version and they change with the server,
/// so a browser asks for them again on every load.
const REVALIDATE: &str = "no-cache";

const PAGE: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>appsync-local · GraphiQL</title>
  <style>
    body { margin: 0; height: 100vh; display: flex; flex-direction: column; }
    #graphiql { flex: 1 1 0; min-height: 0; }
  </style>
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
  <script src="/graphiql/"#,
    auth_panel_js!(),
    r#""></script>
  <script src="/graphiql/"#,
    realtime_js!(),
    r#""></script>
</head>
<body>
  <div id="auth-panel"></div>
  <div id="graphiql">Loading GraphiQL…</div>
  <script>
    // The auth panel's headers: the headers editor shows them, and every
    // request carries them under whatever the editor holds.
    let headers = __HEADERS__;
    // `?query=` opens the editor on that query, as GraphiQL's own examples do.
    const query = new URLSearchParams(location.search).get('query') ?? undefined;
    const send = GraphiQL.createFetcher({ url: new URL('/graphql', location.href).href });
    // Subscriptions take AppSync's WebSocket protocol, with the same headers.
    const newFetcher = () => (params, options) => {
      const all = { ...headers, ...(options && options.headers) };
      return AppSyncLocalRealtime.isSubscription(params)
        ? AppSyncLocalRealtime.subscribe(params, all)
        : send(params, { ...options, headers: all });
    };
    let fetcher = newFetcher();
    const root = ReactDOM.createRoot(document.getElementById('graphiql'));
    // Synchronous, effects included: the headers editor holds the new
    // headers as soon as this returns.
    const render = () => ReactDOM.flushSync(() => root.render(
      React.createElement(GraphiQL, {
        fetcher,
        query,
        headers: JSON.stringify(headers, null, 2),
        shouldPersistHeaders: true,
      })
    ));
    render();
    window.AppSyncLocalAuthPanel?.start(document.getElementById('auth-panel'), headers, (next) => {
      headers = next;
      render();
      // Then, with the editor updated, a new fetcher: GraphiQL fetches the
      // schema again with the new headers alone.
      fetcher = newFetcher();
      render();
    });
  </script>
</body>
</html>
"#
);

pub async fn graphiql_page(State(shared): State<Shared>) -> Html<String> {
    let service = shared.service.current();
    let now = now_epoch_seconds();
    let key = service.auth().api_keys.iter().find(|key| key.is_live(now));
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
                (header::CACHE_CONTROL, asset.cache_control),
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

    /// The bootstrap script calls the panel and the real-time transport, so
    /// they must load first.
    #[test]
    fn the_auth_panel_loads_before_graphiql_starts() {
        let panel = PAGE
            .find(concat!("\"/graphiql/", auth_panel_js!(), "\""))
            .expect("the panel's script");
        let realtime = PAGE
            .find(concat!("\"/graphiql/", realtime_js!(), "\""))
            .expect("the real-time script");
        let bootstrap = PAGE.find("createRoot").expect("the bootstrap script");
        assert!(panel < bootstrap);
        assert!(realtime < bootstrap);
        assert_eq!(PAGE.matches("__HEADERS__").count(), 1);
    }
}
