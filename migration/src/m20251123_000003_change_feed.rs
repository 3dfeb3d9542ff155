//! The change feed: one row per committed change, at a gap-free position.

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
                    .table(col("feed_head"))
                    .if_not_exists()
                    .col(integer(col("id")).primary_key())
                    .col(big_integer(col("position")))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(col("feed_head"))
                    .columns([col("id"), col("position")])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(col("change_event"))
                    .if_not_exists()
                    .col(big_integer(col("position")).primary_key())
                    .col(timestamp_with_time_zone(col("committed_at")))
                    .col(string_len(col("object_type"), 64))
                    .col(string_len(col("object_code"), 64))
                    .col(string_len(col("operation"), 16))
                    .col(integer_null(col("version")))
                    .col(text(col("state")))
                    .col(text(col("region_codes")))
                    .to_owned(),
            )
            .await?;
        for column in ["object_code", "object_type"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_change_event_{column}"))
                        .table(col("change_event"))
                        .col(col(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
