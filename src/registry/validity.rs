use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Condition};

/// Rows valid on `date`: `valid_from <= date < valid_to`, where a null bound is open.
pub fn valid_on<C: ColumnTrait>(valid_from: C, valid_to: C, date: NaiveDate) -> Condition {
    Condition::all()
        .add(Condition::any().add(valid_from.is_null()).add(valid_from.lte(date)))
        .add(Condition::any().add(valid_to.is_null()).add(valid_to.gt(date)))
}
