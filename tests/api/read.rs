//! The read API over real HTTP: the national seed, `asOf`, pagination,
//! lookups, GET handling and the cost of the full-registry query.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, codes};

#[tokio::test]
async fn the_registry_has_42_regions_and_342_municipalities_each_in_exactly_one_region() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            "{ regions(first: 100) { totalCount nodes { code municipalities { code } } }
               municipalities(first: 500) { totalCount nodes { code region { code } } } }",
        )
        .await;
    assert_eq!(data["regions"]["totalCount"], 42);
    let region_codes = codes(&data["regions"]["nodes"]);
    assert_eq!(region_codes.len(), 42);
    assert!(!region_codes.contains(&"JZ40".to_owned()), "JZ40 does not exist");
    assert_eq!(region_codes.first().map(String::as_str), Some("JZ01"));
    assert_eq!(region_codes.last().map(String::as_str), Some("JZ43"));

    assert_eq!(data["municipalities"]["totalCount"], 342);
    let municipalities = data["municipalities"]["nodes"].as_array().unwrap();
    assert_eq!(municipalities.len(), 342);
    for m in municipalities {
        assert!(m["region"]["code"].is_string(), "{} has no region", m["code"]);
    }

    // Seen from the regions: every municipality listed exactly once, in the region it names.
    let mut region_of: HashMap<String, String> = HashMap::new();
    for region in data["regions"]["nodes"].as_array().unwrap() {
        for code in codes(&region["municipalities"]) {
            let previous = region_of.insert(code.clone(), region["code"].as_str().unwrap().to_owned());
            assert!(previous.is_none(), "{code} is in two regions");
        }
    }
    assert_eq!(region_of.len(), 342);
    for m in municipalities {
        assert_eq!(region_of[m["code"].as_str().unwrap()], m["region"]["code"].as_str().unwrap());
    }
}

#[tokio::test]
async fn eindhoven_is_in_zuidoost_brabant_with_21_members() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ municipality(code: "GM0772") { name province { code landsdeel { code } }
                 region { code name municipalities { code } } } }"#,
        )
        .await;
    let eindhoven = &data["municipality"];
    assert_eq!(eindhoven["name"], "Eindhoven");
    assert_eq!(eindhoven["province"]["code"], "PV30");
    assert_eq!(eindhoven["province"]["landsdeel"]["code"], "LD04");
    assert_eq!(eindhoven["region"]["code"], "JZ39");
    assert_eq!(eindhoven["region"]["name"], "Zuidoost-Brabant");
    let members = codes(&eindhoven["region"]["municipalities"]);
    assert_eq!(members.len(), 21);
    assert!(members.contains(&"GM0772".to_owned()));
}

const ROLE_FIELDS: &str = "code kind careForm { code } provider { code } cooperation { code }
    holder { __typename ... on Municipality { code } ... on Region { code } ... on Cooperation { code } }";

fn role_summary(role: &Value) -> String {
    format!(
        "{} {} {} {} {}",
        role["kind"].as_str().unwrap(),
        role["holder"]["code"].as_str().unwrap(),
        role["cooperation"]["code"].as_str().unwrap_or("-"),
        role["careForm"]["code"].as_str().unwrap_or("-"),
        role["provider"]["code"].as_str().unwrap_or("-"),
    )
}

