//! The change feed over GraphQL: `changes` (poll with a cursor),
//! `registryVersion` (has anything changed?) and the `registryChanged`
//! subscription (the same changes, live, after a catch-up from a cursor).

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Json, Object, Result, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};

use super::ErrorCode;
use super::context::registry;
use crate::registry::{self, Page, PageRequest, Registry};
use entity::change_event;

/// The kinds of objects the feed reports.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Municipality,
    Region,
    Cooperation,
    Role,
    FrameworkContract,
    CareForm,
    Provider,
}

impl From<ObjectType> for registry::ObjectType {
    fn from(t: ObjectType) -> Self {
        match t {
            ObjectType::Municipality => Self::Municipality,
            ObjectType::Region => Self::Region,
            ObjectType::Cooperation => Self::Cooperation,
            ObjectType::Role => Self::Role,
            ObjectType::FrameworkContract => Self::FrameworkContract,
            ObjectType::CareForm => Self::CareForm,
            ObjectType::Provider => Self::Provider,
        }
    }
}

impl ObjectType {
    /// The feed never reports provinces (they are not written through the API).
    fn of(t: registry::ObjectType) -> Option<Self> {
        Some(match t {
            registry::ObjectType::Municipality => Self::Municipality,
            registry::ObjectType::Region => Self::Region,
            registry::ObjectType::Cooperation => Self::Cooperation,
            registry::ObjectType::Role => Self::Role,
            registry::ObjectType::FrameworkContract => Self::FrameworkContract,
            registry::ObjectType::CareForm => Self::CareForm,
            registry::ObjectType::Provider => Self::Provider,
            registry::ObjectType::Province => return None,
        })
    }
}

/// What a change did to its object.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::registry::ChangeOperation")]
pub enum ChangeOperation {
    Created,
    Updated,
    /// Its validity was ended (`validTo` set).
    Ended,
    Deleted,
}

/// Which changes you want.
#[derive(InputObject, Default, Clone)]
pub struct ChangeFilter {
    pub object_types: Option<Vec<ObjectType>>,
    /// Only changes of the objects with these codes.
    pub codes: Option<Vec<String>>,
    /// Only changes of objects that concern this region (its municipalities,
    /// cooperations with members in it, roles for it, contracts it is party to).
    pub region_code: Option<String>,
}

impl From<ChangeFilter> for registry::ChangeFilter {
    fn from(f: ChangeFilter) -> Self {
        registry::ChangeFilter {
            object_types: f.object_types.map(|types| types.into_iter().map(Into::into).collect()),
            codes: f.codes,
            region_code: f.region_code,
        }
    }
}

/// One committed change, at its position in the feed.
pub struct Change(pub change_event::Model);

/// Extra fields of the change connection.
#[derive(SimpleObject)]
pub struct ChangeConnectionFields {
    /// Number of changes matching the filter, over all pages.
    pub total_count: u64,
    /// Where to resume next time: the last change's cursor, or on an empty
    /// page the `after` you sent. Store this one, never a null `endCursor`.
    pub resume_cursor: String,
}

/// Changes as a Relay connection whose cursors are feed positions.
pub type ChangeConnection = Connection<String, Change, ChangeConnectionFields>;

fn change_connection(page: Page<change_event::Model>, after: i64) -> ChangeConnection {
    let resume = page.items.last().map_or(after, |c| c.position);
    let mut connection = Connection::with_additional_fields(
        after > 0,
        page.has_next_page,
        ChangeConnectionFields { total_count: page.total_count, resume_cursor: resume.to_string() },
    );
    connection.edges = page.items.into_iter().map(|c| Edge::new(c.position.to_string(), Change(c))).collect();
    connection
}

#[Object(serial)]
impl Change {
    /// Position in the feed: gap-free and strictly increasing.
    async fn position(&self) -> i64 {
        self.0.position
    }
    /// Resume point: pass it as `after` to get the changes after this one.
    async fn cursor(&self) -> String {
        self.0.position.to_string()
    }
    async fn committed_at(&self) -> DateTime<Utc> {
        self.0.committed_at
    }
    async fn object_type(&self) -> Option<ObjectType> {
        registry::ObjectType::parse(&self.0.object_type).and_then(ObjectType::of)
    }
    /// The object's code.
    async fn code(&self) -> &str {
        &self.0.object_code
    }
    async fn operation(&self) -> ChangeOperation {
        registry::ChangeOperation::parse(&self.0.operation).unwrap_or(registry::ChangeOperation::Updated).into()
    }
    /// The object's version after the change.
    async fn version(&self) -> Option<i32> {
        self.0.version
    }
    /// The object's public state after the change, in the API's own terms: the schema's field names
    /// (`validTo`, `accessPoint { phone }`) and codes for related objects (`"province": "PV30"`,
    /// `"holder": "GM0772"`, `"partyRegions": ["JZ39"]`), never internal ids. A municipality also
    /// carries `regions`, its region memberships (`region`, `validFrom`, `validTo`), oldest first; a
    /// cooperation its open-ended `memberMunicipalities` and `memberRegions`; a framework contract its
    /// `partyRegions`, `careForms` and `providers`. Null when deleted.
    async fn state(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.state).unwrap_or_default())
    }
}

