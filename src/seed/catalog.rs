//! The `flight-catalog` generator: a daily schedule over a route network
//! between real airports, and bookings whose notes read like a traveller
//! wrote them. Same configuration, same data, on every machine.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value as Json, json};

use super::airports::{AIRPORTS, Airport, BEACH, BUSINESS, CULTURE, NATURE, SKI, distance_km};
use super::prng::SplitMix64;

/// The schedule starts on this day (UTC) and runs for [`DAYS`] days.
pub const START: (i32, u32, u32) = (2026, 12, 1);
pub const DAYS: usize = 90;
/// `FL00001`..: five digits.
pub const MAX_FLIGHTS: usize = 99_999;
/// `BK000001`..: six digits.
pub const MAX_BOOKINGS: usize = 999_999;
/// `C0001`..: four digits.
const MAX_CUSTOMERS: usize = 9_999;

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogConfig {
    pub flights: usize,
    pub bookings: usize,
    pub seed: u64,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            flights: 20_000,
            bookings: 50_000,
            seed: 42,
        }
    }
}

/// Plain JSON items for the `Flights` and `Bookings` tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub flights: Vec<Json>,
    pub bookings: Vec<Json>,
}

struct Aircraft {
    name: &'static str,
    seats: u32,
}

const SHORT_HAUL: &[Aircraft] = &[
    Aircraft {
        name: "Airbus A320neo",
        seats: 180,
    },
    Aircraft {
        name: "Boeing 737-800",
        seats: 189,
    },
    Aircraft {
        name: "Airbus A220-300",
        seats: 145,
    },
    Aircraft {
        name: "Embraer E190",
        seats: 100,
    },
];
const MEDIUM_HAUL: &[Aircraft] = &[
    Aircraft {
        name: "Airbus A321neo",
        seats: 220,
    },
    Aircraft {
        name: "Boeing 757-200",
        seats: 200,
    },
    Aircraft {
        name: "Airbus A330-300",
        seats: 277,
    },
];
const LONG_HAUL: &[Aircraft] = &[
    Aircraft {
        name: "Boeing 787-9",
        seats: 290,
    },
    Aircraft {
        name: "Airbus A350-900",
        seats: 315,
    },
    Aircraft {
        name: "Boeing 777-300ER",
        seats: 396,
    },
];

/// One daily departure of the schedule.
struct Slot {
    from: &'static Airport,
    to: &'static Airport,
    /// Departure, minutes after midnight UTC.
    minute: i64,
    number: u32,
    aircraft: &'static Aircraft,
    distance: f64,
    minutes: i64,
    description: String,
}

/// Whether an airline would fly this route: short routes between all but
/// the smallest airports, long ones from hubs.
fn served(a: &Airport, b: &Airport, distance: f64) -> bool {
    let (small, big) = (a.size.min(b.size), a.size.max(b.size));
    if !(150.0..=15_500.0).contains(&distance) {
        return false;
    }
    if distance <= 3_500.0 {
        return a.size + b.size >= 3;
    }
    big == 3 && (small >= 2 || (distance <= 9_500.0 && b.tags & (BEACH | SKI | NATURE) != 0))
}

fn aircraft_for(rng: &mut SplitMix64, distance: f64) -> &'static Aircraft {
    match distance {
        d if d < 1_800.0 => rng.pick(SHORT_HAUL),
        d if d < 5_000.0 => rng.pick(MEDIUM_HAUL),
        _ => rng.pick(LONG_HAUL),
    }
}

/// Block time: taxi and climb, then cruise, to the next 5 minutes.
fn block_minutes(distance: f64) -> i64 {
    let speed_per_minute = if distance < 1_500.0 { 11.5 } else { 13.5 };
    let raw = 30.0 + distance / speed_per_minute;
    ((raw / 5.0).round() as i64) * 5
}

