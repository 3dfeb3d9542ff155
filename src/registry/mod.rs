//! The registry: the domain layer between the GraphQL resolvers and the
//! database. It owns every business rule (what is valid on a date, who may
//! change what) and never knows about GraphQL.

pub mod bounds;
pub mod coverage;
mod error;
mod feed;
mod live;
mod policy;
mod read;
mod record;
mod validate;
mod validity;
mod view;
mod vocabulary;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::NaiveDate;
use sea_orm::DatabaseConnection;

use crate::db::Db;

pub use error::{RegistryError, UserError, UserErrorCode, WriteError};
pub use feed::ChangeFilter;
pub use live::{LiveChange, OTHER_INSTANCES_POLL};
pub use read::{
    AuditFilter, CareAnswer, ContractFilter, ContractLine, CooperationFilter, CooperationMembers, Keyed, MapFeature,
    MapLayer, MunicipalityArea, MunicipalityFilter, MunicipalityLine, NamePeriod, Names, Page, PageRequest,
    ProviderFilter, RegionArea, RegionFilter, RegionLine, RoleFilter, RoleLine, RoleLink, embedded_layers, name_on,
};
pub use record::Coded;
pub use validity::{DATE_RANGE, parse_iso_date, valid_on};
pub use vocabulary::{ChangeOperation, ObjectType};
pub use write::{
    AccessPointPatch, CareFormCreate, CareFormUpdate, CooperationCreate, CooperationMembersSet, CooperationUpdate, End,
    FrameworkContractCreate, FrameworkContractPartiesSet, FrameworkContractUpdate, Intent, MembershipChange,
    MunicipalityEntry, MunicipalityMerge, MunicipalityUpdate, Outcome, Patch, ProviderCreate, ProviderUpdate,
    RoleAssign, Written,
};

/// Page size used when a caller does not ask for one.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page a caller may ask for: enough for all 342 municipalities at once.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Handle to the registry; cheap to clone.
#[derive(Clone)]
pub struct Registry {
    db: Db,
    /// Write transactions of this process run at most this many at once; the
    /// rest queue here, first come first served (see [`write_lanes`]).
    writers: std::sync::Arc<tokio::sync::Semaphore>,
    /// Told the feed head after each commit, so the live listener wakes at once.
    feed: tokio::sync::watch::Sender<i64>,
    /// Each committed change, once, for every subscriber (see `live.rs`).
    live: tokio::sync::broadcast::Sender<LiveChange>,
    /// The newest feed position this instance knows to be committed: its own
    /// commits at once, other instances' through the live listener.
    known_head: Arc<AtomicI64>,
    /// The registry in memory, for relations (see `read/snapshot.rs`).
    snapshots: Arc<read::SnapshotCell>,
    /// Set on the copy a query reads through: the first snapshot it reads is
    /// the one all its relations read (see [`Registry::pinning_snapshot`]).
    pinned: Option<Arc<tokio::sync::OnceCell<Arc<read::Snapshot>>>>,
    /// Why the database cannot be written, while it cannot (see [`Registry::readiness`]).
    read_only: Arc<std::sync::Mutex<Option<String>>>,
}

/// Whether this instance should get traffic (`/readyz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// The database does not answer.
    Unavailable,
    /// The database answers reads but refuses writes, for this reason.
    ReadOnly(String),
}

/// How many write transactions of one instance run at once.
///
/// SQLite has one writer: a second write transaction that upgraded from a
/// read would fail with "database is locked" instead of waiting, so writes
/// queue here, one at a time.
///
/// PostgreSQL: every write ends by taking the feed's head row (`feed.rs`),
/// so writes commit one at a time whatever their number. Sixteen at once
/// only made a queue inside the database, where a waiter holds a connection
/// and contends for the row again at every commit, and is not served in
/// order: the slowest writes waited four times the median (bench `writes`,
/// p99 52 ms). Eight lanes (half the pool, the other half left for reads)
/// keep the database as busy, and the rest queue here in order, holding no
/// connection: p99 26 ms, 5 % more writes per second. Two and four lanes
/// gave the same p99 with fewer writes per second.
pub fn write_lanes(backend: sea_orm::DatabaseBackend) -> usize {
    match backend {
        sea_orm::DatabaseBackend::Sqlite => 1,
        _ => POSTGRES_WRITE_LANES,
    }
}

const POSTGRES_WRITE_LANES: usize = 8;

impl Registry {
    pub fn new(db: DatabaseConnection) -> Self {
        let writers = Arc::new(tokio::sync::Semaphore::new(write_lanes(db.get_database_backend())));
        Self {
            db: Db::new(db),
            writers,
            feed: tokio::sync::watch::Sender::new(0),
            live: live::channel(),
            known_head: Default::default(),
            snapshots: Default::default(),
            pinned: None,
            read_only: Default::default(),
        }
    }

    /// The registry version as this instance knows it, without asking the
    /// database: what a response cache or an ETag may be keyed on. It is
    /// never ahead of the database, includes this instance's commits as soon
    /// as they return, and other instances' within a second.
    pub fn known_version(&self) -> i64 {
        self.known_head.load(Ordering::Acquire)
    }

    /// Records that the feed is committed up to `head`.
    fn saw_head(&self, head: i64) {
        self.known_head.fetch_max(head, Ordering::AcqRel);
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// True when the database answers a trivial statement.
    pub async fn is_ready(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    /// Records that the database cannot be written (and why), or can again.
    pub fn set_read_only(&self, why: Option<String>) {
        *self.read_only.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = why;
    }

    /// Ready when the database answers and can be written. While it cannot
    /// be written, each call asks again, so that the instance becomes ready
    /// by itself once it can (write rights granted, a replica promoted).
    pub async fn readiness(&self) -> Readiness {
        if !self.is_ready().await {
            return Readiness::Unavailable;
        }
        let Some(known) = self.read_only.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone() else {
            return Readiness::Ready;
        };
        match crate::db::why_read_only(self.db.connection()).await {
            Ok(None) => {
                tracing::info!("the database can be written again: ready");
                self.set_read_only(None);
                Readiness::Ready
            }
            Ok(Some(why)) => Readiness::ReadOnly(why),
            Err(_) => Readiness::ReadOnly(known),
        }
    }
}

/// Today's date in the Netherlands: the default `asOf` for every question.
pub fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam).date_naive()
}
