//! Automatic persisted queries, shared by every instance on one database: a
//! query registered through one instance can be run by its hash through any.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20251123_000001_registry::col;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(col("persisted_query"))
                    .if_not_exists()
                    .col(string_len(col("sha256_hash"), 64).primary_key())
                    .col(text(col("document")))
                    .col(timestamp_with_time_zone(col("registered_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_persisted_query_registered_at")
                    .table(col("persisted_query"))
                    .col(col("registered_at"))
                    .to_owned(),
            )
            .await
    }
}
