//! Who may change or see what: the one place the registry decides it.
//!
//! - Writing needs a token; an anonymous caller is refused before anything
//!   else happens.
//! - The operator may change everything.
//! - A municipality may change its own municipality entry, and the
//!   cooperations, roles and contracts it leads on the date of the change:
//!   it holds a LEAD_MUNICIPALITY or PURCHASING_ORGANISATION role for that
//!   cooperation or region, or it is the contracting authority of a
//!   (non-national) contract.
//! - Only the operator gives or ends lead roles themselves, so a lead cannot
//!   appoint itself (or anyone) lead of something else.
//! - Everyone else is refused, before anything is written.
//! - The audit log is public, but only the operator sees who (`sub`) acted.

use entity::enums::{RoleKind, Scale};
use entity::{framework_contract, municipality, role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::error::WriteError;
use super::{today, valid_on};
use crate::auth::Actor;

/// What a write changes, as far as authorisation is concerned.
#[derive(Debug, Clone)]
pub enum Target {
    /// A municipality's own entry, by its code.
    Municipality(String),
    Cooperation(i32),
    Region(i32),
    Contract {
        authority_municipality_id: Option<i32>,
        scale: Scale,
    },
    /// Region membership, regions, care forms, providers, new cooperations, mergers.
    OperatorOnly,
}

impl Target {
    /// Who may give or end a role: the lead of the one cooperation or region
    /// it is for; the operator alone for lead roles and for roles naming both.
    pub fn role(kind: RoleKind, cooperation_id: Option<i32>, region_id: Option<i32>) -> Target {
        if LEAD_KINDS.contains(&kind) {
            return Target::OperatorOnly;
        }
        match (cooperation_id, region_id) {
            (Some(id), None) => Target::Cooperation(id),
            (None, Some(id)) => Target::Region(id),
            _ => Target::OperatorOnly,
        }
    }

    pub fn contract(contract: &framework_contract::Model) -> Target {
        Target::Contract {
            authority_municipality_id: contract.contracting_authority_municipality_id,
            scale: contract.scale,
        }
    }
}

/// The roles that make a municipality the lead of a cooperation or region.
pub const LEAD_KINDS: [RoleKind; 2] = [RoleKind::LeadMunicipality, RoleKind::PurchasingOrganisation];

/// Writing needs a token: refuses the anonymous caller of `mutation`.
pub fn require_signed_in(actor: &Actor, mutation: &str) -> Result<(), WriteError> {
    if *actor == Actor::Anonymous {
        return Err(WriteError::Unauthenticated(format!(
            "{mutation} changes the registry: send a bearer token (Authorization: Bearer <JWT>)"
        )));
    }
    Ok(())
}

/// Whether `viewer` may see who (the token's `sub`) made a write.
pub fn may_see_subject(viewer: &Actor) -> bool {
    matches!(viewer, Actor::Operator { .. })
}

pub async fn authorize<C: ConnectionTrait>(db: &C, actor: &Actor, target: Target) -> Result<(), WriteError> {
    let code = match actor {
        Actor::Operator { .. } => return Ok(()),
        Actor::Anonymous => return Err(WriteError::Unauthenticated("this change needs a bearer token".into())),
        Actor::Municipality { code, .. } => code,
    };
    // Only a lead role or a contract needs the caller's own row; its own
    // entry is decided by the codes, without a look-up.
    let me = match &target {
        Target::Municipality(_) | Target::OperatorOnly => None,
        _ => municipality::Entity::find().filter(municipality::Column::Code.eq(code.as_str())).one(db).await?,
    };
    // A lead role counts only for the subject it is for: a role for a
    // cooperation that also names a region does not make its holder the
    // region's lead, and the other way round.
    let leads = |me: &municipality::Model, column: role::Column, other: role::Column, id: i32| {
        role::Entity::find()
            .filter(role::Column::HolderMunicipalityId.eq(me.id))
            .filter(role::Column::Kind.is_in(LEAD_KINDS))
            .filter(column.eq(id))
            .filter(other.is_null())
            .filter(valid_on(role::Column::ValidFrom, role::Column::ValidTo, today()))
            .count(db)
    };
    let allowed = match (target, &me) {
        (Target::Municipality(own), _) => own == *code,
        (Target::OperatorOnly, _) | (_, None) => false,
        (Target::Cooperation(id), Some(me)) => {
            leads(me, role::Column::CooperationId, role::Column::RegionId, id).await? > 0
        }
        (Target::Region(id), Some(me)) => leads(me, role::Column::RegionId, role::Column::CooperationId, id).await? > 0,
        (Target::Contract { authority_municipality_id, scale }, Some(me)) => {
            scale != Scale::National && authority_municipality_id == Some(me.id)
        }
    };
    if allowed { Ok(()) } else { Err(WriteError::Forbidden(format!("{code} may not make this change"))) }
}
