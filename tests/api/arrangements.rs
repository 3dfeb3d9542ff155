//! Care-form arrangements: the table of annex B of the Samen voor Jeugd
//! regiovisie as the API answers it, cell by cell, and the portal's question
//! `careFor`, including what it says where the registry has no data.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::{TestApp, codes};

/// The table "Per care form, where policy / purchasing / supplier management
/// are organised (Samen voor Jeugd regiovisie, annex B)" of
/// shared/data/from-source-documents.md, each cell in its own words, with the
/// care forms of the row and, per cell, how the registry reads it: one line
/// per arrangement, `SCALE SCOPE [by ORGANISER] [contract CODE] [note=WORDS]`.
/// "Regional" in this document is the purchasing region Samen voor Jeugd
/// ("bi-regional" is all 21 municipalities), so those rows are recorded for it.
type Cell = (&'static str, &'static [&'static str]);
const ANNEX_B: [(&str, &[&str], [Cell; 3]); 16] = [
    (
        "Emergency care: ambulance function (24/7, triage)",
        &["SPOEDEISENDE-ZORG"],
        [
            ("bi-regional", &["BIREGIONAL JZ39"]),
            ("bi-regional, by Eindhoven", &["BIREGIONAL JZ39 by GM0772"]),
            ("bi-regional, Eindhoven", &["BIREGIONAL JZ39 by GM0772"]),
        ],
    ),
    (
        "Child protection and youth probation",
        &["JEUGDBESCHERMING", "JEUGDRECLASSERING"],
        [
            ("bi-regional", &["BIREGIONAL JZ39"]),
            (
                "bi-regional, by Eindhoven; aligned Brabant-wide",
                &["BIREGIONAL JZ39 by GM0772 note=aligned Brabant-wide"],
            ),
            (
                "bi-regional, Eindhoven; Brabant-wide alignment",
                &["BIREGIONAL JZ39 by GM0772 note=Brabant-wide alignment"],
            ),
        ],
    ),
    (
        "Veilig Thuis",
        &["VEILIG-THUIS"],
        [
            ("bi-regional", &["BIREGIONAL JZ39"]),
            (
                "bi-regional, by Eindhoven with Helmond as lead",
                &["BIREGIONAL JZ39 by GM0772 note=with Helmond as lead"],
            ),
            ("bi-regional, Eindhoven", &["BIREGIONAL JZ39 by GM0772"]),
        ],
    ),
    (
        "Crisis (after emergency care)",
        &["CRISIS"],
        [
            ("bi-regional", &["BIREGIONAL JZ39"]),
            ("regional, bi-regional alignment", &["REGIONAL SAMEN-VOOR-JEUGD note=bi-regional alignment"]),
            ("regional and bi-regional", &["BIREGIONAL JZ39", "REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "JeugdzorgPlus",
        &["JEUGDZORGPLUS"],
        [
            ("bi-regional and supra-regional", &["BIREGIONAL JZ39", "SUPRAREGIONAL JZ39"]),
            (
                "supra-regional (Landsdeel Zuidoost), Roermond lead",
                &["SUPRAREGIONAL JZ39 by GM0957 note=Landsdeel Zuidoost; Roermond lead"],
            ),
            ("supra-regional, Roermond", &["SUPRAREGIONAL JZ39 by GM0957"]),
        ],
    ),
    (
        "Forensic youth care",
        &["FORENSISCHE-JEUGDZORG"],
        [
            ("supra-regional (court district)", &["SUPRAREGIONAL JZ39 note=court district"]),
            ("supra-regional", &["SUPRAREGIONAL JZ39"]),
            ("supra-regional", &["SUPRAREGIONAL JZ39"]),
        ],
    ),
    (
        "Addiction care",
        &["VERSLAVINGSZORG"],
        [
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            ("regional (custom contracts)", &["REGIONAL SAMEN-VOOR-JEUGD note=custom contracts"]),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "Long-term residence",
        &["LANGDURIG-VERBLIJF"],
        [
            (
                "regional; bi-regional in development",
                &["BIREGIONAL JZ39 note=in development", "REGIONAL SAMEN-VOOR-JEUGD"],
            ),
            ("bi-regional in development", &["BIREGIONAL JZ39 note=in development"]),
            ("bi-regional in development", &["BIREGIONAL JZ39 note=in development"]),
        ],
    ),
    (
        "Mother-and-child homes",
        &["MOEDER-KIND-HUIS"],
        [
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "Eating-disorder clinics",
        &["EETSTOORNISSEN"],
        [
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "Intensive ambulatory care replacing residential",
        &["INTENSIEVE-AMBULANTE-ZORG"],
        [
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            ("regional, bi-regional alignment", &["REGIONAL SAMEN-VOOR-JEUGD note=bi-regional alignment"]),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "Orthopsychiatry",
        &["ORTHOPSYCHIATRIE"],
        [
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            (
                "national framework contracts",
                &["NATIONAL JZ39 by VNG contract VNG-ORTHOPSYCHIATRIE note=national framework contracts"],
            ),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "Gender clinics",
        &["GENDERKLINIEK"],
        [
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            (
                "national framework contracts",
                &["NATIONAL JZ39 by VNG contract VNG-GENDERKLINIEKEN note=national framework contracts"],
            ),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "Intramural family treatment",
        &["INTRAMURALE-GEZINSBEHANDELING"],
        [
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
            (
                "national framework contracts",
                &["NATIONAL JZ39 by VNG contract VNG-INTRAMURALE-GEZINSBEHANDELING note=national framework contracts"],
            ),
            ("regional", &["REGIONAL SAMEN-VOOR-JEUGD"]),
        ],
    ),
    (
        "Regional Expert Team, Beschermtafel, Civiel Trajectberaad",
        &["REGIONAAL-EXPERTTEAM"],
        [
            ("bi-regional", &["BIREGIONAL JZ39"]),
            ("bi-regional", &["BIREGIONAL JZ39"]),
            ("bi-regional", &["BIREGIONAL JZ39"]),
        ],
    ),
    (
        "Bovenregionaal Expertisenetwerk",
        &["BOVENREGIONAAL-EXPERTISENETWERK"],
        [
            ("supra-regional (Brabant, Zeeland)", &["SUPRAREGIONAL JZ39 note=Brabant, Zeeland"]),
            ("supra-regional", &["SUPRAREGIONAL JZ39"]),
            ("supra-regional; Eindhoven coordinating", &["SUPRAREGIONAL JZ39 by GM0772 note=Eindhoven coordinating"]),
        ],
    ),
];

const FUNCTIONS: [(&str, &str); 3] =
    [("POLICY", "policy"), ("PURCHASING", "purchasing"), ("SUPPLIER_MANAGEMENT", "supplier management")];

const ARRANGEMENT: &str = "code function scale careForm { code } region { code } cooperation { code } \
    organisingMunicipality { code } organisingCooperation { code } organisingName frameworkContract { code } \
    accountHolder { code } note validFrom validFromIsLowerBound validTo source";

/// An arrangement as the table above reads it.
fn reading(a: &Value) -> String {
    let scope = a["region"]["code"].as_str().or(a["cooperation"]["code"].as_str()).expect("a scope");
    let mut text = format!("{} {scope}", a["scale"].as_str().unwrap());
    let organiser = [&a["organisingMunicipality"]["code"], &a["organisingCooperation"]["code"], &a["organisingName"]];
    for by in organiser.into_iter().filter_map(Value::as_str) {
        text.push_str(&format!(" by {by}"));
    }
    if let Some(contract) = a["frameworkContract"]["code"].as_str() {
        text.push_str(&format!(" contract {contract}"));
    }
    if let Some(holder) = a["accountHolder"]["code"].as_str() {
        text.push_str(&format!(" account {holder}"));
    }
    if let Some(note) = a["note"].as_str() {
        text.push_str(&format!(" note={note}"));
    }
    text
}

/// `(care form, function) -> readings`, sorted.
fn by_cell(arrangements: &Value) -> BTreeMap<(String, String), Vec<String>> {
    let mut cells: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for a in arrangements.as_array().expect("a list") {
        let key = (a["careForm"]["code"].as_str().unwrap().to_owned(), a["function"].as_str().unwrap().to_owned());
        cells.entry(key).or_default().push(reading(a));
    }
    cells.values_mut().for_each(|readings| readings.sort());
    cells
}

fn expected_cells() -> BTreeMap<(String, String), Vec<String>> {
    let mut cells = BTreeMap::new();
    for (_, care_forms, row) in ANNEX_B {
        for care_form in care_forms {
            for ((function, _), (_, readings)) in FUNCTIONS.iter().zip(row) {
                let mut readings: Vec<String> = readings.iter().map(|r| r.to_string()).collect();
                readings.sort();
                cells.insert((care_form.to_string(), function.to_string()), readings);
            }
        }
    }
    cells
}

#[tokio::test]
async fn the_seeded_arrangements_are_the_annex_b_table_cell_by_cell() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"{{ region(code: "JZ39", asOf: "2024-01-01") {{ careArrangements {{ {ARRANGEMENT} }} }}
             samenVoorJeugd: cooperation(code: "SAMEN-VOOR-JEUGD", asOf: "2024-01-01") {{ careArrangements {{ code }} }} }}"#
    );
    let data = app.query(&query).await;
    let arrangements = &data["region"]["careArrangements"];
    assert_eq!(by_cell(arrangements), expected_cells());
    // 16 rows x 3 columns, "Child protection and youth probation" for two care forms, three cells naming two scales.
    assert_eq!(arrangements.as_array().unwrap().len(), (16 + 1) * 3 + 3);

    for a in arrangements.as_array().unwrap() {
        let (care_form, function) = (a["careForm"]["code"].as_str().unwrap(), a["function"].as_str().unwrap());
        let (row, _, cells) = ANNEX_B.iter().find(|(_, forms, _)| forms.contains(&care_form)).expect("a row");
        let column = FUNCTIONS.iter().position(|(f, _)| *f == function).unwrap();
        // The stored source quotes the cell, so a reader can check the reading against its words.
        let quoted = format!("Row '{row}', column '{}': '{}'", FUNCTIONS[column].1, cells[column].0);
        let source = a["source"].as_str().unwrap();
        assert!(source.contains(&quoted), "{}: {source}", a["code"]);
        assert!(source.starts_with("Regiovisie jeugdhulp 2023-2026"), "{source}");
        assert!(source.contains("at least since 2023-01-01"), "{source}");
        assert_eq!(
            (&a["validFrom"], &a["validFromIsLowerBound"], &a["validTo"]),
            (&json!("2023-01-01"), &json!(true), &Value::Null)
        );
        assert_eq!(a["accountHolder"], Value::Null, "no cell names an account holder");
    }
    let regional: BTreeSet<String> = arrangements
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["cooperation"]["code"] == "SAMEN-VOOR-JEUGD")
        .map(|a| a["code"].as_str().unwrap().to_owned())
        .collect();
    let recorded_for_svj: BTreeSet<String> = codes(&data["samenVoorJeugd"]["careArrangements"]).into_iter().collect();
    assert_eq!(recorded_for_svj, regional);
    assert_eq!(regional.len(), 21);
}

#[tokio::test]
async fn care_for_answers_each_care_form_for_the_municipalities_it_was_recorded_for() {
    let app = TestApp::spawn().await;
    let expected = expected_cells();
    let query = format!(
        r#"query($m: String!, $c: String!) {{ careFor(municipalityCode: $m, careFormCode: $c, asOf: "2024-01-01") {{
               hasData message arrangements {{ {ARRANGEMENT} }} }} }}"#
    );
    for (_, care_forms, _) in ANNEX_B {
        for care_form in care_forms {
            let of_care_form = |keep: &dyn Fn(&str) -> bool| -> BTreeMap<(String, String), Vec<String>> {
                expected
                    .iter()
                    .filter(|((c, _), _)| c == care_form)
                    .map(|(k, readings)| (k.clone(), readings.iter().filter(|r| keep(r)).cloned().collect::<Vec<_>>()))
                    .filter(|(_, readings)| !readings.is_empty())
                    .collect()
            };
            // Eindhoven is in Samen voor Jeugd: the whole row.
            let eindhoven = app.query_with(&query, json!({ "m": "GM0772", "c": care_form })).await;
            assert_eq!(by_cell(&eindhoven["careFor"]["arrangements"]), of_care_form(&|_: &str| true), "{care_form}");
            assert_eq!(eindhoven["careFor"]["hasData"], true);
            // Helmond is in Een 10 voor de jeugd: only what was recorded for the whole region.
            let helmond = app.query_with(&query, json!({ "m": "GM0794", "c": care_form })).await;
            let whole_region = of_care_form(&|r: &str| !r.contains("SAMEN-VOOR-JEUGD"));
            assert_eq!(by_cell(&helmond["careFor"]["arrangements"]), whole_region, "{care_form}");
            assert_eq!(helmond["careFor"]["hasData"], true);
            let message = &helmond["careFor"]["message"];
            assert_eq!(message.is_null(), !whole_region.is_empty(), "{care_form}: {message}");
        }
    }
}

#[tokio::test]
async fn veilig_thuis_in_eindhoven_is_purchased_bi_regionally_by_eindhoven() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ careFor(municipalityCode: "GM0772", careFormCode: "VEILIG-THUIS") {
                   municipality { code name } careForm { code name } region { code name } hasData message
                   arrangements { function scale organisingMunicipality { code name } note region { code } } } }"#,
        )
        .await;
    let answer = &data["careFor"];
    assert_eq!(answer["municipality"], json!({ "code": "GM0772", "name": "Eindhoven" }));
    assert_eq!(answer["careForm"], json!({ "code": "VEILIG-THUIS", "name": "Veilig Thuis" }));
    assert_eq!(answer["region"], json!({ "code": "JZ39", "name": "Zuidoost-Brabant" }));
    assert_eq!((&answer["hasData"], &answer["message"]), (&json!(true), &Value::Null));
    let purchasing: Vec<&Value> =
        answer["arrangements"].as_array().unwrap().iter().filter(|a| a["function"] == "PURCHASING").collect();
    assert_eq!(
        purchasing,
        [&json!({
            "function": "PURCHASING", "scale": "BIREGIONAL",
            "organisingMunicipality": { "code": "GM0772", "name": "Eindhoven" },
            "note": "with Helmond as lead", "region": { "code": "JZ39" }
        })]
    );
}

