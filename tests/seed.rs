//! Seed data and the test harness, used as users would: the generated demo
//! data on first start and after restarts, the admin routes over HTTP (with
//! bad input), and `TestServer`'s reset, seed and fixtures. The demo runs
//! with a small seed: the generator is the real one, the counts are not.

mod common;

use appsync_local::seed::FixtureFormat;
use appsync_local::testing::TestServer;
use common::Client;
use serde_json::json;

#[tokio::test]
async fn first_start_seeds_once_and_restarts_keep_the_data() {
    let project = tempfile::tempdir().expect("temp dir");
    common::small_demo(project.path(), 300, 700);
    let data = tempfile::tempdir().expect("temp dir");
    let start = || {
        TestServer::builder(project.path())
            .data_dir(data.path())
            .start()
    };

    let server = Client::new(start().await.expect("first start"));
    assert_eq!(server.count("Flights").await, 300);
    assert_eq!(server.count("Bookings").await, 700);
    assert_eq!(server.search_total("flights").await, 300);
    assert_eq!(server.search_total("bookings").await, 700);
    // Bookings are readable by their customer and by Admins.
    let admin = server.as_user("C0001").groups(["Admin"]);
    let first = server.query_as(&admin, r#"{ getBooking(id: "BK000001") { id customer bookingDescription outboundFlight { id arrivalCity } } }"#, json!({})).await;
    let booking = &first["data"]["getBooking"];
    let city = booking["outboundFlight"]["arrivalCity"]
        .as_str()
        .expect("a city");
    assert!(
        booking["bookingDescription"]
            .as_str()
            .is_some_and(|d| d.contains(city)),
        "{first}"
    );
    // The user's changes after seeding.
    server
        .dynamodb_ok(
            "DeleteItem",
            json!({"TableName": "Bookings", "Key": {"id": {"S": "BK000001"}}}),
        )
        .await;
    drop(server);

    let server = Client::new(start().await.expect("restart"));
    assert_eq!(server.count("Bookings").await, 699, "not reseeded");
    assert_eq!(server.count("Flights").await, 300, "not duplicated");
    assert_eq!(server.search_total("bookings").await, 699);
    let marker = std::fs::read_to_string(data.path().join("seed.json")).expect("marker");
    assert!(marker.contains(r#""state":"done""#), "{marker}");
    drop(server);

    // A seed cut short (the marker still says loading) is done again.
    std::fs::write(data.path().join("seed.json"), r#"{"state":"loading"}"#).expect("marker");
    let server = Client::new(start().await.expect("after a crash"));
    assert_eq!(server.count("Bookings").await, 700);
    assert_eq!(server.search_total("bookings").await, 700);
}

#[tokio::test]
async fn an_existing_data_dir_without_marker_is_left_alone() {
    let project = tempfile::tempdir().expect("temp dir");
    common::small_demo(project.path(), 20, 10);
    let data = tempfile::tempdir().expect("temp dir");
    let server = TestServer::builder(project.path())
        .data_dir(data.path())
        .seed(false)
        .start()
        .await
        .expect("unseeded start");
    server
        .load_fixture(r#"{"Flights": [{"id": "MINE", "departureAirportCode": "AAA"}]}"#)
        .await
        .expect("fixture");
    drop(server);
    let server =
        common::start_with(TestServer::builder(project.path()).data_dir(data.path())).await;
    assert_eq!(server.count("Flights").await, 1, "the user's data stays");
    assert_eq!(server.count("Bookings").await, 0);
}

#[tokio::test]
async fn admin_reset_reseeds_and_never_serves_stale_cached_results() {
    let project = tempfile::tempdir().expect("temp dir");
    common::small_demo(project.path(), 30, 40);
    let server = common::start_at(project.path()).await;
    // getFlight is cached per id for 60 s.
    let query = r#"{ getFlight(id: "FL00001") { id seatCapacity } }"#;
    let seeded = server.query(query).await;
    assert_eq!(seeded["data"]["getFlight"]["id"], "FL00001", "{seeded}");

    let (status, body) = server.admin("/admin/reset?seed=false", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"cleared": {"Bookings": 40, "Flights": 30}, "seeded": null})
    );
    assert_eq!(
        server.query(query).await,
        json!({"data": {"getFlight": null}})
    );
    assert_eq!(server.search_total("bookings").await, 0);

    let (status, body) = server.admin("/admin/seed", "").await;
    assert_eq!(
        (status, body),
        (200, json!({"seeded": {"Bookings": 40, "Flights": 30}}))
    );
    assert_eq!(server.query(query).await, seeded, "the same data again");

    let (status, body) = server.admin("/admin/reset", "").await;
    assert_eq!(status, 200);
    assert_eq!(body["seeded"], json!({"Bookings": 40, "Flights": 30}));
    assert_eq!(server.search_total("flights").await, 30);

    let (status, body) = server.admin("/admin/reset?seed=maybe", "").await;
    assert_eq!(status, 400);
    assert_eq!(body["errorType"], "BadRequestException");
    let (status, body) = server.admin("/admin/reset?sed=false", "").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("`sed`")),
        "{body}"
    );
}

#[tokio::test]
async fn admin_fixtures_write_through_to_the_indexes_in_either_format() {
    let server = common::start("orders").await;
    let url = "/admin/fixtures";
    let plain = json!({"Orders": [
        {"id": "o1", "customer": "c1", "createdAt": "2026-01-01T00:00:00Z", "status": "NEW", "orderDescription": "blue bicycle with a basket"},
        {"id": "o2", "customer": "c1", "createdAt": "2026-01-02T00:00:00Z", "status": "NEW", "orderDescription": "red kite"}
    ]});
    let (status, body) = server.admin(url, &plain.to_string()).await;
    assert_eq!((status, body), (200, json!({"loaded": {"Orders": 2}})));
    let typed = json!({"Orders": [
        {"id": {"S": "o3"}, "customer": {"S": "c2"}, "createdAt": {"S": "2026-01-03T00:00:00Z"}, "status": {"S": "NEW"}, "orderDescription": {"S": "green bicycle bell"}}
    ]});
    let (status, body) = server
        .admin(&format!("{url}?format=dynamodb"), &typed.to_string())
        .await;
    assert_eq!((status, body), (200, json!({"loaded": {"Orders": 1}})));
    assert_eq!(server.count("Orders").await, 3);
    let hits = server
        .opensearch_get("/orders/_search?q=orderDescription:bicycle")
        .await;
    assert_eq!(hits["hits"]["total"]["value"], 2, "{hits}");

    // Bad input: a clear 4xx, and nothing written.
    let cases = [
        ("", "not valid JSON", 400, "BadRequestException"),
        (
            "[1, 2]",
            "a fixture is a JSON object",
            400,
            "BadRequestException",
        ),
        (
            r#"{"Orders": {"id": "x"}}"#,
            "Orders: expected an array",
            400,
            "BadRequestException",
        ),
        (
            r#"{"Nope": [{"id": "x"}]}"#,
            "table Nope does not exist",
            404,
            "ResourceNotFoundException",
        ),
        (
            r#"{"Orders": [{"id": "o9"}, {"customer": "c9"}]}"#,
            "Missing the key id",
            400,
            "BadRequestException",
        ),
        (
            r#"{"Orders": [{"id": "o9"}, {"id": "o9"}]}"#,
            "duplicates",
            400,
            "BadRequestException",
        ),
    ];
    for (body, message, code, error_type) in cases {
        let (status, answer) = server.admin(url, body).await;
        assert_eq!(status, code, "{body}: {answer}");
        assert_eq!(answer["errorType"], error_type, "{body}: {answer}");
        let text = answer["message"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{body}: {text}");
    }
    let (status, answer) = server
        .admin(&format!("{url}?format=dynamodb"), &plain.to_string())
        .await;
    assert_eq!(status, 400, "plain items are not DynamoDB JSON: {answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Orders[0]")),
        "{answer}"
    );
    let (status, _) = server.admin(&format!("{url}?format=xml"), "{}").await;
    assert_eq!(status, 400);
    // Past the 64 MiB limit: the same JSON error shape, not a plain-text 413.
    let huge = format!(
        r#"{{"Orders": [{{"id": "big", "blob": "{}"}}]}}"#,
        "x".repeat(65 << 20)
    );
    let (status, answer) = server.admin(url, &huge).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["errorType"], "PayloadTooLargeException", "{answer}");
    assert_eq!(server.count("Orders").await, 3, "no partial write");

    // The orders project has no seed.
    let (status, answer) = server.admin("/admin/seed", "").await;
    assert_eq!(status, 400);
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("no seed")),
        "{answer}"
    );
}

