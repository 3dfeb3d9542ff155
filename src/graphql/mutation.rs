//! The mutation root. Each mutation takes one `input` object and returns a
//! payload with the changed object and `userErrors`; failed authentication
//! or authorisation is a GraphQL error with `extensions.code`
//! (`UNAUTHENTICATED`, `FORBIDDEN`). Rules live in the registry.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::NaiveDate;

use super::ErrorCode;
use super::scalars::Date;
use super::types::*;
use crate::auth::Actor;
use crate::registry::{self, Intent, Registry, WriteError, Written};

/// Stable codes of input problems.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::registry::UserErrorCode")]
pub enum UserErrorKind {
    /// The value breaks a rule (format, length, range).
    Invalid,
    /// A code names nothing.
    NotFound,
    /// `expectedVersion` is stale, a code is taken, or a `clientMutationId` was reused for other input.
    Conflict,
    /// Two periods would overlap where only one may hold.
    Overlap,
}

/// A problem with the input the caller can fix. Nothing was written.
#[derive(SimpleObject)]
pub struct UserError {
    /// Path of the input field, e.g. `["accessPoint", "email"]`.
    pub field: Vec<String>,
    pub message: String,
    pub code: UserErrorKind,
}

fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

fn date_patch(value: MaybeUndefined<Date>) -> Option<Option<NaiveDate>> {
    patch(value).map(|v| v.map(|d| d.0))
}

fn actor<'a>(ctx: &'a Context<'_>) -> &'a Actor {
    ctx.data_opt::<Actor>().unwrap_or(&Actor::Anonymous)
}

fn registry<'a>(ctx: &'a Context<'_>) -> &'a Registry {
    ctx.data_unchecked::<Registry>()
}

/// What every payload carries besides its object.
struct Outcome<T> {
    client_mutation_id: Option<String>,
    object: Option<T>,
    user_errors: Vec<UserError>,
    replayed: bool,
}

/// Maps a registry outcome to a payload, or to a GraphQL error for
/// authentication, authorisation and internal failures.
fn outcome<M, T>(
    client_mutation_id: Option<String>,
    result: Result<Written<M>, WriteError>,
    wrap: impl FnOnce(M) -> T,
) -> Result<Outcome<T>> {
    match result {
        Ok(written) => Ok(Outcome {
            client_mutation_id,
            object: Some(wrap(written.object)),
            user_errors: vec![],
            replayed: written.replayed,
        }),
        Err(WriteError::Rejected(errors)) => Ok(Outcome {
            client_mutation_id,
            object: None,
            user_errors: errors
                .into_iter()
                .map(|e| UserError { field: e.field, message: e.message, code: e.code.into() })
                .collect(),
            replayed: false,
        }),
        Err(WriteError::Unauthenticated(message)) => Err(ErrorCode::Unauthenticated.error(message)),
        Err(WriteError::Forbidden(message)) => Err(ErrorCode::Forbidden.error(message)),
        Err(WriteError::Failed(error)) => Err(error.into()),
    }
}

