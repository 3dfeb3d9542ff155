//! The registry's mutations. Each one: resolves what it changes, asks the
//! policy, validates its input, checks `expectedVersion`, applies the change,
//! audits every object it touched and commits, all in one transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::enums::{Instrument, RoleKind, Scale};
use entity::*;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use super::policy::{Target, authorize};
use super::validate::*;
use super::write_core::*;
use super::{Registry, valid_on};

/// A text change: `None` keeps the value, `Some(None)` clears it, `Some(Some(v))` sets it.
pub type Patch<T> = Option<Option<T>>;

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
pub struct RoleAssign {
    pub kind: RoleKind,
    /// A municipality (`GM…`) or, for account holding, a region (`JZ…`).
    pub holder_code: String,
    pub region_code: Option<String>,
    pub cooperation_code: Option<String>,
    pub care_form_code: Option<String>,
    pub provider_code: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Ends a role, cooperation or contract: it is no longer valid from `valid_to`.
#[derive(Debug, Clone, Serialize)]
pub struct End {
    pub code: String,
    pub expected_version: i32,
    pub valid_to: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct CooperationCreate {
    pub code: String,
    pub name: String,
    pub scale: Scale,
    pub instrument: Option<Instrument>,
    pub description: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub municipality_codes: Vec<String>,
    pub region_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CooperationUpdate {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub scale: Option<Scale>,
    pub instrument: Patch<Instrument>,
    pub description: Patch<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CooperationMembersSet {
    pub code: String,
    pub expected_version: i32,
    pub municipality_codes: Vec<String>,
    pub region_codes: Vec<String>,
    /// Members leave and join on this date.
    pub valid_from: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkContractCreate {
    pub code: String,
    pub title: String,
    pub scale: Scale,
    pub contracting_authority_code: Option<String>,
    pub contracting_authority_name: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub party_region_codes: Vec<String>,
    pub care_form_codes: Vec<String>,
    pub provider_codes: Vec<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkContractUpdate {
    pub code: String,
    pub expected_version: i32,
    pub title: Option<String>,
    pub note: Patch<String>,
    pub valid_from: Patch<NaiveDate>,
    pub valid_to: Patch<NaiveDate>,
    pub care_form_codes: Option<Vec<String>>,
    pub provider_codes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkContractPartiesSet {
    pub code: String,
    pub expected_version: i32,
    pub region_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MembershipChange {
    pub municipality_code: String,
    /// The municipality's version: a membership change is a change of the municipality.
    pub expected_version: i32,
    pub region_code: String,
    pub valid_from: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct MunicipalityMerge {
    /// The municipalities that end on `date`.
    pub municipality_codes: Vec<String>,
    /// An existing municipality, or a new code (then `successor_name` and `province_code` are required).
    pub successor_code: String,
    pub successor_name: Option<String>,
    pub province_code: Option<String>,
    /// The successor's region; by default the region of the ending municipalities (which must then agree).
    pub region_code: Option<String>,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderCreate {
    pub code: String,
    pub name: String,
    pub certified_institution: Option<bool>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderUpdate {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub certified_institution: Patch<bool>,
    pub website: Patch<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CareFormCreate {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CareFormUpdate {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub description: Patch<String>,
}

type Outcome<T> = Result<Written<T>, WriteError>;

fn apply<T: Clone>(patch: &Patch<T>, current: &mut Option<T>) {
    if let Some(value) = patch {
        *current = value.clone();
    }
}

/// A row of `E` by code, inside the transaction.
async fn find<E: EntityTrait>(
    txn: &DatabaseTransaction,
    column: E::Column,
    code: &str,
) -> Result<Option<E::Model>, DbErr> {
    E::find().filter(column.eq(code)).one(txn).await
}

/// A row of `E` by code, or a NOT_FOUND user error on `field`.
async fn require<E: EntityTrait>(
    txn: &DatabaseTransaction,
    column: E::Column,
    code: &str,
    field: &[&str],
    what: &str,
) -> Result<E::Model, WriteError> {
    find::<E>(txn, column, code).await?.ok_or_else(|| not_found(field, what, code))
}

/// Ids for a list of codes; every unknown code is reported on `field`.
async fn require_all<E: EntityTrait>(
    txn: &DatabaseTransaction,
    code_column: E::Column,
    codes: &[String],
    field: &str,
    what: &str,
    code_of: fn(&E::Model) -> (&str, i32),
) -> Result<Vec<i32>, WriteError> {
    let unique: BTreeSet<&String> = codes.iter().collect();
    let rows = E::find().filter(code_column.is_in(unique.iter().map(|c| c.as_str()))).all(txn).await?;
    let found: HashMap<&str, i32> = rows.iter().map(code_of).collect();
    let missing: Vec<UserError> = unique
        .iter()
        .filter(|c| !found.contains_key(c.as_str()))
        .map(|c| UserError::new(&[field], UserErrorCode::NotFound, format!("no {what} with code {c:?}")))
        .collect();
    if !missing.is_empty() {
        return Err(WriteError::Rejected(missing));
    }
    Ok(unique.iter().map(|c| found[c.as_str()]).collect())
}

/// Applies `model` only if the row still has `expected` as version, so of two
/// concurrent writers with the same version exactly one wins.
async fn guarded_update<E>(
    txn: &DatabaseTransaction,
    model: E::ActiveModel,
    id_column: E::Column,
    version_column: E::Column,
    id: i32,
    expected: i32,
) -> Result<(), WriteError>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let result =
        E::update_many().set(model).filter(id_column.eq(id)).filter(version_column.eq(expected)).exec(txn).await?;
    if result.rows_affected == 0 {
        let current: Option<i32> =
            E::find().select_only().column(version_column).filter(id_column.eq(id)).into_tuple().one(txn).await?;
        return Err(stale(expected, current.unwrap_or(expected)));
    }
    Ok(())
}

fn check_version(expected: i32, current: i32) -> Result<(), WriteError> {
    if expected == current { Ok(()) } else { Err(stale(expected, current)) }
}

/// Starts a write, or answers a retry from the object its first attempt wrote.
macro_rules! begin {
    ($registry:expr, $intent:expr, $input:expr, $entity:ty, $code_column:expr) => {
        match $registry.begin_write($intent, $input).await? {
            Began::Fresh(w) => w,
            Began::Replay(code) => {
                let object = <$entity>::find().filter($code_column.eq(code.as_str())).one(&$registry.db).await?;
                return object
                    .map(|object| Written { object, replayed: true })
                    .ok_or_else(|| WriteError::Failed(DbErr::RecordNotFound(code).into()));
            }
        }
    };
}

/// Commits and returns the object as written.
macro_rules! finish {
    ($w:expr, $type_name:expr, $object:expr) => {{
        let object = $object;
        $w.commit($type_name, &object.code).await?;
        Ok(Written { object, replayed: false })
    }};
}

impl Registry {
    pub async fn municipality_update(
        &self,
        intent: &Intent<'_>,
        input: &MunicipalityUpdate,
    ) -> Outcome<municipality::Model> {
        use municipality::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "municipality").await?;
        authorize(&w.txn, w.actor(), Target::Municipality(before.id)).await?;

        let mut checks = Checks::default();
        let text_field =
            |checks: &mut Checks, field: &[&str], patch: &Patch<String>, kind: fn(&mut Checks, &[&str], &str)| {
                if let Some(Some(value)) = patch {
                    kind(checks, field, value);
                }
            };
        text_field(&mut checks, &["website"], &input.website, Checks::url);
        if let Some(access) = &input.access_point {
            text_field(&mut checks, &["accessPoint", "name"], &access.name, |c, f, v| c.text(f, v, MAX_NAME));
            text_field(&mut checks, &["accessPoint", "phone"], &access.phone, Checks::phone);
            text_field(&mut checks, &["accessPoint", "email"], &access.email, Checks::email);
            text_field(&mut checks, &["accessPoint", "website"], &access.website, Checks::url);
            text_field(&mut checks, &["accessPoint", "address"], &access.address, |c, f, v| c.text(f, v, MAX_ADDRESS));
        }
        checks.finish()?;
        check_version(input.expected_version, before.version)?;

        let mut after = before.clone();
        apply(&input.website, &mut after.website);
        if let Some(access) = &input.access_point {
            apply(&access.name, &mut after.access_name);
            apply(&access.phone, &mut after.access_phone);
            apply(&access.email, &mut after.access_email);
            apply(&access.website, &mut after.access_website);
            apply(&access.address, &mut after.access_address);
        }
        after.version = before.version + 1;
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        w.audit("Municipality", &after.code, Some(&before), Some(&after)).await?;
        finish!(w, "Municipality", after)
    }

    /// Makes the municipality's public entry equal `input`, writing only when
    /// something differs. The second of two identical syncs changes nothing:
    /// no new version, no audit record, no feed entry (`replayed` is false and
    /// the returned flag says `changed: false`).
    pub async fn municipality_sync(
        &self,
        intent: &Intent<'_>,
        input: &MunicipalityEntry,
    ) -> Result<(Written<municipality::Model>, bool), WriteError> {
        use municipality::{Column, Entity};
        let w = match self.begin_write(intent, input).await? {
            Began::Fresh(w) => w,
            Began::Replay(code) => {
                let object = Entity::find().filter(Column::Code.eq(code.as_str())).one(&self.db).await?;
                let object = object.ok_or_else(|| WriteError::Failed(DbErr::RecordNotFound(code).into()))?;
                return Ok((Written { object, replayed: true }, false));
            }
        };
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "municipality").await?;
        authorize(&w.txn, w.actor(), Target::Municipality(before.id)).await?;
        let mut checks = Checks::default();
        let optional =
            |checks: &mut Checks, field: &[&str], value: &Option<String>, rule: fn(&mut Checks, &[&str], &str)| {
                if let Some(value) = value {
                    rule(checks, field, value);
                }
            };
        optional(&mut checks, &["website"], &input.website, Checks::url);
        optional(&mut checks, &["accessPoint", "name"], &input.access_name, |c, f, v| c.text(f, v, MAX_NAME));
        optional(&mut checks, &["accessPoint", "phone"], &input.access_phone, Checks::phone);
        optional(&mut checks, &["accessPoint", "email"], &input.access_email, Checks::email);
        optional(&mut checks, &["accessPoint", "website"], &input.access_website, Checks::url);
        optional(&mut checks, &["accessPoint", "address"], &input.access_address, |c, f, v| c.text(f, v, MAX_ADDRESS));
        checks.finish()?;
        let after = municipality::Model {
            website: input.website.clone(),
            access_name: input.access_name.clone(),
            access_phone: input.access_phone.clone(),
            access_email: input.access_email.clone(),
            access_website: input.access_website.clone(),
            access_address: input.access_address.clone(),
            ..before.clone()
        };
        if after == before {
            // Nothing differs: leave without writing (the transaction rolls back on drop).
            return Ok((Written { object: before, replayed: false }, false));
        }
        let after = municipality::Model { version: before.version + 1, ..after };
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            before.version,
        )
        .await?;
        w.audit("Municipality", &after.code, Some(&before), Some(&after)).await?;
        w.commit("Municipality", &after.code).await?;
        Ok((Written { object: after, replayed: false }, true))
    }

    pub async fn role_assign(&self, intent: &Intent<'_>, input: &RoleAssign) -> Outcome<role::Model> {
        use role::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let txn = &w.txn;
        let mut checks = Checks::default();
        checks.period(&["validTo"], Some(input.valid_from), input.valid_to);
        if let Some(note) = &input.note {
            checks.text(&["note"], note, MAX_TEXT);
        }
        if input.region_code.is_none()
            && input.cooperation_code.is_none()
            && input.care_form_code.is_none()
            && input.provider_code.is_none()
        {
            checks.invalid(
                &["regionCode"],
                "name what the role is for: a region, cooperation, care form and/or provider",
            );
        }
        let (holder_municipality_id, holder_region_id) = if is_municipality_code(&input.holder_code) {
            (
                Some(
                    require::<municipality::Entity>(
                        txn,
                        municipality::Column::Code,
                        &input.holder_code,
                        &["holderCode"],
                        "municipality",
                    )
                    .await?
                    .id,
                ),
                None,
            )
        } else if is_region_code(&input.holder_code) {
            if input.kind != RoleKind::AccountHolder {
                checks.invalid(&["holderCode"], "only account holding can be held by a region");
            }
            (
                None,
                Some(
                    require::<region::Entity>(txn, region::Column::Code, &input.holder_code, &["holderCode"], "region")
                        .await?
                        .id,
                ),
            )
        } else {
            return Err(rejected(
                &["holderCode"],
                UserErrorCode::Invalid,
                "must be a municipality (GM0772) or region (JZ39) code",
            ));
        };
        let region_id = match &input.region_code {
            Some(code) => {
                Some(require::<region::Entity>(txn, region::Column::Code, code, &["regionCode"], "region").await?.id)
            }
            None => None,
        };
        let cooperation_id = match &input.cooperation_code {
            Some(code) => Some(
                require::<cooperation::Entity>(
                    txn,
                    cooperation::Column::Code,
                    code,
                    &["cooperationCode"],
                    "cooperation",
                )
                .await?
                .id,
            ),
            None => None,
        };
        let care_form_id = match &input.care_form_code {
            Some(code) => Some(
                require::<care_form::Entity>(txn, care_form::Column::Code, code, &["careFormCode"], "care form")
                    .await?
                    .id,
            ),
            None => None,
        };
        let provider_id = match &input.provider_code {
            Some(code) => Some(
                require::<provider::Entity>(txn, provider::Column::Code, code, &["providerCode"], "provider").await?.id,
            ),
            None => None,
        };
        authorize(txn, w.actor(), role_target(input.kind, cooperation_id, region_id)).await?;
        lock_subject(txn, cooperation_id, region_id).await?;
        checks.finish()?;

        // One holder per kind and subject at any date.
        let same_subject = Condition::all()
            .add(Column::Kind.eq(input.kind))
            .add(nullable_eq(Column::RegionId, region_id))
            .add(nullable_eq(Column::CooperationId, cooperation_id))
            .add(nullable_eq(Column::CareFormId, care_form_id))
            .add(nullable_eq(Column::ProviderId, provider_id));
        if let Some(other) = Entity::find()
            .filter(same_subject)
            .filter(overlaps(Column::ValidFrom, Column::ValidTo, Some(input.valid_from), input.valid_to))
            .one(txn)
            .await?
        {
            return Err(rejected(
                &["validFrom"],
                UserErrorCode::Overlap,
                format!("role {} already holds this for an overlapping period; end it first", other.code),
            ));
        }

        let created = role::ActiveModel {
            code: Set(next_role_code(txn).await?),
            kind: Set(input.kind),
            holder_municipality_id: Set(holder_municipality_id),
            holder_region_id: Set(holder_region_id),
            region_id: Set(region_id),
            cooperation_id: Set(cooperation_id),
            care_form_id: Set(care_form_id),
            provider_id: Set(provider_id),
            note: Set(input.note.clone()),
            valid_from: Set(Some(input.valid_from)),
            valid_to: Set(input.valid_to),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        w.audit("Role", &created.code, None, Some(&created)).await?;
        finish!(w, "Role", created)
    }

    pub async fn role_end(&self, intent: &Intent<'_>, input: &End) -> Outcome<role::Model> {
        use role::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "role").await?;
        authorize(&w.txn, w.actor(), role_target(before.kind, before.cooperation_id, before.region_id)).await?;
        let after = ended(&before.valid_from, &before.valid_to, input)?;
        check_version(input.expected_version, before.version)?;
        let after = role::Model { valid_to: after, version: before.version + 1, ..before.clone() };
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        w.audit("Role", &after.code, Some(&before), Some(&after)).await?;
        finish!(w, "Role", after)
    }

    pub async fn cooperation_create(
        &self,
        intent: &Intent<'_>,
        input: &CooperationCreate,
    ) -> Outcome<cooperation::Model> {
        use cooperation::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let mut checks = Checks::default();
        checks.code(&["code"], &input.code, is_registry_code, "SAMEN-VOOR-JEUGD");
        checks.text(&["name"], &input.name, MAX_NAME);
        if let Some(description) = &input.description {
            checks.text(&["description"], description, MAX_TEXT);
        }
        checks.finish()?;
        if find::<Entity>(&w.txn, Column::Code, &input.code).await?.is_some() {
            return Err(rejected(&["code"], UserErrorCode::Conflict, "this code is taken; codes are never reused"));
        }
        let municipality_ids = require_all::<municipality::Entity>(
            &w.txn,
            municipality::Column::Code,
            &input.municipality_codes,
            "municipalityCodes",
            "municipality",
            |m| (&m.code, m.id),
        )
        .await?;
        let region_ids = require_all::<region::Entity>(
            &w.txn,
            region::Column::Code,
            &input.region_codes,
            "regionCodes",
            "region",
            |r| (&r.code, r.id),
        )
        .await?;
        let created = cooperation::ActiveModel {
            code: Set(input.code.clone()),
            name: Set(input.name.clone()),
            scale: Set(input.scale),
            instrument: Set(input.instrument),
            description: Set(input.description.clone()),
            valid_from: Set(input.valid_from),
            valid_to: Set(None),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        }
        .insert(&w.txn)
        .await?;
        add_members(&w, created.id, &municipality_ids, &region_ids, input.valid_from).await?;
        w.audit(
            "Cooperation",
            &created.code,
            None,
            Some(&CooperationWithMembers::of(&created, &input.municipality_codes, &input.region_codes)),
        )
        .await?;
        finish!(w, "Cooperation", created)
    }

    pub async fn cooperation_update(
        &self,
        intent: &Intent<'_>,
        input: &CooperationUpdate,
    ) -> Outcome<cooperation::Model> {
        use cooperation::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "cooperation").await?;
        authorize(&w.txn, w.actor(), Target::Cooperation(before.id)).await?;
        let mut checks = Checks::default();
        if let Some(name) = &input.name {
            checks.text(&["name"], name, MAX_NAME);
        }
        if let Some(Some(description)) = &input.description {
            checks.text(&["description"], description, MAX_TEXT);
        }
        checks.finish()?;
        check_version(input.expected_version, before.version)?;
        let mut after = before.clone();
        if let Some(name) = &input.name {
            after.name = name.clone();
        }
        if let Some(scale) = input.scale {
            after.scale = scale;
        }
        apply(&input.instrument, &mut after.instrument);
        apply(&input.description, &mut after.description);
        after.version = before.version + 1;
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        w.audit("Cooperation", &after.code, Some(&before), Some(&after)).await?;
        finish!(w, "Cooperation", after)
    }

    pub async fn cooperation_end(&self, intent: &Intent<'_>, input: &End) -> Outcome<cooperation::Model> {
        use cooperation::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "cooperation").await?;
        authorize(&w.txn, w.actor(), Target::Cooperation(before.id)).await?;
        let valid_to = ended(&before.valid_from, &before.valid_to, input)?;
        check_version(input.expected_version, before.version)?;
        let after = cooperation::Model { valid_to, version: before.version + 1, ..before.clone() };
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        // Memberships end with the cooperation; ones that would start later are removed.
        for member in cooperation_member::Entity::find()
            .filter(cooperation_member::Column::CooperationId.eq(before.id))
            .filter(overlaps(
                cooperation_member::Column::ValidFrom,
                cooperation_member::Column::ValidTo,
                Some(input.valid_to),
                None,
            ))
            .all(&w.txn)
            .await?
        {
            end_or_remove_member(&w.txn, &member, input.valid_to).await?;
        }
        w.audit("Cooperation", &after.code, Some(&before), Some(&after)).await?;
        finish!(w, "Cooperation", after)
    }

    pub async fn cooperation_members_set(
        &self,
        intent: &Intent<'_>,
        input: &CooperationMembersSet,
    ) -> Outcome<cooperation::Model> {
        use cooperation::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "cooperation").await?;
        authorize(&w.txn, w.actor(), Target::Cooperation(before.id)).await?;
        let municipality_ids = require_all::<municipality::Entity>(
            &w.txn,
            municipality::Column::Code,
            &input.municipality_codes,
            "municipalityCodes",
            "municipality",
            |m| (&m.code, m.id),
        )
        .await?;
        let region_ids = require_all::<region::Entity>(
            &w.txn,
            region::Column::Code,
            &input.region_codes,
            "regionCodes",
            "region",
            |r| (&r.code, r.id),
        )
        .await?;
        check_version(input.expected_version, before.version)?;

        use cooperation_member::Column as Member;
        let current = cooperation_member::Entity::find()
            .filter(Member::CooperationId.eq(before.id))
            .filter(valid_on(Member::ValidFrom, Member::ValidTo, input.valid_from))
            .all(&w.txn)
            .await?;
        let future = cooperation_member::Entity::find()
            .filter(Member::CooperationId.eq(before.id))
            .filter(Member::ValidFrom.gt(input.valid_from))
            .one(&w.txn)
            .await?;
        if future.is_some() {
            return Err(rejected(
                &["validFrom"],
                UserErrorCode::Overlap,
                "membership changes are already recorded after this date",
            ));
        }
        let keep_municipalities: BTreeSet<i32> = municipality_ids.iter().copied().collect();
        let keep_regions: BTreeSet<i32> = region_ids.iter().copied().collect();
        let mut present_municipalities = BTreeSet::new();
        let mut present_regions = BTreeSet::new();
        for member in &current {
            let stays = match (member.municipality_id, member.region_id) {
                (Some(m), _) => keep_municipalities.contains(&m).then(|| present_municipalities.insert(m)).is_some(),
                (None, Some(r)) => keep_regions.contains(&r).then(|| present_regions.insert(r)).is_some(),
                (None, None) => false,
            };
            if !stays {
                end_or_remove_member(&w.txn, member, input.valid_from).await?;
            }
        }
        let joining_municipalities: Vec<i32> =
            keep_municipalities.difference(&present_municipalities).copied().collect();
        let joining_regions: Vec<i32> = keep_regions.difference(&present_regions).copied().collect();
        add_members(&w, before.id, &joining_municipalities, &joining_regions, Some(input.valid_from)).await?;

        let after = cooperation::Model { version: before.version + 1, ..before.clone() };
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        let before_members = member_codes(&w.txn, &current).await?;
        w.audit(
            "Cooperation",
            &after.code,
            Some(&CooperationWithMembers::of(&before, &before_members.0, &before_members.1)),
            Some(&CooperationWithMembers::of(&after, &sorted(&input.municipality_codes), &sorted(&input.region_codes))),
        )
        .await?;
        finish!(w, "Cooperation", after)
    }

    pub async fn framework_contract_create(
        &self,
        intent: &Intent<'_>,
        input: &FrameworkContractCreate,
    ) -> Outcome<framework_contract::Model> {
        use framework_contract::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let authority_id = match &input.contracting_authority_code {
            Some(code) => Some(
                require::<municipality::Entity>(
                    &w.txn,
                    municipality::Column::Code,
                    code,
                    &["contractingAuthorityCode"],
                    "municipality",
                )
                .await?
                .id,
            ),
            None => None,
        };
        authorize(&w.txn, w.actor(), Target::Contract { authority_municipality_id: authority_id, scale: input.scale })
            .await?;
        let mut checks = Checks::default();
        checks.code(&["code"], &input.code, is_registry_code, "VNG-ORTHOPSYCHIATRIE");
        checks.text(&["title"], &input.title, MAX_NAME);
        if let Some(name) = &input.contracting_authority_name {
            checks.text(&["contractingAuthorityName"], name, MAX_NAME);
        }
        if let Some(note) = &input.note {
            checks.text(&["note"], note, MAX_TEXT);
        }
        checks.period(&["validTo"], input.valid_from, input.valid_to);
        checks.finish()?;
        if find::<Entity>(&w.txn, Column::Code, &input.code).await?.is_some() {
            return Err(rejected(&["code"], UserErrorCode::Conflict, "this code is taken; codes are never reused"));
        }
        let region_ids = require_all::<region::Entity>(
            &w.txn,
            region::Column::Code,
            &input.party_region_codes,
            "partyRegionCodes",
            "region",
            |r| (&r.code, r.id),
        )
        .await?;
        let care_form_ids = require_all::<care_form::Entity>(
            &w.txn,
            care_form::Column::Code,
            &input.care_form_codes,
            "careFormCodes",
            "care form",
            |c| (&c.code, c.id),
        )
        .await?;
        let provider_ids = require_all::<provider::Entity>(
            &w.txn,
            provider::Column::Code,
            &input.provider_codes,
            "providerCodes",
            "provider",
            |p| (&p.code, p.id),
        )
        .await?;
        let created = framework_contract::ActiveModel {
            code: Set(input.code.clone()),
            title: Set(input.title.clone()),
            scale: Set(input.scale),
            contracting_authority_municipality_id: Set(authority_id),
            contracting_authority_name: Set(input.contracting_authority_name.clone()),
            note: Set(input.note.clone()),
            valid_from: Set(input.valid_from),
            valid_to: Set(input.valid_to),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        }
        .insert(&w.txn)
        .await?;
        set_contract_links(&w.txn, created.id, Some(&region_ids), Some(&care_form_ids), Some(&provider_ids)).await?;
        w.audit("FrameworkContract", &created.code, None, Some(&created)).await?;
        finish!(w, "FrameworkContract", created)
    }

    pub async fn framework_contract_update(
        &self,
        intent: &Intent<'_>,
        input: &FrameworkContractUpdate,
    ) -> Outcome<framework_contract::Model> {
        use framework_contract::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "framework contract").await?;
        authorize(&w.txn, w.actor(), contract_target(&before)).await?;
        let mut after = before.clone();
        if let Some(title) = &input.title {
            after.title = title.clone();
        }
        apply(&input.note, &mut after.note);
        apply(&input.valid_from, &mut after.valid_from);
        apply(&input.valid_to, &mut after.valid_to);
        let mut checks = Checks::default();
        checks.text(&["title"], &after.title, MAX_NAME);
        if let Some(note) = &after.note {
            checks.text(&["note"], note, MAX_TEXT);
        }
        checks.period(&["validTo"], after.valid_from, after.valid_to);
        checks.finish()?;
        let care_form_ids = match &input.care_form_codes {
            Some(codes) => Some(
                require_all::<care_form::Entity>(
                    &w.txn,
                    care_form::Column::Code,
                    codes,
                    "careFormCodes",
                    "care form",
                    |c| (&c.code, c.id),
                )
                .await?,
            ),
            None => None,
        };
        let provider_ids = match &input.provider_codes {
            Some(codes) => Some(
                require_all::<provider::Entity>(
                    &w.txn,
                    provider::Column::Code,
                    codes,
                    "providerCodes",
                    "provider",
                    |p| (&p.code, p.id),
                )
                .await?,
            ),
            None => None,
        };
        check_version(input.expected_version, before.version)?;
        after.version = before.version + 1;
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        let links_before = contract_link_codes(&w.txn, before.id).await?;
        set_contract_links(&w.txn, before.id, None, care_form_ids.as_deref(), provider_ids.as_deref()).await?;
        let links_after = contract_link_codes(&w.txn, before.id).await?;
        w.audit(
            "FrameworkContract",
            &after.code,
            Some(&ContractWithLinks { contract: &before, links: links_before }),
            Some(&ContractWithLinks { contract: &after, links: links_after }),
        )
        .await?;
        finish!(w, "FrameworkContract", after)
    }

    pub async fn framework_contract_end(&self, intent: &Intent<'_>, input: &End) -> Outcome<framework_contract::Model> {
        use framework_contract::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "framework contract").await?;
        authorize(&w.txn, w.actor(), contract_target(&before)).await?;
        let valid_to = ended(&before.valid_from, &before.valid_to, input)?;
        check_version(input.expected_version, before.version)?;
        let after = framework_contract::Model { valid_to, version: before.version + 1, ..before.clone() };
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        w.audit("FrameworkContract", &after.code, Some(&before), Some(&after)).await?;
        finish!(w, "FrameworkContract", after)
    }

    pub async fn framework_contract_parties_set(
        &self,
        intent: &Intent<'_>,
        input: &FrameworkContractPartiesSet,
    ) -> Outcome<framework_contract::Model> {
        use framework_contract::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "framework contract").await?;
        authorize(&w.txn, w.actor(), contract_target(&before)).await?;
        let region_ids = require_all::<region::Entity>(
            &w.txn,
            region::Column::Code,
            &input.region_codes,
            "regionCodes",
            "region",
            |r| (&r.code, r.id),
        )
        .await?;
        check_version(input.expected_version, before.version)?;
        let before_parties = linked_codes::<region::Entity, contract_party::Entity>(
            &w.txn,
            (region::Column::Id, region::Column::Code),
            (contract_party::Column::RegionId, contract_party::Column::ContractId),
            before.id,
        )
        .await?;
        let after = framework_contract::Model { version: before.version + 1, ..before.clone() };
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        set_contract_links(&w.txn, before.id, Some(&region_ids), None, None).await?;
        #[derive(Serialize)]
        struct Parties<'a> {
            version: i32,
            party_regions: &'a [String],
        }
        let after_parties = sorted(&input.region_codes);
        w.audit(
            "FrameworkContract",
            &after.code,
            Some(&Parties { version: before.version, party_regions: &before_parties }),
            Some(&Parties { version: after.version, party_regions: &after_parties }),
        )
        .await?;
        finish!(w, "FrameworkContract", after)
    }

    pub async fn membership_change(
        &self,
        intent: &Intent<'_>,
        input: &MembershipChange,
    ) -> Outcome<municipality::Model> {
        use municipality::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let before =
            require::<Entity>(&w.txn, Column::Code, &input.municipality_code, &["municipalityCode"], "municipality")
                .await?;
        let target =
            require::<region::Entity>(&w.txn, region::Column::Code, &input.region_code, &["regionCode"], "region")
                .await?;
        check_version(input.expected_version, before.version)?;
        let previous_region = move_to_region(&w, before.id, target.id, input.valid_from).await?;
        let after = municipality::Model { version: before.version + 1, ..before.clone() };
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        #[derive(Serialize)]
        struct Membership<'a> {
            version: i32,
            region: Option<&'a str>,
            from: NaiveDate,
        }
        w.audit(
            "Municipality",
            &after.code,
            Some(&Membership { version: before.version, region: previous_region.as_deref(), from: input.valid_from }),
            Some(&Membership { version: after.version, region: Some(&target.code), from: input.valid_from }),
        )
        .await?;
        finish!(w, "Municipality", after)
    }

