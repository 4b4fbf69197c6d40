//! Credentials: the `Authorization` header, built from the config or from files.
//!
//! Basic auth (a user and a password), an Elasticsearch API key (as Elasticsearch returns it: the
//! base64 of `id:key`; a raw `id:key` is encoded here) or a bearer token. Each sink maps its own
//! `auth` table to a [`Scheme`]. Files are read at start and again after every 401/403, so that a rotated Kubernetes
//! Secret takes effect without a restart. A file that cannot be read is not fatal: the sink
//! keeps retrying and reading it. Header values are marked sensitive and never logged.

use std::path::PathBuf;
use std::sync::Mutex;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use thiserror::Error;

use super::config::Secret;

/// Why credentials could not be built.
#[derive(Debug, Error)]
pub enum AuthError {
    #[error("cannot read credential file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("credential file {0} is empty")]
    Empty(PathBuf),
    #[error("credentials hold characters not allowed in an HTTP header")]
    InvalidHeader,
}

/// Where a secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Inline(Secret),
    File(PathBuf),
}

impl SecretSource {
    /// The inline secret when there is one, else the file; `None` without either.
    pub fn of(inline: &Option<Secret>, file: &Option<PathBuf>) -> Option<SecretSource> {
        match (inline, file) {
            (Some(s), _) => Some(SecretSource::Inline(s.clone())),
            (None, Some(p)) => Some(SecretSource::File(p.clone())),
            (None, None) => None,
        }
    }

    fn read(&self) -> Result<String, AuthError> {
        match self {
            SecretSource::Inline(s) => Ok(s.expose().to_owned()),
            SecretSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| AuthError::Read {
                    path: path.clone(),
                    error,
                })?;
                // Secrets mounted from files often end with a newline.
                let value = text.trim_end_matches(['\r', '\n']).to_owned();
                if value.is_empty() {
                    return Err(AuthError::Empty(path.clone()));
                }
                Ok(value)
            }
        }
    }

    fn is_file(&self) -> bool {
        matches!(self, SecretSource::File(_))
    }
}

/// How requests authenticate.
#[derive(Debug, Clone)]
pub enum Scheme {
    /// `Basic base64(user:password)`.
    Basic {
        user: String,
        password: SecretSource,
    },
    /// `ApiKey <key>` (Elasticsearch).
    ApiKey(SecretSource),
    /// `Bearer <token>`.
    Bearer(SecretSource),
}

/// The credentials of one sink, shared by its requests.
#[derive(Debug)]
pub struct Credentials {
    scheme: Option<Scheme>,
    header: Mutex<Option<HeaderValue>>,
}

impl Credentials {
    /// Credentials of `scheme` (`None`: no `Authorization` header); files are read by
    /// [`reload`](Self::reload).
    pub fn new(scheme: Option<Scheme>) -> Credentials {
        Credentials {
            scheme,
            header: Mutex::new(None),
        }
    }

    /// True when some credential comes from a file.
    pub fn uses_files(&self) -> bool {
        match &self.scheme {
            Some(Scheme::Basic { password, .. }) => password.is_file(),
            Some(Scheme::ApiKey(s) | Scheme::Bearer(s)) => s.is_file(),
            None => false,
        }
    }

    /// (Re)builds the header, reading files again.
    pub fn reload(&self) -> Result<(), AuthError> {
        let header = match &self.scheme {
            None => return Ok(()),
            Some(scheme) => build_header(scheme)?,
        };
        if let Ok(mut slot) = self.header.lock() {
            *slot = Some(header);
        }
        Ok(())
    }

    /// The header to send; reads the files first if they were never read successfully.
    pub fn header(&self) -> Result<Option<HeaderValue>, AuthError> {
        if self.scheme.is_none() {
            return Ok(None);
        }
        if let Some(h) = self.header.lock().ok().and_then(|h| h.clone()) {
            return Ok(Some(h));
        }
        self.reload()?;
        Ok(self.header.lock().ok().and_then(|h| h.clone()))
    }
}

fn build_header(scheme: &Scheme) -> Result<HeaderValue, AuthError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let text = match scheme {
        Scheme::Basic { user, password } => {
            let password = password.read()?;
            format!("Basic {}", b64.encode(format!("{user}:{password}")))
        }
        Scheme::ApiKey(key) => {
            let key = key.read()?;
            let key = key.trim();
            // The encoded form is base64, which has no ':'; `id:key` is encoded here.
            if key.contains(':') {
                format!("ApiKey {}", b64.encode(key))
            } else {
                format!("ApiKey {key}")
            }
        }
        Scheme::Bearer(token) => format!("Bearer {}", token.read()?.trim()),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| AuthError::InvalidHeader)?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml_text: &str) -> Option<Scheme> {
        let c: crate::sinks::elasticsearch::config::AuthConfig = toml::from_str(toml_text).unwrap();
        c.scheme()
    }

    #[test]
    fn basic_header() {
        let c = Credentials::new(config("user = \"elastic\"\npassword = \"changeme\""));
        let h = c.header().unwrap().unwrap();
        assert_eq!(h.to_str().unwrap(), "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");
        assert!(h.is_sensitive());
        assert!(!format!("{h:?}").contains("ZWxh"));
    }

    #[test]
    fn api_keys_encoded_or_not() {
        let c = Credentials::new(config(
            "api_key = \"VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\"",
        ));
        assert_eq!(
            c.header().unwrap().unwrap().to_str().unwrap(),
            "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
        );
        let c = Credentials::new(config("api_key = \"id:key\""));
        assert_eq!(
            c.header().unwrap().unwrap().to_str().unwrap(),
            "ApiKey aWQ6a2V5"
        );
    }

    #[test]
    fn files_are_read_again_on_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password");
        let c = Credentials::new(config(&format!(
            "user = \"u\"\npassword_file = {:?}",
            path.display().to_string()
        )));
        assert!(c.uses_files());
        assert!(matches!(c.header(), Err(AuthError::Read { .. })));
        std::fs::write(&path, "one\n").unwrap();
        let first = c.header().unwrap().unwrap();
        std::fs::write(&path, "two\n").unwrap();
        assert_eq!(c.header().unwrap().unwrap(), first, "cached until reload");
        c.reload().unwrap();
        assert_ne!(c.header().unwrap().unwrap(), first);
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(c.reload(), Err(AuthError::Empty(_))));
    }

    #[test]
    fn bearer_header() {
        let c = Credentials::new(Some(Scheme::Bearer(SecretSource::Inline(Secret::from(
            "t0k3n",
        )))));
        let h = c.header().unwrap().unwrap();
        assert_eq!(h.to_str().unwrap(), "Bearer t0k3n");
        assert!(h.is_sensitive());
    }

    #[test]
    fn no_auth_no_header() {
        assert!(Credentials::new(None).header().unwrap().is_none());
    }
}
