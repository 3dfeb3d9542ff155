//! The yearly CBS update: `jeugdregio import-cbs` brings a registry of 2022
//! to the classification of the data files, through the audited write path,
//! and a second run changes nothing.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, TestDatabase};
use crate::history::assert_every_year_is_the_cbs_classification;

const HISTORY_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migration/seed/history");

fn jeugdregio(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_jeugdregio")).args(args).output().expect("run jeugdregio");
    assert!(output.status.success(), "jeugdregio {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn import_cbs_applies_the_next_years_to_a_registry_of_2022_through_the_audited_write_path() {
    let database = TestDatabase::empty();
    let url = database.url.clone();
    jeugdregio(&["seed", "--database-url", &url, "--classification-before", "2023-01-01"]);
    let app = TestApp::spawn_on(database).await;
    let before = app.query(r#"{ voorne: municipalityRecord(code: "GM1992") { code } weesp: municipality(code: "GM0457", asOf: "2024-06-01") { code } }"#).await;
    assert!(before["voorne"].is_null(), "the registry of 2022 has no Voorne aan Zee");
    assert_eq!(before["weesp"]["code"], "GM0457", "in the registry of 2022, Weesp goes on");
    let audit_before = app.audit_count().await;

    let dry = stdout(&jeugdregio(&["import-cbs", "--database-url", &url, "--dry-run", HISTORY_DIR]));
    for expected in [
        "14 changes on 2 dates",
        "new municipality GM1992 Voorne aan Zee, in region JZ29",
        "GM0457 Weesp ends; its territory goes to GM0363 (Main, 0.958)",
        "GM0050 changes region: JZ08 -> JZ12",
        "GM0164 renamed: Hengelo -> Hengelo (O.)",
        "region JZ35 renamed: Midden-Brabant -> Midden-Brabant (Hart van Brabant)",
        "Dry run: nothing written.",
    ] {
        assert!(dry.contains(expected), "{expected:?} is not in:\n{dry}");
    }
    assert_eq!(app.audit_count().await, audit_before, "a dry run writes nothing");

    let applied = stdout(&jeugdregio(&["import-cbs", "--database-url", &url, HISTORY_DIR]));
    assert!(applied.contains("Applied 14 changes on 2 dates"), "{applied}");

    // The running service learns of the other process's commits through its listener.
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.query(r#"{ municipalityRecord(code: "GM1992") { code } }"#).await["municipalityRecord"].is_null() {
        assert!(Instant::now() < deadline, "the service did not see the import");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_every_year_is_the_cbs_classification(&app).await;
    let lineage = app
        .query(r#"{ voorne: municipality(code: "GM1992", asOf: "2023-01-01") { validFrom predecessors { kind areaShare municipality { code } } source }
                    weesp: municipalityRecord(code: "GM0457") { validTo successors { kind municipality { code } } } }"#)
        .await;
    assert_eq!(lineage["voorne"]["validFrom"], "2023-01-01");
    let predecessors: Vec<&str> = lineage["voorne"]["predecessors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["municipality"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(predecessors.len(), 3, "Brielle, Hellevoetsluis, Westvoorne: {predecessors:?}");
    assert!(lineage["voorne"]["source"].as_str().unwrap().contains("import-cbs"));
    assert_eq!(lineage["weesp"]["validTo"], "2023-01-01");
    assert_eq!(lineage["weesp"]["successors"][0], json!({ "kind": "MAIN", "municipality": { "code": "GM0363" } }));

    // Every change is audited as the import, and is in the change feed.
    let audit = app
        .as_operator()
        .query_with(
            r#"{ auditLog(first: 100, filter: {actor: "OPERATOR"}) { nodes { mutation objectCode subject } } }"#,
            json!({}),
        )
        .await;
    let imported: Vec<&serde_json::Value> =
        audit["auditLog"]["nodes"].as_array().unwrap().iter().filter(|r| r["mutation"] == "importCbs").collect();
    assert_eq!(app.audit_count().await, audit_before + imported.len() as u64);
    let objects: Vec<&str> = imported.iter().map(|r| r["objectCode"].as_str().unwrap()).collect();
    for code in ["GM1992", "GM0457", "GM0501", "GM0530", "GM0614", "GM0050", "GM0626", "GM0164", "JZ35"] {
        assert!(objects.contains(&code), "{code} is not in the audit log: {objects:?}");
    }
    assert!(imported.iter().all(|r| r["subject"] == "jeugdregio import-cbs"));
    let feed = app.query(r#"{ changes(after: "0", first: 500) { nodes { code } } }"#).await;
    let fed: Vec<&str> =
        feed["changes"]["nodes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    for code in ["GM1992", "GM0457", "JZ35", "GM0050"] {
        assert!(fed.contains(&code), "{code} is not in the change feed");
    }

    let again = stdout(&jeugdregio(&["import-cbs", "--database-url", &url, HISTORY_DIR]));
    assert!(again.contains("nothing to change"), "{again}");
    assert_eq!(app.audit_count().await, audit_before + imported.len() as u64, "a second run writes nothing");
}

#[tokio::test]
async fn import_cbs_refuses_a_file_that_puts_a_municipality_in_two_regions() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["regions.csv", "municipalities.csv", "lineage.csv"] {
        std::fs::copy(format!("{HISTORY_DIR}/{file}"), dir.path().join(file)).unwrap();
    }
    let mut memberships = std::fs::read_to_string(format!("{HISTORY_DIR}/memberships.csv")).unwrap();
    memberships.push_str("GM0772,Eindhoven,JZ01,2024-01-01,\n");
    std::fs::write(dir.path().join("memberships.csv"), memberships).unwrap();
    let database = TestDatabase::empty();
    let output = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["import-cbs", "--database-url", &database.url, "--dry-run"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not every municipality is in exactly one region"), "{stderr}");
}

/// The classification side of a registry on a date: every municipality with its
/// names, regions over time and lineage, and every region with its names.
pub const CLASSIFICATION: &str = r#"query($d: Date!) {
    municipalities(asOf: $d, first: 500) { nodes { code name validFrom validFromIsLowerBound validTo
        names { name validFrom validTo } regionHistory { region { code } validFrom validTo }
        successors { effectiveDate kind areaShare areaKm2 municipality { code } }
        predecessors { effectiveDate kind areaShare areaKm2 municipality { code } } } }
    regions(asOf: $d) { nodes { code name names { name validFrom validTo } } } }"#;

#[tokio::test]
async fn a_catch_up_over_nine_years_gives_the_registry_the_seed_gives() {
    let database = TestDatabase::empty();
    let url = database.url.clone();
    jeugdregio(&["seed", "--database-url", &url, "--classification-before", "2016-01-01"]);
    let applied = stdout(&jeugdregio(&["import-cbs", "--database-url", &url, HISTORY_DIR]));
    assert!(applied.contains("Applied"), "{applied}");
    for year in ["2016-01-01", "2019-01-01", "2021-01-01", "2024-01-01"] {
        assert!(applied.contains(&format!("{year}:")), "changes of {year} are applied: {applied}");
    }
    let imported = TestApp::spawn_on(database).await;
    let seeded = TestApp::spawn().await;
    for year in 2015..=2025 {
        let date = json!({ "d": format!("{year}-01-01") });
        let (from_import, from_seed) =
            (imported.query_with(CLASSIFICATION, date.clone()).await, seeded.query_with(CLASSIFICATION, date).await);
        assert_eq!(from_import, from_seed, "{year}-01-01");
    }
    let again = stdout(&jeugdregio(&["import-cbs", "--database-url", &url, HISTORY_DIR]));
    assert!(again.contains("nothing to change"), "{again}");
}