#[tokio::test]
async fn the_seeded_roles_are_those_of_the_source_documents() {
    let app = TestApp::spawn().await;
    let data = app
        .query(&format!(r#"{{ roles(filter: {{regionCode: "JZ39"}}, first: 100) {{ totalCount nodes {{ {ROLE_FIELDS} source }} }} }}"#))
        .await;
    let roles = data["roles"]["nodes"].as_array().unwrap();
    let summaries: HashSet<String> = roles.iter().map(role_summary).collect();
    let expected = [
        "PURCHASING_ORGANISATION GM0772 SAMEN-VOOR-JEUGD - -",
        "CONTRACT_MANAGER GM0772 SAMEN-VOOR-JEUGD - -",
        "PURCHASING_ORGANISATION GM0772 21-VOOR-DE-JEUGD - -",
        "CONTRACT_MANAGER GM0772 21-VOOR-DE-JEUGD JEUGDBESCHERMING -",
        "CONTRACT_MANAGER GM0772 21-VOOR-DE-JEUGD JEUGDRECLASSERING -",
        "PURCHASING_ORGANISATION GM0772 21-VOOR-DE-JEUGD VEILIG-THUIS -",
        "LEAD_MUNICIPALITY GM0957 JEUGDZORGPLUS-LANDSDEEL-ZUIDOOST JEUGDZORGPLUS -",
        "ACCOUNT_HOLDER GM0855 JB-JR-BRABANT JEUGDBESCHERMING -",
        "ACCOUNT_HOLDER GM0855 JB-JR-BRABANT JEUGDRECLASSERING -",
        "COORDINATING_MUNICIPALITY GM0772 BEN-BRABANT-ZEELAND - -",
        "ACCOUNT_HOLDER JZ39 - - JEUGD-VEILIG-VERDER",
        "ACCOUNT_HOLDER JZ39 - - BJ-BRABANT",
        "ACCOUNT_HOLDER JZ39 - - COMBINATIE-JEUGDZORG",
        "PURCHASING_ORGANISATION 21-VOOR-DE-JEUGD 21-VOOR-DE-JEUGD REGIONAAL-EXPERTTEAM -",
    ];
    assert_eq!(summaries, expected.iter().map(|s| s.to_string()).collect::<HashSet<_>>());
    assert_eq!(data["roles"]["totalCount"], 14);
    for role in roles {
        assert!(!role["source"].as_str().unwrap().is_empty(), "{} has no source", role["code"]);
    }

    // The same roles from the holder's side, and the region's account holding from the provider's side.
    let data = app
        .query(r#"{ municipality(code: "GM0957") { rolesHeld { kind careForm { code } } }
                 provider(code: "JEUGD-VEILIG-VERDER") { certifiedInstitution roles { kind holder { ... on Region { code } } } }
                 roles(filter: {kind: ACCOUNT_HOLDER, holderCode: "GM0855"}) { totalCount } }"#)
        .await;
    assert_eq!(
        data["municipality"]["rolesHeld"],
        json!([{ "kind": "LEAD_MUNICIPALITY", "careForm": { "code": "JEUGDZORGPLUS" } }])
    );
    assert_eq!(data["provider"]["certifiedInstitution"], true);
    assert_eq!(data["provider"]["roles"], json!([{ "kind": "ACCOUNT_HOLDER", "holder": { "code": "JZ39" } }]));
    assert_eq!(data["roles"]["totalCount"], 2);
}

#[tokio::test]
async fn the_seeded_cooperations_follow_the_documents_and_the_derivations_hold() {
    let app = TestApp::spawn().await;
    let query = r#"query($code: String!) { cooperation(code: $code) { name scale instrument validFrom source
        memberMunicipalities { code } memberRegions { code } } }"#;
    let cooperation = |code: &'static str| {
        let app = &app;
        async move { app.query_with(query, json!({ "code": code })).await["cooperation"].clone() }
    };
    let region_members = |code: &'static str| {
        let app = &app;
        async move {
            let data = app
                .query_with(
                    r#"query($code: String!) { region(code: $code) { municipalities { code } } }"#,
                    json!({ "code": code }),
                )
                .await;
            codes(&data["region"]["municipalities"]).into_iter().collect::<HashSet<_>>()
        }
    };
    let set = |v: &Value| codes(v).into_iter().collect::<HashSet<_>>();

    let zuidoost_brabant = region_members("JZ39").await;
    let samen = cooperation("SAMEN-VOOR-JEUGD").await;
    assert_eq!(samen["scale"], "SUBREGIONAL");
    assert_eq!(samen["instrument"], "COOPERATION_AGREEMENT");
    assert_eq!(samen["validFrom"], "2018-01-01");
    let samen_members = set(&samen["memberMunicipalities"]);
    assert_eq!(samen_members.len(), 10);
    assert!(samen_members.contains("GM0772"));

    let een10 = cooperation("EEN-10-VOOR-DE-JEUGD").await;
    let een10_members = set(&een10["memberMunicipalities"]);
    assert_eq!(een10_members.len(), 11);
    assert_eq!(een10_members, zuidoost_brabant.difference(&samen_members).cloned().collect());
    assert!(een10["source"].as_str().unwrap().contains("derived"));

    let bi = cooperation("21-VOOR-DE-JEUGD").await;
    assert_eq!(bi["scale"], "BIREGIONAL");
    assert_eq!(bi["instrument"], "SERVICE_AGREEMENT");
    assert_eq!(set(&bi["memberMunicipalities"]), zuidoost_brabant);

    let sub_regions: HashSet<String> =
        ["KEMPENGEMEENTEN", "A2-GEMEENTEN", "BO-GEMEENTEN"].iter().map(|s| s.to_string()).collect();
    let mut in_sub_regions = HashSet::new();
    for code in ["KEMPENGEMEENTEN", "A2-GEMEENTEN", "BO-GEMEENTEN"] {
        in_sub_regions.extend(set(&cooperation(code).await["memberMunicipalities"]));
    }
    assert_eq!(in_sub_regions.len(), 9, "the sub-regions cover Samen voor Jeugd without Eindhoven");
    assert!(in_sub_regions.is_subset(&samen_members));
    assert_eq!(sub_regions.len(), 3);

    let zuid_limburg = cooperation("JEUGDHULP-ZUID-LIMBURG").await;
    assert_eq!(set(&zuid_limburg["memberMunicipalities"]), region_members("JZ41").await);
    assert_eq!(set(&zuid_limburg["memberMunicipalities"]).len(), 16);
    let jens = cooperation("JENS").await;
    assert_eq!(
        set(&jens["memberMunicipalities"]),
        ["GM0882", "GM0917", "GM0986"].iter().map(|s| s.to_string()).collect()
    );

    let landsdeel = cooperation("JEUGDZORGPLUS-LANDSDEEL-ZUIDOOST").await;
    assert_eq!(landsdeel["scale"], "SUPRAREGIONAL");
    assert_eq!(codes(&landsdeel["memberRegions"]), vec!["JZ39"]);

    // A municipality's cooperations include the ones through its region.
    let data = app.query(r#"{ cooperations(filter: {municipalityCode: "GM0772"}) { nodes { code } } }"#).await;
    let eindhoven: HashSet<String> = codes(&data["cooperations"]["nodes"]).into_iter().collect();
    for code in ["SAMEN-VOOR-JEUGD", "21-VOOR-DE-JEUGD", "BEN-BRABANT-ZEELAND", "JB-JR-BRABANT"] {
        assert!(eindhoven.contains(code), "Eindhoven should take part in {code}");
    }
    assert!(!eindhoven.contains("EEN-10-VOOR-DE-JEUGD"));
}

