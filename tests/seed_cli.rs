//! `appsync-local seed` and `reset` as processes: offline on a data
//! directory, and through a running server's admin API.

mod common;

use std::process::{Command, Output};

use appsync_local::testing::TestServer;
use serde_json::{Value as Json, json};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appsync-local"))
        .args(args)
        .output()
        .expect("run appsync-local")
}

fn stdout_json(output: &Output) -> Json {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn seed_and_reset_work_offline_on_a_data_directory() {
    let project = tempfile::tempdir().expect("temp dir");
    common::small_demo(project.path(), 40, 60);
    let data = tempfile::tempdir().expect("temp dir");
    let (p, d) = (
        project.path().to_str().expect("utf-8"),
        data.path().to_str().expect("utf-8"),
    );
    let seeded = stdout_json(&run(&["seed", "--project", p, "--data", d]));
    assert_eq!(seeded, json!({"seeded": {"Bookings": 60, "Flights": 40}}));
    // Seeding again replaces the same items: still 40 and 60.
    let reset = stdout_json(&run(&["reset", "--project", p, "--data", d]));
    assert_eq!(
        reset,
        json!({"cleared": {"Bookings": 60, "Flights": 40}, "seeded": {"Bookings": 60, "Flights": 40}})
    );
    let emptied = stdout_json(&run(&["reset", "--no-seed", "--project", p, "--data", d]));
    assert_eq!(emptied["seeded"], Json::Null);
    // Emptied on purpose: a server starting on it does not seed again.
    let again = stdout_json(&run(&["reset", "--no-seed", "--project", p, "--data", d]));
    assert_eq!(again["cleared"], json!({"Bookings": 0, "Flights": 0}));
}

#[tokio::test]
async fn seed_and_reset_go_through_a_running_server() {
    let project = tempfile::tempdir().expect("temp dir");
    common::small_demo(project.path(), 10, 15);
    let server = common::start_with(TestServer::builder(project.path()).seed(false)).await;
    let url = server.base_url();
    let cli = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args)
        })
    };
    let seeded = cli(vec!["seed".into(), "--url".into(), url.clone()])
        .await
        .expect("joined");
    assert_eq!(
        stdout_json(&seeded),
        json!({"seeded": {"Bookings": 15, "Flights": 10}})
    );
    let reset = cli(vec![
        "reset".into(),
        "--no-seed".into(),
        "--url".into(),
        url.clone(),
    ])
    .await
    .expect("joined");
    assert_eq!(
        stdout_json(&reset),
        json!({"cleared": {"Bookings": 15, "Flights": 10}, "seeded": null})
    );

    let orders = common::start("orders").await;
    let failed = cli(vec!["seed".into(), "--url".into(), orders.base_url()])
        .await
        .expect("joined");
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("HTTP 400") && stderr.contains("no seed"),
        "{stderr}"
    );
}

#[test]
fn url_and_offline_flags_exclude_each_other() {
    let output = run(&["reset", "--url", "http://127.0.0.1:1", "--data", "x"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be used with"));
}
