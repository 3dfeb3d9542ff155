//! Care-form arrangements: per region or cooperation and care form, at which
//! scale policy, purchasing and supplier management are organised, and by
//! whom. Answered from the snapshot, like the other relations.
//!
//! The portal's question, "for care form X in municipality Y, who buys it?",
//! is `care_answer`. The registry has arrangements for few regions, so an
//! empty answer is ambiguous: "this region organises nothing for X" is a
//! fact, "nobody told us" is not. The answer therefore says whether the
//! registry has any arrangements for the municipality's region and
//! cooperations on that date, and in words what an empty list means; it
//! never falls back to another region's arrangements or to another date.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{care_arrangement, care_form, municipality, region};

use super::snapshot::Snapshot;
use crate::registry::validity::is_valid_on;
use crate::registry::{Registry, RegistryError};

/// The answer to "for this care form in this municipality on this date: at
/// which scale is it organised, by whom, under which contract?".
#[derive(Debug, Clone)]
pub struct CareAnswer {
    pub municipality: municipality::Model,
    pub care_form: care_form::Model,
    /// The municipality's region on `as_of`; none when the registry records none.
    pub region: Option<region::Model>,
    pub as_of: NaiveDate,
    /// True when the registry has arrangements (of any care form) for the
    /// municipality's region or a cooperation it takes part in, on `as_of`.
    pub has_data: bool,
    /// What an empty or missing answer means; none when `arrangements` answers the question.
    pub message: Option<String>,
    /// Recorded for the region or one of the municipality's cooperations, ordered by code.
    pub arrangements: Vec<care_arrangement::Model>,
}

/// Where an arrangement is recorded: for a region, or for a cooperation.
fn recorded_for(row: &care_arrangement::Model, regions: &HashSet<i32>, cooperations: &HashSet<i32>) -> bool {
    row.region_id.is_some_and(|r| regions.contains(&r)) || row.cooperation_id.is_some_and(|c| cooperations.contains(&c))
}

impl Snapshot {
    fn arrangements_on(&self, date: NaiveDate) -> impl Iterator<Item = &care_arrangement::Model> {
        self.care_arrangements.rows.iter().filter(move |a| is_valid_on(a.valid_from, a.valid_to, date))
    }

    /// Whether a row is of the care form a list is limited to; a code that
    /// names no care form matches nothing, as any filter by an unknown code.
    fn of_care_form(&self, code: Option<&str>) -> impl Fn(&care_arrangement::Model) -> bool {
        let wanted = code.map(|code| self.care_forms.rows.iter().find(|f| f.code == code).map(|f| f.id));
        move |row| wanted.is_none_or(|id| id == Some(row.care_form_id))
    }

    /// The arrangements of each owner valid on `date`, where `owners` says which owners a row belongs to.
    fn arrangements_by(
        &self,
        ids: &[i32],
        date: NaiveDate,
        keep: impl Fn(&care_arrangement::Model) -> bool,
        owners: impl Fn(&care_arrangement::Model) -> Vec<i32>,
    ) -> HashMap<i32, Vec<care_arrangement::Model>> {
        let wanted: HashSet<i32> = ids.iter().copied().collect();
        let mut result: HashMap<i32, Vec<care_arrangement::Model>> = HashMap::new();
        for row in self.arrangements_on(date).filter(|row| keep(row)) {
            for owner in owners(row).into_iter().filter(|o| wanted.contains(o)) {
                result.entry(owner).or_default().push(row.clone());
            }
        }
        result
    }

    /// The earliest start of the arrangements recorded for these scopes on any date.
    fn earliest_arrangement(&self, regions: &HashSet<i32>, cooperations: &HashSet<i32>) -> Option<NaiveDate> {
        let rows = self.care_arrangements.rows.iter().filter(|row| recorded_for(row, regions, cooperations));
        rows.filter_map(|row| row.valid_from).min()
    }
}

