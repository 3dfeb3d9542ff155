//! Every ```graphql example of README.md runs against a fresh service, so the
//! README cannot drift from what the service does: queries anonymously,
//! mutations as the operator, each on its own copy of the seeded registry
//! (the examples assume it, e.g. `expectedVersion: 1`).

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The ```graphql blocks of `markdown`, each with the line its fence opens on.
pub(crate) fn graphql_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        match open.as_mut() {
            None if line.trim() == "```graphql" => open = Some((index + 1, String::new())),
            None => {}
            Some(_) if line.trim() == "```" => blocks.extend(open.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(open.is_none(), "a ```graphql block of README.md is not closed");
    blocks
}

/// What is wrong with the answer to a block: errors, no data, or a mutation
/// payload with user errors.
fn problem(body: &Value) -> Option<String> {
    if body.get("errors").is_some() {
        return Some(format!("errors: {}", body["errors"]));
    }
    let Some(data) = body["data"].as_object().filter(|data| !data.is_empty()) else {
        return Some(format!("no data: {body}"));
    };
    let refused: Vec<String> = data
        .iter()
        .filter(|(_, payload)| payload["userErrors"].as_array().is_some_and(|errors| !errors.is_empty()))
        .map(|(field, payload)| format!("{field}: userErrors {}", payload["userErrors"]))
        .collect();
    (!refused.is_empty()).then(|| refused.join("; "))
}

#[tokio::test]
async fn every_graphql_example_of_the_readme_runs_without_errors() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let blocks = graphql_blocks(&readme);
    assert!(blocks.len() >= 8, "found only {} ```graphql blocks in README.md", blocks.len());
    let mut failures = Vec::new();
    for (line, document) in &blocks {
        let app = TestApp::spawn().await;
        let caller = match document.split_whitespace().next() {
            Some("mutation") => app.as_operator(),
            Some(word) if word == "{" || word.starts_with("query") => app.anonymous(),
            _ => panic!("README.md line {line}: only queries and mutations can run here:\n{document}"),
        };
        let body = caller.post(document, json!({})).await;
        if let Some(problem) = problem(&body) {
            failures.push(format!("README.md line {line}: {problem}\n{document}"));
        }
    }
    assert!(failures.is_empty(), "README examples that fail:\n\n{}", failures.join("\n"));
}

#[test]
fn blocks_are_found_with_their_lines() {
    let markdown = "intro\n```graphql\n{ a }\n```\ntext\n```sh\nls\n```\n```graphql\nmutation {\n  b\n}\n```\n";
    assert_eq!(graphql_blocks(markdown), vec![(2, "{ a }\n".to_owned()), (9, "mutation {\n  b\n}\n".to_owned())]);
}

/// docs/operations.md lists every setting of `jeugdregio serve`, with its
/// environment variable, so an operator never has to read the code.
#[test]
fn the_operations_guide_lists_every_flag_and_variable_of_serve() {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["serve", "--help"])
        .output()
        .expect("jeugdregio serve --help");
    let help = String::from_utf8(help.stdout).unwrap();
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md")).unwrap();
    let mut flags = 0;
    for word in help.split(|c: char| c.is_whitespace() || c == '[' || c == ']' || c == ',') {
        let flag = word.starts_with("--") && word != "--help";
        let variable =
            word.starts_with("env:") || (word.starts_with("JEUGDREGIO_") || word.starts_with("DATABASE_URL"));
        let name = word.trim_start_matches("env:").trim_end_matches('=');
        if (flag || variable) && !name.is_empty() {
            flags += usize::from(flag);
            assert!(guide.contains(&format!("`{name}`")), "docs/operations.md does not list `{name}`");
        }
    }
    assert!(flags > 20, "read {flags} flags from --help");
}
