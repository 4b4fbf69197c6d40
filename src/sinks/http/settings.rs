//! From the `http` sink's config as written to the settings it runs with: every check that needs
//! no network or file, done once at load, with the TOML path of the culprit.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Url;

use super::config::{AuthConfig, Encoding, HttpConfig};
use crate::config::FieldError;
use crate::sinks::common::auth::{Scheme, SecretSource};
use crate::sinks::elasticsearch::template::IndexTemplate;

/// The checked, compiled settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The URI template.
    pub uri: IndexTemplate,
    /// Loki stream labels: (name, value template), in name order.
    pub labels: Vec<(String, IndexTemplate)>,
    /// User headers, sent with every request.
    pub headers: HeaderMap,
    /// The user set `Content-Type` (skiff then sets none).
    pub content_type_set: bool,
}

/// Checks `c` and compiles what the sink needs.
pub fn compile(c: &HttpConfig) -> Result<Settings, FieldError> {
    let uri = uri_template(&c.uri).map_err(|m| FieldError::new(&["uri"], m))?;
    let labels = labels(c)?;
    check_limits(c)?;
    check_auth(c.auth.as_ref())?;
    if c.tls.crt_file.is_some() != c.tls.key_file.is_some() {
        return Err(FieldError::new(
            &["tls"],
            "a client certificate needs both `crt_file` and `key_file`",
        ));
    }
    if c.timestamp_key.is_empty() {
        return Err(FieldError::new(&["timestamp_key"], "cannot be empty"));
    }
    let headers = headers(c)?;
    Ok(Settings {
        uri,
        labels,
        content_type_set: headers.contains_key(reqwest::header::CONTENT_TYPE),
        headers,
    })
}

/// Parses the URI template and checks that it renders to an http(s) URL.
fn uri_template(text: &str) -> Result<IndexTemplate, String> {
    if let Some(at) = percent_encoded(text) {
        return Err(format!(
            "`{}` looks like percent-encoding, but `%` starts a date specifier here: write the \
             character itself (skiff encodes spaces and the like), or `%%` for a literal `%`",
            &text[at..at + 3]
        ));
    }
    let template = IndexTemplate::parse(text)?;
    let mut probe = crate::sinks::elasticsearch::template::IndexRenderer::new(template.clone());
    let sample = probe.render(
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        crate::sinks::elasticsearch::template::FieldSource::Event(&Default::default()),
    );
    let sample = String::from_utf8_lossy(sample).into_owned();
    let url = Url::parse(&sample).map_err(|e| format!("invalid URI `{text}`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}`: the scheme must be http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials do not belong in the URI: use `auth`".into());
    }
    Ok(template)
}

