//! The query root: entry points into the registry. Every question can be asked
//! "as of" a date (`asOf`, default today in the Netherlands).

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};

use super::scalars::Date;
use super::types::*;
use crate::auth::Actor;
use crate::registry::{self, Page, PageRequest, Registry, RegistryError};

/// Extra fields on every connection.
#[derive(SimpleObject)]
pub struct ConnectionTotals {
    /// Number of items matching the query, over all pages.
    pub total_count: u64,
}

/// A Relay connection ordered by code; the cursor is opaque.
pub type CodeConnection<T> = Connection<OpaqueCursor<String>, T, ConnectionTotals>;

fn page_request(first: Option<i32>, after: Option<String>) -> Result<PageRequest> {
    let after = after
        .map(|cursor| {
            OpaqueCursor::<String>::decode_cursor(&cursor)
                .map(|c| c.0)
                .map_err(|_| RegistryError::invalid("after", "after is not a cursor returned by this API"))
        })
        .transpose()?;
    Ok(PageRequest::new(first, after)?)
}

fn connection<M, T>(
    page: Page<M>,
    request: &PageRequest,
    cursor: impl Fn(&M) -> String,
    wrap: impl Fn(M) -> T,
) -> CodeConnection<T>
where
    T: async_graphql::OutputType,
{
    let mut connection = Connection::with_additional_fields(
        request.after.is_some(),
        page.has_next_page,
        ConnectionTotals { total_count: page.total_count },
    );
    connection.edges = page.items.into_iter().map(|m| Edge::new(OpaqueCursor(cursor(&m)), wrap(m))).collect();
    connection
}

fn date_or_today(value: Option<Date>) -> NaiveDate {
    value.map(|d| d.0).unwrap_or_else(registry::today)
}

fn registry<'a>(ctx: &'a Context<'_>) -> &'a Registry {
    ctx.data_unchecked::<Registry>()
}

