//! Seed data: what the manifest's `seed` section asks for, and the
//! `flight-catalog` generator. Pure: the stores read files and write items
//! (`Stores::seed_from`), this module only describes and generates them.
//!
//! ```yaml
//! seed:                       # fixtures: table name to a JSON array of plain items
//!   Orders: seed/orders.json
//! seed:                       # or a generator
//!   generator: flight-catalog
//!   flights: 20000            # FL00001.. over 90 days from 2026-12-01
//!   bookings: 50000           # BK000001..
//!   seed: 42                  # same numbers, same data
//! ```

pub mod airports;
pub mod catalog;
mod prng;

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::dynamodb::Item;
use crate::dynamodb::types::{item_from_json, item_from_plain_json};

pub use catalog::{Catalog, CatalogConfig};
pub use prng::SplitMix64;

/// The one generator, and the tables it fills.
pub const FLIGHT_CATALOG: &str = "flight-catalog";
pub const FLIGHTS_TABLE: &str = "Flights";
pub const BOOKINGS_TABLE: &str = "Bookings";

/// The manifest's `seed` section.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedSpec {
    /// Table name to a file of plain JSON items, relative to the project.
    Files(Vec<(String, PathBuf)>),
    /// The `flight-catalog` generator.
    FlightCatalog(CatalogConfig),
}

impl SeedSpec {
    /// The tables it writes.
    pub fn tables(&self) -> Vec<String> {
        match self {
            SeedSpec::Files(files) => files.iter().map(|(t, _)| t.clone()).collect(),
            SeedSpec::FlightCatalog(_) => vec![FLIGHTS_TABLE.to_owned(), BOOKINGS_TABLE.to_owned()],
        }
    }

    /// One line for logs and the data directory's marker.
    pub fn describe(&self) -> String {
        match self {
            SeedSpec::Files(files) => files
                .iter()
                .map(|(t, f)| format!("{t}: {}", f.display()))
                .collect::<Vec<_>>()
                .join(", "),
            SeedSpec::FlightCatalog(c) => format!(
                "{FLIGHT_CATALOG} (flights: {}, bookings: {}, seed: {})",
                c.flights, c.bookings, c.seed
            ),
        }
    }
}

/// A problem in the `seed` section: the key path below `seed` and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedProblem {
    pub path: Vec<String>,
    pub message: String,
}

fn problem(path: &[&str], message: impl Into<String>) -> SeedProblem {
    SeedProblem {
        path: path.iter().map(|s| s.to_string()).collect(),
        message: message.into(),
    }
}

