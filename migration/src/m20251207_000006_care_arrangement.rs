//! Care-form arrangements: per region or cooperation and care form, at which
//! scale policy, purchasing and supplier management are organised, by whom,
//! under which contract, with which account holder.
//!
//! An arrangement is recorded for exactly one scope, a region or a
//! cooperation: a row with both would answer for municipalities the source
//! did not speak for, a row with neither for nobody. The table enforces it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20251123_000001_registry::{TableSpec, col, create_checked};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let region = || Expr::col(col("region_id"));
        let cooperation = || Expr::col(col("cooperation_id"));
        let one_scope = Condition::any()
            .add(Condition::all().add(region().is_not_null()).add(cooperation().is_null()))
            .add(Condition::all().add(region().is_null()).add(cooperation().is_not_null()));
        create_checked(
            manager,
            TableSpec {
                name: "care_arrangement",
                columns: vec![
                    string_len(col("code"), 64),
                    integer_null(col("region_id")),
                    integer_null(col("cooperation_id")),
                    integer(col("care_form_id")),
                    string_len(col("function"), 32),
                    string_len(col("scale"), 16),
                    integer_null(col("organised_by_municipality_id")),
                    integer_null(col("organised_by_cooperation_id")),
                    text_null(col("organised_by_name")),
                    integer_null(col("contract_id")),
                    integer_null(col("account_holder_municipality_id")),
                    string_len(col("status"), 16).default("IN_PLACE").to_owned(),
                    text_null(col("note")),
                    date_null(col("valid_from")),
                    boolean(col("valid_from_is_lower_bound")).default(false).to_owned(),
                    date_null(col("valid_to")),
                    text(col("source")),
                    integer(col("version")).default(1).to_owned(),
                ],
                references: vec![
                    ("region_id", "region"),
                    ("cooperation_id", "cooperation"),
                    ("care_form_id", "care_form"),
                    ("organised_by_municipality_id", "municipality"),
                    ("organised_by_cooperation_id", "cooperation"),
                    ("contract_id", "framework_contract"),
                    ("account_holder_municipality_id", "municipality"),
                ],
                coded: true,
            },
            vec![Check::named("ck_care_arrangement_one_scope", one_scope)],
        )
        .await
    }
}
