//! The whole registry in memory, one immutable copy per registry version.
//!
//! The registry is a few hundred rows and changes a few times a day, while a
//! portal asks for all of it, on any date, on every page view. So the
//! relations of a query (a region's municipalities, roles, contracts, …) are
//! answered from this copy, on any `asOf`, without a statement; only the
//! top-level pages and filters still go to the database.
//!
//! Freshness: a copy is used only while it is at least as new as the
//! registry version this instance knows (its own commits at once, other
//! instances' through the live listener). The first read after a change
//! loads a new copy (about a dozen statements, once: readers arriving
//! meanwhile wait for that load rather than starting their own).
//!
//! Memory: one copy, plus an older one for as long as a read that started on
//! it runs. At 100 times today's data that is some tens of megabytes.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use futures_util::TryStreamExt;

use crate::db::Db;
use entity::*;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait, IsolationLevel, QueryOrder,
    Select, TransactionOptions,
};

use super::Keyed;
use super::history::History;
use super::links::Links;
use crate::registry::Registry;
use crate::registry::record::{Coded, Dated};
use crate::registry::validity::is_valid_on;

/// The rows of one table, ordered by code, with an index by id.
pub struct Table<M> {
    pub rows: Vec<M>,
    position: HashMap<i32, usize>,
}

impl<M: Keyed> Table<M> {
    fn new(rows: Vec<M>) -> Self {
        let position = rows.iter().enumerate().map(|(i, row)| (row.key(), i)).collect();
        Table { rows, position }
    }

    pub fn get(&self, id: i32) -> Option<&M> {
        self.position.get(&id).map(|&i| &self.rows[i])
    }

    /// Where the row stands in code order (for sorting related rows).
    pub fn rank(&self, id: i32) -> Option<usize> {
        self.position.get(&id).copied()
    }
}

/// One registry version, whole.
pub struct Snapshot {
    pub version: i64,
    pub landsdelen: Table<landsdeel::Model>,
    pub provinces: Table<province::Model>,
    pub regions: Table<region::Model>,
    pub municipalities: Table<municipality::Model>,
    pub cooperations: Table<cooperation::Model>,
    pub care_forms: Table<care_form::Model>,
    pub providers: Table<provider::Model>,
    pub contracts: Table<framework_contract::Model>,
    /// Ordered by code.
    pub roles: Vec<role::Model>,
    pub memberships: Vec<membership::Model>,
    pub cooperation_members: Vec<cooperation_member::Model>,
    /// `(contract, region)`.
    pub contract_parties: Vec<(i32, i32)>,
    /// `(contract, care form)`.
    pub contract_care_forms: Vec<(i32, i32)>,
    /// `(contract, provider)`.
    pub contract_providers: Vec<(i32, i32)>,
    /// Care-form arrangements, ordered by code.
    pub care_arrangements: Table<care_arrangement::Model>,
    /// Names over time and lineage.
    pub history: History,
    /// The rows above, indexed by what they link to.
    pub links: Links,
}

/// Which table of the snapshot holds rows of a type, and whether a row is
/// valid on a date (the rule of `validity.rs`; some types are always valid).
pub trait InSnapshot: Keyed + Clone + Sized {
    fn table(snapshot: &Snapshot) -> &Table<Self>;
    fn is_valid_on(&self, date: NaiveDate) -> bool;
}

macro_rules! in_snapshot {
    ($($module:ident => $field:ident, $validity:ident);*) => {$(
        impl InSnapshot for $module::Model {
            fn table(snapshot: &Snapshot) -> &Table<Self> {
                &snapshot.$field
            }
            fn is_valid_on(&self, date: NaiveDate) -> bool {
                in_snapshot!(@$validity self date)
            }
        }
    )*};
    (@dated $row:ident $date:ident) => { is_valid_on($row.valid_from(), $row.valid_to(), $date) };
    (@always $row:ident $date:ident) => {{ let _ = ($row, $date); true }};
}
in_snapshot!(
    landsdeel => landsdelen, always;
    province => provinces, always;
    region => regions, dated;
    municipality => municipalities, dated;
    cooperation => cooperations, dated;
    care_form => care_forms, always;
    provider => providers, always;
    framework_contract => contracts, dated;
    care_arrangement => care_arrangements, dated
);

/// Every row `select` finds, read one at a time: at 100 times today's data,
/// `all()` held every driver row and every model at once, and that peak
/// (tens of megabytes on SQLite) set the service's peak memory.
async fn all<E: EntityTrait>(select: Select<E>, db: &DatabaseTransaction) -> Result<Vec<E::Model>, DbErr> {
    select.stream(db).await?.try_collect().await
}

async fn ordered<M: Coded + Keyed>(db: &DatabaseTransaction) -> Result<Table<M>, DbErr> {
    Ok(Table::new(all(M::Entity::find().order_by_asc(M::CODE), db).await?))
}

