//! Single objects by code, and the small closed lists.

use chrono::NaiveDate;
use entity::*;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::registry::record::Coded;
use crate::registry::{Registry, RegistryError};

impl Registry {
    /// The object of type `M` with `code`, if it is valid on `date` (objects
    /// without a validity period are always valid). The one lookup by code.
    pub async fn lookup<M: Coded>(&self, code: &str, date: NaiveDate) -> Result<Option<M>, RegistryError> {
        Ok(M::Entity::find().filter(M::CODE.eq(code)).filter(M::valid_on(date)).one(&self.db).await?)
    }

    /// The object of type `M` with `code`, whatever its validity.
    pub async fn lookup_any_date<M: Coded>(&self, code: &str) -> Result<Option<M>, RegistryError> {
        Ok(M::Entity::find().filter(M::CODE.eq(code)).one(&self.db).await?)
    }

    pub async fn province(&self, code: &str) -> Result<Option<province::Model>, RegistryError> {
        Ok(province::Entity::find().filter(province::Column::Code.eq(code)).one(&self.db).await?)
    }

    pub async fn care_forms(&self) -> Result<Vec<care_form::Model>, RegistryError> {
        Ok(care_form::Entity::find().order_by_asc(care_form::Column::Code).all(&self.db).await?)
    }

    pub async fn provinces(&self) -> Result<Vec<province::Model>, RegistryError> {
        Ok(province::Entity::find().order_by_asc(province::Column::Code).all(&self.db).await?)
    }

    /// Ids of the rows of `M` with the given code (none or one), whatever their validity.
    pub(super) async fn ids_of<M: Coded>(&self, code: &str) -> Result<Vec<i32>, DbErr> {
        M::Entity::find().select_only().column(M::ID).filter(M::CODE.eq(code)).into_tuple().all(&self.db).await
    }
}
