//! What was true when: names over time, a municipality's regions over time,
//! and lineage (where the territory of an ended municipality went). These
//! lists span every date, so they take no `asOf`; they are answered from the
//! snapshot like the other relations.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use entity::{lineage, membership, municipality_name, region_name};
use migration::seed::cbs_files::ClassificationState;

use super::snapshot::Snapshot;
use crate::registry::validity::is_valid_on;
use crate::registry::{Registry, RegistryError};

/// A name during `[valid_from, valid_to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePeriod {
    pub name: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub source: String,
}

impl From<&municipality_name::Model> for NamePeriod {
    fn from(row: &municipality_name::Model) -> Self {
        NamePeriod {
            name: row.name.clone(),
            valid_from: row.valid_from,
            valid_to: row.valid_to,
            source: row.source.clone(),
        }
    }
}

impl From<&region_name::Model> for NamePeriod {
    fn from(row: &region_name::Model) -> Self {
        NamePeriod {
            name: row.name.clone(),
            valid_from: row.valid_from,
            valid_to: row.valid_to,
            source: row.source.clone(),
        }
    }
}

/// The name valid on `date`, else the object's own (latest) name: an object
/// created by a write before names were kept per period has no periods.
pub fn name_on<'a>(names: &'a [NamePeriod], date: NaiveDate, fallback: &'a str) -> &'a str {
    names.iter().find(|n| is_valid_on(n.valid_from, n.valid_to, date)).map_or(fallback, |n| n.name.as_str())
}

/// Names of one object, oldest first; shared, because every municipality of
/// every uncached answer asks for its name, and the periods (with their
/// sources) need not be copied for that.
pub type Names = Arc<[NamePeriod]>;

/// The snapshot's history tables, grouped by owner and ordered by date.
#[derive(Default)]
pub struct History {
    municipality_names: HashMap<i32, Names>,
    region_names: HashMap<i32, Names>,
    successors: HashMap<i32, Vec<lineage::Model>>,
    predecessors: HashMap<i32, Vec<lineage::Model>>,
}

fn grouped<T, K: Ord>(
    rows: impl IntoIterator<Item = T>,
    owner: impl Fn(&T) -> i32,
    order: impl Fn(&T) -> K,
) -> HashMap<i32, Vec<T>> {
    let mut map: HashMap<i32, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(owner(&row)).or_default().push(row);
    }
    for list in map.values_mut() {
        list.sort_by_key(&order);
    }
    map
}

impl History {
    pub fn new(
        municipality_names: Vec<municipality_name::Model>,
        region_names: Vec<region_name::Model>,
        lineage: Vec<lineage::Model>,
    ) -> Self {
        let period = |n: &(i32, NamePeriod)| n.1.valid_from;
        let by_owner = |rows: Vec<(i32, NamePeriod)>| {
            grouped(rows, |n| n.0, period)
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|n| n.1).collect::<Names>()))
                .collect()
        };
        History {
            municipality_names: by_owner(municipality_names.iter().map(|n| (n.municipality_id, n.into())).collect()),
            region_names: by_owner(region_names.iter().map(|n| (n.region_id, n.into())).collect()),
            successors: grouped(lineage.clone(), |l| l.predecessor_id, |l| (l.effective_date, l.kind_rank())),
            predecessors: grouped(lineage, |l| l.successor_id, |l| (l.effective_date, l.kind_rank())),
        }
    }

    /// A municipality's name on `date`, for messages.
    pub fn municipality_name<'a>(&'a self, id: i32, date: NaiveDate, fallback: &'a str) -> &'a str {
        self.municipality_names.get(&id).map_or(fallback, |names| name_on(names, date, fallback))
    }

    /// A region's name on `date`, for messages.
    pub fn region_name<'a>(&'a self, id: i32, date: NaiveDate, fallback: &'a str) -> &'a str {
        self.region_names.get(&id).map_or(fallback, |names| name_on(names, date, fallback))
    }

    /// The links to the municipalities whose territory `id` took over, oldest first.
    pub fn predecessors(&self, id: i32) -> &[lineage::Model] {
        self.predecessors.get(&id).map_or(&[], Vec::as_slice)
    }
}

/// Orders lineage links: the main successor first, then larger parts.
trait KindRank {
    fn kind_rank(&self) -> (u8, i64);
}

impl KindRank for lineage::Model {
    fn kind_rank(&self) -> (u8, i64) {
        use entity::enums::LineageKind;
        let kind = match self.kind {
            LineageKind::Main => 0,
            LineageKind::Part => 1,
            LineageKind::Minor => 2,
        };
        (kind, -(self.area_share.unwrap_or(0.0) * 1e6) as i64)
    }
}

