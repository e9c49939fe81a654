//! The flight catalog demo (the project at the repo root, and its
//! JavaScript twin in `examples/flight-catalog-js`) against the real server,
//! used the way a client would: every operation, caching and its eviction,
//! the depth limit on the Flight.bookings cycle, pagination, full-text search,
//! booking under concurrency, and who may do what.
//!
//! As in AWS's serverless-airline sample, customers call with Cognito user
//! pool tokens (the default mode) whose `sub` is their customer id, named as
//! the seed names them (`C0001`..); the `Admin` group reads every customer's
//! bookings; the API key reaches only the public catalogue.
//!
//! Tests never rely on seed data: each writes the flights and bookings it
//! needs through the DynamoDB API (airport codes and words no seed uses) or
//! through the mutations, and reads only those back.

mod common;

use std::collections::HashSet;
use std::ops::Deref;

use appsync_local::testing::{TestServer, User};
use async_graphql::futures_util::future::join_all;
use common::ws::{Auth, Ws, token_header};
use serde_json::{Map, Value as Json, json};

/// The demo project's client, with helpers for its tables and mutations.
struct Demo(common::Client);

/// The VTL demo (the repo root) and the same API in JavaScript.
const VTL: &str = env!("CARGO_MANIFEST_DIR");
const JS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/flight-catalog-js");

/// The one place the demo server is started: unseeded, since every test
/// writes its own data (and seeding 70k items per test would be slow).
async fn demo(project: &str) -> Demo {
    let builder = TestServer::builder(project).seed(false);
    Demo(common::start_with(builder).await)
}

/// Each scenario runs against both projects, proving the JavaScript
/// resolvers answer exactly as the VTL templates do.
macro_rules! on_both_demos {
    ($($name:ident),* $(,)?) => {
        mod vtl {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::demo(super::VTL).await).await
            })*
        }
        mod js {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::demo(super::JS).await).await
            })*
        }
    };
}

on_both_demos!(
    ping_answers_pong,
    the_api_key_answers_the_public_catalogue_only,
    the_api_key_cannot_read_a_booking,
    a_booking_is_read_by_its_customer_and_admins,
    only_its_customer_cancels_a_booking,
    create_booking_records_the_callers_sub,
    get_loyalty_is_the_callers_own_by_default,
    search_bookings_finds_the_callers_own,
    create_booking_takes_a_seat_and_writes_the_booking,
    booking_description_comes_from_the_search_index,
    get_flight_is_cached_per_id_and_bookings_evict_it,
    cancel_booking_releases_the_seat,
    booking_errors_are_clear,
    concurrent_bookings_never_overbook,
    get_flight_by_schedule_pages_through_a_gsi,
    flight_bookings_are_newest_first_and_paginated,
    query_depth_limit_cuts_the_flight_bookings_cycle,
    search_bookings_finds_highlights_and_pages,
    search_flights_reads_the_flights_index,
    loyalty_levels_follow_confirmed_bookings,
    a_booking_is_charged_and_emits_booking_created,
    a_declined_payment_books_nothing,
    flight_weather_is_batched_per_25_flights,
    subscriptions_follow_bookings_and_cancellations,
);

impl Deref for Demo {
    type Target = common::Client;

    fn deref(&self) -> &common::Client {
        &self.0
    }
}

/// A staff member's customer id: in the `Admin` group, and never the
/// customer of a test's bookings.
const ADMIN: &str = "C0042";

impl Demo {
    /// A signed-in customer: a token whose `sub` is the customer id.
    fn customer(&self, id: &str) -> User {
        self.as_user(id)
    }

    /// A signed-in member of the `Admin` group.
    fn admin(&self) -> User {
        self.as_user(ADMIN).groups(["Admin"])
    }

    /// The response's `data` for `user`, failing the test on any error.
    async fn data_as(&self, user: &User, query: &str, variables: Json) -> Json {
        let response = self.query_as(user, query, variables).await;
        assert!(response.get("errors").is_none(), "{response:#}");
        response["data"].clone()
    }

    /// Writes plain JSON items with BatchWriteItem, 25 at a time.
    async fn put_items(&self, table: &str, items: &[Json]) {
        for chunk in items.chunks(25) {
            let requests: Vec<Json> = chunk
                .iter()
                .map(|item| json!({"PutRequest": {"Item": typed(item)["M"]}}))
                .collect();
            let out = self
                .dynamodb_ok("BatchWriteItem", json!({"RequestItems": {table: requests}}))
                .await;
            assert_eq!(out["UnprocessedItems"], json!({}), "{out}");
        }
    }

    /// The stored flight, read consistently from the table.
    async fn stored_flight(&self, id: &str) -> Json {
        self.dynamodb_ok(
            "GetItem",
            json!({"TableName": "Flights", "Key": {"id": {"S": id}}, "ConsistentRead": true}),
        )
        .await["Item"]
            .clone()
    }

    /// Books a seat as `user`, who becomes the booking's customer.
    async fn create_booking(&self, user: &User, flight: &str, description: &str) -> Json {
        self.query_as(
            user,
            "mutation Book($input: CreateBookingInput!) {
               createBooking(input: $input) {
                 id status outboundFlightId customer paymentToken checkedIn createdAt
                 bookingReference price bookingDescription
                 outboundFlight { id seatCapacity }
               }
             }",
            json!({"input": {
                "outboundFlightId": flight,
                "paymentToken": "tok_visa",
                "bookingDescription": description,
            }}),
        )
        .await
    }

    async fn cancel_booking(&self, user: &User, id: &str) -> Json {
        self.query_as(
            user,
            "mutation Cancel($id: ID!) { cancelBooking(id: $id) { id status outboundFlight { id seatCapacity } } }",
            json!({"id": id}),
        )
        .await
    }

    /// The stored booking's status, read consistently from the table.
    async fn stored_status(&self, id: &str) -> Json {
        self.dynamodb_ok(
            "GetItem",
            json!({"TableName": "Bookings", "Key": {"id": {"S": id}}, "ConsistentRead": true}),
        )
        .await["Item"]["status"]
            .clone()
    }

    async fn seats(&self, flight: &str) -> Json {
        self.data(
            "query($id: ID!) { getFlight(id: $id) { seatCapacity } }",
            json!({"id": flight}),
        )
        .await["getFlight"]["seatCapacity"]
            .clone()
    }
}

/// DynamoDB's typed form of a plain JSON value.
fn typed(value: &Json) -> Json {
    match value {
        Json::Null => json!({"NULL": true}),
        Json::Bool(b) => json!({"BOOL": b}),
        Json::Number(n) => json!({"N": n.to_string()}),
        Json::String(s) => json!({"S": s}),
        Json::Array(items) => json!({"L": items.iter().map(typed).collect::<Vec<_>>()}),
        Json::Object(map) => {
            let typed_map: Map<String, Json> =
                map.iter().map(|(k, v)| (k.clone(), typed(v))).collect();
            json!({"M": typed_map})
        }
    }
}

