//! Each translation rule on its own, the stock Fluent Bit patterns, refusals with their
//! columns, and properties over generated patterns.

use super::*;
use proptest::prelude::*;

fn ok(onigmo: &str) -> String {
    to_rust(onigmo).unwrap_or_else(|e| panic!("{onigmo}: {e}"))
}

fn refused(onigmo: &str) -> (String, usize) {
    match to_rust(onigmo) {
        Err(OnigmoError::Unsupported {
            construct, column, ..
        }) => (construct, column),
        other => panic!("{onigmo}: expected a refusal, got {other:?}"),
    }
}

fn invalid(onigmo: &str) -> usize {
    match to_rust(onigmo) {
        Err(OnigmoError::Invalid { column, .. }) => column,
        other => panic!("{onigmo}: expected invalid, got {other:?}"),
    }
}

fn matches(rust: &str, hay: &str) -> bool {
    regex::Regex::new(rust).unwrap().is_match(hay)
}

#[test]
fn delimiters_and_options_as_fluent_bit_strips_them() {
    assert_eq!(ok("/abc/"), "abc");
    assert_eq!(ok("/abc/i"), "(?i)abc");
    assert_eq!(ok("/^abc/i"), "(?m)(?i)^abc");
    assert_eq!(ok("/a.c/m"), "(?s)a.c");
    assert_eq!(ok("/a b/x"), "ab");
    assert_eq!(ok("/a b/xo"), "ab");
    // An unknown option letter, or `o` alone: the pattern is taken as written.
    assert_eq!(ok("/abc/q"), "/abc/q");
    assert_eq!(ok("/abc/o"), "/abc/o");
    assert_eq!(ok("/abc"), "/abc");
    assert_eq!(ok("abc/"), "abc/");
    assert_eq!(ok("/"), "/");
    assert_eq!(ok("//"), "");
}

#[test]
fn line_anchors_are_multi_line() {
    assert_eq!(ok("^a$"), "(?m)^a$");
    let re = ok(r"^(?<t>\S+) (?<m>.*)$");
    // Ruby's `$` ends the match at the first line's end.
    let caps = regex::Regex::new(&re)
        .unwrap()
        .captures("12:00 first\n  second")
        .unwrap();
    assert_eq!(&caps["m"], "first");
    assert_eq!(ok(r"\Aa\z"), r"\Aa\z");
}

#[test]
fn angle_brackets_are_literal() {
    assert_eq!(ok(r"^\<(?<pri>[0-9]+)\>"), r"(?m)^<(?P<pri>[0-9]+)>");
    assert!(matches(&ok(r"\<14\>"), "<14>"));
    assert!(!matches(&ok(r"\<word\>"), "word"));
}

#[test]
fn character_types_are_ascii_and_hex_digits_exist() {
    assert_eq!(ok(r"\d\w\s"), r"[0-9][0-9A-Za-z_][\t\n\x0B\x0C\r ]");
    assert_eq!(ok(r"\D"), "[^0-9]");
    assert_eq!(ok(r"\h+\H"), "[0-9a-fA-F]+[^0-9a-fA-F]");
    assert_eq!(ok(r"[\h_]"), "[0-9a-fA-F_]");
    assert_eq!(ok(r"[\H]"), "[[^0-9a-fA-F]]");
    assert!(!matches(&ok(r"^\d$"), "٣"));
    assert!(matches(&ok(r"^(?u)\d$"), "٣"));
    // `\b` stays Unicode in Ruby syntax; `(?a)` makes it ASCII.
    assert_eq!(ok(r"\bx"), r"\bx");
    assert_eq!(ok(r"(?a)\bx"), r"(?:(?-u:\b)x)");
}

#[test]
fn end_anchors() {
    assert_eq!(ok(r"a\Z"), r"a\n?\z");
    assert!(matches(&ok(r"^a\Z"), "a\n"));
    assert_eq!(refused(r"(?<x>a\Z)").1, 7);
    assert_eq!(refused(r"a\Zb").1, 2);
}

#[test]
fn named_and_plain_groups() {
    assert_eq!(ok("(?<a>x)(?'b'y)(z)"), "(?P<a>x)(?P<b>y)(?:z)");
    assert_eq!(refused("(?<a>x)|(?<a>y)").0, "group name `a` used twice");
    assert_eq!(invalid("(?<1a>x)"), 4);
    assert_eq!(invalid("(?<>x)"), 4);
    assert_eq!(ok(r"a(?#comment \) escaped)b"), "ab");
}

#[test]
fn intervals_read_the_ruby_way() {
    assert_eq!(ok("a{,3}"), "a{0,3}");
    assert_eq!(ok("a{2}?"), "(?:a{2})?");
    assert_eq!(ok("a{2,3}?"), "a{2,3}?");
    assert_eq!(ok("a{2,3}+"), "(?:a{2,3})+");
    assert_eq!(ok("a{,}b{"), r"a\{,\}b\{");
    assert_eq!(ok("{x}"), r"\{x\}");
    assert_eq!(invalid("a{3,2}"), 2);
    assert_eq!(invalid("*a"), 1);
    assert_eq!(invalid("{2}"), 1);
}

