//! Tests of [`super`]: zones from the system's zoneinfo files (tzdata must be installed, as
//! .ci/run does), POSIX rules, offsets, and the rule for ambiguous and skipped local times.

use super::*;

fn lookup(tz: Option<&str>) -> ZoneLookup {
    ZoneLookup {
        tzdir: PathBuf::from(DEFAULT_TZDIR),
        tz: tz.map(str::to_owned),
        localtime: PathBuf::from("/nonexistent/localtime"),
    }
}

fn zone(name: &str) -> Timezone {
    Timezone::parse_with(name, &lookup(None)).unwrap()
}

fn at(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// Local wall-clock text as seconds, as the zone functions take it.
fn local(s: &str) -> i64 {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .unwrap()
        .and_utc()
        .timestamp()
}

#[test]
fn named_zones_follow_daylight_saving_time() {
    let ny = zone("America/New_York");
    assert_eq!(ny.offset_at(at("2026-01-15T12:00:00Z")), -5 * 3600);
    assert_eq!(ny.offset_at(at("2026-07-15T12:00:00Z")), -4 * 3600);
    assert_eq!(
        ny.local_to_utc(local("2017-07-17 16:17:03")),
        at("2017-07-17T20:17:03Z")
    );
    assert_eq!(
        ny.local_to_utc(local("2017-01-15 15:00:00")),
        at("2017-01-15T20:00:00Z")
    );
    let sydney = zone("Australia/Sydney");
    assert_eq!(
        sydney.local_to_utc(local("2017-01-15 15:00:00")),
        at("2017-01-15T04:00:00Z")
    );
    assert_eq!(
        sydney.local_to_utc(local("2017-07-17 16:17:03")),
        at("2017-07-17T06:17:03Z")
    );
}

#[test]
fn beyond_the_table_the_footer_rule_applies() {
    let ny = zone("America/New_York");
    assert_eq!(
        ny.local_to_utc(local("2077-07-04 12:00:00")),
        at("2077-07-04T16:00:00Z")
    );
    assert_eq!(
        ny.local_to_utc(local("2077-12-25 12:00:00")),
        at("2077-12-25T17:00:00Z")
    );
}

#[test]
fn ambiguous_and_skipped_times_take_the_offset_before_the_change() {
    let ny = zone("America/New_York");
    // Clocks go back on 2026-11-01 at 02:00 EDT: 01:30 happens at 05:30Z and at 06:30Z.
    assert_eq!(
        ny.local_to_utc(local("2026-11-01 01:30:00")),
        at("2026-11-01T05:30:00Z")
    );
    // Clocks go forward on 2026-03-08 at 02:00 EST: 02:30 never happens; read as EST.
    assert_eq!(
        ny.local_to_utc(local("2026-03-08 02:30:00")),
        at("2026-03-08T07:30:00Z")
    );
    // Either side of the changes, nothing special.
    assert_eq!(
        ny.local_to_utc(local("2026-03-08 03:00:00")),
        at("2026-03-08T07:00:00Z")
    );
    assert_eq!(
        ny.local_to_utc(local("2026-11-01 02:00:00")),
        at("2026-11-01T07:00:00Z")
    );
    let paris = zone("Europe/Paris");
    assert_eq!(
        paris.local_to_utc(local("2026-10-25 02:30:00")),
        at("2026-10-25T00:30:00Z")
    );
    assert_eq!(
        paris.local_to_utc(local("2026-03-29 02:30:00")),
        at("2026-03-29T01:30:00Z")
    );
}

#[test]
fn fixed_offsets_and_utc() {
    assert_eq!(zone("UTC"), Timezone::Utc);
    assert_eq!(zone("Z"), Timezone::Utc);
    assert_eq!(zone("+09:00"), Timezone::Fixed(9 * 3600));
    assert_eq!(zone("-0530"), Timezone::Fixed(-(5 * 3600 + 1800)));
    assert_eq!(zone("+09"), Timezone::Fixed(9 * 3600));
    assert_eq!(parse_offset("+00:59"), Ok(3540));
    assert_eq!(parse_offset("-0600"), Ok(-21600));
    for bad in [
        "0000", "+00:90", "--600", "+24:00", "+1", "+123", "+12:3x", "+",
    ] {
        assert!(parse_offset(bad).is_err(), "{bad}");
    }
    let plus = Timezone::Fixed(7200);
    let t = NaiveDateTime::parse_from_str("2026-07-01 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    assert_eq!(
        plus.to_utc(t).unwrap().to_rfc3339(),
        "2026-07-01T10:00:00+00:00"
    );
}

#[test]
fn missing_and_invalid_zones_are_config_errors() {
    let e = Timezone::parse_with("America/New_Yrok", &lookup(None)).unwrap_err();
    assert!(e.contains("America/New_Yrok"), "{e}");
    assert!(e.contains("/usr/share/zoneinfo"), "{e}");
    for bad in [
        "../../etc/passwd",
        "/etc/passwd",
        "Europe//Paris",
        "",
        "Euro pe",
    ] {
        let e = Timezone::parse_with(bad, &lookup(None)).unwrap_err();
        assert!(e.contains("invalid timezone"), "{bad}: {e}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Broken"), b"TZif2 but not really").unwrap();
    let broken = ZoneLookup {
        tzdir: dir.path().to_owned(),
        ..lookup(None)
    };
    let e = Timezone::parse_with("Broken", &broken).unwrap_err();
    assert!(e.contains("cannot read time zone `Broken`"), "{e}");
    let e = Timezone::parse_with("Europe/Paris", &broken).unwrap_err();
    assert!(e.contains(&dir.path().display().to_string()), "{e}");
}

#[test]
fn local_follows_tz_then_localtime() {
    // No TZ and no /etc/localtime: UTC.
    assert_eq!(
        Timezone::parse_with("local", &lookup(None)),
        Ok(Timezone::Utc)
    );
    assert_eq!(
        Timezone::parse_with("local", &lookup(Some(""))),
        Ok(Timezone::Utc)
    );
    let paris = Timezone::parse_with("local", &lookup(Some(":Europe/Paris"))).unwrap();
    assert_eq!(paris.offset_at(at("2026-07-01T00:00:00Z")), 7200);
    let rule = Timezone::parse_with("local", &lookup(Some("CET-1CEST,M3.5.0,M10.5.0/3"))).unwrap();
    assert_eq!(rule.offset_at(at("2026-07-01T00:00:00Z")), 7200);
    assert_eq!(
        rule.local_to_utc(local("2026-03-29 02:30:00")),
        at("2026-03-29T01:30:00Z")
    );
    let file =
        Timezone::parse_with("local", &lookup(Some("/usr/share/zoneinfo/Asia/Tokyo"))).unwrap();
    assert_eq!(file.offset_at(0), 9 * 3600);
    let e = Timezone::parse_with("local", &lookup(Some("Nowhere/Zone"))).unwrap_err();
    assert!(e.contains("Nowhere/Zone"), "{e}");
    let localtime = ZoneLookup {
        localtime: PathBuf::from("/usr/share/zoneinfo/Asia/Kolkata"),
        ..lookup(None)
    };
    let kolkata = Timezone::parse_with("local", &localtime).unwrap();
    assert_eq!(kolkata.offset_at(0), 5 * 3600 + 1800);
}

#[test]
fn today_is_the_zones_date() {
    let tokyo = zone("Asia/Tokyo");
    let now = DateTime::parse_from_rfc3339("2026-12-31T20:00:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(tokyo.today(now).unwrap().to_string(), "2027-01-01");
    assert_eq!(Timezone::Utc.today(now).unwrap().to_string(), "2026-12-31");
}

#[test]
fn leap_second_nanos_carry_where_chrono_cannot_hold_them() {
    assert_eq!(
        instant(59, 1_500_000_000).unwrap().timestamp_subsec_nanos(),
        1_500_000_000
    );
    let carried = instant(30, 1_500_000_000).unwrap();
    assert_eq!(
        (carried.timestamp(), carried.timestamp_subsec_nanos()),
        (31, 500_000_000)
    );
}
