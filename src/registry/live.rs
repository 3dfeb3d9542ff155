//! Live changes for subscribers. One listener per service instance reads
//! each committed change once and fans it out to every subscriber from
//! memory, so an idle subscriber costs no database statement and ten
//! thousand of them cost what one does. The listener is woken at once by this
//! instance's commits and looks for other instances' commits every
//! [`OTHER_INSTANCES_POLL`] (one statement, whatever the number of subscribers).
//!
//! A subscriber joins the fan-out *before* it catches up from the database:
//! whatever the listener sends afterwards is newer than what the listener had
//! read, and the catch-up reads everything the database holds, so together
//! they miss nothing; what both deliver is skipped by position.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use entity::change_event;
use sea_orm::DatabaseConnection;
use tokio::sync::{broadcast, watch};

use super::feed::{ChangeFilter, read_changes};
use super::{Page, Registry, RegistryError};

/// How soon a subscriber learns of a change committed through another instance.
pub const OTHER_INSTANCES_POLL: Duration = Duration::from_secs(1);
/// Changes kept for subscribers that fall behind; one further behind catches up from the database.
const FAN_OUT_BUFFER: usize = 1024;
/// Changes read per statement.
const BATCH: u64 = 200;

pub type LiveChange = Arc<change_event::Model>;

/// The fan-out of one instance.
pub(super) fn channel() -> broadcast::Sender<LiveChange> {
    broadcast::channel(FAN_OUT_BUFFER).0
}

impl Registry {
    /// Starts this instance's listener. It ends when the registry is dropped.
    pub fn start_live_listener(&self) {
        // Not a clone of the registry: that would hold the commit sender, and
        // the listener would outlive the registry.
        let known_head = self.known_head.clone();
        tokio::spawn(listen(self.db.clone(), self.live.clone(), known_head, self.watch_feed()));
    }

    /// Changes as they commit, from the moment of the call.
    pub fn live_changes(&self) -> broadcast::Receiver<LiveChange> {
        self.live.subscribe()
    }

    /// One batch of changes after `after` that pass `filter`.
    pub async fn catch_up(
        &self,
        filter: &ChangeFilter,
        after: i64,
    ) -> Result<Page<change_event::Model>, RegistryError> {
        read_changes(&self.db, filter, after, BATCH, false).await
    }
}

async fn listen(
    db: DatabaseConnection,
    sender: broadcast::Sender<LiveChange>,
    known_head: Arc<AtomicI64>,
    mut commits: watch::Receiver<i64>,
) {
    let saw_head = |head: i64| known_head.fetch_max(head, Ordering::AcqRel);
    let mut position = loop {
        match super::feed::head(&db).await {
            Ok(head) => break head,
            Err(error) => {
                tracing::error!(?error, "the live-change listener cannot read the feed head; it retries");
                tokio::time::sleep(OTHER_INSTANCES_POLL).await;
            }
        }
    };
    saw_head(position);
    loop {
        tokio::select! {
            changed = commits.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(OTHER_INSTANCES_POLL) => {}
        }
        loop {
            match read_changes(&db, &ChangeFilter::default(), position, BATCH, false).await {
                Ok(page) => {
                    for change in page.items {
                        position = change.position;
                        // No receiver is fine: no one is subscribed now.
                        let _ = sender.send(Arc::new(change));
                    }
                    saw_head(position);
                    if !page.has_next_page {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(?error, "the live-change listener could not read the feed; it retries");
                    break;
                }
            }
        }
    }
}