/// A flight between two test airports; `at` is the departure date-time.
fn flight(id: &str, from: &str, to: &str, at: &str, seats: u32, price: u32) -> Json {
    json!({
        "id": id,
        "departureDate": at,
        "departureAirportCode": from,
        "departureAirportName": format!("{from} International"),
        "departureCity": format!("{from} City"),
        "departureLocale": "en_GB",
        "arrivalDate": arrival(at),
        "arrivalAirportCode": to,
        "arrivalAirportName": format!("{to} International"),
        "arrivalCity": format!("{to} City"),
        "arrivalLocale": "en_GB",
        "ticketPrice": price,
        "ticketCurrency": "EUR",
        "flightNumber": 9000,
        "seatAllocation": seats,
        "seatCapacity": seats,
        "arrivalAirportCode#departureDate": format!("{to}#{at}"),
        "description": format!("Test flight from {from} to {to}."),
    })
}

/// Three hours after `at`.
fn arrival(at: &str) -> String {
    let departure = chrono::DateTime::parse_from_rfc3339(at).expect("an ISO-8601 date-time");
    (departure + chrono::Duration::hours(3))
        .to_utc()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn booking(id: &str, flight: &str, customer: &str, status: &str, price: u32, at: &str) -> Json {
    json!({
        "id": id,
        "status": status,
        "outboundFlightId": flight,
        "paymentToken": "tok_test",
        "checkedIn": false,
        "customer": customer,
        "createdAt": at,
        "bookingReference": id.to_uppercase(),
        "price": price,
        "orderDescription": format!("Booking {id}"),
    })
}

/// Replaces generated values (ids, timestamps) with stable placeholders so
/// a response can be snapshotted.
fn redact(value: &Json, replacements: &[(String, &str)]) -> Json {
    let mut text = value.to_string();
    for (from, to) in replacements {
        text = text.replace(from.as_str(), to);
    }
    serde_json::from_str(&text).expect("still JSON")
}

/// Asserts that `response` refused exactly the field at `path`, as AppSync
/// does: the field is null, and its one error is `Unauthorized`, naming the
/// field and the type it is on.
fn assert_unauthorized(response: &Json, path: Json, field: &str, on_type: &str) {
    let pointer: String = path
        .as_array()
        .expect("a path")
        .iter()
        .map(|step| match step {
            Json::String(name) => format!("/{name}"),
            other => format!("/{other}"),
        })
        .collect();
    assert_eq!(
        response["data"].pointer(&pointer),
        Some(&Json::Null),
        "{response:#}"
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response:#}");
    let error = &errors[0];
    assert_eq!(error["errorType"], "Unauthorized", "{response:#}");
    assert_eq!(error["path"], path, "{response:#}");
    assert_eq!(
        error["message"],
        format!("Not Authorized to access {field} on type {on_type}"),
        "{response:#}"
    );
    assert_eq!(error["data"], Json::Null, "{response:#}");
    assert_eq!(error["errorInfo"], Json::Null, "{response:#}");
}

fn error_types(response: &Json) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["errorType"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn ping_answers_pong(d: Demo) {
    assert_eq!(d.data("{ ping }", json!({})).await, json!({"ping": "pong"}));
    assert_eq!(
        d.data_as(&d.customer("C0100"), "{ ping }", json!({})).await,
        json!({"ping": "pong"})
    );
}

async fn the_api_key_answers_the_public_catalogue_only(d: Demo) {
    let mut f = flight("T-PUB-1", "TSF", "TSG", "2030-05-01T08:00:00Z", 10, 150);
    f["description"] = json!("Low over the marramgrass dunes");
    d.put_items("Flights", &[f]).await;
    d.put_items(
        "Bookings",
        &[booking(
            "t-pub-1",
            "T-PUB-1",
            "C0111",
            "CONFIRMED",
            150,
            "2030-01-01T00:00:00Z",
        )],
    )
    .await;
    // The four public queries answer the key, as existing scripts send it,
    // and a customer's token alike.
    let query = r#"{
        ping
        getFlight(id: "T-PUB-1") { id seatCapacity }
        getFlightBySchedule(departureAirportCode: "TSF", arrivalAirportCode: "TSG",
                            departureDate: "2030-05") { items { id } nextToken }
        searchFlights(text: "marramgrass") { id description }
    }"#;
    let public = json!({
        "ping": "pong",
        "getFlight": {"id": "T-PUB-1", "seatCapacity": 10},
        "getFlightBySchedule": {"items": [{"id": "T-PUB-1"}], "nextToken": null},
        "searchFlights": [{"id": "T-PUB-1", "description": "Low over the marramgrass dunes"}],
    });
    assert_eq!(d.data(query, json!({})).await, public);
    assert_eq!(
        d.data_as(&d.customer("C0111"), query, json!({})).await,
        public
    );
    // Everything else is refused to the key, field by field.
    let refused = [
        (
            r#"{ getBooking(id: "t-pub-1") { id } }"#,
            "getBooking",
            "Query",
        ),
        (
            r#"{ searchBookings(text: "booking") { total } }"#,
            "searchBookings",
            "Query",
        ),
        (
            r#"{ getLoyalty(customer: "C0111") { points } }"#,
            "getLoyalty",
            "Query",
        ),
        (
            r#"mutation { createBooking(input: {outboundFlightId: "T-PUB-1", paymentToken: "tok"}) { id } }"#,
            "createBooking",
            "Mutation",
        ),
        (
            r#"mutation { cancelBooking(id: "t-pub-1") { id } }"#,
            "cancelBooking",
            "Mutation",
        ),
    ];
    for (query, field, on_type) in refused {
        let response = d.graphql(query, json!({})).await;
        assert_unauthorized(&response, json!([field]), field, on_type);
    }
    // No resolver ran: the seat and the booking are as they were.
    assert_eq!(
        d.stored_flight("T-PUB-1").await["seatCapacity"],
        json!({"N": "10"})
    );
    assert_eq!(d.stored_status("t-pub-1").await, json!({"S": "CONFIRMED"}));
}

async fn the_api_key_cannot_read_a_booking(d: Demo) {
    d.put_items(
        "Bookings",
        &[booking(
            "t-key-1",
            "T-KEY-1",
            "C0112",
            "CONFIRMED",
            100,
            "2030-01-01T00:00:00Z",
        )],
    )
    .await;
    let response = d
        .graphql(
            r#"{ getBooking(id: "t-key-1") { id customer } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        response,
        json!({
            "data": {"getBooking": null},
            "errors": [{
                "path": ["getBooking"],
                "data": null,
                "errorType": "Unauthorized",
                "errorInfo": null,
                "locations": [{"line": 1, "column": 3, "sourceName": null}],
                "message": "Not Authorized to access getBooking on type Query",
            }],
        })
    );
    // Refused before its resolver: the table was not read.
    assert_eq!(d.calls("Query.getBooking", "bookings").await, 0);
}

async fn a_booking_is_read_by_its_customer_and_admins(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-OWN-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            10,
            120,
        )],
    )
    .await;
    d.put_items(
        "Bookings",
        &[booking(
            "t-own-1",
            "T-OWN-1",
            "C0113",
            "CONFIRMED",
            120,
            "2030-01-01T00:00:00Z",
        )],
    )
    .await;
    let query = r#"{ getBooking(id: "t-own-1") { id customer outboundFlight { id } } }"#;
    let expected = json!({"getBooking": {"id": "t-own-1", "customer": "C0113", "outboundFlight": {"id": "T-OWN-1"}}});
    assert_eq!(
        d.data_as(&d.customer("C0113"), query, json!({})).await,
        expected
    );
    assert_eq!(d.data_as(&d.admin(), query, json!({})).await, expected);
    // Another customer, or a group other than Admin: the response template
    // finds someone else's booking and refuses it.
    for user in [
        d.customer("C0114"),
        d.as_user("C0115").groups(["Customers"]),
    ] {
        let response = d.query_as(&user, query, json!({})).await;
        assert_unauthorized(&response, json!(["getBooking"]), "getBooking", "Query");
    }
    // A booking that does not exist is null for anyone, without error.
    assert_eq!(
        d.data_as(
            &d.customer("C0114"),
            r#"{ getBooking(id: "t-own-none") { id } }"#,
            json!({})
        )
        .await,
        json!({"getBooking": null})
    );
}

