//! Generated queries: every root field of the schema that takes arguments,
//! with each argument left out or given any value (codes real and not,
//! dates at and past the edges, page sizes and cursors in and out of range,
//! enum values and strings in their place, filters partly given), a few
//! fields per document, with relations that take `asOf` of their own.

use proptest::prelude::*;
use proptest::sample::select;

/// What an argument takes.
#[derive(Clone)]
enum Kind {
    Code,
    Date,
    Int,
    Cursor,
    Enum(&'static [&'static str]),
    DateTime,
    /// An input object with these fields.
    Object(Vec<(&'static str, Kind)>),
    List(Box<Kind>),
}

/// A root field, its arguments and what is selected from it.
struct Field {
    name: &'static str,
    arguments: Vec<(&'static str, Kind)>,
    selection: &'static str,
}

const SCALES: &[&str] = &["SUBREGIONAL", "REGIONAL", "BIREGIONAL", "SUPRAREGIONAL", "NATIONAL"];
const ROLE_KINDS: &[&str] = &["ACCOUNT_HOLDER", "LEAD_MUNICIPALITY", "CONTRACT_MANAGER"];
const OBJECT_TYPES: &[&str] = &["MUNICIPALITY", "REGION", "COOPERATION", "ROLE", "FRAMEWORK_CONTRACT"];

fn fields() -> Vec<Field> {
    use Kind::*;
    // A list's arguments: a page, a date and a filter with these fields.
    let paged = |filter: Vec<(&'static str, Kind)>| {
        vec![("first", Int), ("after", Cursor), ("asOf", Date), ("filter", Object(filter))]
    };
    vec![
        Field {
            name: "region",
            arguments: vec![("code", Code), ("asOf", Date)],
            selection: "{ code name municipalities { code } cooperations { code } roles { code } names { name } }",
        },
        Field {
            name: "regions",
            arguments: paged(vec![("nameContains", Code)]),
            selection: "{ totalCount pageInfo { hasNextPage endCursor } nodes { code } }",
        },
        Field {
            name: "municipality",
            arguments: vec![("code", Code), ("asOf", Date)],
            selection: "{ code name region { code } names { name validFrom } regionHistory { validFrom validTo } \
                        successors { kind } predecessors { kind } rolesHeld { code } cooperations(asOf: \"2015-01-01\") { code } }",
        },
        Field {
            name: "municipalityRecord",
            arguments: vec![("code", Code)],
            selection: "{ code validFrom validTo region { code } }",
        },
        Field {
            name: "municipalities",
            arguments: paged(vec![("regionCode", Code), ("provinceCode", Code), ("nameContains", Code)]),
            selection: "{ totalCount nodes { code } }",
        },
        Field {
            name: "cooperation",
            arguments: vec![("code", Code), ("asOf", Date)],
            selection: "{ code memberMunicipalities { code } memberRegions { code } memberships { validFrom } \
                        careArrangements { function } parts { code } }",
        },
        Field {
            name: "cooperations",
            arguments: paged(vec![
                ("scale", Enum(SCALES)),
                ("regionCode", Code),
                ("municipalityCode", Code),
                ("nameContains", Code),
            ]),
            selection: "{ totalCount nodes { code } }",
        },
        Field { name: "role", arguments: vec![("code", Code), ("asOf", Date)], selection: "{ code kind validTo }" },
        Field {
            name: "roles",
            arguments: paged(vec![
                ("kind", Enum(ROLE_KINDS)),
                ("holderCode", Code),
                ("regionCode", Code),
                ("cooperationCode", Code),
                ("careFormCode", Code),
                ("providerCode", Code),
            ]),
            selection: "{ totalCount nodes { code holder { __typename } } }",
        },
        Field {
            name: "frameworkContract",
            arguments: vec![("code", Code), ("asOf", Date)],
            selection: "{ code partyRegions { code } careForms { code } }",
        },
        Field {
            name: "frameworkContracts",
            arguments: paged(vec![
                ("scale", Enum(SCALES)),
                ("careFormCode", Code),
                ("partyRegionCode", Code),
                ("activeOn", Date),
            ]),
            selection: "{ totalCount nodes { code } }",
        },
        Field {
            name: "careForm",
            arguments: vec![("code", Code), ("asOf", Date)],
            selection: "{ code arrangements { function } frameworkContracts { code } roles { code } }",
        },
        Field { name: "careForms", arguments: vec![("asOf", Date)], selection: "{ code }" },
        Field {
            name: "careFor",
            arguments: vec![("municipalityCode", Code), ("careFormCode", Code), ("asOf", Date)],
            selection: "{ hasData message region { code } arrangements { function scale } }",
        },
        Field { name: "province", arguments: vec![("code", Code)], selection: "{ code name }" },
        Field { name: "provider", arguments: vec![("code", Code), ("asOf", Date)], selection: "{ code name }" },
        Field {
            name: "providers",
            arguments: paged(vec![("nameContains", Code)]),
            selection: "{ totalCount nodes { code } }",
        },
        Field {
            name: "auditLog",
            arguments: vec![
                ("first", Int),
                ("after", Cursor),
                ("filter", Object(vec![("objectCode", Code), ("actor", Code), ("from", DateTime), ("to", DateTime)])),
            ],
            selection: "{ totalCount nodes { actor objectCode } }",
        },
        Field { name: "node", arguments: vec![("id", Cursor), ("asOf", Date)], selection: "{ id }" },
        Field {
            name: "changes",
            arguments: vec![
                ("first", Int),
                ("after", Cursor),
                (
                    "filter",
                    Object(vec![
                        ("objectTypes", List(Box::new(Enum(OBJECT_TYPES)))),
                        ("codes", List(Box::new(Code))),
                        ("regionCode", Code),
                    ]),
                ),
            ],
            selection: "{ totalCount resumeCursor nodes { position code } }",
        },
    ]
}

/// A query of one to three root fields with generated arguments.
pub fn query() -> BoxedStrategy<String> {
    let fields: Vec<BoxedStrategy<String>> = fields().into_iter().map(field).collect();
    proptest::collection::vec(proptest::strategy::Union::new(fields), 1..4)
        .prop_map(|fields| {
            let aliased: Vec<String> = fields.iter().enumerate().map(|(i, f)| format!("a{i}: {f}")).collect();
            format!("{{ {} }}", aliased.join(" "))
        })
        .boxed()
}

fn field(field: Field) -> BoxedStrategy<String> {
    let (name, selection) = (field.name, field.selection);
    arguments(field.arguments)
        .prop_map(move |arguments| match arguments {
            Some(arguments) => format!("{name}({arguments}) {selection}"),
            None => format!("{name} {selection}"),
        })
        .boxed()
}

/// `a: 1, b: "x"`, each argument given or left out; `None` when none is given.
fn arguments(arguments: Vec<(&'static str, Kind)>) -> BoxedStrategy<Option<String>> {
    let values: Vec<BoxedStrategy<Option<String>>> = arguments
        .into_iter()
        .map(|(name, kind)| {
            proptest::option::weighted(0.7, value(kind)).prop_map(move |v| v.map(|v| format!("{name}: {v}"))).boxed()
        })
        .collect();
    values
        .prop_map(|given| {
            let given: Vec<String> = given.into_iter().flatten().collect();
            (!given.is_empty()).then(|| given.join(", "))
        })
        .boxed()
}

fn value(kind: Kind) -> BoxedStrategy<String> {
    let strings = |values: &[&str]| select(values.iter().map(|v| v.to_string()).collect::<Vec<_>>());
    let wrong = strings(&["null", "1", "true", "\"\"", "[]", "{}", "FOO"]);
    match kind {
        Kind::Code => prop_oneof![
            6 => strings(&[
                "\"GM0772\"", "\"GM0951\"", "\"JZ39\"", "\"JZ40\"", "\"PV30\"", "\"SAMEN-VOOR-JEUGD\"", "\"JENS\"",
                "\"CRISIS\"", "\"RL00001\"", "\"BJ-BRABANT\"", "\"VNG-GENDERKLINIEKEN\"", "\"OPERATOR\"", "\"%\"",
                "\"_\"", "\"%_\\\\\"", "\"'\"", "\"\\u0000\"", "\"eindhoven\"", "\"ÉÏ\"",
            ]),
            1 => "[a-zA-Z0-9 %_-]{0,12}".prop_map(|s| format!("{s:?}")),
            1 => Just(format!("\"{}\"", "x".repeat(100_000))),
            1 => wrong,
        ]
        .boxed(),
        Kind::Date => prop_oneof![
            4 => strings(&[
                "\"2015-01-01\"", "\"2014-12-31\"", "\"2025-06-01\"", "\"2200-12-31\"", "\"1800-01-01\"", "\"2019-12-31\"",
                "\"2026-02-29\"", "\"2024-02-29\"", "\"+10000-01-01\"", "\"2025-6-1\"",
            ]),
            2 => (1800i32..=2200, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("\"{y:04}-{m:02}-{d:02}\"")),
            1 => wrong,
        ]
        .boxed(),
        Kind::Int => prop_oneof![
            4 => strings(&["0", "1", "2", "50", "500", "501", "-1", "2147483647", "-2147483648", "2147483648", "1e3", "1.5"]),
            1 => wrong,
        ]
        .boxed(),
        Kind::Cursor => prop_oneof![
            4 => strings(&[
                "\"0\"", "\"1\"", "\"-1\"", "\"99999999999999999999\"", "\"9223372036854775807\"", "\"\"", "\"GM0772\"",
                "\"YXJyYXljb25uZWN0aW9uOjA=\"", "\"TXVuaWNpcGFsaXR5OkdNMDc3Mg==\"", "\"UmVnaW9uOkpaMzk=\"", "\"Um9sZTo=\"",
                "\"Og==\"", "\"////\"", "\"=\"", "\"TXVuaWNpcGFsaXR5OkdNMDc3Mg\"",
            ]),
            2 => "[A-Za-z0-9+/=:]{0,24}".prop_map(|s| format!("{s:?}")),
            1 => wrong,
        ]
        .boxed(),
        Kind::Enum(valid) => prop_oneof![6 => strings(valid), 1 => strings(&["\"REGIONAL\"", "regional"]), 1 => wrong]
            .boxed(),
        Kind::DateTime => prop_oneof![
            4 => strings(&[
                "\"2025-01-01T00:00:00Z\"", "\"2025-01-01T00:00:00+14:00\"", "\"2025-01-01\"", "\"1970-01-01T00:00:00Z\"",
                "\"+275760-09-13T00:00:00Z\"", "\"-271821-04-20T00:00:00Z\"", "\"9999-12-31T23:59:59.999999999-14:00\"",
                "\"2200-12-31T23:59:59Z\"", "\"1800-01-01T00:00:00Z\"", "\"x\"",
            ]),
            1 => wrong,
        ]
        .boxed(),
        Kind::Object(fields) => prop_oneof![
            6 => arguments(fields).prop_map(|inside| format!("{{ {} }}", inside.unwrap_or_default())),
            1 => wrong,
        ]
        .boxed(),
        Kind::List(item) => prop_oneof![
            12 => proptest::collection::vec(value(*item), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            1 => select(vec![501usize, 40_000, 70_000]).prop_map(|n| {
                format!("[{}]", (0..n).map(|i| format!("\"GM{i:04}\"")).collect::<Vec<_>>().join(","))
            }),
            2 => wrong,
        ]
        .boxed(),
    }
}
