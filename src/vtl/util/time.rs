//! `$util.time`: the render's clock, formatted with Java `DateTimeFormatter`
//! patterns in any zone.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};

use super::{Call, CallError};
use crate::vtl::runtime::RenderState;
use crate::vtl::value::Value;

pub(super) fn call(host: &mut RenderState<'_>, c: &Call) -> Result<Value, CallError> {
    let now = host.now_epoch_millis;
    let invalid = CallError::invalid;
    match c.method {
        "nowISO8601" => {
            c.arity(0, 0, "nowISO8601()")?;
            Ok(Value::str(iso8601(now)))
        }
        "nowEpochSeconds" => {
            c.arity(0, 0, "nowEpochSeconds()")?;
            Ok(Value::Int(now.div_euclid(1000)))
        }
        "nowEpochMilliSeconds" => {
            c.arity(0, 0, "nowEpochMilliSeconds()")?;
            Ok(Value::Int(now))
        }
        "nowFormatted" => {
            let sig = "nowFormatted(String[, String])";
            c.arity(1, 2, sig)?;
            format_millis(now, c.str(0, sig)?, c.opt_str(1, sig)?)
                .map(Value::str)
                .map_err(invalid)
        }
        "parseFormattedToEpochMilliSeconds" => {
            let sig = "parseFormattedToEpochMilliSeconds(String, String[, String])";
            c.arity(2, 3, sig)?;
            parse_formatted(c.str(0, sig)?, c.str(1, sig)?, c.opt_str(2, sig)?)
                .map(Value::Int)
                .map_err(invalid)
        }
        "parseISO8601ToEpochMilliSeconds" => {
            let sig = "parseISO8601ToEpochMilliSeconds(String)";
            c.arity(1, 1, sig)?;
            parse_iso8601(c.str(0, sig)?)
                .map(Value::Int)
                .map_err(invalid)
        }
        "epochMilliSecondsToSeconds" => {
            let sig = "epochMilliSecondsToSeconds(long)";
            c.arity(1, 1, sig)?;
            Ok(Value::Int(c.int(0, sig)?.div_euclid(1000)))
        }
        "epochMilliSecondsToISO8601" => {
            let sig = "epochMilliSecondsToISO8601(long)";
            c.arity(1, 1, sig)?;
            Ok(Value::str(iso8601(c.int(0, sig)?)))
        }
        "epochMilliSecondsToFormatted" => {
            let sig = "epochMilliSecondsToFormatted(long, String[, String])";
            c.arity(2, 3, sig)?;
            format_millis(c.int(0, sig)?, c.str(1, sig)?, c.opt_str(2, sig)?)
                .map(Value::str)
                .map_err(invalid)
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Why a date, zone or pattern could not be read, in `java.time`'s words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TimeError {
    #[error("Text '{0}' could not be parsed as an ISO 8601 date-time")]
    NotIso8601(String),
    #[error("Unknown time-zone ID: {0}")]
    UnknownZone(String),
    #[error("Invalid ID for ZoneOffset, invalid format: {0}")]
    BadOffset(String),
    #[error("Instant {0} is out of range")]
    InstantOutOfRange(i64),
    #[error("Pattern ends with an incomplete string literal: {0}")]
    UnclosedLiteral(String),
    #[error("Unknown pattern letter: {0}")]
    UnknownLetter(char),
    #[error("Pattern includes reserved character: '{0}'")]
    ReservedCharacter(char),
    #[error("Too many pattern letters: {0}")]
    TooManyLetters(char),
    #[error("Text '{text}' could not be parsed at index {index}")]
    ParseAt { text: String, index: usize },
    #[error("Text '{text}' could not be parsed, unparsed text found at index {index}")]
    Unparsed { text: String, index: usize },
    #[error("Text '{0}' could not be parsed: invalid date")]
    InvalidDate(String),
    #[error("Text '{0}' could not be parsed: invalid time")]
    InvalidTime(String),
    #[error("Text '{0}' names a local time that does not exist")]
    NoSuchLocalTime(String),
}

/// `2018-02-06T19:01:35.749Z`. Milliseconds are always printed, as in the
/// DG's examples, so the output has a fixed width.
fn iso8601(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => String::new(),
    }
}

fn parse_iso8601(s: &str) -> Result<i64, TimeError> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.timestamp_millis())
        .or_else(|_| {
            // A date-time without an offset is read as UTC.
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|t| t.and_utc().timestamp_millis())
        })
        .map_err(|_| TimeError::NotIso8601(s.to_owned()))
}

