//! Writes over real HTTP: the authorisation matrix, input validation,
//! optimistic concurrency, idempotent retries and a municipal merger.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Caller, TestApp, bad_authorizations, codes, mutation_document, on_postgres, payload_object};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Unauthenticated,
    Forbidden,
    Allowed,
}
use Expect::*;

/// The callers of the matrix, in the order they try.
#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    BadToken,
    Other,
    Itself,
    Lead,
    Operator,
}

/// One mutation of the matrix: how to build its input for attempt `n`
/// given the object's current version, and who may run it.
struct Case {
    mutation: &'static str,
    /// Query returning `{ version }` of the object under `data.o`, if it exists before.
    version_query: Option<&'static str>,
    input: fn(usize, i64) -> Value,
    /// Municipality codes for Other, Itself, Lead.
    other: &'static str,
    itself: &'static str,
    lead: &'static str,
    expect: [Expect; 6],
}

/// Amsterdam: no role in Zuidoost-Brabant. For cooperation and role cases the
/// other caller is Roermond, which leads a different cooperation (JeugdzorgPlus
/// Landsdeel Zuidoost).
const OTHER: &str = "GM0363";
const OPERATOR_ONLY: [Expect; 6] = [Unauthenticated, Unauthenticated, Forbidden, Forbidden, Forbidden, Allowed];
const LEAD_AND_OPERATOR: [Expect; 6] = [Unauthenticated, Unauthenticated, Forbidden, Forbidden, Allowed, Allowed];
const ITSELF_AND_OPERATOR: [Expect; 6] = [Unauthenticated, Unauthenticated, Forbidden, Allowed, Forbidden, Allowed];

