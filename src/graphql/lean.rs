//! Running a request on the lean schema: the same types, without extensions.
//!
//! async-graphql calls every extension on every field, and with any extension
//! at all it also looks up the field's type by name and boxes one future per
//! extension per field. `perf` showed that as more than half of the CPU of an
//! executed portal query, where the extensions work per request. So the
//! schema with extensions (the guarded schema) parses, checks, validates and
//! prices every request, and then runs it on the lean schema (`cost.rs`),
//! which resolves fields without hooks.
//!
//! What the per-field hook did for such a query is done per relation
//! instead: every relation loaded charges its rows times the fields selected
//! on them to the request's result budget (`cost::ResultBudget`), which also
//! looks at the clock,
//! so the result budget and the deadline still stop a query that does no I/O.
//! What the per-relation charge cannot see the whole of runs guarded:
//! introspection (those lists are async-graphql's own), requests with more
//! root fields than may resolve at once, and subscriptions.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Value, Variables};

use super::cost::ROOT_FIELDS_AT_ONCE;
use super::operation::{named_operation, response_keys};

/// What the lean schema needs of a request the guarded schema has prepared.
pub struct LeanRequest {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Variables,
    pub document: ExecutableDocument,
}

/// Whether the operation `name` of `document` may run lean: a query or a
/// mutation whose every list is charged per relation.
pub fn runs_lean(document: &ExecutableDocument, name: Option<&str>) -> bool {
    let Some((_, operation)) = named_operation(document, name) else { return false };
    if operation.ty == OperationType::Subscription {
        return false;
    }
    let mut roots = Vec::new();
    // Root fields hidden deeper than it follows could be any number.
    let counted = response_keys(document, &operation.selection_set.node, &mut roots, 0);
    let introspects = selects_introspection(&operation.selection_set.node, 0)
        || document.fragments.values().any(|fragment| selects_introspection(&fragment.node.selection_set.node, 0));
    counted && roots.len() <= ROOT_FIELDS_AT_ONCE && !introspects
}

/// `__schema`, `__type` or any other introspection field but `__typename`,
/// at any depth (fragments spread elsewhere are checked on their own). A
/// selection nested deeper than async-graphql accepts counts as one: it will
/// be refused anyway, and this need not follow it.
fn selects_introspection(selection_set: &SelectionSet, depth: usize) -> bool {
    depth > 64
        || selection_set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                (name.starts_with("__") && name != "__typename")
                    || selects_introspection(&field.node.selection_set.node, depth + 1)
            }
            Selection::InlineFragment(fragment) => selects_introspection(&fragment.node.selection_set.node, depth + 1),
            Selection::FragmentSpread(_) => false,
        })
}

/// The fields of an answer: every entry of every object and every item of
/// every list, as the per-field count of the guarded schema counts them.
pub fn fields_in(value: &Value) -> usize {
    match value {
        Value::Object(fields) => fields.values().map(|value| 1 + fields_in(value)).sum(),
        Value::List(items) => items.iter().map(|item| 1 + fields_in(item)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lean(query: &str) -> bool {
        let document = async_graphql::parser::parse_query(query).expect("a valid document");
        runs_lean(&document, None)
    }

    #[test]
    fn queries_and_mutations_run_lean_unless_the_hooks_are_needed() {
        assert!(lean("{ regions { nodes { code __typename municipalities { code } } } }"));
        assert!(lean("mutation { a: regionUpdate(input: {}) { region { code } } }"));
        assert!(lean("{ a: regions { totalCount } b: regions { totalCount } }"));
        assert!(!lean("{ a: regions { totalCount } b: regions { totalCount } c: regions { totalCount } }"));
        assert!(!lean("{ regions { totalCount } __schema { types { name } } }"));
        assert!(!lean("{ regions { nodes { ... on Region { __type(name: \"Region\") { name } } } } }"));
        assert!(!lean("{ ...f } fragment f on Query { __schema { queryType { name } } }"));
        assert!(!lean("subscription { registryChanged { version } }"));
        assert!(!lean("query a { regions { totalCount } } query b { regions { totalCount } }"));
        let nested = format!("{{ {} a: regions {{ totalCount }} {} }}", "... { ".repeat(17), "} ".repeat(17));
        assert!(!lean(&nested), "root fields nested deeper than counted");
        let shallow = format!("{{ {} a: regions {{ totalCount }} {} }}", "... { ".repeat(3), "} ".repeat(3));
        assert!(lean(&shallow));
    }

    #[test]
    fn an_answer_counts_its_entries_and_items() {
        let answer = async_graphql::value!({ "regions": { "nodes": [{ "code": "JZ01" }, { "code": "JZ02" }] } });
        assert_eq!(fields_in(&answer), 6);
    }
}