/// A time zone as Java's `ZoneId.of` reads it: region ids (`Europe/Paris`),
/// `UTC`/`GMT`/`Z`, and offsets (`+08:00`, `+0800`, `+08`, `UTC+8`, `GMT-03:30`).
#[derive(Clone, Copy)]
enum Zone {
    Region(chrono_tz::Tz),
    Fixed(FixedOffset),
}

fn parse_zone(id: Option<&str>) -> Result<Zone, TimeError> {
    let Some(id) = id else {
        return Ok(Zone::Region(chrono_tz::UTC));
    };
    if id == "Z" {
        return Ok(Zone::Fixed(FixedOffset::east_opt(0).unwrap_or(Utc.fix())));
    }
    for prefix in ["UTC", "GMT", "UT"] {
        if let Some(rest) = id.strip_prefix(prefix)
            && (rest.starts_with('+') || rest.starts_with('-'))
        {
            return parse_offset(rest).map(Zone::Fixed);
        }
    }
    if id.starts_with('+') || id.starts_with('-') {
        return parse_offset(id).map(Zone::Fixed);
    }
    id.parse::<chrono_tz::Tz>()
        .map(Zone::Region)
        .map_err(|_| TimeError::UnknownZone(id.to_owned()))
}

/// `+h`, `+hh`, `+hh:mm`, `+hhmm`, `+hh:mm:ss`.
fn parse_offset(s: &str) -> Result<FixedOffset, TimeError> {
    let bad = || TimeError::BadOffset(s.to_owned());
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() || digits.len() > 6 {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| {
        digits
            .get(r)
            .and_then(|d| d.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let (h, m, sec) = match digits.len() {
        1 | 2 => (num(0..digits.len()), 0, 0),
        4 => (num(0..2), num(2..4), 0),
        6 => (num(0..2), num(2..4), num(4..6)),
        _ => return Err(bad()),
    };
    if h > 18 || m > 59 || sec > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60 + sec)).ok_or_else(bad)
}

/// The calendar fields a pattern can print, resolved in one zone.
struct Fields {
    date: NaiveDate,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    offset_secs: i32,
    /// Short zone name (`PST`, `UTC`) or the offset for offset zones.
    zone_abbr: String,
    /// The zone id as given (`America/Los_Angeles`, `+08:00`).
    zone_id: String,
}

fn fields_at(ms: i64, zone: Zone) -> Result<Fields, TimeError> {
    let utc = DateTime::<Utc>::from_timestamp_millis(ms).ok_or(TimeError::InstantOutOfRange(ms))?;
    Ok(match zone {
        Zone::Region(tz) => {
            let t = utc.with_timezone(&tz);
            let offset = t.offset().fix().local_minus_utc();
            fields_of(
                t.naive_local(),
                offset,
                t.format("%Z").to_string(),
                tz.name().to_owned(),
            )
        }
        Zone::Fixed(off) => {
            let t = utc.with_timezone(&off);
            let id = offset_id(off.local_minus_utc());
            fields_of(t.naive_local(), off.local_minus_utc(), id.clone(), id)
        }
    })
}

fn fields_of(t: NaiveDateTime, offset_secs: i32, zone_abbr: String, zone_id: String) -> Fields {
    Fields {
        date: t.date(),
        hour: t.hour(),
        minute: t.minute(),
        second: t.second(),
        nanos: t.nanosecond(),
        offset_secs,
        zone_abbr,
        zone_id,
    }
}

/// Java's `ZoneOffset.getId()`: `Z` or `+08:00`.
fn offset_id(secs: i32) -> String {
    if secs == 0 {
        "Z".into()
    } else {
        format_offset(secs, true, false)
    }
}

/// `+0800` / `+08:00`; `short_hours` allows `+08` when minutes are zero.
fn format_offset(secs: i32, colon: bool, short_hours: bool) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (h, m) = (abs / 3600, abs / 60 % 60);
    if short_hours && m == 0 {
        format!("{sign}{h:02}")
    } else if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// One piece of a `DateTimeFormatter` pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    /// A pattern letter repeated `count` times.
    Field(char, usize),
}