impl Snapshot {
    /// Every table, read in one transaction so the copy is consistent: on
    /// PostgreSQL a repeatable-read one, on SQLite any read transaction.
    async fn load(db: &Db, version: i64) -> Result<Snapshot, DbErr> {
        // SQLite has neither setting (and sea-orm warns on each load when asked).
        let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
        let options = TransactionOptions {
            isolation_level: postgres.then_some(IsolationLevel::RepeatableRead),
            access_mode: postgres.then_some(AccessMode::ReadOnly),
            sqlite_transaction_mode: None,
        };
        let (txn, _connection) = db.begin_with_options(options).await?;
        let snapshot = Self::read(&txn, version).await?;
        txn.commit().await?;
        Ok(snapshot)
    }

    async fn read(db: &DatabaseTransaction, version: i64) -> Result<Snapshot, DbErr> {
        let mut snapshot = Snapshot {
            version,
            landsdelen: Table::new(all(landsdeel::Entity::find().order_by_asc(landsdeel::Column::Code), db).await?),
            provinces: Table::new(all(province::Entity::find().order_by_asc(province::Column::Code), db).await?),
            regions: ordered(db).await?,
            municipalities: ordered(db).await?,
            cooperations: ordered(db).await?,
            care_forms: ordered(db).await?,
            providers: ordered(db).await?,
            contracts: ordered(db).await?,
            roles: all(role::Entity::find().order_by_asc(role::Column::Code), db).await?,
            memberships: all(membership::Entity::find(), db).await?,
            cooperation_members: all(cooperation_member::Entity::find(), db).await?,
            contract_parties: all(contract_party::Entity::find(), db)
                .await?
                .into_iter()
                .map(|l| (l.contract_id, l.region_id))
                .collect(),
            contract_care_forms: all(contract_care_form::Entity::find(), db)
                .await?
                .into_iter()
                .map(|l| (l.contract_id, l.care_form_id))
                .collect(),
            contract_providers: all(contract_provider::Entity::find(), db)
                .await?
                .into_iter()
                .map(|l| (l.contract_id, l.provider_id))
                .collect(),
            care_arrangements: Table::new(
                all(care_arrangement::Entity::find().order_by_asc(care_arrangement::Column::Code), db).await?,
            ),
            history: History::new(
                all(municipality_name::Entity::find(), db).await?,
                all(region_name::Entity::find(), db).await?,
                all(lineage::Entity::find().order_by_asc(lineage::Column::Id), db).await?,
            ),
            links: Links::default(),
        };
        snapshot.links = Links::of(&snapshot);
        Ok(snapshot)
    }
}

/// The copy of this instance, and the lock one load at a time takes.
#[derive(Default)]
pub struct SnapshotCell {
    current: std::sync::RwLock<Option<Arc<Snapshot>>>,
    loading: tokio::sync::Mutex<()>,
}

impl Registry {
    /// A copy of this registry that reads one snapshot: the first one it
    /// asks for. A query reads through such a copy, so that a write landing
    /// while it runs cannot give its later relations a newer version than
    /// its earlier ones.
    pub fn pinning_snapshot(&self) -> Registry {
        Registry { pinned: Some(Default::default()), ..self.clone() }
    }

    /// The snapshot relations read: the pinned one, or the newest.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, DbErr> {
        match &self.pinned {
            Some(pinned) => pinned.get_or_try_init(|| self.newest_snapshot()).await.cloned(),
            None => self.newest_snapshot().await,
        }
    }

    /// A snapshot at least as new as the registry version this instance knows.
    async fn newest_snapshot(&self) -> Result<Arc<Snapshot>, DbErr> {
        match self.fresh_snapshot(self.known_version()) {
            Some(snapshot) => Ok(snapshot),
            // Boxed: loading is a future of kilobytes, and without the box
            // every relation's future would be as large. async-graphql boxes
            // a future per field, so that size was copied for every field of
            // every object (12 % of a query that executes, in `memmove`),
            // for a load that happens once per registry version.
            None => Box::pin(self.load_newest_snapshot()).await,
        }
    }

    /// The snapshot in memory, if it is of version `wanted` or newer.
    fn fresh_snapshot(&self, wanted: i64) -> Option<Arc<Snapshot>> {
        let current = self.snapshots.current.read().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|s| s.version >= wanted).cloned()
    }

    async fn load_newest_snapshot(&self) -> Result<Arc<Snapshot>, DbErr> {
        let wanted = self.known_version();
        let _loading = self.snapshots.loading.lock().await;
        if let Some(snapshot) = self.fresh_snapshot(wanted) {
            return Ok(snapshot);
        }
        // Read the version first: the rows loaded after it are at least that new.
        let version = self.known_version();
        let snapshot = Arc::new(Snapshot::load(&self.db, version).await?);
        *self.snapshots.current.write().unwrap_or_else(|e| e.into_inner()) = Some(snapshot.clone());
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    /// Every relation awaits `snapshot()`, and async-graphql copies each
    /// field's future into a box: the load must stay out of that future.
    #[tokio::test]
    async fn reading_the_snapshot_is_a_small_future() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let registry = crate::registry::Registry::new(db).pinning_snapshot();
        let read = registry.snapshot();
        assert!(std::mem::size_of_val(&read) < 1024, "{} bytes", std::mem::size_of_val(&read));
        let relation = registry.municipalities_in_regions(&[1], chrono::NaiveDate::MIN);
        assert!(std::mem::size_of_val(&relation) < 1024, "{} bytes", std::mem::size_of_val(&relation));
    }
}
