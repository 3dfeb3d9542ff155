//! The write pipeline. Every mutation goes through [`Registry::write`], which
//! runs, in this order:
//!
//! 1. the signed-in check (policy),
//! 2. begin: one transaction (`txn::begin_write`: READ COMMITTED on
//!    PostgreSQL, see `feed.rs`; on SQLite, which has one writer, serialised
//!    per process and `BEGIN IMMEDIATE`, so other processes' writers are
//!    waited for up to the busy timeout),
//! 3. the idempotency receipt, inside that transaction: a retry is answered
//!    from its first attempt, a concurrent one waits for it,
//! 4. load what the mutation names (unknown codes are NOT_FOUND),
//! 5. authorize (policy),
//! 6. validate, reporting every problem at once,
//! 7. the early version check (a readable CONFLICT before any work),
//! 8. apply: the versioned update/create/end, where `WriteTxn::guarded` is the
//!    guarded `UPDATE … WHERE version = expected` that makes the race safe
//!    (it runs before relation rows change, so writers of one object queue
//!    there). Rules that depend on other rows at this moment (overlapping
//!    roles, later membership changes) are checked here too.
//!    The journal is written as `apply` goes: an audit record per changed
//!    object now (`WriteTxn::update`/`create`/`record`), its feed entry at commit,
//! 9. commit (the feed head row is locked only for its last statements); a
//!    write that changed rows without journalling them is refused,
//! 10. wake the subscribers.
//!
//! A mutation states only what is specific to it: see [`Command`], and one
//! file per aggregate beside this one.

mod catalogue;
mod classification;
mod contract;
mod cooperation;
mod end;
mod journal;
mod merge;
mod municipality;
mod receipts;
mod role;
mod room;
mod txn;

use serde::Serialize;

pub use catalogue::{CareFormCreate, CareFormUpdate, ProviderCreate, ProviderUpdate};
pub use contract::{FrameworkContractCreate, FrameworkContractPartiesSet, FrameworkContractUpdate};
pub use cooperation::{CooperationCreate, CooperationMembersSet, CooperationUpdate};
pub use end::End;
pub use journal::Published;
pub use merge::MunicipalityMerge;
pub use municipality::{AccessPointPatch, MembershipChange, MunicipalityEntry, MunicipalityUpdate};
pub use role::RoleAssign;
use txn::{Began, WriteTxn};

use super::error::WriteError;
use super::policy::{self, Target};
use super::record::Coded;
use super::validate::Checks;
use super::{Registry, RegistryError};
use crate::auth::Actor;

/// A field change: `None` keeps the value, `Some(None)` clears it, `Some(Some(v))` sets it.
pub type Patch<T> = Option<Option<T>>;

fn apply_patch<T: Clone>(patch: &Patch<T>, current: &mut Option<T>) {
    if let Some(value) = patch {
        *current = value.clone();
    }
}

/// A mutation's identity for receipts and audit.
pub struct Intent<'a> {
    pub actor: &'a Actor,
    pub mutation: &'static str,
    pub client_mutation_id: Option<&'a str>,
}

/// The object a mutation changed.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub object: T,
    /// Answered from an earlier attempt with the same `clientMutationId`.
    pub replayed: bool,
    /// False when the registry already held what was asked: nothing was written.
    pub changed: bool,
}

pub type Outcome<T> = Result<Written<T>, WriteError>;

/// What one mutation states about itself; [`Registry::write`] does the rest.
#[async_trait::async_trait]
trait Command: Serialize + Sync {
    /// The object the caller gets back.
    type Object: Coded;
    /// What `load` found, for the later steps.
    type Loaded: Send + Sync;

    async fn load(&self, w: &WriteTxn) -> Result<Self::Loaded, WriteError>;

    /// What the change touches, for the policy.
    fn target(&self, loaded: &Self::Loaded) -> Target;

    fn validate(&self, _loaded: &Self::Loaded, _checks: &mut Checks) {}

    /// `(expectedVersion, current version)` when the mutation changes an existing object.
    fn versions(&self, _loaded: &Self::Loaded) -> Option<(i32, i32)> {
        None
    }

    /// Makes the change through `w`, which journals it.
    async fn apply(&self, w: &WriteTxn, loaded: Self::Loaded) -> Result<Self::Object, WriteError>;
}

impl Registry {
    async fn write<C: Command>(&self, intent: &Intent<'_>, command: &C) -> Outcome<C::Object> {
        policy::require_signed_in(intent.actor, intent.mutation)?;
        let w = match WriteTxn::begin(self, intent, command).await? {
            Began::Fresh(w) => w,
            Began::Replay(code) => return self.replay(&code).await,
        };
        let loaded = command.load(&w).await?;
        policy::authorize(&w.txn, w.actor(), command.target(&loaded)).await?;
        let mut checks = Checks::default();
        command.validate(&loaded, &mut checks);
        checks.finish()?;
        if let Some((expected, current)) = command.versions(&loaded)
            && expected != current
        {
            return Err(WriteError::stale(expected, current));
        }
        let object = command.apply(&w, loaded).await?;
        let head = w.commit(&object).await?;
        if let Some(head) = head {
            self.saw_head(head);
            self.feed.send_replace(head);
        }
        Ok(Written { object, replayed: false, changed: head.is_some() })
    }

    /// The object an earlier attempt wrote, by its code.
    async fn replay<M: Coded>(&self, code: &str) -> Outcome<M> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let object = M::Entity::find().filter(M::CODE.eq(code)).one(&self.db).await?;
        let object = object.ok_or_else(|| RegistryError::Database(sea_orm::DbErr::RecordNotFound(code.to_owned())))?;
        Ok(Written { object, replayed: true, changed: false })
    }
}

impl Registry {
    /// Makes the municipality's public entry equal `input`, writing only when
    /// something differs; the flag says whether it did.
    pub async fn municipality_sync(
        &self,
        intent: &Intent<'_>,
        input: &MunicipalityEntry,
    ) -> Result<(Written<entity::municipality::Model>, bool), WriteError> {
        let written = self.write(intent, input).await?;
        let changed = written.changed;
        Ok((written, changed))
    }
}

/// Declares the public method of the registry for each mutation.
macro_rules! mutations {
    ($($(#[$doc:meta])* $method:ident($input:ty) -> $object:ty;)*) => {
        impl Registry {$(
            $(#[$doc])*
            pub async fn $method(&self, intent: &Intent<'_>, input: &$input) -> Outcome<$object> {
                self.write(intent, input).await
            }
        )*}
    };
}

mutations! {
    municipality_update(MunicipalityUpdate) -> entity::municipality::Model;
    membership_change(MembershipChange) -> entity::municipality::Model;
    municipality_merge(MunicipalityMerge) -> entity::municipality::Model;
    role_assign(RoleAssign) -> entity::role::Model;
    cooperation_create(CooperationCreate) -> entity::cooperation::Model;
    cooperation_update(CooperationUpdate) -> entity::cooperation::Model;
    cooperation_members_set(CooperationMembersSet) -> entity::cooperation::Model;
    framework_contract_create(FrameworkContractCreate) -> entity::framework_contract::Model;
    framework_contract_update(FrameworkContractUpdate) -> entity::framework_contract::Model;
    framework_contract_parties_set(FrameworkContractPartiesSet) -> entity::framework_contract::Model;
    provider_create(ProviderCreate) -> entity::provider::Model;
    provider_update(ProviderUpdate) -> entity::provider::Model;
    care_form_create(CareFormCreate) -> entity::care_form::Model;
    care_form_update(CareFormUpdate) -> entity::care_form::Model;
}
