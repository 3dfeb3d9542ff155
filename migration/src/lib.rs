//! Schema migrations and the national seed of the jeugdregio registry.

pub use sea_orm_migration::prelude::*;

mod m20251123_000001_registry;
mod m20251123_000002_audit;
mod m20251123_000003_change_feed;
mod m20251125_000004_persisted_query;
mod m20251206_000005_history;
mod m20251207_000006_care_arrangement;
mod m20251207_000007_source_layer;
pub mod seed;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20251123_000001_registry::Migration),
            Box::new(m20251123_000002_audit::Migration),
            Box::new(m20251123_000003_change_feed::Migration),
            Box::new(m20251125_000004_persisted_query::Migration),
            Box::new(m20251206_000005_history::Migration),
            Box::new(m20251207_000006_care_arrangement::Migration),
            Box::new(m20251207_000007_source_layer::Migration),
        ]
    }
}
