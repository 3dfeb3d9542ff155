//! Knowing which operation a request runs, after persisted queries have been
//! resolved: GET may only run queries (it must be safe to repeat, prefetch
//! and cache), and only query responses may be cached.

use std::any::TypeId;
use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use super::ErrorCode;

/// The message of the error a mutation over GET gets.
pub const NOT_OVER_GET: &str = "mutations and subscriptions are not allowed over GET; use POST";

/// Shared between the HTTP handler and the executor for one request.
#[derive(Debug, Default)]
pub struct RequestMeta {
    pub via_get: bool,
    /// The type of the operation that ran, once known.
    pub operation: OnceLock<OperationType>,
    /// The name of the operation that ran, when it has one (for the request log).
    pub operation_name: OnceLock<String>,
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
        Arc::new(OperationGuardExtension::default())
    }
}

#[derive(Default)]
struct OperationGuardExtension {
    /// The response keys of the operation's root fields, in the order asked.
    root_order: OnceLock<Vec<String>>,
    /// Why a request with a valid document cannot run: it names no operation
    /// of the document, or it is a subscription over HTTP. The executor finds
    /// that out after validation and says it without a code; this extension
    /// says it at the same point, with `BAD_REQUEST`.
    bad_request: OnceLock<String>,
}

/// The message of the error a subscription over HTTP gets.
const SUBSCRIPTIONS_OVER_WEBSOCKET: &str =
    "subscriptions run over WebSocket at /graphql/ws (graphql-transport-ws), not over HTTP";

/// Why the executor will find no operation to run for `name`.
fn no_operation(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("the document has no operation named {name:?} (operationName)"),
        None => "the document has several operations: name the one to run in operationName".to_owned(),
    }
}

/// The operation a request runs, as the executor picks it: `None` when the
/// executor will refuse it (no such operation, or several without a name).
fn operation<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a OperationDefinition> {
    named_operation(document, name).map(|(_, op)| op)
}

/// [`operation`] with its name (an anonymous operation has none).
pub(super) fn named_operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(Option<&'a str>, &'a OperationDefinition)> {
    match (&document.operations, name) {
        // One anonymous operation: the executor runs it only when the request names none.
        (DocumentOperations::Single(operation), None) => Some((None, &operation.node)),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get_key_value(name).map(|(name, op)| (Some(name.as_str()), &op.node))
        }
        // One named operation sent without its name: the executor runs it.
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.iter().next().map(|(name, op)| (Some(name.as_str()), &op.node))
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// A required variable (non-null, without a default) that the request does
/// not give is a request error (GraphQL, "Coercing Variable Values"): the
/// executor would otherwise only notice it at the field that uses it.
fn missing_variables(operation: &OperationDefinition, variables: &Variables) -> ServerResult<()> {
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let given = variables.get(&definition.name.node).is_some_and(|value| *value != Value::Null);
        if !definition.var_type.node.nullable && definition.default_value.is_none() && !given {
            let message = format!(
                "variable ${} of type {} is required and was not given",
                definition.name.node, definition.var_type.node
            );
            return Err(ErrorCode::BadUserInput.server_error(message));
        }
    }
    Ok(())
}

