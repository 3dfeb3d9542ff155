//! The audit log and the receipts that make retried mutations idempotent.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20251123_000001_registry::{TableSpec, col, create};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(
            manager,
            TableSpec {
                name: "audit_log",
                columns: vec![
                    timestamp_with_time_zone(col("recorded_at")),
                    string_len(col("actor"), 64),
                    string(col("subject")),
                    string_len(col("mutation"), 64),
                    string_len(col("object_type"), 64),
                    string_len(col("object_code"), 64),
                    integer_null(col("version_before")),
                    integer_null(col("version_after")),
                    text(col("changes")),
                ],
                references: vec![],
                coded: false,
            },
        )
        .await?;
        for column in ["object_code", "actor", "recorded_at"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_audit_log_{column}"))
                        .table(col("audit_log"))
                        .col(col(column))
                        .to_owned(),
                )
                .await?;
        }
        create(
            manager,
            TableSpec {
                name: "mutation_receipt",
                columns: vec![
                    string_len(col("actor"), 64),
                    string_len(col("client_mutation_id"), 128),
                    string_len(col("mutation"), 64),
                    string_len(col("input_hash"), 64),
                    string_len(col("object_type"), 64),
                    string_len(col("object_code"), 64),
                    timestamp_with_time_zone(col("recorded_at")),
                ],
                references: vec![],
                coded: false,
            },
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_mutation_receipt_actor_client_mutation_id")
                    .table(col("mutation_receipt"))
                    .col(col("actor"))
                    .col(col("client_mutation_id"))
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
