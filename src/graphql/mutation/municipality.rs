//! A municipality's own entry: `municipalityUpdate`, `municipalitySync`, and
//! the operator's `membershipChange`.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::{Attempt, Outcome, UserError, patch, payload};
use crate::graphql::context::registry;
use crate::graphql::scalars::Date;
use crate::graphql::types::Municipality;
use crate::registry::{self, today};

payload!(MunicipalityPayload, municipality: Municipality);

/// The youth-care access point (toegang): where residents ask for youth care.
#[derive(InputObject)]
pub struct AccessPointInput {
    /// Name of the access point, at most 200 characters; null clears it.
    pub name: MaybeUndefined<String>,
    /// Phone number, e.g. `040 238 6000`; null clears it.
    pub phone: MaybeUndefined<String>,
    /// E-mail address; null clears it.
    pub email: MaybeUndefined<String>,
    /// http(s) URL; null clears it.
    pub website: MaybeUndefined<String>,
    /// Postal or visiting address, at most 300 characters; null clears it.
    pub address: MaybeUndefined<String>,
}

impl From<AccessPointInput> for registry::AccessPointPatch {
    fn from(a: AccessPointInput) -> Self {
        Self {
            name: patch(a.name),
            phone: patch(a.phone),
            email: patch(a.email),
            website: patch(a.website),
            address: patch(a.address),
        }
    }
}

/// A municipality's own public details. Omitted fields stay as they are.
#[derive(InputObject)]
pub struct MunicipalityUpdateInput {
    pub code: String,
    /// The version you read; a stale version changes nothing and gives CONFLICT.
    pub expected_version: i32,
    /// http(s) URL of the municipality's website; null clears it.
    pub website: MaybeUndefined<String>,
    pub access_point: Option<AccessPointInput>,
    /// Your id for this attempt: a retry with the same id and input is answered without writing again.
    pub client_mutation_id: Option<String>,
}

impl From<MunicipalityUpdateInput> for registry::MunicipalityUpdate {
    fn from(input: MunicipalityUpdateInput) -> Self {
        Self {
            code: input.code,
            expected_version: input.expected_version,
            website: patch(input.website),
            access_point: input.access_point.map(Into::into),
        }
    }
}

/// A youth-care access point as the municipality's own system holds it: every field, absent = none.
#[derive(InputObject, Default)]
pub struct AccessPointEntry {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
}

/// A municipality's whole public entry. Fields left out are cleared.
#[derive(InputObject)]
pub struct MunicipalitySyncInput {
    pub code: String,
    pub website: Option<String>,
    pub access_point: Option<AccessPointEntry>,
    pub client_mutation_id: Option<String>,
}

impl From<MunicipalitySyncInput> for registry::MunicipalityEntry {
    fn from(input: MunicipalitySyncInput) -> Self {
        let access = input.access_point.unwrap_or_default();
        Self {
            code: input.code,
            website: input.website,
            access_name: access.name,
            access_phone: access.phone,
            access_email: access.email,
            access_website: access.website,
            access_address: access.address,
        }
    }
}

/// The result of `municipalitySync`.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct MunicipalitySyncPayload {
    pub client_mutation_id: Option<String>,
    /// The entry after the sync; null when `userErrors` is not empty.
    pub municipality: Option<Municipality>,
    /// False when the registry already held exactly this entry: nothing was written.
    pub changed: bool,
    pub user_errors: Vec<UserError>,
}

impl MunicipalitySyncPayload {
    fn new(o: Outcome<Municipality>, changed: bool) -> Self {
        Self { client_mutation_id: o.client_mutation_id, municipality: o.object, changed, user_errors: o.user_errors }
    }
}

/// Moves a municipality to another region from a date (operator only).
#[derive(InputObject)]
pub struct MembershipChangeInput {
    pub municipality_code: String,
    /// The municipality's version.
    pub expected_version: i32,
    pub region_code: String,
    pub valid_from: Date,
    pub client_mutation_id: Option<String>,
}

impl From<MembershipChangeInput> for registry::MembershipChange {
    fn from(input: MembershipChangeInput) -> Self {
        Self {
            municipality_code: input.municipality_code,
            expected_version: input.expected_version,
            region_code: input.region_code,
            valid_from: input.valid_from.0,
        }
    }
}

#[derive(Default)]
pub struct MunicipalityMutation;

#[Object(serial)]
impl MunicipalityMutation {
    /// Updates a municipality's own public details: its youth-care access point (toegang) and website.
    /// Allowed for the municipality itself and the operator.
    async fn municipality_update(
        &self,
        ctx: &Context<'_>,
        input: MunicipalityUpdateInput,
    ) -> Result<MunicipalityPayload> {
        let attempt = Attempt::new(ctx, "municipalityUpdate", &input.client_mutation_id);
        let result = registry(ctx).municipality_update(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }

    /// Makes the municipality's public entry equal to what its own system holds, writing only what
    /// differs. Sending the same entry again changes nothing (no new version, no audit record, no
    /// feed entry) and answers `changed: false`. Allowed for the municipality itself and the operator.
    async fn municipality_sync(
        &self,
        ctx: &Context<'_>,
        input: MunicipalitySyncInput,
    ) -> Result<MunicipalitySyncPayload> {
        let attempt = Attempt::new(ctx, "municipalitySync", &input.client_mutation_id);
        let result = registry(ctx).municipality_sync(&attempt.intent(), &input.into()).await;
        let changed = matches!(result, Ok((_, true)));
        Ok(MunicipalitySyncPayload::new(attempt.outcome(result.map(|(written, _)| written), today())?, changed))
    }
}

#[derive(Default)]
pub struct MembershipMutation;

#[Object(serial)]
impl MembershipMutation {
    /// Moves a municipality to another region from a date (operator only).
    async fn membership_change(&self, ctx: &Context<'_>, input: MembershipChangeInput) -> Result<MunicipalityPayload> {
        let attempt = Attempt::new(ctx, "membershipChange", &input.client_mutation_id);
        let result = registry(ctx).membership_change(&attempt.intent(), &input.into()).await;
        attempt.payload(result)
    }
}