fn shared(map: &HashMap<i32, Names>, ids: &[i32]) -> HashMap<i32, Names> {
    ids.iter().map(|id| (*id, names_in(map, *id))).collect()
}

fn names_in(map: &HashMap<i32, Names>, id: i32) -> Names {
    map.get(&id).cloned().unwrap_or_else(|| Arc::from([]))
}

fn pick<T: Clone>(map: &HashMap<i32, Vec<T>>, ids: &[i32]) -> HashMap<i32, Vec<T>> {
    ids.iter().map(|id| (*id, map.get(id).cloned().unwrap_or_default())).collect()
}

impl Snapshot {
    /// Each municipality's memberships, oldest first.
    fn membership_periods(&self, ids: &[i32]) -> HashMap<i32, Vec<membership::Model>> {
        let wanted: HashSet<i32> = ids.iter().copied().collect();
        let mut result = grouped(
            self.memberships.iter().filter(|m| wanted.contains(&m.municipality_id)).cloned(),
            |m| m.municipality_id,
            |m| m.valid_from,
        );
        for id in ids {
            result.entry(*id).or_default();
        }
        result
    }
}

impl Registry {
    /// The registry's own classification on `date`, in the shape of a CBS file's
    /// (a municipality without a region on that date has region "").
    pub async fn classification_on(&self, date: NaiveDate) -> Result<ClassificationState, RegistryError> {
        let snapshot = self.snapshot().await?;
        let history = &snapshot.history;
        let region_of: HashMap<i32, i32> = snapshot.memberships_on(date).collect();
        let mut state = ClassificationState::default();
        for m in snapshot.municipalities.rows.iter().filter(|m| is_valid_on(m.valid_from, m.valid_to, date)) {
            let names = history.municipality_names.get(&m.id).map_or(&[][..], |n| &n[..]);
            let region = region_of.get(&m.id).and_then(|r| snapshot.regions.get(*r)).map(|r| r.code.clone());
            state
                .municipalities
                .insert(m.code.clone(), (name_on(names, date, &m.name).to_owned(), region.unwrap_or_default()));
        }
        for r in snapshot.regions.rows.iter().filter(|r| is_valid_on(r.valid_from, r.valid_to, date)) {
            let names = history.region_names.get(&r.id).map_or(&[][..], |n| &n[..]);
            state.regions.insert(r.code.clone(), name_on(names, date, &r.name).to_owned());
        }
        Ok(state)
    }

    pub async fn names_of_municipalities(&self, ids: &[i32]) -> Result<HashMap<i32, Names>, RegistryError> {
        Ok(shared(&self.snapshot().await?.history.municipality_names, ids))
    }

    pub async fn names_of_regions(&self, ids: &[i32]) -> Result<HashMap<i32, Names>, RegistryError> {
        Ok(shared(&self.snapshot().await?.history.region_names, ids))
    }

    /// [`Registry::names_of_municipalities`] for one municipality: every
    /// municipality of a portal answer asks for its own.
    pub async fn names_of_municipality(&self, id: i32) -> Result<Option<Names>, RegistryError> {
        Ok(Some(names_in(&self.snapshot().await?.history.municipality_names, id)))
    }

    /// [`Registry::names_of_regions`] for one region.
    pub async fn names_of_region(&self, id: i32) -> Result<Option<Names>, RegistryError> {
        Ok(Some(names_in(&self.snapshot().await?.history.region_names, id)))
    }

    /// Where the territory of each municipality went, main successor first.
    pub async fn successors_of(&self, ids: &[i32]) -> Result<HashMap<i32, Vec<lineage::Model>>, RegistryError> {
        Ok(pick(&self.snapshot().await?.history.successors, ids))
    }

    /// The municipalities whose territory each municipality took over.
    pub async fn predecessors_of(&self, ids: &[i32]) -> Result<HashMap<i32, Vec<lineage::Model>>, RegistryError> {
        Ok(pick(&self.snapshot().await?.history.predecessors, ids))
    }

    /// The latest date on which a recorded change of municipalities or
    /// memberships takes effect (a start or an end).
    pub async fn latest_classification_change(&self) -> Result<Option<NaiveDate>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let memberships = snapshot.memberships.iter().flat_map(|m| [m.valid_from, m.valid_to]);
        let municipalities = snapshot.municipalities.rows.iter().flat_map(|m| [m.valid_from, m.valid_to]);
        Ok(memberships.chain(municipalities).flatten().max())
    }

    /// Every region membership of each municipality, oldest first.
    pub async fn region_history(&self, ids: &[i32]) -> Result<HashMap<i32, Vec<membership::Model>>, RegistryError> {
        Ok(self.snapshot().await?.membership_periods(ids))
    }
}
