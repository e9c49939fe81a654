//! GraphiQL works offline: its assets come from the server itself, and a
//! headless Chromium that cannot reach anything but loopback runs a query in
//! it. Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them); without them the browser test fails rather than skips.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use appsync_local::testing::TestServer;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

const PROJECT: &str = "tests/projects/basic";

/// The `src` and `href` values that point at the server's own files.
fn asset_paths(page: &str) -> Vec<String> {
    page.split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn page_loads_its_assets_from_the_server_only() {
    let server = TestServer::start(PROJECT).await.expect("server");
    // Without reqwest's own gzip, so the encoding header stays visible.
    let client = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client");
    let page = client
        .get(server.base_url())
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("page body");
    assert!(!page.contains("http"), "a URL in the page: {page}");
    let paths = asset_paths(&page);
    assert_eq!(paths.len(), 4, "three scripts and a style sheet: {paths:?}");

    for path in &paths {
        let response = client
            .get(format!("{}{path}", server.base_url()))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .expect("asset");
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let expected_type = if path.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(header("content-type").starts_with(expected_type), "{path}");
        assert_eq!(
            header("cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(header("content-encoding"), "gzip", "{path}");
        let gzipped = response.bytes().await.expect("asset body");
        let mut body = Vec::new();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_end(&mut body)
            .expect("gunzip");
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets")
            .join(path.trim_start_matches('/'));
        let expected = std::fs::read(&file).expect("asset file");
        assert!(body == expected, "{path} differs from {}", file.display());
    }

    for (path, status) in [
        ("/graphiql/LICENSE.graphiql", 200),
        ("/graphiql/nothing.js", 404),
    ] {
        let response = client
            .get(format!("{}{path}", server.base_url()))
            .send()
            .await
            .expect("response");
        assert_eq!(response.status(), status, "{path}");
    }
}

/// Finds a program on `PATH`, or fails the test with how to install it.
fn program(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on PATH: the GraphiQL browser test needs Debian's \
                 chromium and chromium-driver (`apt-get install chromium chromium-driver`; \
                 .ci/run installs them)"
            )
        })
}

/// Starts chromedriver on a free loopback port and returns it with its URL.
async fn chromedriver() -> (Child, String) {
    let mut child = Command::new(program("chromedriver"))
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    // It prints "ChromeDriver was started successfully on port N." when ready.
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("chromedriver output") {
            if let Some((_, port)) = line.split_once("successfully on port ") {
                return port.trim_end_matches('.').parse::<u16>().expect("port");
            }
        }
        panic!("chromedriver exited before it was ready");
    })
    .await
    .expect("chromedriver ready within 30 s");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://127.0.0.1:{port}"))
}

/// A proxy that answers nothing: Chromium sends it every request that is
/// not for loopback, so each one fails. It also gets Chromium's own
/// background traffic (updates, time), hence the page's requests are judged
/// from the page's resource timings rather than from what arrives here.
async fn black_hole_proxy() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { while let Ok((_stream, _)) = listener.accept().await {} });
    port
}

async fn browser(webdriver: &str, proxy_port: u16) -> Client {
    let args = [
        "--headless=new".to_owned(),
        // CI runs as root, where Chromium's sandbox cannot start.
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--window-size=1280,800".to_owned(),
        // No name resolves, and whatever skips resolution meets the proxy.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_owned(),
        format!("--proxy-server=http://127.0.0.1:{proxy_port}"),
        "--proxy-bypass-list=127.0.0.1".to_owned(),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": program("chromium"),
            "args": args,
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("an object literal")
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .expect("a Chromium session")
}

/// Text of the result pane, or of the whole page when it has none yet.
const RESULT_TEXT: &str = "const pane = document.querySelector('.graphiql-response'); \
     return pane ? pane.innerText : 'no result pane; page: ' + document.body.innerText;";

/// Opens GraphiQL on `{ __typename }`, runs it, and returns the result
/// pane's text once it shows `"__typename"`.
async fn run_typename_query(client: &Client, base_url: &str) -> Result<String, String> {
    let query: String = form_urlencoded::byte_serialize(b"{ __typename }").collect();
    client
        .goto(&format!("{base_url}/?query={query}"))
        .await
        .map_err(|err| format!("open the page: {err}"))?;
    let deadline = Duration::from_secs(60);
    client
        .wait()
        .at_most(deadline)
        .for_element(Locator::Css(".graphiql-execute-button"))
        .await
        .map_err(|err| format!("GraphiQL did not render: {err}"))?
        .click()
        .await
        .map_err(|err| format!("click the run button: {err}"))?;
    let start = Instant::now();
    loop {
        let text = client
            .execute(RESULT_TEXT, Vec::new())
            .await
            .map_err(|err| format!("read the result pane: {err}"))?;
        let text = text.as_str().unwrap_or_default().to_owned();
        if text.contains("\"__typename\"") {
            return Ok(text);
        }
        if start.elapsed() > deadline {
            return Err(format!("no result after {deadline:?}: {text}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// URLs of everything the page requested, as the page itself saw them;
/// Chromium lists failed requests too.
async fn loaded_urls(client: &Client) -> Result<Vec<String>, String> {
    let urls = client
        .execute(
            "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)];",
            Vec::new(),
        )
        .await
        .map_err(|err| format!("read the resource timings: {err}"))?;
    serde_json::from_value(urls).map_err(|err| err.to_string())
}

#[tokio::test]
async fn graphiql_runs_a_query_in_chromium_without_network() {
    let server = TestServer::start(PROJECT).await.expect("server");
    let proxy_port = black_hole_proxy().await;
    let (_driver, webdriver) = chromedriver().await;
    let client = browser(&webdriver, proxy_port).await;

    let result = run_typename_query(&client, &server.base_url()).await;
    let urls = loaded_urls(&client).await;
    // Closing the session stops Chromium, whatever the outcome.
    client.close().await.expect("close the session");

    let result = result.unwrap_or_else(|err| panic!("{err}"));
    // The page sent the API key, or the answer would be an error.
    assert!(result.contains("\"Query\""), "{result}");
    let urls = urls.unwrap_or_else(|err| panic!("{err}"));
    let base = format!("{}/", server.base_url());
    assert!(urls.len() >= 5, "the page and its four assets: {urls:?}");
    for url in &urls {
        assert!(url.starts_with(&base), "not loaded from the server: {url}");
    }
}