/// Busy real-world routes between the catalog's airports: each gets a daily
/// round trip before the draw, so London–New York or Tokyo–Sapporo is never
/// missing from the schedule.
const TRUNK_ROUTES: &[(&str, &str)] = &[
    ("LHR", "JFK"),
    ("JFK", "LAX"),
    ("LHR", "DXB"),
    ("SYD", "MEL"),
    ("HND", "CTS"),
    ("SIN", "BKK"),
    ("HKG", "SIN"),
    ("ICN", "HND"),
    ("LHR", "AMS"),
    ("LHR", "DUB"),
    ("CDG", "JFK"),
    ("MAD", "BCN"),
    ("LAX", "SFO"),
    ("ORD", "JFK"),
    ("JFK", "MIA"),
    ("YYZ", "JFK"),
    ("SYD", "AKL"),
    ("DXB", "DEL"),
    ("DOH", "LHR"),
    ("SIN", "LHR"),
    ("HND", "LAX"),
    ("GRU", "EZE"),
    ("JNB", "CPT"),
    ("FRA", "JFK"),
];

fn schedule(rng: &mut SplitMix64, slots_per_day: usize) -> Vec<Slot> {
    let mut routes = Vec::new();
    let mut weights = Vec::new();
    for (i, a) in AIRPORTS.iter().enumerate() {
        for b in &AIRPORTS[i + 1..] {
            let d = distance_km(a, b);
            if served(a, b, d) || served(b, a, d) {
                routes.push((a, b, d));
                let size = f64::from(a.size * b.size);
                weights.push(size * size / (1.0 + d / 3_000.0));
            }
        }
    }
    let mut slots = Vec::with_capacity(slots_per_day + 1);
    let airport = |code: &str| AIRPORTS.iter().find(|a| a.code == code);
    for (a, b) in TRUNK_ROUTES {
        if let (Some(a), Some(b)) = (airport(a), airport(b)) {
            round_trip(rng, &mut slots, slots_per_day, (a, b, distance_km(a, b)));
        }
    }
    // Every airport first gets one route, then traffic follows the weights.
    let mut unserved = AIRPORTS.iter();
    while slots.len() < slots_per_day {
        let route = match unserved.next() {
            Some(airport) => {
                let touching: Vec<f64> = routes
                    .iter()
                    .zip(&weights)
                    .map(|((a, b, _), w)| {
                        if a.code == airport.code || b.code == airport.code {
                            *w
                        } else {
                            0.0
                        }
                    })
                    .collect();
                rng.weighted(&touching)
            }
            None => rng.weighted(&weights),
        };
        round_trip(rng, &mut slots, slots_per_day, routes[route]);
    }
    slots
}

/// A daily flight on the route, in either direction, and the aircraft's
/// flight back.
fn round_trip(
    rng: &mut SplitMix64,
    slots: &mut Vec<Slot>,
    slots_per_day: usize,
    (a, b, distance): (&'static Airport, &'static Airport, f64),
) {
    let (a, b) = if rng.chance(0.5) { (a, b) } else { (b, a) };
    let aircraft = aircraft_for(rng, distance);
    let minutes = block_minutes(distance);
    let out = rng.range(6 * 12, 22 * 12 - 1) * 5;
    // The aircraft turns round and flies back.
    let back = (out + minutes + rng.range(9, 24) * 5) % (24 * 60);
    for (from, to, minute) in [(a, b, out), (b, a, back)] {
        if slots.len() == slots_per_day {
            break;
        }
        let number = 100 + slots.len() as u32 * 2 + rng.below(2) as u32;
        let description = flight_description(rng, from, to, minute, aircraft, distance);
        slots.push(Slot {
            from,
            to,
            minute,
            number,
            aircraft,
            distance,
            minutes,
            description,
        });
    }
}

fn time_of_day(minute: i64) -> &'static str {
    match minute / 60 {
        5..=8 => "Early-morning",
        9..=11 => "Morning",
        12..=16 => "Afternoon",
        17..=20 => "Evening",
        _ => "Late-night",
    }
}

