//! History since 2015: municipality and region names over time, where the
//! territory of an ended municipality went (lineage), and whether a start
//! date is the real start or only the earliest date a source vouches for.
//!
//! A municipality that ended before 2025 has no province in the sources the
//! registry has (CBS publishes provinces per year, and they were not read),
//! so `municipality.province_id` becomes nullable rather than guessed.

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, sqlx};
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20251123_000001_registry::{TableSpec, col, create};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows have a validity; each gets `valid_from_is_lower_bound`.
const DATED_TABLES: [&str; 7] =
    ["region", "municipality", "membership", "cooperation", "cooperation_member", "role", "framework_contract"];

fn named_period(owner: &'static str) -> TableSpec {
    let owner_id: &'static str = if owner == "municipality" { "municipality_id" } else { "region_id" };
    TableSpec {
        name: if owner == "municipality" { "municipality_name" } else { "region_name" },
        columns: vec![
            integer(col(owner_id)),
            string(col("name")),
            date_null(col("valid_from")),
            date_null(col("valid_to")),
            text(col("source")),
        ],
        references: vec![(owner_id, owner)],
        coded: false,
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        province_becomes_optional(manager).await?;
        for table in DATED_TABLES {
            // SQLite runs a migration without a transaction: a rerun after a
            // crash finds some columns there already.
            if manager.has_column(table, "valid_from_is_lower_bound").await? {
                continue;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(col(table))
                        .add_column(boolean(col("valid_from_is_lower_bound")).default(false))
                        .to_owned(),
                )
                .await?;
        }
        create(manager, named_period("municipality")).await?;
        create(manager, named_period("region")).await?;
        create(
            manager,
            TableSpec {
                name: "lineage",
                columns: vec![
                    date(col("effective_date")),
                    integer(col("predecessor_id")),
                    integer(col("successor_id")),
                    double_null(col("area_share")),
                    double_null(col("area_km2")),
                    string_len(col("kind"), 16),
                    text(col("source")),
                ],
                references: vec![("predecessor_id", "municipality"), ("successor_id", "municipality")],
                coded: false,
            },
        )
        .await
    }
}

/// `municipality.province_id` without NOT NULL. PostgreSQL alters the column;
/// SQLite cannot, so the table is rebuilt the way SQLite documents (foreign
/// keys off on one connection, copy, drop, rename, check, foreign keys on).
async fn province_becomes_optional(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared("ALTER TABLE municipality ALTER COLUMN province_id DROP NOT NULL").await?;
            Ok(())
        }
        DatabaseBackend::Sqlite => {
            let SchemaManagerConnection::Connection(connection) = db else {
                return Err(DbErr::Migration("the SQLite rebuild of municipality needs its own connection".into()));
            };
            // Detached from the pool: a connection whose foreign keys may be
            // off must never serve anyone else; it is closed when dropped.
            let mut conn = connection.get_sqlite_connection_pool().acquire().await.map_err(sqlx_error)?.detach();
            rebuild_sqlite_municipality(&mut conn).await
        }
        other => Err(DbErr::Migration(format!("unsupported database {other:?}"))),
    }
}

fn sqlx_error(error: sqlx::Error) -> DbErr {
    DbErr::Migration(format!("rebuilding table municipality: {error}"))
}

async fn rebuild_sqlite_municipality(conn: &mut sqlx::SqliteConnection) -> Result<(), DbErr> {
    use sqlx::Row;
    let table_sql: String = sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'municipality'")
        .fetch_one(&mut *conn)
        .await
        .map_err(sqlx_error)?
        .get(0);
    let province_required: bool =
        sqlx::query("SELECT \"notnull\" FROM pragma_table_info('municipality') WHERE name = 'province_id'")
            .fetch_one(&mut *conn)
            .await
            .map_err(sqlx_error)?
            .get(0);
    if !province_required {
        // Rebuilt already (a rerun after a crash).
        return Ok(());
    }
    const REQUIRED: &str = r#""province_id" integer NOT NULL"#;
    if !table_sql.contains(REQUIRED) {
        return Err(DbErr::Migration(format!("unexpected definition of table municipality: {table_sql}")));
    }
    let rebuilt_sql = table_sql.replacen(REQUIRED, r#""province_id" integer"#, 1).replacen(
        r#""municipality""#,
        r#""municipality_rebuilt""#,
        1,
    );
    let index_sql: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'municipality' AND sql IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(sqlx_error)?
    .into_iter()
    .map(|row| row.get(0))
    .collect();
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.map_err(sqlx_error)?;
    let rebuilt = async {
        let mut steps = vec![
            "BEGIN IMMEDIATE".to_owned(),
            rebuilt_sql,
            "INSERT INTO municipality_rebuilt SELECT * FROM municipality".to_owned(),
            "DROP TABLE municipality".to_owned(),
            "ALTER TABLE municipality_rebuilt RENAME TO municipality".to_owned(),
        ];
        steps.extend(index_sql);
        for step in steps {
            // The statements are this migration's own and SQLite's stored schema, not input.
            sqlx::query(sqlx::AssertSqlSafe(step)).execute(&mut *conn).await?;
        }
        let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *conn).await?;
        if broken.is_empty() {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Ok::<bool, sqlx::Error>(true)
        } else {
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            Ok(false)
        }
    }
    .await;
    if rebuilt.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await.map_err(sqlx_error)?;
    match rebuilt.map_err(sqlx_error)? {
        true => Ok(()),
        false => Err(DbErr::Migration("rebuilding table municipality would break a foreign key".into())),
    }
}
