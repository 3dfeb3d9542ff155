//! U+0000 in a request. PostgreSQL text cannot hold it, so no code or text of
//! the registry contains it, and a string with one would only reach the
//! database to fail there: an internal error instead of an answer, and on
//! PostgreSQL only. So a request with one in any string, in the document or
//! in its variables, is refused before it runs, on either database alike.

use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, ServerError, Value as ConstValue, Variables};

use super::ErrorCode;

/// Whether a literal of the document has U+0000 (its variables stand for nothing here).
macro_rules! literal_has_nul {
    ($value:expr) => {
        $value
            .clone()
            .into_const_with(|_| Ok::<_, std::convert::Infallible>(ConstValue::Null))
            .is_ok_and(|v| nul_in(&v))
    };
}

/// `BAD_USER_INPUT` when a string of the request contains U+0000.
pub fn refuse_nul(document: &ExecutableDocument, variables: &Variables) -> Result<(), ServerError> {
    let in_document = document.operations.iter().any(|(_, operation)| {
        let operation = &operation.node;
        operation.variable_definitions.iter().any(|v| v.node.default_value.as_ref().is_some_and(|d| nul_in(&d.node)))
            || directives_have_nul(&operation.directives)
            || selection_has_nul(&operation.selection_set.node)
    }) || document.fragments.values().any(|fragment| {
        directives_have_nul(&fragment.node.directives) || selection_has_nul(&fragment.node.selection_set.node)
    });
    if in_document || variables.values().any(nul_in) {
        let message = "a string of the request contains U+0000 (NUL), which no code or text can hold";
        return Err(ErrorCode::BadUserInput.server_error(message));
    }
    Ok(())
}

fn selection_has_nul(selection_set: &SelectionSet) -> bool {
    selection_set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            field.node.arguments.iter().any(|(_, value)| literal_has_nul!(value.node))
                || directives_have_nul(&field.node.directives)
                || selection_has_nul(&field.node.selection_set.node)
        }
        Selection::FragmentSpread(spread) => directives_have_nul(&spread.node.directives),
        Selection::InlineFragment(fragment) => {
            directives_have_nul(&fragment.node.directives) || selection_has_nul(&fragment.node.selection_set.node)
        }
    })
}

fn directives_have_nul(directives: &[Positioned<Directive>]) -> bool {
    directives.iter().any(|d| d.node.arguments.iter().any(|(_, value)| literal_has_nul!(value.node)))
}

fn nul_in(value: &ConstValue) -> bool {
    match value {
        ConstValue::String(text) => text.contains('\0'),
        ConstValue::List(items) => items.iter().any(nul_in),
        ConstValue::Object(fields) => fields.iter().any(|(name, value)| name.contains('\0') || nul_in(value)),
        _ => false,
    }
}