fn flight_description(
    rng: &mut SplitMix64,
    from: &Airport,
    to: &Airport,
    minute: i64,
    aircraft: &Aircraft,
    distance: f64,
) -> String {
    let long = distance > 5_000.0;
    let overnight = long && !(6 * 60..18 * 60).contains(&minute);
    let kind = match distance {
        _ if overnight => "overnight flight",
        d if d < 800.0 => "hop",
        d if d < 5_000.0 => "flight",
        _ => "long-haul flight",
    };
    let when = if overnight {
        "Late"
    } else {
        time_of_day(minute)
    };
    let mut features: Vec<&str> = Vec::new();
    let alps = |a: &Airport| a.lat > 46.5 && (-5.0..20.0).contains(&a.lon);
    let south = |a: &Airport| a.lat < 45.5 && (-10.0..25.0).contains(&a.lon);
    if (alps(from) && south(to)) || (south(from) && alps(to)) {
        features.push("window seats over the Alps");
    }
    if (from.lon < -30.0) != (to.lon < -30.0) && from.lat > 0.0 && to.lat > 0.0 {
        features.push("a crossing of the Atlantic");
    }
    if from.lat.max(to.lat) > 59.0 && overnight_or_dark(minute) {
        features.push("a chance of northern lights from the left-hand windows");
    }
    if to.tags & SKI != 0 {
        features.push("plenty of room for ski bags");
    }
    if to.tags & BEACH != 0 {
        features.push("an arrival in the sun");
    }
    if long {
        features.extend([
            "lie-flat seats in business",
            "a full dinner service",
            "seat-back entertainment",
        ]);
    } else {
        features.extend([
            "free Wi-Fi messaging",
            "a snack and coffee service",
            "quick boarding from both doors",
        ]);
    }
    let feature = *rng.pick(&features);
    let (h, m) = (block_minutes(distance) / 60, block_minutes(distance) % 60);
    format!(
        "{when} {kind} from {} to {} on an {}: {h}h {m:02}m with {feature}.",
        from.city, to.city, aircraft.name
    )
}

fn overnight_or_dark(minute: i64) -> bool {
    !(8 * 60..16 * 60).contains(&minute)
}

fn iso(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

struct FlightRow {
    departure: NaiveDateTime,
    slot: usize,
    price: i64,
}

/// Generates the catalog. Flights are numbered in departure order.
pub fn generate(config: &CatalogConfig) -> Catalog {
    let mut root = SplitMix64::new(config.seed);
    let mut network = root.fork(1);
    let mut fares = root.fork(2);
    let mut people = root.fork(3);
    let flights = config.flights.min(MAX_FLIGHTS);
    let bookings = if flights == 0 {
        0
    } else {
        config.bookings.min(MAX_BOOKINGS)
    };
    let slots_per_day = flights.div_ceil(DAYS).max(1);
    let slots = schedule(&mut network, slots_per_day);
    let (y, mo, d) = START;
    let start = NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();

    let mut rows = Vec::with_capacity(flights);
    'days: for day in 0..DAYS as i64 {
        for (index, slot) in slots.iter().enumerate() {
            if rows.len() == flights {
                break 'days;
            }
            let departure = start + Duration::days(day) + Duration::minutes(slot.minute);
            rows.push(FlightRow {
                departure,
                slot: index,
                price: fare(&mut fares, slot.distance, departure),
            });
        }
    }
    rows.sort_by_key(|r| (r.departure, slots[r.slot].number));

    let mut seats_sold = vec![0u32; rows.len()];
    let booking_items = make_bookings(&mut people, bookings, &rows, &slots, &mut seats_sold);
    let flight_items = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let slot = &slots[row.slot];
            let departure = iso(row.departure);
            let arrival = iso(row.departure + Duration::minutes(slot.minutes));
            json!({
                "id": format!("FL{:05}", i + 1),
                "departureDate": departure,
                "departureAirportCode": slot.from.code,
                "departureAirportName": slot.from.name,
                "departureCity": slot.from.city,
                "departureLocale": slot.from.locale,
                "arrivalDate": arrival,
                "arrivalAirportCode": slot.to.code,
                "arrivalAirportName": slot.to.name,
                "arrivalCity": slot.to.city,
                "arrivalLocale": slot.to.locale,
                "ticketPrice": row.price,
                "ticketCurrency": "EUR",
                "flightNumber": slot.number,
                "seatAllocation": slot.aircraft.seats,
                "seatCapacity": slot.aircraft.seats - seats_sold[i],
                "arrivalAirportCode#departureDate": format!("{}#{departure}", slot.to.code),
                "description": slot.description,
            })
        })
        .collect();
    Catalog {
        flights: flight_items,
        bookings: booking_items,
    }
}