#[tokio::test]
async fn for_a_region_without_data_the_answer_says_so_and_lists_nothing() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ groningen: careFor(municipalityCode: "GM0014", careFormCode: "JEUGDZORGPLUS") {
                   region { code } hasData message arrangements { code } }
                 before: careFor(municipalityCode: "GM0772", careFormCode: "JEUGDZORGPLUS", asOf: "2020-06-01") {
                   hasData message arrangements { code } }
                 ambulatory: careFor(municipalityCode: "GM0772", careFormCode: "AMBULANTE-ZORG") {
                   hasData message arrangements { code } }
                 region(code: "JZ01") { careArrangements { code } } }"#,
        )
        .await;
    let groningen = &data["groningen"];
    assert_eq!((&groningen["region"]["code"], &groningen["hasData"]), (&json!("JZ01"), &json!(false)));
    assert_eq!(groningen["arrangements"], json!([]));
    let message = groningen["message"].as_str().unwrap();
    assert!(message.contains("no care-form arrangements for region JZ01 Groningen"), "{message}");
    assert!(message.contains("does not guess"), "{message}");
    assert_eq!(data["region"]["careArrangements"], json!([]));
    // Before the source's date the registry does not know either, and says from when it does.
    let before = &data["before"];
    assert_eq!((&before["hasData"], &before["arrangements"]), (&json!(false), &json!([])));
    assert!(before["message"].as_str().unwrap().contains("from 2023-01-01"), "{before}");
    // A care form the table does not cover: the region has data, but none for it.
    let ambulatory = &data["ambulatory"];
    assert_eq!((&ambulatory["hasData"], &ambulatory["arrangements"]), (&json!(true), &json!([])));
    assert!(ambulatory["message"].as_str().unwrap().contains("none for AMBULANTE-ZORG"), "{ambulatory}");
}

