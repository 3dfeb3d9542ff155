//! The store of automatic persisted queries, shared by every instance on one
//! database: behind a load balancer a client may register a query through
//! one instance and run it by its hash through another. Each instance keeps
//! the documents it has seen in memory, so a known hash costs no statement.

use async_graphql::extensions::apollo_persisted_queries::CacheStorage;
use async_graphql::parser::types::ExecutableDocument;
use entity::persisted_query;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::Db;

/// Documents each instance keeps in memory.
const IN_MEMORY: u64 = 1024;
/// Documents kept in the database; the oldest registrations go first.
pub const STORED: u64 = 4096;
/// Larger documents (in their stored form) are kept in memory only, so the
/// table stays bounded: at most `STORED` × this, 256 MiB.
pub const LARGEST_STORED: usize = 64 * 1024;

#[derive(Clone)]
pub struct PersistedQueries {
    db: Db,
    memory: moka::sync::Cache<String, ExecutableDocument>,
}

impl PersistedQueries {
    pub fn new(db: Db) -> Self {
        PersistedQueries { db, memory: moka::sync::Cache::new(IN_MEMORY) }
    }

    async fn stored(&self, hash: &str) -> Option<ExecutableDocument> {
        let row = persisted_query::Entity::find_by_id(hash.to_owned())
            .one(&self.db)
            .await
            .inspect_err(|error| tracing::warn!(?error, "could not read a persisted query"))
            .ok()??;
        // A document stored by a release that serialised it differently reads
        // as unknown: the client then sends the query again, which replaces it.
        serde_json::from_str(&row.document).ok()
    }

    async fn store(&self, hash: String, document: String) -> Result<(), sea_orm::DbErr> {
        let row = persisted_query::ActiveModel {
            sha256_hash: Set(hash),
            document: Set(document),
            registered_at: Set(chrono::Utc::now()),
        };
        persisted_query::Entity::insert(row)
            .on_conflict(
                OnConflict::column(persisted_query::Column::Sha256Hash)
                    .update_columns([persisted_query::Column::Document, persisted_query::Column::RegisteredAt])
                    .to_owned(),
            )
            .exec(&self.db)
            .await?;
        // Beyond the bound, the oldest registrations make room.
        let surplus: Vec<String> = persisted_query::Entity::find()
            .select_only()
            .column(persisted_query::Column::Sha256Hash)
            .order_by_desc(persisted_query::Column::RegisteredAt)
            .offset(STORED)
            .limit(64)
            .into_tuple()
            .all(&self.db)
            .await?;
        if !surplus.is_empty() {
            persisted_query::Entity::delete_many()
                .filter(persisted_query::Column::Sha256Hash.is_in(surplus))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl CacheStorage for PersistedQueries {
    async fn get(&self, hash: String) -> Option<ExecutableDocument> {
        if let Some(document) = self.memory.get(&hash) {
            return Some(document);
        }
        let document = self.stored(&hash).await?;
        self.memory.insert(hash, document.clone());
        Some(document)
    }

    async fn set(&self, hash: String, document: ExecutableDocument) {
        self.memory.insert(hash.clone(), document.clone());
        let Ok(stored) = serde_json::to_string(&document) else { return };
        if stored.len() > LARGEST_STORED {
            return;
        }
        if let Err(error) = self.store(hash, stored).await {
            // The query still runs; other instances will not know it by its hash.
            tracing::warn!(?error, "could not store a persisted query");
        }
    }
}