impl Registry {
    /// Arrangements valid on `date` that concern each region: recorded for the
    /// region, or for a cooperation it takes part in on that date (as a member
    /// region or through its member municipalities); of one care form if asked.
    pub async fn arrangements_of_regions(
        &self,
        region_ids: &[i32],
        date: NaiveDate,
        care_form_code: Option<&str>,
    ) -> Result<HashMap<i32, Vec<care_arrangement::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let mut regions_of_cooperation: HashMap<i32, Vec<i32>> = HashMap::new();
        for (region, cooperations) in snapshot.cooperation_ids_of_regions(region_ids, date) {
            for cooperation in cooperations {
                regions_of_cooperation.entry(cooperation).or_default().push(region);
            }
        }
        let owners = |row: &care_arrangement::Model| {
            let through_cooperation = row.cooperation_id.and_then(|c| regions_of_cooperation.get(&c));
            row.region_id.into_iter().chain(through_cooperation.into_iter().flatten().copied()).collect()
        };
        Ok(snapshot.arrangements_by(region_ids, date, snapshot.of_care_form(care_form_code), owners))
    }

    /// Arrangements valid on `date` recorded for each cooperation; of one care form if asked.
    pub async fn arrangements_of_cooperations(
        &self,
        cooperation_ids: &[i32],
        date: NaiveDate,
        care_form_code: Option<&str>,
    ) -> Result<HashMap<i32, Vec<care_arrangement::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        let owners = |row: &care_arrangement::Model| row.cooperation_id.into_iter().collect();
        Ok(snapshot.arrangements_by(cooperation_ids, date, snapshot.of_care_form(care_form_code), owners))
    }

    /// Arrangements valid on `date` for each care form, for every region and cooperation.
    pub async fn arrangements_of_care_forms(
        &self,
        care_form_ids: &[i32],
        date: NaiveDate,
    ) -> Result<HashMap<i32, Vec<care_arrangement::Model>>, RegistryError> {
        let snapshot = self.snapshot().await?;
        Ok(snapshot.arrangements_by(care_form_ids, date, |_| true, |row| vec![row.care_form_id]))
    }

    /// For care form `care_form_code` in municipality `municipality_code` on
    /// `date`: the arrangements recorded for the municipality's region and for
    /// the cooperations it takes part in on that date. A code that names no
    /// municipality existing on `date`, or no care form, is an invalid argument
    /// (the question cannot be answered), not an empty answer.
    pub async fn care_answer(
        &self,
        municipality_code: &str,
        care_form_code: &str,
        date: NaiveDate,
    ) -> Result<CareAnswer, RegistryError> {
        let snapshot = self.snapshot().await?;
        let municipality = find_municipality(&snapshot, municipality_code, date)?.clone();
        let care_form =
            snapshot.care_forms.rows.iter().find(|f| f.code == care_form_code).cloned().ok_or_else(|| {
                RegistryError::invalid("careFormCode", format!("no care form with code {care_form_code:?}"))
            })?;
        let region = snapshot
            .memberships_on(date)
            .find(|(m, _)| *m == municipality.id)
            .and_then(|(_, r)| snapshot.regions.get(r))
            .filter(|r| is_valid_on(r.valid_from, r.valid_to, date))
            .cloned();
        let regions: HashSet<i32> = region.iter().map(|r| r.id).collect();
        let cooperations = snapshot
            .cooperation_ids_of_municipalities(&[municipality.id], date)
            .remove(&municipality.id)
            .unwrap_or_default();
        let recorded: Vec<_> =
            snapshot.arrangements_on(date).filter(|row| recorded_for(row, &regions, &cooperations)).collect();
        let has_data = !recorded.is_empty();
        let arrangements: Vec<_> =
            recorded.into_iter().filter(|row| row.care_form_id == care_form.id).cloned().collect();
        let message = {
            let place = Place { snapshot: &snapshot, municipality: &municipality, region: region.as_ref(), date };
            let earliest = snapshot.earliest_arrangement(&regions, &cooperations);
            place.explain(has_data, arrangements.is_empty(), &care_form, earliest)
        };
        Ok(CareAnswer { municipality, care_form, region, as_of: date, has_data, message, arrangements })
    }
}

/// The municipality with `code` on `date`, or why there is none then.
fn find_municipality<'a>(
    snapshot: &'a Snapshot,
    code: &str,
    date: NaiveDate,
) -> Result<&'a municipality::Model, RegistryError> {
    let Some(row) = snapshot.municipalities.rows.iter().find(|m| m.code == code) else {
        return Err(RegistryError::invalid("municipalityCode", format!("no municipality with code {code:?}")));
    };
    if is_valid_on(row.valid_from, row.valid_to, date) {
        return Ok(row);
    }
    let lived = match (row.valid_from, row.valid_to) {
        (Some(from), Some(to)) => format!("it existed from {from} until {to}"),
        (Some(from), None) => format!("it exists from {from}"),
        (None, Some(to)) => format!("it existed until {to}"),
        (None, None) => "it has no recorded period".to_owned(),
    };
    let name = snapshot.history.municipality_name(row.id, date, &row.name);
    Err(RegistryError::invalid(
        "municipalityCode",
        format!("municipality {code} ({name}) did not exist on {date} ({lived}); ask for a date on which it existed"),
    ))
}

/// Names for the sentences of an answer.
struct Place<'a> {
    snapshot: &'a Snapshot,
    municipality: &'a municipality::Model,
    region: Option<&'a region::Model>,
    date: NaiveDate,
}

impl Place<'_> {
    fn region_words(&self) -> String {
        match self.region {
            Some(r) => format!("region {} {}", r.code, self.snapshot.history.region_name(r.id, self.date, &r.name)),
            None => "no region".to_owned(),
        }
    }

    /// Why the list is empty, in words; none when it answers the question.
    fn explain(
        &self,
        has_data: bool,
        empty: bool,
        care_form: &care_form::Model,
        earliest: Option<NaiveDate>,
    ) -> Option<String> {
        let (date, m) = (self.date, self.municipality);
        let municipality = format!("{} {}", m.code, self.snapshot.history.municipality_name(m.id, date, &m.name));
        if self.region.is_none() {
            return Some(format!(
                "the registry records no region for {municipality} on {date}, so it has no care-form arrangements for it; it does not guess"
            ));
        }
        let region = self.region_words();
        if !has_data {
            let elsewhen = match earliest {
                Some(from) if from > date => format!(" (the earliest it has are recorded from {from})"),
                _ => String::new(),
            };
            return Some(format!(
                "the registry has no care-form arrangements for {region} on {date}{elsewhen}; it does not guess"
            ));
        }
        empty.then(|| {
            format!(
                "the registry has care-form arrangements for {region} on {date}, but none for {} ({}) that apply to {municipality}; it does not guess",
                care_form.code, care_form.name
            )
        })
    }
}
