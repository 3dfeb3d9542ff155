//! The catalogue the operator keeps: providers and care forms.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};

use super::{Attempt, patch, payload};
use crate::graphql::context::registry;
use crate::graphql::types::{CareForm, Provider};
use crate::registry;

payload!(ProviderPayload, provider: Provider);
payload!(CareFormPayload, care_form: CareForm);

#[derive(InputObject)]
pub struct ProviderCreateInput {
    pub code: String,
    pub name: String,
    pub certified_institution: Option<bool>,
    pub website: Option<String>,
    pub client_mutation_id: Option<String>,
}

impl From<ProviderCreateInput> for registry::ProviderCreate {
    fn from(input: ProviderCreateInput) -> Self {
        Self {
            code: input.code,
            name: input.name,
            certified_institution: input.certified_institution,
            website: input.website,
        }
    }
}

#[derive(InputObject)]
pub struct ProviderUpdateInput {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub certified_institution: MaybeUndefined<bool>,
    pub website: MaybeUndefined<String>,
    pub client_mutation_id: Option<String>,
}

impl From<ProviderUpdateInput> for registry::ProviderUpdate {
    fn from(input: ProviderUpdateInput) -> Self {
        Self {
            code: input.code,
            expected_version: input.expected_version,
            name: input.name,
            certified_institution: patch(input.certified_institution),
            website: patch(input.website),
        }
    }
}

#[derive(InputObject)]
pub struct CareFormCreateInput {
    pub code: String,
    /// The Dutch term.
    pub name: String,
    /// The English meaning.
    pub name_en: String,
    pub description: Option<String>,
    pub client_mutation_id: Option<String>,
}

impl From<CareFormCreateInput> for registry::CareFormCreate {
    fn from(input: CareFormCreateInput) -> Self {
        Self { code: input.code, name: input.name, name_en: input.name_en, description: input.description }
    }
}

#[derive(InputObject)]
pub struct CareFormUpdateInput {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub description: MaybeUndefined<String>,
    pub client_mutation_id: Option<String>,
}

impl From<CareFormUpdateInput> for registry::CareFormUpdate {
    fn from(input: CareFormUpdateInput) -> Self {
        Self {
            code: input.code,
            expected_version: input.expected_version,
            name: input.name,
            name_en: input.name_en,
            description: patch(input.description),
        }
    }
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object(serial)]
impl CatalogueMutation {
    /// Records a provider (operator only).
    async fn provider_create(&self, ctx: &Context<'_>, input: ProviderCreateInput) -> Result<ProviderPayload> {
        let attempt = Attempt::new(ctx, "providerCreate", &input.client_mutation_id);
        let result = registry(ctx).provider_create(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Changes a provider (operator only).
    async fn provider_update(&self, ctx: &Context<'_>, input: ProviderUpdateInput) -> Result<ProviderPayload> {
        let attempt = Attempt::new(ctx, "providerUpdate", &input.client_mutation_id);
        let result = registry(ctx).provider_update(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Records a care form (operator only).
    async fn care_form_create(&self, ctx: &Context<'_>, input: CareFormCreateInput) -> Result<CareFormPayload> {
        let attempt = Attempt::new(ctx, "careFormCreate", &input.client_mutation_id);
        let result = registry(ctx).care_form_create(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Changes a care form (operator only).
    async fn care_form_update(&self, ctx: &Context<'_>, input: CareFormUpdateInput) -> Result<CareFormPayload> {
        let attempt = Attempt::new(ctx, "careFormUpdate", &input.client_mutation_id);
        let result = registry(ctx).care_form_update(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }
}
