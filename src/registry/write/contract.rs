//! Framework contracts: create, update, set parties (ending one is in `end.rs`).

use chrono::NaiveDate;
use entity::enums::Scale;
use entity::{care_form, contract_care_form, contract_party, contract_provider, framework_contract, municipality};
use entity::{provider, region};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::room::Grown;
use super::txn::WriteTxn;
use super::{Command, Patch, apply_patch};
use crate::codes::RegistryCode;
use crate::registry::bounds::PROVIDERS_PER_CONTRACT;
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::validate::{Checks, MAX_NAME, MAX_TEXT};
use crate::registry::validity::recorded_start;

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

/// The linked rows of a contract an input names; `None` leaves a list as it is.
#[derive(Default)]
pub struct Links {
    parties: Option<Vec<i32>>,
    care_forms: Option<Vec<i32>>,
    providers: Option<Vec<i32>>,
}

impl Links {
    /// The query cost model relies on `bounds::PROVIDERS_PER_CONTRACT`.
    fn check_bound(&self, checks: &mut Checks) {
        if self.providers.as_ref().is_some_and(|ids| ids.len() > PROVIDERS_PER_CONTRACT) {
            checks.invalid(&["providerCodes"], format!("a contract names at most {PROVIDERS_PER_CONTRACT} providers"));
        }
    }
}

async fn require_opt_all<M: crate::registry::record::Coded>(
    w: &WriteTxn,
    codes: Option<&Vec<String>>,
    field: &str,
) -> Result<Option<Vec<i32>>, WriteError> {
    match codes {
        Some(codes) => Ok(Some(w.require_all::<M>(codes, field).await?)),
        None => Ok(None),
    }
}

#[async_trait::async_trait]
impl Command for FrameworkContractCreate {
    type Object = framework_contract::Model;
    type Loaded = (Option<i32>, Links);

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        let authority = w
            .require_opt::<municipality::Model>(self.contracting_authority_code.as_ref(), "contractingAuthorityCode")
            .await?;
        let links = Links {
            parties: Some(w.require_all::<region::Model>(&self.party_region_codes, "partyRegionCodes").await?),
            care_forms: Some(w.require_all::<care_form::Model>(&self.care_form_codes, "careFormCodes").await?),
            providers: Some(w.require_all::<provider::Model>(&self.provider_codes, "providerCodes").await?),
        };
        Ok((authority.map(|m| m.id), links))
    }

    fn target(&self, (authority, _): &Self::Loaded) -> Target {
        Target::Contract { authority_municipality_id: *authority, scale: self.scale }
    }

    fn validate(&self, (_, links): &Self::Loaded, checks: &mut Checks) {
        links.check_bound(checks);
        checks.code::<RegistryCode>(&["code"], &self.code);
        checks.text(&["title"], &self.title, MAX_NAME);
        checks.optional_text(&["contractingAuthorityName"], self.contracting_authority_name.as_ref(), MAX_NAME);
        checks.optional_free_text(&["note"], self.note.as_ref(), MAX_TEXT);
        checks.period(&["validTo"], self.valid_from, self.valid_to);
    }

    async fn apply(&self, w: &WriteTxn, (authority, links): Self::Loaded) -> Result<Self::Object, WriteError> {
        w.ensure_code_free::<framework_contract::Model>(&self.code).await?;
        let (valid_from, lower_bound) = recorded_start(self.valid_from, self.valid_to);
        let created = w
            .insert(framework_contract::ActiveModel {
                code: Set(self.code.clone()),
                title: Set(self.title.clone()),
                scale: Set(self.scale),
                contracting_authority_municipality_id: Set(authority),
                contracting_authority_name: Set(self.contracting_authority_name.clone()),
                note: Set(self.note.clone()),
                valid_from: Set(Some(valid_from)),
                valid_from_is_lower_bound: Set(lower_bound),
                valid_to: Set(self.valid_to),
                source: Set(w.source()),
                version: Set(1),
                ..Default::default()
            })
            .await?;
        set_links(w, &created, &links, "partyRegionCodes").await?;
        w.record(None, &created).await?;
        Ok(created)
    }
}

/// The contract as the update leaves it, for validation and writing.
fn updated(before: &framework_contract::Model, input: &FrameworkContractUpdate) -> framework_contract::Model {
    let mut after = before.clone();
    if let Some(title) = &input.title {
        after.title = title.clone();
    }
    apply_patch(&input.note, &mut after.note);
    apply_patch(&input.valid_from, &mut after.valid_from);
    apply_patch(&input.valid_to, &mut after.valid_to);
    after
}