async fn only_its_customer_cancels_a_booking(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-OWNC-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            5,
            100,
        )],
    )
    .await;
    let owner = d.customer("C0116");
    let booked = d.create_booking(&owner, "T-OWNC-1", "Mine to cancel").await;
    let id = booked["data"]["createBooking"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{booked}"))
        .to_owned();
    // Not another customer, not even the Admin group, who may read it.
    for user in [d.customer("C0117"), d.admin()] {
        let refused = d.cancel_booking(&user, &id).await;
        assert_unauthorized(
            &refused,
            json!(["cancelBooking"]),
            "cancelBooking",
            "Mutation",
        );
    }
    // Nothing changed: still confirmed, its seat still taken.
    assert_eq!(d.stored_status(&id).await, json!({"S": "CONFIRMED"}));
    assert_eq!(
        d.stored_flight("T-OWNC-1").await["seatCapacity"],
        json!({"N": "4"})
    );
    let cancelled = d.cancel_booking(&owner, &id).await;
    assert_eq!(
        cancelled["data"]["cancelBooking"],
        json!({"id": id, "status": "CANCELLED", "outboundFlight": {"id": "T-OWNC-1", "seatCapacity": 5}}),
        "{cancelled}"
    );
}

async fn create_booking_records_the_callers_sub(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-SUB-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            5,
            340,
        )],
    )
    .await;
    let caller = d.customer("C0118");
    let booked = d.create_booking(&caller, "T-SUB-1", "For myself").await;
    let created = &booked["data"]["createBooking"];
    assert_eq!(created["customer"], "C0118", "{booked}");
    let id = created["id"].as_str().expect("an id");
    // In the table as well, where getLoyalty's index finds it.
    let stored = d
        .dynamodb_ok(
            "GetItem",
            json!({"TableName": "Bookings", "Key": {"id": {"S": id}}, "ConsistentRead": true}),
        )
        .await;
    assert_eq!(stored["Item"]["customer"], json!({"S": "C0118"}));
    assert_eq!(
        d.data_as(&caller, "{ getLoyalty { points } }", json!({}))
            .await,
        json!({"getLoyalty": {"points": 340}})
    );
    // The input has no customer: naming one fails validation, and nothing
    // is booked.
    let for_someone_else = d
        .post_as(
            &caller,
            json!({"query": r#"mutation { createBooking(input: {outboundFlightId: "T-SUB-1", customer: "C0119", paymentToken: "tok"}) { id } }"#}),
        )
        .await
        .json();
    assert!(for_someone_else["data"].is_null(), "{for_someone_else}");
    assert!(
        for_someone_else["errors"]
            .as_array()
            .is_some_and(|errors| !errors.is_empty()),
        "{for_someone_else}"
    );
    assert_eq!(
        d.stored_flight("T-SUB-1").await["seatCapacity"],
        json!({"N": "4"})
    );
}

async fn get_loyalty_is_the_callers_own_by_default(d: Demo) {
    let at = "2030-01-01T00:00:00Z";
    d.put_items(
        "Bookings",
        &[
            booking("t-own-loyal-1", "T-LOYAL", "C0120", "CONFIRMED", 1200, at),
            booking("t-own-loyal-2", "T-LOYAL", "C0120", "CONFIRMED", 1300, at),
            booking("t-own-loyal-3", "T-LOYAL", "C0121", "CONFIRMED", 5100, at),
        ],
    )
    .await;
    let me = d.customer("C0120");
    let own = "{ getLoyalty { points level remainingPoints } }";
    let named = "query($c: String) { getLoyalty(customer: $c) { points level remainingPoints } }";
    let mine = json!({"getLoyalty": {"points": 2500, "level": "silver", "remainingPoints": 2500}});
    let theirs = json!({"getLoyalty": {"points": 5100, "level": "gold", "remainingPoints": 0}});
    assert_eq!(d.data_as(&me, own, json!({})).await, mine);
    // Naming oneself is the same; naming someone else is refused.
    assert_eq!(d.data_as(&me, named, json!({"c": "C0120"})).await, mine);
    let refused = d.query_as(&me, named, json!({"c": "C0121"})).await;
    assert_unauthorized(&refused, json!(["getLoyalty"]), "getLoyalty", "Query");
    // The Admin group may name anyone, as calls from before tokens did;
    // without a name it is the admin's own (no bookings here).
    let admin = d.admin();
    assert_eq!(
        d.data_as(&admin, named, json!({"c": "C0121"})).await,
        theirs
    );
    assert_eq!(
        d.data_as(&admin, own, json!({})).await,
        json!({"getLoyalty": {"points": 0, "level": "bronze", "remainingPoints": 2000}})
    );
}

async fn search_bookings_finds_the_callers_own(d: Demo) {
    let at = |day: u32| format!("2030-02-{day:02}T00:00:00Z");
    let notes = [
        ("t-wombat-1", "C0122", "A wombat plush toy in the cabin bag"),
        ("t-wombat-2", "C0122", "Visiting the wombat sanctuary"),
        ("t-wombat-3", "C0123", "Wombat spotting tour after landing"),
        ("t-wombat-4", "C0122", "Nothing to declare"),
    ];
    let bookings: Vec<Json> = notes
        .iter()
        .enumerate()
        .map(|(n, (id, customer, text))| {
            let mut b = booking(
                id,
                "T-WOMBAT",
                customer,
                "CONFIRMED",
                100,
                &at(n as u32 + 1),
            );
            b["orderDescription"] = json!(text);
            b
        })
        .collect();
    d.put_items("Bookings", &bookings).await;
    assert_eq!(
        wombats(&d, &d.customer("C0122")).await,
        json!({"total": 2, "ids": ["t-wombat-1", "t-wombat-2"]})
    );
    assert_eq!(
        wombats(&d, &d.customer("C0123")).await,
        json!({"total": 1, "ids": ["t-wombat-3"]})
    );
    assert_eq!(
        wombats(&d, &d.customer("C0124")).await,
        json!({"total": 0, "ids": []})
    );
    assert_eq!(
        wombats(&d, &d.admin()).await,
        json!({"total": 3, "ids": ["t-wombat-1", "t-wombat-2", "t-wombat-3"]})
    );
}

/// What `user` finds searching bookings for "wombat": the total and the ids,
/// sorted.
async fn wombats(d: &Demo, user: &User) -> Json {
    let query = r#"{ searchBookings(text: "wombat") { total nextToken items { highlights booking { id } } } }"#;
    let page = d.data_as(user, query, json!({})).await["searchBookings"].clone();
    assert_eq!(page["nextToken"], Json::Null, "{page}");
    let mut ids: Vec<String> = Vec::new();
    for hit in page["items"].as_array().expect("items") {
        // Highlights come from the text query alone, filtered or not.
        assert!(
            hit["highlights"][0]
                .as_str()
                .is_some_and(|h| h.to_lowercase().contains("<em>wombat</em>")),
            "{hit}"
        );
        ids.push(hit["booking"]["id"].as_str().expect("an id").to_owned());
    }
    ids.sort();
    json!({"total": page["total"], "ids": ids})
}

async fn create_booking_takes_a_seat_and_writes_the_booking(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-BOOK-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            10,
            230,
        )],
    )
    .await;
    let alice = d.customer("C0101");
    let response = d
        .create_booking(&alice, "T-BOOK-1", "Window seat, vegetarian meal")
        .await;
    let created = &response["data"]["createBooking"];
    let id = created["id"].as_str().expect("an id").to_owned();
    let created_at = created["createdAt"]
        .as_str()
        .expect("a timestamp")
        .to_owned();
    let reference = created["bookingReference"].as_str().expect("a reference");
    assert!(
        reference.len() == 6
            && reference
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
        "{reference}"
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(&created_at).is_ok(),
        "{created_at}"
    );
    let replacements = [
        (id.clone(), "[booking id]"),
        (created_at.clone(), "[createdAt]"),
        (reference.to_owned(), "[reference]"),
    ];
    insta::assert_json_snapshot!("create_booking", redact(&response, &replacements));

    // Every field but bookingDescription from the table; that one from the index.
    let read = d
        .query_as(
            &alice,
            "query($id: ID!) { getBooking(id: $id) {
               id status outboundFlightId customer paymentToken checkedIn createdAt
               bookingReference price bookingDescription
               outboundFlight { id departureAirportCode arrivalAirportCode ticketPrice seatCapacity }
             } }",
            json!({"id": id}),
        )
        .await;
    insta::assert_json_snapshot!("get_booking", redact(&read, &replacements));
    assert_eq!(
        d.stored_flight("T-BOOK-1").await["seatCapacity"],
        json!({"N": "9"})
    );
    let doc = d.opensearch_get(&format!("/bookings/_doc/{id}")).await;
    assert_eq!(
        doc["_source"]["orderDescription"],
        "Window seat, vegetarian meal"
    );

    // Without a description the booking has none, in the table or the index.
    let plain = d
        .data_as(
            &d.customer("C0102"),
            "mutation { createBooking(input: {outboundFlightId: \"T-BOOK-1\", paymentToken: \"tok\"}) { customer price bookingDescription outboundFlight { seatCapacity } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        plain,
        json!({"createBooking": {"customer": "C0102", "price": 230, "bookingDescription": null, "outboundFlight": {"seatCapacity": 8}}})
    );
}

