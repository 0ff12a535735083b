//! Database URLs: which backend, and where.

use std::path::PathBuf;

use crate::error::StoreError;

/// A parsed database URL.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (`sqlite:PATH` or `sqlite://PATH`).
    Sqlite(PathBuf),
    /// A PostgreSQL URL, kept whole for the driver.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err(StoreError::UnsupportedUrl("sqlite: (no path)".into()));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(rest)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        Err(StoreError::UnsupportedUrl(redact_url(raw)))
    }

    /// The URL with any password replaced, safe for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite:{}", p.display()),
            DatabaseUrl::Postgres(raw) => redact_url(raw),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub(crate) fn redact_url(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.chars().take(100).collect();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            // the query string may carry a password too
            let tail = tail.split_once('?').map_or(tail, |(path, _)| path);
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => {
            let tail = tail.split_once('?').map_or(tail, |(path, _)| path);
            format!("{scheme}://{authority}{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_backends_and_refuses_others() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite:/tmp/x.db"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("mysql://u:pw@h/db").is_err());
    }

    #[test]
    fn redaction_hides_passwords() {
        let url =
            DatabaseUrl::parse("postgres://svc:S3cret!@db.example.test:5432/im?password=S3cret!");
        let shown = format!("{:?}", url.ok());
        assert!(!shown.contains("S3cret"), "{shown}");
        assert!(shown.contains("svc"));
        assert!(!redact_url("mysql://a:S3cret@h").contains("S3cret"));
    }
}
