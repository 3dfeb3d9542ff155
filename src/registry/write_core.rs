//! The write pipeline every mutation goes through: the caller must be signed
//! in, one transaction (serialised per process on SQLite, which has one
//! writer), a receipt for `clientMutationId` so retries do not write twice,
//! optimistic versions, and an audit record in the same transaction.

use chrono::Utc;
use entity::{audit_log, mutation_receipt};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, SqlErr, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Registry, RegistryError};
use crate::auth::Actor;

/// Stable codes of problems the caller can fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserErrorCode {
    /// The input breaks a rule (format, length, range).
    Invalid,
    /// A code in the input names nothing.
    NotFound,
    /// `expectedVersion` is stale, or a `clientMutationId` was reused for other input.
    Conflict,
    /// The change would make two periods overlap where only one may hold.
    Overlap,
}

/// A problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    /// Path of the input field, e.g. `["accessPoint", "email"]`.
    pub field: Vec<String>,
    pub code: UserErrorCode,
    pub message: String,
}

impl UserError {
    pub fn new(field: &[&str], code: UserErrorCode, message: impl Into<String>) -> Self {
        Self { field: field.iter().map(|f| f.to_string()).collect(), code, message: message.into() }
    }
}

/// Why a write did not happen. Nothing is written in any of these cases.
#[derive(Debug)]
pub enum WriteError {
    /// No (valid) token: writes need one.
    Unauthenticated(String),
    /// The caller may not make this change.
    Forbidden(String),
    /// The input was refused; each problem names its field.
    Rejected(Vec<UserError>),
    /// The database failed.
    Failed(RegistryError),
}

impl From<DbErr> for WriteError {
    /// A unique violation means a concurrent write took the same code first:
    /// the caller can read again and retry.
    fn from(error: DbErr) -> Self {
        if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            return rejected(
                &[],
                UserErrorCode::Conflict,
                "a concurrent change took the same code or slot first; read again and retry",
            );
        }
        WriteError::Failed(RegistryError::Database(error))
    }
}

impl From<RegistryError> for WriteError {
    fn from(error: RegistryError) -> Self {
        WriteError::Failed(error)
    }
}

pub fn rejected(field: &[&str], code: UserErrorCode, message: impl Into<String>) -> WriteError {
    WriteError::Rejected(vec![UserError::new(field, code, message)])
}

pub fn not_found(field: &[&str], what: &str, code: &str) -> WriteError {
    rejected(field, UserErrorCode::NotFound, format!("no {what} with code {code:?}"))
}

pub fn stale(expected: i32, current: i32) -> WriteError {
    rejected(
        &["expectedVersion"],
        UserErrorCode::Conflict,
        format!(
            "the object has changed: expected version {expected}, current version {current}; read it again and retry"
        ),
    )
}

/// The object a mutation changed, and whether it was answered from an earlier attempt.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub object: T,
    pub replayed: bool,
}

/// A mutation's identity for receipts and audit.
pub struct Intent<'a> {
    pub actor: &'a Actor,
    pub mutation: &'static str,
    pub client_mutation_id: Option<&'a str>,
}

pub(super) enum Began {
    Fresh(WriteTxn),
    /// The same mutation with the same input already ran: the code of its object.
    Replay(String),
}

pub(super) struct WriteTxn {
    pub txn: DatabaseTransaction,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    actor: Actor,
    mutation: &'static str,
    /// The id of this attempt's receipt row, when it has a `clientMutationId`.
    receipt: Option<i32>,
    /// Filled by `audit` (which only borrows), drained at commit.
    changes: std::sync::Mutex<Vec<super::feed::PendingChange>>,
    feed: tokio::sync::watch::Sender<i64>,
}

