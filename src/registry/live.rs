//! Live changes for subscribers. One listener per service instance reads
//! each committed change once and fans it out to every subscriber from
//! memory, so an idle subscriber costs no database statement and ten
//! thousand of them cost what one does. The listener is woken at once by this
//! instance's commits and, on PostgreSQL, by other instances' through
//! `LISTEN`/`NOTIFY` on [`COMMIT_CHANNEL`]. It also looks at the feed every
//! [`OTHER_INSTANCES_POLL`] (one statement, whatever the number of
//! subscribers), so a lost notification (or SQLite, which has none) costs at
//! most that long. What it reads also moves the registry version the
//! response cache and ETags are keyed on.
//!
//! A subscriber joins the fan-out *before* it catches up from the database:
//! whatever the listener sends afterwards is newer than what the listener had
//! read, and the catch-up reads everything the database holds, so together
//! they miss nothing; what both deliver is skipped by position.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use entity::change_event;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{broadcast, watch};

use super::feed::{ChangeFilter, read_changes};
use super::{Page, Registry, RegistryError};
use crate::db::Db;

/// How soon a subscriber learns of a change committed through another instance.
pub const OTHER_INSTANCES_POLL: Duration = Duration::from_secs(1);
/// The PostgreSQL channel each commit is announced on (no payload: a listener
/// reads the feed from its own position).
pub(super) const COMMIT_CHANNEL: &str = "jeugdregio_commits";
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
    db: Db,
    sender: broadcast::Sender<LiveChange>,
    known_head: Arc<AtomicI64>,
    mut commits: watch::Receiver<i64>,
) {
    let saw_head = |head: i64| known_head.fetch_max(head, Ordering::AcqRel);
    let mut notifications = commit_notifications(db.connection()).await;
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
            _ = next_notification(&mut notifications) => {}
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

/// Listens for other instances' commits (PostgreSQL only).
async fn commit_notifications(db: &DatabaseConnection) -> Option<PgListener> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return None;
    }
    let listening = async {
        let mut listener = PgListener::connect_with(db.get_postgres_connection_pool()).await?;
        listener.listen(COMMIT_CHANNEL).await?;
        Ok::<_, sea_orm::sqlx::Error>(listener)
    };
    listening
        .await
        .inspect_err(|error| {
            tracing::warn!(?error, "cannot LISTEN for other instances' commits; they are seen within a second")
        })
        .ok()
}

/// The next notification; never, without a listener. On a failure the
/// listener is dropped and the once-a-second look carries on alone.
async fn next_notification(notifications: &mut Option<PgListener>) {
    let Some(listener) = notifications else { return std::future::pending().await };
    // `Ok(None)`: the connection was lost; the next call reconnects.
    if let Err(error) = listener.try_recv().await {
        tracing::warn!(?error, "lost LISTEN for other instances' commits; they are seen within a second");
        *notifications = None;
    }
}
