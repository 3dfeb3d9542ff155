//! The dates the registry can answer for. Its facts begin on 2015-01-01, when
//! the Jeugdwet made municipalities responsible for youth care and the 42
//! regions began: before that there is nothing to answer, and an empty answer
//! would be a lie, so such a date is refused. A date after today is answered
//! from what is known today (today's registry plus changes already decided),
//! which may still change.

use chrono::NaiveDate;

use super::{RegistryError, today};

/// The first day the registry has facts for.
pub fn coverage_start() -> NaiveDate {
    migration::seed::coverage_start()
}

/// `date`, if the registry can answer for it.
pub fn check_as_of(argument: &'static str, date: NaiveDate) -> Result<NaiveDate, RegistryError> {
    let earliest = coverage_start();
    if date < earliest {
        return Err(RegistryError::OutOfCoverage {
            argument,
            earliest,
            message: format!(
                "the registry covers {earliest} onwards (the Jeugdwet took effect and the 42 youth-care regions began then); {date} is before it"
            ),
        });
    }
    Ok(date)
}

/// True when the answer for `date` can still change because the date has not come yet.
pub fn is_provisional(date: NaiveDate) -> bool {
    date > today()
}
