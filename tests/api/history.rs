//! History since 2015, checked against the CBS data files the seed is built
//! from: every year's classification, names over time, lineage both ways,
//! region switches, and the dates the registry answers for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use migration::seed::cbs_files::ERRATA;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::helpers::{TestApp, codes};

const HISTORY_FILES: [&str; 5] =
    ["memberships.csv", "municipalities.csv", "lineage.csv", "regions.csv", "region_switches.csv"];
const MEMBERSHIPS: &str = include_str!("../../migration/seed/history/memberships.csv");
const LINEAGE: &str = include_str!("../../migration/seed/history/lineage.csv");
const REGION_SWITCHES: &str = include_str!("../../migration/seed/history/region_switches.csv");

#[derive(Deserialize)]
struct Membership {
    municipality_code: String,
    municipality_name: String,
    region_code: String,
    valid_from: String,
    valid_to: String,
}

#[derive(Deserialize)]
struct Lineage {
    effective_date: String,
    old_code: String,
    new_code: String,
    area_share: f64,
    kind: String,
}

#[derive(Deserialize)]
struct RegionSwitch {
    effective_date: String,
    municipality_code: String,
    from_region: String,
    to_region: String,
    kind: String,
}

fn rows<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    csv::Reader::from_reader(text.as_bytes()).deserialize().collect::<Result<_, _>>().expect("a valid data file")
}

/// `code -> (name, region)` on an ISO date (ISO dates compare as text), with
/// the name as meant where the files have a known error (`cbs_files::ERRATA`).
fn classification_on(memberships: &[Membership], date: &str) -> BTreeMap<String, (String, String)> {
    let meant = |code: &str, name: &str| {
        ERRATA.iter().find(|e| e.0 == code && e.1 == name).map_or(name.to_owned(), |e| e.2.to_owned())
    };
    memberships
        .iter()
        .filter(|m| m.valid_from.as_str() <= date && (m.valid_to.is_empty() || date < m.valid_to.as_str()))
        .map(|m| {
            (m.municipality_code.clone(), (meant(&m.municipality_code, &m.municipality_name), m.region_code.clone()))
        })
        .collect()
}

#[test]
fn the_seeds_copy_of_the_history_is_the_shared_data_set() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/history");
    if !shared.exists() {
        eprintln!("{} is absent: nothing to compare the seed's copy with", shared.display());
        return;
    }
    for file in HISTORY_FILES {
        let copy = Path::new(env!("CARGO_MANIFEST_DIR")).join("migration/seed/history").join(file);
        assert_eq!(std::fs::read(shared.join(file)).unwrap(), std::fs::read(copy).unwrap(), "{file} differs");
    }
}

#[tokio::test]
async fn every_year_of_the_cbs_classification_is_what_the_api_answers() {
    let app = TestApp::spawn().await;
    assert_every_year_is_the_cbs_classification(&app).await;
    // The example of the issue: Nuth, which existed until 2019, on 2018-06-01.
    let nuth = app.query(r#"{ municipality(code: "GM0951", asOf: "2018-06-01") { name region { code name } } }"#).await;
    assert_eq!(nuth["municipality"], json!({ "name": "Nuth", "region": { "code": "JZ41", "name": "Zuid-Limburg" } }));
}

/// On 1 January, 1 July and 31 December of every year 2015-2025, the
/// municipalities, their names and regions, and each region's members are
/// those of the CBS data files.
pub async fn assert_every_year_is_the_cbs_classification(app: &TestApp) {
    let memberships: Vec<Membership> = rows(MEMBERSHIPS);
    let cbs_counts = [393, 390, 388, 380, 355, 355, 352, 345, 342, 342, 342];
    let query = r#"query($d: Date!) {
        municipalities(asOf: $d, first: 500) { totalCount nodes { code name region { code } } }
        regions(asOf: $d) { totalCount nodes { code municipalities { code } } } }"#;
    for (year, count) in (2015..=2025).zip(cbs_counts) {
        for date in [format!("{year}-01-01"), format!("{year}-07-01"), format!("{year}-12-31")] {
            let expected = classification_on(&memberships, &date);
            assert_eq!(expected.len(), count, "the data file itself has CBS's count for {date}");
            let data = app.query_with(query, json!({ "d": date })).await;
            assert_eq!(data["municipalities"]["totalCount"], count, "{date}");
            let answered: BTreeMap<String, (String, String)> = data["municipalities"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let region = m["region"]["code"].as_str().unwrap_or("none").to_owned();
                    (m["code"].as_str().unwrap().to_owned(), (m["name"].as_str().unwrap().to_owned(), region))
                })
                .collect();
            assert_eq!(answered, expected, "{date}");
            // The same fact from the regions' side: each lists exactly its members of that date.
            assert_eq!(data["regions"]["totalCount"], 42, "{date}");
            for region in data["regions"]["nodes"].as_array().unwrap() {
                let code = region["code"].as_str().unwrap();
                let members: Vec<String> =
                    expected.iter().filter(|(_, (_, r))| r == code).map(|(m, _)| m.clone()).collect();
                assert!(!members.is_empty(), "{code} has members on {date}");
                assert_eq!(codes(&region["municipalities"]), members, "{code} on {date}");
            }
        }
    }
}

