//! Keeping secrets out of logs, error messages and debug output.
//!
//! [`redact_url`] is the one way a database URL is shown anywhere: the
//! password of its user info and the value of every parameter whose name says
//! it carries a secret ([`is_secret_parameter`]) become `***`. The request
//! log shows request URIs through [`RedactedUri`], which does the same to
//! their parameters.

use std::borrow::Cow;
use std::fmt;

/// What a secret is shown as.
pub const REDACTED: &str = "***";

/// Whether a URL parameter's name says its value is a secret: `password`,
/// `sslpassword`, `PASSWORD`, `db_passwd`, `access_token`, `client-secret`,
/// `pwd`… Case, `-` and `_` do not count. (`sslkey` and `sslcert` name
/// files, not secrets.)
pub fn is_secret_parameter(name: &str) -> bool {
    let name: String = name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    ["password", "passwd", "secret", "token", "apikey", "credential"].iter().any(|word| name.contains(word))
        || matches!(name.as_str(), "pwd" | "pass" | "pw" | "key" | "auth" | "authorization")
}

/// `url` with its secrets replaced by `***`, for logs and messages.
///
/// The URL is read with the `url` crate, as the database driver reads it. A
/// URL it cannot read, or one with an `@` after the host (a password with an
/// unencoded `/`, `?` or `#` makes the reader take part of it for the host or
/// the path), is redacted by hand, erring on the side of hiding: everything up
/// to the last `@` after a `user:` is hidden, and so is any fragment.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed[url::Position::BeforePath..].contains('@') => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some(REDACTED));
            }
            if let Some(query) = parsed.query() {
                let query = redact_query(query).into_owned();
                parsed.set_query(Some(&query));
            }
            if parsed.fragment().is_some() {
                parsed.set_fragment(Some(REDACTED));
            }
            parsed.into()
        }
        _ => redact_by_hand(url),
    }
}

fn redact_by_hand(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let rest = match rest.rfind('@') {
        Some(at) if rest[..at].contains(':') => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{user}:{REDACTED}{}", &rest[at..])
        }
        _ => rest.to_owned(),
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, _)) => (rest, format!("#{REDACTED}")),
        None => (rest.as_str(), String::new()),
    };
    match rest.split_once('?') {
        Some((before, query)) => format!("{scheme}{before}?{}{fragment}", redact_query(query)),
        None => format!("{scheme}{rest}{fragment}"),
    }
}

/// A query string (`a=1&password=x`) with the values of secret parameters
/// replaced; everything else is left as it was written.
pub fn redact_query(query: &str) -> Cow<'_, str> {
    if !query.split('&').any(|pair| is_secret_parameter(&parameter_name(pair))) {
        return Cow::Borrowed(query);
    }
    let pairs: Vec<Cow<str>> = query
        .split('&')
        .map(|pair| {
            let raw_name = pair.split('=').next().unwrap_or_default();
            if is_secret_parameter(&parameter_name(pair)) {
                Cow::Owned(format!("{raw_name}={REDACTED}"))
            } else {
                Cow::Borrowed(pair)
            }
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// The decoded name of one `name=value` pair (`pass%77ord` is `password`).
pub(crate) fn parameter_name(pair: &str) -> Cow<'_, str> {
    let raw = pair.split('=').next().unwrap_or_default();
    if !raw.contains(['%', '+']) {
        return Cow::Borrowed(raw);
    }
    url::form_urlencoded::parse(raw.as_bytes())
        .next()
        .map(|(name, _)| Cow::Owned(name.into_owned()))
        .unwrap_or_default()
}

/// A request URI as the request log shows it: secret parameters redacted
/// (the service takes tokens only from the `Authorization` header, but a
/// client may still put one in the URL).
pub struct RedactedUri<'a>(pub &'a axum::http::Uri);

impl fmt::Display for RedactedUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.query() {
            Some(query) => match redact_query(query) {
                Cow::Borrowed(_) => self.0.fmt(f),
                Cow::Owned(query) => write!(f, "{}?{query}", self.0.path()),
            },
            None => self.0.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn hides(url: &str, secrets: &[&str], shows: &str) {
        let redacted = redact_url(url);
        for secret in secrets {
            assert!(!redacted.contains(secret), "{url} shows {secret:?}: {redacted}");
        }
        assert_eq!(redacted, shows, "{url}");
    }