async fn booking_description_comes_from_the_search_index(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-DESC-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            10,
            100,
        )],
    )
    .await;
    d.put_items(
        "Bookings",
        &[booking(
            "t-desc-b1",
            "T-DESC-1",
            "C0104",
            "CONFIRMED",
            100,
            "2030-01-01T00:00:00Z",
        )],
    )
    .await;
    // Rewrite the search document only: the table still says "Booking t-desc-b1".
    let url = format!("{}/bookings/_doc/t-desc-b1", d.opensearch_url());
    let put = d
        .http
        .put(url)
        .json(&json!({"id": "t-desc-b1", "orderDescription": "Edited in the index"}))
        .send()
        .await
        .expect("OpenSearch answers");
    assert!(put.status().is_success());
    let owner = d.customer("C0104");
    let read = d
        .data_as(
            &owner,
            r#"{ getBooking(id: "t-desc-b1") { id customer bookingDescription } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        read,
        json!({"getBooking": {"id": "t-desc-b1", "customer": "C0104", "bookingDescription": "Edited in the index"}})
    );
    // No such booking: null, without error.
    assert_eq!(
        d.data_as(
            &owner,
            r#"{ getBooking(id: "t-nobody") { id } }"#,
            json!({})
        )
        .await,
        json!({"getBooking": null})
    );
}

async fn get_flight_is_cached_per_id_and_bookings_evict_it(d: Demo) {
    d.put_items(
        "Flights",
        &[
            flight("T-CACHE-1", "TSA", "TSB", "2030-03-01T08:00:00Z", 5, 100),
            flight("T-CACHE-2", "TSA", "TSB", "2030-03-02T08:00:00Z", 5, 100),
        ],
    )
    .await;
    assert_eq!(d.seats("T-CACHE-1").await, json!(5));
    assert_eq!(d.seats("T-CACHE-2").await, json!(5));
    assert_eq!(d.seats("T-CACHE-1").await, json!(5));
    assert_eq!(d.calls("Query.getFlight", "flights").await, 2);
    assert_eq!(
        d.metric("appsync_cache_hits_total{level=\"resolver\"}")
            .await,
        1
    );

    // A write behind the API's back is not seen while the entry lives.
    d.dynamodb_ok(
        "UpdateItem",
        json!({"TableName": "Flights", "Key": {"id": {"S": "T-CACHE-2"}},
               "UpdateExpression": "SET seatCapacity = :n",
               "ExpressionAttributeValues": {":n": {"N": "4"}}}),
    )
    .await;
    assert_eq!(d.seats("T-CACHE-2").await, json!(5));

    // createBooking evicts exactly its flight's entry.
    let traveller = d.customer("C0105");
    let booked = d.create_booking(&traveller, "T-CACHE-1", "Aisle").await;
    assert_eq!(
        booked["extensions"],
        json!({"apiCacheEntriesDeleted": 1}),
        "{booked}"
    );
    assert_eq!(d.seats("T-CACHE-1").await, json!(4));
    assert_eq!(d.seats("T-CACHE-2").await, json!(5));
    assert_eq!(d.calls("Query.getFlight", "flights").await, 3);
    assert_eq!(
        d.metric("appsync_cache_evictions_total{level=\"resolver\"}")
            .await,
        1
    );

    // So does cancelBooking.
    let id = booked["data"]["createBooking"]["id"]
        .as_str()
        .expect("an id");
    let cancelled = d.cancel_booking(&traveller, id).await;
    assert_eq!(
        cancelled["extensions"],
        json!({"apiCacheEntriesDeleted": 1}),
        "{cancelled}"
    );
    assert_eq!(d.seats("T-CACHE-1").await, json!(5));
    assert_eq!(d.calls("Query.getFlight", "flights").await, 4);
}

