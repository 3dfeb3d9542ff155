//! Ending a role, cooperation or contract: one command for the three, since
//! ending is the same rule everywhere (`validTo` after `validFrom`, earlier
//! than any end already recorded).

use std::marker::PhantomData;

use chrono::NaiveDate;
use entity::{cooperation, framework_contract, role};
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde::Serialize;

use super::txn::WriteTxn;
use super::{Command, Intent, Outcome, Published};
use crate::registry::Registry;
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::record::Dated;
use crate::registry::validate::Checks;

/// Ends a role, cooperation or contract: it is no longer valid from `valid_to`.
#[derive(Debug, Clone, Serialize)]
pub struct End {
    pub code: String,
    pub expected_version: i32,
    pub valid_to: NaiveDate,
}

/// Something that can be ended.
#[async_trait::async_trait]
pub(super) trait Endable: Published + Dated {
    fn target(&self) -> Target;
    fn ended(self, valid_to: NaiveDate) -> Self;
    /// What else ends with it.
    async fn ends_also(&self, _w: &WriteTxn, _valid_to: NaiveDate) -> Result<(), WriteError> {
        Ok(())
    }
}

/// [`End`] for objects of type `M`; serialises as `End` (its receipt fingerprint).
struct EndOf<'a, M> {
    end: &'a End,
    object: PhantomData<fn() -> M>,
}

impl<M> Serialize for EndOf<'_, M> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.end.serialize(serializer)
    }
}

#[async_trait::async_trait]
impl<M: Endable> Command for EndOf<'_, M>
where
    <M::Entity as EntityTrait>::ActiveModel: ActiveModelTrait<Entity = M::Entity> + Send,
{
    type Object = M;
    type Loaded = M;

    async fn load(&self, w: &WriteTxn) -> Result<M, WriteError> {
        w.require(&self.end.code, "code").await
    }

    fn target(&self, before: &M) -> Target {
        before.target()
    }

    fn validate(&self, before: &M, checks: &mut Checks) {
        checks.period(&["validTo"], before.valid_from(), Some(self.end.valid_to));
        if let Some(current) = before.valid_to()
            && current <= self.end.valid_to
        {
            checks.invalid(&["validTo"], format!("it already ends on {current}"));
        }
    }

    fn versions(&self, before: &M) -> Option<(i32, i32)> {
        Some((self.end.expected_version, before.version()))
    }

    async fn apply(&self, w: &WriteTxn, before: M) -> Result<M, WriteError> {
        let snapshot = w.snapshot(&before).await?;
        let after = w.guarded(&before, before.clone().ended(self.end.valid_to)).await?;
        before.ends_also(w, self.end.valid_to).await?;
        w.record(Some(snapshot), &after).await?;
        Ok(after)
    }
}

#[async_trait::async_trait]
impl Endable for role::Model {
    fn target(&self) -> Target {
        Target::role(self.kind, self.cooperation_id, self.region_id)
    }
    fn ended(self, valid_to: NaiveDate) -> Self {
        Self { valid_to: Some(valid_to), ..self }
    }
}

#[async_trait::async_trait]
impl Endable for framework_contract::Model {
    fn target(&self) -> Target {
        Target::contract(self)
    }
    fn ended(self, valid_to: NaiveDate) -> Self {
        Self { valid_to: Some(valid_to), ..self }
    }
}

#[async_trait::async_trait]
impl Endable for cooperation::Model {
    fn target(&self) -> Target {
        Target::Cooperation(self.id)
    }
    fn ended(self, valid_to: NaiveDate) -> Self {
        Self { valid_to: Some(valid_to), ..self }
    }
    /// Memberships end with the cooperation; ones that would start later are removed.
    async fn ends_also(&self, w: &WriteTxn, valid_to: NaiveDate) -> Result<(), WriteError> {
        super::cooperation::end_members(w, self.id, valid_to).await
    }
}

impl Registry {
    pub async fn role_end(&self, intent: &Intent<'_>, input: &End) -> Outcome<role::Model> {
        self.write(intent, &EndOf { end: input, object: PhantomData }).await
    }

    pub async fn cooperation_end(&self, intent: &Intent<'_>, input: &End) -> Outcome<cooperation::Model> {
        self.write(intent, &EndOf { end: input, object: PhantomData }).await
    }

    pub async fn framework_contract_end(&self, intent: &Intent<'_>, input: &End) -> Outcome<framework_contract::Model> {
        self.write(intent, &EndOf { end: input, object: PhantomData }).await
    }
}
