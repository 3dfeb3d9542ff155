//! The registry tables: regions, municipalities and their memberships, provinces,
//! cooperations, roles, care forms, providers and framework contracts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A table with an auto-increment `id`, the given columns, a foreign key and an
/// index for each `(column, referenced table)` pair, and a unique index on
/// `code` when the table has one.
pub(crate) struct TableSpec {
    pub name: &'static str,
    pub columns: Vec<ColumnDef>,
    pub references: Vec<(&'static str, &'static str)>,
    pub coded: bool,
}

pub(crate) async fn create(manager: &SchemaManager<'_>, spec: TableSpec) -> Result<(), DbErr> {
    create_checked(manager, spec, Vec::new()).await
}

/// [`create`] with table constraints: SQLite cannot add a CHECK to a table
/// after it is created, so they come with the table.
pub(crate) async fn create_checked(
    manager: &SchemaManager<'_>,
    spec: TableSpec,
    checks: Vec<Check>,
) -> Result<(), DbErr> {
    let mut table = Table::create();
    table.table(Alias::new(spec.name)).if_not_exists().col(pk_auto(Alias::new("id")));
    for mut column in spec.columns {
        table.col(&mut column);
    }
    for check in checks {
        table.check(check);
    }
    for (column, target) in &spec.references {
        table.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{}_{}", spec.name, column))
                .from(Alias::new(spec.name), Alias::new(*column))
                .to(Alias::new(*target), Alias::new("id"))
                .on_delete(ForeignKeyAction::Restrict),
        );
    }
    manager.create_table(table.to_owned()).await?;
    if spec.coded {
        manager
            .create_index(
                Index::create()
                    .name(format!("ux_{}_code", spec.name))
                    .table(Alias::new(spec.name))
                    .col(Alias::new("code"))
                    .unique()
                    .to_owned(),
            )
            .await?;
    }
    for (column, _) in &spec.references {
        manager
            .create_index(
                Index::create()
                    .name(format!("ix_{}_{}", spec.name, column))
                    .table(Alias::new(spec.name))
                    .col(Alias::new(*column))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// A table or column name.
pub(crate) fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn validity() -> Vec<ColumnDef> {
    vec![date_null(col("valid_from")), date_null(col("valid_to"))]
}

fn provenance() -> Vec<ColumnDef> {
    vec![text(col("source")), integer(col("version")).default(1).to_owned()]
}

fn code() -> ColumnDef {
    string_len(col("code"), 64)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let specs = vec![
            TableSpec {
                name: "landsdeel",
                columns: vec![code(), string(col("name"))],
                references: vec![],
                coded: true,
            },
            TableSpec {
                name: "province",
                columns: vec![code(), string(col("name")), integer(col("landsdeel_id"))],
                references: vec![("landsdeel_id", "landsdeel")],
                coded: true,
            },
            TableSpec {
                name: "region",
                columns: [vec![code(), string(col("name")), string_null(col("name_2015"))], validity(), provenance()]
                    .concat(),
                references: vec![],
                coded: true,
            },
            TableSpec {
                name: "municipality",
                columns: [
                    vec![code(), string(col("name")), integer(col("province_id"))],
                    validity(),
                    vec![
                        string_null(col("website")),
                        string_null(col("access_name")),
                        string_null(col("access_phone")),
                        string_null(col("access_email")),
                        string_null(col("access_website")),
                        string_null(col("access_address")),
                    ],
                    provenance(),
                ]
                .concat(),
                references: vec![("province_id", "province")],
                coded: true,
            },
            TableSpec {
                name: "membership",
                columns: [vec![integer(col("municipality_id")), integer(col("region_id"))], validity(), provenance()]
                    .concat(),
                references: vec![("municipality_id", "municipality"), ("region_id", "region")],
                coded: false,
            },
            TableSpec {
                name: "cooperation",
                columns: [
                    vec![
                        code(),
                        string(col("name")),
                        string_len(col("scale"), 16),
                        string_len_null(col("instrument"), 32),
                        text_null(col("description")),
                    ],
                    validity(),
                    provenance(),
                ]
                .concat(),
                references: vec![],
                coded: true,
            },
            TableSpec {
                name: "cooperation_member",
                columns: [
                    vec![
                        integer(col("cooperation_id")),
                        integer_null(col("municipality_id")),
                        integer_null(col("region_id")),
                    ],
                    validity(),
                    provenance(),
                ]
                .concat(),
                references: vec![
                    ("cooperation_id", "cooperation"),
                    ("municipality_id", "municipality"),
                    ("region_id", "region"),
                ],
                coded: false,
            },
            TableSpec {
                name: "care_form",
                columns: [
                    vec![code(), string(col("name")), string(col("name_en")), text_null(col("description"))],
                    provenance(),
                ]
                .concat(),
                references: vec![],
                coded: true,
            },
            TableSpec {
                name: "provider",
                columns: [
                    vec![
                        code(),
                        string(col("name")),
                        boolean_null(col("certified_institution")),
                        string_null(col("website")),
                    ],
                    provenance(),
                ]
                .concat(),
                references: vec![],
                coded: true,
            },
            TableSpec {
                name: "role",
                columns: [
                    vec![
                        code(),
                        string_len(col("kind"), 32),
                        integer_null(col("holder_municipality_id")),
                        integer_null(col("holder_region_id")),
                        integer_null(col("region_id")),
                        integer_null(col("cooperation_id")),
                        integer_null(col("care_form_id")),
                        integer_null(col("provider_id")),
                        text_null(col("note")),
                    ],
                    validity(),
                    provenance(),
                ]
                .concat(),
                references: vec![
                    ("holder_municipality_id", "municipality"),
                    ("holder_region_id", "region"),
                    ("region_id", "region"),
                    ("cooperation_id", "cooperation"),
                    ("care_form_id", "care_form"),
                    ("provider_id", "provider"),
                ],
                coded: true,
            },
            TableSpec {
                name: "framework_contract",
                columns: [
                    vec![
                        code(),
                        string(col("title")),
                        string_len(col("scale"), 16),
                        integer_null(col("contracting_authority_municipality_id")),
                        string_null(col("contracting_authority_name")),
                        text_null(col("note")),
                    ],
                    validity(),
                    provenance(),
                ]
                .concat(),
                references: vec![("contracting_authority_municipality_id", "municipality")],
                coded: true,
            },
            TableSpec {
                name: "contract_party",
                columns: vec![integer(col("contract_id")), integer(col("region_id"))],
                references: vec![("contract_id", "framework_contract"), ("region_id", "region")],
                coded: false,
            },
            TableSpec {
                name: "contract_care_form",
                columns: vec![integer(col("contract_id")), integer(col("care_form_id"))],
                references: vec![("contract_id", "framework_contract"), ("care_form_id", "care_form")],
                coded: false,
            },
            TableSpec {
                name: "contract_provider",
                columns: vec![integer(col("contract_id")), integer(col("provider_id"))],
                references: vec![("contract_id", "framework_contract"), ("provider_id", "provider")],
                coded: false,
            },
        ];
        for spec in specs {
            create(manager, spec).await?;
        }
        Ok(())
    }
}