/// EUR: distance-based, dearer over the holidays and at weekends.
fn fare(rng: &mut SplitMix64, distance: f64, departure: NaiveDateTime) -> i64 {
    let base = 39.0 + distance * 0.105;
    let (month, day) = (departure.month(), departure.day());
    let holidays = (month == 12 && day >= 18) || (month == 1 && day <= 3);
    let weekend = matches!(
        departure.weekday(),
        chrono::Weekday::Fri | chrono::Weekday::Sun
    );
    let mut price = base * (0.8 + rng.unit() * 0.6);
    if holidays {
        price *= 1.3;
    }
    if weekend {
        price *= 1.1;
    }
    price.round() as i64
}

fn make_bookings(
    rng: &mut SplitMix64,
    count: usize,
    rows: &[FlightRow],
    slots: &[Slot],
    seats_sold: &mut [u32],
) -> Vec<Json> {
    if rows.is_empty() {
        return Vec::new();
    }
    let customers = (count / 10).clamp(1, MAX_CUSTOMERS);
    let size_weights: Vec<f64> = AIRPORTS.iter().map(|a| f64::from(a.size)).collect();
    let homes: Vec<usize> = (0..customers)
        .map(|_| rng.weighted(&size_weights))
        .collect();
    let mut departures_from: Vec<Vec<usize>> = vec![Vec::new(); AIRPORTS.len()];
    for (i, row) in rows.iter().enumerate() {
        let from = slots[row.slot].from;
        if let Some(a) = AIRPORTS.iter().position(|a| a.code == from.code) {
            departures_from[a].push(i);
        }
    }
    let first_day = rows[0].departure.date();
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        // Frequent flyers: low customer numbers book far more often.
        let customer = (rng.unit().powf(1.25) * customers as f64) as usize;
        let home = &departures_from[homes[customer]];
        let flight = if !home.is_empty() && rng.chance(0.75) {
            home[rng.below(home.len())]
        } else {
            rng.below(rows.len())
        };
        let row = &rows[flight];
        let slot = &slots[row.slot];
        let mut status = match rng.unit() {
            u if u < 0.82 => "CONFIRMED",
            u if u < 0.93 => "CANCELLED",
            _ => "UNCONFIRMED",
        };
        if status == "CONFIRMED" {
            if seats_sold[flight] < slot.aircraft.seats {
                seats_sold[flight] += 1;
            } else {
                // Sold out: the booking waits for a seat.
                status = "UNCONFIRMED";
            }
        }
        let ahead = 60 + (rng.unit().powf(1.5) * 150.0 * 24.0 * 60.0) as i64;
        let created =
            row.departure - Duration::minutes(ahead) - Duration::seconds(rng.range(0, 59));
        let checked_in =
            status == "CONFIRMED" && row.departure.date() == first_day && rng.chance(0.6);
        let brand = *rng.pick(&["visa", "mastercard", "amex"]);
        let token = format!("tok_{brand}_{:08x}", rng.next_u64() as u32);
        let mut item = Map::new();
        item.insert("id".into(), json!(format!("BK{:06}", n + 1)));
        item.insert("status".into(), json!(status));
        item.insert(
            "outboundFlightId".into(),
            json!(format!("FL{:05}", flight + 1)),
        );
        item.insert("paymentToken".into(), json!(token));
        item.insert("checkedIn".into(), json!(checked_in));
        item.insert("customer".into(), json!(format!("C{:04}", customer + 1)));
        item.insert("createdAt".into(), json!(iso(created)));
        item.insert("bookingReference".into(), json!(reference(n)));
        item.insert("price".into(), json!(row.price));
        item.insert(
            "orderDescription".into(),
            json!(booking_note(rng, slot.to, row.departure)),
        );
        out.push(Json::Object(item));
    }
    out
}

/// A six-letter booking reference, distinct for every booking: an odd
/// multiplier is a bijection modulo 2^30, shown in 32 unambiguous letters.
fn reference(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut v = (n as u64)
        .wrapping_mul(0x2545_F491)
        .wrapping_add(0x01F3_D5B7)
        & ((1 << 30) - 1);
    let mut out = [0u8; 6];
    for c in out.iter_mut().rev() {
        *c = ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Purpose {
    tag: u8,
    /// "ski trip": reads after "a" and before "to Innsbruck".
    nouns: &'static [&'static str],
    /// "a week on the slopes": reads after "for".
    reasons: &'static [&'static str],
    requests: &'static [&'static str],
}

