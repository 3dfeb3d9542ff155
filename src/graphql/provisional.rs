//! Marks an answer for a date that has not come yet: it is today's registry
//! plus the changes already decided, and may still change. The first field
//! that reads such a date sets the mark (`context::or_today`/`as_of`); the
//! response then carries `extensions.provisional`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest};
use async_graphql::{Name, Request, Response, ServerResult, Value};

/// Set when a field of this request answered for a date after today.
#[derive(Default)]
pub struct ProvisionalMark(AtomicBool);

impl ProvisionalMark {
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The factory the schema is built with: one mark per request.
pub struct ProvisionalAnswers;

impl ExtensionFactory for ProvisionalAnswers {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MarkInResponse(Arc::new(ProvisionalMark::default())))
    }
}

struct MarkInResponse(Arc<ProvisionalMark>);

#[async_trait::async_trait]
impl Extension for MarkInResponse {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(self.0.clone())).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if self.0.0.load(Ordering::Relaxed) {
            let today = crate::registry::today().to_string();
            let message = format!(
                "asOf is after today ({today}): the answer is today's registry plus changes already decided, and may still change"
            );
            let mark = [(Name::new("today"), Value::from(today)), (Name::new("message"), Value::from(message))];
            response.extensions.insert("provisional".to_owned(), Value::Object(mark.into_iter().collect()));
        }
        response
    }
}
