//! Generated input for every mutation of `schema.graphql`: each field drawn
//! from plausible values (the seed's real codes, new codes), wrong ones (codes
//! of another kind or form, unknown codes), text that breaks the text rules
//! (empty, too long, control, bidirectional and zero-width characters,
//! stacked combining marks, emoji), web addresses good and bad, dates at and
//! past the edges of 1800-01-01 to 2200-12-31 and strings that are no date,
//! versions that are current, stale, negative or too large for an `Int`, and
//! any field sent as null, left out, or as a value of the wrong JSON type.
//!
//! `expectedVersion` is generated as `{"$version": d}`: the runner replaces
//! it with the object's version at the time the case runs plus `d`, so that
//! most updates can be accepted however many cases ran before.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

/// Who sends a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Anonymous,
    /// One of `helpers::bad_authorizations()`, by index.
    BadToken(usize),
    Operator,
    Municipality(&'static str),
}

/// One generated mutation request.
#[derive(Clone)]
pub struct MutationCase {
    pub mutation: &'static str,
    pub caller: Who,
    pub input: Value,
    /// Sent as a literal in the document instead of as the `$input` variable.
    pub inline: bool,
}

impl std::fmt::Debug for MutationCase {
    /// The input as JSON, cut short when long.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutationCase")
            .field("mutation", &self.mutation)
            .field("caller", &self.caller)
            .field("input", &super::cut(&self.input.to_string()))
            .field("inline", &self.inline)
            .finish()
    }
}

/// A table whose rows a mutation changes, and the input field naming the row.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub table: &'static str,
    pub code_field: &'static str,
}

/// A mutation, the row it changes, and how to generate each field of its input.
pub struct Spec {
    pub name: &'static str,
    pub target: Option<Target>,
    fields: fn(Mode) -> Vec<Field>,
}

impl Spec {
    /// The names of the input fields this spec generates.
    pub fn field_names(&self) -> Vec<&'static str> {
        (self.fields)(Mode::Wild).into_iter().map(|(name, _)| name).collect()
    }
}

/// How odd an input may be. Plausible input (well-formed values of the right
/// type, real codes, current versions) gets past validation often enough to
/// reach the steps that write, and the rules checked there (overlaps, bounds,
/// races with earlier cases); wild input tries everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plausible,
    Wild,
}

/// `plausible`, and in wild mode now and then `wild` instead.
fn either(mode: Mode, plausible: BoxedStrategy<Value>, wild: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    match mode {
        Mode::Plausible => plausible,
        Mode::Wild => prop_oneof![3 => plausible, 2 => wild].boxed(),
    }
}

type Field = (&'static str, BoxedStrategy<Option<Value>>);

const fn target(table: &'static str, code_field: &'static str) -> Option<Target> {
    Some(Target { table, code_field })
}

/// Every mutation of the schema (a test compares this list, and each input's
/// fields, with `schema.graphql`).
pub const SPECS: &[Spec] = &[
    Spec { name: "municipalityUpdate", target: target("municipality", "code"), fields: municipality_update },
    Spec { name: "municipalitySync", target: target("municipality", "code"), fields: municipality_sync },
    Spec { name: "roleAssign", target: None, fields: role_assign },
    Spec { name: "roleEnd", target: target("role", "code"), fields: |m| end(m, role_code(m)) },
    Spec { name: "cooperationCreate", target: target("cooperation", "code"), fields: cooperation_create },
    Spec { name: "cooperationUpdate", target: target("cooperation", "code"), fields: cooperation_update },
    Spec { name: "cooperationEnd", target: target("cooperation", "code"), fields: |m| end(m, cooperation_code(m)) },
    Spec { name: "cooperationMembersSet", target: target("cooperation", "code"), fields: cooperation_members_set },
    Spec { name: "frameworkContractCreate", target: target("framework_contract", "code"), fields: contract_create },
    Spec { name: "frameworkContractUpdate", target: target("framework_contract", "code"), fields: contract_update },
    Spec {
        name: "frameworkContractEnd",
        target: target("framework_contract", "code"),
        fields: |m| end(m, contract_code(m)),
    },
    Spec {
        name: "frameworkContractPartiesSet",
        target: target("framework_contract", "code"),
        fields: contract_parties_set,
    },
    Spec { name: "membershipChange", target: target("municipality", "municipalityCode"), fields: membership_change },
    Spec { name: "municipalityMerge", target: target("municipality", "successorCode"), fields: municipality_merge },
    Spec { name: "providerCreate", target: target("provider", "code"), fields: provider_create },
    Spec { name: "providerUpdate", target: target("provider", "code"), fields: provider_update },
    Spec { name: "careFormCreate", target: target("care_form", "code"), fields: care_form_create },
    Spec { name: "careFormUpdate", target: target("care_form", "code"), fields: care_form_update },
];

pub fn spec(mutation: &str) -> &'static Spec {
    SPECS.iter().find(|spec| spec.name == mutation).unwrap_or_else(|| panic!("no spec for {mutation}"))
}