const PURPOSES: &[Purpose] = &[
    Purpose {
        tag: SKI,
        nouns: &[
            "ski trip",
            "ski holiday",
            "snowboarding trip",
            "powder weekend",
        ],
        reasons: &[
            "a week on the slopes",
            "fresh powder",
            "our first ski lessons",
            "a ski instructor course",
        ],
        requests: &[
            "Two pairs of skis in the hold",
            "A snowboard bag as checked luggage",
            "Ski boots as cabin baggage",
            "A transfer to the resort on arrival",
        ],
    },
    Purpose {
        tag: BEACH,
        nouns: &[
            "beach holiday",
            "winter sun trip",
            "surf trip",
            "diving holiday",
        ],
        reasons: &[
            "a week in the sun",
            "some winter sunshine",
            "surf lessons",
            "a dive course",
        ],
        requests: &[
            "A surfboard in the hold",
            "Snorkelling gear as checked luggage",
            "A window seat to see the coast",
            "Sunscreen in the hand luggage, under 100 ml",
        ],
    },
    Purpose {
        tag: BUSINESS,
        nouns: &[
            "business trip",
            "work trip",
            "conference trip",
            "sales trip",
        ],
        reasons: &[
            "client meetings",
            "the annual sales conference",
            "a board meeting",
            "a product launch",
            "a job interview",
            "an early breakfast meeting with investors",
        ],
        requests: &[
            "A receipt for expenses",
            "Fast-track security",
            "A quiet seat to finish the slides",
            "Lounge access for a call before boarding",
            "An early breakfast meeting right after landing",
        ],
    },
    Purpose {
        tag: CULTURE,
        nouns: &["city break", "long weekend", "weekend getaway", "food tour"],
        reasons: &[
            "museums and galleries",
            "the food scene",
            "a concert",
            "the Christmas markets",
            "a photography walk",
        ],
        requests: &[
            "Late check-in at the hotel",
            "A vegetarian meal",
            "Room in the cabin for a camera bag",
            "Seats together",
        ],
    },
    Purpose {
        tag: NATURE,
        nouns: &[
            "hiking trip",
            "adventure holiday",
            "photography trip",
            "road trip",
        ],
        reasons: &[
            "a few days in the mountains",
            "wildlife photography",
            "a guided trek",
            "a camper van tour",
        ],
        requests: &[
            "Hiking boots in the cabin",
            "A tripod in the hold",
            "Camera gear as hand luggage",
            "A rental car at the airport",
        ],
    },
    Purpose {
        tag: 0,
        nouns: &[
            "family visit",
            "honeymoon",
            "trip home",
            "anniversary trip",
            "birthday trip",
        ],
        reasons: &[
            "a family wedding",
            "my sister's graduation",
            "Christmas with the family",
            "New Year's Eve",
            "my grandmother's 90th birthday",
            "a reunion with old friends",
        ],
        requests: &[
            "A bassinet for the baby",
            "Wheelchair assistance on arrival",
            "A gluten-free meal",
            "An extra bag for the presents",
            "Travelling with a guide dog",
            "A child meal for our son",
        ],
    },
];

/// (after the purpose, as subject of a sentence)
const PARTIES: &[(&str, &str)] = &[
    ("on my own", "Just me"),
    ("with my partner", "My partner and I"),
    ("with my wife", "My wife and I"),
    ("with my husband", "My husband and I"),
    ("for a family of four", "The four of us"),
    ("with two adults and a toddler", "Two adults and a toddler"),
    ("for a group of six friends", "Six friends"),
    ("with two colleagues", "Three of us from the team"),
    ("with my parents", "My parents and I"),
];

