//! Input rules shared by every write: code formats, text limits, e-mail, URL
//! and phone formats, and date ranges. Problems are collected per field so
//! the caller gets all of them at once.
//!
//! Stored text is shown by portals, printed in letters and compared by
//! people, so it must mean what it shows: no characters that are invisible or
//! reorder the text around them, one line where one line is expected, and
//! URLs only in the one form `url` writes them.

use chrono::NaiveDate;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use super::error::{UserError, UserErrorCode, WriteError};
use crate::codes::CodeFormat;

/// Longest name or title.
pub const MAX_NAME: usize = 200;
/// Longest free text (descriptions, notes).
pub const MAX_TEXT: usize = 2000;
/// Longest address, e-mail address or URL.
pub const MAX_ADDRESS: usize = 300;

/// Collects the problems of one input.
#[derive(Default)]
pub struct Checks {
    errors: Vec<UserError>,
}

impl Checks {
    pub fn add(&mut self, field: &[&str], code: UserErrorCode, message: impl Into<String>) {
        self.errors.push(UserError::new(field, code, message));
    }

    pub fn invalid(&mut self, field: &[&str], message: impl Into<String>) {
        self.add(field, UserErrorCode::Invalid, message);
    }

    pub fn code<C: CodeFormat>(&mut self, field: &[&str], value: &str) {
        if !C::is_valid(value) {
            self.invalid(field, format!("{value:?} is not a valid code (expected the form {})", C::EXAMPLE));
        }
    }

    /// One line of text: a name, title or address.
    pub fn text(&mut self, field: &[&str], value: &str, max: usize) {
        self.text_in_lines(field, value, max, false);
    }

    pub fn optional_text(&mut self, field: &[&str], value: Option<&String>, max: usize) {
        if let Some(value) = value {
            self.text(field, value, max);
        }
    }

    /// Free text that may run over several lines: a description or a note.
    pub fn optional_free_text(&mut self, field: &[&str], value: Option<&String>, max: usize) {
        if let Some(value) = value {
            self.text_in_lines(field, value, max, true);
        }
    }

    fn text_in_lines(&mut self, field: &[&str], value: &str, max: usize, multi_line: bool) {
        if let Some(problem) = text_problem(value, max, multi_line) {
            self.invalid(field, problem);
        }
    }
    pub fn email(&mut self, field: &[&str], value: &str) {
        let valid = value.len() <= MAX_ADDRESS
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.split('.').count() >= 2
                    && domain.split('.').all(|label| !label.is_empty())
            });
        if !valid {
            self.invalid(field, "must be an e-mail address such as jeugd@gemeente.nl");
        }
    }

    /// A web address in the form the `url` crate writes it (lower-case
    /// host, special characters percent-encoded), so what is stored is what
    /// every client reads back and `<script>` cannot hide in a path.
    pub fn url(&mut self, field: &[&str], value: &str) {
        if let Err(problem) = web_address(value) {
            self.invalid(field, problem);
        }
    }

    /// Dutch and international numbers: digits with optional `+`, spaces,
    /// hyphens and parentheses; 10 to 15 digits (`14 040` style short numbers: 5 digits).
    pub fn phone(&mut self, field: &[&str], value: &str) {
        let allowed = value.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let plus_ok = value.char_indices().all(|(i, c)| c != '+' || i == 0);
        if value.is_empty() || !allowed || !plus_ok || !(digits == 5 || (10..=15).contains(&digits)) {
            self.invalid(field, "must be a phone number such as 040 238 6000 or +31 40 238 6000");
        }
    }

    /// `valid_to` is exclusive, so it must come after `valid_from`.
    pub fn period(&mut self, field: &[&str], valid_from: Option<NaiveDate>, valid_to: Option<NaiveDate>) {
        if let (Some(from), Some(to)) = (valid_from, valid_to)
            && to <= from
        {
            self.invalid(field, format!("validTo ({to}) must be after validFrom ({from})"));
        }
    }

    pub fn finish(self) -> Result<(), WriteError> {
        if self.errors.is_empty() { Ok(()) } else { Err(WriteError::Rejected(self.errors)) }
    }
}

/// Combining marks on one letter: Dutch needs one (`ë`), some names two or
/// three; longer runs only stack marks over the lines around them.
const MAX_COMBINING_MARKS: usize = 3;