#[test]
fn isolated_options_cover_the_rest_of_the_group() {
    assert_eq!(ok("x(?i)a|b"), "x(?i:a|b)");
    assert!(matches(&ok("^(?:x(?i)a|b)$"), "xB"));
    assert!(!matches(&ok("^(?:x(?i)a|b)$"), "b"));
    assert_eq!(ok("(?m:.)"), "(?s:.)");
    assert_eq!(ok("(?i-m:a)"), "(?i-s:a)");
    assert_eq!(ok("(?x: a b )c d"), "(?:ab)c d");
    assert_eq!(ok("(?x)[ a] # comment\nb"), "(?:[ a]b)");
}

#[test]
fn escapes() {
    assert_eq!(ok(r"\e\a\t"), r"\x{1B}\x{7}\x{9}");
    assert_eq!(ok(r"\x41\x{263A}\u0042"), "A☺B");
    assert_eq!(ok(r"\0\07\012"), r"\x{0}\x{7}\x{A}");
    assert_eq!(ok(r"\cA\C-b\c?"), r"\x{1}\x{2}\x{7F}");
    assert_eq!(ok(r#"\"\/\:\ \-"#), r#""/: \-"#);
    assert_eq!(ok(r"\q"), "q");
    assert_eq!(ok(r"\xE3\x81\x82"), r"(?-u:\xE3)(?-u:\x81)(?-u:\x82)");
    assert_eq!(ok(r"\R"), r"(?:\r\n|[\n\x0B\x0C\r\x{85}\x{2028}\x{2029}])");
    assert!(matches(&ok(r"^a\Rb$"), "a\r\nb"));
}

#[test]
fn classes() {
    assert_eq!(ok(r#"[^\"]"#), r#"[^"]"#);
    assert_eq!(ok(r"[]a]"), r"[\]a]");
    assert_eq!(ok(r"[a-z&&[^aeiou]]"), r"[a-z&&[^aeiou]]");
    assert_eq!(ok(r"[\<\>]"), "[<>]");
    assert_eq!(ok(r"[a\-z]"), r"[a\-z]");
    assert_eq!(ok(r"[-a-]"), r"[\-a\-]");
    assert_eq!(ok(r"[\x00-\x1F]"), r"[\x{0}-\x{1F}]");
    assert_eq!(ok(r"[\b]"), r"[\x{8}]");
    assert_eq!(ok("[:alpha:]"), "[:alpha:]");
    assert!(matches(&ok("^[[:alpha:]]$"), "é"));
    assert!(matches(&ok("^[[:^digit:]]$"), "x"));
    assert!(!matches(&ok("^(?a)[[:alpha:]]$"), "é"));
    assert!(matches(&ok(r"^\p{Alpha}\p{^Digit}\P{Space}$"), "éx!"));
    assert!(matches(&ok(r"^[[:punct:]]+$"), "$+<=>^`|~!"));
    assert_eq!(invalid("[[:nope:]]"), 2);
    assert_eq!(invalid("[z-a]"), 3);
    assert_eq!(invalid("[abc"), 1);
}

#[test]
fn refusals_name_the_construct_and_column() {
    assert_eq!(refused("ab(?=c)"), ("lookahead `(?=`".into(), 3));
    assert_eq!(refused("(?!c)"), ("negative lookahead `(?!`".into(), 1));
    assert_eq!(refused("x(?<=c)"), ("lookbehind `(?<=`".into(), 2));
    assert_eq!(refused("(?<!c)"), ("negative lookbehind `(?<!`".into(), 1));
    assert_eq!(refused(r"(a)\1"), ("backreference `\\1`".into(), 4));
    assert_eq!(refused(r"(?<a>x)\k<a>").1, 8);
    assert_eq!(refused(r"(?<a>x)\g<a>").1, 8);
    assert_eq!(refused("(?(1)a|b)").1, 1);
    assert_eq!(refused("(?~ab)").1, 1);
    assert_eq!(refused(r"a\Gb").1, 2);
    assert_eq!(refused(r"a\Kb").1, 2);
    assert_eq!(refused(r"\X").1, 1);
    assert_eq!(refused(r"\M-a").1, 1);
    // Columns count the delimiter.
    assert_eq!(refused("/ab(?=c)/").1, 4);
    let e = to_rust("ab(?=c)").unwrap_err().to_string();
    assert!(e.contains("lookahead `(?=` at column 3"), "{e}");
    assert_eq!(invalid("(ab"), 1);
    assert_eq!(invalid("ab)"), 3);
    assert!(matches!(
        to_rust(r"\p{NoSuchProperty}"),
        Err(OnigmoError::Rust { .. })
    ));
}

#[test]
fn possessive_and_atomic_rewritten_when_the_match_cannot_change() {
    // What follows cannot match what is repeated.
    assert_eq!(ok(r#""[^"]*+""#), r#""[^"]*""#);
    assert_eq!(ok(r"(?>[^ ]+) "), "(?:[^ ]+) ");
    assert_eq!(
        ok(r"(?<w>[a-z]++)(?<n>[0-9]+)"),
        "(?P<w>[a-z]+)(?P<n>[0-9]+)"
    );
    assert_eq!(ok(r"a\d?+b"), "a[0-9]?b");
    // At the end of the pattern, before `\z`, before `$` without newlines.
    assert_eq!(ok(r"x.*+"), "x.*");
    assert_eq!(ok(r"x[^\n]*+$"), r"(?m)x[^\x{A}]*$");
    assert_eq!(ok(r"x\w*+\z"), r"x[0-9A-Za-z_]*\z");
    // Through the end of a group.
    assert_eq!(ok(r"(?<k>[a-z]*+)=v"), "(?P<k>[a-z]*)=v");
    // An atomic group that matches one way only.
    assert_eq!(ok(r"(?>abc)"), "(?:abc)");
    assert_eq!(ok(r"(?>\d{4}-[^ ]*) x"), "(?:[0-9]{4}\\-[^ ]*) x");
    // Case-insensitivity counts.
    assert_eq!(refused(r"(?i)[a-c]*+B").0, "possessive quantifier `*+`");
    assert_eq!(refused(r"/[a-c]*+B/i").1, 7);
    // What follows could match what is repeated.
    assert_eq!(
        refused(r"[a-z]*+a"),
        ("possessive quantifier `*+`".into(), 6)
    );
    assert_eq!(refused(r"(?>a|ab)c").0, "atomic group `(?>`");
    assert_eq!(refused(r"(?:ab)++c").0, "possessive quantifier `++`");
    assert_eq!(refused(r"x[^\n]*+\n?$").1, 7);
    assert_eq!(refused(r"(?:a*+)*b").1, 5);
}

/// The stock Fluent Bit patterns, as `conf/parsers.conf` writes them, translate and match
/// their documented sample lines.
#[test]
fn stock_patterns_translate() {
    let rfc3164 = ok(
        r"/^\<(?<pri>[0-9]+)\>(?<time>[^ ]* {1,2}[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[a-zA-Z0-9_\/\.\-]*)(?:\[(?<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?<message>.*)$/",
    );
    let caps = regex::Regex::new(&rfc3164)
        .unwrap()
        .captures("<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed")
        .unwrap();
    assert_eq!(&caps["pri"], "34");
    assert_eq!(&caps["time"], "Oct 11 22:14:15");
    assert_eq!(&caps["host"], "mymachine");
    assert_eq!(&caps["ident"], "su");
    assert_eq!(&caps["pid"], "123");
    assert_eq!(&caps["message"], "'su root' failed");
    let mongo = ok(
        r"^(?<time>[^ ]*)\s+(?<severity>\w)\s+(?<component>[^ ]+)\s+\[(?<context>[^\]]+)]\s+(?<message>.*?) *(?<ms>(\d+))?(:?ms)?$",
    );
    let caps = regex::Regex::new(&mongo)
        .unwrap()
        .captures("2014-11-03T18:28:32.450-0500 I NETWORK [initandlisten] waiting for connections on port 27017 12ms")
        .unwrap();
    assert_eq!(&caps["ms"], "12");
}

/// A small pattern language whose meaning Onigmo and Rust share on ASCII text without
/// newlines: the translation must match exactly what the pattern matches in Rust.
fn shared_pattern() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[abc]",
        Just(".".to_owned()),
        Just("[^a]".to_owned()),
        Just("[a-c]".to_owned()),
        Just(r"\.".to_owned()),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| v.concat()),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(?:{a}|{b})")),
            (inner.clone(), "[a-z]{1,3}").prop_map(|(a, n)| format!("(?<{n}>{a})")),
            (
                inner.clone(),
                prop::sample::select(vec!["*", "+", "?", "*?", "{1,2}", "{2}"])
            )
                .prop_map(|(a, q)| format!("(?:{a}){q}")),
        ]
    })
}

proptest! {
    #[test]
    fn never_panics(p in "\\PC{0,24}") {
        let _ = to_rust(&p);
    }

    #[test]
    fn never_panics_on_regex_like_text(p in "[()\\[\\]{}\\\\^$|?*+.<>=!:#'a-c0-9,&~^-]{0,20}") {
        let _ = to_rust(&p);
    }

    #[test]
    fn shared_syntax_keeps_its_meaning(p in shared_pattern(), hay in "[abc.]{0,8}") {
        let Ok(theirs) = regex::Regex::new(&format!("^(?:{p})$")) else {
            // Repeated group names: refused by both.
            return Ok(());
        };
        let ours = regex::Regex::new(&format!("^(?:{})$", ok(&p))).unwrap();
        prop_assert_eq!(ours.is_match(&hay), theirs.is_match(&hay));
    }
}