    pub async fn municipality_merge(
        &self,
        intent: &Intent<'_>,
        input: &MunicipalityMerge,
    ) -> Outcome<municipality::Model> {
        use municipality::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let txn = &w.txn;
        let mut checks = Checks::default();
        checks.code(&["successorCode"], &input.successor_code, is_municipality_code, "GM1234");
        if input.municipality_codes.is_empty() {
            checks.invalid(&["municipalityCodes"], "name at least one municipality that ends");
        }
        if input.municipality_codes.contains(&input.successor_code) {
            checks.invalid(&["successorCode"], "the successor cannot be one of the municipalities that end");
        }
        checks.finish()?;
        let mut ending = Vec::new();
        for code in sorted(&input.municipality_codes) {
            let m = require::<Entity>(txn, Column::Code, &code, &["municipalityCodes"], "municipality").await?;
            if !is_valid_on(m.valid_from, m.valid_to, input.date) || m.valid_from == Some(input.date) {
                return Err(rejected(
                    &["municipalityCodes"],
                    UserErrorCode::Invalid,
                    format!("{code} does not exist on {}", input.date),
                ));
            }
            ending.push(m);
        }
        // The successor's region: given, or the one region all ending municipalities are in on the day before.
        let day_before = input.date.pred_opt().unwrap_or(input.date);
        let mut regions = BTreeSet::new();
        for m in &ending {
            if let Some(link) = membership_on(txn, m.id, day_before).await? {
                regions.insert(link.region_id);
            }
        }
        let region_id = match &input.region_code {
            Some(code) => {
                require::<region::Entity>(txn, region::Column::Code, code, &["regionCode"], "region").await?.id
            }
            None if regions.len() == 1 => *regions.first().unwrap(),
            None => {
                return Err(rejected(
                    &["regionCode"],
                    UserErrorCode::Invalid,
                    "the municipalities are in different regions: name the successor's region",
                ));
            }
        };

        let successor = match find::<Entity>(txn, Column::Code, &input.successor_code).await? {
            Some(existing) => {
                if !is_valid_on(existing.valid_from, existing.valid_to, input.date) {
                    return Err(rejected(
                        &["successorCode"],
                        UserErrorCode::Invalid,
                        "the existing successor does not exist on the merge date",
                    ));
                }
                if membership_on(txn, existing.id, input.date).await?.map(|m| m.region_id) != Some(region_id) {
                    move_to_region(&w, existing.id, region_id, input.date).await?;
                }
                existing
            }
            None => {
                let mut checks = Checks::default();
                match &input.successor_name {
                    Some(name) => checks.text(&["successorName"], name, MAX_NAME),
                    None => checks.invalid(&["successorName"], "a new successor needs a name"),
                }
                let province_code = input.province_code.clone().unwrap_or_default();
                if input.province_code.is_none() {
                    checks.invalid(&["provinceCode"], "a new successor needs a province");
                }
                checks.finish()?;
                let province = require::<province::Entity>(
                    txn,
                    province::Column::Code,
                    &province_code,
                    &["provinceCode"],
                    "province",
                )
                .await?;
                let created = municipality::ActiveModel {
                    code: Set(input.successor_code.clone()),
                    name: Set(input.successor_name.clone().unwrap_or_default()),
                    province_id: Set(province.id),
                    valid_from: Set(Some(input.date)),
                    valid_to: Set(None),
                    website: Set(None),
                    access_name: Set(None),
                    access_phone: Set(None),
                    access_email: Set(None),
                    access_website: Set(None),
                    access_address: Set(None),
                    source: Set(w.source()),
                    version: Set(1),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                membership::ActiveModel {
                    municipality_id: Set(created.id),
                    region_id: Set(region_id),
                    valid_from: Set(Some(input.date)),
                    valid_to: Set(None),
                    source: Set(w.source()),
                    version: Set(1),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                w.audit("Municipality", &created.code, None, Some(&created)).await?;
                created
            }
        };

        for old in &ending {
            // Region membership ends.
            for link in membership::Entity::find()
                .filter(membership::Column::MunicipalityId.eq(old.id))
                .filter(overlaps(membership::Column::ValidFrom, membership::Column::ValidTo, Some(input.date), None))
                .all(txn)
                .await?
            {
                end_membership(txn, &link, input.date).await?;
            }
            // Cooperation memberships pass to the successor.
            use cooperation_member::Column as Member;
            for member in cooperation_member::Entity::find()
                .filter(Member::MunicipalityId.eq(old.id))
                .filter(overlaps(Member::ValidFrom, Member::ValidTo, Some(input.date), None))
                .all(txn)
                .await?
            {
                end_or_remove_member(txn, &member, input.date).await?;
                let already = cooperation_member::Entity::find()
                    .filter(Member::CooperationId.eq(member.cooperation_id))
                    .filter(Member::MunicipalityId.eq(successor.id))
                    .filter(valid_on(Member::ValidFrom, Member::ValidTo, input.date))
                    .one(txn)
                    .await?;
                if already.is_none() {
                    add_members(&w, member.cooperation_id, &[successor.id], &[], Some(input.date)).await?;
                }
            }
            // Roles pass to the successor: the old role ends, a new one starts.
            for held in role::Entity::find()
                .filter(role::Column::HolderMunicipalityId.eq(old.id))
                .filter(overlaps(role::Column::ValidFrom, role::Column::ValidTo, Some(input.date), None))
                .all(txn)
                .await?
            {
                if held.valid_from.is_some_and(|from| from >= input.date) {
                    // Starts on or after the merger: the successor simply holds it.
                    let moved = role::Model {
                        holder_municipality_id: Some(successor.id),
                        version: held.version + 1,
                        ..held.clone()
                    };
                    guarded_update::<role::Entity>(
                        txn,
                        moved.clone().into_active_model().reset_all(),
                        role::Column::Id,
                        role::Column::Version,
                        held.id,
                        held.version,
                    )
                    .await?;
                    w.audit("Role", &held.code, Some(&held), Some(&moved)).await?;
                    continue;
                }
                let ended_role = role::Model { valid_to: Some(input.date), version: held.version + 1, ..held.clone() };
                guarded_update::<role::Entity>(
                    txn,
                    ended_role.clone().into_active_model().reset_all(),
                    role::Column::Id,
                    role::Column::Version,
                    held.id,
                    held.version,
                )
                .await?;
                w.audit("Role", &held.code, Some(&held), Some(&ended_role)).await?;
                let taken_over = role::ActiveModel {
                    code: Set(next_role_code(txn).await?),
                    kind: Set(held.kind),
                    holder_municipality_id: Set(Some(successor.id)),
                    holder_region_id: Set(None),
                    region_id: Set(held.region_id),
                    cooperation_id: Set(held.cooperation_id),
                    care_form_id: Set(held.care_form_id),
                    provider_id: Set(held.provider_id),
                    note: Set(Some(format!(
                        "Taken over from {} ({}) at the merger of {}",
                        old.name, old.code, input.date
                    ))),
                    valid_from: Set(Some(input.date)),
                    valid_to: Set(held.valid_to),
                    source: Set(w.source()),
                    version: Set(1),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                w.audit("Role", &taken_over.code, None, Some(&taken_over)).await?;
            }
            let ended_municipality =
                municipality::Model { valid_to: Some(input.date), version: old.version + 1, ..old.clone() };
            guarded_update::<Entity>(
                txn,
                ended_municipality.clone().into_active_model().reset_all(),
                Column::Id,
                Column::Version,
                old.id,
                old.version,
            )
            .await?;
            w.audit("Municipality", &old.code, Some(old), Some(&ended_municipality)).await?;
        }
        let successor = Entity::find().filter(Column::Id.eq(successor.id)).one(txn).await?.unwrap_or(successor);
        finish!(w, "Municipality", successor)
    }

    pub async fn provider_create(&self, intent: &Intent<'_>, input: &ProviderCreate) -> Outcome<provider::Model> {
        use provider::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let mut checks = Checks::default();
        checks.code(&["code"], &input.code, is_registry_code, "JEUGD-VEILIG-VERDER");
        checks.text(&["name"], &input.name, MAX_NAME);
        if let Some(website) = &input.website {
            checks.url(&["website"], website);
        }
        checks.finish()?;
        if find::<Entity>(&w.txn, Column::Code, &input.code).await?.is_some() {
            return Err(rejected(&["code"], UserErrorCode::Conflict, "this code is taken; codes are never reused"));
        }
        let created = provider::ActiveModel {
            code: Set(input.code.clone()),
            name: Set(input.name.clone()),
            certified_institution: Set(input.certified_institution),
            website: Set(input.website.clone()),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        }
        .insert(&w.txn)
        .await?;
        w.audit("Provider", &created.code, None, Some(&created)).await?;
        finish!(w, "Provider", created)
    }

    pub async fn provider_update(&self, intent: &Intent<'_>, input: &ProviderUpdate) -> Outcome<provider::Model> {
        use provider::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "provider").await?;
        let mut checks = Checks::default();
        if let Some(name) = &input.name {
            checks.text(&["name"], name, MAX_NAME);
        }
        if let Some(Some(website)) = &input.website {
            checks.url(&["website"], website);
        }
        checks.finish()?;
        check_version(input.expected_version, before.version)?;
        let mut after = before.clone();
        if let Some(name) = &input.name {
            after.name = name.clone();
        }
        apply(&input.certified_institution, &mut after.certified_institution);
        apply(&input.website, &mut after.website);
        after.version = before.version + 1;
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        w.audit("Provider", &after.code, Some(&before), Some(&after)).await?;
        finish!(w, "Provider", after)
    }

    pub async fn care_form_create(&self, intent: &Intent<'_>, input: &CareFormCreate) -> Outcome<care_form::Model> {
        use care_form::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let mut checks = Checks::default();
        checks.code(&["code"], &input.code, is_registry_code, "JEUGDZORGPLUS");
        checks.text(&["name"], &input.name, MAX_NAME);
        checks.text(&["nameEn"], &input.name_en, MAX_NAME);
        if let Some(description) = &input.description {
            checks.text(&["description"], description, MAX_TEXT);
        }
        checks.finish()?;
        if find::<Entity>(&w.txn, Column::Code, &input.code).await?.is_some() {
            return Err(rejected(&["code"], UserErrorCode::Conflict, "this code is taken; codes are never reused"));
        }
        let created = care_form::ActiveModel {
            code: Set(input.code.clone()),
            name: Set(input.name.clone()),
            name_en: Set(input.name_en.clone()),
            description: Set(input.description.clone()),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        }
        .insert(&w.txn)
        .await?;
        w.audit("CareForm", &created.code, None, Some(&created)).await?;
        finish!(w, "CareForm", created)
    }

    pub async fn care_form_update(&self, intent: &Intent<'_>, input: &CareFormUpdate) -> Outcome<care_form::Model> {
        use care_form::{Column, Entity};
        let w = begin!(self, intent, input, Entity, Column::Code);
        authorize(&w.txn, w.actor(), Target::OperatorOnly).await?;
        let before = require::<Entity>(&w.txn, Column::Code, &input.code, &["code"], "care form").await?;
        let mut checks = Checks::default();
        if let Some(name) = &input.name {
            checks.text(&["name"], name, MAX_NAME);
        }
        if let Some(name_en) = &input.name_en {
            checks.text(&["nameEn"], name_en, MAX_NAME);
        }
        if let Some(Some(description)) = &input.description {
            checks.text(&["description"], description, MAX_TEXT);
        }
        checks.finish()?;
        check_version(input.expected_version, before.version)?;
        let mut after = before.clone();
        if let Some(name) = &input.name {
            after.name = name.clone();
        }
        if let Some(name_en) = &input.name_en {
            after.name_en = name_en.clone();
        }
        apply(&input.description, &mut after.description);
        after.version = before.version + 1;
        guarded_update::<Entity>(
            &w.txn,
            after.clone().into_active_model().reset_all(),
            Column::Id,
            Column::Version,
            before.id,
            input.expected_version,
        )
        .await?;
        w.audit("CareForm", &after.code, Some(&before), Some(&after)).await?;
        finish!(w, "CareForm", after)
    }
}

/// Who may give or end a role: the lead of the one cooperation or region it
/// is for; the operator alone for lead roles and for roles naming both.
fn role_target(kind: RoleKind, cooperation_id: Option<i32>, region_id: Option<i32>) -> Target {
    if super::policy::LEAD_KINDS.contains(&kind) {
        return Target::OperatorOnly;
    }
    match (cooperation_id, region_id) {
        (Some(id), None) => Target::Cooperation(id),
        (None, Some(id)) => Target::Region(id),
        _ => Target::OperatorOnly,
    }
}

fn contract_target(contract: &framework_contract::Model) -> Target {
    Target::Contract {
        authority_municipality_id: contract.contracting_authority_municipality_id,
        scale: contract.scale,
    }
}

fn is_valid_on(valid_from: Option<NaiveDate>, valid_to: Option<NaiveDate>, date: NaiveDate) -> bool {
    valid_from.is_none_or(|from| from <= date) && valid_to.is_none_or(|to| to > date)
}

/// The new `valid_to` of something that ends on `input.valid_to`.
fn ended(
    valid_from: &Option<NaiveDate>,
    valid_to: &Option<NaiveDate>,
    input: &End,
) -> Result<Option<NaiveDate>, WriteError> {
    let mut checks = Checks::default();
    checks.period(&["validTo"], *valid_from, Some(input.valid_to));
    if let Some(current) = valid_to
        && *current <= input.valid_to
    {
        checks.invalid(&["validTo"], format!("it already ends on {current}"));
    }
    checks.finish()?;
    Ok(Some(input.valid_to))
}

/// `column = value`, or `column IS NULL` when there is no value.
fn nullable_eq<C: ColumnTrait>(column: C, value: Option<i32>) -> Condition {
    match value {
        Some(v) => Condition::all().add(column.eq(v)),
        None => Condition::all().add(column.is_null()),
    }
}

/// Rows whose validity overlaps `[from, to)` (open bounds are infinite).
fn overlaps<C: ColumnTrait>(valid_from: C, valid_to: C, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Condition {
    let mut condition = Condition::all();
    if let Some(to) = to {
        condition = condition.add(Condition::any().add(valid_from.is_null()).add(valid_from.lt(to)));
    }
    if let Some(from) = from {
        condition = condition.add(Condition::any().add(valid_to.is_null()).add(valid_to.gt(from)));
    }
    condition
}

fn sorted(codes: &[String]) -> Vec<String> {
    codes.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

/// On PostgreSQL, locks the cooperation or region a role is for, so two
/// concurrent assignments cannot both pass the overlap check.
async fn lock_subject(
    txn: &DatabaseTransaction,
    cooperation_id: Option<i32>,
    region_id: Option<i32>,
) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    if txn.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(()); // SQLite writers are serialised already
    }
    if let Some(id) = cooperation_id {
        cooperation::Entity::find().filter(cooperation::Column::Id.eq(id)).lock_exclusive().one(txn).await?;
    }
    if let Some(id) = region_id {
        region::Entity::find().filter(region::Column::Id.eq(id)).lock_exclusive().one(txn).await?;
    }
    Ok(())
}

/// The next free role code, `RL` and five digits.
async fn next_role_code(txn: &DatabaseTransaction) -> Result<String, DbErr> {
    let last: Option<String> = role::Entity::find()
        .select_only()
        .column(role::Column::Code)
        .order_by_desc(role::Column::Code)
        .into_tuple()
        .one(txn)
        .await?;
    let number = last.and_then(|code| code.strip_prefix("RL").and_then(|n| n.parse::<u32>().ok())).unwrap_or(0) + 1;
    Ok(format!("RL{number:05}"))
}

async fn membership_on(
    txn: &DatabaseTransaction,
    municipality_id: i32,
    date: NaiveDate,
) -> Result<Option<membership::Model>, DbErr> {
    membership::Entity::find()
        .filter(membership::Column::MunicipalityId.eq(municipality_id))
        .filter(valid_on(membership::Column::ValidFrom, membership::Column::ValidTo, date))
        .one(txn)
        .await
}

async fn end_membership(
    txn: &DatabaseTransaction,
    link: &membership::Model,
    date: NaiveDate,
) -> Result<(), WriteError> {
    if link.valid_from.is_some_and(|from| from >= date) {
        membership::Entity::delete_by_id(link.id).exec(txn).await?;
    } else {
        let ended = membership::Model { valid_to: Some(date), version: link.version + 1, ..link.clone() };
        guarded_update::<membership::Entity>(
            txn,
            ended.into_active_model().reset_all(),
            membership::Column::Id,
            membership::Column::Version,
            link.id,
            link.version,
        )
        .await?;
    }
    Ok(())
}

/// Moves a municipality to `region_id` from `date`: its current membership
/// ends the day it starts. Refuses when a later change is already recorded,
/// since a municipality is in one region at any date. Returns the old region's code.
async fn move_to_region(
    w: &WriteTxn,
    municipality_id: i32,
    region_id: i32,
    date: NaiveDate,
) -> Result<Option<String>, WriteError> {
    let txn = &w.txn;
    let later = membership::Entity::find()
        .filter(membership::Column::MunicipalityId.eq(municipality_id))
        .filter(membership::Column::ValidFrom.gt(date))
        .one(txn)
        .await?;
    if later.is_some() {
        return Err(rejected(
            &["validFrom"],
            UserErrorCode::Overlap,
            "a region change after this date is already recorded",
        ));
    }
    let municipality =
        municipality::Entity::find().filter(municipality::Column::Id.eq(municipality_id)).one(txn).await?;
    if !municipality.is_some_and(|m| is_valid_on(m.valid_from, m.valid_to, date)) {
        return Err(rejected(&["validFrom"], UserErrorCode::Invalid, "the municipality does not exist on that date"));
    }
    let current = membership_on(txn, municipality_id, date).await?;
    let mut previous_code = None;
    if let Some(link) = &current {
        if link.region_id == region_id {
            return Err(rejected(
                &["regionCode"],
                UserErrorCode::Invalid,
                "the municipality is already in this region on that date",
            ));
        }
        if link.valid_from == Some(date) {
            return Err(rejected(
                &["validFrom"],
                UserErrorCode::Overlap,
                "a region change on this date is already recorded",
            ));
        }
        previous_code =
            region::Entity::find().filter(region::Column::Id.eq(link.region_id)).one(txn).await?.map(|r| r.code);
        end_membership(txn, link, date).await?;
    }
    membership::ActiveModel {
        municipality_id: Set(municipality_id),
        region_id: Set(region_id),
        valid_from: Set(Some(date)),
        // A membership that was going to end (say at a merger) still ends then.
        valid_to: Set(current.as_ref().and_then(|link| link.valid_to)),
        source: Set(w.source()),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(previous_code)
}

async fn end_or_remove_member(
    txn: &DatabaseTransaction,
    member: &cooperation_member::Model,
    date: NaiveDate,
) -> Result<(), WriteError> {
    if member.valid_from.is_some_and(|from| from >= date) {
        cooperation_member::Entity::delete_by_id(member.id).exec(txn).await?;
    } else {
        let ended = cooperation_member::Model { valid_to: Some(date), version: member.version + 1, ..member.clone() };
        guarded_update::<cooperation_member::Entity>(
            txn,
            ended.into_active_model().reset_all(),
            cooperation_member::Column::Id,
            cooperation_member::Column::Version,
            member.id,
            member.version,
        )
        .await?;
    }
    Ok(())
}

async fn add_members(
    w: &WriteTxn,
    cooperation_id: i32,
    municipality_ids: &[i32],
    region_ids: &[i32],
    valid_from: Option<NaiveDate>,
) -> Result<(), WriteError> {
    let source = w.source();
    let rows: Vec<cooperation_member::ActiveModel> = municipality_ids
        .iter()
        .map(|&m| (Some(m), None))
        .chain(region_ids.iter().map(|&r| (None, Some(r))))
        .map(|(municipality_id, region_id)| cooperation_member::ActiveModel {
            cooperation_id: Set(cooperation_id),
            municipality_id: Set(municipality_id),
            region_id: Set(region_id),
            valid_from: Set(valid_from),
            valid_to: Set(None),
            source: Set(source.clone()),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        cooperation_member::Entity::insert_many(rows).exec(&w.txn).await?;
    }
    Ok(())
}

/// Codes of the municipality and region members, sorted, for the audit log.
async fn member_codes(
    txn: &DatabaseTransaction,
    members: &[cooperation_member::Model],
) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let municipality_ids: Vec<i32> = members.iter().filter_map(|m| m.municipality_id).collect();
    let region_ids: Vec<i32> = members.iter().filter_map(|m| m.region_id).collect();
    let municipalities: Vec<String> = municipality::Entity::find()
        .select_only()
        .column(municipality::Column::Code)
        .filter(municipality::Column::Id.is_in(municipality_ids))
        .order_by_asc(municipality::Column::Code)
        .into_tuple()
        .all(txn)
        .await?;
    let regions: Vec<String> = region::Entity::find()
        .select_only()
        .column(region::Column::Code)
        .filter(region::Column::Id.is_in(region_ids))
        .order_by_asc(region::Column::Code)
        .into_tuple()
        .all(txn)
        .await?;
    Ok((municipalities, regions))
}

/// A cooperation row with its member codes, as the audit log records it.
#[derive(Serialize)]
struct CooperationWithMembers<'a> {
    #[serde(flatten)]
    cooperation: &'a cooperation::Model,
    member_municipalities: &'a [String],
    member_regions: &'a [String],
}

impl<'a> CooperationWithMembers<'a> {
    fn of(cooperation: &'a cooperation::Model, municipalities: &'a [String], regions: &'a [String]) -> Self {
        Self { cooperation, member_municipalities: municipalities, member_regions: regions }
    }
}

/// Care-form and provider codes of a contract, sorted, for the audit log.
#[derive(Serialize)]
struct ContractLinks {
    care_forms: Vec<String>,
    providers: Vec<String>,
}

/// A contract row with its care forms and providers, as the audit log records it.
#[derive(Serialize)]
struct ContractWithLinks<'a> {
    #[serde(flatten)]
    contract: &'a framework_contract::Model,
    #[serde(flatten)]
    links: ContractLinks,
}

async fn contract_link_codes(txn: &DatabaseTransaction, contract_id: i32) -> Result<ContractLinks, DbErr> {
    Ok(ContractLinks {
        care_forms: linked_codes::<care_form::Entity, contract_care_form::Entity>(
            txn,
            (care_form::Column::Id, care_form::Column::Code),
            (contract_care_form::Column::CareFormId, contract_care_form::Column::ContractId),
            contract_id,
        )
        .await?,
        providers: linked_codes::<provider::Entity, contract_provider::Entity>(
            txn,
            (provider::Column::Id, provider::Column::Code),
            (contract_provider::Column::ProviderId, contract_provider::Column::ContractId),
            contract_id,
        )
        .await?,
    })
}

/// Sorted codes of the rows of `T` linked to a contract through link table `L`.
async fn linked_codes<T: EntityTrait, L: EntityTrait>(
    txn: &DatabaseTransaction,
    (id, code): (T::Column, T::Column),
    (link_target, link_contract): (L::Column, L::Column),
    contract_id: i32,
) -> Result<Vec<String>, DbErr> {
    let linked = sea_orm::sea_query::Query::select()
        .column(link_target)
        .from(L::default())
        .and_where(link_contract.eq(contract_id))
        .to_owned();
    T::find().select_only().column(code).filter(id.in_subquery(linked)).order_by_asc(code).into_tuple().all(txn).await
}

/// Replaces the rows of one link table of a contract with links to `ids`.
async fn replace_links<E>(
    txn: &DatabaseTransaction,
    contract_column: E::Column,
    contract_id: i32,
    ids: &[i32],
    link: impl Fn(i32) -> E::ActiveModel,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    E::delete_many().filter(contract_column.eq(contract_id)).exec(txn).await?;
    if !ids.is_empty() {
        E::insert_many(ids.iter().map(|&id| link(id))).exec(txn).await?;
    }
    Ok(())
}

/// Replaces the contract's parties, care forms and/or providers (those given).
async fn set_contract_links(
    txn: &DatabaseTransaction,
    contract_id: i32,
    region_ids: Option<&[i32]>,
    care_form_ids: Option<&[i32]>,
    provider_ids: Option<&[i32]>,
) -> Result<(), DbErr> {
    if let Some(ids) = region_ids {
        replace_links::<contract_party::Entity>(
            txn,
            contract_party::Column::ContractId,
            contract_id,
            ids,
            |region_id| contract_party::ActiveModel {
                contract_id: Set(contract_id),
                region_id: Set(region_id),
                ..Default::default()
            },
        )
        .await?;
    }
    if let Some(ids) = care_form_ids {
        replace_links::<contract_care_form::Entity>(
            txn,
            contract_care_form::Column::ContractId,
            contract_id,
            ids,
            |care_form_id| contract_care_form::ActiveModel {
                contract_id: Set(contract_id),
                care_form_id: Set(care_form_id),
                ..Default::default()
            },
        )
        .await?;
    }
    if let Some(ids) = provider_ids {
        replace_links::<contract_provider::Entity>(
            txn,
            contract_provider::Column::ContractId,
            contract_id,
            ids,
            |provider_id| contract_provider::ActiveModel {
                contract_id: Set(contract_id),
                provider_id: Set(provider_id),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