/// Filter for `regions`.
#[derive(InputObject, Default)]
pub struct RegionFilter {
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

/// Filter for `municipalities`.
#[derive(InputObject, Default)]
pub struct MunicipalityFilter {
    /// Only members of this region (`JZ39`) on `asOf`.
    pub region_code: Option<String>,
    /// Only municipalities in this province (`PV30`).
    pub province_code: Option<String>,
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

/// Filter for `cooperations`.
#[derive(InputObject, Default)]
pub struct CooperationFilter {
    pub scale: Option<Scale>,
    /// Only cooperations the region takes part in (as member or through its municipalities).
    pub region_code: Option<String>,
    /// Only cooperations the municipality takes part in (directly or through its region).
    pub municipality_code: Option<String>,
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

/// Filter for `roles`.
#[derive(InputObject, Default)]
pub struct RoleFilter {
    pub kind: Option<RoleKind>,
    /// Code of the holder: a municipality (`GM0772`) or a region (`JZ39`).
    pub holder_code: Option<String>,
    /// Roles that concern this region: held by it, for it, or for one of its cooperations.
    pub region_code: Option<String>,
    pub cooperation_code: Option<String>,
    pub care_form_code: Option<String>,
    pub provider_code: Option<String>,
}

/// Filter for `frameworkContracts`.
#[derive(InputObject, Default)]
pub struct FrameworkContractFilter {
    pub scale: Option<Scale>,
    /// Only contracts that cover this care form.
    pub care_form_code: Option<String>,
    /// Only contracts this region is a party to.
    pub party_region_code: Option<String>,
    /// Only contracts whose term includes this date.
    pub active_on: Option<Date>,
}

/// Filter for `providers`.
#[derive(InputObject, Default)]
pub struct ProviderFilter {
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

/// Filter for `auditLog`.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only records about the object with this code.
    pub object_code: Option<String>,
    /// Only records of this organisation: a municipality code or `OPERATOR`.
    pub actor: Option<String>,
    /// Only records from this moment on.
    pub from: Option<DateTime<Utc>>,
    /// Only records before this moment.
    pub to: Option<DateTime<Utc>>,
}

/// One field an audited write changed.
#[derive(SimpleObject)]
pub struct FieldChange {
    pub field: String,
    pub old: Json<serde_json::Value>,
    pub new: Json<serde_json::Value>,
}

/// One accepted write.
pub struct AuditRecord(entity::audit_log::Model);

#[Object]
impl AuditRecord {
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// The acting organisation: a municipality code, or `OPERATOR`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The token's `sub` (the person or system); shown to the operator only.
    async fn subject(&self) -> Option<&str> {
        Some(self.0.subject.as_str()).filter(|s| !s.is_empty())
    }
    /// The mutation, e.g. `municipalityUpdate`.
    async fn mutation(&self) -> &str {
        &self.0.mutation
    }
    async fn object_type(&self) -> &str {
        &self.0.object_type
    }
    async fn object_code(&self) -> &str {
        &self.0.object_code
    }
    /// Null when the write created the object.
    async fn version_before(&self) -> Option<i32> {
        self.0.version_before
    }
    async fn version_after(&self) -> Option<i32> {
        self.0.version_after
    }
    /// The fields that changed, with old and new values.
    async fn changes(&self) -> Vec<FieldChange> {
        let parsed: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.0.changes).unwrap_or_default();
        parsed
            .into_iter()
            .map(|(field, change)| FieldChange {
                field,
                old: Json(change.get("old").cloned().unwrap_or_default()),
                new: Json(change.get("new").cloned().unwrap_or_default()),
            })
            .collect()
    }
}

/// What kind of caller the token made you.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerKind {
    /// No token: read-only.
    Anonymous,
    /// Acting for a municipality.
    Municipality,
    /// The registry operator.
    Operator,
}

/// Who the caller is.
pub struct Viewer(Actor);

#[Object]
impl Viewer {
    async fn kind(&self) -> ViewerKind {
        match self.0 {
            Actor::Anonymous => ViewerKind::Anonymous,
            Actor::Municipality { .. } => ViewerKind::Municipality,
            Actor::Operator { .. } => ViewerKind::Operator,
        }
    }
    /// The token's `sub`; null when anonymous.
    async fn subject(&self) -> Option<&str> {
        Some(self.0.subject()).filter(|s| !s.is_empty())
    }
    /// The CBS code of the municipality the caller acts for.
    async fn municipality_code(&self) -> Option<&str> {
        match &self.0 {
            Actor::Municipality { code, .. } => Some(code),
            _ => None,
        }
    }
    /// The municipality the caller acts for.
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        let Actor::Municipality { code, .. } = &self.0 else { return Ok(None) };
        let as_of = registry::today();
        Ok(registry(ctx).municipality(code, as_of).await?.map(|row| Municipality { row, as_of }))
    }
}