fn tokenize(pattern: &str) -> Result<Vec<Token>, TimeError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut idx = 0;
    while idx < chars.len() {
        let c = chars[idx];
        if c == '\'' {
            // `''` is a quote; `'text'` is literal text.
            if chars.get(idx + 1) == Some(&'\'') {
                tokens.push(Token::Literal("'".into()));
                idx += 2;
                continue;
            }
            let mut lit = String::new();
            idx += 1;
            loop {
                match chars.get(idx) {
                    None => {
                        return Err(TimeError::UnclosedLiteral(pattern.to_owned()));
                    }
                    Some('\'') if chars.get(idx + 1) == Some(&'\'') => {
                        lit.push('\'');
                        idx += 2;
                    }
                    Some('\'') => {
                        idx += 1;
                        break;
                    }
                    Some(ch) => {
                        lit.push(*ch);
                        idx += 1;
                    }
                }
            }
            tokens.push(Token::Literal(lit));
        } else if c.is_ascii_alphabetic() {
            let mut count = 1;
            while chars.get(idx + count) == Some(&c) {
                count += 1;
            }
            if !"GuyYDMLdQqwWEeFaBhKkHmsSAnNVvzOXxZ".contains(c) {
                return Err(TimeError::UnknownLetter(c));
            }
            tokens.push(Token::Field(c, count));
            idx += count;
        } else if matches!(c, '[' | ']' | '{' | '}' | '#') {
            // Optional sections print their content; the reserved characters
            // `{}#` are rejected by Java.
            if matches!(c, '{' | '}' | '#') {
                return Err(TimeError::ReservedCharacter(c));
            }
            idx += 1;
        } else {
            tokens.push(Token::Literal(c.to_string()));
            idx += 1;
        }
    }
    Ok(tokens)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn too_many(c: char) -> TimeError {
    TimeError::TooManyLetters(c)
}

fn text(full: &str, count: usize) -> String {
    match count {
        1..=3 => full.chars().take(3).collect(),
        4 => full.to_owned(),
        _ => full.chars().take(1).collect(),
    }
}

fn padded(n: i64, width: usize) -> String {
    if n < 0 {
        format!("-{:0width$}", -n)
    } else {
        format!("{n:0width$}")
    }
}

