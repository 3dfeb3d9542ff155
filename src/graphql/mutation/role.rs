//! Roles: `roleAssign`, `roleEnd`.

use async_graphql::{Context, InputObject, Object, Result};

use super::{Attempt, EndInput, payload};
use crate::graphql::context::registry;
use crate::graphql::scalars::Date;
use crate::graphql::types::{Role, RoleKind};
use crate::registry;

payload!(RolePayload, role: Role);

/// Gives a role from a date.
#[derive(InputObject)]
pub struct RoleAssignInput {
    pub kind: RoleKind,
    /// The holder: a municipality (`GM0772`), or for account holding a region (`JZ39`).
    pub holder_code: String,
    pub region_code: Option<String>,
    pub cooperation_code: Option<String>,
    pub care_form_code: Option<String>,
    pub provider_code: Option<String>,
    pub valid_from: Date,
    /// Exclusive; omit for an open end.
    pub valid_to: Option<Date>,
    pub note: Option<String>,
    pub client_mutation_id: Option<String>,
}

impl From<RoleAssignInput> for registry::RoleAssign {
    fn from(input: RoleAssignInput) -> Self {
        Self {
            kind: input.kind.into(),
            holder_code: input.holder_code,
            region_code: input.region_code,
            cooperation_code: input.cooperation_code,
            care_form_code: input.care_form_code,
            provider_code: input.provider_code,
            valid_from: input.valid_from.0,
            valid_to: input.valid_to.map(Into::into),
            note: input.note,
        }
    }
}

#[derive(Default)]
pub struct RoleMutation;

#[Object(serial)]
impl RoleMutation {
    /// Gives a role from a date. Allowed for the lead (penvoerder or purchasing organisation) of the
    /// cooperation or region the role is for, and the operator.
    async fn role_assign(&self, ctx: &Context<'_>, input: RoleAssignInput) -> Result<RolePayload> {
        let attempt = Attempt::new(ctx, "roleAssign", &input.client_mutation_id);
        let result = registry(ctx).role_assign(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Ends a role from a date.
    async fn role_end(&self, ctx: &Context<'_>, input: EndInput) -> Result<RolePayload> {
        let attempt = Attempt::new(ctx, "roleEnd", &input.client_mutation_id);
        let result = registry(ctx).role_end(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }
}