const GENERIC_REQUESTS: &[&str] = &[
    "Aisle seat please",
    "Window seat please",
    "Extra legroom if possible",
    "A vegetarian meal",
    "No special requests",
    "Priority boarding",
    "Please seat us together",
];

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A booking's free-text note: purpose (fitting the destination), party,
/// a local highlight and a request, in one of several sentence shapes.
fn booking_note(rng: &mut SplitMix64, to: &Airport, departure: NaiveDateTime) -> String {
    let fitting: Vec<&Purpose> = PURPOSES
        .iter()
        .filter(|p| p.tag == 0 || to.tags & p.tag != 0)
        .collect();
    let purpose = *rng.pick(&fitting);
    let noun = *rng.pick(purpose.nouns);
    let mut reason = *rng.pick(purpose.reasons);
    // Nobody flies out for Christmas in February.
    if departure.month() != 12 && (reason.contains("Christmas") || reason.contains("New Year")) {
        reason = purpose.reasons[0];
    }
    let (party, subject) = *rng.pick(PARTIES);
    let highlight = *rng.pick(to.highlights);
    let request = if rng.chance(0.6) {
        *rng.pick(purpose.requests)
    } else {
        *rng.pick(GENERIC_REQUESTS)
    };
    let city = to.city;
    match rng.below(8) {
        0 => format!("{} to {city} {party}. {request}.", capitalize(noun)),
        1 => format!(
            "{} to {city}: {reason}, and {highlight}. {request}.",
            capitalize(noun)
        ),
        2 => format!(
            "Off to {city} for {reason} {party}; {}.",
            lowercase_first(request)
        ),
        3 => format!("{subject}, off to {city} for {highlight}. {request}."),
        4 => format!("{city} {noun} {party}. Can't wait for {highlight}!"),
        5 => format!("Booked for {reason} in {city}. {request}."),
        6 => format!(
            "{} with {reason} in {city}, then {highlight}. {request}.",
            capitalize(noun)
        ),
        _ => format!("{subject} heading to {city}: {reason}. {request}, thanks!"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn small() -> CatalogConfig {
        CatalogConfig {
            flights: 900,
            bookings: 3_000,
            seed: 7,
        }
    }

    #[test]
    fn the_same_config_gives_the_same_catalog_and_another_seed_another() {
        let a = generate(&small());
        assert_eq!(a, generate(&small()));
        let b = generate(&CatalogConfig { seed: 8, ..small() });
        assert_ne!(a.flights, b.flights);
        assert_eq!(b.flights.len(), 900);
    }

    #[test]
    fn flights_have_every_field_the_resolvers_read() {
        let catalog = generate(&small());
        assert_eq!(catalog.flights.len(), 900);
        let ids: Vec<&str> = catalog
            .flights
            .iter()
            .map(|f| f["id"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(ids[0], "FL00001");
        assert_eq!(ids[899], "FL00900");
        let mut last = String::new();
        for f in &catalog.flights {
            let departure = f["departureDate"].as_str().expect("departureDate");
            assert!(departure >= last.as_str(), "numbered in departure order");
            last = departure.to_owned();
            assert!(departure >= "2026-12-01");
            assert!(f["arrivalDate"].as_str() > Some(departure));
            assert_eq!(
                f["arrivalAirportCode#departureDate"],
                json!(format!(
                    "{}#{departure}",
                    f["arrivalAirportCode"].as_str().unwrap_or("")
                ))
            );
            assert_ne!(f["departureAirportCode"], f["arrivalAirportCode"]);
            let seats = f["seatAllocation"].as_i64().unwrap_or(0);
            let free = f["seatCapacity"].as_i64().unwrap_or(-1);
            assert!((0..=seats).contains(&free), "{f}");
            assert!(f["ticketPrice"].as_i64().unwrap_or(0) > 0);
            for field in [
                "departureAirportName",
                "departureCity",
                "departureLocale",
                "arrivalAirportName",
                "arrivalCity",
                "arrivalLocale",
                "ticketCurrency",
                "description",
            ] {
                assert!(
                    f[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{field}: {f}"
                );
            }
            assert!(f["flightNumber"].is_u64());
        }
        // 90 days, 10 departures a day.
        assert_eq!(last.get(..10), Some("2027-02-28"));
    }

    #[test]
    fn bookings_are_consistent_with_their_flights() {
        let catalog = generate(&small());
        let flights: HashMap<&str, &Json> = catalog
            .flights
            .iter()
            .map(|f| (f["id"].as_str().unwrap_or_default(), f))
            .collect();
        let mut confirmed: HashMap<&str, i64> = HashMap::new();
        let mut references = HashSet::new();
        let mut statuses = HashSet::new();
        assert_eq!(catalog.bookings[0]["id"], "BK000001");
        assert_eq!(catalog.bookings[2_999]["id"], "BK003000");
        for b in &catalog.bookings {
            let flight = flights[b["outboundFlightId"].as_str().expect("flight id")];
            assert!(b["createdAt"].as_str() < flight["departureDate"].as_str());
            assert_eq!(b["price"], flight["ticketPrice"]);
            let customer = b["customer"].as_str().expect("customer");
            assert!(
                customer.len() == 5 && customer.starts_with('C'),
                "{customer}"
            );
            assert!(
                b["paymentToken"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("tok_"))
            );
            assert!(b["checkedIn"].is_boolean());
            assert!(references.insert(b["bookingReference"].as_str().expect("reference")));
            let status = b["status"].as_str().expect("status");
            statuses.insert(status);
            if status == "CONFIRMED" {
                *confirmed
                    .entry(flight["id"].as_str().unwrap_or_default())
                    .or_default() += 1;
            }
            let note = b["orderDescription"].as_str().expect("orderDescription");
            let city = flight["arrivalCity"].as_str().expect("city");
            assert!(note.contains(city), "{note} names {city}");
        }
        assert_eq!(
            statuses,
            HashSet::from(["CONFIRMED", "CANCELLED", "UNCONFIRMED"])
        );
        for f in &catalog.flights {
            let sold = confirmed.get(f["id"].as_str().unwrap_or_default()).copied();
            assert_eq!(
                f["seatCapacity"].as_i64(),
                Some(f["seatAllocation"].as_i64().unwrap_or(0) - sold.unwrap_or(0)),
                "seats for sale = seats - confirmed bookings: {f}"
            );
        }
    }

    #[test]
    fn booking_notes_vary_and_fit_the_destination() {
        let catalog = generate(&small());
        let notes: HashSet<&str> = catalog
            .bookings
            .iter()
            .filter_map(|b| b["orderDescription"].as_str())
            .collect();
        assert!(
            notes.len() > 2_500,
            "{} distinct notes of 3000",
            notes.len()
        );
        let flights: HashMap<&str, &Json> = catalog
            .flights
            .iter()
            .map(|f| (f["id"].as_str().unwrap_or_default(), f))
            .collect();
        for b in &catalog.bookings {
            let note = b["orderDescription"].as_str().unwrap_or_default();
            let words = note.to_lowercase();
            if words
                .split(|c: char| !c.is_alphabetic())
                .any(|w| w == "ski")
            {
                let to = flights[b["outboundFlightId"].as_str().unwrap_or_default()]
                    ["arrivalAirportCode"]
                    .as_str()
                    .unwrap_or_default();
                let airport = AIRPORTS.iter().find(|a| a.code == to).expect("airport");
                assert!(airport.tags & SKI != 0, "{note} to {to}");
            }
        }
    }

    #[test]
    fn airports_are_distinct_and_served() {
        let codes: HashSet<&str> = AIRPORTS.iter().map(|a| a.code).collect();
        assert_eq!(codes.len(), AIRPORTS.len());
        assert!(AIRPORTS.len() >= 60);
        let catalog = generate(&CatalogConfig::default());
        let served: HashSet<&str> = catalog
            .flights
            .iter()
            .filter_map(|f| f["departureAirportCode"].as_str())
            .collect();
        assert!(
            served.len() >= 55,
            "{} airports have departures",
            served.len()
        );
        assert_eq!(catalog.flights.len(), 20_000);
        assert_eq!(catalog.bookings.len(), 50_000);
        // Trunk routes fly both ways every day.
        for (a, b) in TRUNK_ROUTES {
            assert!(codes.contains(a) && codes.contains(b), "{a}-{b}");
            for (from, to) in [(a, b), (b, a)] {
                let days: HashSet<&str> = catalog
                    .flights
                    .iter()
                    .filter(|f| {
                        f["departureAirportCode"] == *from && f["arrivalAirportCode"] == *to
                    })
                    .filter_map(|f| f["departureDate"].as_str().map(|d| &d[..10]))
                    .collect();
                assert!(days.len() >= 89, "{from}-{to} flies on {} days", days.len());
            }
        }
    }

    #[test]
    fn references_are_six_unambiguous_letters() {
        let r = reference(0);
        assert_eq!(r.len(), 6);
        assert!(!r.contains(['I', 'O', '0', '1']));
    }
}