#[tokio::test]
async fn unknown_codes_and_dates_before_2015_are_errors_with_their_code() {
    let app = TestApp::spawn().await;
    let ask = |m: &str, c: &str, as_of: &str| {
        format!(r#"{{ careFor(municipalityCode: "{m}", careFormCode: "{c}", asOf: "{as_of}") {{ hasData }} }}"#)
    };
    for (document, code, argument) in [
        (ask("GM0772", "NO-SUCH-CARE", "2024-01-01"), "BAD_USER_INPUT", "careFormCode"),
        (ask("GM9999", "VEILIG-THUIS", "2024-01-01"), "BAD_USER_INPUT", "municipalityCode"),
        // Nuth ended in 2019: the question has no municipality to answer for.
        (ask("GM0951", "VEILIG-THUIS", "2024-01-01"), "BAD_USER_INPUT", "municipalityCode"),
        (ask("GM0772", "VEILIG-THUIS", "2014-12-31"), "AS_OF_OUT_OF_RANGE", "asOf"),
    ] {
        let body = app.post(&document, json!({})).await;
        let error = &body["errors"][0];
        assert_eq!((&error["extensions"]["code"], &error["extensions"]["argument"]), (&json!(code), &json!(argument)));
        assert_eq!(body["data"]["careFor"], Value::Null, "{body}");
    }
    let nuth = app.post(&ask("GM0951", "VEILIG-THUIS", "2024-01-01"), json!({})).await;
    assert!(nuth["errors"][0]["message"].as_str().unwrap().contains("until 2019-01-01"), "{nuth}");
    let body =
        app.post(r#"{ region(code: "JZ39") { careArrangements(asOf: "2014-12-31") { code } } }"#, json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "AS_OF_OUT_OF_RANGE");
    // In a list, a care form code is a filter: an unknown one selects nothing.
    let data = app
        .query(
            r#"{ region(code: "JZ39") { careArrangements(careFormCode: "NO-SUCH-CARE") { code }
                                         veiligThuis: careArrangements(careFormCode: "VEILIG-THUIS") { code } } }"#,
        )
        .await;
    assert_eq!(data["region"]["careArrangements"], json!([]));
    assert_eq!(codes(&data["region"]["veiligThuis"]).len(), 3);
}

