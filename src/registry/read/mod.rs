//! Read side of the registry, split by job: single lookups by code
//! (`lookups.rs`), filtered pages (`filters.rs`), and the batch relation
//! queries the GraphQL DataLoaders call (`relations.rs`), which run a fixed
//! number of statements however many ids they are given; the care-form
//! arrangements and the portal's question about them (`arrangements.rs`);
//! the flat tables of the downloads (`export.rs`) and their maps
//! (`geometry.rs`); and the audit log.

mod arrangements;
mod audit;
mod export;
mod filters;
mod geometry;
mod history;
mod links;
mod lookups;
mod relations;
mod snapshot;

use std::collections::HashSet;

use crate::db::Db;
use crate::registry::Coded;
use entity::*;
use sea_orm::ColumnTrait;
use sea_orm::{DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select};

pub use arrangements::CareAnswer;
pub use audit::AuditFilter;
pub use export::{ContractLine, MunicipalityLine, RegionLine, RoleLine};
pub use filters::*;
pub use geometry::{MapFeature, MapLayer, MunicipalityArea, RegionArea, embedded_layers};
pub use history::{NamePeriod, Names, name_on};
pub use links::RoleLink;
pub use relations::CooperationMembers;
pub use snapshot::{Snapshot, SnapshotCell};

use super::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RegistryError};

/// Which slice of an ordered list the caller wants: rows after the row with
/// code `after`, at most `first` of them.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<String>,
    pub first: u64,
}

impl PageRequest {
    pub fn new(first: Option<i32>, after: Option<String>) -> Result<Self, RegistryError> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 0 => return Err(RegistryError::invalid("first", "first must not be negative")),
            Some(n) if n as u64 > MAX_PAGE_SIZE => {
                return Err(RegistryError::invalid("first", format!("first must be at most {MAX_PAGE_SIZE}")));
            }
            Some(n) => n as u64,
        };
        Ok(Self { after, first })
    }
}

/// One page of a list ordered by code.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub total_count: u64,
}

/// Access to the primary key of any registry row, so batch code can group rows.
pub trait Keyed {
    fn key(&self) -> i32;
}

macro_rules! keyed {
    ($($module:ident),*) => {$(impl Keyed for $module::Model { fn key(&self) -> i32 { self.id } })*};
}
keyed!(
    landsdeel,
    province,
    region,
    municipality,
    membership,
    cooperation,
    cooperation_member,
    care_form,
    provider,
    role,
    framework_contract,
    care_arrangement
);

async fn page<E>(db: &Db, select: Select<E>, code: E::Column, request: &PageRequest) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total_count = select.clone().count(db).await?;
    let mut query = select.order_by_asc(code).limit(request.first + 1);
    if let Some(after) = &request.after {
        query = query.filter(code.gt(after.clone()));
    }
    let mut items = query.all(db).await?;
    let has_next_page = items.len() as u64 > request.first;
    items.truncate(request.first as usize);
    Ok(Page { items, has_next_page, total_count })
}

/// [`page`] over rows already in code order (the snapshot's), with the same
/// rules: `after` is exclusive, and the total counts every matching row.
fn page_of<'a, M: Coded + Clone + 'a>(rows: impl Iterator<Item = &'a M>, request: &PageRequest) -> Page<M> {
    let mut total_count = 0;
    let mut items = Vec::new();
    for row in rows {
        total_count += 1;
        let after = request.after.as_deref().is_none_or(|after| row.code() > after);
        if after && (items.len() as u64) <= request.first {
            items.push(row.clone());
        }
    }
    let has_next_page = items.len() as u64 > request.first;
    items.truncate(request.first as usize);
    Page { items, has_next_page, total_count }
}

fn unique(ids: impl IntoIterator<Item = i32>) -> Vec<i32> {
    ids.into_iter().collect::<HashSet<_>>().into_iter().collect()
}
