//! Every date rule: validity is half-open, `valid_from <= date < valid_to`,
//! where a null bound is open.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Condition};

/// Rows valid on `date`.
pub fn valid_on<C: ColumnTrait>(valid_from: C, valid_to: C, date: NaiveDate) -> Condition {
    Condition::all()
        .add(Condition::any().add(valid_from.is_null()).add(valid_from.lte(date)))
        .add(Condition::any().add(valid_to.is_null()).add(valid_to.gt(date)))
}

/// Rows whose validity overlaps `[from, to)` (open bounds are infinite).
pub fn overlaps<C: ColumnTrait>(
    valid_from: C,
    valid_to: C,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Condition {
    let mut condition = Condition::all();
    if let Some(to) = to {
        condition = condition.add(Condition::any().add(valid_from.is_null()).add(valid_from.lt(to)));
    }
    if let Some(from) = from {
        condition = condition.add(Condition::any().add(valid_to.is_null()).add(valid_to.gt(from)));
    }
    condition
}

/// The same rule as [`valid_on`], for a row already read.
pub fn is_valid_on(valid_from: Option<NaiveDate>, valid_to: Option<NaiveDate>, date: NaiveDate) -> bool {
    valid_from.is_none_or(|from| from <= date) && valid_to.is_none_or(|to| to > date)
}

/// `column = value`, or `column IS NULL` when there is no value.
pub fn nullable_eq<C: ColumnTrait>(column: C, value: Option<i32>) -> Condition {
    match value {
        Some(v) => Condition::all().add(column.eq(v)),
        None => Condition::all().add(column.is_null()),
    }
}

/// The start a write records: the one given ("since"), or where none is
/// given, the day it is entered ("at least since": the registry cannot vouch
/// for earlier), kept before an end that is given. Returns the date and
/// whether it is only a lower bound.
pub fn recorded_start(valid_from: Option<NaiveDate>, valid_to: Option<NaiveDate>) -> (NaiveDate, bool) {
    match valid_from {
        Some(from) => (from, false),
        None => {
            let today = super::today();
            let before_end = valid_to.and_then(|to| to.pred_opt()).filter(|last| *last < today);
            (before_end.unwrap_or(today), true)
        }
    }
}

/// The dates the registry takes, as written in every error message. Youth
/// care began in 2015, but contracts and cooperations may be older; beyond
/// this range a date is a typing error. Inside it every date has a
/// four-digit year, so SQLite's text order and PostgreSQL's date order agree.
pub const DATE_RANGE: (&str, &str) = ("1800-01-01", "2200-12-31");

/// A date written exactly `YYYY-MM-DD`, inside [`DATE_RANGE`]. chrono alone
/// also reads `+10000-01-01`, `-1-01-01` and `2025-1-5`; SQLite compares
/// dates as text, so such a date would sort wrongly there and the two
/// databases would disagree about what is valid when.
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    let in_range = (DATE_RANGE.0..=DATE_RANGE.1).contains(&text);
    (shaped && in_range).then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_iso_dates_from_1800_to_2200_are_dates() {
        assert_eq!(parse_iso_date("2025-06-01"), NaiveDate::from_ymd_opt(2025, 6, 1));
        assert_eq!(parse_iso_date("1800-01-01"), NaiveDate::from_ymd_opt(1800, 1, 1));
        assert_eq!(parse_iso_date("2200-12-31"), NaiveDate::from_ymd_opt(2200, 12, 31));
        for not_a_date in [
            "+10000-01-01",
            "-0001-01-01",
            "0-01-01",
            "0000-01-01",
            "1799-12-31",
            "2201-01-01",
            "9999-12-31",
            "2025-1-5",
            "2025-02-30",
            "20250601",
            " 2025-06-01",
        ] {
            assert_eq!(parse_iso_date(not_a_date), None, "{not_a_date}");
        }
    }
}