#[tokio::test]
async fn every_arrangement_list_stays_within_its_bound() {
    let app = TestApp::spawn().await;
    let bound = jeugdregio::registry::bounds::ARRANGEMENTS_PER_OBJECT;
    let data = app
        .query(
            r#"{ regions(first: 100, asOf: "2024-01-01") { nodes { code careArrangements { code } } }
                 cooperations(first: 500, asOf: "2024-01-01") { nodes { code careArrangements { code } } }
                 careForms(asOf: "2024-01-01") { code arrangements { code } } }"#,
        )
        .await;
    let lists = data["regions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(data["cooperations"]["nodes"].as_array().unwrap())
        .map(|n| (&n["code"], &n["careArrangements"]))
        .chain(data["careForms"].as_array().unwrap().iter().map(|c| (&c["code"], &c["arrangements"])));
    let mut total = 0;
    for (owner, list) in lists {
        let count = list.as_array().unwrap().len();
        assert!(count <= bound, "{owner}: {count} arrangements, bound {bound}");
        total += count;
    }
    assert!(total > 0);
    // The care forms the table needed and the one the 2017 news item names are in the catalogue.
    let care_forms: BTreeMap<&str, &Value> = data["careForms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["code"].as_str().unwrap(), &c["arrangements"]))
        .collect();
    assert_eq!(care_forms["BOVENREGIONAAL-EXPERTISENETWERK"].as_array().unwrap().len(), 3);
    assert_eq!(care_forms["AMBULANTE-ZORG"], &json!([]));
}

#[tokio::test]
async fn arrangements_in_development_are_marked_as_not_in_place() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ careFor(municipalityCode: "GM0772", careFormCode: "LANGDURIG-VERBLIJF") {
                   arrangements { function scale status note } } }"#,
        )
        .await;
    let arrangements = data["careFor"]["arrangements"].as_array().unwrap();
    let mut developing: Vec<(&str, &str)> = arrangements
        .iter()
        .filter(|a| a["status"] == "IN_DEVELOPMENT")
        .map(|a| (a["function"].as_str().unwrap(), a["scale"].as_str().unwrap()))
        .collect();
    developing.sort();
    assert_eq!(
        developing,
        [("POLICY", "BIREGIONAL"), ("PURCHASING", "BIREGIONAL"), ("SUPPLIER_MANAGEMENT", "BIREGIONAL")],
        "the source: bi-regional long-term residence is in development: {arrangements:?}"
    );
    assert!(arrangements.iter().all(|a| (a["status"] == "IN_DEVELOPMENT") == (a["note"] == "in development")));
}
