//! Care-form arrangements, and the answer to "for care form X in
//! municipality Y: at which scale is it organised, and by whom?".

use async_graphql::{Context, Enum, Object, Result};
use chrono::NaiveDate;
use entity::care_arrangement;

use super::{CareForm, Cooperation, FrameworkContract, FromRow, Municipality, Region, load};
use crate::graphql::ErrorCode;
use crate::graphql::loaders::{CareFormById, ContractById, CooperationById, MunicipalityById, RegionById};
use crate::graphql::scalars::Date;
use crate::registry;

/// Which part of commissioning a care form an arrangement is about.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ArrangementFunction")]
pub enum ArrangementFunction {
    /// beleid: policy.
    Policy,
    /// inkoop: purchasing.
    Purchasing,
    /// leveranciersmanagement / contractmanagement: supplier and contract management.
    SupplierManagement,
}

/// Whether an arrangement is in place.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ArrangementStatus")]
pub enum ArrangementStatus {
    /// In place on the dates of its validity.
    InPlace,
    /// Being developed, as its source says; not yet in place.
    InDevelopment,
}

/// The scale at which a function is organised, in the words of the document that records it
/// (each arrangement's `source` says how its document uses the word).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ArrangementScale")]
pub enum ArrangementScale {
    /// lokaal: each municipality on its own.
    Local,
    /// subregionaal: part of a region.
    Subregional,
    /// regionaal: one region as the document uses the word; in the Samen voor Jeugd regiovisie,
    /// its purchasing region (inkoopregio) of 10 municipalities.
    Regional,
    /// bi-regionaal: two (purchasing) regions together, e.g. "21 voor de Jeugd" in Zuidoost-Brabant.
    Biregional,
    /// bovenregionaal: several regions, a landsdeel, a province or a court district.
    Supraregional,
    /// landelijk: all municipalities, e.g. VNG's national framework contracts.
    National,
}

/// For one region or cooperation and one care form: at which scale one function (policy,
/// purchasing, supplier management) is organised, who organises it, under which contract and
/// with which account holder, where the source says. Recorded for exactly one of `region` and
/// `cooperation`: the municipalities the source speaks for.
pub struct CareArrangement {
    pub row: care_arrangement::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl CareArrangement {
    /// The registry's code (not an official code), e.g. `CA-JZ39-VEILIG-THUIS-PURCHASING`.
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn function(&self) -> ArrangementFunction {
        self.row.function.into()
    }
    async fn scale(&self) -> ArrangementScale {
        self.row.scale.into()
    }
    /// The care form (zorgvorm) the arrangement is for.
    async fn care_form(&self, ctx: &Context<'_>) -> Result<CareForm> {
        load(ctx, CareFormById(self.row.care_form_id), self.as_of)
            .await?
            .ok_or_else(|| ErrorCode::InternalServerError.error("internal error"))
    }
    /// The region the arrangement is recorded for (null when it is recorded for a cooperation).
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let Some(id) = self.row.region_id else { return Ok(None) };
        load(ctx, RegionById(id), self.as_of).await
    }
    /// The cooperation the arrangement is recorded for (null when it is recorded for a region).
    async fn cooperation(&self, ctx: &Context<'_>) -> Result<Option<Cooperation>> {
        let Some(id) = self.row.cooperation_id else { return Ok(None) };
        load(ctx, CooperationById(id), self.as_of).await
    }
    /// The municipality that organises it, where the source names one (e.g. Eindhoven).
    async fn organising_municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        let Some(id) = self.row.organised_by_municipality_id else { return Ok(None) };
        load(ctx, MunicipalityById(id), self.as_of).await
    }
    /// The cooperation that organises it, where the source names one.
    async fn organising_cooperation(&self, ctx: &Context<'_>) -> Result<Option<Cooperation>> {
        let Some(id) = self.row.organised_by_cooperation_id else { return Ok(None) };
        load(ctx, CooperationById(id), self.as_of).await
    }
    /// The organiser by name when it is not in the registry, e.g. `VNG` for national framework contracts.
    async fn organising_name(&self) -> Option<&str> {
        self.row.organised_by_name.as_deref()
    }
    /// The framework contract (raamcontract) it is purchased under, where known.
    async fn framework_contract(&self, ctx: &Context<'_>) -> Result<Option<FrameworkContract>> {
        let Some(id) = self.row.contract_id else { return Ok(None) };
        load(ctx, ContractById(id), self.as_of).await
    }
    /// The account-holding municipality (accounthoudende gemeente), where the source names one.
    async fn account_holder(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        let Some(id) = self.row.account_holder_municipality_id else { return Ok(None) };
        load(ctx, MunicipalityById(id), self.as_of).await
    }
    /// `IN_DEVELOPMENT` where the source says the arrangement is being developed and not yet in
    /// place (what holds meanwhile, the source does not say); `IN_PLACE` otherwise.
    async fn status(&self) -> ArrangementStatus {
        self.row.status.into()
    }
    /// The source's own qualification, e.g. `in development` or `bi-regional alignment`.
    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// True when `validFrom` is only the earliest date a source vouches for ("at least since"),
    /// false when it is the real start ("since").
    async fn valid_from_is_lower_bound(&self) -> bool {
        self.row.valid_from_is_lower_bound
    }
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    /// The source document, the cell it comes from, and how the cell was read.
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
}

/// The answer to "for this care form in this municipality: at which scale is it organised, who
/// organises it, under which contract, who is the account holder?". The registry has
/// arrangements for few regions; where it has none it says so (`hasData`, `message`) rather
/// than guess from another region.
#[derive(Debug)]
pub struct CareAnswer(pub registry::CareAnswer);

#[Object(serial)]
impl CareAnswer {
    async fn municipality(&self) -> Municipality {
        Municipality::from_row(self.0.municipality.clone(), self.0.as_of)
    }
    async fn care_form(&self) -> CareForm {
        CareForm::from_row(self.0.care_form.clone(), self.0.as_of)
    }
    /// The municipality's youth-care region on `asOf`.
    async fn region(&self) -> Option<Region> {
        self.0.region.clone().map(|row| Region::from_row(row, self.0.as_of))
    }
    /// The date the question was answered for.
    async fn as_of(&self) -> Date {
        Date(self.0.as_of)
    }
    /// True when the registry has care-form arrangements (of any care form) on `asOf` for the
    /// municipality's region or a cooperation the municipality takes part in. False means the
    /// registry does not know, not that nothing is organised.
    async fn has_data(&self) -> bool {
        self.0.has_data
    }
    /// What an empty `arrangements` means, in words; null when `arrangements` answers the question.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// The arrangements for this care form recorded for the municipality's region or for a
    /// cooperation it takes part in, valid on `asOf`, ordered by code; empty when the registry
    /// has none (see `hasData` and `message`).
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ARRANGEMENTS_PER_OBJECT)"
    )]
    async fn arrangements(&self) -> Vec<CareArrangement> {
        self.0.arrangements.iter().map(|row| CareArrangement::from_row(row.clone(), self.0.as_of)).collect()
    }
}
