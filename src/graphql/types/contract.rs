use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::framework_contract;

use super::{CareForm, Municipality, Provider, Region, Scale, global_id, load, load_list};
use crate::graphql::context;
use crate::graphql::loaders::{ContractCareForms, ContractParties, ContractProviders, MunicipalityById};
use crate::graphql::scalars::Date;
use crate::registry::ObjectType;

/// Who awarded a framework contract.
pub struct ContractingAuthority {
    name: Option<String>,
    municipality_id: Option<i32>,
    as_of: NaiveDate,
}

#[Object(serial)]
impl ContractingAuthority {
    /// The authority's name as stated in the source (e.g. VNG on behalf of all municipalities).
    async fn name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if self.name.is_some() {
            return Ok(self.name.clone());
        }
        Ok(self.municipality(ctx).await?.map(|m| m.row.name))
    }
    /// The municipality that awarded the contract, when it is one.
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        let Some(id) = self.municipality_id else { return Ok(None) };
        load(ctx, MunicipalityById(id), self.as_of).await
    }
}

/// A framework contract (raamcontract), e.g. one VNG buys nationally on behalf of all municipalities.
pub struct FrameworkContract {
    pub row: framework_contract::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl FrameworkContract {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::FrameworkContract, &self.row.code)
    }
    /// The contract reference in the registry.
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn scale(&self) -> Scale {
        self.row.scale.into()
    }
    /// Who awarded the contract; null when the source does not name one.
    async fn contracting_authority(&self) -> Option<ContractingAuthority> {
        let r = &self.row;
        (r.contracting_authority_name.is_some() || r.contracting_authority_municipality_id.is_some()).then(|| {
            ContractingAuthority {
                name: r.contracting_authority_name.clone(),
                municipality_id: r.contracting_authority_municipality_id,
                as_of: self.as_of,
            }
        })
    }
    /// Start of the term, or where the source does not state it, the earliest date it vouches
    /// for (then `validFromIsLowerBound` is true).
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// True when `validFrom` is only the earliest date a source vouches for ("at least since"),
    /// false when it is the real start ("since").
    async fn valid_from_is_lower_bound(&self) -> bool {
        self.row.valid_from_is_lower_bound
    }
    /// End of the term (exclusive); null while open or not stated.
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// The regions that are party to the contract.
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::REGIONS)")]
    async fn party_regions(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Region>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, ContractParties(self.row.id, as_of), as_of).await
    }
    /// The care forms the contract covers.
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::CARE_FORMS)")]
    async fn care_forms(&self, ctx: &Context<'_>) -> Result<Vec<CareForm>> {
        load_list(ctx, ContractCareForms(self.row.id), self.as_of).await
    }
    /// The contracted providers, where the source names them.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::PROVIDERS_PER_CONTRACT)"
    )]
    async fn providers(&self, ctx: &Context<'_>) -> Result<Vec<Provider>> {
        load_list(ctx, ContractProviders(self.row.id), self.as_of).await
    }
}
