//! Tests of [`super::TimestampParser`]: formats tried in order, named formats, dialects, zones
//! and config errors.

use super::*;

fn p(format: &str, tz: &str) -> TimestampParser {
    TimestampParser::new(Some(format), &[], tz).unwrap()
}

fn fb(format: &str, tz: &str) -> TimestampParser {
    TimestampParser::build(Some(format), &[], Dialect::Fluentbit, tz).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn at(s: &str) -> Now {
    Now::At(utc(s))
}

#[test]
fn strftime_with_and_without_fast_path() {
    let t = p("%Y-%m-%dT%H:%M:%S%.3f", "UTC");
    assert_eq!(
        t.parse_str("2026-11-26T04:00:00.123"),
        Some(utc("2026-11-26T04:00:00.123Z"))
    );
    let slow = p("%d/%b/%Y:%H:%M:%S %z", "UTC");
    assert_eq!(
        slow.parse_str("26/Nov/2026:04:00:00 +0200"),
        Some(utc("2026-11-26T02:00:00Z"))
    );
    assert_eq!(
        p("%Y-%m-%d", "UTC").parse_str("2026-11-26"),
        Some(utc("2026-11-26T00:00:00Z"))
    );
    assert_eq!(t.parse_str("yesterday"), None);
}

#[test]
fn timezones_apply_to_local_times_only() {
    let fixed = p("%Y-%m-%dT%H:%M:%S%z", "+05:00");
    assert_eq!(
        fixed.parse_str("2026-07-01T12:00:00+0100"),
        Some(utc("2026-07-01T11:00:00Z"))
    );
    let minus = p("%Y-%m-%dT%H:%M:%S", "-02:30");
    assert_eq!(
        minus.parse_str("2026-07-01T12:00:00"),
        Some(utc("2026-07-01T14:30:00Z"))
    );
    let paris = p("%Y-%m-%d %H:%M:%S", "Europe/Paris");
    assert_eq!(
        paris.parse_str("2026-07-01 12:00:00"),
        Some(utc("2026-07-01T10:00:00Z"))
    );
    assert_eq!(
        paris.parse_str("2026-01-01 12:00:00"),
        Some(utc("2026-01-01T11:00:00Z"))
    );
    // An epoch is an instant, whatever the zone.
    assert_eq!(
        p("%s", "Europe/Paris").parse_str("0"),
        Some(utc("1970-01-01T00:00:00Z"))
    );
}

#[test]
fn named_formats() {
    let rfc = p("rfc3339", "UTC");
    assert_eq!(
        rfc.parse_str("2026-11-26T04:00:00.5+01:00"),
        Some(utc("2026-11-26T03:00:00.5Z"))
    );
    let unix = p("unix", "UTC");
    assert_eq!(
        unix.parse_str("1700000000.5"),
        Some(utc("2023-11-14T22:13:20.5Z"))
    );
    assert_eq!(
        unix.parse_value(&Value::Int(1_700_000_000)),
        Some(utc("2023-11-14T22:13:20Z"))
    );
    assert_eq!(
        unix.parse_value(&Value::Float(1.25)),
        Some(utc("1970-01-01T00:00:01.25Z"))
    );
    let ms = p("unix_ms", "UTC");
    assert_eq!(
        ms.parse_value(&Value::Int(1500)),
        Some(utc("1970-01-01T00:00:01.5Z"))
    );
    assert_eq!(ms.parse_str("1500"), Some(utc("1970-01-01T00:00:01.5Z")));
    // Named formats mean the same in the Fluent Bit dialect.
    assert_eq!(
        fb("unix_ms", "UTC").parse_str("1500"),
        Some(utc("1970-01-01T00:00:01.5Z"))
    );
}

#[test]
fn syslog_year_never_lies_in_the_future() {
    let t = p("rfc3164", "UTC");
    let read = |s: &str, now: &str| t.parse_str_at(s, at(now));
    assert_eq!(
        read("Dec 31 23:59:59", "2027-01-01T00:00:05Z"),
        Some(utc("2026-12-31T23:59:59Z"))
    );
    assert_eq!(
        read("Jan  1 00:00:01", "2026-12-31T23:59:59Z"),
        Some(utc("2027-01-01T00:00:01Z"))
    );
    // Read on December 2nd, February 16th is this year's (it used to be next year's).
    assert_eq!(
        read("Feb 16 04:06:58", "2026-12-02T10:00:00Z"),
        Some(utc("2026-02-16T04:06:58Z"))
    );
    assert_eq!(
        read("Nov 26 04:00:00", "2026-11-26T05:00:00Z"),
        Some(utc("2026-11-26T04:00:00Z"))
    );
    assert_eq!(
        read("Feb 29 10:00:00", "2028-03-01T00:00:00Z"),
        Some(utc("2028-02-29T10:00:00Z"))
    );
    // The current year is the zone's.
    let tokyo = p("rfc3164", "+09:00");
    assert_eq!(
        tokyo.parse_str_at("Jan  1 08:00:00", at("2026-12-31T23:30:00Z")),
        Some(utc("2026-12-31T23:00:00Z"))
    );
}

#[test]
fn dialects_read_the_same_text_their_own_way() {
    let docker = "2026-11-26T04:00:00.123456789Z";
    assert_eq!(
        fb("%Y-%m-%dT%H:%M:%S.%L", "UTC").parse_str(docker),
        Some(utc(docker))
    );
    assert_eq!(
        fb("%Y-%m-%dT%H:%M:%S.%L%z", "UTC").parse_str(docker),
        Some(utc(docker))
    );
    // chrono's `%.3f` takes exactly three digits, and `Z` is not an offset for `%z`.
    assert_eq!(p("%Y-%m-%dT%H:%M:%S%.3f", "UTC").parse_str(docker), None);
    assert_eq!(p("%Y-%m-%dT%H:%M:%S%.f%z", "UTC").parse_str(docker), None);
    assert_eq!(
        p("%Y-%m-%dT%H:%M:%S%.f%#z", "UTC").parse_str(docker),
        Some(utc(docker))
    );
}

#[test]
fn formats_are_tried_in_order() {
    let t = TimestampParser::new(None, &["unix".into(), "rfc3339".into()], "UTC").unwrap();
    assert_eq!(t.parse_str("12"), Some(utc("1970-01-01T00:00:12Z")));
    assert_eq!(
        t.parse_str("2026-11-26T04:00:00Z"),
        Some(utc("2026-11-26T04:00:00Z"))
    );
    let default = TimestampParser::new(None, &[], "UTC").unwrap();
    assert!(default.parse_str("2026-11-26T04:00:00Z").is_some());
    let both = TimestampParser::build(
        None,
        &["%b %d %H:%M:%S".into(), "%Y-%m-%dT%H:%M:%S.%L".into()],
        Dialect::Fluentbit,
        "UTC",
    )
    .unwrap();
    assert_eq!(
        both.parse_str("2026-11-26T04:00:00.5"),
        Some(utc("2026-11-26T04:00:00.5Z"))
    );
}

#[test]
fn config_errors_name_the_key() {
    let e = TimestampParser::new(Some("%Q"), &[], "UTC").unwrap_err();
    assert_eq!(e.path, vec!["format"]);
    assert!(e.message.contains("`%Q` (at character 1)"), "{}", e.message);
    let e = TimestampParser::new(None, &["rfc3339".into(), "%Y-%".into()], "UTC").unwrap_err();
    assert_eq!(e.path, vec!["formats", "1"]);
    let e = TimestampParser::new(None, &[], "Europe/Nowhere").unwrap_err();
    assert_eq!(e.path, vec!["timezone"]);
    assert!(e.message.contains("Europe/Nowhere"), "{}", e.message);
    let e = TimestampParser::new(Some("unix"), &["unix".into()], "UTC").unwrap_err();
    assert_eq!(e.path, vec!["formats"]);
    let e = TimestampParser::build(Some("%Y %K"), &[], Dialect::Fluentbit, "UTC").unwrap_err();
    assert_eq!(e.path, vec!["format"]);
    assert!(
        e.message
            .contains("`%K` (at character 4) is not a Fluent Bit"),
        "{}",
        e.message
    );
    assert!(TimestampParser::new(Some(""), &[], "UTC").is_err());
    assert!(Timezone::parse("+25:00").is_err());
}
