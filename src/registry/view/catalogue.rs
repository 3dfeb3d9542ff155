//! Views of framework contracts, of the national catalogue (care forms,
//! providers) and of regions.

use chrono::NaiveDate;
use entity::*;
use sea_orm::{ActiveEnum, DatabaseTransaction, DbErr};
use serde::Serialize;
use serde_json::Value;

use super::{code, codes, codes_in, linked, to_value};
use crate::registry::write::Published;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContractingAuthorityView<'a> {
    municipality: Option<String>,
    name: &'a Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FrameworkContractView<'a> {
    code: &'a str,
    title: &'a str,
    scale: String,
    contracting_authority: ContractingAuthorityView<'a>,
    note: &'a Option<String>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    party_regions: Vec<String>,
    care_forms: Vec<String>,
    providers: Vec<String>,
    source: &'a str,
    version: i32,
}

#[async_trait::async_trait]
impl Published for framework_contract::Model {
    async fn view(&self, txn: &DatabaseTransaction) -> Result<Value, DbErr> {
        let parties = linked::<contract_party::Entity>(
            txn,
            contract_party::Column::RegionId,
            contract_party::Column::ContractId,
            self.id,
        );
        let care_forms = linked::<contract_care_form::Entity>(
            txn,
            contract_care_form::Column::CareFormId,
            contract_care_form::Column::ContractId,
            self.id,
        );
        let providers = linked::<contract_provider::Entity>(
            txn,
            contract_provider::Column::ProviderId,
            contract_provider::Column::ContractId,
            self.id,
        );
        to_value(FrameworkContractView {
            code: &self.code,
            title: &self.title,
            scale: self.scale.to_value(),
            contracting_authority: ContractingAuthorityView {
                municipality: code::<municipality::Model>(txn, self.contracting_authority_municipality_id).await?,
                name: &self.contracting_authority_name,
            },
            note: &self.note,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            party_regions: codes::<region::Model>(txn, parties.await?).await?,
            care_forms: codes::<care_form::Model>(txn, care_forms.await?).await?,
            providers: codes::<provider::Model>(txn, providers.await?).await?,
            source: &self.source,
            version: self.version,
        })
    }

    /// The party regions, which the view lists.
    async fn regions(&self, view: &Value, _txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
        codes_in(view, "partyRegions")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CareFormView<'a> {
    code: &'a str,
    name: &'a str,
    name_en: &'a str,
    description: &'a Option<String>,
    source: &'a str,
    version: i32,
}

#[async_trait::async_trait]
impl Published for care_form::Model {
    async fn view(&self, _txn: &DatabaseTransaction) -> Result<Value, DbErr> {
        to_value(CareFormView {
            code: &self.code,
            name: &self.name,
            name_en: &self.name_en,
            description: &self.description,
            source: &self.source,
            version: self.version,
        })
    }

    /// Care forms are national: they concern no one region.
    async fn regions(&self, _view: &Value, _txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
        Ok(vec![])
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderView<'a> {
    code: &'a str,
    name: &'a str,
    certified_institution: Option<bool>,
    website: &'a Option<String>,
    source: &'a str,
    version: i32,
}

#[async_trait::async_trait]
impl Published for provider::Model {
    async fn view(&self, _txn: &DatabaseTransaction) -> Result<Value, DbErr> {
        to_value(ProviderView {
            code: &self.code,
            name: &self.name,
            certified_institution: self.certified_institution,
            website: &self.website,
            source: &self.source,
            version: self.version,
        })
    }

    /// Providers work across regions: their roles carry the regions.
    async fn regions(&self, _view: &Value, _txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
        Ok(vec![])
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegionView<'a> {
    code: &'a str,
    name: &'a str,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    source: &'a str,
    version: i32,
}

/// Regions change only through the yearly CBS update (a new name).
#[async_trait::async_trait]
impl Published for region::Model {
    async fn view(&self, _txn: &DatabaseTransaction) -> Result<Value, DbErr> {
        to_value(RegionView {
            code: &self.code,
            name: &self.name,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            source: &self.source,
            version: self.version,
        })
    }

    async fn regions(&self, _view: &Value, _txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
        Ok(vec![self.code.clone()])
    }
}