#[tokio::test]
async fn the_seeded_framework_contracts_name_their_parties_and_care_forms() {
    let app = TestApp::spawn().await;
    let data = app
        .query(r#"{ national: frameworkContracts(filter: {scale: NATIONAL}) { totalCount nodes { code
                   contractingAuthority { name } careForms { code } partyRegions { code } } }
                 gelderland: frameworkContract(code: "GELDERLAND-JEUGDBESCHERMING") { scale
                   partyRegions { code } careForms { code } contractingAuthority { name } }
                 orthopsychiatry: frameworkContracts(filter: {careFormCode: "ORTHOPSYCHIATRIE", partyRegionCode: "JZ39"}) { nodes { code } } }"#)
        .await;
    assert_eq!(data["national"]["totalCount"], 3);
    let mut care_forms = HashSet::new();
    for contract in data["national"]["nodes"].as_array().unwrap() {
        assert!(contract["contractingAuthority"]["name"].as_str().unwrap().starts_with("VNG"));
        assert_eq!(contract["partyRegions"].as_array().unwrap().len(), 42);
        care_forms.extend(codes(&contract["careForms"]));
    }
    let expected: HashSet<String> =
        ["ORTHOPSYCHIATRIE", "GENDERKLINIEK", "INTRAMURALE-GEZINSBEHANDELING"].iter().map(|s| s.to_string()).collect();
    assert_eq!(care_forms, expected);

    let gelderland = &data["gelderland"];
    assert_eq!(gelderland["scale"], "SUPRAREGIONAL");
    assert_eq!(codes(&gelderland["partyRegions"]), vec!["JZ12", "JZ17", "JZ21", "JZ25", "JZ28", "JZ30", "JZ32"]);
    assert_eq!(codes(&gelderland["careForms"]), vec!["JEUGDBESCHERMING"]);
    assert!(gelderland["contractingAuthority"].is_null(), "the document names no contracting authority");
    assert_eq!(codes(&data["orthopsychiatry"]["nodes"]), vec!["VNG-ORTHOPSYCHIATRIE"]);
}

