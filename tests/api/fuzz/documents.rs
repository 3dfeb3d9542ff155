//! Generated GraphQL requests: documents taken from a corpus of valid ones
//! (the README's examples and more) and then broken token by token (deleted,
//! repeated, swapped, replaced, inserted), or built to strain the parser and
//! validator (deep nesting of selections, lists and input objects, thousands
//! of aliases or directives, fragment cycles, many operations, huge strings),
//! or made of root fields with generated arguments (`arguments.rs`), with
//! variables of any JSON shape, sent by POST (JSON with any
//! `Content-Type`, broken JSON, batches, multipart uploads) or by GET (with
//! URL parameters, encoded or not), with any `Accept`.

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Value, json};

use super::inputs::Who;

/// One generated HTTP request to `/graphql`.
#[derive(Debug, Clone)]
pub struct DocumentCase {
    pub caller: Who,
    pub accept: Option<&'static str>,
    pub transport: Transport,
    /// Extra headers: `X-Request-Id`, `If-None-Match`, `Accept-Encoding`, `Content-Encoding`.
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Clone)]
pub enum Transport {
    /// A POST of `body` with this `Content-Type` (none when `None`).
    Post { content_type: Option<&'static str>, body: Vec<u8> },
    /// A GET with this query string (already encoded, or deliberately not).
    Get { query_string: String },
}

impl std::fmt::Debug for Transport {
    /// The body as text (bytes that are not UTF-8 as U+FFFD), cut short when long.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Post { content_type, body } => f
                .debug_struct("Post")
                .field("content_type", content_type)
                .field("body", &super::cut(&String::from_utf8_lossy(body)))
                .finish(),
            Transport::Get { query_string } => {
                f.debug_struct("Get").field("query_string", &super::cut(query_string)).finish()
            }
        }
    }
}

pub fn document_case() -> impl Strategy<Value = DocumentCase> {
    (caller(), accept(), transport(), headers()).prop_map(|(caller, accept, transport, headers)| DocumentCase {
        caller,
        accept,
        transport,
        headers,
    })
}

fn caller() -> impl Strategy<Value = Who> {
    prop_oneof![
        6 => Just(Who::Anonymous),
        2 => Just(Who::Operator),
        1 => Just(Who::Municipality("GM0772")),
        1 => (0usize..4).prop_map(Who::BadToken),
    ]
}

/// Mostly what GraphQL clients send, so that most documents get to run; sometimes anything.
fn accept() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        6 => select(vec![None, Some("application/json"), Some("application/graphql-response+json"), Some("*/*")]),
        1 => select(ACCEPT.to_vec()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![6 => Just(Some("application/json")), 1 => select(CONTENT_TYPES.to_vec())]
}

const ACCEPT: &[Option<&str>] = &[
    None,
    None,
    Some("application/json"),
    Some("application/graphql-response+json"),
    Some("*/*"),
    Some("text/html"),
    Some("text/html, application/json"),
    Some("application/xml"),
    Some("application/json;q=0"),
    Some("application/graphql-response+json;q=0.5, application/json;q=0.9"),
    Some("application/json;q=NaN"),
    Some("application/json;q=-1, */*;q=1e999"),
    Some("application/*;q=0.1"),
    Some(";;;,,,"),
    Some("application/json; charset=latin1"),
];

const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    Some("application/json"),
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("APPLICATION/JSON"),
    Some("application/graphql-response+json"),
    None,
    Some(""),
    Some("text/plain"),
    Some("application/graphql"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=xyz"),
    Some("multipart/form-data"),
    Some("application/jsonx"),
];

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let header = prop_oneof![
        Just(("x-request-id", "fuzz-request".to_owned())),
        Just(("x-request-id", "x".repeat(2_000))),
        Just(("if-none-match", "W/\"0\"".to_owned())),
        Just(("if-none-match", "*".to_owned())),
        Just(("accept-encoding", "gzip".to_owned())),
        Just(("accept-encoding", "br;q=0, gzip;q=NaN".to_owned())),
        Just(("content-encoding", "gzip".to_owned())),
        "[ -~]{0,40}".prop_map(|value| ("x-request-id", value)),
    ];
    proptest::collection::vec(header, 0..3)
}

