//! A municipality's own entry (`municipalityUpdate`, `municipalitySync`) and
//! its region membership (`membershipChange`).

use chrono::NaiveDate;
use entity::{membership, municipality, region};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;

use super::room::Grown;
use super::txn::WriteTxn;
use super::{Command, Patch, apply_patch};
use crate::registry::bounds::PERIODS_PER_OBJECT;
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::valid_on;
use crate::registry::validate::{Checks, MAX_ADDRESS, MAX_NAME};
use crate::registry::validity::is_valid_on;

#[derive(Debug, Clone, Default, Serialize)]
pub struct AccessPointPatch {
    pub name: Patch<String>,
    pub phone: Patch<String>,
    pub email: Patch<String>,
    pub website: Patch<String>,
    pub address: Patch<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MunicipalityUpdate {
    pub code: String,
    pub expected_version: i32,
    pub website: Patch<String>,
    pub access_point: Option<AccessPointPatch>,
}

/// A municipality's whole public entry as its own system holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MunicipalityEntry {
    pub code: String,
    pub website: Option<String>,
    pub access_name: Option<String>,
    pub access_phone: Option<String>,
    pub access_email: Option<String>,
    pub access_website: Option<String>,
    pub access_address: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MembershipChange {
    pub municipality_code: String,
    /// The municipality's version: a membership change is a change of the municipality.
    pub expected_version: i32,
    pub region_code: String,
    pub valid_from: NaiveDate,
}

/// The rules of each public field of a municipality's entry.
fn check_entry_field(checks: &mut Checks, field: &[&str], value: &str) {
    match field.last() {
        Some(&"phone") => checks.phone(field, value),
        Some(&"email") => checks.email(field, value),
        Some(&"website") => checks.url(field, value),
        Some(&"address") => checks.text(field, value, MAX_ADDRESS),
        _ => checks.text(field, value, MAX_NAME),
    }
}

/// `(field path, new value)` of every field an update sets.
fn set_fields(input: &MunicipalityUpdate) -> Vec<(&'static [&'static str], &String)> {
    let mut fields: Vec<(&[&str], &Patch<String>)> = vec![(&["website"], &input.website)];
    if let Some(a) = &input.access_point {
        fields.extend([
            (&["accessPoint", "name"][..], &a.name),
            (&["accessPoint", "phone"], &a.phone),
            (&["accessPoint", "email"], &a.email),
            (&["accessPoint", "website"], &a.website),
            (&["accessPoint", "address"], &a.address),
        ]);
    }
    fields.into_iter().filter_map(|(field, patch)| Some((field, patch.as_ref()?.as_ref()?))).collect()
}

#[async_trait::async_trait]
impl Command for MunicipalityUpdate {
    type Object = municipality::Model;
    type Loaded = municipality::Model;

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        w.require(&self.code, "code").await
    }

    fn target(&self, before: &Self::Loaded) -> Target {
        Target::Municipality(before.code.clone())
    }

    fn validate(&self, _: &Self::Loaded, checks: &mut Checks) {
        for (field, value) in set_fields(self) {
            check_entry_field(checks, field, value);
        }
    }

    fn versions(&self, before: &Self::Loaded) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, before: Self::Loaded) -> Result<Self::Object, WriteError> {
        let mut after = before.clone();
        apply_patch(&self.website, &mut after.website);
        if let Some(access) = &self.access_point {
            apply_patch(&access.name, &mut after.access_name);
            apply_patch(&access.phone, &mut after.access_phone);
            apply_patch(&access.email, &mut after.access_email);
            apply_patch(&access.website, &mut after.access_website);
            apply_patch(&access.address, &mut after.access_address);
        }
        w.update(&before, after).await
    }
}

/// The second of two identical syncs changes nothing: no new version, no
/// audit record, no feed entry.
#[async_trait::async_trait]
impl Command for MunicipalityEntry {
    type Object = municipality::Model;
    type Loaded = municipality::Model;

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        w.require(&self.code, "code").await
    }

    fn target(&self, before: &Self::Loaded) -> Target {
        Target::Municipality(before.code.clone())
    }

    fn validate(&self, _: &Self::Loaded, checks: &mut Checks) {
        let fields: [(&[&str], &Option<String>); 6] = [
            (&["website"], &self.website),
            (&["accessPoint", "name"], &self.access_name),
            (&["accessPoint", "phone"], &self.access_phone),
            (&["accessPoint", "email"], &self.access_email),
            (&["accessPoint", "website"], &self.access_website),
            (&["accessPoint", "address"], &self.access_address),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                check_entry_field(checks, field, value);
            }
        }
    }

    async fn apply(&self, w: &WriteTxn, before: Self::Loaded) -> Result<Self::Object, WriteError> {
        let after = municipality::Model {
            website: self.website.clone(),
            access_name: self.access_name.clone(),
            access_phone: self.access_phone.clone(),
            access_email: self.access_email.clone(),
            access_website: self.access_website.clone(),
            access_address: self.access_address.clone(),
            ..before.clone()
        };
        if after == before {
            return Ok(before); // nothing journalled: the pipeline commits nothing
        }
        w.update(&before, after).await
    }
}

