//! Framework contracts: create, update, end, and setting their party regions.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};

use super::{Attempt, EndInput, patch, payload};
use crate::graphql::context::registry;
use crate::graphql::scalars::Date;
use crate::graphql::types::{FrameworkContract, Scale};
use crate::registry;

payload!(FrameworkContractPayload, framework_contract: FrameworkContract);

#[derive(InputObject)]
pub struct FrameworkContractCreateInput {
    /// The registry reference: upper-case letters, digits and hyphens. Never reused.
    pub code: String,
    pub title: String,
    pub scale: Scale,
    /// The awarding municipality (`GM0772`), if it is one.
    pub contracting_authority_code: Option<String>,
    /// The awarding body's name, if it is not a municipality (e.g. VNG).
    pub contracting_authority_name: Option<String>,
    /// Start of the term; when not given, the day it is entered (or the day before `validTo`,
    /// if earlier), recorded as "at least since" (`validFromIsLowerBound`).
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    #[graphql(default)]
    pub party_region_codes: Vec<String>,
    #[graphql(default)]
    pub care_form_codes: Vec<String>,
    #[graphql(default)]
    pub provider_codes: Vec<String>,
    pub note: Option<String>,
    pub client_mutation_id: Option<String>,
}

impl From<FrameworkContractCreateInput> for registry::FrameworkContractCreate {
    fn from(input: FrameworkContractCreateInput) -> Self {
        Self {
            code: input.code,
            title: input.title,
            scale: input.scale.into(),
            contracting_authority_code: input.contracting_authority_code,
            contracting_authority_name: input.contracting_authority_name,
            valid_from: input.valid_from.map(Into::into),
            valid_to: input.valid_to.map(Into::into),
            party_region_codes: input.party_region_codes,
            care_form_codes: input.care_form_codes,
            provider_codes: input.provider_codes,
            note: input.note,
        }
    }
}

/// Changes a contract. Omitted fields stay as they are; lists given replace the current ones.
#[derive(InputObject)]
pub struct FrameworkContractUpdateInput {
    pub code: String,
    pub expected_version: i32,
    pub title: Option<String>,
    pub note: MaybeUndefined<String>,
    pub valid_from: MaybeUndefined<Date>,
    pub valid_to: MaybeUndefined<Date>,
    pub care_form_codes: Option<Vec<String>>,
    pub provider_codes: Option<Vec<String>>,
    pub client_mutation_id: Option<String>,
}

impl From<FrameworkContractUpdateInput> for registry::FrameworkContractUpdate {
    fn from(input: FrameworkContractUpdateInput) -> Self {
        Self {
            code: input.code,
            expected_version: input.expected_version,
            title: input.title,
            note: patch(input.note),
            valid_from: patch(input.valid_from),
            valid_to: patch(input.valid_to),
            care_form_codes: input.care_form_codes,
            provider_codes: input.provider_codes,
        }
    }
}

/// Replaces the party regions of a contract.
#[derive(InputObject)]
pub struct FrameworkContractPartiesSetInput {
    pub code: String,
    pub expected_version: i32,
    pub region_codes: Vec<String>,
    pub client_mutation_id: Option<String>,
}

impl From<FrameworkContractPartiesSetInput> for registry::FrameworkContractPartiesSet {
    fn from(input: FrameworkContractPartiesSetInput) -> Self {
        Self { code: input.code, expected_version: input.expected_version, region_codes: input.region_codes }
    }
}

#[derive(Default)]
pub struct ContractMutation;

#[Object(serial)]
impl ContractMutation {
    /// Records a framework contract. A municipality may record contracts it awards itself (not national
    /// ones); the operator may record any.
    async fn framework_contract_create(
        &self,
        ctx: &Context<'_>,
        input: FrameworkContractCreateInput,
    ) -> Result<FrameworkContractPayload> {
        let attempt = Attempt::new(ctx, "frameworkContractCreate", &input.client_mutation_id);
        let result = registry(ctx).framework_contract_create(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Changes a framework contract. Allowed for its contracting municipality and the operator.
    async fn framework_contract_update(
        &self,
        ctx: &Context<'_>,
        input: FrameworkContractUpdateInput,
    ) -> Result<FrameworkContractPayload> {
        let attempt = Attempt::new(ctx, "frameworkContractUpdate", &input.client_mutation_id);
        let result = registry(ctx).framework_contract_update(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Ends a framework contract from a date.
    async fn framework_contract_end(&self, ctx: &Context<'_>, input: EndInput) -> Result<FrameworkContractPayload> {
        let attempt = Attempt::new(ctx, "frameworkContractEnd", &input.client_mutation_id);
        let result = registry(ctx).framework_contract_end(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Replaces the party regions of a framework contract.
    async fn framework_contract_parties_set(
        &self,
        ctx: &Context<'_>,
        input: FrameworkContractPartiesSetInput,
    ) -> Result<FrameworkContractPayload> {
        let attempt = Attempt::new(ctx, "frameworkContractPartiesSet", &input.client_mutation_id);
        let result = registry(ctx).framework_contract_parties_set(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }
}
