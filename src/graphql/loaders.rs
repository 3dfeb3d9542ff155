//! Loaders: one per relation, each a batch method of the registry behind
//! async-graphql's `Loader` trait. Keys carry the `asOf` date.
//!
//! Every relation is answered from the registry's in-memory snapshot, indexed
//! by parent (`registry/read/links.rs`), so a lookup costs no statement and
//! what it returns, and resolvers call the loader for their own key directly
//! (`types::load_value`). async-graphql's `DataLoader`, which gathers the keys
//! of one level into a batch, is not used: gathering needs a spawned task and
//! a timer per batch, and `perf` showed that machinery (wake-ups across worker
//! threads, channels, key sets) as a third of the CPU of an executed portal
//! query, to save statements that are no longer sent. The batch signature
//! stays: a relation that must go to the database again can be put behind a
//! `DataLoader` without touching the resolvers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use chrono::NaiveDate;
use entity::*;

use crate::registry::{CooperationMembers, Names, Registry, RegistryError, RoleLink};

#[derive(Clone)]
pub struct RegistryLoader {
    registry: Registry,
}

impl RegistryLoader {
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

/// Loader errors are shared between every field waiting on the batch.
pub type LoadError = Arc<RegistryError>;

/// One parent's relation, without the maps of the batch signature: resolvers
/// ask for one key at a time (`types::load_value`), and building a map of
/// keys and one of values to hand back a single value was a few per cent of
/// an executed portal query (perf, December 2026).
pub trait LoadOne<K>: Loader<K, Error = LoadError>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
{
    fn load_one(&self, key: &K) -> impl Future<Output = Result<Option<Self::Value>, LoadError>> + Send;
}

/// How many rows a loaded value holds: what a relation charges to the
/// request's result budget (`context::charge`).
pub trait Rows {
    fn rows(&self) -> usize;
}

impl<T> Rows for Vec<T> {
    fn rows(&self) -> usize {
        self.len()
    }
}

impl<T> Rows for Arc<[T]> {
    fn rows(&self) -> usize {
        self.len()
    }
}

impl Rows for CooperationMembers {
    fn rows(&self) -> usize {
        self.municipalities.len() + self.regions.len() + self.links.len()
    }
}

macro_rules! one_row {
    ($($module:ident),*) => {$(impl Rows for $module::Model { fn rows(&self) -> usize { 1 } })*};
}
one_row!(landsdeel, province, region, municipality, cooperation, care_form, provider, framework_contract);

/// Splits keys `(id, date)` into one id list per date.
fn by_date(keys: impl Iterator<Item = (i32, NaiveDate)>) -> BTreeMap<NaiveDate, Vec<i32>> {
    let mut grouped: BTreeMap<NaiveDate, Vec<i32>> = BTreeMap::new();
    for (id, date) in keys {
        grouped.entry(date).or_default().push(id);
    }
    grouped
}

/// A relation that depends on the date: `Key(parent id, asOf)` -> value, via a
/// registry batch method `(ids, date) -> HashMap<id, value>`.
macro_rules! dated_relation {
    ($(#[$doc:meta])* $key:ident => $value:ty, |$registry:ident, $ids:ident, $date:ident| $call:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32, pub NaiveDate);

        impl Loader<$key> for RegistryLoader {
            type Value = $value;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, LoadError> {
                let mut loaded = HashMap::new();
                for ($date, $ids) in by_date(keys.iter().map(|k| (k.0, k.1))) {
                    let $registry = &self.registry;
                    let $ids = &$ids[..];
                    for (id, value) in $call.await.map_err(Arc::new)? {
                        loaded.insert($key(id, $date), value);
                    }
                }
                Ok(loaded)
            }
        }

        impl LoadOne<$key> for RegistryLoader {
            async fn load_one(&self, key: &$key) -> Result<Option<$value>, LoadError> {
                let ($registry, $ids, $date) = (&self.registry, std::slice::from_ref(&key.0), key.1);
                Ok($call.await.map_err(Arc::new)?.remove(&key.0))
            }
        }
    };
}

/// A row by primary key: `Key(id)` -> model.
macro_rules! by_id {
    ($key:ident, $module:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32);

        impl Loader<$key> for RegistryLoader {
            type Value = $module::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $module::Model>, LoadError> {
                let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
                let rows = self.registry.by_ids::<$module::Model>(&ids).await.map_err(Arc::new)?;
                Ok(rows.into_iter().map(|(id, row)| ($key(id), row)).collect())
            }
        }

        impl LoadOne<$key> for RegistryLoader {
            async fn load_one(&self, key: &$key) -> Result<Option<$module::Model>, LoadError> {
                self.registry.by_id::<$module::Model>(key.0).await.map_err(Arc::new)
            }
        }
    };
}

/// Care-form arrangements of an owner on a date: `Key(owner id, asOf, care form code)`, all
/// care forms when the code is `None`. Keys are grouped by date and code, one batch each.
macro_rules! arrangements_relation {
    ($(#[$doc:meta])* $key:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $key(pub i32, pub NaiveDate, pub Option<Arc<str>>);

        impl Loader<$key> for RegistryLoader {
            type Value = Vec<care_arrangement::Model>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, LoadError> {
                let mut grouped: BTreeMap<(NaiveDate, Option<Arc<str>>), Vec<i32>> = BTreeMap::new();
                for key in keys {
                    grouped.entry((key.1, key.2.clone())).or_default().push(key.0);
                }
                let mut loaded = HashMap::new();
                for ((date, care_form), ids) in grouped {
                    let rows = self.registry.$method(&ids, date, care_form.as_deref()).await.map_err(Arc::new)?;
                    for (id, value) in rows {
                        loaded.insert($key(id, date, care_form.clone()), value);
                    }
                }
                Ok(loaded)
            }
        }

        impl LoadOne<$key> for RegistryLoader {
            async fn load_one(&self, key: &$key) -> Result<Option<Self::Value>, LoadError> {
                Ok(self.load(std::slice::from_ref(key)).await?.remove(key))
            }
        }
    };
}

by_id!(LandsdeelById, landsdeel);
by_id!(ProvinceById, province);
by_id!(RegionById, region);
by_id!(MunicipalityById, municipality);
by_id!(CooperationById, cooperation);
by_id!(CareFormById, care_form);
by_id!(ProviderById, provider);
by_id!(ContractById, framework_contract);

/// Relations without a date: contract links (the date is the contract's) and
/// the history lists, which span every date. A registry method for one key
/// (`one:`) serves [`LoadOne`] where the relation is read for every object of
/// a large answer.
macro_rules! undated_relation {
    ($key:ident => $value:ty, $method:ident) => {
        undated_relation!(@batch $key => $value, $method);

        impl LoadOne<$key> for RegistryLoader {
            async fn load_one(&self, key: &$key) -> Result<Option<$value>, LoadError> {
                Ok(self.registry.$method(std::slice::from_ref(&key.0)).await.map_err(Arc::new)?.remove(&key.0))
            }
        }
    };
    ($key:ident => $value:ty, $method:ident, one: $one:ident) => {
        undated_relation!(@batch $key => $value, $method);

        impl LoadOne<$key> for RegistryLoader {
            async fn load_one(&self, key: &$key) -> Result<Option<$value>, LoadError> {
                self.registry.$one(key.0).await.map_err(Arc::new)
            }
        }
    };
    (@batch $key:ident => $value:ty, $method:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32);

        impl Loader<$key> for RegistryLoader {
            type Value = $value;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, LoadError> {
                let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
                let rows = self.registry.$method(&ids).await.map_err(Arc::new)?;
                Ok(rows.into_iter().map(|(id, row)| ($key(id), row)).collect())
            }
        }
    };
}

undated_relation!(ContractCareForms => Vec<care_form::Model>, care_forms_of_contracts);
undated_relation!(MunicipalityNames => Names, names_of_municipalities, one: names_of_municipality);
undated_relation!(RegionNames => Names, names_of_regions, one: names_of_region);
undated_relation!(MunicipalitySuccessors => Vec<lineage::Model>, successors_of);
undated_relation!(MunicipalityPredecessors => Vec<lineage::Model>, predecessors_of);
undated_relation!(MunicipalityRegionHistory => Vec<membership::Model>, region_history);
undated_relation!(ContractProviders => Vec<provider::Model>, providers_of_contracts);

dated_relation!(
    /// Member municipalities of a region.
    RegionMunicipalities => Vec<municipality::Model>, |r, ids, date| r.municipalities_in_regions(ids, date));
dated_relation!(
    /// The region a municipality belongs to.
    MunicipalityRegion => region::Model, |r, ids, date| r.regions_of_municipalities(ids, date));
dated_relation!(RegionCooperations => Vec<cooperation::Model>, |r, ids, date| r.cooperations_of_regions(ids, date));
dated_relation!(
    MunicipalityCooperations => Vec<cooperation::Model>, |r, ids, date| r.cooperations_of_municipalities(ids, date));
dated_relation!(CooperationMembersOf => CooperationMembers, |r, ids, date| r.members_of_cooperations(ids, date));
dated_relation!(
    /// Sub-regions of a purchasing region.
    CooperationParts => Vec<cooperation::Model>, |r, ids, date| r.parts_of_cooperations(ids, date));
dated_relation!(
    CooperationRolesHeld => Vec<role::Model>, |r, ids, date| r.roles_by(RoleLink::HolderCooperation, ids, date));
dated_relation!(RegionRoles => Vec<role::Model>, |r, ids, date| r.roles_of_regions(ids, date));
dated_relation!(
    MunicipalityRolesHeld => Vec<role::Model>, |r, ids, date| r.roles_by(RoleLink::HolderMunicipality, ids, date));
dated_relation!(CooperationRoles => Vec<role::Model>, |r, ids, date| r.roles_by(RoleLink::Cooperation, ids, date));
dated_relation!(ProviderRoles => Vec<role::Model>, |r, ids, date| r.roles_by(RoleLink::Provider, ids, date));
dated_relation!(CareFormRoles => Vec<role::Model>, |r, ids, date| r.roles_by(RoleLink::CareForm, ids, date));
dated_relation!(RegionContracts => Vec<framework_contract::Model>, |r, ids, date| r.contracts_of_regions(ids, date));
dated_relation!(
    CareFormContracts => Vec<framework_contract::Model>, |r, ids, date| r.contracts_of_care_forms(ids, date));
dated_relation!(ContractParties => Vec<region::Model>, |r, ids, date| r.parties_of_contracts(ids, date));

arrangements_relation!(
    /// Arrangements recorded for a region or for one of its cooperations.
    RegionArrangements, arrangements_of_regions);
arrangements_relation!(CooperationArrangements, arrangements_of_cooperations);
dated_relation!(
    CareFormArrangements => Vec<care_arrangement::Model>, |r, ids, date| r.arrangements_of_care_forms(ids, date));