async fn cancel_booking_releases_the_seat(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-CANCEL-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            2,
            100,
        )],
    )
    .await;
    let traveller = d.customer("C0106");
    let first = d.create_booking(&traveller, "T-CANCEL-1", "one").await;
    let second = d.create_booking(&traveller, "T-CANCEL-1", "two").await;
    assert_eq!(
        second["data"]["createBooking"]["outboundFlight"]["seatCapacity"],
        0
    );
    let sold_out = d.create_booking(&traveller, "T-CANCEL-1", "three").await;
    assert_eq!(error_types(&sold_out), ["FlightSoldOut"]);

    let id = first["data"]["createBooking"]["id"]
        .as_str()
        .expect("an id");
    let cancelled = d.cancel_booking(&traveller, id).await;
    assert_eq!(
        cancelled["data"]["cancelBooking"],
        json!({"id": id, "status": "CANCELLED", "outboundFlight": {"id": "T-CANCEL-1", "seatCapacity": 1}})
    );
    assert_eq!(
        d.stored_flight("T-CANCEL-1").await["seatCapacity"],
        json!({"N": "1"})
    );
    let again = d.create_booking(&traveller, "T-CANCEL-1", "four").await;
    assert!(again.get("errors").is_none(), "{again}");
    assert_eq!(d.seats("T-CANCEL-1").await, json!(0));
    // The cancelled booking stays, with its new status.
    let read = d
        .data_as(
            &traveller,
            "query($id: ID!) { getBooking(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(read, json!({"getBooking": {"status": "CANCELLED"}}));
}

async fn booking_errors_are_clear(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-FULL-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            0,
            100,
        )],
    )
    .await;
    d.put_items(
        "Bookings",
        &[
            booking(
                "t-err-confirmed",
                "T-FULL-1",
                "C0107",
                "CONFIRMED",
                100,
                "2030-01-01T00:00:00Z",
            ),
            booking(
                "t-err-unconfirmed",
                "T-FULL-1",
                "C0107",
                "UNCONFIRMED",
                100,
                "2030-01-02T00:00:00Z",
            ),
            booking(
                "t-err-orphan",
                "T-GONE",
                "C0107",
                "CONFIRMED",
                100,
                "2030-01-03T00:00:00Z",
            ),
        ],
    )
    .await;
    let owner = d.customer("C0107");
    let mut outcomes = Map::new();
    outcomes.insert(
        "unknown flight".into(),
        d.create_booking(&owner, "T-NOWHERE", "x").await,
    );
    outcomes.insert(
        "sold out".into(),
        d.create_booking(&owner, "T-FULL-1", "x").await,
    );
    outcomes.insert(
        "unknown booking".into(),
        d.cancel_booking(&owner, "t-err-none").await,
    );
    outcomes.insert(
        "first cancel".into(),
        d.cancel_booking(&owner, "t-err-confirmed").await,
    );
    outcomes.insert(
        "second cancel".into(),
        d.cancel_booking(&owner, "t-err-confirmed").await,
    );
    outcomes.insert(
        "unconfirmed".into(),
        d.cancel_booking(&owner, "t-err-unconfirmed").await,
    );
    outcomes.insert(
        "flight gone".into(),
        d.cancel_booking(&owner, "t-err-orphan").await,
    );
    insta::assert_json_snapshot!("booking_errors", outcomes);
    // Nothing was written for the failures: no phantom flight, seats unchanged.
    assert_eq!(d.stored_flight("T-GONE").await, Json::Null);
    assert_eq!(d.stored_flight("T-NOWHERE").await, Json::Null);
    assert_eq!(
        d.stored_flight("T-FULL-1").await["seatCapacity"],
        json!({"N": "1"})
    );
}

async fn concurrent_bookings_never_overbook(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-RUSH-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            3,
            100,
        )],
    )
    .await;
    let notes: Vec<String> = (0..30).map(|i| format!("rush {i}")).collect();
    let traveller = d.customer("C0108");
    let responses = join_all(
        notes
            .iter()
            .map(|note| d.create_booking(&traveller, "T-RUSH-1", note)),
    )
    .await;
    let booked: Vec<&Json> = responses
        .iter()
        .filter(|r| r.get("errors").is_none())
        .collect();
    assert_eq!(booked.len(), 3);
    for response in &responses {
        if response.get("errors").is_some() {
            assert_eq!(error_types(response), ["FlightSoldOut"], "{response}");
            assert_eq!(response["data"], json!({"createBooking": null}));
        }
    }
    assert_eq!(
        d.stored_flight("T-RUSH-1").await["seatCapacity"],
        json!({"N": "0"})
    );
    let stored = d
        .dynamodb_ok(
            "Query",
            json!({"TableName": "Bookings", "IndexName": "ByFlight",
                   "KeyConditionExpression": "outboundFlightId = :f",
                   "ExpressionAttributeValues": {":f": {"S": "T-RUSH-1"}}}),
        )
        .await;
    assert_eq!(stored["Count"], 3);
    let mut ids: Vec<&str> = booked
        .iter()
        .map(|r| r["data"]["createBooking"]["id"].as_str().expect("an id"))
        .collect();
    ids.sort_unstable();
    let mut stored_ids: Vec<&str> = stored["Items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"]["S"].as_str().expect("an id"))
        .collect();
    stored_ids.sort_unstable();
    assert_eq!(ids, stored_ids);

    // Cancelling one booking many times at once gives back one seat.
    let cancels = join_all((0..10).map(|_| d.cancel_booking(&traveller, ids[0]))).await;
    let succeeded = cancels.iter().filter(|r| r.get("errors").is_none()).count();
    assert_eq!(succeeded, 1);
    for response in &cancels {
        if response.get("errors").is_some() {
            assert_eq!(
                error_types(response),
                ["BookingAlreadyCancelled"],
                "{response}"
            );
        }
    }
    assert_eq!(
        d.stored_flight("T-RUSH-1").await["seatCapacity"],
        json!({"N": "1"})
    );
}

