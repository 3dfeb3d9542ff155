//! A new name from a date, for a municipality or a region: the running name
//! period ends and the new one starts. The two name tables have the same
//! shape, so one step serves both.

use chrono::NaiveDate;
use entity::{municipality_name, region_name};
use sea_orm::{ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, QueryFilter};
use sea_orm::{ColumnTrait, Condition};

use super::super::txn::WriteTxn;
use crate::registry::error::WriteError;
use crate::registry::valid_on;

/// A table of names over time, by owner.
pub(super) trait NamePeriods: EntityTrait {
    /// The owner's periods valid on `date`.
    fn running(owner: i32, date: NaiveDate) -> Condition;
    fn period(
        owner: i32,
        name: String,
        valid_from: Option<NaiveDate>,
        valid_to: Option<NaiveDate>,
        source: String,
    ) -> Self::ActiveModel;
    fn ended(period: Self::Model, date: NaiveDate) -> Self::ActiveModel;
}

macro_rules! name_periods {
    ($module:ident, $owner:ident, $owner_column:ident) => {
        impl NamePeriods for $module::Entity {
            fn running(owner: i32, date: NaiveDate) -> Condition {
                use $module::Column;
                Condition::all().add(Column::$owner_column.eq(owner)).add(valid_on(
                    Column::ValidFrom,
                    Column::ValidTo,
                    date,
                ))
            }
            fn period(
                owner: i32,
                name: String,
                valid_from: Option<NaiveDate>,
                valid_to: Option<NaiveDate>,
                source: String,
            ) -> $module::ActiveModel {
                $module::ActiveModel {
                    $owner: Set(owner),
                    name: Set(name),
                    valid_from: Set(valid_from),
                    valid_to: Set(valid_to),
                    source: Set(source),
                    ..Default::default()
                }
            }
            fn ended(period: $module::Model, date: NaiveDate) -> $module::ActiveModel {
                let mut ended: $module::ActiveModel = period.into();
                ended.valid_to = Set(Some(date));
                ended
            }
        }
    };
}
name_periods!(municipality_name, municipality_id, MunicipalityId);
name_periods!(region_name, region_id, RegionId);

/// The owner as it is: its id, its name so far, and that name's start and source.
pub(super) struct Named<'a> {
    pub id: i32,
    pub name: &'a str,
    pub valid_from: Option<NaiveDate>,
    pub source: &'a str,
}

/// Ends the owner's running name on `date` and starts `to` then. An owner
/// from a registry that had no name periods gets one for its name so far.
pub(super) async fn start_name<E>(
    w: &WriteTxn,
    owner: Named<'_>,
    date: NaiveDate,
    to: &str,
    source: &str,
) -> Result<(), WriteError>
where
    E: NamePeriods,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    match E::find().filter(E::running(owner.id, date)).one(&w.txn).await? {
        Some(period) => {
            w.update_row(E::ended(period, date)).await?;
        }
        None => {
            let earlier =
                E::period(owner.id, owner.name.to_owned(), owner.valid_from, Some(date), owner.source.to_owned());
            w.insert(earlier).await?;
        }
    }
    w.insert(E::period(owner.id, to.to_owned(), Some(date), None, source.to_owned())).await?;
    Ok(())
}