fn format_fields(f: &Fields, tokens: &[Token]) -> Result<String, TimeError> {
    let mut out = String::new();
    let year = i64::from(f.date.year());
    for token in tokens {
        let (c, n) = match token {
            Token::Literal(s) => {
                out.push_str(s);
                continue;
            }
            Token::Field(c, n) => (*c, *n),
        };
        let piece = match c {
            'G' => match n {
                1..=3 => if year > 0 { "AD" } else { "BC" }.to_owned(),
                4 => if year > 0 {
                    "Anno Domini"
                } else {
                    "Before Christ"
                }
                .to_owned(),
                _ => if year > 0 { "A" } else { "B" }.to_owned(),
            },
            'y' | 'u' | 'Y' => {
                if n == 2 {
                    padded(year.rem_euclid(100), 2)
                } else {
                    padded(year, n)
                }
            }
            'M' | 'L' => {
                let month = f.date.month();
                match n {
                    1 | 2 => padded(i64::from(month), n),
                    3..=5 => text(MONTHS[month as usize - 1], n),
                    _ => return Err(too_many(c)),
                }
            }
            'd' if n <= 2 => padded(i64::from(f.date.day()), n),
            'D' if n <= 3 => padded(i64::from(f.date.ordinal()), n),
            'Q' | 'q' => {
                let q = (f.date.month() - 1) / 3 + 1;
                match n {
                    1 | 2 => padded(i64::from(q), n),
                    3 => format!("Q{q}"),
                    4 => format!("{} quarter", ["1st", "2nd", "3rd", "4th"][q as usize - 1]),
                    _ => q.to_string(),
                }
            }
            'w' if n <= 2 => padded(i64::from(f.date.iso_week().week()), n),
            'E' if n <= 5 => text(
                DAYS[f.date.weekday().num_days_from_monday() as usize],
                n.max(3),
            ),
            'e' | 'c' => {
                let day = f.date.weekday();
                match n {
                    1 | 2 => padded(i64::from(day.number_from_sunday()), n),
                    _ => text(DAYS[day.num_days_from_monday() as usize], n),
                }
            }
            'F' if n == 1 => (((f.date.day() - 1) / 7) + 1).to_string(),
            'a' if n == 1 => if f.hour < 12 { "AM" } else { "PM" }.to_owned(),
            'h' if n <= 2 => padded(i64::from((f.hour + 11) % 12 + 1), n),
            'K' if n <= 2 => padded(i64::from(f.hour % 12), n),
            'k' if n <= 2 => padded(i64::from(if f.hour == 0 { 24 } else { f.hour }), n),
            'H' if n <= 2 => padded(i64::from(f.hour), n),
            'm' if n <= 2 => padded(i64::from(f.minute), n),
            's' if n <= 2 => padded(i64::from(f.second), n),
            'S' if n <= 9 => {
                let nanos = format!("{:09}", f.nanos);
                nanos[..n].to_owned()
            }
            'A' => padded(
                i64::from(
                    f.hour * 3_600_000 + f.minute * 60_000 + f.second * 1000 + f.nanos / 1_000_000,
                ),
                n,
            ),
            'n' => padded(i64::from(f.nanos), n),
            'N' => padded(
                i64::from(f.hour * 3600 + f.minute * 60 + f.second) * 1_000_000_000
                    + i64::from(f.nanos),
                n,
            ),
            'V' if n == 2 => f.zone_id.clone(),
            'z' if n <= 4 => f.zone_abbr.clone(),
            'O' if n == 1 || n == 4 => {
                let (h, m) = (f.offset_secs.abs() / 3600, f.offset_secs.abs() / 60 % 60);
                let sign = if f.offset_secs < 0 { '-' } else { '+' };
                match (f.offset_secs, n) {
                    (0, _) => "GMT".into(),
                    (_, 1) if m == 0 => format!("GMT{sign}{h}"),
                    (_, 1) => format!("GMT{sign}{h}:{m:02}"),
                    _ => format!("GMT{sign}{h:02}:{m:02}"),
                }
            }
            'X' | 'x' if n <= 5 => {
                if c == 'X' && f.offset_secs == 0 {
                    "Z".into()
                } else {
                    match n {
                        1 => format_offset(f.offset_secs, false, true),
                        2 | 4 => format_offset(f.offset_secs, false, false),
                        _ => format_offset(f.offset_secs, true, false),
                    }
                }
            }
            'Z' => match n {
                1..=3 => format_offset(f.offset_secs, false, false),
                4 if f.offset_secs == 0 => "GMT".into(),
                4 => format!("GMT{}", format_offset(f.offset_secs, true, false)),
                5 if f.offset_secs == 0 => "Z".into(),
                5 => format_offset(f.offset_secs, true, false),
                _ => return Err(too_many(c)),
            },
            _ => return Err(too_many(c)),
        };
        out.push_str(&piece);
    }
    Ok(out)
}

fn format_millis(ms: i64, pattern: &str, zone: Option<&str>) -> Result<String, TimeError> {
    let tokens = tokenize(pattern)?;
    let fields = fields_at(ms, parse_zone(zone)?)?;
    format_fields(&fields, &tokens)
}

