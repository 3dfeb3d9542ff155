//! Giving a role (`roleAssign`); ending one is in `end.rs`.

use chrono::NaiveDate;
use entity::enums::RoleKind;
use entity::{care_form, cooperation, municipality, provider, region, role};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;

use super::Command;
use super::room::Grown;
use super::txn::WriteTxn;
use crate::codes::HolderCode;
use crate::registry::bounds::ROLES_PER_OBJECT;
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::validate::{Checks, MAX_TEXT};
use crate::registry::validity::{nullable_eq, overlaps};

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

/// The rows a new role names.
pub struct RoleSubject {
    holder: HolderId,
    region: Option<i32>,
    cooperation: Option<i32>,
    care_form: Option<i32>,
    provider: Option<i32>,
}

enum HolderId {
    Municipality(i32),
    Region(i32),
}

#[async_trait::async_trait]
impl Command for RoleAssign {
    type Object = role::Model;
    type Loaded = RoleSubject;

    async fn load(&self, w: &WriteTxn) -> Result<RoleSubject, WriteError> {
        let holder = match HolderCode::parse(&self.holder_code) {
            Some(HolderCode::Municipality(code)) => {
                HolderId::Municipality(w.require::<municipality::Model>(code.as_str(), "holderCode").await?.id)
            }
            Some(HolderCode::Region(code)) => {
                HolderId::Region(w.require::<region::Model>(code.as_str(), "holderCode").await?.id)
            }
            None => {
                return Err(WriteError::invalid(
                    &["holderCode"],
                    "must be a municipality (GM0772) or region (JZ39) code",
                ));
            }
        };
        let subject = RoleSubject {
            holder,
            region: w.require_opt::<region::Model>(self.region_code.as_ref(), "regionCode").await?.map(|r| r.id),
            cooperation: w
                .require_opt::<cooperation::Model>(self.cooperation_code.as_ref(), "cooperationCode")
                .await?
                .map(|c| c.id),
            care_form: w
                .require_opt::<care_form::Model>(self.care_form_code.as_ref(), "careFormCode")
                .await?
                .map(|c| c.id),
            provider: w
                .require_opt::<provider::Model>(self.provider_code.as_ref(), "providerCode")
                .await?
                .map(|p| p.id),
        };
        Ok(subject)
    }

    fn target(&self, subject: &RoleSubject) -> Target {
        Target::role(self.kind, subject.cooperation, subject.region)
    }

    fn validate(&self, subject: &RoleSubject, checks: &mut Checks) {
        checks.period(&["validTo"], Some(self.valid_from), self.valid_to);
        checks.optional_free_text(&["note"], self.note.as_ref(), MAX_TEXT);
        let names_nothing = [&self.region_code, &self.cooperation_code, &self.care_form_code, &self.provider_code]
            .iter()
            .all(|code| code.is_none());
        if names_nothing {
            checks.invalid(
                &["regionCode"],
                "name what the role is for: a region, cooperation, care form and/or provider",
            );
        }
        if matches!(subject.holder, HolderId::Region(_)) && self.kind != RoleKind::AccountHolder {
            checks.invalid(&["holderCode"], "only account holding can be held by a region");
        }
    }

    async fn apply(&self, w: &WriteTxn, subject: RoleSubject) -> Result<role::Model, WriteError> {
        lock_subject(w, subject.cooperation, subject.region).await?;
        // One holder per kind and subject at any date.
        let same_subject = Condition::all()
            .add(role::Column::Kind.eq(self.kind))
            .add(nullable_eq(role::Column::RegionId, subject.region))
            .add(nullable_eq(role::Column::CooperationId, subject.cooperation))
            .add(nullable_eq(role::Column::CareFormId, subject.care_form))
            .add(nullable_eq(role::Column::ProviderId, subject.provider));
        let overlapping = role::Entity::find()
            .filter(same_subject)
            .filter(overlaps(role::Column::ValidFrom, role::Column::ValidTo, Some(self.valid_from), self.valid_to))
            .one(&w.txn)
            .await?;
        if let Some(other) = overlapping {
            return Err(WriteError::overlap(
                &["validFrom"],
                format!("role {} already holds this for an overlapping period; end it first", other.code),
            ));
        }
        let (holder_municipality, holder_region) = match subject.holder {
            HolderId::Municipality(id) => (Some(id), None),
            HolderId::Region(id) => (None, Some(id)),
        };
        // The query cost model relies on the bound for each object a role hangs from.
        let subjects = [
            (role::Column::HolderMunicipalityId, holder_municipality),
            (role::Column::HolderRegionId, holder_region),
            (role::Column::RegionId, subject.region),
            (role::Column::CooperationId, subject.cooperation),
            (role::Column::CareFormId, subject.care_form),
            (role::Column::ProviderId, subject.provider),
        ];
        for (column, id) in subjects.into_iter().filter_map(|(column, id)| Some((column, id?))) {
            let roles = role::Entity::find()
                .filter(column.eq(id))
                .filter(overlaps(role::Column::ValidFrom, role::Column::ValidTo, Some(self.valid_from), self.valid_to))
                .count(&w.txn)
                .await?;
            if roles as usize >= ROLES_PER_OBJECT {
                return Err(WriteError::invalid(
                    &["validFrom"],
                    format!("an object holds at most {ROLES_PER_OBJECT} roles at a time; end one first"),
                ));
            }
        }
        let created = w
            .create(role::ActiveModel {
                code: Set(next_role_code(w).await?),
                kind: Set(self.kind),
                holder_municipality_id: Set(holder_municipality),
                holder_region_id: Set(holder_region),
                region_id: Set(subject.region),
                cooperation_id: Set(subject.cooperation),
                care_form_id: Set(subject.care_form),
                provider_id: Set(subject.provider),
                note: Set(self.note.clone()),
                valid_from: Set(Some(self.valid_from)),
                valid_to: Set(self.valid_to),
                source: Set(w.source()),
                version: Set(1),
                ..Default::default()
            })
            .await?;
        // A role for a region or cooperation is also on every concerned region's list.
        let mut grown = Grown::from(self.valid_from, "validFrom").regions(subject.region).regions(holder_region);
        if let Some(cooperation) = subject.cooperation {
            grown = grown.cooperation(w, cooperation).await?;
        }
        grown.ensure_within_bounds(w).await?;
        Ok(created)
    }
}

/// On PostgreSQL, locks the cooperation or region a role is for, so two
/// concurrent assignments cannot both pass the overlap check. SQLite writers
/// are serialised already.
async fn lock_subject(w: &WriteTxn, cooperation_id: Option<i32>, region_id: Option<i32>) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    if w.txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    if let Some(id) = cooperation_id {
        cooperation::Entity::find().filter(cooperation::Column::Id.eq(id)).lock_exclusive().one(&w.txn).await?;
    }
    if let Some(id) = region_id {
        region::Entity::find().filter(region::Column::Id.eq(id)).lock_exclusive().one(&w.txn).await?;
    }
    Ok(())
}

/// The next free role code, `RL` and five digits.
pub(super) async fn next_role_code(w: &WriteTxn) -> Result<String, DbErr> {
    let last: Option<String> = role::Entity::find()
        .select_only()
        .column(role::Column::Code)
        .order_by_desc(role::Column::Code)
        .into_tuple()
        .one(&w.txn)
        .await?;
    let number = last.and_then(|code| code.strip_prefix("RL").and_then(|n| n.parse::<u32>().ok())).unwrap_or(0) + 1;
    Ok(format!("RL{number:05}"))
}
