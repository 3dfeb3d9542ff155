//! `schema.graphql` at the top of the repository is the SDL printed from the
//! code. Regenerate it with `cargo run -- print-schema > schema.graphql`.

#[test]
fn schema_graphql_is_up_to_date() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the top of the repository");
    assert!(
        committed == jeugdregio::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- print-schema > schema.graphql` and commit it"
    );
}