/// Why `value` is not acceptable text, if it is not.
fn text_problem(value: &str, max: usize, multi_line: bool) -> Option<String> {
    if value.trim().is_empty() {
        return Some("must not be empty".into());
    }
    if value.chars().count() > max {
        return Some(format!("must be at most {max} characters"));
    }
    let mut marks_in_a_row = 0;
    for c in value.chars() {
        if c == '\n' {
            if !multi_line {
                return Some("must be one line (no line breaks)".into());
            }
        } else if c.is_control() {
            return Some(format!("must not contain control characters (U+{:04X})", u32::from(c)));
        } else if c.general_category() == GeneralCategory::Format {
            // Bidirectional overrides, zero-width characters, the byte-order mark, soft hyphens.
            return Some(format!(
                "must not contain invisible formatting characters such as U+{:04X} (bidirectional overrides, \
                 zero-width characters, byte-order marks)",
                u32::from(c)
            ));
        }
        marks_in_a_row = if c.general_category_group() == GeneralCategoryGroup::Mark { marks_in_a_row + 1 } else { 0 };
        if marks_in_a_row > MAX_COMBINING_MARKS {
            return Some(format!("must not stack more than {MAX_COMBINING_MARKS} combining marks on one character"));
        }
    }
    None
}

/// The rules for a web address: `http` or `https`; a host that is a domain
/// name with a dot (not an IP address or `localhost`); no user name,
/// password or port; written as the `url` crate writes it, apart from the `/`
/// after a bare host.
fn web_address(value: &str) -> Result<(), String> {
    const EXAMPLE: &str = "must be an http(s) URL such as https://www.gemeente.nl/jeugd";
    if value.len() > MAX_ADDRESS {
        return Err(format!("must be at most {MAX_ADDRESS} characters"));
    }
    let url = url::Url::parse(value).map_err(|_| EXAMPLE.to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EXAMPLE.into());
    }
    match url.host() {
        Some(url::Host::Domain(host)) if host.contains('.') => {}
        Some(url::Host::Domain(_)) | None => return Err(format!("{EXAMPLE}: the host must be a domain name")),
        Some(_) => return Err("must name its host by domain name, not by IP address".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if url.port().is_some() {
        return Err("must not name a port".into());
    }
    let normal = url.as_str();
    let bare_host = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if value != normal && !(bare_host && normal.strip_suffix('/') == Some(value)) {
        return Err(format!("must be written as {normal}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_shows_what_it_is_passes() {
        for name in ["'s-Gravenhage", "Nuenen, Gerwen en Nederwetten", "Súdwest-Fryslân", "Zoë", "e\u{301}\u{308}"] {
            assert_eq!(text_problem(name, MAX_NAME, false), None, "{name}");
        }
        assert_eq!(text_problem("first line\nsecond line", MAX_TEXT, true), None);
    }

    #[test]
    fn invisible_reordering_and_stacked_characters_are_refused() {
        for text in [
            "Eind\u{202E}nevohd",
            "Eind\u{200B}hoven",
            "\u{FEFF}Eindhoven",
            "Eind\u{2066}hoven",
            "Eind\u{00AD}hoven",
            "two\nlines",
            "carriage\rreturn",
            "tab\there",
            "e\u{301}\u{308}\u{300}\u{302}",
            "  ",
        ] {
            assert!(text_problem(text, MAX_NAME, false).is_some(), "{text:?}");
        }
        assert!(text_problem("Eind\u{202E}hoven\nnote", MAX_TEXT, true).is_some());
    }

    #[test]
    fn web_addresses_follow_the_stated_rules() {
        for good in ["https://www.eindhoven.nl", "https://www.eindhoven.nl/", "http://jeugd.example.nl/a/b?c=d#e"] {
            assert_eq!(web_address(good), Ok(()), "{good}");
        }
        for (bad, problem) in [
            (
                "https://www.eindhoven.nl/<script>alert(1)</script>",
                "must be written as https://www.eindhoven.nl/%3Cscript%3E",
            ),
            ("HTTPS://WWW.Eindhoven.NL/jeugd", "must be written as https://www.eindhoven.nl/jeugd"),
            ("ftp://www.eindhoven.nl/", "http(s)"),
            ("https://192.168.1.1/", "IP address"),
            ("https://localhost/", "domain name"),
            ("https://user:secret@www.eindhoven.nl/", "user name or password"),
            ("https://www.eindhoven.nl:8443/", "port"),
            ("javascript:alert(1)", "http(s)"),
            ("https://www.eindhoven.nl/ jeugd", "must be written as"),
        ] {
            let refused = web_address(bad).expect_err(bad);
            assert!(refused.contains(problem), "{bad}: {refused}");
        }
    }
}