#[async_trait::async_trait]
impl Command for MembershipChange {
    type Object = municipality::Model;
    type Loaded = (municipality::Model, region::Model);

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        Ok((
            w.require(&self.municipality_code, "municipalityCode").await?,
            w.require(&self.region_code, "regionCode").await?,
        ))
    }

    fn target(&self, _: &Self::Loaded) -> Target {
        Target::OperatorOnly
    }

    fn versions(&self, (before, _): &Self::Loaded) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, (before, region): Self::Loaded) -> Result<Self::Object, WriteError> {
        let snapshot = w.snapshot(&before).await?;
        let after = w.guarded(&before, before.clone()).await?;
        move_to_region(w, &before, region.id, self.valid_from).await?;
        w.record(Some(snapshot), &after).await?;
        Ok(after)
    }
}

/// The membership of a municipality valid on `date`.
pub(super) async fn membership_on(
    w: &WriteTxn,
    municipality_id: i32,
    date: NaiveDate,
) -> Result<Option<membership::Model>, WriteError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::MunicipalityId.eq(municipality_id))
        .filter(valid_on(membership::Column::ValidFrom, membership::Column::ValidTo, date))
        .one(&w.txn)
        .await?)
}

/// Ends a membership on `date`, or removes it when it would only start then.
pub(super) async fn end_membership(w: &WriteTxn, link: &membership::Model, date: NaiveDate) -> Result<(), WriteError> {
    if link.valid_from.is_some_and(|from| from >= date) {
        membership::Entity::delete_by_id(link.id).exec(&w.txn).await?;
    } else {
        w.guarded(link, membership::Model { valid_to: Some(date), ..link.clone() }).await?;
    }
    Ok(())
}

/// Moves a municipality to `region_id` from `date`: its current membership
/// ends the day the new one starts. Refuses when a later change is already
/// recorded, since a municipality is in one region at any date.
pub(super) async fn move_to_region(
    w: &WriteTxn,
    municipality: &municipality::Model,
    region_id: i32,
    date: NaiveDate,
) -> Result<(), WriteError> {
    let later = membership::Entity::find()
        .filter(membership::Column::MunicipalityId.eq(municipality.id))
        .filter(membership::Column::ValidFrom.gt(date))
        .one(&w.txn)
        .await?;
    if later.is_some() {
        return Err(WriteError::overlap(&["validFrom"], "a region change after this date is already recorded"));
    }
    if !is_valid_on(municipality.valid_from, municipality.valid_to, date) {
        return Err(WriteError::invalid(&["validFrom"], "the municipality does not exist on that date"));
    }
    let periods =
        membership::Entity::find().filter(membership::Column::MunicipalityId.eq(municipality.id)).count(&w.txn).await?;
    if periods as usize >= PERIODS_PER_OBJECT {
        return Err(WriteError::invalid(
            &["regionCode"],
            format!("the municipality already has {PERIODS_PER_OBJECT} region periods, the most the registry keeps"),
        ));
    }
    let current = membership_on(w, municipality.id, date).await?;
    if let Some(link) = &current {
        if link.region_id == region_id {
            return Err(WriteError::invalid(
                &["regionCode"],
                "the municipality is already in this region on that date",
            ));
        }
        if link.valid_from == Some(date) {
            return Err(WriteError::overlap(&["validFrom"], "a region change on this date is already recorded"));
        }
        end_membership(w, link, date).await?;
    }
    w.insert(membership::ActiveModel {
        municipality_id: Set(municipality.id),
        region_id: Set(region_id),
        valid_from: Set(Some(date)),
        // A membership that was going to end (say at a merger) still ends then.
        valid_to: Set(current.as_ref().and_then(|link| link.valid_to)),
        source: Set(w.source()),
        version: Set(1),
        ..Default::default()
    })
    .await?;
    Grown::from(date, "regionCode").regions([region_id]).municipalities([municipality.id]).ensure_within_bounds(w).await
}
