//! GraphQL object types. Each wraps a registry row and the `asOf` date it was
//! read for; relations default to that same date and go through DataLoaders.

use std::hash::Hash;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, Interface, Object, Result, SimpleObject, Union};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use entity::*;

use super::loaders::*;
use super::scalars::Date;

/// Runs one DataLoader lookup and turns a shared loader error into a GraphQL error.
pub(crate) async fn load<K>(ctx: &Context<'_>, key: K) -> Result<Option<<RegistryLoader as Loader<K>>::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    RegistryLoader: Loader<K, Error = LoadError>,
{
    ctx.data_unchecked::<DataLoader<RegistryLoader>>()
        .load_one(key)
        .await
        .map_err(|error| super::registry_error(&error))
}

/// Like [`load`] for relations that are lists: no entry means an empty list.
async fn load_list<K, T>(ctx: &Context<'_>, key: K) -> Result<Vec<T>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    RegistryLoader: Loader<K, Error = LoadError, Value = Vec<T>>,
{
    Ok(load(ctx, key).await?.unwrap_or_default())
}

/// Global object id: an opaque, URL-safe encoding of `Type:code`.
pub fn global_id(type_name: &str, code: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{code}")))
}

/// The type name and code inside a global id, if it is one of ours.
pub fn parse_global_id(id: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let (type_name, code) = decoded.split_once(':')?;
    Some((type_name.to_owned(), code.to_owned()))
}

/// The scale at which a cooperation or contract operates.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Scale")]
pub enum Scale {
    /// Part of a region: a sub-region or purchasing region (subregio, inkoopregio).
    Subregional,
    /// One youth-care region (regionaal).
    Regional,
    /// Two regions or purchasing regions together (bi-regionaal).
    Biregional,
    /// Several regions, a province or a landsdeel (bovenregionaal).
    Supraregional,
    /// All municipalities (landelijk), e.g. through VNG.
    National,
}

/// The legal instrument a cooperation is founded on.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Instrument")]
pub enum Instrument {
    /// samenwerkingsovereenkomst: cooperation agreement.
    CooperationAgreement,
    /// dienstverleningsovereenkomst (e.g. DVO21): service agreement.
    ServiceAgreement,
    /// gemeenschappelijke regeling: joint arrangement under public law.
    JointArrangement,
}

/// What the holder of a role does.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::RoleKind")]
pub enum RoleKind {
    /// accounthoudende gemeente/regio: keeps oversight of a provider or care form for all regions.
    AccountHolder,
    /// penvoerder: leads purchasing for a cooperation.
    LeadMunicipality,
    /// inkooporganisatie: purchases on behalf of a cooperation.
    PurchasingOrganisation,
    /// contractmanagement: manages the contracts of a cooperation.
    ContractManager,
    /// coördinerende gemeente: coordinates a supra-regional network.
    CoordinatingMunicipality,
}

/// Any registry object that has a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global, opaque object id (for client caches)."))]
pub enum Node {
    Region(Region),
    Municipality(Municipality),
    Province(Province),
    Cooperation(Cooperation),
    Role(Role),
    CareForm(CareForm),
    Provider(Provider),
    FrameworkContract(FrameworkContract),
}

/// Who holds a role: a municipality, or a whole region (e.g. an account-holding region).
#[derive(Union)]
pub enum RoleHolder {
    Municipality(Municipality),
    Region(Region),
}

fn date(as_of: Option<Date>, default: NaiveDate) -> NaiveDate {
    as_of.map(|d| d.0).unwrap_or(default)
}

/// A youth-care region (jeugdzorgregio, jeugdregio): one of the 42 regions in
/// which municipalities purchase specialist youth care together.
pub struct Region {
    pub row: region::Model,
    pub as_of: NaiveDate,
}

#[Object]
impl Region {
    async fn id(&self) -> ID {
        global_id("Region", &self.row.code)
    }
    /// CBS code, `JZ01`–`JZ39` or `JZ41`–`JZ43` (there is no `JZ40`).
    async fn code(&self) -> &str {
        &self.row.code
    }
    /// CBS name (statnaam) in the current classification.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The name of the same code in the CBS 2015 classification.
    async fn name_2015(&self) -> Option<&str> {
        self.row.name_2015.as_deref()
    }
    /// First day the region exists; null when the source does not say.
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// First day the region no longer exists (exclusive); null while open.
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    /// Where the registry's facts about this region come from.
    async fn source(&self) -> &str {
        &self.row.source
    }
    /// Optimistic-concurrency version of the region row.
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// The date this object was read for.
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// Member municipalities (gemeenten) on `asOf` (default: the region's own `asOf`), ordered by code.
    async fn municipalities(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Municipality>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, RegionMunicipalities(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Municipality { row, as_of }).collect())
    }
    /// Cooperations (samenwerkingsverbanden) the region takes part in, as a member region or
    /// through its member municipalities.
    async fn cooperations(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Cooperation>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, RegionCooperations(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Cooperation { row, as_of }).collect())
    }
    /// Roles that concern the region: held by it, for it, or for one of its cooperations.
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, RegionRoles(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Role { row, as_of }).collect())
    }
    /// Framework contracts (raamcontracten) the region is a party to.
    async fn framework_contracts(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<FrameworkContract>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, RegionContracts(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| FrameworkContract { row, as_of }).collect())
    }
}

