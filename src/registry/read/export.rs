//! The registry as flat tables on one date, for the downloads (`/export/*.csv`).
//!
//! Spreadsheet users get the same facts a GraphQL client would read on that
//! date (names on the date, memberships on the date, the same validity rule),
//! so the rules stay here and the HTTP layer only writes the rows out. Field
//! names are the column names; codes stand for related objects, as in the
//! change feed, because ids mean nothing outside the service.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{framework_contract, role};
use sea_orm::ActiveEnum;
use serde::Serialize;

use super::snapshot::{InSnapshot, Snapshot};
use crate::registry::coverage::check_as_of;
use crate::registry::validity::is_valid_on;
use crate::registry::{Registry, RegistryError};

/// A municipality on a date, as CBS's "Gebieden in Nederland" lists it for this classification.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MunicipalityLine {
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub region_name: String,
    /// Empty when the registry has no province for it (the CBS files before
    /// 2025 give none, so municipalities that ended earlier have none).
    pub province_code: String,
    pub province_name: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RegionLine {
    pub code: String,
    pub name: String,
    pub municipality_count: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RoleLine {
    pub code: String,
    pub kind: String,
    pub holder_code: String,
    pub holder_name: String,
    pub cooperation_code: String,
    pub care_form_code: String,
    pub provider_code: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_from_is_lower_bound: bool,
    pub valid_to: Option<NaiveDate>,
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ContractLine {
    pub code: String,
    pub title: String,
    pub scale: String,
    pub contracting_authority: String,
    /// Space-separated: codes never contain one, and a spreadsheet keeps one row per contract.
    pub party_region_codes: String,
    pub care_form_codes: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_from_is_lower_bound: bool,
    pub valid_to: Option<NaiveDate>,
    pub source: String,
}

/// The code of row `id` of `M`'s table, or "" when there is no link.
fn code_of<M: InSnapshot + HasCode>(snapshot: &Snapshot, id: Option<i32>) -> String {
    id.and_then(|id| M::table(snapshot).get(id)).map(|row| row.code().to_owned()).unwrap_or_default()
}

trait HasCode {
    fn code(&self) -> &str;
}

macro_rules! has_code {
    ($($module:ident),*) => {$(impl HasCode for entity::$module::Model { fn code(&self) -> &str { &self.code } })*};
}
has_code!(region, cooperation, care_form, provider);

impl Snapshot {
    /// Region of each municipality on `date`, only where both exist then.
    pub(super) fn region_of_municipalities(&self, date: NaiveDate) -> HashMap<i32, i32> {
        self.memberships_on(date)
            .filter(|(m, r)| {
                self.municipalities.get(*m).is_some_and(|row| row.is_valid_on(date))
                    && self.regions.get(*r).is_some_and(|row| row.is_valid_on(date))
            })
            .collect()
    }

    pub(super) fn municipality_lines(&self, date: NaiveDate) -> Vec<MunicipalityLine> {
        let region_of = self.region_of_municipalities(date);
        self.municipalities
            .rows
            .iter()
            .filter(|m| m.is_valid_on(date))
            .map(|m| {
                let region = region_of.get(&m.id).and_then(|r| self.regions.get(*r));
                let province = m.province_id.and_then(|p| self.provinces.get(p));
                MunicipalityLine {
                    code: m.code.clone(),
                    name: self.history.municipality_name(m.id, date, &m.name).to_owned(),
                    region_code: region.map(|r| r.code.clone()).unwrap_or_default(),
                    region_name: region
                        .map(|r| self.history.region_name(r.id, date, &r.name).to_owned())
                        .unwrap_or_default(),
                    province_code: province.map(|p| p.code.clone()).unwrap_or_default(),
                    province_name: province.map(|p| p.name.clone()).unwrap_or_default(),
                }
            })
            .collect()
    }

    /// The codes of each region's member municipalities on `date`, in code order, by region code.
    pub(super) fn members_of_regions(&self, date: NaiveDate) -> HashMap<&str, Vec<&str>> {
        let mut members: HashMap<&str, Vec<&str>> = HashMap::new();
        for (municipality, region) in self.region_of_municipalities(date) {
            if let (Some(m), Some(r)) = (self.municipalities.get(municipality), self.regions.get(region)) {
                members.entry(r.code.as_str()).or_default().push(m.code.as_str());
            }
        }
        members.values_mut().for_each(|codes| codes.sort_unstable());
        members
    }

    pub(super) fn region_lines(&self, date: NaiveDate) -> Vec<RegionLine> {
        let members = self.members_of_regions(date);
        self.regions
            .rows
            .iter()
            .filter(|r| r.is_valid_on(date))
            .map(|r| RegionLine {
                code: r.code.clone(),
                name: self.history.region_name(r.id, date, &r.name).to_owned(),
                municipality_count: members.get(r.code.as_str()).map_or(0, Vec::len),
            })
            .collect()
    }

    /// The holder's code and its name on `date`.
    fn holder(&self, role: &role::Model, date: NaiveDate) -> (String, String) {
        let named = |code: &str, name: &str| (code.to_owned(), name.to_owned());
        match (role.holder_municipality_id, role.holder_region_id, role.holder_cooperation_id) {
            (Some(id), _, _) => {
                self.municipalities.get(id).map(|m| named(&m.code, self.history.municipality_name(m.id, date, &m.name)))
            }
            (None, Some(id), _) => {
                self.regions.get(id).map(|r| named(&r.code, self.history.region_name(r.id, date, &r.name)))
            }
            (None, None, Some(id)) => self.cooperations.get(id).map(|c| named(&c.code, &c.name)),
            (None, None, None) => None,
        }
        .unwrap_or_default()
    }

    fn role_lines(&self, date: NaiveDate) -> Vec<RoleLine> {
        self.roles
            .iter()
            .filter(|r| is_valid_on(r.valid_from, r.valid_to, date))
            .map(|r| {
                let (holder_code, holder_name) = self.holder(r, date);
                RoleLine {
                    code: r.code.clone(),
                    kind: r.kind.to_value(),
                    holder_code,
                    holder_name,
                    cooperation_code: code_of::<entity::cooperation::Model>(self, r.cooperation_id),
                    care_form_code: code_of::<entity::care_form::Model>(self, r.care_form_id),
                    provider_code: code_of::<entity::provider::Model>(self, r.provider_id),
                    valid_from: r.valid_from,
                    valid_from_is_lower_bound: r.valid_from_is_lower_bound,
                    valid_to: r.valid_to,
                    source: r.source.clone(),
                }
            })
            .collect()
    }

    /// Who awarded the contract: the name the source gives, else the awarding
    /// municipality's name on `date` (the rule of `ContractingAuthority.name`).
    fn contracting_authority(&self, contract: &framework_contract::Model, date: NaiveDate) -> String {
        if let Some(name) = &contract.contracting_authority_name {
            return name.clone();
        }
        contract
            .contracting_authority_municipality_id
            .and_then(|id| self.municipalities.get(id))
            .map(|m| self.history.municipality_name(m.id, date, &m.name).to_owned())
            .unwrap_or_default()
    }

    /// Codes of the rows of `M` linked to `contract`, in code order; only those
    /// valid on `date` (care forms always are).
    fn linked_codes<M: InSnapshot + HasCode>(&self, links: &[(i32, i32)], contract: i32, date: NaiveDate) -> String {
        let table = M::table(self);
        let mut ranks: Vec<usize> = links
            .iter()
            .filter(|(c, _)| *c == contract)
            .filter(|(_, target)| table.get(*target).is_some_and(|row| row.is_valid_on(date)))
            .filter_map(|(_, target)| table.rank(*target))
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        ranks.into_iter().map(|rank| table.rows[rank].code()).collect::<Vec<_>>().join(" ")
    }

    fn contract_lines(&self, date: NaiveDate) -> Vec<ContractLine> {
        self.contracts
            .rows
            .iter()
            .filter(|c| c.is_valid_on(date))
            .map(|c| ContractLine {
                code: c.code.clone(),
                title: c.title.clone(),
                scale: c.scale.to_value(),
                contracting_authority: self.contracting_authority(c, date),
                party_region_codes: self.linked_codes::<entity::region::Model>(&self.contract_parties, c.id, date),
                care_form_codes: self.linked_codes::<entity::care_form::Model>(&self.contract_care_forms, c.id, date),
                valid_from: c.valid_from,
                valid_from_is_lower_bound: c.valid_from_is_lower_bound,
                valid_to: c.valid_to,
                source: c.source.clone(),
            })
            .collect()
    }
}

impl Registry {
    /// Every municipality valid on `date`, in code order, with its region and province.
    pub async fn export_municipalities(&self, date: NaiveDate) -> Result<Vec<MunicipalityLine>, RegistryError> {
        let date = check_as_of("asOf", date)?;
        Ok(self.snapshot().await?.municipality_lines(date))
    }

    /// Every region valid on `date`, in code order, with its number of member municipalities then.
    pub async fn export_regions(&self, date: NaiveDate) -> Result<Vec<RegionLine>, RegistryError> {
        let date = check_as_of("asOf", date)?;
        Ok(self.snapshot().await?.region_lines(date))
    }

    /// Every role valid on `date`, in code order.
    pub async fn export_roles(&self, date: NaiveDate) -> Result<Vec<RoleLine>, RegistryError> {
        let date = check_as_of("asOf", date)?;
        Ok(self.snapshot().await?.role_lines(date))
    }

    /// Every framework contract valid on `date`, in code order.
    pub async fn export_contracts(&self, date: NaiveDate) -> Result<Vec<ContractLine>, RegistryError> {
        let date = check_as_of("asOf", date)?;
        Ok(self.snapshot().await?.contract_lines(date))
    }
}
