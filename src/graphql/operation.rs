//! Knowing which operation a request runs, after persisted queries have been
//! resolved: GET may only run queries (it must be safe to repeat, prefetch
//! and cache), and only query responses may be cached.

use std::any::TypeId;
use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Request, ServerResult};

/// The message of the error a mutation over GET gets.
pub const NOT_OVER_GET: &str = "mutations and subscriptions are not allowed over GET; use POST";

/// Shared between the HTTP handler and the executor for one request.
#[derive(Debug, Default)]
pub struct RequestMeta {
    pub via_get: bool,
    /// The type of the operation that ran, once known.
    pub operation: OnceLock<OperationType>,
}

/// The type of the operation a document runs; `None` when the executor will
/// refuse it anyway (no such operation, or several without a name).
fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation.node.ty),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name).map(|op| op.node.ty),
        // One named operation sent without its name: the executor runs it.
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

fn writes(document: &ExecutableDocument) -> bool {
    match &document.operations {
        DocumentOperations::Single(operation) => operation.node.ty != OperationType::Query,
        DocumentOperations::Multiple(operations) => operations.values().any(|op| op.node.ty != OperationType::Query),
    }
}

/// Registers [`OperationGuardExtension`]; put it before the persisted-query extension.
pub struct OperationGuard;

impl ExtensionFactory for OperationGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationGuardExtension)
    }
}

struct OperationGuardExtension;

#[async_trait::async_trait]
impl Extension for OperationGuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let meta = request
            .data
            .get(&TypeId::of::<Arc<RequestMeta>>())
            .and_then(|data| data.downcast_ref::<Arc<RequestMeta>>())
            .cloned();
        // Resolves an automatic persisted query first, so a stored mutation
        // cannot be run through GET by its hash.
        let mut request = next.run(ctx, request).await?;
        let Some(meta) = meta else { return Ok(request) };
        let operation_name = request.operation_name.clone();
        // Parsed once here; the executor reuses the parsed document.
        let Ok(document) = request.parsed_query() else {
            return Ok(request); // the executor reports the syntax error
        };
        let operation = operation_type(document, operation_name.as_deref());
        let refused = meta.via_get && operation.map_or_else(|| writes(document), |ty| ty != OperationType::Query);
        if let Some(ty) = operation {
            let _ = meta.operation.set(ty);
        }
        if refused {
            return Err(super::ErrorCode::MethodNotAllowed.server_error(NOT_OVER_GET));
        }
        Ok(request)
    }
}
