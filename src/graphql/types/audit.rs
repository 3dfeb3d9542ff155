use async_graphql::{Json, Object, SimpleObject};
use chrono::{DateTime, Utc};

/// One field an audited write changed.
#[derive(SimpleObject)]
pub struct FieldChange {
    pub field: String,
    pub old: Json<serde_json::Value>,
    pub new: Json<serde_json::Value>,
}

/// One accepted write.
pub struct AuditRecord(pub entity::audit_log::Model);

#[Object(serial)]
impl AuditRecord {
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// The acting organisation: a municipality code, or `OPERATOR`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The token's `sub` (the person or system); shown to the operator only.
    async fn subject(&self) -> Option<&str> {
        Some(self.0.subject.as_str()).filter(|s| !s.is_empty())
    }
    /// The mutation, e.g. `municipalityUpdate`.
    async fn mutation(&self) -> &str {
        &self.0.mutation
    }
    async fn object_type(&self) -> &str {
        &self.0.object_type
    }
    async fn object_code(&self) -> &str {
        &self.0.object_code
    }
    /// Null when the write created the object.
    async fn version_before(&self) -> Option<i32> {
        self.0.version_before
    }
    async fn version_after(&self) -> Option<i32> {
        self.0.version_after
    }
    /// The fields that changed, with old and new values. Fields are named as in the feed's `state`
    /// (the schema's names; nested fields as a dotted path such as `accessPoint.phone`).
    async fn changes(&self) -> Vec<FieldChange> {
        let parsed: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.0.changes).unwrap_or_default();
        parsed
            .into_iter()
            .map(|(field, change)| FieldChange {
                field,
                old: Json(change.get("old").cloned().unwrap_or_default()),
                new: Json(change.get("new").cloned().unwrap_or_default()),
            })
            .collect()
    }
}