async fn get_flight_by_schedule_pages_through_a_gsi(d: Demo) {
    let mut flights: Vec<Json> = (1..=5)
        .map(|day| {
            flight(
                &format!("T-SCHED-{day}"),
                "TSC",
                "TSD",
                &format!("2030-04-0{day}T08:00:00Z"),
                if day == 3 { 0 } else { 50 },
                100 + day,
            )
        })
        .collect();
    // Same departure airport, other arrival or month: never in the results.
    flights.push(flight(
        "T-SCHED-OTHER",
        "TSC",
        "TSE",
        "2030-04-02T08:00:00Z",
        50,
        100,
    ));
    flights.push(flight(
        "T-SCHED-MAY",
        "TSC",
        "TSD",
        "2030-05-01T08:00:00Z",
        50,
        100,
    ));
    d.put_items("Flights", &flights).await;

    let query = "query($token: String, $filter: FlightFilterInput) {
        getFlightBySchedule(departureAirportCode: \"TSC\", arrivalAirportCode: \"TSD\",
                            departureDate: \"2030-04\", filter: $filter, limit: 2, nextToken: $token) {
          items { id } nextToken } }";
    let all = schedule_pages(&d, query, json!(null)).await;
    assert_eq!(
        all,
        [
            json!([{"id": "T-SCHED-1"}, {"id": "T-SCHED-2"}]),
            json!([{"id": "T-SCHED-3"}, {"id": "T-SCHED-4"}]),
            json!([{"id": "T-SCHED-5"}]),
        ]
    );
    // As in DynamoDB, the filter drops the sold-out flight after the limit
    // counted it, so the second page is short.
    let available = schedule_pages(&d, query, json!({"seatCapacity": {"gt": 0}})).await;
    assert_eq!(
        available,
        [
            json!([{"id": "T-SCHED-1"}, {"id": "T-SCHED-2"}]),
            json!([{"id": "T-SCHED-4"}]),
            json!([{"id": "T-SCHED-5"}]),
        ]
    );
    // A date prefix down to the day narrows the sort key further.
    let day = d
        .data(
            "{ getFlightBySchedule(departureAirportCode: \"TSC\", arrivalAirportCode: \"TSD\",
                                   departureDate: \"2030-04-02\") { items { id } nextToken } }",
            json!({}),
        )
        .await;
    assert_eq!(
        day,
        json!({"getFlightBySchedule": {"items": [{"id": "T-SCHED-2"}], "nextToken": null}})
    );
}

/// Every page of a getFlightBySchedule query, following nextToken.
async fn schedule_pages(d: &Demo, query: &str, filter: Json) -> Vec<Json> {
    let mut pages = Vec::new();
    let mut token = Json::Null;
    loop {
        let page = d
            .data(query, json!({"token": token, "filter": filter}))
            .await["getFlightBySchedule"]
            .clone();
        token = page["nextToken"].clone();
        pages.push(page["items"].clone());
        if token.is_null() || pages.len() > 10 {
            return pages;
        }
    }
}

async fn flight_bookings_are_newest_first_and_paginated(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-LIST-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            50,
            100,
        )],
    )
    .await;
    let bookings: Vec<Json> = (1..=5)
        .map(|n| {
            booking(
                &format!("t-list-{n}"),
                "T-LIST-1",
                "C0109",
                "CONFIRMED",
                100,
                &format!("2030-01-0{n}T00:00:00Z"),
            )
        })
        .collect();
    d.put_items("Bookings", &bookings).await;
    // Every booking of a flight is for the Admin group only.
    let admin = d.admin();
    let query = "query($token: String) { getFlight(id: \"T-LIST-1\") {
        bookings(limit: 2, nextToken: $token) { items { id createdAt } nextToken } } }";
    let mut ids = Vec::new();
    let mut token = Json::Null;
    let mut pages = 0;
    loop {
        let page = d.data_as(&admin, query, json!({"token": token})).await["getFlight"]["bookings"]
            .clone();
        pages += 1;
        for item in page["items"].as_array().expect("items") {
            ids.push(item["id"].as_str().expect("an id").to_owned());
        }
        token = page["nextToken"].clone();
        if token.is_null() {
            break;
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(
        ids,
        ["t-list-5", "t-list-4", "t-list-3", "t-list-2", "t-list-1"]
    );
    // The default page holds them all.
    let all = d
        .data_as(
            &admin,
            r#"{ getFlight(id: "T-LIST-1") { bookings { items { id } nextToken } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        all["getFlight"]["bookings"]["items"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
    assert_eq!(all["getFlight"]["bookings"]["nextToken"], Json::Null);
    let bad = d
        .query_as(
            &admin,
            r#"{ getFlight(id: "T-LIST-1") { id bookings(nextToken: "bogus") { nextToken } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        bad["data"],
        json!({"getFlight": {"id": "T-LIST-1", "bookings": null}})
    );
    assert_eq!(error_types(&bad), ["MappingTemplate"]);

    // Anyone else reads the flight but not its bookings, not even the
    // customer who holds them all.
    let query = r#"{ getFlight(id: "T-LIST-1") { id bookings { nextToken } } }"#;
    for response in [
        d.graphql(query, json!({})).await,
        d.query_as(&d.customer("C0109"), query, json!({})).await,
    ] {
        assert_eq!(
            response["data"],
            json!({"getFlight": {"id": "T-LIST-1", "bookings": null}})
        );
        assert_unauthorized(
            &response,
            json!(["getFlight", "bookings"]),
            "bookings",
            "Flight",
        );
    }
}

async fn query_depth_limit_cuts_the_flight_bookings_cycle(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-DEPTH-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            50,
            100,
        )],
    )
    .await;
    d.put_items(
        "Bookings",
        &[booking(
            "t-depth-1",
            "T-DEPTH-1",
            "C0110",
            "CONFIRMED",
            100,
            "2030-01-01T00:00:00Z",
        )],
    )
    .await;
    // Flight.bookings is for the Admin group: the cycle is theirs to follow.
    let admin = d.admin();
    // getFlight > bookings > items > outboundFlight > bookings > nextToken: six levels.
    let at_limit = d
        .query_as(
            &admin,
            r#"{ getFlight(id: "T-DEPTH-1") { id bookings { items { id outboundFlight { id bookings { nextToken } } } } } }"#,
            json!({}),
        )
        .await;
    // One more level: the seventh field is cut and its error bubbles up to
    // the nearest nullable parent.
    let beyond = d
        .query_as(
            &admin,
            r#"{ getFlight(id: "T-DEPTH-1") { id bookings { items { id outboundFlight { id bookings { items { id } } } } } } }"#,
            json!({}),
        )
        .await;
    insta::assert_json_snapshot!(
        "depth_limit",
        json!({"at limit": at_limit, "beyond": beyond})
    );
}