/// The youth-care access point of a municipality (toegang jeugdhulp).
#[derive(SimpleObject)]
pub struct AccessPoint {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
}

/// A municipality (gemeente), responsible for youth care under the Jeugdwet.
pub struct Municipality {
    pub row: municipality::Model,
    pub as_of: NaiveDate,
}

#[Object]
impl Municipality {
    async fn id(&self) -> ID {
        global_id("Municipality", &self.row.code)
    }
    /// CBS code: `GM` and four digits (`GM0772` = Eindhoven).
    async fn code(&self) -> &str {
        &self.row.code
    }
    /// CBS name (statnaam), e.g. `'s-Gravenhage`.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The municipality's website, as it maintains it.
    async fn website(&self) -> Option<&str> {
        self.row.website.as_deref()
    }
    /// The youth-care access point (toegang), as the municipality maintains it; null when not yet given.
    async fn access_point(&self) -> Option<AccessPoint> {
        let r = &self.row;
        let any = [&r.access_name, &r.access_phone, &r.access_email, &r.access_website, &r.access_address]
            .iter()
            .any(|field| field.is_some());
        any.then(|| AccessPoint {
            name: r.access_name.clone(),
            phone: r.access_phone.clone(),
            email: r.access_email.clone(),
            website: r.access_website.clone(),
            address: r.access_address.clone(),
        })
    }
    /// First day the municipality exists; null when the source does not say.
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    /// First day the municipality no longer exists (exclusive), e.g. after a merger (herindeling).
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// The date this object was read for.
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// The province (provincie) the municipality lies in.
    async fn province(&self, ctx: &Context<'_>) -> Result<Option<Province>> {
        Ok(load(ctx, ProvinceById(self.row.province_id)).await?.map(|row| Province { row }))
    }
    /// The youth-care region the municipality belongs to on `asOf`; null if none is recorded for that date.
    async fn region(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Option<Region>> {
        let as_of = date(as_of, self.as_of);
        Ok(load(ctx, MunicipalityRegion(self.row.id, as_of)).await?.map(|row| Region { row, as_of }))
    }
    /// Cooperations the municipality takes part in, directly or through its region.
    async fn cooperations(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Cooperation>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, MunicipalityCooperations(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Cooperation { row, as_of }).collect())
    }
    /// Roles the municipality holds.
    async fn roles_held(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, MunicipalityRolesHeld(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Role { row, as_of }).collect())
    }
}

/// A province (provincie), with its CBS landsdeel (part of the country).
pub struct Province {
    pub row: province::Model,
}

#[Object]
impl Province {
    async fn id(&self) -> ID {
        global_id("Province", &self.row.code)
    }
    /// CBS code, `PV20`–`PV31`.
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The CBS landsdeel (part of the country) the province lies in. Not the JeugdzorgPlus purchasing landsdelen.
    async fn landsdeel(&self, ctx: &Context<'_>) -> Result<Option<Landsdeel>> {
        Ok(load(ctx, LandsdeelById(self.row.landsdeel_id))
            .await?
            .map(|row| Landsdeel { code: row.code, name: row.name }))
    }
}