/// Parses `text` with a Java pattern. Missing fields default to the start of
/// their range (1970-01-01T00:00), like a lenient `DateTimeFormatter` whose
/// defaults are set; an offset or zone in the text beats the `zone` argument.
fn parse_formatted(text: &str, pattern: &str, zone: Option<&str>) -> Result<i64, TimeError> {
    let tokens = tokenize(pattern)?;
    let fail = |index: usize| TimeError::ParseAt {
        text: text.to_owned(),
        index,
    };
    let mut pos = 0;
    let (mut year, mut month, mut day, mut ordinal) = (1970i64, 1u32, 1u32, None::<u32>);
    let (mut hour, mut minute, mut second, mut nanos) = (0u32, 0u32, 0u32, 0u32);
    let mut pm = None::<bool>;
    let mut hour12 = None::<u32>;
    let mut offset = None::<i32>;
    let mut text_zone = None::<Zone>;

    for (idx, token) in tokens.iter().enumerate() {
        let (c, n) = match token {
            Token::Literal(lit) => {
                if text[pos..].starts_with(lit.as_str()) {
                    pos += lit.len();
                    continue;
                }
                return Err(fail(pos));
            }
            Token::Field(c, n) => (*c, *n),
        };
        // Adjacent numeric fields (`yyyyMMdd`) read a fixed width each.
        let next_is_numeric = matches!(tokens.get(idx + 1), Some(Token::Field(nc, nn))
            if "yuYMLdDHhKkmsSAnN".contains(*nc) && !(matches!(nc, 'M' | 'L') && *nn >= 3));
        let signed = matches!(c, 'y' | 'u' | 'Y');
        let read_num = |pos: &mut usize, min: usize, max: usize| {
            read_number(text, pos, min, max, signed).ok_or_else(|| fail(*pos))
        };
        let width = |n: usize| if next_is_numeric { (n, n) } else { (n, 19) };
        match c {
            'y' | 'u' | 'Y' if n == 2 => {
                let (lo, _) = width(2);
                year = 2000 + read_num(&mut pos, lo, 2)?;
            }
            'y' | 'u' | 'Y' => {
                let (lo, hi) = width(n);
                year = read_num(&mut pos, lo, hi)?;
            }
            'M' | 'L' if n >= 3 => {
                month = read_name(text, &mut pos, &MONTHS, n).ok_or_else(|| fail(pos))? as u32 + 1;
            }
            'E' => {
                // The day of week is checked by Java; here it is only consumed.
                read_name(text, &mut pos, &DAYS, n.max(3)).ok_or_else(|| fail(pos))?;
            }
            'a' => {
                let rest = text[pos..].to_ascii_uppercase();
                if rest.starts_with("AM") {
                    pm = Some(false);
                } else if rest.starts_with("PM") {
                    pm = Some(true);
                } else {
                    return Err(fail(pos));
                }
                pos += 2;
            }
            'S' => {
                let start = pos;
                let (lo, hi) = if next_is_numeric { (n, n) } else { (1, 9) };
                let digits = read_num(&mut pos, lo, hi)?;
                let len = pos - start;
                nanos =
                    u32::try_from(digits * 10i64.pow(9 - len as u32)).map_err(|_| fail(start))?;
            }
            'X' | 'x' | 'Z' | 'O' => {
                let rest = &text[pos..];
                if (c == 'X' || (c == 'Z' && n == 5)) && rest.starts_with('Z') {
                    offset = Some(0);
                    pos += 1;
                    continue;
                }
                let rest_trim = rest.strip_prefix("GMT").unwrap_or(rest);
                if rest_trim.len() != rest.len() && !rest_trim.starts_with(['+', '-']) {
                    offset = Some(0);
                    pos += 3;
                    continue;
                }
                let skipped = rest.len() - rest_trim.len();
                let end = rest_trim
                    .char_indices()
                    .skip(1)
                    .find(|(_, ch)| !(ch.is_ascii_digit() || *ch == ':'))
                    .map_or(rest_trim.len(), |(i, _)| i);
                let off = parse_offset(&rest_trim[..end]).map_err(|_| fail(pos))?;
                offset = Some(off.local_minus_utc());
                pos += skipped + end;
            }
            'V' | 'z' => {
                let rest = &text[pos..];
                let end = rest
                    .find(|ch: char| {
                        !(ch.is_ascii_alphanumeric() || matches!(ch, '/' | '_' | '+' | '-' | ':'))
                    })
                    .unwrap_or(rest.len());
                text_zone = Some(parse_zone(Some(&rest[..end])).map_err(|_| fail(pos))?);
                pos += end;
            }
            _ => {
                let (lo, hi) = match c {
                    'y' | 'u' | 'Y' | 'A' | 'n' | 'N' => width(n),
                    'D' => {
                        if next_is_numeric {
                            (n, n)
                        } else {
                            (n, 3)
                        }
                    }
                    _ => {
                        if next_is_numeric {
                            (n, n)
                        } else {
                            (n, 2)
                        }
                    }
                };
                let v = read_num(&mut pos, lo, hi)?;
                let v32 = u32::try_from(v).map_err(|_| fail(pos))?;
                match c {
                    'M' | 'L' => month = v32,
                    'd' => day = v32,
                    'D' => ordinal = Some(v32),
                    'H' | 'k' => hour = v32 % 24,
                    'h' | 'K' => hour12 = Some(v32 % 12),
                    'm' => minute = v32,
                    's' => second = v32,
                    // Other numeric fields (week, quarter, ...) are read and ignored.
                    _ => {}
                }
            }
        }
    }
    if pos != text.len() {
        return Err(TimeError::Unparsed {
            text: text.to_owned(),
            index: pos,
        });
    }
    if let Some(h) = hour12 {
        hour = h + if pm == Some(true) { 12 } else { 0 };
    } else if pm == Some(true) && hour < 12 {
        hour += 12;
    }
    let year = i32::try_from(year).map_err(|_| fail(0))?;
    let date = match ordinal {
        Some(d) => NaiveDate::from_yo_opt(year, d),
        None => NaiveDate::from_ymd_opt(year, month, day),
    }
    .ok_or_else(|| TimeError::InvalidDate(text.to_owned()))?;
    let local = date
        .and_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| TimeError::InvalidTime(text.to_owned()))?;
    let zone = match (offset, text_zone) {
        (Some(off), _) => Zone::Fixed(FixedOffset::east_opt(off).ok_or_else(|| fail(0))?),
        (None, Some(z)) => z,
        (None, None) => parse_zone(zone)?,
    };
    let instant = match zone {
        Zone::Region(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.timestamp_millis()),
        Zone::Fixed(off) => off
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.timestamp_millis()),
    };
    instant.ok_or_else(|| TimeError::NoSuchLocalTime(text.to_owned()))
}