// ---------------------------------------------------------------------------
// Transports

fn transport() -> BoxedStrategy<Transport> {
    prop_oneof![
        6 => (content_type(), request_body())
            .prop_map(|(content_type, body)| Transport::Post { content_type, body: body.to_string().into_bytes() }),
        1 => (select(CONTENT_TYPES.to_vec()), raw_body())
            .prop_map(|(content_type, body)| Transport::Post { content_type, body }),
        // A URL of 64 KiB or more cannot even be sent (the `http` crate's limit).
        4 => get_parameters().prop_map(|mut query_string| {
            query_string.truncate(60_000);
            Transport::Get { query_string }
        }),
    ]
    .boxed()
}

/// The JSON body of a POST: `query`, `variables`, `operationName`, `extensions`, any of them odd.
fn request_body() -> impl Strategy<Value = Value> {
    let query = prop_oneof![12 => document().prop_map(Value::from), 1 => odd_json()];
    let operation_name = prop_oneof![
        6 => Just(None),
        2 => select(vec!["Q", "Q0", "Q1", "A", "", "Unknown"]).prop_map(|n| Some(json!(n))),
        1 => odd_json().prop_map(Some),
    ];
    (proptest::option::weighted(0.95, query), proptest::option::of(variables()), operation_name, extensions()).prop_map(
        |(query, variables, operation_name, extensions)| {
            let mut body = serde_json::Map::new();
            for (key, value) in [
                ("query", query),
                ("variables", variables),
                ("operationName", operation_name),
                ("extensions", extensions),
            ] {
                if let Some(value) = value {
                    body.insert(key.to_owned(), value);
                }
            }
            Value::Object(body)
        },
    )
}

