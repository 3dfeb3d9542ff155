//! The journal of a write: one audit record and one feed entry per object it
//! changed, both in the API's terms (see [`crate::registry::view`]), never
//! stored column names or surrogate ids: renaming a column must not become a
//! breaking change for every syncing municipality.

use chrono::Utc;
use entity::audit_log;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, DbErr};
use serde_json::{Map, Value, json};

use crate::registry::feed::PendingChange;
use crate::registry::record::Coded;
use crate::registry::{ChangeOperation, view};

/// An object as the API publishes it: its view and the regions it concerns.
#[async_trait::async_trait]
pub trait Published: Coded {
    /// The object's public state: schema field names, codes for related objects.
    async fn view(&self, txn: &DatabaseTransaction) -> Result<Value, DbErr>;
    /// Codes of the regions the object concerns, for the feed's region
    /// filter. `view` is the object's view now: where it names the regions,
    /// they are taken from it instead of being read again.
    async fn regions(&self, view: &Value, txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr>;
}

/// The view of an object before a change, taken before its relations change.
pub struct Snapshot(Value);

impl Snapshot {
    pub async fn of<M: Published>(txn: &DatabaseTransaction, object: &M) -> Result<Self, DbErr> {
        Ok(Snapshot(object.view(txn).await?))
    }
}

/// Who is writing, for the audit record.
pub struct Author<'a> {
    pub organisation: &'a str,
    pub subject: &'a str,
    pub mutation: &'a str,
}

/// Appends the audit record of one changed object and returns its feed entry.
pub async fn record<M: Published>(
    txn: &DatabaseTransaction,
    author: &Author<'_>,
    before: Option<Snapshot>,
    after: &M,
) -> Result<PendingChange, DbErr> {
    let before = before.map(|s| s.0);
    let state = after.view(txn).await?;
    let operation = operation(before.as_ref(), &state);
    let version = |v: &Value| v.get(view::VERSION).and_then(Value::as_i64).map(|v| v as i32);
    let mut changes = Map::new();
    diff("", before.as_ref().unwrap_or(&Value::Null), &state, &mut changes);
    audit_log::ActiveModel {
        recorded_at: Set(Utc::now()),
        actor: Set(author.organisation.to_owned()),
        subject: Set(author.subject.to_owned()),
        mutation: Set(author.mutation.to_owned()),
        object_type: Set(M::TYPE.as_str().to_owned()),
        object_code: Set(after.code().to_owned()),
        version_before: Set(before.as_ref().and_then(version)),
        version_after: Set(version(&state)),
        changes: Set(Value::Object(changes).to_string()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(PendingChange {
        object_type: M::TYPE,
        object_code: after.code().to_owned(),
        operation,
        version: version(&state),
        region_codes: after.regions(&state, txn).await?,
        state,
    })
}

/// CREATED, ENDED (its `validTo` was set or moved) or UPDATED.
fn operation(before: Option<&Value>, after: &Value) -> ChangeOperation {
    let valid_to = |v: &Value| v.get(view::VALID_TO).cloned().unwrap_or(Value::Null);
    match before {
        None => ChangeOperation::Created,
        Some(before) if !valid_to(after).is_null() && valid_to(after) != valid_to(before) => ChangeOperation::Ended,
        Some(_) => ChangeOperation::Updated,
    }
}

/// Field-by-field differences, nested objects as dotted paths
/// (`accessPoint.phone`); the version is recorded apart.
fn diff(prefix: &str, before: &Value, after: &Value, out: &mut Map<String, Value>) {
    let empty = Map::new();
    let old = before.as_object().unwrap_or(&empty);
    let new = after.as_object().unwrap_or(&empty);
    for key in old.keys().chain(new.keys().filter(|k| !old.contains_key(*k))) {
        if prefix.is_empty() && key == view::VERSION {
            continue;
        }
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let (o, n) = (old.get(key).unwrap_or(&Value::Null), new.get(key).unwrap_or(&Value::Null));
        if o == n {
            continue;
        }
        if o.is_object() || n.is_object() {
            diff(&path, o, n, out);
        } else {
            out.insert(path, json!({ "old": o, "new": n }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_objects_diff_as_dotted_paths() {
        let before = json!({ "code": "GM0772", "version": 1, "accessPoint": { "phone": "14 040", "name": "T" } });
        let after = json!({ "code": "GM0772", "version": 2, "accessPoint": null, "website": "https://x.nl" });
        let mut out = Map::new();
        diff("", &before, &after, &mut out);
        assert_eq!(
            Value::Object(out),
            json!({
                "accessPoint.phone": { "old": "14 040", "new": null },
                "accessPoint.name": { "old": "T", "new": null },
                "website": { "old": null, "new": "https://x.nl" },
            })
        );
    }

    #[test]
    fn ending_is_told_apart_from_updating() {
        let open = json!({ "validTo": null });
        let ended = json!({ "validTo": "2030-01-01" });
        assert_eq!(operation(None, &open), ChangeOperation::Created);
        assert_eq!(operation(Some(&open), &ended), ChangeOperation::Ended);
        assert_eq!(operation(Some(&ended), &ended), ChangeOperation::Updated);
    }
}
