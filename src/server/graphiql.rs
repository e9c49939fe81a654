//! The GraphiQL page for people in a browser. GraphiQL itself loads from a
//! CDN, so the binary stays small; the page prefills a valid API key.

use axum::extract::State;
use axum::response::Html;

use crate::server::auth::now_epoch_seconds;
use crate::server::graphql_http::Shared;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>appsync-local · GraphiQL</title>
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
  <script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script>
    const headers = __HEADERS__;
    const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', location.href).href, headers });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        headers: JSON.stringify(headers, null, 2),
        shouldPersistHeaders: true,
      })
    );
  </script>
</body>
</html>
"#;

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
