//! `schema.graphql` at the top of the repository is the SDL printed from the
//! code (regenerate it with `cargo run -- print-schema > schema.graphql`),
//! and the test helpers build valid documents for every mutation in it.

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, DocumentOperations, Selection, SelectionSet, Type, TypeKind};
use async_graphql::parser::types::{OperationType, TypeSystemDefinition};

use crate::helpers::mutation_document;

#[test]
fn schema_graphql_is_up_to_date() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the top of the repository");
    assert!(
        committed == jeugdregio::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- print-schema > schema.graphql` and commit it"
    );
}

/// Object type name -> field name -> (field type, argument name -> argument type).
type Fields = HashMap<String, HashMap<String, (Type, HashMap<String, String>)>>;

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// Every field of `selection` exists on `type_name`, all the way down.
fn check_selection(fields: &Fields, type_name: &str, selection: &SelectionSet, document: &str) {
    for item in &selection.items {
        let Selection::Field(field) = &item.node else { panic!("only fields in {document}") };
        let name = field.node.name.node.as_str();
        let (ty, _) = fields[type_name].get(name).unwrap_or_else(|| panic!("{type_name} has no {name}: {document}"));
        check_selection(fields, named(ty), &field.node.selection_set.node, document);
    }
}

/// `mutation_document(name)` (what `caller.mutate(name, input)` sends) asks
/// for the right input type and only for fields the payload has, for every
/// mutation of the schema; a new mutation fails here until the helpers know it.
#[test]
fn the_mutation_helper_builds_a_valid_document_for_every_mutation() {
    let schema = async_graphql::parser::parse_schema(jeugdregio::graphql::sdl()).expect("the SDL parses");
    let mut fields = Fields::new();
    for definition in schema.definitions {
        if let TypeSystemDefinition::Type(ty) = definition
            && let TypeKind::Object(object) = ty.node.kind
        {
            let by_name = object.fields.into_iter().map(|field| {
                let arguments = field.node.arguments.iter();
                let arguments = arguments.map(|a| (a.node.name.node.to_string(), a.node.ty.node.to_string())).collect();
                (field.node.name.node.to_string(), (field.node.ty.node, arguments))
            });
            fields.insert(ty.node.name.node.to_string(), by_name.collect());
        }
    }
    let mutations = &fields["MutationRoot"];
    assert_eq!(mutations.len(), 18, "{:?}", mutations.keys());
    for (mutation, (_, arguments)) in mutations {
        let document = mutation_document(mutation);
        let parsed = async_graphql::parser::parse_query(&document).expect("the document parses");
        let DocumentOperations::Single(operation) = parsed.operations else { panic!("one operation: {document}") };
        assert_eq!(operation.node.ty, OperationType::Mutation);
        let variable = &operation.node.variable_definitions[0].node;
        assert_eq!(Some(&variable.var_type.node.to_string()), arguments.get("input"), "{document}");
        check_selection(&fields, "MutationRoot", &operation.node.selection_set.node, &document);
    }
}