/// The position of a `%XX` that reads as percent-encoding of a printable character (`%20`,
/// `%3D`), which the date specifiers would misread.
fn percent_encoded(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() + 1 && i < b.len() {
        if b[i] == b'%' {
            if b.get(i + 1) == Some(&b'%') {
                i += 2;
                continue;
            }
            if matches!(b.get(i + 1), Some(b'2'..=b'7'))
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

fn labels(c: &HttpConfig) -> Result<Vec<(String, IndexTemplate)>, FieldError> {
    match (&c.loki, c.encoding) {
        (Some(_), e) if e != Encoding::Loki => Err(FieldError::new(
            &["loki"],
            "`loki` needs `encoding = \"loki\"`",
        )),
        (None, Encoding::Loki) => Err(FieldError::new(
            &["loki", "labels"],
            "the Loki encoding needs at least one stream label, e.g. loki = { labels = { job = \"skiff\" } }",
        )),
        (None, _) => Ok(Vec::new()),
        (Some(loki), _) => {
            if loki.labels.is_empty() {
                return Err(FieldError::new(
                    &["loki", "labels"],
                    "name at least one stream label",
                ));
            }
            loki.labels
                .iter()
                .map(|(name, value)| {
                    let valid = name.chars().enumerate().all(|(i, ch)| {
                        ch == '_' || ch.is_ascii_alphabetic() || (i > 0 && ch.is_ascii_digit())
                    });
                    if !valid || name.is_empty() {
                        return Err(FieldError::new(
                            &["loki", "labels", name],
                            format!("`{name}` is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)"),
                        ));
                    }
                    IndexTemplate::parse(value)
                        .map(|t| (name.clone(), t))
                        .map_err(|m| FieldError::new(&["loki", "labels", name], m))
                })
                .collect()
        }
    }
}

fn check_limits(c: &HttpConfig) -> Result<(), FieldError> {
    if !(1..=64).contains(&c.max_in_flight) {
        return Err(FieldError::new(
            &["max_in_flight"],
            "must be between 1 and 64",
        ));
    }
    if c.batch.max_events == 0 {
        return Err(FieldError::new(
            &["batch", "max_events"],
            "must be at least 1",
        ));
    }
    if !(1024..=(1 << 30)).contains(&c.batch.max_bytes.0) {
        return Err(FieldError::new(
            &["batch", "max_bytes"],
            "must be between 1KiB and 1GiB",
        ));
    }
    for (path, zero) in [
        (&["batch", "timeout"][..], c.batch.timeout.get().is_zero()),
        (&["request_timeout"][..], c.request_timeout.get().is_zero()),
        (
            &["retry", "initial_backoff"][..],
            c.retry.initial_backoff.get().is_zero(),
        ),
    ] {
        if zero {
            return Err(FieldError::new(path, "must be more than 0"));
        }
    }
    if c.dead_letter.max_bytes.0 < 1024 {
        return Err(FieldError::new(
            &["dead_letter", "max_bytes"],
            "must be at least 1KiB",
        ));
    }
    Ok(())
}

fn check_auth(a: Option<&AuthConfig>) -> Result<(), FieldError> {
    let Some(a) = a else { return Ok(()) };
    let basic = a.user.is_some() || a.password.is_some() || a.password_file.is_some();
    let token = a.token.is_some() || a.token_file.is_some();
    let err = |m: &str| Err(FieldError::new(&["auth"], m));
    match (basic, token) {
        (true, true) => {
            err("use either basic auth (`user`, `password`) or a bearer token, not both")
        }
        (false, false) => {
            err("set `user` and `password` (or `password_file`), or `token` (or `token_file`)")
        }
        (true, false) if a.user.is_none() => err("basic auth needs a `user`"),
        (true, false) if a.password.is_some() == a.password_file.is_some() => {
            err("set one of `password` and `password_file`")
        }
        (false, true) if a.token.is_some() && a.token_file.is_some() => {
            err("set one of `token` and `token_file`")
        }
        _ => Ok(()),
    }
}

/// The scheme of a validated `auth` table.
pub fn scheme(a: &AuthConfig) -> Option<Scheme> {
    match &a.user {
        Some(user) => Some(Scheme::Basic {
            user: user.clone(),
            password: SecretSource::of(&a.password, &a.password_file)?,
        }),
        None => SecretSource::of(&a.token, &a.token_file).map(Scheme::Bearer),
    }
}

fn headers(c: &HttpConfig) -> Result<HeaderMap, FieldError> {
    let mut map = HeaderMap::new();
    for (name, value) in &c.headers {
        let at = |m: String| FieldError::new(&["headers", name], m);
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| at(format!("`{name}` is not a valid header name")))?;
        if matches!(n.as_str(), "content-encoding" | "content-length" | "host")
            || (n.as_str() == "authorization" && c.auth.is_some())
        {
            return Err(at(format!("`{name}` is set by skiff")));
        }
        let mut v = HeaderValue::from_str(value.expose())
            .map_err(|_| at(format!("the value of `{name}` is not a valid header value")))?;
        v.set_sensitive(true);
        map.insert(n, v);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile_str(text: &str) -> Result<Settings, FieldError> {
        compile(&toml::from_str(text).unwrap())
    }

    #[test]
    fn clickhouse_uri_with_spaces_compiles() {
        let s = compile_str(
            r#"uri = "http://127.0.0.1:8123/?query=INSERT INTO logs FORMAT JSONEachRow""#,
        )
        .unwrap();
        assert!(!s.content_type_set);
    }

    #[test]
    fn percent_encoding_is_refused_with_a_hint() {
        let e = compile_str(r#"uri = "http://ch:8123/?query=INSERT%20INTO%20t""#).unwrap_err();
        assert_eq!(e.path, ["uri"]);
        assert!(e.message.contains("%20"), "{}", e.message);
        assert!(compile_str(r#"uri = "http://ch/a%%20b""#).is_ok());
        assert!(compile_str(r#"uri = "http://ch/logs-%Y-%m-%d/{{ service }}""#).is_ok());
    }

    #[test]
    fn bad_settings_name_their_key() {
        for (text, path) in [
            (r#"uri = "ftp://x/""#, vec!["uri"]),
            (r#"uri = "http://u:p@x/""#, vec!["uri"]),
            (
                "uri = \"http://x/\"\nmax_in_flight = 0",
                vec!["max_in_flight"],
            ),
            (
                "uri = \"http://x/\"\nauth = { token = \"a\", user = \"u\" }",
                vec!["auth"],
            ),
            ("uri = \"http://x/\"\nauth = { user = \"u\" }", vec!["auth"]),
            (
                "uri = \"http://x/\"\nencoding = \"loki\"",
                vec!["loki", "labels"],
            ),
            (
                "uri = \"http://x/\"\nloki = { labels = { a = \"b\" } }",
                vec!["loki"],
            ),
            (
                "uri = \"http://x/\"\nencoding = \"loki\"\nloki = { labels = { \"1a\" = \"b\" } }",
                vec!["loki", "labels", "1a"],
            ),
            (
                "uri = \"http://x/\"\nheaders = { Host = \"h\" }",
                vec!["headers", "Host"],
            ),
            (
                "uri = \"http://x/\"\nbatch = { max_events = 0 }",
                vec!["batch", "max_events"],
            ),
        ] {
            let e = compile_str(text).unwrap_err();
            assert_eq!(e.path, path, "{text}: {}", e.message);
        }
    }

    #[test]
    fn schemes() {
        let a: AuthConfig = toml::from_str("token_file = \"/t\"").unwrap();
        assert!(matches!(
            scheme(&a),
            Some(Scheme::Bearer(SecretSource::File(_)))
        ));
        let a: AuthConfig = toml::from_str("user = \"u\"\npassword = \"p\"").unwrap();
        assert!(matches!(scheme(&a), Some(Scheme::Basic { .. })));
    }
}
