//! The query root: entry points into the registry. Every question can be asked
//! "as of" a date (`asOf`, default today in the Netherlands).

use async_graphql::{Context, ID, Object, Result};

use super::context::{actor, or_today, registry};
use super::filters::*;
use super::paging::{CodeConnection, after_id, connection, page_request};
use super::scalars::Date;
use super::types::find;
use super::types::*;

#[derive(Default)]
pub struct QueryRoot;

#[Object(serial)]
impl QueryRoot {
    /// A youth-care region (jeugdzorgregio) by CBS code, e.g. `JZ39`; null when unknown or not valid on `asOf`.
    async fn region(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Region>> {
        Ok(find::<Region>(registry(ctx), &code, or_today(ctx, as_of)?).await?)
    }

    /// The youth-care regions (jeugdzorgregio's) valid on `asOf`, ordered by code.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn regions(
        &self,
        ctx: &Context<'_>,
        filter: Option<RegionFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Region>> {
        let (as_of, request) = (or_today(ctx, as_of)?, page_request(first, after)?);
        let page = registry(ctx).regions(&filter.unwrap_or_default().into(), as_of, &request).await?;
        Ok(connection(page, &request, |r| r.code.clone(), |row| Region::from_row(row, as_of)))
    }

    /// A municipality (gemeente) by CBS code, e.g. `GM0772`; null when unknown or not valid on `asOf`.
    async fn municipality(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Municipality>> {
        Ok(find::<Municipality>(registry(ctx), &code, or_today(ctx, as_of)?).await?)
    }

    /// The municipality with this CBS code on whatever dates it existed since 2015, read on its
    /// last day (today while it exists). For a code that ended (e.g. `GM0951` Nuth, 2019),
    /// `validTo` says when and `successors` where its territory went; null when the code is unknown.
    async fn municipality_record(&self, ctx: &Context<'_>, code: String) -> Result<Option<Municipality>> {
        let row = registry(ctx).lookup_any_date::<entity::municipality::Model>(&code).await?;
        Ok(row.map(|row| {
            let today = crate::registry::today();
            let as_of = match row.valid_to {
                Some(end) if end <= today => end.pred_opt().unwrap_or(end),
                _ => today.max(row.valid_from.unwrap_or(today)),
            };
            Municipality::from_row(row, as_of)
        }))
    }

    /// The dates the registry answers for, and what it rests on.
    async fn coverage(&self, ctx: &Context<'_>) -> Result<Coverage> {
        Ok(Coverage { latest_change: registry(ctx).latest_classification_change().await?.map(Date) })
    }

    /// Municipalities (gemeenten) valid on `asOf`, ordered by code.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn municipalities(
        &self,
        ctx: &Context<'_>,
        filter: Option<MunicipalityFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Municipality>> {
        let (as_of, request) = (or_today(ctx, as_of)?, page_request(first, after)?);
        let page = registry(ctx).municipalities(&filter.unwrap_or_default().into(), as_of, &request).await?;
        Ok(connection(page, &request, |m| m.code.clone(), |row| Municipality::from_row(row, as_of)))
    }

    /// A cooperation (samenwerkingsverband) by its registry code; null when unknown or not valid on `asOf`.
    async fn cooperation(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Cooperation>> {
        Ok(find::<Cooperation>(registry(ctx), &code, or_today(ctx, as_of)?).await?)
    }

    /// Cooperations (samenwerkingsverbanden: subregio's, inkoopregio's, bi-regional and
    /// supra-regional arrangements) valid on `asOf`, ordered by code.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn cooperations(
        &self,
        ctx: &Context<'_>,
        filter: Option<CooperationFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Cooperation>> {
        let (as_of, request) = (or_today(ctx, as_of)?, page_request(first, after)?);
        let page = registry(ctx).cooperations(&filter.unwrap_or_default().into(), as_of, &request).await?;
        Ok(connection(page, &request, |c| c.code.clone(), |row| Cooperation::from_row(row, as_of)))
    }

    /// A role by its registry code (`RL00001`); null when unknown or not valid on `asOf`.
    async fn role(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Role>> {
        Ok(find::<Role>(registry(ctx), &code, or_today(ctx, as_of)?).await?)
    }

    /// Roles (account holder / accounthouder, lead / penvoerder, purchasing organisation /
    /// inkooporganisatie, contract manager, coordinating municipality) valid on `asOf`.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn roles(
        &self,
        ctx: &Context<'_>,
        filter: Option<RoleFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Role>> {
        let (as_of, request) = (or_today(ctx, as_of)?, page_request(first, after)?);
        let page = registry(ctx).roles(&filter.unwrap_or_default().into(), as_of, &request).await?;
        Ok(connection(page, &request, |r| r.code.clone(), |row| Role::from_row(row, as_of)))
    }

    /// A framework contract (raamcontract) by reference; null when unknown or not valid on `asOf`.
    async fn framework_contract(
        &self,
        ctx: &Context<'_>,
        code: String,
        as_of: Option<Date>,
    ) -> Result<Option<FrameworkContract>> {
        Ok(find::<FrameworkContract>(registry(ctx), &code, or_today(ctx, as_of)?).await?)
    }

    /// Framework contracts (raamcontracten), including those VNG buys nationally, valid on `asOf`.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn framework_contracts(
        &self,
        ctx: &Context<'_>,
        filter: Option<FrameworkContractFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<FrameworkContract>> {
        let (as_of, request) = (or_today(ctx, as_of)?, page_request(first, after)?);
        let page = registry(ctx).framework_contracts(&filter.unwrap_or_default().into(), as_of, &request).await?;
        Ok(connection(page, &request, |c| c.code.clone(), |row| FrameworkContract::from_row(row, as_of)))
    }

    /// A care form (zorgvorm) by its registry code, e.g. `JEUGDZORGPLUS`.
    async fn care_form(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<CareForm>> {
        Ok(find::<CareForm>(registry(ctx), &code, or_today(ctx, as_of)?).await?)
    }

    /// All care forms (zorgvormen), ordered by code. `asOf` applies to their relations.
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::CARE_FORMS)")]
    async fn care_forms(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<CareForm>> {
        let as_of = or_today(ctx, as_of)?;
        Ok(registry(ctx).care_forms().await?.into_iter().map(|row| CareForm::from_row(row, as_of)).collect())
    }

    /// For care form `careFormCode` in municipality `municipalityCode` on `asOf`: at which scale
    /// its policy, purchasing and supplier management are organised, by whom, under which
    /// contract and with which account holder, from the arrangements recorded for the
    /// municipality's region and its cooperations. Where the registry has none it says so
    /// (`hasData`, `message`) and lists nothing. An arrangement the source says is still being
    /// developed is listed with `status: IN_DEVELOPMENT`. A code that names no care form, or no
    /// municipality existing on `asOf`, is a `BAD_USER_INPUT` error (with `extensions.argument`)
    /// and the field is null.
    async fn care_for(
        &self,
        ctx: &Context<'_>,
        municipality_code: String,
        care_form_code: String,
        as_of: Option<Date>,
    ) -> Result<Option<CareAnswer>> {
        let as_of = or_today(ctx, as_of)?;
        Ok(Some(CareAnswer(registry(ctx).care_answer(&municipality_code, &care_form_code, as_of).await?)))
    }

    /// A province (provincie) by CBS code, e.g. `PV30`.
    async fn province(&self, ctx: &Context<'_>, code: String) -> Result<Option<Province>> {
        Ok(Province::find(registry(ctx), &code).await?)
    }

    /// The twelve provinces (provincies), ordered by code.
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::PROVINCES)")]
    async fn provinces(&self, ctx: &Context<'_>) -> Result<Vec<Province>> {
        Ok(registry(ctx).provinces().await?.into_iter().map(|row| Province { row }).collect())
    }

    /// A provider (aanbieder) by its registry code.
    async fn provider(&self, ctx: &Context<'_>, code: String, as_of: Option<Date>) -> Result<Option<Provider>> {
        Ok(find::<Provider>(registry(ctx), &code, or_today(ctx, as_of)?).await?)
    }

    /// Youth-care providers (aanbieders), ordered by code. `asOf` applies to their relations.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn providers(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProviderFilter>,
        as_of: Option<Date>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<Provider>> {
        let (as_of, request) = (or_today(ctx, as_of)?, page_request(first, after)?);
        let page = registry(ctx).providers(&filter.unwrap_or_default().into(), &request).await?;
        Ok(connection(page, &request, |p| p.code.clone(), |row| Provider::from_row(row, as_of)))
    }

    /// Who you are, as your bearer token says: anonymous, a municipality, or the operator.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(actor(ctx).clone())
    }

    /// The audit log: every accepted write, oldest first. The operator sees each record's
    /// `subject`; everyone else sees the records without it.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditLogFilter>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<CodeConnection<AuditRecord>> {
        let request = page_request(first, after)?;
        let filter = filter.unwrap_or_default().into();
        let page = registry(ctx).audit_log(actor(ctx), &filter, after_id(&request)?, request.first).await?;
        Ok(connection(page, &request, |r| r.id.to_string(), AuditRecord))
    }

    /// Any object by its global `id`; null when unknown or not valid on `asOf`.
    async fn node(&self, ctx: &Context<'_>, id: ID, as_of: Option<Date>) -> Result<Option<Node>> {
        Ok(Node::find(registry(ctx), &id, or_today(ctx, as_of)?).await?)
    }
}