#[async_trait::async_trait]
impl Command for FrameworkContractUpdate {
    type Object = framework_contract::Model;
    type Loaded = (framework_contract::Model, Links);

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        let before = w.require::<framework_contract::Model>(&self.code, "code").await?;
        let links = Links {
            parties: None,
            care_forms: require_opt_all::<care_form::Model>(w, self.care_form_codes.as_ref(), "careFormCodes").await?,
            providers: require_opt_all::<provider::Model>(w, self.provider_codes.as_ref(), "providerCodes").await?,
        };
        Ok((before, links))
    }

    fn target(&self, (before, _): &Self::Loaded) -> Target {
        Target::contract(before)
    }

    fn validate(&self, (before, links): &Self::Loaded, checks: &mut Checks) {
        links.check_bound(checks);
        let after = updated(before, self);
        checks.text(&["title"], &after.title, MAX_NAME);
        checks.optional_free_text(&["note"], after.note.as_ref(), MAX_TEXT);
        checks.period(&["validTo"], after.valid_from, after.valid_to);
    }

    fn versions(&self, (before, _): &Self::Loaded) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, (before, links): Self::Loaded) -> Result<Self::Object, WriteError> {
        let snapshot = w.snapshot(&before).await?;
        let after = w.guarded(&before, updated(&before, self)).await?;
        set_links(w, &after, &links, "careFormCodes").await?;
        w.record(Some(snapshot), &after).await?;
        Ok(after)
    }
}

#[async_trait::async_trait]
impl Command for FrameworkContractPartiesSet {
    type Object = framework_contract::Model;
    type Loaded = (framework_contract::Model, Links);

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError> {
        let before = w.require::<framework_contract::Model>(&self.code, "code").await?;
        let parties = w.require_all::<region::Model>(&self.region_codes, "regionCodes").await?;
        Ok((before, Links { parties: Some(parties), ..Links::default() }))
    }

    fn target(&self, (before, _): &Self::Loaded) -> Target {
        Target::contract(before)
    }

    fn versions(&self, (before, _): &Self::Loaded) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, (before, links): Self::Loaded) -> Result<Self::Object, WriteError> {
        let snapshot = w.snapshot(&before).await?;
        let after = w.guarded(&before, before.clone()).await?;
        set_links(w, &after, &links, "regionCodes").await?;
        w.record(Some(snapshot), &after).await?;
        Ok(after)
    }
}

/// Replaces the rows of one link table of a contract with links to `ids`.
async fn replace_links<A>(
    w: &WriteTxn,
    contract_column: <A::Entity as EntityTrait>::Column,
    contract_id: i32,
    ids: &[i32],
    link: impl Fn(i32) -> A,
) -> Result<(), WriteError>
where
    A: ActiveModelTrait + Send,
{
    A::Entity::delete_many().filter(contract_column.eq(contract_id)).exec(&w.txn).await?;
    if !ids.is_empty() {
        A::Entity::insert_many(ids.iter().map(|&id| link(id))).exec(&w.txn).await?;
    }
    Ok(())
}

/// Replaces the contract's parties, care forms and/or providers (those
/// given), and checks that its regions and care forms stay within their bounds
/// (also when only its dates changed).
async fn set_links(
    w: &WriteTxn,
    contract: &framework_contract::Model,
    links: &Links,
    field: &'static str,
) -> Result<(), WriteError> {
    let contract_id = contract.id;
    if let Some(ids) = &links.parties {
        replace_links(w, contract_party::Column::ContractId, contract_id, ids, |region_id| {
            contract_party::ActiveModel {
                contract_id: Set(contract_id),
                region_id: Set(region_id),
                ..Default::default()
            }
        })
        .await?;
    }
    if let Some(ids) = &links.care_forms {
        replace_links(w, contract_care_form::Column::ContractId, contract_id, ids, |care_form_id| {
            contract_care_form::ActiveModel {
                contract_id: Set(contract_id),
                care_form_id: Set(care_form_id),
                ..Default::default()
            }
        })
        .await?;
    }
    if let Some(ids) = &links.providers {
        replace_links(w, contract_provider::Column::ContractId, contract_id, ids, |provider_id| {
            contract_provider::ActiveModel {
                contract_id: Set(contract_id),
                provider_id: Set(provider_id),
                ..Default::default()
            }
        })
        .await?;
    }
    Grown::from(contract.valid_from, field).contract(w, contract_id).await?.ensure_within_bounds(w).await
}
