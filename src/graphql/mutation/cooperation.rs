//! Cooperations: create, update, end, and setting their members.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};

use super::{Attempt, EndInput, patch, payload};
use crate::graphql::context::{registry, write_date_or_today};
use crate::graphql::scalars::Date;
use crate::graphql::types::{Cooperation, Instrument, Scale};
use crate::registry;

payload!(CooperationPayload, cooperation: Cooperation);

#[derive(InputObject)]
pub struct CooperationCreateInput {
    /// The registry code: upper-case letters, digits and hyphens (`SAMEN-VOOR-JEUGD`). Never reused.
    pub code: String,
    pub name: String,
    pub scale: Scale,
    pub instrument: Option<Instrument>,
    pub description: Option<String>,
    /// The day it began; when not given, the day it is entered, recorded as "at least since"
    /// (`validFromIsLowerBound`).
    pub valid_from: Option<Date>,
    #[graphql(default)]
    pub municipality_codes: Vec<String>,
    #[graphql(default)]
    pub region_codes: Vec<String>,
    pub client_mutation_id: Option<String>,
}

impl From<CooperationCreateInput> for registry::CooperationCreate {
    fn from(input: CooperationCreateInput) -> Self {
        Self {
            code: input.code,
            name: input.name,
            scale: input.scale.into(),
            instrument: input.instrument.map(Into::into),
            description: input.description,
            valid_from: input.valid_from.map(Into::into),
            municipality_codes: input.municipality_codes,
            region_codes: input.region_codes,
        }
    }
}

/// Changes a cooperation's details. Omitted fields stay as they are.
#[derive(InputObject)]
pub struct CooperationUpdateInput {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub scale: Option<Scale>,
    pub instrument: MaybeUndefined<Instrument>,
    pub description: MaybeUndefined<String>,
    pub client_mutation_id: Option<String>,
}

impl From<CooperationUpdateInput> for registry::CooperationUpdate {
    fn from(input: CooperationUpdateInput) -> Self {
        Self {
            code: input.code,
            expected_version: input.expected_version,
            name: input.name,
            scale: input.scale.map(Into::into),
            instrument: patch(input.instrument),
            description: patch(input.description),
        }
    }
}

/// Sets the members from a date: members not listed leave, new ones join.
#[derive(InputObject)]
pub struct CooperationMembersSetInput {
    pub code: String,
    pub expected_version: i32,
    #[graphql(default)]
    pub municipality_codes: Vec<String>,
    #[graphql(default)]
    pub region_codes: Vec<String>,
    /// The date the new member list holds from (default: today).
    pub valid_from: Option<Date>,
    pub client_mutation_id: Option<String>,
}

impl From<CooperationMembersSetInput> for registry::CooperationMembersSet {
    fn from(input: CooperationMembersSetInput) -> Self {
        Self {
            code: input.code,
            expected_version: input.expected_version,
            municipality_codes: input.municipality_codes,
            region_codes: input.region_codes,
            valid_from: write_date_or_today(input.valid_from),
        }
    }
}

#[derive(Default)]
pub struct CooperationMutation;

#[Object(serial)]
impl CooperationMutation {
    /// Creates a cooperation with its members (operator only).
    async fn cooperation_create(&self, ctx: &Context<'_>, input: CooperationCreateInput) -> Result<CooperationPayload> {
        let attempt = Attempt::new(ctx, "cooperationCreate", &input.client_mutation_id);
        let result = registry(ctx).cooperation_create(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Changes a cooperation's details. Allowed for its lead and the operator.
    async fn cooperation_update(&self, ctx: &Context<'_>, input: CooperationUpdateInput) -> Result<CooperationPayload> {
        let attempt = Attempt::new(ctx, "cooperationUpdate", &input.client_mutation_id);
        let result = registry(ctx).cooperation_update(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Ends a cooperation (and its memberships) from a date. Allowed for its lead and the operator.
    async fn cooperation_end(&self, ctx: &Context<'_>, input: EndInput) -> Result<CooperationPayload> {
        let attempt = Attempt::new(ctx, "cooperationEnd", &input.client_mutation_id);
        let result = registry(ctx).cooperation_end(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Sets a cooperation's members from a date. Allowed for its lead and the operator.
    async fn cooperation_members_set(
        &self,
        ctx: &Context<'_>,
        input: CooperationMembersSetInput,
    ) -> Result<CooperationPayload> {
        let attempt = Attempt::new(ctx, "cooperationMembersSet", &input.client_mutation_id);
        let result = registry(ctx).cooperation_members_set(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }
}
