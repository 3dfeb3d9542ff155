use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::care_form;

use super::{CareArrangement, FrameworkContract, Role, global_id, load_list};
use crate::graphql::context;
use crate::graphql::loaders::{CareFormArrangements, CareFormContracts, CareFormRoles};
use crate::graphql::scalars::Date;
use crate::registry::ObjectType;

/// A care form (zorgvorm), e.g. JeugdzorgPlus (closed youth care) or jeugdbescherming (child protection).
pub struct CareForm {
    pub row: care_form::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl CareForm {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::CareForm, &self.row.code)
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
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ROLES_PER_OBJECT)")]
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, CareFormRoles(self.row.id, as_of), as_of).await
    }
    /// Framework contracts that cover this care form.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::CONTRACTS_PER_OBJECT)"
    )]
    async fn framework_contracts(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<FrameworkContract>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, CareFormContracts(self.row.id, as_of), as_of).await
    }
    /// Where and by whom this care form's policy, purchasing and supplier management are organised,
    /// for every region and cooperation the registry has arrangements for, valid on `asOf`.
    #[graphql(
        complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ARRANGEMENTS_PER_OBJECT)"
    )]
    async fn arrangements(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<CareArrangement>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, CareFormArrangements(self.row.id, as_of), as_of).await
    }
}