/// Declares a payload type whose object field is `$field`.
macro_rules! payload {
    ($(#[$doc:meta])* $name:ident, $field:ident: $object:ty) => {
        $(#[$doc])*
        #[derive(SimpleObject)]
        pub struct $name {
            /// Echo of the input's `clientMutationId`.
            pub client_mutation_id: Option<String>,
            /// The object after the change; null when `userErrors` is not empty.
            pub $field: Option<$object>,
            /// Problems with the input; empty when the change was made.
            pub user_errors: Vec<UserError>,
            /// True when this answer comes from an earlier attempt with the same `clientMutationId` (nothing was written now).
            pub replayed: bool,
        }

        impl From<Outcome<$object>> for $name {
            fn from(o: Outcome<$object>) -> Self {
                Self { client_mutation_id: o.client_mutation_id, $field: o.object, user_errors: o.user_errors, replayed: o.replayed }
            }
        }
    };
}

payload!(MunicipalityPayload, municipality: Municipality);
payload!(RolePayload, role: Role);
payload!(CooperationPayload, cooperation: Cooperation);
payload!(FrameworkContractPayload, framework_contract: FrameworkContract);
payload!(ProviderPayload, provider: Provider);
payload!(CareFormPayload, care_form: CareForm);

/// Runs one registry mutation and builds its payload.
macro_rules! run {
    ($ctx:expr, $name:literal, $client_mutation_id:expr, $method:ident, $input:expr, $wrap:expr) => {{
        let client_mutation_id: Option<String> = $client_mutation_id;
        let intent = Intent { actor: actor($ctx), mutation: $name, client_mutation_id: client_mutation_id.as_deref() };
        let result = registry($ctx).$method(&intent, &$input).await;
        Ok(outcome(client_mutation_id, result, $wrap)?.into())
    }};
}

fn today() -> NaiveDate {
    registry::today()
}

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

/// The result of `municipalitySync`.
#[derive(SimpleObject)]
pub struct MunicipalitySyncPayload {
    pub client_mutation_id: Option<String>,
    /// The entry after the sync; null when `userErrors` is not empty.
    pub municipality: Option<Municipality>,
    /// False when the registry already held exactly this entry: nothing was written.
    pub changed: bool,
    pub user_errors: Vec<UserError>,
}

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

/// Ends something from a date: it is no longer valid on `validTo` and after.
#[derive(InputObject)]
pub struct EndInput {
    pub code: String,
    pub expected_version: i32,
    pub valid_to: Date,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct CooperationCreateInput {
    /// The registry code: upper-case letters, digits and hyphens (`SAMEN-VOOR-JEUGD`). Never reused.
    pub code: String,
    pub name: String,
    pub scale: Scale,
    pub instrument: Option<Instrument>,
    pub description: Option<String>,
    pub valid_from: Option<Date>,
    #[graphql(default)]
    pub municipality_codes: Vec<String>,
    #[graphql(default)]
    pub region_codes: Vec<String>,
    pub client_mutation_id: Option<String>,
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

/// Replaces the party regions of a contract.
#[derive(InputObject)]
pub struct FrameworkContractPartiesSetInput {
    pub code: String,
    pub expected_version: i32,
    pub region_codes: Vec<String>,
    pub client_mutation_id: Option<String>,
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

/// A merger (herindeling): municipalities end on `date` and a successor takes
/// over their region and cooperation memberships and roles from that date (operator only).
#[derive(InputObject)]
pub struct MunicipalityMergeInput {
    pub municipality_codes: Vec<String>,
    /// An existing municipality, or a new CBS code (then `successorName` and `provinceCode` are required).
    pub successor_code: String,
    pub successor_name: Option<String>,
    pub province_code: Option<String>,
    /// The successor's region; by default the region of the merging municipalities.
    pub region_code: Option<String>,
    pub date: Date,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct ProviderCreateInput {
    pub code: String,
    pub name: String,
    pub certified_institution: Option<bool>,
    pub website: Option<String>,
    pub client_mutation_id: Option<String>,
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

#[derive(InputObject)]
pub struct CareFormUpdateInput {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub description: MaybeUndefined<String>,
    pub client_mutation_id: Option<String>,
}

fn end(input: &EndInput) -> registry::End {
    registry::End { code: input.code.clone(), expected_version: input.expected_version, valid_to: input.valid_to.0 }
}

pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Updates a municipality's own public details: its youth-care access point (toegang) and website.
    /// Allowed for the municipality itself and the operator.
    async fn municipality_update(
        &self,
        ctx: &Context<'_>,
        input: MunicipalityUpdateInput,
    ) -> Result<MunicipalityPayload> {
        let access_point = input.access_point.map(|a| registry::AccessPointPatch {
            name: patch(a.name),
            phone: patch(a.phone),
            email: patch(a.email),
            website: patch(a.website),
            address: patch(a.address),
        });
        let command = registry::MunicipalityUpdate {
            code: input.code,
            expected_version: input.expected_version,
            website: patch(input.website),
            access_point,
        };
        run!(ctx, "municipalityUpdate", input.client_mutation_id, municipality_update, command, |row| Municipality {
            row,
            as_of: today()
        })
    }

    /// Makes the municipality's public entry equal to what its own system holds, writing only what
    /// differs. Sending the same entry again changes nothing (no new version, no audit record, no
    /// feed entry) and answers `changed: false`. Allowed for the municipality itself and the operator.
    async fn municipality_sync(
        &self,
        ctx: &Context<'_>,
        input: MunicipalitySyncInput,
    ) -> Result<MunicipalitySyncPayload> {
        let access = input.access_point.unwrap_or_default();
        let entry = registry::MunicipalityEntry {
            code: input.code,
            website: input.website,
            access_name: access.name,
            access_phone: access.phone,
            access_email: access.email,
            access_website: access.website,
            access_address: access.address,
        };
        let client_mutation_id = input.client_mutation_id;
        let intent = Intent {
            actor: actor(ctx),
            mutation: "municipalitySync",
            client_mutation_id: client_mutation_id.as_deref(),
        };
        let (result, changed) = match registry(ctx).municipality_sync(&intent, &entry).await {
            Ok((written, changed)) => (Ok(written), changed),
            Err(error) => (Err(error), false),
        };
        let o = outcome(client_mutation_id, result, |row| Municipality { row, as_of: today() })?;
        Ok(MunicipalitySyncPayload {
            client_mutation_id: o.client_mutation_id,
            municipality: o.object,
            changed,
            user_errors: o.user_errors,
        })
    }

    /// Gives a role from a date. Allowed for the lead (penvoerder or purchasing organisation) of the
    /// cooperation or region the role is for, and the operator.
    async fn role_assign(&self, ctx: &Context<'_>, input: RoleAssignInput) -> Result<RolePayload> {
        let command = registry::RoleAssign {
            kind: input.kind.into(),
            holder_code: input.holder_code,
            region_code: input.region_code,
            cooperation_code: input.cooperation_code,
            care_form_code: input.care_form_code,
            provider_code: input.provider_code,
            valid_from: input.valid_from.0,
            valid_to: input.valid_to.map(|d| d.0),
            note: input.note,
        };
        run!(ctx, "roleAssign", input.client_mutation_id, role_assign, command, |row| Role { row, as_of: today() })
    }

    /// Ends a role from a date.
    async fn role_end(&self, ctx: &Context<'_>, input: EndInput) -> Result<RolePayload> {
        run!(ctx, "roleEnd", input.client_mutation_id.clone(), role_end, end(&input), |row| Role {
            row,
            as_of: today()
        })
    }

    /// Creates a cooperation with its members (operator only).
    async fn cooperation_create(&self, ctx: &Context<'_>, input: CooperationCreateInput) -> Result<CooperationPayload> {
        let command = registry::CooperationCreate {
            code: input.code,
            name: input.name,
            scale: input.scale.into(),
            instrument: input.instrument.map(Into::into),
            description: input.description,
            valid_from: input.valid_from.map(|d| d.0),
            municipality_codes: input.municipality_codes,
            region_codes: input.region_codes,
        };
        run!(ctx, "cooperationCreate", input.client_mutation_id, cooperation_create, command, |row| Cooperation {
            row,
            as_of: today()
        })
    }

    /// Changes a cooperation's details. Allowed for its lead and the operator.
    async fn cooperation_update(&self, ctx: &Context<'_>, input: CooperationUpdateInput) -> Result<CooperationPayload> {
        let command = registry::CooperationUpdate {
            code: input.code,
            expected_version: input.expected_version,
            name: input.name,
            scale: input.scale.map(Into::into),
            instrument: patch(input.instrument).map(|i| i.map(Into::into)),
            description: patch(input.description),
        };
        run!(ctx, "cooperationUpdate", input.client_mutation_id, cooperation_update, command, |row| Cooperation {
            row,
            as_of: today()
        })
    }

    /// Ends a cooperation (and its memberships) from a date. Allowed for its lead and the operator.
    async fn cooperation_end(&self, ctx: &Context<'_>, input: EndInput) -> Result<CooperationPayload> {
        run!(ctx, "cooperationEnd", input.client_mutation_id.clone(), cooperation_end, end(&input), |row| Cooperation {
            row,
            as_of: today()
        })
    }

    /// Sets a cooperation's members from a date. Allowed for its lead and the operator.
    async fn cooperation_members_set(
        &self,
        ctx: &Context<'_>,
        input: CooperationMembersSetInput,
    ) -> Result<CooperationPayload> {
        let command = registry::CooperationMembersSet {
            code: input.code,
            expected_version: input.expected_version,
            municipality_codes: input.municipality_codes,
            region_codes: input.region_codes,
            valid_from: input.valid_from.map(|d| d.0).unwrap_or_else(today),
        };
        run!(ctx, "cooperationMembersSet", input.client_mutation_id, cooperation_members_set, command, |row| {
            Cooperation { row, as_of: today() }
        })
    }

    /// Records a framework contract. A municipality may record contracts it awards itself (not national
    /// ones); the operator may record any.
    async fn framework_contract_create(
        &self,
        ctx: &Context<'_>,
        input: FrameworkContractCreateInput,
    ) -> Result<FrameworkContractPayload> {
        let command = registry::FrameworkContractCreate {
            code: input.code,
            title: input.title,
            scale: input.scale.into(),
            contracting_authority_code: input.contracting_authority_code,
            contracting_authority_name: input.contracting_authority_name,
            valid_from: input.valid_from.map(|d| d.0),
            valid_to: input.valid_to.map(|d| d.0),
            party_region_codes: input.party_region_codes,
            care_form_codes: input.care_form_codes,
            provider_codes: input.provider_codes,
            note: input.note,
        };
        run!(ctx, "frameworkContractCreate", input.client_mutation_id, framework_contract_create, command, |row| {
            FrameworkContract { row, as_of: today() }
        })
    }

    /// Changes a framework contract. Allowed for its contracting municipality and the operator.
    async fn framework_contract_update(
        &self,
        ctx: &Context<'_>,
        input: FrameworkContractUpdateInput,
    ) -> Result<FrameworkContractPayload> {
        let command = registry::FrameworkContractUpdate {
            code: input.code,
            expected_version: input.expected_version,
            title: input.title,
            note: patch(input.note),
            valid_from: date_patch(input.valid_from),
            valid_to: date_patch(input.valid_to),
            care_form_codes: input.care_form_codes,
            provider_codes: input.provider_codes,
        };
        run!(ctx, "frameworkContractUpdate", input.client_mutation_id, framework_contract_update, command, |row| {
            FrameworkContract { row, as_of: today() }
        })
    }

    /// Ends a framework contract from a date.
    async fn framework_contract_end(&self, ctx: &Context<'_>, input: EndInput) -> Result<FrameworkContractPayload> {
        run!(
            ctx,
            "frameworkContractEnd",
            input.client_mutation_id.clone(),
            framework_contract_end,
            end(&input),
            |row| FrameworkContract { row, as_of: today() }
        )
    }

    /// Replaces the party regions of a framework contract.
    async fn framework_contract_parties_set(
        &self,
        ctx: &Context<'_>,
        input: FrameworkContractPartiesSetInput,
    ) -> Result<FrameworkContractPayload> {
        let command = registry::FrameworkContractPartiesSet {
            code: input.code,
            expected_version: input.expected_version,
            region_codes: input.region_codes,
        };
        run!(
            ctx,
            "frameworkContractPartiesSet",
            input.client_mutation_id,
            framework_contract_parties_set,
            command,
            |row| FrameworkContract { row, as_of: today() }
        )
    }

    /// Moves a municipality to another region from a date (operator only).
    async fn membership_change(&self, ctx: &Context<'_>, input: MembershipChangeInput) -> Result<MunicipalityPayload> {
        let command = registry::MembershipChange {
            municipality_code: input.municipality_code,
            expected_version: input.expected_version,
            region_code: input.region_code,
            valid_from: input.valid_from.0,
        };
        run!(ctx, "membershipChange", input.client_mutation_id, membership_change, command, |row| Municipality {
            row,
            as_of: today()
        })
    }

    /// A municipal merger (herindeling), in one transaction (operator only). Returns the successor.
    async fn municipality_merge(
        &self,
        ctx: &Context<'_>,
        input: MunicipalityMergeInput,
    ) -> Result<MunicipalityPayload> {
        let date = input.date.0;
        let command = registry::MunicipalityMerge {
            municipality_codes: input.municipality_codes,
            successor_code: input.successor_code,
            successor_name: input.successor_name,
            province_code: input.province_code,
            region_code: input.region_code,
            date,
        };
        run!(ctx, "municipalityMerge", input.client_mutation_id, municipality_merge, command, |row| Municipality {
            row,
            as_of: date.max(today())
        })
    }

    /// Records a provider (operator only).
    async fn provider_create(&self, ctx: &Context<'_>, input: ProviderCreateInput) -> Result<ProviderPayload> {
        let command = registry::ProviderCreate {
            code: input.code,
            name: input.name,
            certified_institution: input.certified_institution,
            website: input.website,
        };
        run!(ctx, "providerCreate", input.client_mutation_id, provider_create, command, |row| Provider {
            row,
            as_of: today()
        })
    }

    /// Changes a provider (operator only).
    async fn provider_update(&self, ctx: &Context<'_>, input: ProviderUpdateInput) -> Result<ProviderPayload> {
        let command = registry::ProviderUpdate {
            code: input.code,
            expected_version: input.expected_version,
            name: input.name,
            certified_institution: patch(input.certified_institution),
            website: patch(input.website),
        };
        run!(ctx, "providerUpdate", input.client_mutation_id, provider_update, command, |row| Provider {
            row,
            as_of: today()
        })
    }

    /// Records a care form (operator only).
    async fn care_form_create(&self, ctx: &Context<'_>, input: CareFormCreateInput) -> Result<CareFormPayload> {
        let command = registry::CareFormCreate {
            code: input.code,
            name: input.name,
            name_en: input.name_en,
            description: input.description,
        };
        run!(ctx, "careFormCreate", input.client_mutation_id, care_form_create, command, |row| CareForm {
            row,
            as_of: today()
        })
    }

    /// Changes a care form (operator only).
    async fn care_form_update(&self, ctx: &Context<'_>, input: CareFormUpdateInput) -> Result<CareFormPayload> {
        let command = registry::CareFormUpdate {
            code: input.code,
            expected_version: input.expected_version,
            name: input.name,
            name_en: input.name_en,
            description: patch(input.description),
        };
        run!(ctx, "careFormUpdate", input.client_mutation_id, care_form_update, command, |row| CareForm {
            row,
            as_of: today()
        })
    }
}
