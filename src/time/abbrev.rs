//! Zone abbreviations that Fluent Bit's `%Z` recognises, with their offsets: the common civil
//! ones (`PST`, `CEST`, `JST`...) and the military letters. An abbreviation matches only when
//! no letter or digit follows it, whatever its case.

const H: i32 = 3600;

/// (abbreviation, seconds east of UTC).
const ZONES: &[(&str, i32)] = &[
    // Universal time.
    ("GMT", 0),
    ("UTC", 0),
    ("UT", 0),
    ("Z", 0),
    // North America.
    ("EST", -5 * H),
    ("EDT", -4 * H),
    ("CST", -6 * H),
    ("CDT", -5 * H),
    ("MST", -7 * H),
    ("MDT", -6 * H),
    ("PST", -8 * H),
    ("PDT", -7 * H),
    ("AKST", -9 * H),
    ("AKDT", -8 * H),
    ("HST", -10 * H),
    ("HADT", -9 * H),
    ("AST", -4 * H),
    ("ADT", -3 * H),
    ("NST", -3 * H - H / 2),
    ("NDT", -2 * H - H / 2),
    // Europe.
    ("WET", 0),
    ("WEST", H),
    ("CET", H),
    ("CEST", 2 * H),
    ("EET", 2 * H),
    ("EEST", 3 * H),
    ("MSK", 3 * H),
    // South America.
    ("ART", -3 * H),
    ("BRT", -3 * H),
    ("BRST", -2 * H),
    ("CLT", -4 * H),
    ("CLST", -3 * H),
    // Australia and New Zealand.
    ("AEST", 10 * H),
    ("AEDT", 11 * H),
    ("ACST", 9 * H + H / 2),
    ("ACDT", 10 * H + H / 2),
    ("AWST", 8 * H),
    ("NZST", 12 * H),
    ("NZDT", 13 * H),
    // Asia.
    ("JST", 9 * H),
    ("KST", 9 * H),
    ("SGT", 8 * H),
    ("IST", 5 * H + H / 2),
    ("GST", 4 * H),
    ("ICT", 7 * H),
    ("WIB", 7 * H),
    ("WITA", 8 * H),
    ("WIT", 9 * H),
    ("MYT", 8 * H),
    ("BDT", 6 * H),
    ("NPT", 5 * H + 3 * H / 4),
    // Africa.
    ("WAT", H),
    ("CAT", 2 * H),
    ("EAT", 3 * H),
    ("SAST", 2 * H),
];

/// The offset of the abbreviation at the start of `s`, and its length.
pub fn lookup(s: &[u8]) -> Option<(i32, usize)> {
    let ends_at = |len: usize| !s.get(len).is_some_and(|b| b.is_ascii_alphanumeric());
    let known = ZONES.iter().find(|(name, _)| {
        s.len() >= name.len() && s[..name.len()].eq_ignore_ascii_case(name.as_bytes())
    });
    if let Some((name, off)) = known.filter(|(name, _)| ends_at(name.len())) {
        return Some((*off, name.len()));
    }
    military(s).filter(|_| ends_at(1)).map(|off| (off, 1))
}

/// A military zone letter: A..I are +1..+9 h, K..M +10..+12 h, N..Y -1..-12 h (J, the
/// observer's local time, is not a zone).
fn military(s: &[u8]) -> Option<i32> {
    let c = s.first()?.to_ascii_uppercase();
    let hours = match c {
        b'A'..=b'I' => i32::from(c - b'A') + 1,
        b'K'..=b'M' => i32::from(c - b'K') + 10,
        b'N'..=b'Y' => -(i32::from(c - b'N') + 1),
        _ => return None,
    };
    Some(hours * H)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whole_and_in_any_case() {
        assert_eq!(lookup(b"PST"), Some((-8 * H, 3)));
        assert_eq!(lookup(b"cest rest"), Some((2 * H, 4)));
        assert_eq!(lookup(b"WITA"), Some((8 * H, 4)));
        assert_eq!(lookup(b"WIT "), Some((9 * H, 3)));
        assert_eq!(lookup(b"NPT"), Some((5 * H + 45 * 60, 3)));
        assert_eq!(lookup(b"K"), Some((10 * H, 1)));
        assert_eq!(lookup(b"Y"), Some((-12 * H, 1)));
        assert_eq!(lookup(b"Z"), Some((0, 1)));
        assert_eq!(lookup(b"PSTX"), None);
        assert_eq!(lookup(b"J"), None);
        assert_eq!(lookup(b"Kx"), None);
        assert_eq!(lookup(b""), None);
    }
}
