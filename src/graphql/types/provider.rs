use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use entity::provider;

use super::{Role, global_id, load_list};
use crate::graphql::context;
use crate::graphql::loaders::ProviderRoles;
use crate::graphql::scalars::Date;
use crate::registry::ObjectType;

/// A youth-care provider (aanbieder); some are certified institutions (gecertificeerde instelling, GI)
/// that carry out child protection and youth probation.
pub struct Provider {
    pub row: provider::Model,
    pub as_of: NaiveDate,
}

#[Object(serial)]
impl Provider {
    pub(super) async fn id(&self) -> ID {
        global_id(ObjectType::Provider, &self.row.code)
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
    #[graphql(complexity = "crate::graphql::cost::list(child_complexity, crate::registry::bounds::ROLES_PER_OBJECT)")]
    async fn roles(&self, ctx: &Context<'_>, as_of: Option<Date>) -> Result<Vec<Role>> {
        let as_of = context::as_of(ctx, as_of, self.as_of)?;
        load_list(ctx, ProviderRoles(self.row.id, as_of), as_of).await
    }
}
