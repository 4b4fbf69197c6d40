//! Tests of the Fluent Bit dialect's reading. The peers' own vectors run through the public API
//! in tests/fidelity_time.rs; these pin the rules one by one.

use super::*;
use proptest::prelude::*;

fn read_at(format: &str, s: &str, zone: &Timezone, now: &str) -> Option<String> {
    let now = DateTime::parse_from_rfc3339(now).unwrap().to_utc();
    FluentBitFormat::compile(format)
        .unwrap()
        .read(s.as_bytes(), zone, Now::At(now))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn read(format: &str, s: &str) -> Option<String> {
    read_at(format, s, &Timezone::Utc, "2026-06-01T00:00:00Z")
}

#[test]
fn fractions_take_one_to_nine_digits() {
    let f = "%Y-%m-%dT%H:%M:%S.%L";
    assert_eq!(
        read(f, "2026-11-26T04:00:00.1").as_deref(),
        Some("2026-11-26T04:00:00.100Z")
    );
    assert_eq!(
        read(f, "2026-11-26T04:00:00.123456789Z").as_deref(),
        Some("2026-11-26T04:00:00.123456789Z")
    );
    // Digits past the ninth are left to the rest of the format, here nothing: ignored.
    assert_eq!(
        read(f, "2026-11-26T04:00:00.1234567891234").as_deref(),
        Some("2026-11-26T04:00:00.123456789Z")
    );
    assert_eq!(read(f, "2026-11-26T04:00:00."), None);
    assert_eq!(read(f, "2026-11-26T04:00:00"), None);
    // ... but an offset after them then fails, as in Fluent Bit.
    assert_eq!(read("%S.%L%z", "00.1234567891+0000"), None);
}

#[test]
fn offsets_in_every_spelling() {
    let f = "%Y-%m-%dT%H:%M:%S.%L%z";
    for (text, want) in [
        ("2026-11-26T04:00:00.5Z", "2026-11-26T04:00:00.500Z"),
        ("2026-11-26T04:00:00.5+02:00", "2026-11-26T02:00:00.500Z"),
        ("2026-11-26T04:00:00.5+0200", "2026-11-26T02:00:00.500Z"),
        ("2026-11-26T04:00:00.5+02", "2026-11-26T02:00:00.500Z"),
        ("2026-11-26T04:00:00.5-0130", "2026-11-26T05:30:00.500Z"),
        ("2026-11-26T04:00:00.5 UTC", "2026-11-26T04:00:00.500Z"),
        ("2026-11-26T04:00:00.5GMT", "2026-11-26T04:00:00.500Z"),
        ("2026-11-26T04:00:00.5pdt", "2026-11-26T11:00:00.500Z"),
    ] {
        assert_eq!(read(f, text).as_deref(), Some(want), "{text}");
    }
    for bad in [
        "2026-11-26T04:00:00.5",
        "2026-11-26T04:00:00.5+2",
        "2026-11-26T04:00:00.5+02:3",
        "2026-11-26T04:00:00.5gmt",
    ] {
        assert_eq!(read(f, bad), None, "{bad}");
    }
}

#[test]
fn numbers_take_at_most_their_width() {
    // `%d` stops before a digit that would pass 31; `%Y` takes four digits.
    assert_eq!(
        read("%d%m%Y", "4122026").as_deref(),
        Some("2026-12-04T00:00:00Z")
    );
    assert_eq!(
        read("%Y%m%d", "20261204").as_deref(),
        Some("2026-12-04T00:00:00Z")
    );
    assert_eq!(read("%Y-%m-%d", "2026-13-01"), None);
    assert_eq!(
        read("%Y-%m-%d", "2026-1-5").as_deref(),
        Some("2026-01-05T00:00:00Z")
    );
    // Day 31 of a 30-day month rolls over, as timegm does.
    assert_eq!(
        read("%Y-%m-%d", "2026-04-31").as_deref(),
        Some("2026-05-01T00:00:00Z")
    );
    assert_eq!(
        read("%F %T", "2026-12-31 23:59:60").as_deref(),
        Some("2027-01-01T00:00:00Z")
    );
}

#[test]
fn names_spaces_and_twelve_hour_clocks() {
    assert_eq!(
        read("%a %b %e %H:%M:%S %Y", "Thu Nov  5 04:00:00 2026").as_deref(),
        Some("2026-11-05T04:00:00Z")
    );
    assert_eq!(
        read(
            "%A, %B %d %Y %I:%M %p",
            "thursday, NOVEMBER 05 2026 12:30 am"
        )
        .as_deref(),
        Some("2026-11-05T00:30:00Z")
    );
    assert_eq!(
        read("%F %I:%M %p", "2026-11-05 01:30 PM").as_deref(),
        Some("2026-11-05T13:30:00Z")
    );
    assert_eq!(read("%F %H %p", "2026-11-05 13 PM"), None);
    // Whitespace in the format takes any run of it, or none.
    assert_eq!(read(" %F  %T ", "\t2026-11-05T10:00:00").as_deref(), None);
    assert_eq!(
        read(" %F %T ", "  2026-11-05 \n 10:00:00  ").as_deref(),
        Some("2026-11-05T10:00:00Z")
    );
    assert_eq!(
        read("%F%n%T", "2026-11-05  10:00:00").as_deref(),
        Some("2026-11-05T10:00:00Z")
    );
}

#[test]
fn two_digit_years_and_centuries() {
    assert_eq!(
        read("%y-%m-%d", "15-01-02").as_deref(),
        Some("2015-01-02T00:00:00Z")
    );
    assert_eq!(
        read("%y-%m-%d", "69-01-02").as_deref(),
        Some("1969-01-02T00:00:00Z")
    );
    assert_eq!(
        read("%C %y-%m-%d", "19 15-01-02").as_deref(),
        Some("1915-01-02T00:00:00Z")
    );
    assert_eq!(
        read("%D", "01/02/15").as_deref(),
        Some("2015-01-02T00:00:00Z")
    );
    assert_eq!(
        read("%Y %j", "2026 060").as_deref(),
        Some("2026-03-01T00:00:00Z")
    );
}

#[test]
fn epochs_are_instants() {
    let tokyo = Timezone::Fixed(9 * 3600);
    assert_eq!(
        read_at("%s", "1678608000", &tokyo, "2026-06-01T00:00:00Z").as_deref(),
        Some("2023-03-12T08:00:00Z")
    );
    assert_eq!(
        read("%s.%L", "1678608000.25").as_deref(),
        Some("2023-03-12T08:00:00.250Z")
    );
    assert_eq!(read("%s", "922337203685477580"), None);
    assert_eq!(read("%s", "x"), None);
}

#[test]
fn the_zone_applies_only_without_an_offset() {
    let plus9 = Timezone::Fixed(9 * 3600);
    let now = "2026-06-01T00:00:00Z";
    // Docker's format: the `Z` is text after the format, so the configured offset applies.
    assert_eq!(
        read_at(
            "%Y-%m-%dT%H:%M:%S.%L",
            "2026-05-01T09:00:00.5Z",
            &plus9,
            now
        )
        .as_deref(),
        Some("2026-05-01T00:00:00.500Z")
    );
    // A literal Z right after the seconds is UTC (Fluent Bit's `%SZ` test).
    assert_eq!(
        read_at("%Y-%m-%dT%H:%M:%SZ", "2026-05-01T09:00:00Z", &plus9, now).as_deref(),
        Some("2026-05-01T09:00:00Z")
    );
    assert_eq!(
        read_at("%F %T %z", "2026-05-01 09:00:00 +0100", &plus9, now).as_deref(),
        Some("2026-05-01T08:00:00Z")
    );
}

#[test]
fn year_less_formats_follow_the_clock() {
    let f = "%b %d %H:%M:%S";
    assert_eq!(
        read_at(f, "Feb 16 04:06:58", &Timezone::Utc, "2026-12-02T10:00:00Z").as_deref(),
        Some("2026-02-16T04:06:58Z")
    );
    assert_eq!(
        read_at(f, "Dec 31 23:59:59", &Timezone::Utc, "2027-01-01T00:00:05Z").as_deref(),
        Some("2026-12-31T23:59:59Z")
    );
    assert_eq!(
        read_at(
            "%H:%M:%S",
            "23:59:00",
            &Timezone::Utc,
            "2026-03-10T00:00:30Z"
        )
        .as_deref(),
        Some("2026-03-09T23:59:00Z")
    );
}

#[test]
fn the_input_must_last_as_long_as_the_format() {
    assert_eq!(read("%Y-%m-%d %H", "2026-05-01"), None);
    assert_eq!(
        read("%Y-%m-%d ", "2026-05-01").as_deref(),
        Some("2026-05-01T00:00:00Z")
    );
    assert_eq!(read("%Y-%m-%d%n", "2026-05-01"), None);
    // `%G` skips one character, whatever it is, then digits.
    assert_eq!(
        read("%G-%m-%d %Y", "x2026-05-01 2026").as_deref(),
        Some("2026-05-01T00:00:00Z")
    );
    assert_eq!(
        read("%G %Y-%m-%d", "2026 2025-05-01").as_deref(),
        Some("2025-05-01T00:00:00Z")
    );
}

proptest! {
    #[test]
    fn never_panics(s in prop::collection::vec(any::<u8>(), 0..48), fi in 0..6usize) {
        let formats = [
            "%Y-%m-%dT%H:%M:%S.%L%z", "%b %e %H:%M:%S", "%s.%L", "%c %Z", "%D %r", "%j %G %g %U",
        ];
        let f = FluentBitFormat::compile(formats[fi]).unwrap();
        let now = Now::At(DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        let _ = f.read(&s, &Timezone::Utc, now);
    }

    #[test]
    fn reads_what_it_writes(secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000) {
        let t = DateTime::from_timestamp(secs, nanos).unwrap();
        let text = t.format("%Y-%m-%dT%H:%M:%S.%9fZ").to_string();
        let f = FluentBitFormat::compile("%Y-%m-%dT%H:%M:%S.%L%z").unwrap();
        prop_assert_eq!(f.read(text.as_bytes(), &Timezone::Utc, Now::System), Some(t));
    }
}