/// SHA-256 of the input's canonical JSON.
fn fingerprint(input: &impl Serialize) -> String {
    let json = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

/// Field-by-field differences of two serialised rows, without bookkeeping fields.
fn changes(before: Option<&Value>, after: Option<&Value>) -> Value {
    let empty = Map::new();
    let old = before.and_then(Value::as_object).unwrap_or(&empty);
    let new = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut diff = Map::new();
    for key in old.keys().chain(new.keys()) {
        if key == "id" || key == "version" || diff.contains_key(key) {
            continue;
        }
        let (o, n) = (old.get(key).unwrap_or(&Value::Null), new.get(key).unwrap_or(&Value::Null));
        if o != n {
            diff.insert(key.clone(), json!({ "old": o, "new": n }));
        }
    }
    Value::Object(diff)
}

impl Registry {
    pub(super) async fn begin_write(&self, intent: &Intent<'_>, input: &impl Serialize) -> Result<Began, WriteError> {
        if *intent.actor == Actor::Anonymous {
            return Err(WriteError::Unauthenticated(format!(
                "{} changes the registry: send a bearer token (Authorization: Bearer <JWT>)",
                intent.mutation
            )));
        }
        if let Some(id) = intent.client_mutation_id
            && (id.is_empty() || id.len() > 128 || id.chars().any(char::is_control))
        {
            return Err(rejected(
                &["clientMutationId"],
                UserErrorCode::Invalid,
                "must be 1 to 128 characters, without control characters",
            ));
        }
        let writer = match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(self.sqlite_writer.clone().lock_owned().await),
            _ => None,
        };
        // READ COMMITTED whatever the server's default: the feed's head row
        // lock relies on a blocked UPDATE seeing the committed value.
        let txn = self.db.begin_with_config(Some(sea_orm::IsolationLevel::ReadCommitted), None).await?;
        let mut receipt = None;
        if let Some(id) = intent.client_mutation_id {
            let hash = fingerprint(input);
            let organisation = intent.actor.organisation();
            if let Some(earlier) = find_receipt(&txn, organisation, id).await? {
                return answer_from(earlier, intent, &hash);
            }
            // Taken now, not at the end: a concurrent attempt with the same id
            // waits here for this one and is then answered from its receipt.
            let taken = mutation_receipt::ActiveModel {
                actor: Set(organisation.to_owned()),
                client_mutation_id: Set(id.to_owned()),
                mutation: Set(intent.mutation.to_owned()),
                input_hash: Set(hash.clone()),
                object_type: Set(String::new()),
                object_code: Set(String::new()),
                recorded_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await;
            match taken {
                Ok(row) => receipt = Some(row.id),
                Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    txn.rollback().await?;
                    let earlier = find_receipt(&self.db, organisation, id).await?.ok_or(error)?;
                    return answer_from(earlier, intent, &hash);
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(Began::Fresh(WriteTxn {
            txn,
            _writer: writer,
            actor: intent.actor.clone(),
            mutation: intent.mutation,
            receipt,
            changes: Default::default(),
            feed: self.feed.clone(),
        }))
    }
}

/// A retry of the same mutation with the same input is answered from the
/// earlier attempt; anything else under the same id is refused.
fn answer_from(earlier: mutation_receipt::Model, intent: &Intent<'_>, hash: &str) -> Result<Began, WriteError> {
    if earlier.mutation == intent.mutation && earlier.input_hash == hash {
        Ok(Began::Replay(earlier.object_code))
    } else {
        Err(rejected(
            &["clientMutationId"],
            UserErrorCode::Conflict,
            "this clientMutationId was already used for a different mutation or input",
        ))
    }
}

async fn find_receipt<C: sea_orm::ConnectionTrait>(
    txn: &C,
    actor: &str,
    client_mutation_id: &str,
) -> Result<Option<mutation_receipt::Model>, DbErr> {
    mutation_receipt::Entity::find()
        .filter(mutation_receipt::Column::Actor.eq(actor))
        .filter(mutation_receipt::Column::ClientMutationId.eq(client_mutation_id))
        .one(txn)
        .await
}

impl WriteTxn {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Provenance of rows this write creates.
    pub fn source(&self) -> String {
        format!(
            "Entered through {} by {} ({}) on {}",
            self.mutation,
            self.actor.organisation(),
            self.actor.subject(),
            super::today()
        )
    }

    /// Appends an audit record for one object; `before`/`after` are the row
    /// before and after the change (`None` when created or deleted).
    pub async fn audit<T: Serialize>(
        &self,
        object_type: &str,
        object_code: &str,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Result<(), WriteError> {
        let before = before.map(serde_json::to_value).transpose().map_err(|e| DbErr::Custom(e.to_string()))?;
        let after = after.map(serde_json::to_value).transpose().map_err(|e| DbErr::Custom(e.to_string()))?;
        let version =
            |v: &Option<Value>| v.as_ref().and_then(|v| v.get("version")).and_then(Value::as_i64).map(|v| v as i32);
        audit_log::ActiveModel {
            recorded_at: Set(Utc::now()),
            actor: Set(self.actor.organisation().to_owned()),
            subject: Set(self.actor.subject().to_owned()),
            mutation: Set(self.mutation.to_owned()),
            object_type: Set(object_type.to_owned()),
            object_code: Set(object_code.to_owned()),
            version_before: Set(version(&before)),
            version_after: Set(version(&after)),
            changes: Set(changes(before.as_ref(), after.as_ref()).to_string()),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        let state = after.clone().or(before.clone()).unwrap_or_default();
        let change = super::feed::PendingChange {
            object_type: object_type.to_owned(),
            object_code: object_code.to_owned(),
            operation: super::feed::operation(before.as_ref(), after.as_ref()),
            version: version(&after),
            region_codes: super::feed::concerned_regions(&self.txn, object_type, &state).await?,
            state: after.unwrap_or(Value::Null),
        };
        self.changes.lock().expect("changes lock").push(change);
        Ok(())
    }

    /// Completes the receipt, appends the feed and commits.
    pub async fn commit(self, object_type: &str, object_code: &str) -> Result<(), WriteError> {
        if let Some(id) = self.receipt {
            mutation_receipt::Entity::update_many()
                .col_expr(mutation_receipt::Column::ObjectType, sea_orm::sea_query::Expr::value(object_type))
                .col_expr(mutation_receipt::Column::ObjectCode, sea_orm::sea_query::Expr::value(object_code))
                .filter(mutation_receipt::Column::Id.eq(id))
                .exec(&self.txn)
                .await?;
        }
        // Last, so the feed head stays locked for as short as possible.
        let changes = std::mem::take(&mut *self.changes.lock().expect("changes lock"));
        let head = if changes.is_empty() { None } else { Some(super::feed::append(&self.txn, &changes).await?) };
        self.txn.commit().await?;
        if let Some(head) = head {
            self.feed.send_replace(head);
        }
        Ok(())
    }
}
