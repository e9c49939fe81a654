//! The Dockerfile and docker-compose.yml, checked without a Docker engine:
//! their command lines parse with the real CLI and agree with each other on
//! the port, the data volume and the healthcheck; the builder's toolchain
//! satisfies Cargo.toml's rust-version. Also the `healthcheck` command itself.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(file: &str) -> String {
    std::fs::read_to_string(root().join(file)).unwrap_or_else(|err| panic!("{file}: {err}"))
}

/// One Dockerfile instruction: keyword and arguments, continuation lines joined.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(part) = trimmed.strip_suffix('\\') {
            pending.push_str(part);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let (keyword, args) = pending.split_once(' ').unwrap_or((pending.as_str(), ""));
        out.push(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        });
        pending.clear();
    }
    out
}

/// The Dockerfile's stages, each as its `FROM` arguments and instructions.
fn stages(text: &str) -> Vec<(String, Vec<Instruction>)> {
    let mut stages: Vec<(String, Vec<Instruction>)> = Vec::new();
    for instruction in instructions(text) {
        if instruction.keyword == "FROM" {
            stages.push((instruction.args, Vec::new()));
        } else if let Some((_, body)) = stages.last_mut() {
            body.push(instruction);
        }
    }
    stages
}

fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|err| panic!("not an exec-form array: {args}: {err}"))
}

fn strings(value: &Json) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| item.to_string())
        })
        .collect()
}

/// What a `serve` command line resolves to under the real CLI definition.
#[derive(Debug, PartialEq)]
struct Serve {
    host: IpAddr,
    port: u16,
    data: Option<PathBuf>,
    project: PathBuf,
}

fn parse_serve(args: &[String]) -> Serve {
    let argv = std::iter::once("appsync-local".to_owned()).chain(args.iter().cloned());
    let matches = appsync_local::cli::command()
        .try_get_matches_from(argv)
        .unwrap_or_else(|err| panic!("{args:?} does not parse: {err}"));
    let Some(("serve", serve)) = matches.subcommand() else {
        panic!("{args:?} is not a serve command");
    };
    Serve {
        host: *serve.get_one::<IpAddr>("host").expect("host has a default"),
        port: *serve.get_one::<u16>("port").expect("port has a default"),
        data: serve.get_one::<PathBuf>("data").cloned(),
        project: serve
            .get_one::<PathBuf>("project")
            .cloned()
            .expect("project has a default"),
    }
}

/// The `--url` of a `healthcheck` command line, as port and path.
fn parse_healthcheck(args: &[String]) -> (u16, String) {
    let argv = std::iter::once("appsync-local".to_owned()).chain(args.iter().cloned());
    let matches = appsync_local::cli::command()
        .try_get_matches_from(argv)
        .unwrap_or_else(|err| panic!("{args:?} does not parse: {err}"));
    let Some(("healthcheck", check)) = matches.subcommand() else {
        panic!("{args:?} is not a healthcheck command");
    };
    let url = check.get_one::<String>("url").expect("url has a default");
    let rest = url.strip_prefix("http://").expect("plain HTTP");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let port = authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(80);
    (port, path.to_owned())
}