#[derive(Default)]
pub struct ChangesQuery;

#[Object(serial)]
impl ChangesQuery {
    /// Everything that changed after `after`, oldest first. Keep the `cursor` of the
    /// last change you processed and pass it as `after` next time: you will see
    /// every change exactly once, in order. Without `after` you start at the
    /// beginning; after reading the whole registry, start from the `registryVersion`
    /// you read it at. `totalCount` counts all changes matching the filter.
    #[graphql(complexity = "crate::graphql::cost::page(child_complexity, first)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChangeFilter>,
        #[graphql(desc = "Page size: default 50, at most 500.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last change you processed, or a registryVersion.")] after: Option<String>,
    ) -> Result<ChangeConnection> {
        let after = match after.as_deref() {
            Some(cursor) => registry(ctx).feed_position("after", cursor).await?,
            None => 0,
        };
        let request = PageRequest::new(first, None)?;
        let page = registry(ctx).changes(&filter.unwrap_or_default().into(), after, request.first, true).await?;
        Ok(change_connection(page, after))
    }

    /// The position of the last committed change: a cheap "has anything changed?" check.
    async fn registry_version(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(registry(ctx).registry_version().await?)
    }
}

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Each change, after its transaction commits, in feed order. With `after`
    /// (a change cursor or a registryVersion) you first receive what you missed
    /// since then; without it, changes from now on.
    async fn registry_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChangeFilter>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Change>>> {
        let registry = registry(ctx).clone();
        // Join the fan-out before reading, so nothing committed meanwhile is missed.
        let live = registry.live_changes();
        let position = match after.as_deref() {
            Some(cursor) => registry.feed_position("after", cursor).await?,
            None => registry.registry_version().await?,
        };
        let permits = ctx.data_unchecked::<SubscriptionLimits>().admit(ctx)?;
        Ok(follow(registry, filter.unwrap_or_default().into(), live, position, permits))
    }
}

/// The changes after `position` as they commit: first a catch-up from the
/// database in batches, then live from the instance's fan-out (see
/// `registry/live.rs`); a subscriber that falls too far behind catches up
/// from the database again. Idle, it costs no statement.
fn follow(
    registry: Registry,
    filter: registry::ChangeFilter,
    mut live: broadcast::Receiver<registry::LiveChange>,
    mut position: i64,
    permits: SubscriptionPermits,
) -> impl Stream<Item = Result<Change>> {
    async_stream::stream! {
        let _permits = permits; // held while the subscription lives
        loop {
            // Catch up from the database until it has nothing newer.
            loop {
                let page = match registry.catch_up(&filter, position).await {
                    Ok(page) => page,
                    Err(error) => {
                        // Tell the client, so it reconnects with its last cursor instead of believing it is done.
                        yield Err(error.into());
                        return;
                    }
                };
                for change in page.items {
                    position = change.position;
                    yield Ok(Change(change));
                }
                if !page.has_next_page {
                    break;
                }
            }
            loop {
                match live.recv().await {
                    Ok(change) if change.position <= position => {}
                    Ok(change) => {
                        position = change.position;
                        if filter.matches(&change) {
                            yield Ok(Change((*change).clone()));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}

/// Caps on live subscriptions: in total per instance, and per WebSocket connection.
#[derive(Clone)]
pub struct SubscriptionLimits {
    total: Arc<Semaphore>,
    /// The permits `total` started with.
    max: usize,
    pub per_connection: usize,
}

/// The subscriptions still allowed on one WebSocket connection.
#[derive(Clone)]
pub struct ConnectionSubscriptions(pub Arc<Semaphore>);

/// Held by a live subscription; returned when it ends.
pub struct SubscriptionPermits {
    _total: OwnedSemaphorePermit,
    _connection: Option<OwnedSemaphorePermit>,
}

impl SubscriptionLimits {
    pub fn new(total: usize, per_connection: usize) -> Self {
        Self { total: Arc::new(Semaphore::new(total)), max: total, per_connection }
    }

    /// Live subscriptions of the instance now.
    pub fn open(&self) -> usize {
        self.max.saturating_sub(self.total.available_permits())
    }

    /// A new connection's budget.
    pub fn connection(&self) -> ConnectionSubscriptions {
        ConnectionSubscriptions(Arc::new(Semaphore::new(self.per_connection)))
    }

    fn admit(&self, ctx: &Context<'_>) -> Result<SubscriptionPermits> {
        let refused = |message: &str| ErrorCode::SubscriptionLimitExceeded.error(message.to_owned());
        let connection = match ctx.data_opt::<ConnectionSubscriptions>() {
            Some(budget) => Some(budget.0.clone().try_acquire_owned().map_err(|_| {
                refused("this connection has as many subscriptions as one connection may; end one or open another connection")
            })?),
            None => None,
        };
        let total = self
            .total
            .clone()
            .try_acquire_owned()
            .map_err(|_| refused("the service has as many subscriptions as it takes; retry later"))?;
        Ok(SubscriptionPermits { _total: total, _connection: connection })
    }
}