fn cases() -> Vec<Case> {
    vec![
        Case {
            mutation: "municipalityUpdate",
            version_query: Some(r#"{ o: municipality(code: "GM0753") { version } }"#),
            input: |n, v| json!({ "code": "GM0753", "expectedVersion": v, "website": format!("https://www.best.nl/{n}") }),
            other: "GM0957",
            itself: "GM0753",
            lead: "GM0772",
            expect: ITSELF_AND_OPERATOR,
        },
        Case {
            mutation: "roleAssign",
            version_query: None,
            input: |n, _| {
                let care_form = ["CRISIS", "VERSLAVINGSZORG", "LANGDURIG-VERBLIJF"][n % 3];
                json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0753", "cooperationCode": "SAMEN-VOOR-JEUGD",
                        "careFormCode": care_form, "validFrom": "2026-01-01" })
            },
            other: "GM0957",
            itself: "GM0753",
            lead: "GM0772",
            expect: LEAD_AND_OPERATOR,
        },
        Case {
            mutation: "roleEnd",
            version_query: Some(r#"{ o: role(code: "RL00002") { version } }"#),
            input: |n, v| json!({ "code": "RL00002", "expectedVersion": v, "validTo": format!("{}-01-01", 2040 - n) }),
            other: "GM0957",
            itself: "GM0753",
            lead: "GM0772",
            expect: LEAD_AND_OPERATOR,
        },
        Case {
            mutation: "cooperationCreate",
            version_query: None,
            input: |n, _| {
                json!({ "code": format!("NEW-COOPERATION-{n}"), "name": "Nieuwe samenwerking", "scale": "SUBREGIONAL",
                                   "municipalityCodes": ["GM0753", "GM0823"] })
            },
            other: "GM0957",
            itself: "GM0753",
            lead: "GM0772",
            expect: OPERATOR_ONLY,
        },
        Case {
            mutation: "cooperationUpdate",
            version_query: Some(r#"{ o: cooperation(code: "SAMEN-VOOR-JEUGD") { version } }"#),
            input: |n, v| json!({ "code": "SAMEN-VOOR-JEUGD", "expectedVersion": v, "description": format!("Beschrijving {n}") }),
            other: "GM0957",
            itself: "GM0753",
            lead: "GM0772",
            expect: LEAD_AND_OPERATOR,
        },
        Case {
            mutation: "cooperationEnd",
            version_query: Some(r#"{ o: cooperation(code: "SAMEN-VOOR-JEUGD") { version } }"#),
            input: |n, v| json!({ "code": "SAMEN-VOOR-JEUGD", "expectedVersion": v, "validTo": format!("{}-01-01", 2040 - n) }),
            other: "GM0957",
            itself: "GM0753",
            lead: "GM0772",
            expect: LEAD_AND_OPERATOR,
        },
        Case {
            mutation: "cooperationMembersSet",
            version_query: Some(r#"{ o: cooperation(code: "SAMEN-VOOR-JEUGD") { version } }"#),
            input: |n, v| {
                let mut members = vec![
                    "GM0772", "GM1724", "GM1728", "GM0770", "GM1667", "GM1706", "GM1658", "GM0858", "GM0753", "GM0823",
                ];
                members.truncate(10 - n);
                json!({ "code": "SAMEN-VOOR-JEUGD", "expectedVersion": v, "municipalityCodes": members, "validFrom": "2027-01-01" })
            },
            other: "GM0957",
            itself: "GM0753",
            lead: "GM0772",
            expect: LEAD_AND_OPERATOR,
        },
        Case {
            mutation: "frameworkContractCreate",
            version_query: None,
            input: |n, _| {
                json!({ "code": format!("EINDHOVEN-CONTRACT-{n}"), "title": "Regionaal contract", "scale": "REGIONAL",
                                   "contractingAuthorityCode": "GM0772", "partyRegionCodes": ["JZ39"], "careFormCodes": ["CRISIS"],
                                   "validFrom": "2026-01-01", "validTo": "2028-01-01" })
            },
            other: OTHER,
            itself: "GM0772",
            lead: "GM0957",
            expect: ITSELF_AND_OPERATOR,
        },
        Case {
            mutation: "frameworkContractUpdate",
            version_query: Some(r#"{ o: frameworkContract(code: "EINDHOVEN-BASE") { version } }"#),
            input: |n, v| json!({ "code": "EINDHOVEN-BASE", "expectedVersion": v, "title": format!("Contract {n}") }),
            other: OTHER,
            itself: "GM0772",
            lead: "GM0957",
            expect: ITSELF_AND_OPERATOR,
        },
        Case {
            mutation: "frameworkContractEnd",
            version_query: Some(r#"{ o: frameworkContract(code: "EINDHOVEN-BASE") { version } }"#),
            input: |n, v| json!({ "code": "EINDHOVEN-BASE", "expectedVersion": v, "validTo": format!("{}-01-01", 2040 - n) }),
            other: OTHER,
            itself: "GM0772",
            lead: "GM0957",
            expect: ITSELF_AND_OPERATOR,
        },
        Case {
            mutation: "frameworkContractPartiesSet",
            version_query: Some(r#"{ o: frameworkContract(code: "EINDHOVEN-BASE") { version } }"#),
            input: |n, v| json!({ "code": "EINDHOVEN-BASE", "expectedVersion": v, "regionCodes": if n % 2 == 0 { vec!["JZ39"] } else { vec!["JZ39", "JZ33"] } }),
            other: OTHER,
            itself: "GM0772",
            lead: "GM0957",
            expect: ITSELF_AND_OPERATOR,
        },
        Case {
            mutation: "membershipChange",
            version_query: Some(r#"{ o: municipality(code: "GM0753") { version } }"#),
            input: |n, v| json!({ "municipalityCode": "GM0753", "expectedVersion": v, "regionCode": "JZ35", "validFrom": format!("{}-01-01", 2030 + n) }),
            other: OTHER,
            itself: "GM0753",
            lead: "GM0772",
            expect: OPERATOR_ONLY,
        },
        Case {
            mutation: "municipalityMerge",
            version_query: None,
            input: |n, _| {
                json!({ "municipalityCodes": ["GM1724", "GM1728"], "successorCode": format!("GM99{n:02}"),
                                   "successorName": "Kempen-Zuid", "provinceCode": "PV30", "date": "2031-01-01" })
            },
            other: OTHER,
            itself: "GM1724",
            lead: "GM0772",
            expect: OPERATOR_ONLY,
        },
        Case {
            mutation: "providerCreate",
            version_query: None,
            input: |n, _| json!({ "code": format!("NIEUWE-AANBIEDER-{n}"), "name": "Nieuwe aanbieder" }),
            other: OTHER,
            itself: "GM0772",
            lead: "GM0772",
            expect: OPERATOR_ONLY,
        },
        Case {
            mutation: "providerUpdate",
            version_query: Some(r#"{ o: provider(code: "BJ-BRABANT") { version } }"#),
            input: |n, v| json!({ "code": "BJ-BRABANT", "expectedVersion": v, "website": format!("https://www.example.nl/{n}") }),
            other: OTHER,
            itself: "GM0772",
            lead: "GM0772",
            expect: OPERATOR_ONLY,
        },
        Case {
            mutation: "careFormCreate",
            version_query: None,
            input: |n, _| json!({ "code": format!("NIEUWE-ZORGVORM-{n}"), "name": "Nieuwe zorgvorm", "nameEn": "New care form" }),
            other: OTHER,
            itself: "GM0772",
            lead: "GM0772",
            expect: OPERATOR_ONLY,
        },
        Case {
            mutation: "careFormUpdate",
            version_query: Some(r#"{ o: careForm(code: "CRISIS") { version } }"#),
            input: |n, v| json!({ "code": "CRISIS", "expectedVersion": v, "description": format!("Beschrijving {n}") }),
            other: OTHER,
            itself: "GM0772",
            lead: "GM0772",
            expect: OPERATOR_ONLY,
        },
    ]
}

/// A contract awarded by Eindhoven, for the contract cases.
async fn create_base_contract(app: &TestApp) {
    let input = json!({ "code": "EINDHOVEN-BASE", "title": "Basiscontract", "scale": "REGIONAL",
                        "contractingAuthorityCode": "GM0772", "partyRegionCodes": ["JZ39"] });
    app.as_operator().mutate_ok("frameworkContractCreate", input).await;
}

/// The version of a case's object (0 when it does not exist before).
async fn version(app: &TestApp, query: Option<&str>) -> i64 {
    match query {
        Some(query) => app.version(query).await,
        None => 0,
    }
}

#[tokio::test]
async fn every_mutation_is_allowed_exactly_for_who_the_policy_names() {
    let app = TestApp::spawn().await;
    create_base_contract(&app).await;
    for case in cases() {
        let document = mutation_document(case.mutation);
        let object = payload_object(case.mutation);
        let everyone = [Who::Anonymous, Who::BadToken, Who::Other, Who::Itself, Who::Lead, Who::Operator];
        // Every bad-token variant is tried against every mutation.
        let mut attempts: Vec<(Who, Expect, Caller)> = Vec::new();
        for (who, expect) in everyone.into_iter().zip(case.expect) {
            let callers = match who {
                Who::Anonymous => vec![app.anonymous()],
                Who::BadToken => bad_authorizations().iter().map(|header| app.caller(Some(header))).collect(),
                Who::Other => vec![app.as_municipality(case.other)],
                Who::Itself => vec![app.as_municipality(case.itself)],
                Who::Lead => vec![app.as_municipality(case.lead)],
                Who::Operator => vec![app.as_operator()],
            };
            attempts.extend(callers.into_iter().map(|caller| (who, expect, caller)));
        }
        for (attempt, (who, expect, caller)) in attempts.into_iter().enumerate() {
            let before_version = version(&app, case.version_query).await;
            let before_audit = app.audit_count().await;
            let input = (case.input)(attempt, before_version);
            let (status, body) = caller.send(&document, json!({ "input": input })).await;
            let what = format!("{} by {who:?}: {body}", case.mutation);
            match expect {
                Allowed => {
                    assert_eq!(status, 200, "{what}");
                    assert!(body.get("errors").is_none(), "{what}");
                    assert_eq!(body["data"][case.mutation]["userErrors"], json!([]), "{what}");
                    assert!(body["data"][case.mutation][object]["code"].is_string(), "{what}");
                    assert!(app.audit_count().await > before_audit, "{what}: audited");
                    if case.version_query.is_some() {
                        assert_eq!(version(&app, case.version_query).await, before_version + 1, "{what}");
                    }
                }
                Unauthenticated | Forbidden => {
                    let code = if expect == Unauthenticated { "UNAUTHENTICATED" } else { "FORBIDDEN" };
                    assert_eq!(body["errors"][0]["extensions"]["code"], code, "{what}");
                    assert!(body["data"].is_null() || body["data"][case.mutation].is_null(), "{what}");
                    assert_eq!(app.audit_count().await, before_audit, "{what}: nothing audited");
                    assert_eq!(version(&app, case.version_query).await, before_version, "{what}: nothing changed");
                }
            }
        }
    }
    // A municipality never changes a national contract, even one it awards.
    let eindhoven = app.as_municipality("GM0772");
    let national = json!({ "code": "NATIONAL-BY-EINDHOVEN", "title": "t", "scale": "NATIONAL", "contractingAuthorityCode": "GM0772" });
    let reply = eindhoven.mutate("frameworkContractCreate", national.clone()).await;
    assert_eq!(reply.error_code(), "FORBIDDEN", "{reply}");
    let reply = app.as_operator().mutate("frameworkContractCreate", national).await;
    assert_eq!(reply.payload["userErrors"], json!([]), "{reply}");
    let update = json!({ "code": "NATIONAL-BY-EINDHOVEN", "expectedVersion": 1, "title": "x" });
    let reply = eindhoven.mutate("frameworkContractUpdate", update).await;
    assert_eq!(reply.error_code(), "FORBIDDEN", "{reply}");
}

#[tokio::test]
async fn a_lead_cannot_make_itself_lead_of_something_else() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    for input in [
        // Lead of another region through a role that also names its own cooperation.
        json!({ "kind": "LEAD_MUNICIPALITY", "holderCode": "GM0772", "cooperationCode": "SAMEN-VOOR-JEUGD", "regionCode": "JZ33", "validFrom": "2026-01-01" }),
        // Another lead role for its own cooperation.
        json!({ "kind": "PURCHASING_ORGANISATION", "holderCode": "GM0772", "cooperationCode": "SAMEN-VOOR-JEUGD", "careFormCode": "CRISIS", "validFrom": "2026-01-01" }),
        // A role for a cooperation it does not lead.
        json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0772", "cooperationCode": "JENS", "validFrom": "2026-01-01" }),
    ] {
        let reply = eindhoven.mutate("roleAssign", input.clone()).await;
        assert_eq!(reply.error_code(), "FORBIDDEN", "{input}: {reply}");
    }
    assert_eq!(app.audit_count().await, 0);
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let operator = app.as_operator();
    let long = "x".repeat(301);
    let cases: Vec<(Value, Value, &str)> = vec![
        (json!({ "code": "GM0772", "expectedVersion": 1, "website": "not a url" }), json!(["website"]), "INVALID"),
        (
            json!({ "code": "GM0772", "expectedVersion": 1, "website": "ftp://eindhoven.nl" }),
            json!(["website"]),
            "INVALID",
        ),
        (
            json!({ "code": "GM0772", "expectedVersion": 1, "accessPoint": { "email": "jeugd@" } }),
            json!(["accessPoint", "email"]),
            "INVALID",
        ),
        (
            json!({ "code": "GM0772", "expectedVersion": 1, "accessPoint": { "phone": "call us" } }),
            json!(["accessPoint", "phone"]),
            "INVALID",
        ),
        (
            json!({ "code": "GM0772", "expectedVersion": 1, "accessPoint": { "phone": "12" } }),
            json!(["accessPoint", "phone"]),
            "INVALID",
        ),
        (
            json!({ "code": "GM0772", "expectedVersion": 1, "accessPoint": { "address": long } }),
            json!(["accessPoint", "address"]),
            "INVALID",
        ),
        (
            json!({ "code": "GM0772", "expectedVersion": 1, "accessPoint": { "name": "  " } }),
            json!(["accessPoint", "name"]),
            "INVALID",
        ),
        (
            json!({ "code": "GM0772", "expectedVersion": 7, "website": "https://www.eindhoven.nl" }),
            json!(["expectedVersion"]),
            "CONFLICT",
        ),
    ];
    let before = app.audit_count().await;
    for (input, field, code) in cases {
        let reply = eindhoven.mutate("municipalityUpdate", input.clone()).await;
        let errors = &reply.payload["userErrors"];
        assert_eq!(errors[0]["field"], field, "{input}: {reply}");
        assert_eq!(errors[0]["code"], code, "{input}: {reply}");
        assert!(reply.payload["municipality"].is_null());
    }

    let operator_cases: Vec<(&str, Value, Value, &str)> = vec![
        (
            "roleAssign",
            json!({ "kind": "LEAD_MUNICIPALITY", "holderCode": "GM0772", "cooperationCode": "SAMEN-VOOR-JEUGD", "validFrom": "2026-01-01", "validTo": "2025-01-01" }),
            json!(["validTo"]),
            "INVALID",
        ),
        (
            "roleAssign",
            json!({ "kind": "LEAD_MUNICIPALITY", "holderCode": "GM9999", "cooperationCode": "SAMEN-VOOR-JEUGD", "validFrom": "2026-01-01" }),
            json!(["holderCode"]),
            "NOT_FOUND",
        ),
        (
            "roleAssign",
            json!({ "kind": "LEAD_MUNICIPALITY", "holderCode": "Eindhoven", "cooperationCode": "SAMEN-VOOR-JEUGD", "validFrom": "2026-01-01" }),
            json!(["holderCode"]),
            "INVALID",
        ),
        (
            "roleAssign",
            json!({ "kind": "PURCHASING_ORGANISATION", "holderCode": "GM0753", "cooperationCode": "SAMEN-VOOR-JEUGD", "validFrom": "2026-01-01" }),
            json!(["validFrom"]),
            "OVERLAP",
        ),
        (
            "roleAssign",
            json!({ "kind": "LEAD_MUNICIPALITY", "holderCode": "GM0772", "validFrom": "2026-01-01" }),
            json!(["regionCode"]),
            "INVALID",
        ),
        (
            "roleEnd",
            json!({ "code": "RL00001", "expectedVersion": 1, "validTo": "2017-01-01" }),
            json!(["validTo"]),
            "INVALID",
        ),
        (
            "cooperationCreate",
            json!({ "code": "samen voor jeugd", "name": "x", "scale": "REGIONAL" }),
            json!(["code"]),
            "INVALID",
        ),
        (
            "cooperationCreate",
            json!({ "code": "SAMEN-VOOR-JEUGD", "name": "x", "scale": "REGIONAL" }),
            json!(["code"]),
            "CONFLICT",
        ),
        (
            "cooperationCreate",
            json!({ "code": "NIEUW", "name": "x", "scale": "REGIONAL", "municipalityCodes": ["GM0000"] }),
            json!(["municipalityCodes"]),
            "NOT_FOUND",
        ),
        (
            "cooperationUpdate",
            json!({ "code": "SAMEN-VOOR-JEUGD", "expectedVersion": 1, "name": "y".repeat(201) }),
            json!(["name"]),
            "INVALID",
        ),
        (
            "cooperationUpdate",
            json!({ "code": "NOPE", "expectedVersion": 1, "name": "y" }),
            json!(["code"]),
            "NOT_FOUND",
        ),
        (
            "frameworkContractCreate",
            json!({ "code": "C-1", "title": "t", "scale": "REGIONAL", "validFrom": "2026-01-01", "validTo": "2026-01-01" }),
            json!(["validTo"]),
            "INVALID",
        ),
        (
            "frameworkContractCreate",
            json!({ "code": "C-1", "title": "t", "scale": "REGIONAL", "careFormCodes": ["NOPE"] }),
            json!(["careFormCodes"]),
            "NOT_FOUND",
        ),
        (
            "membershipChange",
            json!({ "municipalityCode": "GM0772", "expectedVersion": 1, "regionCode": "JZ39", "validFrom": "2027-01-01" }),
            json!(["regionCode"]),
            "INVALID",
        ),
        (
            "membershipChange",
            json!({ "municipalityCode": "GM0772", "expectedVersion": 1, "regionCode": "JZ99", "validFrom": "2027-01-01" }),
            json!(["regionCode"]),
            "NOT_FOUND",
        ),
        (
            "municipalityMerge",
            json!({ "municipalityCodes": ["GM0772"], "successorCode": "GM0772", "date": "2027-01-01" }),
            json!(["successorCode"]),
            "INVALID",
        ),
        (
            "municipalityMerge",
            json!({ "municipalityCodes": ["GM0772"], "successorCode": "GM9990", "date": "2027-01-01" }),
            json!(["successorName"]),
            "INVALID",
        ),
        (
            "providerCreate",
            json!({ "code": "P-1", "name": "p", "website": "www.no-scheme.nl" }),
            json!(["website"]),
            "INVALID",
        ),
        ("careFormCreate", json!({ "code": "CF-1", "name": "", "nameEn": "x" }), json!(["name"]), "INVALID"),
        (
            "careFormUpdate",
            json!({ "code": "CRISIS", "expectedVersion": 1, "nameEn": " " }),
            json!(["nameEn"]),
            "INVALID",
        ),
        (
            "careFormUpdate",
            json!({ "code": "CRISIS", "expectedVersion": 5, "nameEn": "Crisis" }),
            json!(["expectedVersion"]),
            "CONFLICT",
        ),
        (
            "providerUpdate",
            json!({ "code": "BJ-BRABANT", "expectedVersion": 1, "website": "mailto:x@y.nl" }),
            json!(["website"]),
            "INVALID",
        ),
        (
            "roleAssign",
            json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0772", "cooperationCode": "JENS", "validFrom": "2026-01-01", "note": "n".repeat(2001) }),
            json!(["note"]),
            "INVALID",
        ),
        (
            "roleAssign",
            json!({ "kind": "CONTRACT_MANAGER", "holderCode": "JZ39", "cooperationCode": "JENS", "validFrom": "2026-01-01" }),
            json!(["holderCode"]),
            "INVALID",
        ),
        (
            "cooperationEnd",
            json!({ "code": "JENS", "expectedVersion": 3, "validTo": "2030-01-01" }),
            json!(["expectedVersion"]),
            "CONFLICT",
        ),
        (
            "cooperationMembersSet",
            json!({ "code": "JENS", "expectedVersion": 1, "regionCodes": ["JZ40"] }),
            json!(["regionCodes"]),
            "NOT_FOUND",
        ),
        (
            "frameworkContractUpdate",
            json!({ "code": "VNG-GENDERKLINIEKEN", "expectedVersion": 1, "validFrom": "2026-01-01", "validTo": "2025-01-01" }),
            json!(["validTo"]),
            "INVALID",
        ),
        (
            "frameworkContractEnd",
            json!({ "code": "NOPE", "expectedVersion": 1, "validTo": "2030-01-01" }),
            json!(["code"]),
            "NOT_FOUND",
        ),
        (
            "frameworkContractPartiesSet",
            json!({ "code": "VNG-GENDERKLINIEKEN", "expectedVersion": 1, "regionCodes": ["JZ39", "JZ99"] }),
            json!(["regionCodes"]),
            "NOT_FOUND",
        ),
        (
            "municipalityMerge",
            json!({ "municipalityCodes": [], "successorCode": "GM9990", "successorName": "x", "provinceCode": "PV30", "date": "2027-01-01" }),
            json!(["municipalityCodes"]),
            "INVALID",
        ),
        (
            "municipalityMerge",
            json!({ "municipalityCodes": ["GM0772", "GM0014"], "successorCode": "GM9990", "successorName": "x", "provinceCode": "PV30", "date": "2027-01-01" }),
            json!(["regionCode"]),
            "INVALID",
        ),
    ];
    for (mutation, input, field, code) in operator_cases {
        let reply = operator.mutate(mutation, input.clone()).await;
        let errors = &reply.payload["userErrors"];
        assert_eq!(errors[0]["field"], field, "{mutation} {input}: {reply}");
        assert_eq!(errors[0]["code"], code, "{mutation} {input}: {reply}");
    }
    assert_eq!(app.audit_count().await, before, "refused input writes nothing");

    // A Date that is not a date is refused before it reaches the registry.
    let reply =
        operator.mutate("roleEnd", json!({ "code": "RL00001", "expectedVersion": 1, "validTo": "2026-13-01" })).await;
    assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{reply}");
}

#[tokio::test]
async fn an_update_changes_only_what_it_names_and_is_audited_with_old_and_new_values() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let input = json!({ "code": "GM0772", "expectedVersion": 1, "website": "https://www.eindhoven.nl",
        "accessPoint": { "name": "Toegang Jeugd Eindhoven", "phone": "14 040", "email": "jeugd@eindhoven.nl", "address": "Stadhuisplein 10, Eindhoven" } });
    let reply = eindhoven.mutate("municipalityUpdate", input).await;
    let municipality = &reply.payload["municipality"];
    assert_eq!(municipality["version"], 2, "{reply}");
    assert_eq!(municipality["accessPoint"]["phone"], "14 040");

    let input = json!({ "code": "GM0772", "expectedVersion": 2, "accessPoint": { "phone": null } });
    let reply = eindhoven.mutate("municipalityUpdate", input).await;
    let municipality = &reply.payload["municipality"];
    assert_eq!(municipality["version"], 3);
    assert!(municipality["accessPoint"]["phone"].is_null(), "null clears");
    assert_eq!(municipality["accessPoint"]["email"], "jeugd@eindhoven.nl", "omitted stays");
    assert_eq!(municipality["website"], "https://www.eindhoven.nl");

    let query = r#"{ auditLog(filter: {objectCode: "GM0772"}) { totalCount nodes { actor subject mutation objectType objectCode versionBefore versionAfter changes { field old new } } } }"#;
    let as_operator = app.as_operator().post(query, json!({})).await;
    let records = as_operator["data"]["auditLog"]["nodes"].as_array().unwrap().clone();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["actor"], "GM0772");
    assert_eq!(records[1]["subject"], "tester@example.org");
    assert_eq!(records[1]["mutation"], "municipalityUpdate");
    assert_eq!((records[1]["versionBefore"].clone(), records[1]["versionAfter"].clone()), (json!(2), json!(3)));
    assert_eq!(records[1]["changes"], json!([{ "field": "accessPoint.phone", "old": "14 040", "new": null }]));

    let anonymous = app.query(query).await;
    assert_eq!(anonymous["auditLog"]["totalCount"], 2);
    assert!(anonymous["auditLog"]["nodes"][1]["subject"].is_null(), "only the operator sees sub");
    let by_actor = app.query(r#"{ auditLog(filter: {actor: "OPERATOR"}) { totalCount } }"#).await;
    assert_eq!(by_actor["auditLog"]["totalCount"], 0);
}

#[tokio::test]
async fn twenty_concurrent_updates_with_one_version_give_one_winner() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let before = app.audit_count().await;
    let attempts = (0..20).map(|n| {
        let eindhoven = &eindhoven;
        async move {
            let input =
                json!({ "code": "GM0772", "expectedVersion": 1, "website": format!("https://www.eindhoven.nl/{n}") });
            (n, eindhoven.mutate("municipalityUpdate", input).await.body)
        }
    });
    // All twenty requests are in flight at once.
    let results = futures::future::join_all(attempts).await;
    let winners: Vec<usize> = results
        .iter()
        .filter(|(_, body)| body["data"]["municipalityUpdate"]["userErrors"] == json!([]))
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, body) in results.iter().filter(|(n, _)| *n != winners[0]) {
        let error = &body["data"]["municipalityUpdate"]["userErrors"][0];
        assert_eq!(error["code"], "CONFLICT", "{body}");
        assert!(error["message"].as_str().unwrap().contains("current version 2"), "{body}");
    }
    let now = app.query(r#"{ municipality(code: "GM0772") { version website } }"#).await;
    assert_eq!(now["municipality"]["version"], 2);
    assert_eq!(now["municipality"]["website"], format!("https://www.eindhoven.nl/{}", winners[0]));
    assert_eq!(app.audit_count().await, before + 1);

    // In sequence, each with the version it read: every update lands.
    for n in 0..5 {
        let version = app.version(r#"{ o: municipality(code: "GM0772") { version } }"#).await;
        let input =
            json!({ "code": "GM0772", "expectedVersion": version, "accessPoint": { "name": format!("Toegang {n}") } });
        eindhoven.mutate_ok("municipalityUpdate", input).await;
    }
    let now = app.query(r#"{ municipality(code: "GM0772") { version accessPoint { name } } }"#).await;
    assert_eq!(now["municipality"]["version"], 7);
    assert_eq!(now["municipality"]["accessPoint"]["name"], "Toegang 4");
    assert_eq!(app.audit_count().await, before + 6);
}

#[tokio::test]
async fn a_retry_with_the_same_client_mutation_id_writes_once() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let input = json!({ "code": "GM0772", "expectedVersion": 1, "website": "https://www.eindhoven.nl", "clientMutationId": "sync-2026-11-23-001" });
    let first = eindhoven.mutate("municipalityUpdate", input.clone()).await;
    assert_eq!(first.payload["replayed"], false);
    let audit = app.audit_count().await;
    let second = eindhoven.mutate("municipalityUpdate", input.clone()).await;
    let payload = &second.payload;
    assert_eq!(payload["replayed"], true, "{second}");
    assert_eq!(payload["userErrors"], json!([]), "a retry is not a version conflict");
    assert_eq!(payload["clientMutationId"], "sync-2026-11-23-001");
    assert_eq!(payload["municipality"]["version"], 2);
    assert_eq!(app.audit_count().await, audit, "the retry wrote nothing");

    let mut changed = input.clone();
    changed["website"] = json!("https://www.eindhoven.nl/jeugd");
    let reused = eindhoven.mutate("municipalityUpdate", changed).await;
    assert_eq!(reused.payload["userErrors"][0]["field"], json!(["clientMutationId"]));
    assert_eq!(reused.payload["userErrors"][0]["code"], "CONFLICT");
}

#[tokio::test]
async fn a_merger_is_seen_through_as_of_the_day_before_and_the_day_after() {
    let app = TestApp::spawn().await;
    // Eindhoven holds roles; Best is a member of Samen voor Jeugd, as is Eindhoven.
    let merge = json!({ "municipalityCodes": ["GM0772", "GM0753"], "successorCode": "GM9901",
                        "successorName": "Groot-Eindhoven", "provinceCode": "PV30", "date": "2027-01-01" });
    let payload = app.as_operator().mutate_ok("municipalityMerge", merge).await;
    assert_eq!(payload["municipality"]["code"], "GM9901");

    let query = r#"query($d: Date!) {
        eindhoven: municipality(code: "GM0772", asOf: $d) { code region { code } rolesHeld { kind } }
        successor: municipality(code: "GM9901", asOf: $d) { name region { code } rolesHeld { kind cooperation { code } } cooperations { code } }
        region(code: "JZ39", asOf: $d) { municipalities { code } }
        samen: cooperation(code: "SAMEN-VOOR-JEUGD", asOf: $d) { memberMunicipalities { code } }
        total: municipalities(asOf: $d) { totalCount } }"#;
    let before = app.query_with(query, json!({ "d": "2026-12-31" })).await;
    assert_eq!(before["eindhoven"]["region"]["code"], "JZ39");
    assert_eq!(before["eindhoven"]["rolesHeld"].as_array().unwrap().len(), 7);
    assert!(before["successor"].is_null());
    assert_eq!(before["region"]["municipalities"].as_array().unwrap().len(), 21);
    assert_eq!(before["total"]["totalCount"], 342);

    let after = app.query_with(query, json!({ "d": "2027-01-01" })).await;
    assert!(after["eindhoven"].is_null(), "Eindhoven has ended");
    assert_eq!(after["successor"]["name"], "Groot-Eindhoven");
    assert_eq!(after["successor"]["region"]["code"], "JZ39");
    assert_eq!(after["successor"]["rolesHeld"].as_array().unwrap().len(), 7, "the roles passed to the successor");
    let members = codes(&after["region"]["municipalities"]);
    assert_eq!(members.len(), 20);
    assert!(
        members.contains(&"GM9901".to_owned())
            && !members.contains(&"GM0772".to_owned())
            && !members.contains(&"GM0753".to_owned())
    );
    let samen = codes(&after["samen"]["memberMunicipalities"]);
    assert_eq!(samen.len(), 9);
    assert!(samen.contains(&"GM9901".to_owned()));
    assert_eq!(after["total"]["totalCount"], 341);

    // The lineage says where each went, both ways, and the new name is dated.
    let lineage = app
        .query(r#"{ successor: municipality(code: "GM9901", asOf: "2027-01-01") { validFromIsLowerBound names { name validFrom }
                      predecessors { effectiveDate kind areaShare municipality { code name } } }
                    eindhoven: municipalityRecord(code: "GM0772") { validTo successors { kind municipality { code } } } }"#)
        .await;
    assert_eq!(lineage["successor"]["validFromIsLowerBound"], false);
    assert_eq!(lineage["successor"]["names"], json!([{ "name": "Groot-Eindhoven", "validFrom": "2027-01-01" }]));
    assert_eq!(
        lineage["successor"]["predecessors"],
        json!([{ "effectiveDate": "2027-01-01", "kind": "MAIN", "areaShare": null, "municipality": { "code": "GM0753", "name": "Best" } },
               { "effectiveDate": "2027-01-01", "kind": "MAIN", "areaShare": null, "municipality": { "code": "GM0772", "name": "Eindhoven" } }])
    );
    assert_eq!(lineage["eindhoven"]["validTo"], "2027-01-01");
    assert_eq!(lineage["eindhoven"]["successors"], json!([{ "kind": "MAIN", "municipality": { "code": "GM9901" } }]));

    // Every municipality is still in exactly one region on the day after.
    let all =
        app.query(r#"{ municipalities(first: 500, asOf: "2027-01-01") { nodes { code region { code } } } }"#).await;
    for m in all["municipalities"]["nodes"].as_array().unwrap() {
        assert!(m["region"]["code"].is_string(), "{m}");
    }
}

#[tokio::test]
async fn concurrent_retries_with_one_client_mutation_id_write_once() {
    let app = TestApp::spawn().await;
    let operator = app.as_operator();
    let input = json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0753", "cooperationCode": "SAMEN-VOOR-JEUGD",
                        "careFormCode": "CRISIS", "validFrom": "2026-01-01", "clientMutationId": "assign-once" });
    let before = app.audit_count().await;
    let attempts = (0..5).map(|_| operator.mutate_ok("roleAssign", input.clone()));
    let results = futures::future::join_all(attempts).await;
    let roles: HashSet<&str> = results.iter().map(|payload| payload["role"]["code"].as_str().unwrap()).collect();
    assert_eq!(roles.len(), 1, "every attempt answers with the same role: {results:?}");
    let fresh = results.iter().filter(|payload| payload["replayed"] == false).count();
    assert_eq!(fresh, 1, "{results:?}");
    assert_eq!(app.audit_count().await, before + 1);
}

#[tokio::test]
async fn a_contract_update_that_only_changes_care_forms_is_audited_with_them() {
    let app = TestApp::spawn().await;
    let input = json!({ "code": "GELDERLAND-JEUGDBESCHERMING", "expectedVersion": 1, "careFormCodes": ["JEUGDBESCHERMING", "JEUGDRECLASSERING"] });
    app.as_operator().mutate_ok("frameworkContractUpdate", input).await;
    let audit = app
        .query(r#"{ auditLog(filter: {objectCode: "GELDERLAND-JEUGDBESCHERMING"}) { nodes { changes { field old new } } } }"#)
        .await;
    assert_eq!(
        audit["auditLog"]["nodes"][0]["changes"],
        json!([{ "field": "careForms", "old": ["JEUGDBESCHERMING"], "new": ["JEUGDBESCHERMING", "JEUGDRECLASSERING"] }])
    );
}

/// The answer lists fields in the order the query asks for them (GraphQL
/// spec, "Serialization Format"), also when one of them has to wait: after
/// its own write, a payload's `municipality { region }` waits for the new
/// version of the registry in memory, while `userErrors` is ready at once.
/// Checked on the body's text, as JSON objects parsed here have no order.
#[tokio::test]
async fn an_answer_keeps_the_order_of_the_query_when_a_field_waits() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let document = "mutation($input: MunicipalityUpdateInput!) { municipalityUpdate(input: $input) {
        municipality { version region { code } } userErrors { code } clientMutationId } }";
    for (n, version) in [(0, 1), (1, 2)] {
        let input =
            json!({ "code": "GM0772", "expectedVersion": version, "website": format!("https://www.eindhoven.nl/{n}") });
        let body = json!({ "query": document, "variables": { "input": input } });
        let text = eindhoven.post_request(&body).send().await.unwrap().text().await.unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap_or_else(|| panic!("{key} in {text}"));
        assert!(at("municipality") < at("userErrors"), "{text}");
        assert!(at("userErrors") < at("clientMutationId"), "{text}");
    }
    let read = json!({ "query": r#"{ registryVersion municipality(code: "GM0772") { name region { code } } }"# });
    let text = app.anonymous().post_request(&read).send().await.unwrap().text().await.unwrap();
    assert!(text.find("\"registryVersion\"").unwrap() < text.find("\"municipality\"").unwrap(), "{text}");
}

/// A write that finds every write lane of its instance taken waits as long
/// as it would for a pooled connection, then is answered 503
/// (SERVICE_UNAVAILABLE) instead of waiting until its deadline; the writes holding the
/// lanes finish once they can. (Another session blocks the writes: a table
/// lock on PostgreSQL, SQLite's write lock.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_finds_every_write_lane_taken_is_refused_after_the_acquire_timeout() {
    use sea_orm::{ConnectionTrait, Database, DbBackend, TransactionTrait};
    let app = TestApp::spawn().await;
    let backend = if on_postgres() { DbBackend::Postgres } else { DbBackend::Sqlite };
    let lanes = jeugdregio::registry::write_lanes(backend);
    let data = app.query("{ municipalities(first: 20) { nodes { code version } } }").await;
    let nodes = data["municipalities"]["nodes"].as_array().unwrap().clone();
    assert!(nodes.len() > lanes);
    let other = Database::connect(app.settings().database_url.as_str()).await.unwrap();
    let lock = other.begin().await.unwrap();
    match backend {
        DbBackend::Postgres => lock.execute_unprepared("LOCK TABLE municipality IN ACCESS EXCLUSIVE MODE").await,
        _ => lock.execute_unprepared("UPDATE feed_head SET position = position").await,
    }
    .unwrap();
    let operator = app.as_operator();
    let document = mutation_document("municipalityUpdate");
    let write = |node: &Value| {
        let input =
            json!({ "code": node["code"], "expectedVersion": node["version"], "website": "https://example.nl/" });
        operator.send(&document, json!({ "input": input }))
    };
    let holders = futures::future::join_all(nodes[..lanes].iter().map(write));
    let refused = async {
        // Once the others hold every lane.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let answer = write(&nodes[lanes]).await;
        (answer, started.elapsed())
    };
    let release = async {
        tokio::time::sleep(Duration::from_millis(300) + jeugdregio::db::ACQUIRE_TIMEOUT * 2).await;
        lock.rollback().await.unwrap();
    };
    let (held, ((status, body), waited), ()) = tokio::join!(holders, refused, release);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE", "{body}");
    let limit = jeugdregio::db::ACQUIRE_TIMEOUT;
    assert!(waited >= limit && waited < limit * 2, "refused after {waited:?}");
    for (status, body) in &held {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["data"]["municipalityUpdate"]["userErrors"], json!([]), "{body}");
    }
}
