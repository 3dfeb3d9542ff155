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
    fn from(error: DbErr) -> Self {
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
    receipt: Option<(String, String)>,
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
            && (id.is_empty() || id.len() > 128)
        {
            return Err(rejected(&["clientMutationId"], UserErrorCode::Invalid, "must be 1 to 128 characters"));
        }
        let writer = match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(self.sqlite_writer.clone().lock_owned().await),
            _ => None,
        };
        let txn = self.db.begin().await?;
        let mut receipt = None;
        if let Some(id) = intent.client_mutation_id {
            let hash = fingerprint(input);
            if let Some(earlier) = find_receipt(&txn, intent.actor.organisation(), id).await? {
                return if earlier.mutation == intent.mutation && earlier.input_hash == hash {
                    Ok(Began::Replay(earlier.object_code))
                } else {
                    Err(rejected(
                        &["clientMutationId"],
                        UserErrorCode::Conflict,
                        "this clientMutationId was already used for a different mutation or input",
                    ))
                };
            }
            receipt = Some((id.to_owned(), hash));
        }
        Ok(Began::Fresh(WriteTxn {
            txn,
            _writer: writer,
            actor: intent.actor.clone(),
            mutation: intent.mutation,
            receipt,
        }))
    }
}

async fn find_receipt(
    txn: &DatabaseTransaction,
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
        Ok(())
    }

    /// Records the receipt and commits. Returns `true` when a concurrent
    /// attempt with the same `clientMutationId` committed first: this one is
    /// rolled back and the caller answers from the other.
    pub async fn commit(self, object_type: &str, object_code: &str) -> Result<bool, WriteError> {
        if let Some((client_mutation_id, input_hash)) = &self.receipt {
            let inserted = mutation_receipt::ActiveModel {
                actor: Set(self.actor.organisation().to_owned()),
                client_mutation_id: Set(client_mutation_id.clone()),
                mutation: Set(self.mutation.to_owned()),
                input_hash: Set(input_hash.clone()),
                object_type: Set(object_type.to_owned()),
                object_code: Set(object_code.to_owned()),
                recorded_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&self.txn)
            .await;
            if let Err(error) = inserted {
                if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                    self.txn.rollback().await?;
                    return Ok(true);
                }
                return Err(error.into());
            }
        }
        self.txn.commit().await?;
        Ok(false)
    }
}
