//! GraphiQL works offline: its assets come from the server itself, and a
//! headless Chromium that cannot reach anything but loopback runs a query in
//! it, mints a Cognito token in the page's auth panel for another, and runs a
//! subscription over the real-time WebSocket until it is stopped. Needs
//! Debian's `chromium` and `chromium-driver` (`.ci/run` installs them);
//! without them the browser tests fail rather than skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use appsync_local::testing::TestServer;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

const PROJECT: &str = "tests/projects/basic";
/// Cognito user pools by default, API_KEY as well, and the local issuer.
const AUTH_PROJECT: &str = "tests/projects/auth_modes";
/// `onNote` subscriptions, fired by `putNote`, under the key `da2-realtime`.
const REALTIME_PROJECT: &str = "tests/projects/realtime";

/// How long the browser tests wait for anything.
const DEADLINE: Duration = Duration::from_secs(60);

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
    assert_eq!(paths.len(), 6, "five scripts and a style sheet: {paths:?}");

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
        // Only our own scripts' names carry no version.
        let ours = ["/graphiql/auth-panel.js", "/graphiql/realtime.js"];
        let expected_cache = if ours.contains(&path.as_str()) {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        assert_eq!(header("cache-control"), expected_cache, "{path}");
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

/// Runs `script` until the text it returns satisfies `done`, and returns
/// that text; `what` names it in errors.
async fn poll_text(
    client: &Client,
    script: &str,
    done: impl Fn(&str) -> bool,
    what: &str,
) -> Result<String, String> {
    let start = Instant::now();
    loop {
        let text = client
            .execute(script, Vec::new())
            .await
            .map_err(|err| format!("read {what}: {err}"))?;
        let text = text.as_str().unwrap_or_default().to_owned();
        if done(&text) {
            return Ok(text);
        }
        if start.elapsed() > DEADLINE {
            return Err(format!("no {what} after {DEADLINE:?}: {text}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens GraphiQL on `query` and waits until it has rendered.
async fn open_graphiql(client: &Client, base_url: &str, query: &str) -> Result<(), String> {
    let query: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    client
        .goto(&format!("{base_url}/?query={query}"))
        .await
        .map_err(|err| format!("open the page: {err}"))?;
    client
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(".graphiql-execute-button"))
        .await
        .map_err(|err| format!("GraphiQL did not render: {err}"))?;
    Ok(())
}

/// Clicks the run button, which stops the operation while one runs.
async fn click_run(client: &Client) -> Result<(), String> {
    client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .map_err(|err| format!("find the run button: {err}"))?
        .click()
        .await
        .map_err(|err| format!("click the run button: {err}"))
}

/// Runs the query in the editor and returns the result pane's text once it
/// contains `expected`.
async fn run_query(client: &Client, expected: &str) -> Result<String, String> {
    click_run(client).await?;
    poll_text(
        client,
        RESULT_TEXT,
        |text| text.contains(expected),
        "result",
    )
    .await
}

/// Opens GraphiQL on `{ __typename }`, runs it, and returns the result
/// pane's text once it shows `"__typename"`.
async fn run_typename_query(client: &Client, base_url: &str) -> Result<String, String> {
    open_graphiql(client, base_url, "{ __typename }").await?;
    run_query(client, "\"__typename\"").await
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
    assert!(urls.len() >= 7, "the page and its six assets: {urls:?}");
    for url in &urls {
        assert!(url.starts_with(&base), "not loaded from the server: {url}");
    }
}

/// The auth panel's identity and error texts, for polling and for messages.
const PANEL_TEXT: &str = "const text = (id) => { const node = document.getElementById(id); \
     return node ? node.textContent : '(no #' + id + ')'; }; \
     return 'identity: ' + text('auth-identity') + '\\nerror: ' + text('auth-error');";

/// The element with id `id`.
async fn find_id(client: &Client, id: &str) -> Result<Element, String> {
    client
        .find(Locator::Id(id))
        .await
        .map_err(|err| format!("find #{id}: {err}"))
}

/// Mints a Cognito token for `alice` in the Admin group through the panel,
/// and returns the panel's text once its identity shows her.
async fn mint_token_for_alice(client: &Client) -> Result<String, String> {
    // The options appear once the panel has read `GET /admin/auth`.
    client
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(
            "#auth-mode option[value='AMAZON_COGNITO_USER_POOLS']",
        ))
        .await
        .map_err(|err| format!("the panel did not load the modes: {err}"))?;
    find_id(client, "auth-mode")
        .await?
        .select_by_value("AMAZON_COGNITO_USER_POOLS")
        .await
        .map_err(|err| format!("select the Cognito mode: {err}"))?;
    for (id, text) in [("auth-sub", "alice"), ("auth-groups", "Admin")] {
        let input = find_id(client, id).await?;
        input
            .clear()
            .await
            .map_err(|err| format!("clear #{id}: {err}"))?;
        input
            .send_keys(text)
            .await
            .map_err(|err| format!("type into #{id}: {err}"))?;
    }
    find_id(client, "auth-mint")
        .await?
        .click()
        .await
        .map_err(|err| format!("click #auth-mint: {err}"))?;
    poll_text(
        client,
        PANEL_TEXT,
        |text| {
            let compact: String = text.split_whitespace().collect();
            compact.contains("\"sub\":\"alice\"") && compact.contains("Admin")
        },
        "identity for alice",
    )
    .await
}

#[tokio::test]
async fn the_auth_panel_mints_a_cognito_token_that_graphiql_sends() {
    let server = TestServer::start(AUTH_PROJECT).await.expect("server");
    let proxy_port = black_hole_proxy().await;
    let (_driver, webdriver) = chromedriver().await;
    let client = browser(&webdriver, proxy_port).await;

    let outcome = async {
        open_graphiql(&client, &server.base_url(), "{ me }").await?;
        let panel = mint_token_for_alice(&client).await?;
        let result = run_query(&client, "\"me\"").await?;
        Ok::<_, String>((panel, result))
    }
    .await;
    // Closing the session stops Chromium, whatever the outcome.
    client.close().await.expect("close the session");

    let (panel, result) = outcome.unwrap_or_else(|err| panic!("{err}"));
    assert!(panel.contains("Admin"), "{panel}");
    // `me` answers `$ctx.identity.sub`, and only under Cognito.
    assert!(result.contains("\"alice\""), "{result}");
}

/// Waits until the server holds `expected` subscriptions.
async fn wait_for_subscriptions(server: &TestServer, expected: usize) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let count = server.realtime().subscription_count();
        if count == expected {
            return Ok(());
        }
        if start.elapsed() > DEADLINE {
            return Err(format!(
                "{count} subscriptions rather than {expected} after {DEADLINE:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GraphiQL's own fetcher speaks no AppSync real-time protocol: the page's
/// `realtime.js` runs subscriptions, and the run button stops them.
#[tokio::test]
async fn graphiql_runs_a_subscription_until_it_is_stopped() {
    let server = TestServer::start(REALTIME_PROJECT).await.expect("server");
    let proxy_port = black_hole_proxy().await;
    let (_driver, webdriver) = chromedriver().await;
    let client = browser(&webdriver, proxy_port).await;

    let outcome = async {
        open_graphiql(
            &client,
            &server.base_url(),
            "subscription { onNote(id: \"browser\") { id text } }",
        )
        .await?;
        click_run(&client).await?;
        wait_for_subscriptions(&server, 1).await?;
        let published = reqwest::Client::new()
            .post(server.graphql_url())
            .header("x-api-key", "da2-realtime")
            .json(&json!({
                "query": "mutation { putNote(id: \"browser\", text: \"sent over HTTP\") { id text } }"
            }))
            .send()
            .await
            .map_err(|err| format!("send the mutation: {err}"))?
            .json::<serde_json::Value>()
            .await
            .map_err(|err| format!("read the mutation's answer: {err}"))?;
        let result = poll_text(
            &client,
            RESULT_TEXT,
            |text| text.contains("sent over HTTP"),
            "event",
        )
        .await
        .map_err(|err| format!("{err}\nthe mutation answered {published}"))?;
        click_run(&client).await?;
        wait_for_subscriptions(&server, 0).await?;
        Ok::<_, String>(result)
    }
    .await;
    // Closing the session stops Chromium, whatever the outcome.
    client.close().await.expect("close the session");

    let result = outcome.unwrap_or_else(|err| panic!("{err}"));
    assert!(result.contains("\"onNote\""), "{result}");
}