async fn search_bookings_finds_highlights_and_pages(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-SEARCH-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            50,
            100,
        )],
    )
    .await;
    let descriptions = [
        "Travelling with a quokka in a carrier, quokka needs water",
        "One quokka plush toy for the child, extra legroom",
        "Extra quokka snacks please",
        "Quokka enthusiast, window seat",
        "Aisle seat, no quokka but a wombat",
        "Nothing special at all",
    ];
    let bookings: Vec<Json> = descriptions
        .iter()
        .enumerate()
        .map(|(n, text)| {
            let mut b = booking(
                &format!("t-search-{n}"),
                "T-SEARCH-1",
                "test-search",
                "CONFIRMED",
                100,
                &format!("2030-02-0{}T00:00:00Z", n + 1),
            );
            b["orderDescription"] = json!(text);
            b
        })
        .collect();
    d.put_items("Bookings", &bookings).await;

    // The Admin group searches every customer's bookings (customers: see
    // search_bookings_finds_the_callers_own).
    let admin = d.admin();
    let query = "query($token: String) { searchBookings(text: \"quokka\", limit: 2, nextToken: $token) {
        total nextToken
        items { score highlights booking { id status customer price bookingReference paymentToken checkedIn
                                           bookingDescription outboundFlight { id } } } } }";
    let mut hits = Vec::new();
    let mut token = Json::Null;
    let mut pages = 0;
    loop {
        let page =
            d.data_as(&admin, query, json!({"token": token})).await["searchBookings"].clone();
        pages += 1;
        assert_eq!(page["total"], 5);
        hits.extend(page["items"].as_array().expect("items").iter().cloned());
        token = page["nextToken"].clone();
        if token.is_null() {
            break;
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let ids: HashSet<&str> = hits
        .iter()
        .map(|h| h["booking"]["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids.len(), 5, "every match once: {hits:#?}");
    assert!(!ids.contains("t-search-5"));
    let scores: Vec<f64> = hits
        .iter()
        .map(|h| h["score"].as_f64().expect("a score"))
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The document where the word is most frequent comes first.
    assert_eq!(hits[0]["booking"]["id"], "t-search-0");
    // Scores depend on the whole index, so only the rest is snapshotted.
    for hit in &mut hits {
        hit["score"] = json!("[score]");
    }
    let mut by_id = hits.clone();
    by_id.sort_by_key(|h| h["booking"]["id"].as_str().map(String::from));
    insta::assert_json_snapshot!("search_bookings", by_id);

    let none = d
        .data_as(
            &admin,
            r#"{ searchBookings(text: "zyzzyvas") { total nextToken items { score } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        none,
        json!({"searchBookings": {"total": 0, "nextToken": null, "items": []}})
    );
    let bad = d
        .query_as(
            &admin,
            r#"{ searchBookings(text: "quokka", limit: 0) { total } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_types(&bad), ["ValidationError"]);
    // A token that is not one of ours fails the field, never the server.
    for token in ["not a token", "WzEsMl0=", "eyJhIjoxfQ=="] {
        let bad = d
            .query_as(
                &admin,
                "query($t: String) { searchBookings(text: \"quokka\", nextToken: $t) { total } }",
                json!({"t": token}),
            )
            .await;
        assert_eq!(
            bad["data"],
            json!({"searchBookings": null}),
            "{token}: {bad}"
        );
        assert_eq!(error_types(&bad).len(), 1, "{token}: {bad}");
    }
}

async fn search_flights_reads_the_flights_index(d: Demo) {
    let mut f = flight("T-FTS-1", "TSA", "TSB", "2030-03-01T08:00:00Z", 50, 100);
    f["description"] = json!("Scenic crossing above the xyloglacier");
    d.put_items("Flights", &[f]).await;
    let found = d
        .data(
            r#"{ searchFlights(text: "xyloglacier") { id description } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        found,
        json!({"searchFlights": [{"id": "T-FTS-1", "description": "Scenic crossing above the xyloglacier"}]})
    );
}

async fn loyalty_levels_follow_confirmed_bookings(d: Demo) {
    // (customer, confirmed prices, one cancelled booking's price)
    let customers: [(&str, &[u32], u32); 6] = [
        ("C0201", &[], 900),
        ("C0202", &[999, 1000], 5000),
        ("C0203", &[1000, 1000], 0),
        ("C0204", &[2500, 2499], 1),
        ("C0205", &[5000], 0),
        ("C0206", &[3000, 2000, 2000], 0),
    ];
    let mut items = Vec::new();
    for (customer, prices, cancelled) in customers {
        for (n, price) in prices.iter().enumerate() {
            items.push(booking(
                &format!("{customer}-{n}"),
                "T-LOYAL",
                customer,
                "CONFIRMED",
                *price,
                "2030-01-01T00:00:00Z",
            ));
        }
        items.push(booking(
            &format!("{customer}-cancelled"),
            "T-LOYAL",
            customer,
            "CANCELLED",
            cancelled,
            "2030-01-01T00:00:00Z",
        ));
    }
    d.put_items("Bookings", &items).await;
    let admin = d.admin();
    let mut levels = Map::new();
    for (customer, _, _) in customers {
        // Each customer's own, and the same through the Admin group.
        let own = d
            .data_as(
                &d.customer(customer),
                "{ getLoyalty { points level remainingPoints } }",
                json!({}),
            )
            .await;
        let asked = d
            .data_as(
                &admin,
                "query($c: String!) { getLoyalty(customer: $c) { points level remainingPoints } }",
                json!({"c": customer}),
            )
            .await;
        assert_eq!(own, asked, "{customer}");
        levels.insert(customer.into(), own["getLoyalty"].clone());
    }
    assert_eq!(
        Json::Object(levels),
        json!({
            "C0201": {"points": 0, "level": "bronze", "remainingPoints": 2000},
            "C0202": {"points": 1999, "level": "bronze", "remainingPoints": 1},
            "C0203": {"points": 2000, "level": "silver", "remainingPoints": 3000},
            "C0204": {"points": 4999, "level": "silver", "remainingPoints": 1},
            "C0205": {"points": 5000, "level": "gold", "remainingPoints": 0},
            "C0206": {"points": 7000, "level": "gold", "remainingPoints": 0},
        })
    );
}

async fn a_booking_is_charged_and_emits_booking_created(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-PAY-1",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            10,
            180,
        )],
    )
    .await;
    let alice = d.customer("C0140");
    let response = d.create_booking(&alice, "T-PAY-1", "aisle").await;
    let booking = &response["data"]["createBooking"];
    let id = booking["id"].as_str().expect("a booking id");
    let events = d.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["Source"], "flight-catalog.bookings");
    assert_eq!(event["DetailType"], "BookingCreated");
    assert_eq!(event["EventBusName"], "flight-catalog");
    let detail = &event["Detail"];
    assert_eq!(detail["bookingId"], id);
    assert_eq!(detail["customer"], "C0140");
    assert_eq!(detail["outboundFlightId"], "T-PAY-1");
    assert_eq!(detail["price"], 180);
    assert_eq!(detail["bookingReference"], booking["bookingReference"]);
    // The charge came from the processPayment Lambda.
    let charge = detail["chargeId"].as_str().expect("a charge id");
    assert!(charge.starts_with("ch_") && charge.len() == 27, "{charge}");
}

async fn a_declined_payment_books_nothing(d: Demo) {
    d.put_items(
        "Flights",
        &[flight(
            "T-PAY-2",
            "TSA",
            "TSB",
            "2030-03-01T08:00:00Z",
            10,
            180,
        )],
    )
    .await;
    let bob = d.customer("C0141");
    let response = d
        .query_as(
            &bob,
            "mutation { createBooking(input: {outboundFlightId: \"T-PAY-2\", paymentToken: \"tok_decline_1\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(response["data"], json!({"createBooking": null}));
    assert_eq!(response["errors"][0]["errorType"], "Lambda:Unhandled");
    assert_eq!(response["errors"][0]["message"], "Your card was declined.");
    assert_eq!(d.seats("T-PAY-2").await, json!(10), "no seat was taken");
    assert!(d.events().is_empty(), "no BookingCreated");
    assert_eq!(d.count("Bookings").await, 0);
}

async fn flight_weather_is_batched_per_25_flights(d: Demo) {
    let flights: Vec<Json> = (1..=30)
        .map(|day| {
            flight(
                &format!("T-WX-{day:02}"),
                "TWX",
                "TWY",
                &format!("2030-06-{day:02}T08:00:00Z"),
                50,
                100,
            )
        })
        .collect();
    d.put_items("Flights", &flights).await;
    let query = "{ getFlightBySchedule(departureAirportCode: \"TWX\", arrivalAirportCode: \"TWY\",
                     departureDate: \"2030-06\", limit: 30) {
                   items { id weather { airport date summary temperatureC precipitationChance } } } }";
    let data = d.data(query, json!({})).await;
    let items = data["getFlightBySchedule"]["items"]
        .as_array()
        .expect("items");
    assert_eq!(items.len(), 30);
    for (day, item) in (1..=30).zip(items) {
        let weather = &item["weather"];
        assert_eq!(weather["airport"], "TWX");
        assert_eq!(weather["date"], format!("2030-06-{day:02}"));
        assert!(weather["summary"].is_string(), "{weather}");
        let chance = weather["precipitationChance"].as_i64().expect("a chance");
        assert!((0..=100).contains(&chance), "{weather}");
    }
    // Deterministic: the same flights get the same forecast.
    assert_eq!(d.data(query, json!({})).await, data);
    // 30 flights at maxBatchSize 25: two invocations per query.
    assert_eq!(
        d.metric("appsync_lambda_invocations_total{function=\"weather\"}")
            .await,
        4
    );
}