#[tokio::test]
async fn nothing_appears_on_a_date_before_it_existed() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ eindhoven2015: municipality(code: "GM0772", asOf: "2015-01-01") { code validFrom validFromIsLowerBound region { code } }
                 beekdaelen2018: municipality(code: "GM1954", asOf: "2018-12-31") { code }
                 beekdaelen2019: municipality(code: "GM1954", asOf: "2019-01-01") { validFrom validFromIsLowerBound }
                 members2015: region(code: "JZ41", asOf: "2015-06-01") { municipalities { code } }
                 samenBefore: cooperation(code: "SAMEN-VOOR-JEUGD", asOf: "2017-12-31") { code }
                 samenAfter: cooperation(code: "SAMEN-VOOR-JEUGD", asOf: "2018-01-01") { code validFrom validFromIsLowerBound }
                 rolesBefore: roles(filter: {cooperationCode: "SAMEN-VOOR-JEUGD"}, asOf: "2022-12-31") { totalCount }
                 rolesAfter: roles(filter: {cooperationCode: "SAMEN-VOOR-JEUGD"}, asOf: "2023-01-01") { totalCount nodes { validFromIsLowerBound } }
                 cooperations2016: cooperations(asOf: "2016-06-01") { nodes { code } }
                 relationAsOf: region(code: "JZ39") { cooperations(asOf: "2017-12-31") { code } } }"#,
        )
        .await;
    assert_eq!(data["eindhoven2015"]["region"]["code"], "JZ39");
    assert_eq!(data["eindhoven2015"]["validFrom"], "2015-01-01");
    assert_eq!(data["eindhoven2015"]["validFromIsLowerBound"], true, "Eindhoven existed before the coverage");
    assert!(data["beekdaelen2018"].is_null(), "Beekdaelen was formed on 2019-01-01");
    assert_eq!(data["beekdaelen2019"], json!({ "validFrom": "2019-01-01", "validFromIsLowerBound": false }));
    let members = codes(&data["members2015"]["municipalities"]);
    assert_eq!(members.len(), 18, "Zuid-Limburg had 18 municipalities in 2015");
    assert!(members.contains(&"GM0951".to_owned()) && !members.contains(&"GM1954".to_owned()), "Nuth, not Beekdaelen");
    assert!(data["samenBefore"].is_null());
    assert_eq!(
        data["samenAfter"],
        json!({ "code": "SAMEN-VOOR-JEUGD", "validFrom": "2018-01-01", "validFromIsLowerBound": false })
    );
    assert_eq!(data["rolesBefore"]["totalCount"], 0);
    assert_eq!(data["rolesAfter"]["totalCount"], 2);
    assert_eq!(
        data["rolesAfter"]["nodes"],
        json!([{ "validFromIsLowerBound": true }, { "validFromIsLowerBound": true }])
    );
    let in_2016 = codes(&data["cooperations2016"]["nodes"]);
    assert_eq!(in_2016, ["21-VOOR-DE-JEUGD", "JEUGDHULP-ZUID-LIMBURG"], "only what the sources date before 2017");
    let before_2018 = codes(&data["relationAsOf"]["cooperations"]);
    assert!(!before_2018.contains(&"SAMEN-VOOR-JEUGD".to_owned()));
    assert!(before_2018.contains(&"21-VOOR-DE-JEUGD".to_owned()), "the 21 cooperate since 2015");

    let error = app.post(r#"{ region(code: "JZ39", asOf: "2025-02-30") { code } }"#, json!({})).await;
    assert!(error["errors"][0]["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{error}");
}

/// Pages through `list` `first` at a time; every item once, in code order.
async fn page_through(app: &TestApp, list: &str, first: usize, total: usize) {
    let query = format!(
        "query($after: String) {{ {list}(first: {first}, after: $after) {{
        totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }} edges {{ cursor node {{ code }} }} nodes {{ code }} }} }}"
    );
    let (mut seen, mut after, mut pages) = (Vec::new(), Value::Null, 0);
    loop {
        let page = app.query_with(&query, json!({ "after": after })).await[list].clone();
        assert_eq!(page["totalCount"], total, "{list}");
        assert_eq!(page["pageInfo"]["hasPreviousPage"], pages > 0);
        let nodes = codes(&page["nodes"]);
        let edge_nodes: Vec<String> =
            page["edges"].as_array().unwrap().iter().map(|e| e["node"]["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(nodes, edge_nodes, "edges and nodes agree");
        seen.extend(nodes);
        pages += 1;
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, total.div_ceil(first), "{list}");
    assert_eq!(seen.len(), total, "{list}");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "{list}: in code order, no duplicates");
}