/// Reads `min..=max` digits (and a leading `-` for years) at `pos`.
fn read_number(text: &str, pos: &mut usize, min: usize, max: usize, signed: bool) -> Option<i64> {
    let bytes = text.as_bytes();
    let start = *pos;
    let mut end = start;
    if signed && bytes.get(end) == Some(&b'-') {
        end += 1;
    }
    let digits_start = end;
    while end < bytes.len() && end - digits_start < max && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end - digits_start < min {
        return None;
    }
    let n = text[start..end].parse::<i64>().ok()?;
    *pos = end;
    Some(n)
}

/// Matches a month or day name (full or abbreviated per `count`), ignoring case.
fn read_name(text: &str, pos: &mut usize, names: &[&str], count: usize) -> Option<usize> {
    let rest = text[*pos..].to_ascii_lowercase();
    for (idx, name) in names.iter().enumerate() {
        let name = text_name(name, count).to_ascii_lowercase();
        if rest.starts_with(&name) {
            *pos += name.len();
            return Some(idx);
        }
    }
    None
}

fn text_name(full: &str, count: usize) -> String {
    text(full, count)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::testing::check;
    use super::{format_millis, parse_formatted};

    proptest! {
        /// Any pattern, instant, zone and text: a result or an error, never a panic.
        #[test]
        fn formatting_and_parsing_never_panic(
            pattern in "[yMdHhmsSaEzZXxVGuDQwkKAnNOe' :.,/-]{0,14}",
            ms in -100_000_000_000_000i64..100_000_000_000_000i64,
            zone in prop_oneof![Just(None), Just(Some("+05:30")), Just(Some("America/New_York")), Just(Some("bogus"))],
            text in "[0-9A-Za-z :+./-]{0,20}",
        ) {
            if let Ok(formatted) = format_millis(ms, &pattern, zone) {
                let _ = parse_formatted(&formatted, &pattern, zone);
            }
            let _ = parse_formatted(&text, &pattern, zone);
        }

        /// Full date-times round-trip through format and parse.
        #[test]
        fn full_patterns_round_trip(ms in 0i64..4_102_444_800_000i64) {
            for pattern in ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "EEE, d MMM yyyy HH:mm:ss.SSS Z", "yyyyMMddHHmmssSSS"] {
                let formatted = format_millis(ms, pattern, Some("Asia/Kolkata")).expect("format");
                prop_assert_eq!(parse_formatted(&formatted, pattern, Some("Asia/Kolkata")), Ok(ms), "{}", formatted);
            }
        }
    }

    #[test]
    fn clock() {
        let cases = [
            ("nowISO8601", "[]", r#""2018-02-06T19:01:35.749Z""#),
            ("nowEpochSeconds", "[]", "1517943695"),
            ("nowEpochMilliSeconds", "[]", "1517943695749"),
            (
                "nowEpochSeconds",
                "[1]",
                "!Invalid: Invalid arguments for $util.time.nowEpochSeconds(Number): expected nowEpochSeconds()",
            ),
            (
                "epochMilliSecondsToSeconds",
                "[1517943695749]",
                "1517943695",
            ),
            (
                "epochMilliSecondsToISO8601",
                "[1517943695000]",
                r#""2018-02-06T19:01:35.000Z""#,
            ),
            (
                "epochMilliSecondsToISO8601",
                "[0]",
                r#""1970-01-01T00:00:00.000Z""#,
            ),
            (
                "epochMilliSecondsToISO8601",
                r#"["x"]"#,
                "!Invalid: Invalid arguments for $util.time.epochMilliSecondsToISO8601(String): expected epochMilliSecondsToISO8601(long)",
            ),
        ];
        for (method, args, want) in cases {
            check("util.time", method, args, want);
        }
    }

    #[test]
    fn formatting() {
        let cases = [
            // The DG's examples.
            (
                "nowFormatted",
                r#"["yyyy-MM-dd HH:mm:ssZ"]"#,
                r#""2018-02-06 19:01:35+0000""#,
            ),
            (
                "nowFormatted",
                r#"["yyyy-MM-dd HH:mm:ssZ", "+08:00"]"#,
                r#""2018-02-07 03:01:35+0800""#,
            ),
            (
                "nowFormatted",
                r#"["yyyy-MM-dd HH:mm:ssZ", "Australia/Perth"]"#,
                r#""2018-02-07 03:01:35+0800""#,
            ),
            (
                "epochMilliSecondsToFormatted",
                r#"[1517943695750, "yyyy-MM-dd HH:mm:ssZ"]"#,
                r#""2018-02-06 19:01:35+0000""#,
            ),
            (
                "epochMilliSecondsToFormatted",
                r#"[1517943695750, "yyyy-MM-dd HH:mm:ssZ", "+08:00"]"#,
                r#""2018-02-07 03:01:35+0800""#,
            ),
            (
                "nowFormatted",
                r#"["EEE, d MMM yyyy hh:mm a z", "America/Los_Angeles"]"#,
                r#""Tue, 6 Feb 2018 11:01 AM PST""#,
            ),
            (
                "nowFormatted",
                r#"["EEEE MMMM dd yy 'at' H:m:s.SSS '''q''' XXX", "Asia/Kolkata"]"#,
                r#""Wednesday February 07 18 at 0:31:35.749 'q' +05:30""#,
            ),
            (
                "nowFormatted",
                r#"["X XX XXX x xxx ZZZZ ZZZZZ O", "-03:30"]"#,
                r#""-0330 -0330 -03:30 -0330 -03:30 GMT-03:30 -03:30 GMT-3:30""#,
            ),
            (
                "nowFormatted",
                r#"["X XXX ZZZZ ZZZZZ z VV"]"#,
                r#""Z Z GMT Z UTC UTC""#,
            ),
            (
                "nowFormatted",
                r#"["D w Q G k K h S SSSSSS"]"#,
                r#""37 6 1 AD 19 7 7 7 749000""#,
            ),
            ("nowFormatted", r#"["yyyy", "GMT+8"]"#, r#""2018""#),
            (
                "nowFormatted",
                r#"["yyyy", "Mars/Base"]"#,
                "!Invalid: Unknown time-zone ID: Mars/Base",
            ),
            (
                "nowFormatted",
                r#"["yyyy", "+25:00"]"#,
                "!Invalid: Invalid ID for ZoneOffset, invalid format: +25:00",
            ),
            (
                "nowFormatted",
                r#"["yyyy-MM-dd bb"]"#,
                "!Invalid: Unknown pattern letter: b",
            ),
            (
                "nowFormatted",
                r#"["HHH"]"#,
                "!Invalid: Too many pattern letters: H",
            ),
            (
                "nowFormatted",
                r#"["'open"]"#,
                "!Invalid: Pattern ends with an incomplete string literal: 'open",
            ),
        ];
        for (method, args, want) in cases {
            check("util.time", method, args, want);
        }
    }

    #[test]
    fn parsing() {
        let cases = [
            // The DG's examples.
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["2018-02-01 17:21:05.180+0800", "yyyy-MM-dd HH:mm:ss.SSSZ"]"#,
                "1517476865180",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["2018-02-01 17:21:05.180", "yyyy-MM-dd HH:mm:ss.SSS", "+08:00"]"#,
                "1517476865180",
            ),
            (
                "parseISO8601ToEpochMilliSeconds",
                r#"["2018-02-01T17:21:05.180+08:00"]"#,
                "1517476865180",
            ),
            (
                "parseISO8601ToEpochMilliSeconds",
                r#"["2018-02-01T09:21:05.180Z"]"#,
                "1517476865180",
            ),
            (
                "parseISO8601ToEpochMilliSeconds",
                r#"["2018-02-01T09:21:05"]"#,
                "1517476865000",
            ),
            (
                "parseISO8601ToEpochMilliSeconds",
                r#"["yesterday"]"#,
                "!Invalid: Text 'yesterday' could not be parsed as an ISO 8601 date-time",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["20180201", "yyyyMMdd"]"#,
                "1517443200000",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["Thu, 1 Feb 2018 05:21 PM", "EEE, d MMM yyyy hh:mm a", "Asia/Singapore"]"#,
                "1517476860000",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["01/02/2018 17:21 America/New_York", "dd/MM/yyyy HH:mm VV"]"#,
                "1517523660000",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["2018-02-01T17:21:05Z", "yyyy-MM-dd'T'HH:mm:ssX", "+08:00"]"#,
                "1517505665000",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["2018-02-01", "yyyy-MM-dd HH"]"#,
                "!Invalid: Text '2018-02-01' could not be parsed at index 10",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["2018-02-01x", "yyyy-MM-dd"]"#,
                "!Invalid: Text '2018-02-01x' could not be parsed, unparsed text found at index 10",
            ),
            (
                "parseFormattedToEpochMilliSeconds",
                r#"["2018-02-30", "yyyy-MM-dd"]"#,
                "!Invalid: Text '2018-02-30' could not be parsed: invalid date",
            ),
        ];
        for (method, args, want) in cases {
            check("util.time", method, args, want);
        }
    }
}