/// `onBookingCreated` for a customer (their own bookings), and for the
/// Admin group `onBookingFromAirport` (a nested enhanced filter) and
/// `onFlightSeatsChanged` (one flight's seats, bookings and cancellations).
async fn subscriptions_follow_bookings_and_cancellations(d: Demo) {
    d.put_items(
        "Flights",
        &[
            flight("T-RT-1", "TRA", "TRB", "2030-04-01T08:00:00Z", 5, 150),
            flight("T-RT-2", "TRC", "TRB", "2030-04-01T09:00:00Z", 5, 300),
        ],
    )
    .await;
    let alice = d.customer("C0121");
    let bob = d.customer("C0122");
    let admin = d.admin();
    let open = async |user: &User| {
        let header = token_header(&d, &user.token());
        let mut ws = Ws::connect(&d.realtime_url(), Auth::Subprotocol(header.clone())).await;
        ws.init().await;
        (ws, header)
    };
    let (mut mine, header) = open(&alice).await;
    mine.subscribe(
        "mine",
        "subscription { onBookingCreated { customer outboundFlightId price } }",
        json!({}),
        &header,
    )
    .await;
    let (mut airport, header) = open(&admin).await;
    airport
        .subscribe(
            "airport",
            "subscription($code: String!) { onBookingFromAirport(departureAirportCode: $code, minPrice: 100) { customer outboundFlight { departureAirportCode } } }",
            json!({"code": "TRA"}),
            &header,
        )
        .await;
    let (mut seats, header) = open(&admin).await;
    seats
        .subscribe(
            "seats",
            "subscription { onFlightSeatsChanged(id: \"T-RT-1\") { status customer outboundFlight { id seatCapacity } } }",
            json!({}),
            &header,
        )
        .await;
    // A customer's own subscription is refused the Admin one.
    let refused = mine
        .start(
            "x",
            "subscription { onBookingFromAirport(departureAirportCode: \"TRA\") { id } }",
            json!({}),
            &token_header(&d, &alice.token()),
        )
        .await;
    assert_eq!(refused["payload"]["errors"][0]["errorType"], "Unauthorized");

    let book = async |user: &User, flight: &str| {
        let booked = d
            .data_as(
                user,
                "mutation Book($input: CreateBookingInput!) {
                   createBooking(input: $input) {
                     id customer outboundFlightId price status
                     outboundFlight { id seatCapacity departureAirportCode }
                   }
                 }",
                json!({"input": {"outboundFlightId": flight, "paymentToken": "tok_visa"}}),
            )
            .await;
        booked["createBooking"]["id"].as_str().unwrap().to_owned()
    };
    let first = book(&alice, "T-RT-1").await;
    // Writes through the DynamoDB API publish nothing, as in AppSync: only
    // GraphQL mutations do.
    d.put_items(
        "Bookings",
        &[booking(
            "T-RT-DIRECT",
            "T-RT-1",
            "C0121",
            "CONFIRMED",
            150,
            "2030-01-01T00:00:00Z",
        )],
    )
    .await;
    book(&bob, "T-RT-2").await;
    book(&alice, "T-RT-2").await;
    book(&bob, "T-RT-1").await;
    d.data_as(
        &alice,
        "mutation($id: ID!) { cancelBooking(id: $id) { id status customer outboundFlightId outboundFlight { id seatCapacity } } }",
        json!({"id": first}),
    )
    .await;

    let onto = |payload: Json, field: &str| payload["data"][field].clone();
    // Alice's own two bookings, nobody else's.
    assert_eq!(
        onto(mine.data("mine").await, "onBookingCreated"),
        json!({"customer": "C0121", "outboundFlightId": "T-RT-1", "price": 150})
    );
    assert_eq!(
        onto(mine.data("mine").await, "onBookingCreated"),
        json!({"customer": "C0121", "outboundFlightId": "T-RT-2", "price": 300})
    );
    // Departures from TRA only, whoever booked.
    for customer in ["C0121", "C0122"] {
        assert_eq!(
            onto(airport.data("airport").await, "onBookingFromAirport"),
            json!({"customer": customer, "outboundFlight": {"departureAirportCode": "TRA"}})
        );
    }
    // T-RT-1's seats: two bookings, then the cancellation gives one back.
    let seat_changes: Vec<Json> = [
        onto(seats.data("seats").await, "onFlightSeatsChanged"),
        onto(seats.data("seats").await, "onFlightSeatsChanged"),
        onto(seats.data("seats").await, "onFlightSeatsChanged"),
    ]
    .into_iter()
    .map(|b| {
        json!([
            b["status"],
            b["customer"],
            b["outboundFlight"]["seatCapacity"]
        ])
    })
    .collect();
    assert_eq!(
        seat_changes,
        vec![
            json!(["CONFIRMED", "C0121", 4]),
            json!(["CONFIRMED", "C0122", 3]),
            json!(["CANCELLED", "C0121", 4]),
        ]
    );
}