#[tokio::test]
async fn the_harness_resets_seeds_and_loads_fixtures() {
    let project = tempfile::tempdir().expect("temp dir");
    common::small_demo(project.path(), 12, 20);
    let server = common::start_with(
        TestServer::builder(project.path())
            .seed(false)
            .temp_data_dir(),
    )
    .await;
    assert_eq!(server.count("Flights").await, 0, "seed(false) starts empty");
    let seeded = server.seed().await.expect("seed");
    assert_eq!(seeded.get("Flights"), Some(&12));
    assert_eq!(server.count("Bookings").await, 20);

    let loaded = server
        .load_fixture_as(
            r#"{"Flights": [{"id": {"S": "T1"}, "description": {"S": "Test flight over the fjords"}}]}"#,
            FixtureFormat::DynamoDb,
        )
        .await
        .expect("fixture");
    assert_eq!(loaded.get("Flights"), Some(&1));
    let found = server
        .query(r#"{ searchFlights(text: "fjords", limit: 1) { id } }"#)
        .await;
    assert_eq!(found, json!({"data": {"searchFlights": [{"id": "T1"}]}}));
    assert!(server.load_fixture(r#"{"Flights": [{}]}"#).await.is_err());

    let report = server.reset().await.expect("reset");
    assert_eq!(report.cleared.get("Flights"), Some(&13));
    assert_eq!(server.count("Flights").await, 12, "reseeded");
    server.clear().await.expect("clear");
    assert_eq!(server.count("Flights").await, 0);
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn seed_problems_point_at_the_manifest() {
    let project = tempfile::tempdir().expect("temp dir");
    common::small_demo(project.path(), 10, 10);
    let manifest = std::fs::read_to_string(project.path().join("appsync.yaml")).expect("manifest");
    let manifest = manifest.replace("generator: flight-catalog", "generator: airline");
    std::fs::write(project.path().join("appsync.yaml"), manifest).expect("write");
    let Err(err) = TestServer::start(project.path()).await else {
        panic!("a bad generator loads");
    };
    let text = err.to_string();
    assert!(text.contains("unknown generator \"airline\""), "{text}");
    assert!(text.contains("(at `seed.generator`)"), "{text}");
    assert!(text.contains("appsync.yaml:"), "{text}");

    let orders = tempfile::tempdir().expect("temp dir");
    for file in ["appsync.yaml", "schema.graphql"] {
        std::fs::copy(
            common::project("orders").join(file),
            orders.path().join(file),
        )
        .expect("copy");
    }
    let manifest = std::fs::read_to_string(orders.path().join("appsync.yaml")).expect("manifest");
    std::fs::write(
        orders.path().join("appsync.yaml"),
        format!("{manifest}seed:\n  Invoices: seed/invoices.json\n"),
    )
    .expect("write");
    let Err(err) = TestServer::start(orders.path()).await else {
        panic!("a seed of an undeclared table loads");
    };
    assert!(
        err.to_string().contains("which `tables` does not declare"),
        "{err}"
    );
}