#[tokio::test]
async fn pagination_round_trip_visits_every_municipality_and_region_once_in_order() {
    let app = TestApp::spawn().await;
    page_through(&app, "municipalities", 50, 342).await;
    // Regions are paged from the registry snapshot, municipalities by SQL: the same rules.
    page_through(&app, "regions", 10, 42).await;
    page_through(&app, "regions", 42, 42).await;

    let data = app.query("{ municipalities { nodes { code } } }").await;
    assert_eq!(data["municipalities"]["nodes"].as_array().unwrap().len(), 50, "default page size");

    for (arguments, argument, code) in [
        ("first: 501", "first", "BAD_USER_INPUT"),
        ("first: -1", "first", "BAD_USER_INPUT"),
        (r#"after: "nonsense""#, "after", "INVALID_CURSOR"),
    ] {
        for list in ["municipalities", "regions"] {
            let body = app.post(&format!("{{ {list}({arguments}) {{ totalCount }} }}"), json!({})).await;
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{list}({arguments}): {body}");
            assert_eq!(body["errors"][0]["extensions"]["argument"], argument);
        }
    }
}

#[tokio::test]
async fn filters_narrow_municipalities_and_regions() {
    let app = TestApp::spawn().await;
    let data = app
        .query(
            r#"{ inZob: municipalities(filter: {regionCode: "JZ39"}) { totalCount }
                 inLimburg: municipalities(filter: {provinceCode: "PV31"}) { totalCount }
                 named: municipalities(filter: {nameContains: "hoven"}) { nodes { name } }
                 literal: municipalities(filter: {nameContains: "%"}) { totalCount }
                 frisian: municipalities(filter: {nameContains: "FRYSLÂN"}) { nodes { code } }
                 nowhere: municipalities(filter: {provinceCode: "PV99"}) { totalCount }
                 regions(filter: {nameContains: "brabant"}) { nodes { code } }
                 unicode: regions(filter: {nameContains: "FRYSLÂN"}) { nodes { code } }
                 literalRegions: regions(filter: {nameContains: "_"}) { totalCount }
                 provinces { code }
                 careForms { code nameEn } }"#,
        )
        .await;
    assert_eq!(data["inZob"]["totalCount"], 21);
    assert_eq!(data["inLimburg"]["totalCount"], 31);
    let named: Vec<&str> =
        data["named"]["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert!(named.contains(&"Eindhoven") && named.contains(&"Veldhoven"), "{named:?}");
    assert_eq!(data["literal"]["totalCount"], 0, "% is matched literally");
    assert_eq!(codes(&data["frisian"]["nodes"]), vec!["GM1900", "GM1970"], "case is ignored beyond ASCII too");
    assert_eq!(data["nowhere"]["totalCount"], 0, "an unknown province has no municipalities");
    assert_eq!(codes(&data["regions"]["nodes"]), vec!["JZ33", "JZ34", "JZ35", "JZ36", "JZ39"]);
    assert_eq!(codes(&data["unicode"]["nodes"]), vec!["JZ02"], "case is ignored beyond ASCII too");
    assert_eq!(data["literalRegions"]["totalCount"], 0, "_ is matched literally");
    assert_eq!(data["provinces"].as_array().unwrap().len(), 12);
    assert!(data["careForms"].as_array().unwrap().iter().any(|c| c["code"] == "JEUGDZORGPLUS"));
}

#[tokio::test]
async fn unknown_codes_return_null_not_an_error() {
    let app = TestApp::spawn().await;
    let body = app
        .post(
            r#"{ region(code: "JZ40") { code } municipality(code: "GM9999") { code }
                 cooperation(code: "NOPE") { code } node(id: "bm90LWFuLWlk") { id }
                 municipalities(filter: {regionCode: "JZ40"}) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["region"].is_null());
    assert!(body["data"]["municipality"].is_null());
    assert!(body["data"]["cooperation"].is_null());
    assert!(body["data"]["node"].is_null());
    assert_eq!(body["data"]["municipalities"]["totalCount"], 0);
}

#[tokio::test]
async fn node_ids_round_trip() {
    let app = TestApp::spawn().await;
    let data = app.query(r#"{ municipality(code: "GM0772") { id } role(code: "RL00007") { id } }"#).await;
    let query = "query($id: ID!) { node(id: $id) { id __typename ... on Municipality { code } ... on Role { code } } }";
    let municipality = app.query_with(query, json!({ "id": data["municipality"]["id"] })).await;
    assert_eq!(municipality["node"]["__typename"], "Municipality");
    assert_eq!(municipality["node"]["code"], "GM0772");
    let role = app.query_with(query, json!({ "id": data["role"]["id"] })).await;
    assert_eq!(role["node"]["__typename"], "Role");
    assert_eq!(role["node"]["code"], "RL00007");
}

#[tokio::test]
async fn get_executes_queries_serves_graphiql_and_refuses_mutations() {
    let app = TestApp::spawn().await;
    let response =
        app.anonymous().get().query(&[("query", "{ region(code: \"JZ39\") { name } }")]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["region"]["name"], "Zuidoost-Brabant");

    let response = app.anonymous().get().header("accept", "text/html").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    // GraphiQL is served by the service itself: no request leaves for a CDN.
    assert!(!page.contains("https://"), "the page loads nothing from the internet");
    for asset in [
        "/graphiql/graphiql.min.js",
        "/graphiql/graphiql.min.css",
        "/graphiql/react.production.min.js",
        "/graphiql/react-dom.production.min.js",
        // The WebSocket client GraphiQL runs subscriptions with.
        "/graphiql/graphql-ws.min.js",
    ] {
        assert!(page.contains(asset), "{asset}");
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 10_000, "{asset}");
    }
    assert_eq!(app.client.get(app.url("/graphiql/nope.js")).send().await.unwrap().status(), 404);

    for (query, operation_name) in [
        ("mutation { __typename }", None),
        ("query A { __typename } mutation B { __typename }", Some("B")),
        ("subscription { __typename }", None),
    ] {
        let mut parameters = vec![("query", query)];
        parameters.extend(operation_name.map(|name| ("operationName", name)));
        let response = app.anonymous().get().query(&parameters).send().await.unwrap();
        assert_eq!(response.status(), 405, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "METHOD_NOT_ALLOWED");
        assert!(body["data"].is_null(), "nothing was executed");
    }

    let response = app
        .anonymous()
        .get()
        .query(&[("query", "query A { __typename } mutation B { __typename }"), ("operationName", "A")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the query of a mixed document may run over GET");
}

#[tokio::test]
async fn health_readiness_and_schema_endpoints_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    let sdl = app.client.get(app.url("/schema.graphql")).send().await.unwrap().text().await.unwrap();
    assert_eq!(sdl, jeugdregio::graphql::sdl());
    assert!(sdl.contains("type Region"));
}

const FULL_REGISTRY: &str = r#"query($filter: RegionFilter) { regions(filter: $filter, first: 100) { totalCount nodes {
    code name
    municipalities { code name province { code landsdeel { code } } }
    cooperations { code scale memberMunicipalities { code } memberRegions { code } roles { code } }
    roles { code kind holder { ... on Municipality { code } ... on Region { code } }
            cooperation { code } careForm { code } provider { code } }
    frameworkContracts { code partyRegions { code } careForms { code } providers { code } contractingAuthority { name } }
} } }"#;