fn version(text: &str) -> (u32, u32) {
    let mut parts = text.split('.').map(|part| part.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn rust_version() -> (u32, u32) {
    let manifest = read("Cargo.toml");
    let line = manifest
        .lines()
        .find(|line| line.starts_with("rust-version"))
        .expect("Cargo.toml declares rust-version");
    version(line.split('"').nth(1).expect("quoted rust-version"))
}

fn compose_service() -> Json {
    let compose: Json = serde_norway::from_str(&read("docker-compose.yml")).expect("valid YAML");
    let services = compose["services"].as_object().expect("services");
    assert_eq!(services.len(), 1, "one service: the demo");
    services.values().next().cloned().expect("one service")
}

#[test]
fn builder_toolchain_satisfies_rust_version_and_builds_locked() {
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    assert_eq!(stages.len(), 2, "a builder and a runtime stage");
    let (from, body) = &stages[0];
    let image = from.split_whitespace().next().unwrap_or_default();
    let tag = image
        .strip_prefix("rust:")
        .expect("the official rust image");
    let toolchain = version(tag.split('-').next().unwrap_or_default());
    assert!(
        toolchain >= rust_version(),
        "builder {tag} is older than rust-version {:?}",
        rust_version()
    );
    assert!(
        body.iter()
            .any(|i| i.keyword == "RUN" && i.args.contains("cargo build --release --locked")),
        "the builder runs cargo build --release --locked"
    );
}

#[test]
fn builder_copies_every_declared_target_before_the_first_build() {
    // Cargo refuses a manifest whose [[bench]] or [[example]] file is missing,
    // even when it builds neither.
    let manifest = read("Cargo.toml");
    let mut needed: Vec<&str> = Vec::new();
    for (section, dir) in [("[[bench]]", "benches"), ("[[example]]", "examples")] {
        if manifest.lines().any(|line| line.trim() == section) {
            needed.push(dir);
        }
    }
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    let builder = &stages[0].1;
    let first_build = builder
        .iter()
        .position(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .expect("a cargo build");
    for dir in needed {
        assert!(
            builder[..first_build]
                .iter()
                .any(|i| i.keyword == "COPY" && i.args.split_whitespace().next() == Some(dir)),
            "{dir}/ is not copied before the first cargo build"
        );
    }
}

#[test]
fn runtime_stage_copies_files_that_exist_and_runs_unprivileged() {
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    for (_, body) in &stages {
        for copy in body.iter().filter(|i| i.keyword == "COPY") {
            if copy.args.starts_with("--from") {
                continue;
            }
            let words: Vec<&str> = copy.args.split_whitespace().collect();
            for source in &words[..words.len() - 1] {
                assert!(root().join(source).exists(), "COPY {source}: no such file");
            }
        }
    }
    let (from, runtime) = &stages[1];
    assert!(
        from.starts_with("debian:") && from.contains("slim"),
        "{from}"
    );
    let user = runtime
        .iter()
        .rfind(|i| i.keyword == "USER")
        .expect("the runtime stage sets USER");
    assert!(!matches!(user.args.as_str(), "root" | "0"), "{}", user.args);
}

#[test]
fn image_and_compose_agree_with_the_cli_on_port_volume_and_healthcheck() {
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    let runtime = &stages[1].1;
    let one = |keyword: &str| {
        let found: Vec<&Instruction> = runtime.iter().filter(|i| i.keyword == keyword).collect();
        assert_eq!(found.len(), 1, "one {keyword} in the runtime stage");
        found[0].args.clone()
    };
    let entrypoint = exec_form(&one("ENTRYPOINT"));
    assert_eq!(entrypoint, ["appsync-local"]);
    let image_serve = parse_serve(&exec_form(&one("CMD")));
    let expose: u16 = one("EXPOSE").parse().expect("EXPOSE a port number");
    let volume = one("VOLUME");
    let healthcheck = one("HEALTHCHECK");
    let healthcheck = healthcheck
        .split_once("CMD ")
        .map(|(_, command)| exec_form(command))
        .expect("HEALTHCHECK CMD [...]");
    assert_eq!(healthcheck[0], "appsync-local");

    assert!(
        image_serve.host.is_unspecified(),
        "reachable from outside the container"
    );
    assert_eq!(image_serve.port, expose);
    assert_eq!(image_serve.data.as_deref(), Some(Path::new(&volume)));
    assert_eq!(
        parse_healthcheck(&healthcheck[1..]),
        (expose, "/health".to_owned())
    );
    // The demo project is what the image copies to the project directory.
    let workdir = one("WORKDIR");
    assert_eq!(image_serve.project, Path::new(&workdir));
    assert!(
        runtime
            .iter()
            .any(|i| i.keyword == "COPY" && i.args.ends_with(&format!("{workdir}/"))),
        "the manifest is copied into {workdir}"
    );

    let service = compose_service();
    let compose_serve = parse_serve(&strings(&service["command"]));
    assert_eq!(
        compose_serve, image_serve,
        "compose runs what the image runs"
    );
    let ports = strings(&service["ports"]);
    assert_eq!(ports.len(), 1);
    let container_port: u16 = ports[0]
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("HOST:CONTAINER");
    assert_eq!(container_port, compose_serve.port);
    let volumes = strings(&service["volumes"]);
    let (name, target) = volumes[0].split_once(':').expect("NAME:PATH");
    assert_eq!(Some(Path::new(target)), compose_serve.data.as_deref());
    let compose: Json = serde_norway::from_str(&read("docker-compose.yml")).expect("valid YAML");
    assert!(
        compose["volumes"].get(name).is_some(),
        "{name} is a named volume"
    );
    let test = strings(&service["healthcheck"]["test"]);
    assert_eq!(test[..2], ["CMD", "appsync-local"]);
    assert_eq!(
        parse_healthcheck(&test[2..]),
        (compose_serve.port, "/health".to_owned())
    );
}

#[test]
fn dockerignore_keeps_build_output_and_data_out_of_the_context() {
    let ignore = read(".dockerignore");
    for entry in ["target/", ".git/", ".appsync-local/"] {
        assert!(ignore.lines().any(|line| line == entry), "{entry} missing");
    }
}

fn healthcheck(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(["healthcheck", "--url", url])
        .output()
        .expect("run appsync-local")
}

#[tokio::test]
async fn healthcheck_passes_on_a_healthy_server_and_fails_otherwise() {
    let server = appsync_local::testing::TestServer::start(root().join("tests/projects/basic"))
        .await
        .expect("server starts");
    let address = server.address();
    let ok = tokio::task::spawn_blocking(move || healthcheck(&format!("http://{address}/health")))
        .await
        .expect("joined");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let missing =
        tokio::task::spawn_blocking(move || healthcheck(&format!("http://{address}/nope")))
            .await
            .expect("joined");
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("HTTP 404"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let refused =
        tokio::task::spawn_blocking(move || healthcheck(&format!("http://{closed}/health")))
            .await
            .expect("joined");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("cannot connect"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
