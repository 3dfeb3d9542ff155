//! Reading the audit log. Who may see the `sub` of each record is the
//! policy's decision.

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Page;
use crate::auth::Actor;
use crate::registry::{Registry, RegistryError, policy};

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_code: Option<String>,
    /// A municipality code or `OPERATOR`.
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

impl Registry {
    /// Audit records in the order they were written, after record `after`.
    pub async fn audit_log(
        &self,
        viewer: &Actor,
        filter: &AuditFilter,
        after: Option<i32>,
        first: u64,
    ) -> Result<Page<audit_log::Model>, RegistryError> {
        use audit_log::Column;
        let mut select = audit_log::Entity::find();
        if let Some(code) = &filter.object_code {
            select = select.filter(Column::ObjectCode.eq(code.as_str()));
        }
        if let Some(actor) = &filter.actor {
            select = select.filter(Column::Actor.eq(actor.as_str()));
        }
        if let Some(from) = filter.from {
            select = select.filter(Column::RecordedAt.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(Column::RecordedAt.lt(to));
        }
        let total_count = select.clone().count(&self.db).await?;
        if let Some(after) = after {
            select = select.filter(Column::Id.gt(after));
        }
        let mut items = select.order_by_asc(Column::Id).limit(first + 1).all(&self.db).await?;
        let has_next_page = items.len() as u64 > first;
        items.truncate(first as usize);
        if !policy::may_see_subject(viewer) {
            for record in &mut items {
                record.subject.clear();
            }
        }
        Ok(Page { items, has_next_page, total_count })
    }
}