#[derive(Default)]
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// A youth-care region (jeugdzorgregio) by CBS code, e.g. `JZ39`; null when unknown or not valid on `asOf`.
    async fn region(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Region>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).region(&code, as_of).await?.map(|row| Region { row, as_of }))
    }

    /// The youth-care regions (jeugdzorgregio's) valid on `asOf`, ordered by code.
    async fn regions(
        &self,
        ctx: &Context<'_>,
        filter: Option<RegionFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Region>> {
        let (as_of, request) = (date_or_today(as_of), page_request(first, after)?);
        let filter = filter.unwrap_or_default();
        let page = registry(ctx)
            .regions(&registry::RegionFilter { name_contains: filter.name_contains }, as_of, &request)
            .await?;
        Ok(connection(page, &request, |r| r.code.clone(), |row| Region { row, as_of }))
    }

    /// A municipality (gemeente) by CBS code, e.g. `GM0772`; null when unknown or not valid on `asOf`.
    async fn municipality(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Municipality>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).municipality(&code, as_of).await?.map(|row| Municipality { row, as_of }))
    }

    /// Municipalities (gemeenten) valid on `asOf`, ordered by code.
    async fn municipalities(
        &self,
        ctx: &Context<'_>,
        filter: Option<MunicipalityFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Municipality>> {
        let (as_of, request) = (date_or_today(as_of), page_request(first, after)?);
        let f = filter.unwrap_or_default();
        let filter = registry::MunicipalityFilter {
            region_code: f.region_code,
            province_code: f.province_code,
            name_contains: f.name_contains,
        };
        let page = registry(ctx).municipalities(&filter, as_of, &request).await?;
        Ok(connection(page, &request, |m| m.code.clone(), |row| Municipality { row, as_of }))
    }

    /// A cooperation (samenwerkingsverband) by its registry code; null when unknown or not valid on `asOf`.
    async fn cooperation(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Cooperation>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).cooperation(&code, as_of).await?.map(|row| Cooperation { row, as_of }))
    }

    /// Cooperations (samenwerkingsverbanden: subregio's, inkoopregio's, bi-regional and
    /// supra-regional arrangements) valid on `asOf`, ordered by code.
    async fn cooperations(
        &self,
        ctx: &Context<'_>,
        filter: Option<CooperationFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Cooperation>> {
        let (as_of, request) = (date_or_today(as_of), page_request(first, after)?);
        let f = filter.unwrap_or_default();
        let filter = registry::CooperationFilter {
            scale: f.scale.map(Into::into),
            region_code: f.region_code,
            municipality_code: f.municipality_code,
            name_contains: f.name_contains,
        };
        let page = registry(ctx).cooperations(&filter, as_of, &request).await?;
        Ok(connection(page, &request, |c| c.code.clone(), |row| Cooperation { row, as_of }))
    }

    /// A role by its registry code (`RL00001`); null when unknown or not valid on `asOf`.
    async fn role(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Role>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).role(&code, as_of).await?.map(|row| Role { row, as_of }))
    }

    /// Roles (account holder / accounthouder, lead / penvoerder, purchasing organisation /
    /// inkooporganisatie, contract manager, coordinating municipality) valid on `asOf`.
    async fn roles(
        &self,
        ctx: &Context<'_>,
        filter: Option<RoleFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Role>> {
        let (as_of, request) = (date_or_today(as_of), page_request(first, after)?);
        let f = filter.unwrap_or_default();
        let filter = registry::RoleFilter {
            kind: f.kind.map(Into::into),
            holder_code: f.holder_code,
            region_code: f.region_code,
            cooperation_code: f.cooperation_code,
            care_form_code: f.care_form_code,
            provider_code: f.provider_code,
        };
        let page = registry(ctx).roles(&filter, as_of, &request).await?;
        Ok(connection(page, &request, |r| r.code.clone(), |row| Role { row, as_of }))
    }

    /// A framework contract (raamcontract) by reference; null when unknown or not valid on `asOf`.
    async fn framework_contract(
        &self,
        ctx: &Context<'_>,
        code: String,
        as_of: Option<Date>,
    ) -> Result<Option<FrameworkContract>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).framework_contract(&code, as_of).await?.map(|row| FrameworkContract { row, as_of }))
    }

    /// Framework contracts (raamcontracten), including those VNG buys nationally, valid on `asOf`.
    async fn framework_contracts(
        &self,
        ctx: &Context<'_>,
        filter: Option<FrameworkContractFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<FrameworkContract>> {
        let (as_of, request) = (date_or_today(as_of), page_request(first, after)?);
        let f = filter.unwrap_or_default();
        let filter = registry::ContractFilter {
            scale: f.scale.map(Into::into),
            care_form_code: f.care_form_code,
            party_region_code: f.party_region_code,
            active_on: f.active_on.map(|d| d.0),
        };
        let page = registry(ctx).framework_contracts(&filter, as_of, &request).await?;
        Ok(connection(page, &request, |c| c.code.clone(), |row| FrameworkContract { row, as_of }))
    }

    /// A care form (zorgvorm) by its registry code, e.g. `JEUGDZORGPLUS`.
    async fn care_form(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<CareForm>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).care_form(&code).await?.map(|row| CareForm { row, as_of }))
    }

    /// All care forms (zorgvormen), ordered by code. `asOf` applies to their relations.
    async fn care_forms(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<CareForm>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).care_forms().await?.into_iter().map(|row| CareForm { row, as_of }).collect())
    }

    /// A province (provincie) by CBS code, e.g. `PV30`.
    async fn province(&self, ctx: &Context<'_>, code: String) -> Result<Option<Province>> {
        Ok(registry(ctx).province(&code).await?.map(|row| Province { row }))
    }

    /// The twelve provinces (provincies), ordered by code.
    async fn provinces(&self, ctx: &Context<'_>) -> Result<Vec<Province>> {
        Ok(registry(ctx).provinces().await?.into_iter().map(|row| Province { row }).collect())
    }

    /// A provider (aanbieder) by its registry code.
    async fn provider(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Provider>> {
        let as_of = date_or_today(as_of);
        Ok(registry(ctx).provider(&code).await?.map(|row| Provider { row, as_of }))
    }

    /// Youth-care providers (aanbieders), ordered by code. `asOf` applies to their relations.
    async fn providers(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProviderFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Provider>> {
        let (as_of, request) = (date_or_today(as_of), page_request(first, after)?);
        let filter = registry::ProviderFilter { name_contains: filter.unwrap_or_default().name_contains };
        let page = registry(ctx).providers(&filter, &request).await?;
        Ok(connection(page, &request, |p| p.code.clone(), |row| Provider { row, as_of }))
    }

    /// Who you are, as your bearer token says: anonymous, a municipality, or the operator.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous))
    }

    /// The audit log: every accepted write, oldest first. The operator sees each record's
    /// `subject`; everyone else sees the records without it.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditLogFilter>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<AuditRecord>> {
        let request = page_request(first, after)?;
        let after_id = request
            .after
            .as_deref()
            .map(|a| {
                a.parse::<i32>()
                    .map_err(|_| RegistryError::invalid("after", "after is not a cursor returned by this API"))
            })
            .transpose()?;
        let f = filter.unwrap_or_default();
        let filter = registry::AuditFilter { object_code: f.object_code, actor: f.actor, from: f.from, to: f.to };
        let viewer = ctx.data_opt::<Actor>().cloned().unwrap_or(Actor::Anonymous);
        let page = registry(ctx).audit_log(&viewer, &filter, after_id, request.first).await?;
        Ok(connection(page, &request, |r| r.id.to_string(), AuditRecord))
    }

    /// Any object by its global `id`; null when unknown or not valid on `asOf`.
    async fn node(&self, ctx: &Context<'_>, id: ID, as_of: Option<Date>) -> Result<Option<Node>> {
        let Some((type_name, code)) = parse_global_id(&id) else { return Ok(None) };
        let (as_of, registry) = (date_or_today(as_of), registry(ctx));
        Ok(match type_name.as_str() {
            "Region" => registry.region(&code, as_of).await?.map(|row| Node::Region(Region { row, as_of })),
            "Municipality" => {
                registry.municipality(&code, as_of).await?.map(|row| Node::Municipality(Municipality { row, as_of }))
            }
            "Province" => registry.province(&code).await?.map(|row| Node::Province(Province { row })),
            "Cooperation" => {
                registry.cooperation(&code, as_of).await?.map(|row| Node::Cooperation(Cooperation { row, as_of }))
            }
            "Role" => registry.role(&code, as_of).await?.map(|row| Node::Role(Role { row, as_of })),
            "CareForm" => registry.care_form(&code).await?.map(|row| Node::CareForm(CareForm { row, as_of })),
            "Provider" => registry.provider(&code).await?.map(|row| Node::Provider(Provider { row, as_of })),
            "FrameworkContract" => registry
                .framework_contract(&code, as_of)
                .await?
                .map(|row| Node::FrameworkContract(FrameworkContract { row, as_of })),
            _ => None,
        })
    }
}
