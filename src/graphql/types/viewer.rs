use async_graphql::{Context, Enum, Object, Result};

use super::Municipality;
use crate::auth::Actor;
use crate::graphql::context::registry;
use crate::registry::today;

/// What kind of caller the token made you.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewerKind {
    /// No token: read-only.
    Anonymous,
    /// Acting for a municipality.
    Municipality,
    /// The registry operator.
    Operator,
}

/// Who the caller is.
pub struct Viewer(pub Actor);

#[Object(serial)]
impl Viewer {
    async fn kind(&self) -> ViewerKind {
        match self.0 {
            Actor::Anonymous => ViewerKind::Anonymous,
            Actor::Municipality { .. } => ViewerKind::Municipality,
            Actor::Operator { .. } => ViewerKind::Operator,
        }
    }
    /// The token's `sub`; null when anonymous.
    async fn subject(&self) -> Option<&str> {
        Some(self.0.subject()).filter(|s| !s.is_empty())
    }
    /// The CBS code of the municipality the caller acts for.
    async fn municipality_code(&self) -> Option<&str> {
        match &self.0 {
            Actor::Municipality { code, .. } => Some(code),
            _ => None,
        }
    }
    /// The municipality the caller acts for.
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Municipality>> {
        let Actor::Municipality { code, .. } = &self.0 else { return Ok(None) };
        Ok(super::find::<Municipality>(registry(ctx), code, today()).await?)
    }
}
