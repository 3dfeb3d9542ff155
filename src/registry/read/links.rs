//! The snapshot's rows indexed by the rows they link to, so that a relation
//! costs what it returns: a region's municipalities are found through the
//! memberships of that region, not by reading every membership of every
//! year. Built once per snapshot, next to it; without it one parent's
//! relation read its whole table, and a query grew with parents × table.

use std::collections::HashMap;
use std::hash::Hash;

use entity::role;

use super::snapshot::Snapshot;

/// Positions of rows per key, in the rows' own order (code order where the
/// rows are in code order).
pub struct Index<K> {
    positions: HashMap<K, Vec<usize>>,
}

impl<K> Default for Index<K> {
    fn default() -> Self {
        Index { positions: HashMap::new() }
    }
}

impl<K: Hash + Eq + Copy> Index<K> {
    /// Indexes `rows` under every key `keys` gives for a row.
    fn new<T, I: IntoIterator<Item = K>>(rows: &[T], keys: impl Fn(&T) -> I) -> Self {
        let mut positions: HashMap<K, Vec<usize>> = HashMap::new();
        for (position, row) in rows.iter().enumerate() {
            for key in keys(row) {
                positions.entry(key).or_default().push(position);
            }
        }
        Index { positions }
    }

    /// Where the rows under `key` stand, in order.
    pub fn positions(&self, key: K) -> &[usize] {
        self.positions.get(&key).map_or(&[], Vec::as_slice)
    }

    /// The rows of `rows` under `key`, in order.
    pub fn rows<'a, T>(&'a self, rows: &'a [T], key: K) -> impl Iterator<Item = &'a T> + 'a {
        self.positions(key).iter().map(move |&position| &rows[position])
    }
}

/// The ids each id is linked to, for the link tables that are only pairs of ids.
#[derive(Default)]
pub struct Neighbours {
    ids: HashMap<i32, Vec<i32>>,
}

impl Neighbours {
    fn new(pairs: impl IntoIterator<Item = (i32, i32)>) -> Self {
        let mut ids: HashMap<i32, Vec<i32>> = HashMap::new();
        for (from, to) in pairs {
            ids.entry(from).or_default().push(to);
        }
        Neighbours { ids }
    }

    /// The ids `id` is linked to.
    pub fn of(&self, id: i32) -> impl Iterator<Item = i32> + '_ {
        self.ids.get(&id).into_iter().flatten().copied()
    }
}

/// How a role is linked to an object: whom it is for, or who holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleLink {
    Region,
    Cooperation,
    CareForm,
    Provider,
    HolderMunicipality,
    HolderRegion,
    HolderCooperation,
}

impl RoleLink {
    const ALL: [RoleLink; 7] = [
        RoleLink::Region,
        RoleLink::Cooperation,
        RoleLink::CareForm,
        RoleLink::Provider,
        RoleLink::HolderMunicipality,
        RoleLink::HolderRegion,
        RoleLink::HolderCooperation,
    ];

    /// The object `role` is linked to this way, if any.
    pub fn target(self, role: &role::Model) -> Option<i32> {
        match self {
            RoleLink::Region => role.region_id,
            RoleLink::Cooperation => role.cooperation_id,
            RoleLink::CareForm => role.care_form_id,
            RoleLink::Provider => role.provider_id,
            RoleLink::HolderMunicipality => role.holder_municipality_id,
            RoleLink::HolderRegion => role.holder_region_id,
            RoleLink::HolderCooperation => role.holder_cooperation_id,
        }
    }
}

/// Every index of one snapshot.
#[derive(Default)]
pub struct Links {
    pub memberships_by_region: Index<i32>,
    pub memberships_by_municipality: Index<i32>,
    pub cooperation_members_by_cooperation: Index<i32>,
    pub cooperation_members_by_municipality: Index<i32>,
    pub cooperation_members_by_region: Index<i32>,
    pub roles: Index<(RoleLink, i32)>,
    pub parties_of_contract: Neighbours,
    pub contracts_of_region: Neighbours,
    pub care_forms_of_contract: Neighbours,
    pub contracts_of_care_form: Neighbours,
    pub providers_of_contract: Neighbours,
    /// Sub-regions (parts) of each cooperation.
    pub parts_of_cooperation: Neighbours,
}

impl Links {
    pub fn of(snapshot: &Snapshot) -> Self {
        let reversed = |pairs: &[(i32, i32)]| Neighbours::new(pairs.iter().map(|&(a, b)| (b, a)));
        Links {
            memberships_by_region: Index::new(&snapshot.memberships, |m| Some(m.region_id)),
            memberships_by_municipality: Index::new(&snapshot.memberships, |m| Some(m.municipality_id)),
            cooperation_members_by_cooperation: Index::new(&snapshot.cooperation_members, |m| Some(m.cooperation_id)),
            cooperation_members_by_municipality: Index::new(&snapshot.cooperation_members, |m| m.municipality_id),
            cooperation_members_by_region: Index::new(&snapshot.cooperation_members, |m| m.region_id),
            roles: Index::new(&snapshot.roles, |role| {
                RoleLink::ALL.into_iter().filter_map(|link| Some((link, link.target(role)?))).collect::<Vec<_>>()
            }),
            parties_of_contract: Neighbours::new(snapshot.contract_parties.iter().copied()),
            contracts_of_region: reversed(&snapshot.contract_parties),
            care_forms_of_contract: Neighbours::new(snapshot.contract_care_forms.iter().copied()),
            contracts_of_care_form: reversed(&snapshot.contract_care_forms),
            providers_of_contract: Neighbours::new(snapshot.contract_providers.iter().copied()),
            parts_of_cooperation: Neighbours::new(
                snapshot.cooperations.rows.iter().filter_map(|c| Some((c.parent_cooperation_id?, c.id))),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_keeps_row_order_and_knows_every_key_of_a_row() {
        let rows = [(1, 10), (2, 20), (1, 30)];
        let index = Index::new(&rows, |&(a, b)| [a, b]);
        assert_eq!(index.rows(&rows, 1).collect::<Vec<_>>(), [&(1, 10), &(1, 30)]);
        assert_eq!(index.positions(30), [2]);
        assert!(index.positions(99).is_empty());
    }

    #[test]
    fn neighbours_know_every_link_of_an_id_and_none_of_an_unknown_one() {
        let neighbours = Neighbours::new([(1, 10), (2, 20), (1, 30)]);
        assert_eq!(neighbours.of(1).collect::<Vec<_>>(), [10, 30]);
        assert_eq!(neighbours.of(99).count(), 0);
    }
}