#[tokio::test]
async fn the_full_registry_query_costs_a_fixed_number_of_statements() {
    let alone = TestApp::spawn_alone().await;
    let mut settings = alone.settings();
    // Every run must execute: no kept answers.
    settings.response_cache_bytes = 0;
    let app = alone.start_another(settings).await;
    // The first read loads the registry snapshot; the runs below read it.
    app.query("{ regions(first: 1) { nodes { municipalities { code } } } }").await;
    // Zuidoost-Brabant alone touches every relation (roles of every kind,
    // holders that are regions, member regions, contracts), so an N+1 would
    // make the 5- and 42-region queries cost more than the one-region query.
    //
    // The count is the database's, so a statement of the service's own
    // (the poll for other instances' writes) can fall inside a run: the
    // plan is the least of a few runs, and no run may cost five statements
    // more: an N+1 adds one per region, at least five in the larger queries.
    let mut costs = Vec::new();
    for (filter, regions) in [
        (json!({ "nameContains": "Zuidoost-Brabant" }), 1),
        (json!({ "nameContains": "Brabant" }), 5),
        (Value::Null, 42),
    ] {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let before = app.statements().await;
            let data = app.query_with(FULL_REGISTRY, json!({ "filter": filter })).await;
            runs.push(app.statements().await - before);
            assert_eq!(data["regions"]["nodes"].as_array().unwrap().len(), regions);
        }
        costs.push((regions, *runs.iter().min().unwrap(), *runs.iter().max().unwrap()));
    }
    let (_, plan, _) = costs[0];
    // The page of regions and every relation come from the in-memory snapshot.
    assert_eq!(plan, 0, "the full registry takes {plan} statements: {costs:?}");
    for (regions, least, most) in &costs {
        assert_eq!(*least, plan, "{regions} regions: cost must not grow with the number of rows: {costs:?}");
        assert!(*most < plan + 5, "{regions} regions: {costs:?}");
    }
}

#[tokio::test]
async fn a_second_start_on_the_same_database_does_not_seed_again() {
    let app = TestApp::spawn().await;
    let again = app.start_another(app.settings()).await;
    let data = again.query("{ regions { totalCount } municipalities { totalCount } roles { totalCount } }").await;
    assert_eq!(data["regions"]["totalCount"], 42);
    assert_eq!(data["municipalities"]["totalCount"], 342);
    assert_eq!(data["roles"]["totalCount"], 14);
}

