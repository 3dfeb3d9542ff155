//! Relay connections over the registry's pages: `first`/`after` in, edges
//! with opaque cursors and `totalCount` out.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{OutputType, Result, SimpleObject};

use crate::registry::{Page, PageRequest, RegistryError};

/// Extra fields on every connection.
#[derive(SimpleObject)]
pub struct ConnectionTotals {
    /// Number of items matching the query, over all pages.
    pub total_count: u64,
}

/// A Relay connection ordered by code; the cursor is opaque.
pub type CodeConnection<T> = Connection<OpaqueCursor<String>, T, ConnectionTotals>;

fn not_our_cursor() -> RegistryError {
    RegistryError::InvalidCursor {
        argument: "after",
        message: "after is not a cursor returned by this API; start again without after".to_owned(),
    }
}

/// The page a caller asks for, with `after` decoded to the key it wraps.
pub fn page_request(first: Option<i32>, after: Option<String>) -> Result<PageRequest> {
    let after = after
        .map(|cursor| OpaqueCursor::<String>::decode_cursor(&cursor).map(|c| c.0).map_err(|_| not_our_cursor()))
        .transpose()?;
    Ok(PageRequest::new(first, after)?)
}

/// The audit log pages by record id rather than by code.
pub fn after_id(request: &PageRequest) -> Result<Option<i32>> {
    Ok(request.after.as_deref().map(|a| a.parse::<i32>().map_err(|_| not_our_cursor())).transpose()?)
}

pub fn connection<M, T: OutputType>(
    page: Page<M>,
    request: &PageRequest,
    cursor: impl Fn(&M) -> String,
    wrap: impl Fn(M) -> T,
) -> CodeConnection<T> {
    let mut connection = Connection::with_additional_fields(
        request.after.is_some(),
        page.has_next_page,
        ConnectionTotals { total_count: page.total_count },
    );
    connection.edges = page.items.into_iter().map(|m| Edge::new(OpaqueCursor(cursor(&m)), wrap(m))).collect();
    connection
}