/// Response keys (alias or name) of a selection set, fragments spread in
/// place, each once, in the order they first appear. False when fragments
/// nest deeper than it follows, so that `keys` may miss some.
pub(super) fn response_keys(
    document: &ExecutableDocument,
    selection_set: &SelectionSet,
    keys: &mut Vec<String>,
    depth: usize,
) -> bool {
    // Fragment cycles are refused by validation later; do not follow them here.
    if depth > 16 {
        return false;
    }
    let mut complete = true;
    for item in &selection_set.items {
        complete &= match &item.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.to_string();
                if !keys.contains(&key) {
                    keys.push(key);
                }
                true
            }
            Selection::InlineFragment(fragment) => {
                response_keys(document, &fragment.node.selection_set.node, keys, depth + 1)
            }
            Selection::FragmentSpread(spread) => match document.fragments.get(&spread.node.fragment_name.node) {
                Some(fragment) => response_keys(document, &fragment.node.selection_set.node, keys, depth + 1),
                None => true,
            },
        };
    }
    complete
}

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
        let mut request = next.run(ctx, request).await.map_err(|error| {
            // The persisted-query extension's own errors, with the codes Apollo clients look for.
            let code = if error.message == "PersistedQueryNotFound" {
                ErrorCode::PersistedQueryNotFound
            } else {
                ErrorCode::BadRequest
            };
            code.unless_coded(error)
        })?;
        let operation_name = request.operation_name.clone();
        let variables = request.variables.clone();
        let mut query = false;
        if let Ok(document) = request.parsed_query() {
            super::nul::refuse_nul(document, &variables)?;
            match operation(document, operation_name.as_deref()) {
                Some(operation) => {
                    query = operation.ty == OperationType::Query;
                    missing_variables(operation, &variables)?;
                    let mut keys = Vec::new();
                    // Keys beyond the depth followed keep the executor's order.
                    let _ = response_keys(document, &operation.selection_set.node, &mut keys, 0);
                    let _ = self.root_order.set(keys);
                }
                None => {
                    let _ = self.bad_request.set(no_operation(operation_name.as_deref()));
                }
            }
        }
        if query {
            request = super::context::pin_snapshot(ctx, request);
        }
        let Some(meta) = meta else { return Ok(request) };
        let operation_name = request.operation_name.clone();
        // Parsed once here; the executor reuses the parsed document.
        let Ok(document) = request.parsed_query() else {
            return Ok(request); // the executor reports the syntax error
        };
        let chosen = named_operation(document, operation_name.as_deref());
        let operation = chosen.map(|(_, op)| op.ty);
        let refused = meta.via_get && operation.map_or_else(|| writes(document), |ty| ty != OperationType::Query);
        if let Some((name, op)) = chosen {
            let _ = meta.operation.set(op.ty);
            if let Some(name) = name {
                let _ = meta.operation_name.set(name.to_owned());
            }
        }
        if refused {
            return Err(ErrorCode::MethodNotAllowed.server_error(NOT_OVER_GET));
        }
        // Requests over WebSocket carry no `RequestMeta`: this one came over HTTP.
        if operation == Some(OperationType::Subscription) {
            let _ = self.bad_request.set(SUBSCRIPTIONS_OVER_WEBSOCKET.to_owned());
        }
        Ok(request)
    }

    /// Syntax errors get `GRAPHQL_PARSE_FAILED`. Then the specification's
    /// "Single root field" rule, which the executor does not check: one
    /// subscription is one stream, so that the subscription limits count what
    /// a client really holds (a thousand aliased roots would otherwise be a
    /// thousand streams).
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document =
            next.run(ctx, query, variables).await.map_err(|e| ErrorCode::GraphqlParseFailed.unless_coded(e))?;
        for (_, operation) in document.operations.iter().filter(|(_, op)| op.node.ty == OperationType::Subscription) {
            let mut roots = Vec::new();
            let complete = response_keys(&document, &operation.node.selection_set.node, &mut roots, 0);
            if roots.len() != 1 || !complete {
                return Err(ErrorCode::GraphqlValidationFailed
                    .server_error("a subscription operation must have exactly one root field"));
            }
        }
        Ok(document)
    }

    /// Errors of the specification's validation rules (and of the depth
    /// limit) get `GRAPHQL_VALIDATION_FAILED`; the cost check's keep theirs.
    /// A valid document without the operation the request names, or a
    /// subscription over HTTP, is a `BAD_REQUEST`.
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors.into_iter().map(|error| ErrorCode::GraphqlValidationFailed.unless_coded(error)).collect::<Vec<_>>()
        })?;
        match self.bad_request.get() {
            Some(message) => Err(vec![ErrorCode::BadRequest.server_error(message.clone())]),
            None => Ok(result),
        }
    }

    /// The root objects are merged from several parts, which collect their
    /// fields part by part; the specification wants the order of the query.
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if let (Some(order), Value::Object(fields)) = (self.root_order.get(), &mut response.data) {
            fields.sort_by_cached_key(|key, _| order.iter().position(|k| k == key.as_str()).unwrap_or(usize::MAX));
        }
        response
    }
}