#[tokio::test]
async fn root_fields_come_back_in_the_order_asked() {
    let app = TestApp::spawn().await;
    // The root fields come from different parts of the query root.
    let fields = [
        "registryVersion",
        "regions(first: 1) { totalCount }",
        r#"municipality(code: "GM0772") { code }"#,
        "changes(first: 1) { totalCount }",
        "careForms { code }",
    ];
    for rotation in 0..fields.len() {
        for reversed in [false, true] {
            let mut asked: Vec<&str> = fields.iter().cycle().skip(rotation).take(fields.len()).copied().collect();
            if reversed {
                asked.reverse();
            }
            let document = format!("{{ {} }}", asked.join(" "));
            let body = app.anonymous().post_request(&json!({ "query": document })).send().await.unwrap();
            let text = body.text().await.unwrap();
            let names: Vec<&str> = asked.iter().map(|f| f.split(['(', ' ']).next().unwrap()).collect();
            let positions: Vec<usize> =
                names.iter().map(|n| text.find(&format!("\"{n}\"")).expect("every field answered")).collect();
            assert!(positions.is_sorted(), "asked {names:?}, answered {text}");
        }
    }
}

#[tokio::test]
async fn documents_that_are_not_valid_graphql_get_an_error_code() {
    let app = TestApp::spawn().await;
    let code = async |document: &str| {
        let body = app.post(document, json!({})).await;
        assert_eq!(body["data"], Value::Null, "{body}");
        body["errors"][0]["extensions"]["code"].as_str().unwrap_or("(none)").to_owned()
    };
    assert_eq!(code("{ regions { nodes { code } ").await, "GRAPHQL_PARSE_FAILED");
    assert_eq!(code("{ regions { nodes { colour } } }").await, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(code(r#"{ region(code: 39) { name } }"#).await, "GRAPHQL_VALIDATION_FAILED");
    let mut deep = "code".to_owned();
    for level in 0..16 {
        deep = if level % 2 == 0 { format!("municipalities {{ {deep} }}") } else { format!("region {{ {deep} }}") };
    }
    let deep = format!("{{ regions {{ nodes {{ {deep} }} }} }}");
    assert_eq!(code(&deep).await, "GRAPHQL_VALIDATION_FAILED", "the depth limit");
    // The cost check's own code is kept.
    let costly = "{ regions(first: 500) { nodes { municipalities { region { municipalities { region {
                  municipalities { code } } } } } } } }";
    assert_eq!(code(costly).await, "COST_LIMIT_EXCEEDED");
}

#[tokio::test]
async fn every_response_names_the_api_version_and_its_request() {
    let app = TestApp::spawn().await;
    let graphql = app.anonymous().post_request(&json!({ "query": "{ registryVersion }" }));
    let with_origin = graphql.header("origin", "https://portal.example").header("x-request-id", "portal-42");
    let responses = [
        with_origin.send().await.unwrap(),
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        app.client.get(app.url("/no-such-page")).send().await.unwrap(),
    ];
    for response in &responses {
        assert_eq!(response.headers()["api-version"], jeugdregio::API_VERSION, "{}", response.url());
        assert!(!response.headers()["x-request-id"].is_empty(), "{}", response.url());
    }
    let headers = responses[0].headers();
    assert_eq!(headers["x-request-id"], "portal-42", "the client's own request id is kept");
    let exposed = headers["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    for name in ["etag", "retry-after", "api-version", "x-request-id"] {
        assert!(exposed.contains(name), "CORS exposes {name}: {exposed}");
    }
    assert_ne!(responses[1].headers()["x-request-id"], responses[2].headers()["x-request-id"], "one id per request");
}

#[tokio::test]
async fn errors_outside_graphql_are_problem_details() {
    let app = TestApp::spawn().await;
    let too_large = format!("{{\"query\": \"{}\"}}", " ".repeat(2 * 1024 * 1024));
    let responses = [
        (404, app.client.get(app.url("/no-such-page")).send().await.unwrap()),
        (405, app.client.delete(app.url("/graphql")).send().await.unwrap()),
        (
            413,
            app.client
                .post(app.url("/graphql"))
                .header("content-type", "application/json")
                .body(too_large)
                .send()
                .await
                .unwrap(),
        ),
    ];
    for (status, response) in responses {
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], status, "{problem}");
        assert!(problem["title"].is_string() && problem["detail"].is_string(), "{problem}");
        assert_eq!(problem["type"], "about:blank");
        assert_eq!(problem["requestId"], request_id.as_str(), "the body names the request: {problem}");
    }
}

