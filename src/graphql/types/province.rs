use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::{landsdeel, province};

use super::{FromRow, global_id, load_value};
use crate::graphql::loaders::LandsdeelById;
use crate::registry::{ObjectType, Registry, RegistryError};

/// A province (provincie), with its CBS landsdeel (part of the country).
pub struct Province {
    pub row: province::Model,
}

/// Provinces do not change over time, so they ignore the date they are read for.
impl FromRow for Province {
    type Row = province::Model;
    fn from_row(row: Self::Row, _: NaiveDate) -> Self {
        Self { row }
    }
}

impl Province {
    pub async fn find(registry: &Registry, code: &str) -> Result<Option<Self>, RegistryError> {
        Ok(registry.province(code).await?.map(|row| Self { row }))
    }
}

#[Object(serial)]
impl Province {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::Province, &self.row.code)
    }
    /// CBS code, `PV20`–`PV31`.
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The CBS landsdeel (part of the country) the province lies in. Not the JeugdzorgPlus purchasing landsdelen.
    async fn landsdeel(&self, ctx: &Context<'_>) -> Result<Option<Landsdeel>> {
        Ok(load_value(ctx, LandsdeelById(self.row.landsdeel_id)).await?.map(Landsdeel::from))
    }
}

/// A CBS landsdeel: one of the four parts of the country (`LD01`–`LD04`).
#[derive(SimpleObject)]
pub struct Landsdeel {
    pub code: String,
    pub name: String,
}

impl From<landsdeel::Model> for Landsdeel {
    fn from(row: landsdeel::Model) -> Self {
        Self { code: row.code, name: row.name }
    }
}