/// Reads the `seed` section (`None` when absent or empty).
pub fn parse(value: Option<&Json>) -> Result<Option<SeedSpec>, Vec<SeedProblem>> {
    let map = match value {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Object(map)) => map,
        Some(_) => {
            return Err(vec![problem(
                &[],
                "`seed` must be a map: table names to JSON files, or `generator: flight-catalog`",
            )]);
        }
    };
    if map.is_empty() {
        return Ok(None);
    }
    let mut problems = Vec::new();
    let Some(generator) = map.get("generator") else {
        let mut files = Vec::new();
        for (table, file) in map {
            match file.as_str() {
                Some(path) if !path.is_empty() => files.push((table.clone(), PathBuf::from(path))),
                _ => problems.push(problem(
                    &[table],
                    format!(
                        "the seed of table {table} must be the path of a JSON file, found {file}"
                    ),
                )),
            }
        }
        return if problems.is_empty() {
            Ok(Some(SeedSpec::Files(files)))
        } else {
            Err(problems)
        };
    };
    if generator.as_str() != Some(FLIGHT_CATALOG) {
        problems.push(problem(
            &["generator"],
            format!("unknown generator {generator}; the generator is `{FLIGHT_CATALOG}`"),
        ));
    }
    let mut config = CatalogConfig::default();
    for (key, value) in map {
        let (slot, max) = match key.as_str() {
            "generator" => continue,
            "flights" => (&mut config.flights, catalog::MAX_FLIGHTS as u64),
            "bookings" => (&mut config.bookings, catalog::MAX_BOOKINGS as u64),
            "seed" => {
                match value.as_u64() {
                    Some(seed) => config.seed = seed,
                    None => problems.push(problem(
                        &["seed"],
                        format!("`seed` must be a whole number from 0, found {value}"),
                    )),
                }
                continue;
            }
            other => {
                problems.push(problem(
                    &[other],
                    format!("unknown key `{other}` in a generator seed; expected `flights`, `bookings` or `seed`"),
                ));
                continue;
            }
        };
        let min = if key == "flights" { 1 } else { 0 };
        match value.as_u64().filter(|n| (min..=max).contains(n)) {
            Some(n) => *slot = n as usize,
            None => problems.push(problem(
                &[key],
                format!("`{key}` must be a whole number from {min} to {max}, found {value}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(Some(SeedSpec::FlightCatalog(config)))
    } else {
        Err(problems)
    }
}

/// How a fixture's items are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FixtureFormat {
    /// `{"id": "o1", "total": 12}`, typed as `$util.dynamodb.toDynamoDB` does.
    #[default]
    Plain,
    /// DynamoDB JSON: `{"id": {"S": "o1"}, "total": {"N": "12"}}`.
    DynamoDb,
}

/// Why a fixture cannot be read; each names the table and item at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixtureError {
    #[error("a fixture is a JSON object: table names to arrays of items")]
    NotAnObject,
    #[error("{table}: expected an array of items")]
    NotAList { table: String },
    #[error("{table}[{index}]: an item must be a JSON object")]
    ItemNotAnObject { table: String, index: usize },
    /// The item's attributes do not convert; `reason` is DynamoDB's message.
    #[error("{table}[{index}]: {reason}")]
    BadItem {
        table: String,
        index: usize,
        reason: String,
    },
}

/// Reads a fixture, `{"TableName": [item, ...], ...}`, into items. The
/// first problem is reported with the table and position of the item.
pub fn parse_fixture(
    body: &Json,
    format: FixtureFormat,
) -> Result<Vec<(String, Item)>, FixtureError> {
    let Json::Object(tables) = body else {
        return Err(FixtureError::NotAnObject);
    };
    let mut items = Vec::new();
    for (table, list) in tables {
        let Json::Array(list) = list else {
            return Err(FixtureError::NotAList {
                table: table.clone(),
            });
        };
        for (index, item) in list.iter().enumerate() {
            let Json::Object(fields) = item else {
                return Err(FixtureError::ItemNotAnObject {
                    table: table.clone(),
                    index,
                });
            };
            let parsed = match format {
                FixtureFormat::Plain => item_from_plain_json(fields).map_err(|e| e.to_string()),
                FixtureFormat::DynamoDb => item_from_json(fields, false).map_err(|e| e.to_string()),
            };
            let item = parsed.map_err(|reason| FixtureError::BadItem {
                table: table.clone(),
                index,
                reason,
            })?;
            items.push((table.clone(), item));
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_files_and_generators() {
        assert_eq!(parse(None), Ok(None));
        assert_eq!(
            parse(Some(&json!({"Orders": "seed/orders.json"}))),
            Ok(Some(SeedSpec::Files(vec![(
                "Orders".into(),
                PathBuf::from("seed/orders.json")
            )])))
        );
        assert_eq!(
            parse(Some(
                &json!({"generator": "flight-catalog", "flights": 10, "seed": 3})
            )),
            Ok(Some(SeedSpec::FlightCatalog(CatalogConfig {
                flights: 10,
                bookings: 50_000,
                seed: 3
            })))
        );
    }

    #[test]
    fn reports_each_bad_key() {
        let problems = parse(Some(&json!({
            "generator": "airline", "flights": 0, "bookings": -1, "colour": "red"
        })))
        .expect_err("invalid");
        let paths: Vec<String> = problems.iter().map(|p| p.path.join(".")).collect();
        assert_eq!(paths, ["generator", "flights", "bookings", "colour"]);
        assert!(
            problems[1].message.contains("from 1 to 99999"),
            "{problems:?}"
        );
        let problems = parse(Some(&json!({"Orders": 3}))).expect_err("invalid");
        assert_eq!(problems[0].path, ["Orders"]);
        assert!(parse(Some(&json!(["x"]))).is_err());
    }

    #[test]
    fn reads_fixtures_in_both_formats() {
        let plain = parse_fixture(
            &json!({"Orders": [{"id": "o1", "total": 12}]}),
            FixtureFormat::Plain,
        )
        .expect("plain");
        let typed = parse_fixture(
            &json!({"Orders": [{"id": {"S": "o1"}, "total": {"N": "12"}}]}),
            FixtureFormat::DynamoDb,
        )
        .expect("typed");
        assert_eq!(plain, typed);
        assert_eq!(plain[0].0, "Orders");
        let bad = parse_fixture(
            &json!({"Orders": [{"id": "o1"}, {"id": {"X": 1}}]}),
            FixtureFormat::DynamoDb,
        )
        .expect_err("bad type");
        assert!(
            matches!(&bad, FixtureError::BadItem { table, index: 0, .. } if table == "Orders"),
            "{bad:?}"
        );
        let bad = bad.to_string();
        assert!(bad.starts_with("Orders[0]: "), "{bad}");
        assert!(!bad.contains('\u{1}'), "{bad}");
        assert_eq!(
            parse_fixture(&json!([1]), FixtureFormat::Plain),
            Err(FixtureError::NotAnObject)
        );
        assert_eq!(
            parse_fixture(&json!({"Orders": {}}), FixtureFormat::Plain),
            Err(FixtureError::NotAList {
                table: "Orders".into()
            })
        );
        assert_eq!(
            parse_fixture(&json!({"Orders": [3]}), FixtureFormat::Plain),
            Err(FixtureError::ItemNotAnObject {
                table: "Orders".into(),
                index: 0
            })
        );
    }
}
