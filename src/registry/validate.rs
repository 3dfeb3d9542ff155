//! Input rules shared by every write: code formats, text limits, e-mail, URL
//! and phone formats, and date ranges. Problems are collected per field so
//! the caller gets all of them at once.

use chrono::NaiveDate;

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

    pub fn text(&mut self, field: &[&str], value: &str, max: usize) {
        if value.trim().is_empty() {
            self.invalid(field, "must not be empty");
        } else if value.chars().count() > max {
            self.invalid(field, format!("must be at most {max} characters"));
        } else if value.chars().any(|c| c.is_control() && c != '\n') {
            self.invalid(field, "must not contain control characters");
        }
    }

    pub fn optional_text(&mut self, field: &[&str], value: Option<&String>, max: usize) {
        if let Some(value) = value {
            self.text(field, value, max);
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

    pub fn url(&mut self, field: &[&str], value: &str) {
        let valid = value.len() <= MAX_ADDRESS
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && url::Url::parse(value)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| h.contains('.')));
        if !valid {
            self.invalid(field, "must be an http(s) URL such as https://www.gemeente.nl/jeugd");
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