/// Bodies that are not a GraphQL request: broken or odd JSON, batches, multipart uploads, bytes.
fn raw_body() -> BoxedStrategy<Vec<u8>> {
    let boundary = |parts: &[(&str, &str)]| {
        let mut body = String::new();
        for (disposition, content) in parts {
            body.push_str(&format!("--xyz\r\nContent-Disposition: form-data; {disposition}\r\n\r\n{content}\r\n"));
        }
        body.push_str("--xyz--\r\n");
        body.into_bytes()
    };
    let operations = r#"{"query":"mutation($f: String) { registryVersion }","variables":{"f":null}}"#;
    prop_oneof![
        4 => select(vec![
            "", "{", "}", "[]", "null", "0", "\"x\"", "{\"query\":}", "{\"query\":\"{ registryVersion }\"",
            r#"[{"query":"{ registryVersion }"},{"query":"{ coverage { from } }"}]"#,
            r#"{"query":"{ registryVersion }","query":"{ coverage { from } }"}"#,
            r#"{"query":"\ud800"}"#, r#"{"query":"{ registryVersion }", "variables": "{\"a\":1}"}"#,
            r#"{"query":"{ registryVersion }", "variables": 1e999}"#, "\u{FEFF}{\"query\":\"{ registryVersion }\"}",
            "query=%7B+registryVersion+%7D", "{ registryVersion }",
        ])
        .prop_map(|body| body.as_bytes().to_vec()),
        1 => select(vec![1usize, 200, 10_000]).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        1 => Just(vec![0xff, 0xfe, b'{', 0x80, b'}']),
        1 => Just(boundary(&[
            ("name=\"operations\"", operations),
            ("name=\"map\"", r#"{"0":["variables.f"]}"#),
            ("name=\"0\"; filename=\"a.txt\"", "hello"),
        ])),
        1 => Just(boundary(&[("name=\"operations\"", operations), ("name=\"map\"", r#"{"0":["variables.nope.x"]}"#)])),
        1 => Just(boundary(&[("name=\"map\"", "{")])),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ]
    .boxed()
}

/// A GET query string: the parameters URL-encoded, or deliberately broken.
fn get_parameters() -> BoxedStrategy<String> {
    let encoded = (
        proptest::option::weighted(0.95, document()),
        proptest::option::of(prop_oneof![4 => variables().prop_map(|v| v.to_string()), 1 => "\\PC{0,10}"]),
        proptest::option::weighted(0.2, select(vec!["Q", "Q0", "", "Unknown"])),
        proptest::option::weighted(0.2, extensions().prop_filter_map("no extensions", |e| e.map(|e| e.to_string()))),
    )
        .prop_map(|(query, variables, operation_name, extensions)| {
            let mut pairs = Vec::new();
            pairs.extend(query.map(|q| ("query", q)));
            pairs.extend(variables.map(|v| ("variables", v)));
            pairs.extend(operation_name.map(|n| ("operationName", n.to_owned())));
            pairs.extend(extensions.map(|e| ("extensions", e)));
            serde_urlencoded::to_string(pairs).expect("encode")
        });
    prop_oneof![
        8 => encoded,
        1 => select(vec![
            "", "query", "query=", "query=%ZZ", "query=%FF%FE", "&&&", "query=a&query=b", "query={registryVersion}",
            "query=%7B+registryVersion+%7D&variables=%7B", "operation_name=Q&query=query+Q+%7B+registryVersion+%7D",
            "query=%7B+registryVersion+%7D&extensions=%5B%5D", "query=%00",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// `extensions`: mostly none; persisted-query hashes, right-looking and not.
fn extensions() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        8 => Just(None),
        1 => "[0-9a-f]{64}".prop_map(|hash| Some(json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }))),
        1 => select(vec![
            json!({ "persistedQuery": { "version": 2, "sha256Hash": "abc" } }),
            json!({ "persistedQuery": { "version": 1 } }),
            json!({ "persistedQuery": null }),
            json!({ "persistedQuery": "x" }),
            json!({ "anything": [1, 2, 3] }),
            json!([]),
            json!("x"),
        ])
        .prop_map(Some),
    ]
}

/// Variables of any shape, under the names the corpus uses and others.
fn variables() -> impl Strategy<Value = Value> {
    let names = select(vec!["code", "asOf", "after", "d", "input", "first", "filter", "x", "v", ""]);
    prop_oneof![
        8 => proptest::collection::btree_map(names, variable_value(), 0..4)
            .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        1 => odd_json(),
    ]
}

fn variable_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        select(vec![
            json!("GM0772"),
            json!("JZ39"),
            json!("2025-06-01"),
            json!("1799-12-31"),
            json!("not a date"),
            json!(""),
            json!(1),
            json!(-1),
            json!(500),
            json!(100_000),
            json!(2_147_483_648_i64),
            json!(0.5),
            json!(true),
            Value::Null,
            json!("1"),
            json!("\u{0}"),
        ]),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// JSON of the wrong shape for where it is put.
fn odd_json() -> impl Strategy<Value = Value> {
    select(vec![
        Value::Null,
        json!(0),
        json!(true),
        json!("x"),
        json!([]),
        json!({}),
        json!([{ "query": "{ registryVersion }" }]),
        json!({ "query": "{ registryVersion }" }),
    ])
}

// ---------------------------------------------------------------------------
// Documents

/// Valid documents the others are made from.
fn corpus() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let mut documents: Vec<String> = crate::readme::graphql_blocks(&readme).into_iter().map(|(_, d)| d).collect();
    documents.extend(
        [
            "{ registryVersion }",
            "query Q($code: String!, $asOf: Date) { municipality(code: $code, asOf: $asOf) { code name region { code } } }",
            "query Q0 { coverage { from today } } query Q1 { registryVersion }",
            "{ regions(first: 500) { totalCount pageInfo { hasNextPage endCursor } nodes { code } } }",
            "query($after: String) { changes(after: $after, first: 5) { resumeCursor nodes { position code state } } }",
            "{ auditLog(first: 3) { totalCount nodes { actor subject changes { field old new } } } }",
            "{ node(id: \"TXVuaWNpcGFsaXR5OkdNMDc3Mg==\") { id ... on Municipality { code } } }",
            "{ viewer { kind municipalityCode } }",
            "fragment M on Municipality { code name } { a: municipality(code: \"GM0772\") { ...M } b: municipalityRecord(code: \"GM0951\") { ...M validTo } }",
            "{ __schema { queryType { name } types { name kind fields { name args { name } } } } }",
            "{ __type(name: \"Municipality\") { fields { name type { name ofType { name } } } } }",
            "query($d: Date!) { roles(asOf: $d, filter: { kind: LEAD_MUNICIPALITY }) { nodes { code holder { __typename } } } }",
            "{ careFor(municipalityCode: \"GM0772\", careFormCode: \"CRISIS\") { hasData message arrangements { function } } }",
            "{ frameworkContracts(filter: { activeOn: \"2025-06-01\" }) { nodes { code careForms { code } } } }",
            "{ municipalities(filter: { nameContains: \"%\" }, first: 2, after: \"bm90IGEgY3Vyc29y\") { nodes { code } } }",
            "mutation($input: MunicipalityUpdateInput!) { municipalityUpdate(input: $input) { userErrors { code } } }",
            "mutation { roleEnd(input: { code: \"RL00002\", expectedVersion: 1, validTo: \"2027-01-01\" }) { role { code } userErrors { code } } }",
            "mutation { careFormUpdate(input: { code: \"CRISIS\", expectedVersion: 1, nameEn: \"Crisis care\" }) { careForm { version } userErrors { code } } }",
            "subscription { registryChanged { position code } }",
            "subscription { a: registryChanged { position } b: registryChanged { code } }",
            "{ registryVersion @include(if: true) coverage @skip(if: false) { from } }",
        ]
        .map(str::to_owned),
    );
    documents
}

fn document() -> BoxedStrategy<String> {
    let corpus = corpus();
    prop_oneof![
        3 => select(corpus.clone()),
        6 => (select(corpus), proptest::collection::vec(edit(), 1..6)).prop_map(|(document, edits)| {
            let mut tokens = tokens(&document);
            for edit in edits {
                edit.apply(&mut tokens);
            }
            tokens.join(" ")
        }),
        3 => stress(),
        5 => super::arguments::query(),
        1 => "\\PC{0,80}".boxed(),
    ]
    .boxed()
}

/// A document's tokens: names, numbers, strings (simply delimited), punctuators.
fn tokens(document: &str) -> Vec<String> {
    let chars: Vec<char> = document.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() || c == ',' {
            i += 1;
            continue;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '-' {
            while i < chars.len() && (chars[i].is_alphanumeric() || "_-.".contains(chars[i])) {
                i += 1;
            }
        } else if chars[i..].starts_with(&['.', '.', '.']) {
            i += 3;
        } else {
            i += 1;
        }
        tokens.push(chars[start..i.min(chars.len())].iter().collect());
    }
    tokens
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(Index),
    Repeat(Index),
    Swap(Index, Index),
    Replace(Index, String),
    Insert(Index, String),
}

impl Edit {
    fn apply(self, tokens: &mut Vec<String>) {
        if tokens.is_empty() {
            if let Edit::Insert(_, token) | Edit::Replace(_, token) = self {
                tokens.push(token);
            }
            return;
        }
        let len = tokens.len();
        match self {
            Edit::Delete(at) => {
                tokens.remove(at.index(len));
            }
            Edit::Repeat(at) => {
                let at = at.index(len);
                tokens.insert(at, tokens[at].clone());
            }
            Edit::Swap(a, b) => tokens.swap(a.index(len), b.index(len)),
            Edit::Replace(at, token) => tokens[at.index(len)] = token,
            Edit::Insert(at, token) => tokens.insert(at.index(len + 1), token),
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<Index>().prop_map(Edit::Delete),
        any::<Index>().prop_map(Edit::Repeat),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<Index>(), token()).prop_map(|(at, token)| Edit::Replace(at, token)),
        (any::<Index>(), token()).prop_map(|(at, token)| Edit::Insert(at, token)),
    ]
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec![
            "{", "}", "(", ")", "[", "]", ":", "...", "$", "$x", "$code", "@", "@skip(if: true)", "@include(if: $x)",
            "@deprecated", "@unknown", "=", "|", "&", "!", "on", "fragment", "query", "mutation", "subscription",
            "__typename", "__schema", "__type(name: \"Query\")", "null", "true", "0", "-1", "1e999", "2147483648",
            "\"GM0772\"", "\"\"", "\"\\u0000\"", "\"\\uD800\"", "\"\"\"block\"\"\"", "\"\"\"", "\"", "#", "\n", ",",
            "\u{FEFF}", "\u{202E}", "é", "unknownField", "region", "municipality", "regions", "code", "asOf", "nodes",
            "first: 100000", "first: -1", "first: 500", "after: \"x\"", "asOf: \"1800-01-01\"", "asOf: \"2014-12-31\"",
            "... on Region { code }", "...F", "fragment F on Query { registryVersion }", "{ a: registryVersion }",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
    ]
}

/// Documents built to strain the parser, the validator and the cost model.
fn stress() -> BoxedStrategy<String> {
    let depth = select(vec![5usize, 17, 40, 100, 1_000, 5_000]);
    let count = select(vec![10usize, 100, 1_000, 5_000]);
    prop_oneof![
        depth.clone().prop_map(|n| format!("{}code{}", "{ regions { nodes { municipalities ".repeat(n / 3), " } } }".repeat(n / 3))),
        depth.clone().prop_map(|n| format!("{{ {}x{} }}", "a { ".repeat(n), " }".repeat(n))),
        depth.clone().prop_map(|n| format!("{{ region(code: {}\"JZ39\"{}) {{ code }} }}", "[".repeat(n), "]".repeat(n))),
        depth.clone().prop_map(|n| format!("{{ roles(filter: {}{}) {{ totalCount }} }}", "{a: ".repeat(n), "}".repeat(n))),
        depth.clone().prop_map(|n| {
            format!("query($v: {}String{}) {{ registryVersion }}", "[".repeat(n), "]".repeat(n))
        }),
        depth.prop_map(|n| {
            let mut document = "{ ...F0 }".to_owned();
            for i in 0..n {
                document.push_str(&format!(" fragment F{i} on Query {{ registryVersion ...F{} }}", i + 1));
            }
            document.push_str(&format!(" fragment F{n} on Query {{ coverage {{ from }} }}"));
            document
        }),
        count.clone().prop_map(|n| format!("{{ {} }}", (0..n).map(|i| format!("a{i}: registryVersion")).collect::<Vec<_>>().join(" "))),
        count.clone().prop_map(|n| {
            format!("{{ {} }}", (0..n).map(|i| format!("a{i}: regions(first: 500) {{ nodes {{ code }} }}")).collect::<Vec<_>>().join(" "))
        }),
        count.clone().prop_map(|n| format!("{{ registryVersion {} }}", "@include(if: true) ".repeat(n))),
        count.clone().prop_map(|n| (0..n).map(|i| format!("query Q{i} {{ registryVersion }}")).collect::<Vec<_>>().join(" ")),
        count.clone().prop_map(|n| {
            format!("query({}) {{ registryVersion }}", (0..n).map(|i| format!("$v{i}: Int")).collect::<Vec<_>>().join(", "))
        }),
        count.prop_map(|n| format!("mutation {{ {} }}", (0..n.min(1_000)).map(|i| {
            format!("m{i}: careFormUpdate(input: {{ code: \"CRISIS\", expectedVersion: {i}, nameEn: \"Crisis\" }}) {{ userErrors {{ code }} }}")
        }).collect::<Vec<_>>().join(" "))),
        Just("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned()),
        Just("fragment A on Query { ...A } { ...A }".to_owned()),
        Just("query($v: Foo, $w: Date = 1, $x: [Int!]! = [null]) { registryVersion }".to_owned()),
        select(vec![1_000usize, 100_000, 500_000])
            .prop_map(|n| format!("{{ municipality(code: \"{}\") {{ code }} }}", "A".repeat(n))),
        select(vec![1_000usize, 100_000]).prop_map(|n| format!("{}{{ registryVersion }}", "#\n".repeat(n))),
    ]
    .boxed()
}