#[tokio::test]
async fn every_ended_municipality_says_where_it_went_and_every_new_one_where_it_came_from() {
    let app = TestApp::spawn().await;
    let lineage: Vec<Lineage> = rows(LINEAGE);
    type Link = (String, String, String, String);
    let link = |date: &str, code: &str, kind: &str, share: f64| -> Link {
        (date.to_owned(), code.to_owned(), kind.to_uppercase(), format!("{share:.3}"))
    };
    let mut successors: BTreeMap<String, BTreeSet<Link>> = BTreeMap::new();
    let mut predecessors: BTreeMap<String, BTreeSet<Link>> = BTreeMap::new();
    for row in &lineage {
        let successor = link(&row.effective_date, &row.new_code, &row.kind, row.area_share);
        successors.entry(row.old_code.clone()).or_default().insert(successor);
        let predecessor = link(&row.effective_date, &row.old_code, &row.kind, row.area_share);
        predecessors.entry(row.new_code.clone()).or_default().insert(predecessor);
    }
    let answered = |links: &Value| -> BTreeSet<Link> {
        links
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let share = l["areaShare"].as_f64().unwrap();
                link(
                    l["effectiveDate"].as_str().unwrap(),
                    l["municipality"]["code"].as_str().unwrap(),
                    l["kind"].as_str().unwrap(),
                    share,
                )
            })
            .collect()
    };
    let fields = "code successors { effectiveDate kind areaShare municipality { code } } \
                  predecessors { effectiveDate kind areaShare municipality { code } }";
    // Every municipality since 2015, each read once through the code lookup that works on any date.
    let all_codes: BTreeSet<&String> = successors.keys().chain(predecessors.keys()).collect();
    let aliased: Vec<String> = all_codes
        .iter()
        .enumerate()
        .map(|(i, code)| format!(r#"m{i}: municipalityRecord(code: "{code}") {{ {fields} }}"#))
        .collect();
    let data = app.query(&format!("{{ {} }}", aliased.join(" "))).await;
    for (i, code) in all_codes.iter().enumerate() {
        let record = &data[format!("m{i}")];
        assert_eq!(record["code"], json!(code));
        assert_eq!(answered(&record["successors"]), successors.get(*code).cloned().unwrap_or_default(), "{code}");
        assert_eq!(answered(&record["predecessors"]), predecessors.get(*code).cloned().unwrap_or_default(), "{code}");
    }

    // Asked for by a code that has ended, the answer says when and where it went.
    let nuth = app
        .query(r#"{ now: municipality(code: "GM0951") { code }
                    record: municipalityRecord(code: "GM0951") { name validTo asOf successors(kinds: [MAIN]) { municipality { code name validFrom region { code } } } }
                    unknown: municipalityRecord(code: "GM9999") { code } }"#)
        .await;
    assert!(nuth["now"].is_null(), "Nuth does not exist today");
    assert_eq!(nuth["record"]["name"], "Nuth");
    assert_eq!(nuth["record"]["validTo"], "2019-01-01");
    assert_eq!(nuth["record"]["asOf"], "2018-12-31", "read on its last day");
    assert_eq!(
        nuth["record"]["successors"],
        json!([{ "municipality": { "code": "GM1954", "name": "Beekdaelen", "validFrom": "2019-01-01", "region": { "code": "JZ41" } } }])
    );
    assert!(nuth["unknown"].is_null());
}

#[tokio::test]
async fn a_change_of_region_without_a_merger_shows_in_the_region_history() {
    let app = TestApp::spawn().await;
    let switches: Vec<RegionSwitch> = rows(REGION_SWITCHES);
    let pure: Vec<&RegionSwitch> = switches.iter().filter(|s| s.kind == "pure_switch").collect();
    assert_eq!(pure.len(), 7, "the seven municipalities that switched region without a merger");
    for switch in pure {
        let code = &switch.municipality_code;
        let data = app
            .query(&format!(
                r#"{{ municipalityRecord(code: "{code}") {{ regionHistory {{ region {{ code }} validFrom validTo }} }} }}"#
            ))
            .await;
        let periods = data["municipalityRecord"]["regionHistory"].as_array().unwrap();
        let left = periods.iter().position(|p| p["validTo"] == json!(switch.effective_date)).expect("a period ends");
        assert_eq!(periods[left]["region"]["code"], json!(switch.from_region), "{code}");
        assert_eq!(periods[left + 1]["region"]["code"], json!(switch.to_region), "{code}");
        assert_eq!(periods[left + 1]["validFrom"], json!(switch.effective_date), "{code}");
    }
}

#[tokio::test]
async fn names_are_those_of_the_date_asked_for() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ before: municipality(code: "GM0164", asOf: "2023-12-31") { name }
                 after: municipality(code: "GM0164", asOf: "2024-01-01") { name names { name validFrom validTo } }
                 arnhem: region(code: "JZ28", asOf: "2020-12-31") { name }
                 centraal: region(code: "JZ28", asOf: "2021-01-01") { name names { name validFrom validTo } } }"#,
        )
        .await;
    assert_eq!(data["before"]["name"], "Hengelo");
    assert_eq!(data["after"]["name"], "Hengelo (O.)");
    assert_eq!(
        data["after"]["names"],
        json!([{ "name": "Hengelo", "validFrom": "2015-01-01", "validTo": "2024-01-01" },
               { "name": "Hengelo (O.)", "validFrom": "2024-01-01", "validTo": null }])
    );
    assert_eq!(data["arnhem"]["name"], "Arnhem");
    let nuenen = app
        .query(
            r#"{ municipality(code: "GM0820", asOf: "2015-06-01") { name names { name validFrom validTo source } } }"#,
        )
        .await;
    assert_eq!(nuenen["municipality"]["name"], "Nuenen, Gerwen en Nederwetten", "the 2015 typo is corrected");
    assert_eq!(nuenen["municipality"]["names"].as_array().unwrap().len(), 1, "one name, not a rename in 2017");
    assert!(nuenen["municipality"]["names"][0]["source"].as_str().unwrap().contains("typing error"));
    assert_eq!(data["centraal"]["name"], "Centraal Gelderland");
    assert_eq!(data["centraal"]["names"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_date_before_the_coverage_is_refused_and_a_future_one_is_marked_provisional() {
    let app = TestApp::spawn().await;
    for document in [
        r#"{ regions(asOf: "2014-12-31") { totalCount } }"#,
        r#"{ municipality(code: "GM0772", asOf: "2012-06-01") { code } }"#,
        r#"{ region(code: "JZ39") { municipalities(asOf: "2014-01-01") { code } } }"#,
        r#"{ cooperations(asOf: "2012-06-01") { totalCount } }"#,
    ] {
        let body = app.post(document, json!({})).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "AS_OF_OUT_OF_RANGE", "{body}");
        assert_eq!(error["extensions"]["earliest"], "2015-01-01", "{body}");
        assert!(error["message"].as_str().unwrap().contains("2015-01-01"), "{body}");
    }

    let first_day = app
        .post(
            r#"{ regions(asOf: "2015-01-01") { totalCount } coverage { from today latestChange source } }"#,
            json!({}),
        )
        .await;
    assert_eq!(first_day["data"]["regions"]["totalCount"], 42);
    assert!(first_day["extensions"]["provisional"].is_null(), "{first_day}");
    let coverage = &first_day["data"]["coverage"];
    assert_eq!(coverage["from"], "2015-01-01");
    assert_eq!(coverage["latestChange"], "2024-01-01", "Zeewolde and Voorschoten changed region then");
    assert!(coverage["source"].as_str().unwrap().contains("Bron: CBS"));

    let future =
        app.post(r#"{ region(code: "JZ39", asOf: "2099-01-01") { municipalities { code } } }"#, json!({})).await;
    assert_eq!(future["data"]["region"]["municipalities"].as_array().unwrap().len(), 21, "today's state goes on");
    assert_eq!(future["extensions"]["provisional"]["today"], coverage["today"], "{future}");
    let today = app.post(r#"{ region(code: "JZ39") { code } }"#, json!({})).await;
    assert!(today["extensions"]["provisional"].is_null(), "{today}");
}

#[tokio::test]
async fn sub_regions_roles_held_by_a_cooperation_and_partial_members_are_recorded() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ samen: cooperation(code: "SAMEN-VOOR-JEUGD") { parent { code } parts { code } }
                 kempen: cooperation(code: "KEMPENGEMEENTEN") { parent { code } }
                 twentyOne: cooperation(code: "21-VOOR-DE-JEUGD") { rolesHeld { kind careForm { code } holder { ... on Cooperation { code } } } }
                 ret: roles(filter: {holderCode: "21-VOOR-DE-JEUGD"}) { totalCount }
                 zuidLimburg: cooperation(code: "JEUGDHULP-ZUID-LIMBURG") { memberships { municipality { code } participation participationNote } }
                 structures2017: cooperations(asOf: "2017-06-01") { nodes { code validFrom validFromIsLowerBound validTo } }
                 after2017: cooperation(code: "DOMMELVALLEI-PLUS", asOf: "2018-01-01") { code } }"#,
        )
        .await;
    assert!(data["samen"]["parent"].is_null());
    assert_eq!(codes(&data["samen"]["parts"]), ["A2-GEMEENTEN", "BO-GEMEENTEN", "KEMPENGEMEENTEN"]);
    assert_eq!(data["kempen"]["parent"]["code"], "SAMEN-VOOR-JEUGD");
    assert_eq!(
        data["twentyOne"]["rolesHeld"],
        json!([{ "kind": "PURCHASING_ORGANISATION", "careForm": { "code": "REGIONAAL-EXPERTTEAM" }, "holder": { "code": "21-VOOR-DE-JEUGD" } }])
    );
    assert_eq!(data["ret"]["totalCount"], 1);
    let memberships = data["zuidLimburg"]["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 16);
    let partial: Vec<&str> = memberships
        .iter()
        .filter(|m| m["participation"] == "PARTIAL")
        .map(|m| m["municipality"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(partial, ["GM0882", "GM0917", "GM0986"], "Landgraaf, Heerlen, Voerendaal");
    assert!(memberships.iter().all(|m| (m["participation"] == "PARTIAL") == m["participationNote"].is_string()));
    let in_2017: Vec<&Value> = data["structures2017"]["nodes"].as_array().unwrap().iter().collect();
    let dommelvallei = in_2017.iter().find(|c| c["code"] == "DOMMELVALLEI-PLUS").expect("Dommelvallei+ in 2017");
    assert_eq!(dommelvallei["validTo"], "2018-01-01");
    assert_eq!(dommelvallei["validFromIsLowerBound"], true);
    assert!(in_2017.iter().any(|c| c["code"] == "HELMOND-DE-PEEL"));
    assert!(data["after2017"].is_null(), "the 2017 structures ended when the two purchasing regions began");
}

#[tokio::test]
async fn a_date_needs_a_four_digit_year_so_both_databases_order_it_alike() {
    let app = TestApp::spawn().await;
    for date in ["+10000-01-01", "-0001-01-01", "0-01-01", "2025-1-5"] {
        let body = app.post("query($d: Date) { regions(asOf: $d) { totalCount } }", json!({ "d": date })).await;
        assert!(body["data"].is_null(), "{date}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{date}: {body}");
    }
    let before = app.audit_count().await;
    let role = json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0753", "cooperationCode": "SAMEN-VOOR-JEUGD",
                       "validFrom": "+10000-01-01" });
    let (_, body) =
        app.as_operator().send(&crate::helpers::mutation_document("roleAssign"), json!({ "input": role })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(app.audit_count().await, before, "nothing was written");
}