/// A CBS landsdeel: one of the four parts of the country (`LD01`–`LD04`).
#[derive(SimpleObject)]
pub struct Landsdeel {
    pub code: String,
    pub name: String,
}

/// A cooperation (samenwerkingsverband): municipalities and/or regions that do a task together,
/// e.g. a purchasing sub-region or a bi-regional arrangement.
pub struct Cooperation {
    pub row: cooperation::Model,
    pub as_of: NaiveDate,
}

#[Object]
impl Cooperation {
    async fn id(&self) -> ID {
        global_id("Cooperation", &self.row.code)
    }
    /// The registry's code for the cooperation (not an official code).
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn scale(&self) -> Scale {
        self.row.scale.into()
    }
    /// The legal form; null when the source does not state it.
    async fn instrument(&self) -> Option<Instrument> {
        self.row.instrument.map(Into::into)
    }
    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
    }
    /// The source document and, where a fact was derived, how.
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    async fn as_of(&self) -> Date {
        Date(self.as_of)
    }
    /// Member municipalities on `asOf`.
    async fn member_municipalities(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Municipality>> {
        let as_of = date(as_of, self.as_of);
        let members = load(ctx, CooperationMembersOf(self.row.id, as_of)).await?.unwrap_or_default();
        Ok(members.municipalities.into_iter().map(|row| Municipality { row, as_of }).collect())
    }
    /// Member regions on `asOf`.
    async fn member_regions(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Region>> {
        let as_of = date(as_of, self.as_of);
        let members = load(ctx, CooperationMembersOf(self.row.id, as_of)).await?.unwrap_or_default();
        Ok(members.regions.into_iter().map(|row| Region { row, as_of }).collect())
    }
    /// Roles for this cooperation (lead, purchasing, contract management, ...).
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, CooperationRoles(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Role { row, as_of }).collect())
    }
}

/// A role: a municipality or region that holds a task (account holding, lead, purchasing,
/// contract management, coordination) for a region, cooperation, care form and/or provider.
pub struct Role {
    pub row: role::Model,
    pub as_of: NaiveDate,
}

#[Object]
impl Role {
    async fn id(&self) -> ID {
        global_id("Role", &self.row.code)
    }
    /// The registry's code for the role, `RL` and five digits.
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn kind(&self) -> RoleKind {
        self.row.kind.into()
    }
    /// Who holds the role.
    async fn holder(&self, ctx: &Context<'_>) -> Result<Option<RoleHolder>> {
        let as_of = self.as_of;
        if let Some(id) = self.row.holder_municipality_id {
            return Ok(load(ctx, MunicipalityById(id))
                .await?
                .map(|row| RoleHolder::Municipality(Municipality { row, as_of })));
        }
        if let Some(id) = self.row.holder_region_id {
            return Ok(load(ctx, RegionById(id)).await?.map(|row| RoleHolder::Region(Region { row, as_of })));
        }
        Ok(None)
    }
    /// The region the role is for, if it is for a whole region.
    async fn region(&self, ctx: &Context<'_>) -> Result<Option<Region>> {
        let Some(id) = self.row.region_id else { return Ok(None) };
        Ok(load(ctx, RegionById(id)).await?.map(|row| Region { row, as_of: self.as_of }))
    }
    /// The cooperation the role is for.
    async fn cooperation(&self, ctx: &Context<'_>) -> Result<Option<Cooperation>> {
        let Some(id) = self.row.cooperation_id else { return Ok(None) };
        Ok(load(ctx, CooperationById(id)).await?.map(|row| Cooperation { row, as_of: self.as_of }))
    }
    /// The care form (zorgvorm) the role is for.
    async fn care_form(&self, ctx: &Context<'_>) -> Result<Option<CareForm>> {
        let Some(id) = self.row.care_form_id else { return Ok(None) };
        Ok(load(ctx, CareFormById(id)).await?.map(|row| CareForm { row, as_of: self.as_of }))
    }
    /// The provider (aanbieder) the role is for, e.g. for account holding.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<Provider>> {
        let Some(id) = self.row.provider_id else { return Ok(None) };
        Ok(load(ctx, ProviderById(id)).await?.map(|row| Provider { row, as_of: self.as_of }))
    }
    async fn note(&self) -> Option<&str> {
        self.row.note.as_deref()
    }
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
    }
    async fn valid_to(&self) -> Option<Date> {
        self.row.valid_to.map(Date)
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
}