    #[test]
    fn passwords_in_user_info_are_hidden() {
        hides(
            "postgres://user:hunter2@db.example:5432/registry",
            &["hunter2"],
            "postgres://user:***@db.example:5432/registry",
        );
        hides("postgresql://user:hunter2@db/registry", &["hunter2"], "postgresql://user:***@db/registry");
        hides("postgres://:hunter2@db/registry", &["hunter2"], "postgres://:***@db/registry");
        // Percent-encoded, or with an unencoded @ (the last @ ends the user info).
        hides("postgres://user:hun%40ter2@db/registry", &["hun", "ter2"], "postgres://user:***@db/registry");
        hides("postgres://user:hun@ter2@db/registry", &["hun", "ter2"], "postgres://user:***@db/registry");
        // With no password nothing is hidden.
        hides("postgres://user@db/registry", &[], "postgres://user@db/registry");
        hides("sqlite://jeugdregio.sqlite?mode=rwc", &[], "sqlite://jeugdregio.sqlite?mode=rwc");
        hides("sqlite::memory:", &[], "sqlite::memory:");
    }

    #[test]
    fn secret_parameters_are_hidden_in_every_spelling() {
        hides(
            "postgres://user@db/registry?sslmode=disable&password=hunter2",
            &["hunter2"],
            "postgres://user@db/registry?sslmode=disable&password=***",
        );
        hides(
            "postgres://db/r?Password=a1&PASSWORD=b2&pass%77ord=c3",
            &["a1", "b2", "c3"],
            "postgres://db/r?Password=***&PASSWORD=***&pass%77ord=***",
        );
        hides(
            "postgres://db/r?sslpassword=a1&ssl-password=b2&sslkey=/etc/key.pem",
            &["a1", "b2"],
            "postgres://db/r?sslpassword=***&ssl-password=***&sslkey=/etc/key.pem",
        );
        hides(
            "postgres://db/r?pwd=a1&access_token=b2&client-secret=c3",
            &["a1", "b2", "c3"],
            "postgres://db/r?pwd=***&access_token=***&client-secret=***",
        );
        hides(
            "postgres://u:a1@db/r?password=b2&application_name=portal",
            &["a1", "b2"],
            "postgres://u:***@db/r?password=***&application_name=portal",
        );
        hides("postgres://db/r?password", &[], "postgres://db/r?password=***");
    }

    #[test]
    fn what_the_url_reader_would_misread_is_hidden_too() {
        // A password with an unencoded / ? or #: the reader takes part of it for host, path or query.
        hides("postgres://user:12/ab@db/registry", &["12", "ab"], "postgres://user:***@db/registry");
        hides("postgres://user:12?ab@db/registry", &["12", "ab"], "postgres://user:***@db/registry");
        hides("postgres://user:12#ab@db/registry", &["12", "ab"], "postgres://user:***@db/registry");
        hides(
            "postgres://user:pA/sS@db/registry?password=x1",
            &["pA", "sS", "x1"],
            "postgres://user:***@db/registry?password=***",
        );
        // Not a URL at all.
        hides("user:hunter2@db?password=x1", &["hunter2", "x1"], "user:***@db?password=***");
        // An @ in a SQLite path is no user info.
        hides(
            "sqlite:///data/me@work/registry.sqlite?mode=rwc",
            &[],
            "sqlite:///data/me@work/registry.sqlite?mode=rwc",
        );
    }

    #[test]
    fn request_uris_show_their_parameters_but_secret_ones() {
        let uri: axum::http::Uri = "/graphql?query=%7Bregions%7BtotalCount%7D%7D&access_token=eyJabc".parse().unwrap();
        assert_eq!(RedactedUri(&uri).to_string(), "/graphql?query=%7Bregions%7BtotalCount%7D%7D&access_token=***");
        let uri: axum::http::Uri = "/graphql?query=%7Bregions%7BtotalCount%7D%7D".parse().unwrap();
        assert_eq!(RedactedUri(&uri).to_string(), "/graphql?query=%7Bregions%7BtotalCount%7D%7D");
        let uri: axum::http::Uri = "/healthz".parse().unwrap();
        assert_eq!(RedactedUri(&uri).to_string(), "/healthz");
    }
}