/// A mutation of any kind, by any caller, with generated input.
pub fn mutation_case() -> impl Strategy<Value = MutationCase> {
    let per_mutation: Vec<(u32, BoxedStrategy<(&'static str, Value)>)> = SPECS
        .iter()
        .flat_map(|spec| [(2, Mode::Plausible), (1, Mode::Wild)].map(|(weight, mode)| (weight, spec, mode)))
        .map(|(weight, spec, mode)| {
            (weight, object((spec.fields)(mode)).prop_map(move |input| (spec.name, input)).boxed())
        })
        .collect();
    (proptest::strategy::Union::new_weighted(per_mutation), caller(), proptest::bool::weighted(0.15))
        .prop_map(|((mutation, input), caller, inline)| MutationCase { mutation, caller, input, inline })
}

fn caller() -> impl Strategy<Value = Who> {
    prop_oneof![
        6 => Just(Who::Operator),
        // Eindhoven leads Samen voor Jeugd and more; Roermond leads the JeugdzorgPlus cooperation of
        // Landsdeel Zuidoost; Best, Amsterdam and Groningen lead nothing of the seed.
        3 => select(vec!["GM0772", "GM0957", "GM0753", "GM0363", "GM0014"]).prop_map(Who::Municipality),
        1 => Just(Who::Anonymous),
        1 => (0usize..4).prop_map(Who::BadToken),
    ]
}

/// An input object: each field present with a value, null, or left out, as its strategy says.
fn object(fields: Vec<Field>) -> BoxedStrategy<Value> {
    let (names, values): (Vec<&'static str>, Vec<_>) = fields.into_iter().unzip();
    values
        .prop_map(move |values| {
            let fields = names.iter().zip(values).filter_map(|(name, value)| Some((name.to_string(), value?)));
            Value::Object(fields.collect::<Map<_, _>>())
        })
        .boxed()
}

// ---------------------------------------------------------------------------
// Presence: how a field is sent

/// A required field: given, and in wild mode sometimes null, left out or of the wrong type.
fn required(mode: Mode, value: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Option<Value>> {
    if mode == Mode::Plausible {
        return value.prop_map(Some).boxed();
    }
    prop_oneof![
        24 => value.prop_map(Some),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => wrong_type().prop_map(Some),
    ]
    .boxed()
}

/// An optional field: often left out, sometimes null (which clears), in wild mode of the wrong type.
fn optional(mode: Mode, value: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Option<Value>> {
    if mode == Mode::Plausible {
        return prop_oneof![8 => value.prop_map(Some), 6 => Just(None), 1 => Just(Some(Value::Null))].boxed();
    }
    prop_oneof![
        8 => value.prop_map(Some),
        6 => Just(None),
        2 => Just(Some(Value::Null)),
        1 => wrong_type().prop_map(Some),
    ]
    .boxed()
}

fn wrong_type() -> impl Strategy<Value = Value> {
    select(vec![
        json!(0),
        json!(-1),
        json!(2_147_483_648_i64),
        json!(1.5),
        json!(1e300),
        json!(true),
        json!([]),
        json!({}),
        json!(["GM0772"]),
        json!({ "code": "GM0772" }),
        json!([[["deep"]]]),
    ])
}

fn strings(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!(v)).collect()
}

// ---------------------------------------------------------------------------
// Codes

/// Codes of no kind at all, or of the wrong form.
fn odd_code() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => select(strings(&[
            "", " ", "GM0772 ", " GM0772", "gm0772", "GM077", "GM07720", "GM-772", "GM０７７２", "JZ39", "JZ", "JZ3",
            "RL00001", "SAMEN-VOOR-JEUGD", "samen-voor-jeugd", "-LEADING", "A", "OPERATOR", "NULL", "%", "_", "*",
            "'; DROP TABLE role; --", "GM0772\u{0}", "GM0772\n", "GM\u{202E}2770", "\u{200B}GM0772",
        ])),
        1 => (1usize..4).prop_map(|n| json!("A".repeat([0, 65, 300, 70_000][n]))),
        1 => "\\PC{0,12}".prop_map(Value::from),
    ]
    .boxed()
}

/// Municipalities that exist (Eindhoven, Best, Amsterdam, Roermond, Geldrop-Mierlo, Groningen),
/// ended ones (Nuth, Landerd), a successor of a merger (Beekdaelen), new CBS codes, and odd ones.
fn municipality_code(mode: Mode) -> BoxedStrategy<Value> {
    let plausible = select(strings(&[
        "GM0772", "GM0753", "GM0363", "GM0957", "GM1771", "GM0014", "GM1954", "GM0951", "GM1685", "GM0034",
    ]));
    let wild = prop_oneof![Just(json!("GM0000")), new_municipality_code(), odd_code()];
    either(mode, plausible.boxed(), wild.boxed())
}

/// A CBS code no municipality of the seed has, for the successor of a merger.
fn new_municipality_code() -> BoxedStrategy<Value> {
    (9900u32..10000).prop_map(|n| json!(format!("GM{n}"))).boxed()
}

fn region_code(mode: Mode) -> BoxedStrategy<Value> {
    // JZ40 is the one code between JZ01 and JZ43 that names no region.
    let plausible = select(strings(&["JZ39", "JZ01", "JZ41", "JZ42", "JZ43", "JZ20"]));
    either(mode, plausible.boxed(), prop_oneof![select(strings(&["JZ00", "JZ40", "JZ44", "JZ99"])), odd_code()].boxed())
}

/// A registry code: one of the seed's `known`, a new one (mostly, when `fresh`), or an odd one.
fn registry_code(mode: Mode, known: &'static [&'static str], fresh: bool) -> BoxedStrategy<Value> {
    let (known_weight, new_weight) = if fresh { (1, 4) } else { (6, 1) };
    let plausible = prop_oneof![
        known_weight => select(strings(known)),
        new_weight => "FUZZ-[A-Z0-9]{1,3}".prop_map(Value::from),
    ];
    either(mode, plausible.boxed(), odd_code())
}

const COOPERATIONS: &[&str] = &[
    "SAMEN-VOOR-JEUGD",
    "JENS",
    "21-VOOR-DE-JEUGD",
    "EEN-10-VOOR-DE-JEUGD",
    "KEMPENGEMEENTEN",
    "JEUGDZORGPLUS-LANDSDEEL-ZUIDOOST",
    "JEUGDHULP-ZUID-LIMBURG",
    "HELMOND-DE-PEEL",
];
const CARE_FORMS: &[&str] = &["CRISIS", "JEUGDZORGPLUS", "JEUGDBESCHERMING", "JEUGDRECLASSERING", "GENDERKLINIEK"];
const PROVIDERS: &[&str] = &["BJ-BRABANT", "JEUGD-VEILIG-VERDER", "COMBINATIE-JEUGDZORG"];
const CONTRACTS: &[&str] = &[
    "VNG-ORTHOPSYCHIATRIE",
    "VNG-GENDERKLINIEKEN",
    "VNG-INTRAMURALE-GEZINSBEHANDELING",
    "GELDERLAND-JEUGDBESCHERMING",
];

fn cooperation_code(mode: Mode) -> BoxedStrategy<Value> {
    registry_code(mode, COOPERATIONS, false)
}

fn care_form_code(mode: Mode) -> BoxedStrategy<Value> {
    registry_code(mode, CARE_FORMS, false)
}

fn provider_code(mode: Mode) -> BoxedStrategy<Value> {
    registry_code(mode, PROVIDERS, false)
}

fn contract_code(mode: Mode) -> BoxedStrategy<Value> {
    registry_code(mode, CONTRACTS, false)
}

/// The seed's roles (RL00001-RL00015), ones fuzzing made, ones that do not exist.
fn role_code(mode: Mode) -> BoxedStrategy<Value> {
    let plausible = (1u32..40).prop_map(|n| json!(format!("RL{n:05}")));
    let wild = prop_oneof![select(strings(&["RL00000", "RL99999", "RL1", "rl00001"])), odd_code()];
    either(mode, plausible.boxed(), wild.boxed())
}

/// A list of codes: a few (with repeats and unknown ones), none, or a very long one.
fn codes(mode: Mode, code: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let plausible = proptest::collection::vec(code, 0..5).prop_map(Value::Array);
    let long = select(vec![501usize, 1_000, 40_000, 70_000])
        .prop_map(|n| Value::Array((0..n).map(|i| json!(format!("GM{i:04}"))).collect()));
    match mode {
        Mode::Plausible => plausible.boxed(),
        Mode::Wild => prop_oneof![12 => plausible, 1 => long].boxed(),
    }
}

// ---------------------------------------------------------------------------
// Values

/// Text of every kind: names, text the rules refuse, long text, anything printable.
fn text(mode: Mode) -> BoxedStrategy<Value> {
    let plausible = select(strings(&[
        "Toegang Jeugd",
        "'s-Hertogenbosch",
        "Nuenen, Gerwen en Nederwetten",
        "Súdwest-Fryslân",
        "IJsselstein",
        "Ĳsselstein",
        "Jeugdhulp Zuid-Limburg",
        "Zorg & Veiligheid",
        "Ë",
        "e\u{301}\u{308}\u{300}",
        "Regionaal Expertteam 🧒",
        "🇳🇱",
        "<script>alert(1)</script>",
        "Robert'); DROP TABLE municipality;--",
        "%s%n%x",
        "\\",
        "\"",
        "{}",
        "null",
        "x",
    ]));
    let wild = prop_oneof![
        4 => select(strings(&[
            "", " ", "\t", "Toegang \u{202E}nevohdniE", "Toegang\u{200B}Jeugd", "\u{FEFF}Toegang Jeugd",
            "Toegang\u{00AD}Jeugd", "Toegang\nJeugd", "Toegang\r\nJeugd", "Toe\u{301}\u{308}\u{300}\u{302}gang",
            "\u{0}", "a\u{7}b", "a\u{85}b", "a\u{2028}b", "\u{1F}", "\u{E000}", "\u{FFFF}", "\u{10FFFF}",
            "\u{301}\u{301}\u{301}\u{301}", "\u{FFFD}", "Gezin 👩\u{200D}👧",
        ])),
        2 => select(vec![1usize, 199, 200, 201, 300, 301, 2_000, 2_001, 100_000])
            .prop_map(|n| json!("é".repeat(n))),
        2 => "\\PC{0,40}".prop_map(Value::from),
        1 => ".{0,20}".prop_map(Value::from),
    ];
    either(mode, plausible.boxed(), wild.boxed())
}

/// Web addresses: written as the WHATWG standard writes them, and not.
fn url(mode: Mode) -> BoxedStrategy<Value> {
    let plausible = select(strings(&[
        "https://www.eindhoven.nl",
        "https://www.eindhoven.nl/",
        "https://www.eindhoven.nl/jeugd?x=1#top",
        "http://example.org/",
        "https://xn--r8jz45g.jp/",
        "https://a.b.c.d.nl/%3Cscript%3E",
    ]));
    let wild = prop_oneof![
        4 => select(strings(&[
            "", " ", "www.no-scheme.nl", "javascript:alert(1)", "mailto:jeugd@eindhoven.nl", "ftp://x.nl/",
            "https://127.0.0.1/", "https://[::1]/", "https://localhost/", "https://user:pw@www.x.nl/",
            "https://www.x.nl:8080/", "HTTPS://WWW.EINDHOVEN.NL/", "https://www.eindhoven.nl/<script>",
            "https://例え.jp/", "https://", "http:///x", "https://www.x.nl/\u{202E}", "https://www.x.nl/a b",
            "https://www.eindhoven.nl\n", "data:text/html,<script>", "//www.x.nl/", "https://.nl/",
        ])),
        1 => (0usize..3).prop_map(|n| json!(format!("https://www.x.nl/{}", "a".repeat([250, 290, 5_000][n])))),
        1 => "https?://\\PC{0,20}".prop_map(Value::from),
    ];
    either(mode, plausible.boxed(), wild.boxed())
}

fn email(mode: Mode) -> BoxedStrategy<Value> {
    let plausible = select(strings(&["jeugd@eindhoven.nl", "a@b.nl", "toegang.jeugd@gemeente-best.nl"]));
    let wild = prop_oneof![
        2 => select(strings(&["", "@", "a@", "@b.nl", "a@b", "a@@b.nl", "a b@c.nl", "a@b..nl", "a@b.nl\n"])),
        1 => text(Mode::Wild),
    ];
    either(mode, plausible.boxed(), wild.boxed())
}

fn phone(mode: Mode) -> BoxedStrategy<Value> {
    let plausible = select(strings(&["14 040", "040 238 6000", "+31 40 238 6000", "(040) 238-6000"]));
    let wild = prop_oneof![
        2 => select(strings(&["", "1", "+", "++31 40 238 6000", "040 238 6000 ext 1", "0".repeat(16).as_str()])),
        1 => "[0-9 +()-]{0,20}".prop_map(Value::from),
    ];
    either(mode, plausible.boxed(), wild.boxed())
}

/// Dates: common ones, the edges of the range, any date inside it, and strings that are no date.
fn date(mode: Mode) -> BoxedStrategy<Value> {
    let today = chrono::Local::now().date_naive();
    let near_today: Vec<Value> =
        (-2..=2).map(|days| json!((today + chrono::Duration::days(days)).to_string())).collect();
    let plausible = prop_oneof![
        4 => select(strings(&[
            "1800-01-01", "1800-01-02", "2200-12-30", "2200-12-31", "2014-12-31", "2015-01-01", "2025-06-01",
            "2026-01-01", "2027-01-01", "2030-01-01", "2100-02-28",
        ])),
        2 => select(near_today),
        2 => (1800i32..=2200, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| json!(format!("{y:04}-{m:02}-{d:02}"))),
    ];
    let wild = select(strings(&[
        "1799-12-31",
        "2201-01-01",
        "0000-01-01",
        "9999-12-31",
        "+10000-01-01",
        "-0001-01-01",
        "2026-02-29",
        "2024-02-29",
        "2100-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-1-1",
        "20260101",
        "2026-01-01T00:00:00Z",
        " 2026-01-01",
        "2026-01-01 ",
        "",
        "today",
        "2026-01-01\u{0}",
        "２０２６-01-01",
    ]));
    either(mode, plausible.boxed(), wild.boxed())
}

/// `expectedVersion`: mostly the current version, sometimes stale, in wild mode out of any range.
fn version(mode: Mode) -> BoxedStrategy<Option<Value>> {
    let plausible = prop_oneof![
        12 => Just(Some(json!({ "$version": 0 }))),
        1 => Just(Some(json!({ "$version": 1 }))),
        1 => Just(Some(json!({ "$version": -1 }))),
    ];
    let wild = prop_oneof![
        2 => select(vec![
            json!(0), json!(-1), json!(i32::MAX), json!(i32::MIN), json!(2_147_483_648_i64), json!(-2_147_483_649_i64),
            json!(1.5), json!("1"), json!(1e20), Value::Null,
        ])
        .prop_map(Some),
        1 => Just(None),
    ];
    match mode {
        Mode::Plausible => plausible.boxed(),
        Mode::Wild => prop_oneof![4 => plausible, 1 => wild].boxed(),
    }
}

/// An enum value: one of `valid`, or a wrong spelling.
fn enumeration(mode: Mode, valid: &[&str]) -> BoxedStrategy<Value> {
    let wild = select(strings(&["", "FOO", "account_holder", "ACCOUNT_HOLDER ", "NATIONAL\u{0}", "1"]));
    either(mode, select(strings(valid)).boxed(), wild.boxed())
}

fn scale(mode: Mode) -> BoxedStrategy<Value> {
    enumeration(mode, &["SUBREGIONAL", "REGIONAL", "BIREGIONAL", "SUPRAREGIONAL", "NATIONAL"])
}

fn role_kind(mode: Mode) -> BoxedStrategy<Value> {
    let kinds = [
        "ACCOUNT_HOLDER",
        "LEAD_MUNICIPALITY",
        "PURCHASING_ORGANISATION",
        "CONTRACT_MANAGER",
        "COORDINATING_MUNICIPALITY",
    ];
    enumeration(mode, &kinds)
}

fn instrument(mode: Mode) -> BoxedStrategy<Value> {
    enumeration(mode, &["COOPERATION_AGREEMENT", "SERVICE_AGREEMENT", "JOINT_ARRANGEMENT"])
}

/// Mostly none; otherwise ids that repeat across cases (retries and reuse), and in wild mode bad ones.
fn client_mutation_id(mode: Mode) -> BoxedStrategy<Option<Value>> {
    let plausible = prop_oneof![
        9 => Just(None),
        1 => select(strings(&["fuzz-1", "fuzz-2", "sync-2026-11-23-001"])).prop_map(Some),
    ];
    let wild = select(vec![json!(""), json!("x".repeat(129)), json!("a\u{0}b"), json!("a\nb"), json!(1), Value::Null]);
    match mode {
        Mode::Plausible => plausible.boxed(),
        Mode::Wild => prop_oneof![5 => plausible, 1 => wild.prop_map(Some)].boxed(),
    }
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

// ---------------------------------------------------------------------------
// The inputs, one function per input type of the schema

fn access_point_fields(m: Mode) -> Vec<Field> {
    vec![
        ("name", optional(m, text(m))),
        ("phone", optional(m, phone(m))),
        ("email", optional(m, email(m))),
        ("website", optional(m, url(m))),
        ("address", optional(m, text(m))),
    ]
}

fn municipality_update(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, municipality_code(m))),
        ("expectedVersion", version(m)),
        ("website", optional(m, url(m))),
        ("accessPoint", optional(m, object(access_point_fields(m)))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn municipality_sync(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, municipality_code(m))),
        ("website", optional(m, url(m))),
        ("accessPoint", optional(m, object(access_point_fields(m)))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn role_assign(m: Mode) -> Vec<Field> {
    vec![
        ("kind", required(m, role_kind(m))),
        ("holderCode", required(m, prop_oneof![3 => municipality_code(m), 1 => region_code(m)])),
        ("regionCode", optional(m, region_code(m))),
        ("cooperationCode", optional(m, cooperation_code(m))),
        ("careFormCode", optional(m, care_form_code(m))),
        ("providerCode", optional(m, provider_code(m))),
        ("validFrom", required(m, date(m))),
        ("validTo", optional(m, date(m))),
        ("note", optional(m, text(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

/// `EndInput`, for `roleEnd`, `cooperationEnd` and `frameworkContractEnd`.
fn end(m: Mode, code: BoxedStrategy<Value>) -> Vec<Field> {
    vec![
        ("code", required(m, code)),
        ("expectedVersion", version(m)),
        ("validTo", required(m, date(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn cooperation_create(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, registry_code(m, COOPERATIONS, true))),
        ("name", required(m, text(m))),
        ("scale", required(m, scale(m))),
        ("instrument", optional(m, instrument(m))),
        ("description", optional(m, text(m))),
        ("validFrom", optional(m, date(m))),
        ("municipalityCodes", optional(m, codes(m, municipality_code(m)))),
        ("regionCodes", optional(m, codes(m, region_code(m)))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn cooperation_update(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, cooperation_code(m))),
        ("expectedVersion", version(m)),
        ("name", optional(m, text(m))),
        ("scale", optional(m, scale(m))),
        ("instrument", optional(m, instrument(m))),
        ("description", optional(m, text(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn cooperation_members_set(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, cooperation_code(m))),
        ("expectedVersion", version(m)),
        ("municipalityCodes", optional(m, codes(m, municipality_code(m)))),
        ("regionCodes", optional(m, codes(m, region_code(m)))),
        ("validFrom", optional(m, date(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn contract_create(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, registry_code(m, CONTRACTS, true))),
        ("title", required(m, text(m))),
        ("scale", required(m, scale(m))),
        ("contractingAuthorityCode", optional(m, municipality_code(m))),
        ("contractingAuthorityName", optional(m, text(m))),
        ("validFrom", optional(m, date(m))),
        ("validTo", optional(m, date(m))),
        ("partyRegionCodes", optional(m, codes(m, region_code(m)))),
        ("careFormCodes", optional(m, codes(m, care_form_code(m)))),
        ("providerCodes", optional(m, codes(m, provider_code(m)))),
        ("note", optional(m, text(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn contract_update(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, contract_code(m))),
        ("expectedVersion", version(m)),
        ("title", optional(m, text(m))),
        ("note", optional(m, text(m))),
        ("validFrom", optional(m, date(m))),
        ("validTo", optional(m, date(m))),
        ("careFormCodes", optional(m, codes(m, care_form_code(m)))),
        ("providerCodes", optional(m, codes(m, provider_code(m)))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn contract_parties_set(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, contract_code(m))),
        ("expectedVersion", version(m)),
        ("regionCodes", required(m, codes(m, region_code(m)))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn membership_change(m: Mode) -> Vec<Field> {
    vec![
        ("municipalityCode", required(m, municipality_code(m))),
        ("expectedVersion", version(m)),
        ("regionCode", required(m, region_code(m))),
        ("validFrom", required(m, date(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn municipality_merge(m: Mode) -> Vec<Field> {
    vec![
        ("municipalityCodes", required(m, codes(m, municipality_code(m)))),
        ("successorCode", required(m, prop_oneof![municipality_code(m), new_municipality_code()])),
        ("successorName", optional(m, text(m))),
        ("provinceCode", optional(m, either(m, select(strings(&["PV30", "PV20", "PV31"])).boxed(), odd_code()))),
        ("regionCode", optional(m, region_code(m))),
        ("date", required(m, date(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn provider_create(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, registry_code(m, PROVIDERS, true))),
        ("name", required(m, text(m))),
        ("certifiedInstitution", optional(m, boolean())),
        ("website", optional(m, url(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn provider_update(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, provider_code(m))),
        ("expectedVersion", version(m)),
        ("name", optional(m, text(m))),
        ("certifiedInstitution", optional(m, boolean())),
        ("website", optional(m, url(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn care_form_create(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, registry_code(m, CARE_FORMS, true))),
        ("name", required(m, text(m))),
        ("nameEn", required(m, text(m))),
        ("description", optional(m, text(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

fn care_form_update(m: Mode) -> Vec<Field> {
    vec![
        ("code", required(m, care_form_code(m))),
        ("expectedVersion", version(m)),
        ("name", optional(m, text(m))),
        ("nameEn", optional(m, text(m))),
        ("description", optional(m, text(m))),
        ("clientMutationId", client_mutation_id(m)),
    ]
}

/// `input` with every `{"$version": d}` replaced by `current + d` (`current`:
/// the version of the row the mutation names, 1 when there is none).
pub fn resolve_versions(input: &Value, current: Option<i64>) -> Value {
    match input {
        Value::Object(map) if map.len() == 1 && map.contains_key("$version") => {
            json!(current.unwrap_or(1) + map["$version"].as_i64().unwrap_or(0))
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve_versions(v, current))).collect())
        }
        other => other.clone(),
    }
}

/// `value` written as a GraphQL input literal; strings under `kind`, `scale`
/// and `instrument` that are names are written as enum values.
pub fn literal(value: &Value, key: &str) -> String {
    let is_name = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match value {
        Value::String(s) if ["kind", "scale", "instrument"].contains(&key) && is_name(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(|v| literal(v, key)).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let fields: Vec<String> = map.iter().map(|(k, v)| format!("{k}: {}", literal(v, k))).collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}