/// A care form (zorgvorm), e.g. JeugdzorgPlus (closed youth care) or jeugdbescherming (child protection).
pub struct CareForm {
    pub row: care_form::Model,
    pub as_of: NaiveDate,
}

#[Object]
impl CareForm {
    async fn id(&self) -> ID {
        global_id("CareForm", &self.row.code)
    }
    /// The registry's code for the care form (not an official code).
    async fn code(&self) -> &str {
        &self.row.code
    }
    /// The Dutch term.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The English meaning.
    async fn name_en(&self) -> &str {
        &self.row.name_en
    }
    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// Roles for this care form (e.g. the lead for JeugdzorgPlus).
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, CareFormRoles(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Role { row, as_of }).collect())
    }
    /// Framework contracts that cover this care form.
    async fn framework_contracts(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<FrameworkContract>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, CareFormContracts(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| FrameworkContract { row, as_of }).collect())
    }
}

/// A youth-care provider (aanbieder); some are certified institutions (gecertificeerde instelling, GI)
/// that carry out child protection and youth probation.
pub struct Provider {
    pub row: provider::Model,
    pub as_of: NaiveDate,
}

#[Object]
impl Provider {
    async fn id(&self) -> ID {
        global_id("Provider", &self.row.code)
    }
    /// The registry's code for the provider (not an official code).
    async fn code(&self) -> &str {
        &self.row.code
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// Whether the provider is a certified institution (GI); null when the source does not say.
    async fn certified_institution(&self) -> Option<bool> {
        self.row.certified_institution
    }
    async fn website(&self) -> Option<&str> {
        self.row.website.as_deref()
    }
    async fn source(&self) -> &str {
        &self.row.source
    }
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// Roles for this provider, such as its account-holding region.
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, ProviderRoles(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Role { row, as_of }).collect())
    }
}

/// Who awarded a framework contract.
pub struct ContractingAuthority {
    name: Option<String>,
    municipality_id: Option<i32>,
    as_of: NaiveDate,
}

#[Object]
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
        Ok(load(ctx, MunicipalityById(id)).await?.map(|row| Municipality { row, as_of: self.as_of }))
    }
}

/// A framework contract (raamcontract), e.g. one VNG buys nationally on behalf of all municipalities.
pub struct FrameworkContract {
    pub row: framework_contract::Model,
    pub as_of: NaiveDate,
}

#[Object]
impl FrameworkContract {
    async fn id(&self) -> ID {
        global_id("FrameworkContract", &self.row.code)
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
    /// Start of the term; null when the source does not state it.
    async fn valid_from(&self) -> Option<Date> {
        self.row.valid_from.map(Date)
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
    async fn party_regions(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Region>> {
        let as_of = date(as_of, self.as_of);
        let rows = load_list(ctx, ContractParties(self.row.id, as_of)).await?;
        Ok(rows.into_iter().map(|row| Region { row, as_of }).collect())
    }
    /// The care forms the contract covers.
    async fn care_forms(&self, ctx: &Context<'_>) -> Result<Vec<CareForm>> {
        let rows = load_list(ctx, ContractCareForms(self.row.id)).await?;
        Ok(rows.into_iter().map(|row| CareForm { row, as_of: self.as_of }).collect())
    }
    /// The contracted providers, where the source names them.
    async fn providers(&self, ctx: &Context<'_>) -> Result<Vec<Provider>> {
        let rows = load_list(ctx, ContractProviders(self.row.id)).await?;
        Ok(rows.into_iter().map(|row| Provider { row, as_of: self.as_of }).collect())
    }
}
