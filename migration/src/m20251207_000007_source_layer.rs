//! What the source documents state and the first schema could not hold: a
//! sub-region inside a purchasing region (`cooperation.parent_cooperation_id`),
//! a cooperation holding a role (`role.holder_cooperation_id`: 21 voor de
//! Jeugd commissions the Regional Expert Team), and a municipality that takes
//! part in only some tasks of a cooperation (`cooperation_member.participation`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20251123_000001_registry::col;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A nullable reference to `cooperation`, added to an existing table: SQLite
/// takes a foreign key on a new column only inline.
fn cooperation_reference(name: &str) -> ColumnDef {
    integer_null(col(name)).extra(r#"REFERENCES "cooperation" ("id") ON DELETE RESTRICT"#).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let changes = [
            ("cooperation", cooperation_reference("parent_cooperation_id")),
            ("role", cooperation_reference("holder_cooperation_id")),
            ("cooperation_member", string_len(col("participation"), 16).default("FULL").to_owned()),
            ("cooperation_member", text_null(col("participation_note"))),
        ];
        for (table, mut column) in changes {
            // SQLite runs a migration without a transaction: a rerun after a crash finds some there.
            if manager.has_column(table, &column.get_column_name()).await? {
                continue;
            }
            manager.alter_table(Table::alter().table(col(table)).add_column(&mut column).to_owned()).await?;
        }
        for (table, column) in [("cooperation", "parent_cooperation_id"), ("role", "holder_cooperation_id")] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(format!("ix_{table}_{column}"))
                        .table(col(table))
                        .col(col(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