#[tokio::test]
async fn answers_come_in_the_media_type_the_client_accepts() {
    let app = TestApp::spawn().await;
    let send = async |accept: Option<&str>, query: &str| {
        let mut request = app.anonymous().post_request(&json!({ "query": query }));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        let (status, content_type) = (response.status().as_u16(), response.headers()["content-type"].clone());
        (status, content_type.to_str().unwrap().to_owned(), response.json::<Value>().await.unwrap())
    };
    let good = "{ registryVersion }";
    for (accept, expected) in [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (Some("application/graphql-response+json"), "application/graphql-response+json"),
        (Some("application/graphql-response+json, application/json;q=0.9"), "application/graphql-response+json"),
    ] {
        let (status, content_type, body) = send(accept, good).await;
        assert_eq!((status, content_type.as_str()), (200, expected), "{accept:?}: {body}");
    }
    // A request error: 400 without data under the specification's type, 200 under the legacy one.
    let (status, _, body) = send(Some("application/graphql-response+json"), "{ registryVersion").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.get("data").is_none(), "no data entry: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    let (status, _, body) = send(Some("application/json"), "{ registryVersion").await;
    assert_eq!(status, 200, "{body}");
    // A required variable not given is a request error too.
    let needs = "query($code: String!) { municipality(code: $code) { name } }";
    let (status, _, body) = send(Some("application/graphql-response+json"), needs).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.get("data").is_none(), "no data entry: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let (status, content_type, body) = send(Some("text/html"), good).await;
    assert_eq!((status, content_type.as_str()), (406, "application/problem+json"), "{body}");
    // A POST that does not say it is JSON.
    let response =
        app.client.post(app.url("/graphql")).body(json!({ "query": good }).to_string()).send().await.unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn an_internal_error_shows_no_detail_and_names_its_request() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    // Break this test's own copy of the database under the running service.
    let db = sea_orm::Database::connect(app.settings().database_url.as_str()).await.unwrap();
    db.execute_unprepared("ALTER TABLE province RENAME TO province_gone").await.unwrap();
    let response = app
        .anonymous()
        .post_request(&json!({ "query": r#"{ province(code: "PV30") { name } }"# }))
        .header("x-request-id", "support-7")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL_SERVER_ERROR", "{body}");
    assert_eq!(error["extensions"]["requestId"], "support-7", "{body}");
    assert_eq!(error["message"], "internal error", "no SQL, no detail: {body}");
}

/// Every appearance of `code` in `value`, with its website.
fn websites_of(value: &Value, code: &str, found: &mut Vec<Value>) {
    match value {
        Value::Object(fields) => {
            if fields.get("code").and_then(Value::as_str) == Some(code) && fields.contains_key("website") {
                found.push(fields["website"].clone());
            }
            fields.values().for_each(|value| websites_of(value, code, found));
        }
        Value::Array(items) => items.iter().for_each(|item| websites_of(item, code, found)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_reads_one_registry_version_while_writes_land() {
    let app = TestApp::spawn().await;
    // Groningen is in the first region, Maastricht in one of the last: a
    // query reads the first long before the second.
    let (early, late) = ("GM0014", "GM0935");
    let chain = "municipalities { code website region { code municipalities { code website region { code } } } }";
    let copies = (0..8).map(|i| format!("a{i}: {chain}")).collect::<Vec<_>>().join(" ");
    let document = format!("{{ regions(first: 42) {{ nodes {{ code {copies} }} }} }}");
    let mut versions = Vec::new();
    for code in [early, late] {
        let data = app
            .query_with("query($code: String!) { municipality(code: $code) { version } }", json!({ "code": code }))
            .await;
        versions.push(data["municipality"]["version"].clone());
    }

    let reader = app.anonymous();
    let started = Instant::now();
    let (answer, writes_done) =
        tokio::join!(async { (reader.post(&document, json!({})).await, started.elapsed()) }, async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            for (code, version) in [early, late].into_iter().zip(&versions) {
                let input = json!({ "code": code, "expectedVersion": version, "website": "https://example.nl/later" });
                app.as_municipality(code).mutate_ok("municipalityUpdate", input).await;
            }
            started.elapsed()
        });
    let (answer, answered) = answer;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert!(writes_done < answered, "the query must still run when the writes land: {writes_done:?}, {answered:?}");
    // One version throughout: both before the writes, or (had the query
    // started late) both after; never the first before and the second after.
    let mut websites = Vec::new();
    for code in [early, late] {
        websites_of(&answer["data"], code, &mut websites);
    }
    assert!(websites.len() >= 4, "{websites:?}");
    assert!(websites.iter().all(|website| *website == websites[0]), "{websites:?}");
}
