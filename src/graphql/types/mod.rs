//! GraphQL object types, one file per type. Each wraps a registry row and the
//! `asOf` date it was read for; relations default to that same date and go
//! through the loaders (`graphql/loaders.rs`). This module holds what they share: the `Node`
//! interface, the `RoleHolder` union, the enums, global ids and loading.
//!
//! Every object resolves its fields one after another (`#[Object(serial)]`).
//! Its relations read the in-memory snapshot, so polling its fields
//! concurrently gains nothing, while async-graphql's concurrent form gives
//! every object a `FuturesUnordered` and every field an `Arc`'d task: 17 %
//! of the CPU of a query that executes (bench `portal-as-of`: 454 → 544
//! requests/s on average of four runs each). It also put each field in the
//! answer in the order the fields finished, where the GraphQL spec wants
//! the order of the query: a mutation's payload answered `userErrors`
//! before `municipality` when the latter waited for a new snapshot. Lists
//! are still resolved concurrently, so loaders that batch across a list's
//! items still do.

mod arrangement;
mod audit;
mod care_form;
mod contract;
mod cooperation;
mod history;
mod membership;
mod municipality;
mod provider;
mod province;
mod region;
mod role;
mod viewer;

use std::hash::Hash;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, Interface, Result, Union};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;

pub use arrangement::{CareAnswer, CareArrangement};
pub use audit::AuditRecord;
pub use care_form::CareForm;
pub use contract::FrameworkContract;
pub use cooperation::Cooperation;
pub use history::Coverage;
pub use municipality::Municipality;
pub use provider::Provider;
pub use province::Province;
pub use region::Region;
pub use role::Role;
pub use viewer::Viewer;

use super::loaders::{LoadOne, RegistryLoader, Rows};
use crate::registry::{Coded, ObjectType, Registry, RegistryError};

/// A GraphQL object built from one registry row, read for a date.
pub trait FromRow {
    type Row;
    fn from_row(row: Self::Row, as_of: NaiveDate) -> Self;
}

/// Implements [`FromRow`] for object types that are `{ row, as_of }`.
macro_rules! from_row {
    ($($object:ident => $module:ident),* $(,)?) => {$(
        impl FromRow for $object {
            type Row = entity::$module::Model;
            fn from_row(row: Self::Row, as_of: NaiveDate) -> Self {
                Self { row, as_of }
            }
        }
    )*};
}

from_row!(
    Region => region,
    Municipality => municipality,
    Cooperation => cooperation,
    Role => role,
    CareForm => care_form,
    Provider => provider,
    FrameworkContract => framework_contract,
    CareArrangement => care_arrangement,
);

/// The object of type `T` with `code`, if it is valid on `as_of` (objects
/// without a period of their own are always valid; `as_of` then only passes
/// on to their relations).
pub async fn find<T>(registry: &Registry, code: &str, as_of: NaiveDate) -> Result<Option<T>, RegistryError>
where
    T: FromRow,
    T::Row: Coded,
{
    Ok(registry.lookup::<T::Row>(code, as_of).await?.map(|row| T::from_row(row, as_of)))
}

/// Runs one loader lookup, charges its rows to the request's result budget
/// and turns a loader error into a GraphQL error.
async fn load_value<K>(ctx: &Context<'_>, key: K) -> Result<Option<<RegistryLoader as Loader<K>>::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    RegistryLoader: LoadOne<K>,
    <RegistryLoader as Loader<K>>::Value: Rows,
{
    let value =
        ctx.data_unchecked::<RegistryLoader>().load_one(&key).await.map_err(|error| super::registry_error(&error))?;
    super::context::charge(ctx, value.as_ref().map_or(0, Rows::rows))?;
    Ok(value)
}

/// The related object under `key`, if any, read for `as_of`.
async fn load<K, T>(ctx: &Context<'_>, key: K, as_of: NaiveDate) -> Result<Option<T>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    RegistryLoader: LoadOne<K, Value = T::Row>,
    T: FromRow,
    T::Row: Rows,
{
    Ok(load_value(ctx, key).await?.map(|row| T::from_row(row, as_of)))
}

/// Like [`load`] for relations that are lists: no entry means an empty list.
async fn load_list<K, T>(ctx: &Context<'_>, key: K, as_of: NaiveDate) -> Result<Vec<T>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    RegistryLoader: LoadOne<K, Value = Vec<T::Row>>,
    T: FromRow,
{
    let rows = load_value(ctx, key).await?.unwrap_or_default();
    Ok(rows.into_iter().map(|row| T::from_row(row, as_of)).collect())
}

/// Global object id: an opaque, URL-safe encoding of `Type:code`.
pub fn global_id(object_type: ObjectType, code: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{code}", object_type.as_str())))
}

/// The object type and code inside a global id, if it is one of ours.
pub fn parse_global_id(id: &str) -> Option<(ObjectType, String)> {
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let (type_name, code) = decoded.split_once(':')?;
    Some((ObjectType::parse(type_name)?, code.to_owned()))
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
// The derive calls each type's `id` resolver, which is why those are `pub(super)`.
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

impl Node {
    /// The object a global id names, read for `as_of`; none when the id is not
    /// ours or the object is unknown or not valid then.
    pub async fn find(registry: &Registry, id: &str, as_of: NaiveDate) -> Result<Option<Node>, RegistryError> {
        let Some((object_type, code)) = parse_global_id(id) else { return Ok(None) };
        let code = code.as_str();
        Ok(match object_type {
            ObjectType::Region => find::<Region>(registry, code, as_of).await?.map(Node::Region),
            ObjectType::Municipality => find::<Municipality>(registry, code, as_of).await?.map(Node::Municipality),
            ObjectType::Province => Province::find(registry, code).await?.map(Node::Province),
            ObjectType::Cooperation => find::<Cooperation>(registry, code, as_of).await?.map(Node::Cooperation),
            ObjectType::Role => find::<Role>(registry, code, as_of).await?.map(Node::Role),
            ObjectType::CareForm => find::<CareForm>(registry, code, as_of).await?.map(Node::CareForm),
            ObjectType::Provider => find::<Provider>(registry, code, as_of).await?.map(Node::Provider),
            ObjectType::FrameworkContract => {
                find::<FrameworkContract>(registry, code, as_of).await?.map(Node::FrameworkContract)
            }
        })
    }
}

/// Who holds a role: a municipality, a whole region (e.g. an account-holding region), or a
/// cooperation (e.g. one that commissions a service for its members together).
#[derive(Union)]
pub enum RoleHolder {
    Municipality(Municipality),
    Region(Region),
    Cooperation(Cooperation),
}
