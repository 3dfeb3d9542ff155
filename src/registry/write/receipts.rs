//! Receipts for `clientMutationId`: a retry of the same mutation with the
//! same input is answered from the first attempt instead of writing again.

use chrono::Utc;
use entity::mutation_receipt;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Intent;
use crate::registry::error::{UserErrorCode, WriteError};

/// SHA-256 of the input's canonical JSON.
pub fn fingerprint(input: &impl Serialize) -> String {
    let json = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

pub fn check_format(client_mutation_id: &str) -> Result<(), WriteError> {
    let id = client_mutation_id;
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(WriteError::invalid(
            &["clientMutationId"],
            "must be 1 to 128 characters, without control characters",
        ));
    }
    Ok(())
}

pub async fn find<C: ConnectionTrait>(
    db: &C,
    organisation: &str,
    client_mutation_id: &str,
) -> Result<Option<mutation_receipt::Model>, DbErr> {
    mutation_receipt::Entity::find()
        .filter(mutation_receipt::Column::Actor.eq(organisation))
        .filter(mutation_receipt::Column::ClientMutationId.eq(client_mutation_id))
        .one(db)
        .await
}

/// Takes the receipt at the start of the write, not at the end: a concurrent
/// attempt with the same id then waits for this one (unique key) and is
/// answered from its receipt.
pub async fn take<C: ConnectionTrait>(db: &C, intent: &Intent<'_>, id: &str, hash: &str) -> Result<i32, DbErr> {
    let row = mutation_receipt::ActiveModel {
        actor: Set(intent.actor.organisation().to_owned()),
        client_mutation_id: Set(id.to_owned()),
        mutation: Set(intent.mutation.to_owned()),
        input_hash: Set(hash.to_owned()),
        object_type: Set(String::new()),
        object_code: Set(String::new()),
        recorded_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// Names the object the write produced, so a replay can answer with it.
pub async fn complete<C: ConnectionTrait>(db: &C, receipt: i32, object_type: &str, code: &str) -> Result<(), DbErr> {
    mutation_receipt::Entity::update_many()
        .col_expr(mutation_receipt::Column::ObjectType, Expr::value(object_type))
        .col_expr(mutation_receipt::Column::ObjectCode, Expr::value(code))
        .filter(mutation_receipt::Column::Id.eq(receipt))
        .exec(db)
        .await?;
    Ok(())
}

/// A retry of the same mutation with the same input is answered from the
/// earlier attempt (the code of its object); anything else under the same id is refused.
pub fn answer_from(earlier: mutation_receipt::Model, intent: &Intent<'_>, hash: &str) -> Result<String, WriteError> {
    if earlier.mutation == intent.mutation && earlier.input_hash == hash {
        Ok(earlier.object_code)
    } else {
        Err(WriteError::rejected(
            &["clientMutationId"],
            UserErrorCode::Conflict,
            "this clientMutationId was already used for a different mutation or input",
        ))
    }
}
