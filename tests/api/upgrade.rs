//! A registry seeded by version 1.1 (the 2025 classification only) gets the
//! CBS history on its first start with this version, audited, once.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, TestDatabase};
use crate::import::CLASSIFICATION;

/// What 1.1 seeded, made from today's seed: no names over time, no lineage, no
/// municipality that ended before 2025, no start of a municipality, and every
/// membership from 2025-01-01 (the reference date of the 2025 classification).
const AS_SEEDED_BY_1_1: [&str; 9] = [
    "DELETE FROM lineage",
    "DELETE FROM municipality_name",
    "DELETE FROM region_name",
    "DELETE FROM membership WHERE municipality_id IN (SELECT id FROM municipality WHERE valid_to IS NOT NULL)",
    "DELETE FROM municipality WHERE valid_to IS NOT NULL",
    "DELETE FROM membership WHERE valid_to IS NOT NULL",
    "UPDATE membership SET valid_from = '2025-01-01', valid_from_is_lower_bound = false",
    "UPDATE municipality SET valid_from = NULL, valid_from_is_lower_bound = false",
    "UPDATE region SET valid_from_is_lower_bound = false",
];

#[tokio::test]
async fn a_registry_seeded_by_1_1_gets_the_history_on_its_first_start() {
    let database = TestDatabase::fresh();
    {
        let (connection, _) = jeugdregio::db::connect(&database.url).await.unwrap();
        for statement in AS_SEEDED_BY_1_1 {
            connection.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        connection.close().await.unwrap();
    }
    let upgraded = TestApp::spawn_on(database).await;
    let seeded = TestApp::spawn().await;
    for year in 2015..=2025 {
        let date = json!({ "d": format!("{year}-01-01") });
        let (from_upgrade, from_seed) =
            (upgraded.query_with(CLASSIFICATION, date.clone()).await, seeded.query_with(CLASSIFICATION, date).await);
        assert_eq!(from_upgrade, from_seed, "{year}-01-01");
    }
    let audit = upgraded
        .as_operator()
        .query_with(
            r#"{ auditLog(first: 500, filter: {actor: "OPERATOR"}) { totalCount nodes { mutation subject } } }"#,
            json!({}),
        )
        .await;
    let loaded = audit["auditLog"]["nodes"].as_array().unwrap();
    assert!(loaded.len() > 400, "every municipality and region the upgrade touched is audited: {}", loaded.len());
    assert!(loaded.iter().all(|r| r["mutation"] == "historyBackfill" && r["subject"] == "jeugdregio 1.2 upgrade"));

    // A second start finds the history there and writes nothing.
    let before = upgraded.audit_count().await;
    let again = upgraded.start_another(upgraded.settings()).await;
    assert_eq!(again.audit_count().await, before);
}
