//! The downloads (`/export/*.csv`): what a spreadsheet user gets must parse
//! as CSV and say what the GraphQL API says on the same date.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// One downloaded file: its header row and its rows by column name.
struct Csv {
    header: Vec<String>,
    rows: Vec<HashMap<String, String>>,
}

impl Csv {
    fn parse(text: &str) -> Csv {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
        let rows = reader.deserialize().collect::<Result<_, _>>().expect("well-formed CSV");
        Csv { header, rows }
    }

    fn row(&self, code: &str) -> &HashMap<String, String> {
        self.rows.iter().find(|row| row["code"] == code).unwrap_or_else(|| panic!("no row {code}"))
    }

    fn codes(&self) -> Vec<&str> {
        self.rows.iter().map(|row| row["code"].as_str()).collect()
    }
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

/// Downloads `path`, which must answer 200 with CSV.
async fn download(app: &TestApp, path: &str) -> Csv {
    let response = get(app, path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8; header=present", "{path}");
    Csv::parse(&response.text().await.unwrap())
}

#[tokio::test]
async fn municipalities_are_those_of_the_date_with_their_region_and_province() {
    let app = TestApp::spawn().await;
    let header = ["code", "name", "region_code", "region_name", "province_code", "province_name"];

    let now = download(&app, "/export/municipalities.csv?asOf=2025-06-01").await;
    assert_eq!(now.header, header);
    assert_eq!(now.rows.len(), 342);
    let eindhoven = now.row("GM0772");
    assert_eq!((eindhoven["name"].as_str(), eindhoven["region_code"].as_str()), ("Eindhoven", "JZ39"));
    assert!(now.rows.iter().all(|row| !row["region_code"].is_empty() && !row["province_code"].is_empty()));
    let mut codes = now.codes();
    codes.sort_unstable();
    assert_eq!(codes, now.codes(), "in code order");

    let then = download(&app, "/export/municipalities.csv?asOf=2015-06-01").await;
    assert_eq!(then.header, header);
    assert_eq!(then.rows.len(), 393);
    assert!(then.rows.iter().all(|row| !row["region_code"].is_empty()), "every municipality has a region");
    // Haaren ended in 2021: the registry has no province for it, and says so with an empty field.
    let haaren = then.row("GM0788");
    assert_eq!((haaren["province_code"].as_str(), haaren["province_name"].as_str()), ("", ""));
}

#[tokio::test]
async fn names_with_quotes_and_commas_round_trip() {
    let app = TestApp::spawn().await;
    let text = get(&app, "/export/municipalities.csv?asOf=2025-06-01").await.text().await.unwrap();
    // RFC 4180: CRLF line ends, a field with a comma quoted, an apostrophe left as it is.
    assert!(text.contains("\r\n"), "CRLF line ends");
    assert!(text.contains("\"Nuenen, Gerwen en Nederwetten\""), "the comma is quoted");
    assert!(text.contains("GM0518,'s-Gravenhage,"), "an apostrophe needs no quotes");
    let csv = Csv::parse(&text);
    assert_eq!(csv.row("GM0518")["name"], "'s-Gravenhage");
    assert_eq!(csv.row("GM0820")["name"], "Nuenen, Gerwen en Nederwetten");

    // The GraphQL API says the same.
    let data = app.query(r#"{ m: municipality(code: "GM0820", asOf: "2025-06-01") { name } }"#).await;
    assert_eq!(data["m"]["name"], "Nuenen, Gerwen en Nederwetten");
}

#[tokio::test]
async fn regions_count_their_members_on_the_date() {
    let app = TestApp::spawn().await;
    for (date, municipalities) in [("2015-06-01", 393), ("2025-06-01", 342)] {
        let regions = download(&app, &format!("/export/regions.csv?asOf={date}")).await;
        assert_eq!(regions.header, ["code", "name", "municipality_count"]);
        assert_eq!(regions.rows.len(), 42, "{date}");
        let counts: Vec<usize> = regions.rows.iter().map(|r| r["municipality_count"].parse().unwrap()).collect();
        assert_eq!(counts.iter().sum::<usize>(), municipalities, "{date}");
        assert!(counts.iter().all(|&count| count > 0), "{date}: {counts:?}");
    }
    let regions = download(&app, "/export/regions.csv?asOf=2025-06-01").await;
    let zuidoost_brabant = regions.row("JZ39");
    assert_eq!(
        (zuidoost_brabant["name"].as_str(), zuidoost_brabant["municipality_count"].as_str()),
        ("Zuidoost-Brabant", "21")
    );
}

#[tokio::test]
async fn roles_and_contracts_are_those_of_the_date() {
    let app = TestApp::spawn().await;
    let roles = download(&app, "/export/roles.csv?asOf=2025-06-01").await;
    assert_eq!(
        roles.header,
        [
            "code",
            "kind",
            "holder_code",
            "holder_name",
            "cooperation_code",
            "care_form_code",
            "provider_code",
            "valid_from",
            "valid_from_is_lower_bound",
            "valid_to",
            "source"
        ]
    );
    let role = roles.row("RL00001");
    let expected = [
        ("kind", "PURCHASING_ORGANISATION"),
        ("holder_code", "GM0772"),
        ("holder_name", "Eindhoven"),
        ("cooperation_code", "SAMEN-VOOR-JEUGD"),
        ("care_form_code", ""),
        ("valid_from", "2023-01-01"),
        ("valid_from_is_lower_bound", "true"),
        ("valid_to", ""),
        // The source names the document, commas and all.
        (
            "source",
            "Regiovisie jeugdhulp 2023-2026 of the purchasing region Samen voor Jeugd (Zuidoost-Brabant), January 2023",
        ),
    ];
    for (column, value) in expected {
        assert_eq!(role[column], value, "RL00001 {column}");
    }
    // RL00001 is recorded from 2023: not a role of 2015.
    let roles_2015 = download(&app, "/export/roles.csv?asOf=2015-06-01").await;
    assert_eq!(roles_2015.header, roles.header, "a header row even when few or no roles hold");
    assert!(!roles_2015.codes().contains(&"RL00001"));

    let contracts = download(&app, "/export/contracts.csv?asOf=2025-06-01").await;
    assert_eq!(
        contracts.header,
        [
            "code",
            "title",
            "scale",
            "contracting_authority",
            "party_region_codes",
            "care_form_codes",
            "valid_from",
            "valid_from_is_lower_bound",
            "valid_to",
            "source"
        ]
    );
    let contract = contracts.row("VNG-ORTHOPSYCHIATRIE");
    assert_eq!(contract["scale"], "NATIONAL");
    assert_eq!(
        contract["contracting_authority"],
        "VNG (Vereniging van Nederlandse Gemeenten), on behalf of all municipalities"
    );
    assert_eq!(contract["care_form_codes"], "ORTHOPSYCHIATRIE");
    let parties: Vec<&str> = contract["party_region_codes"].split(' ').collect();
    assert_eq!(parties.len(), 42, "every region is a party: {parties:?}");
    assert_eq!(parties.first(), Some(&"JZ01"));
    assert_eq!(
        (contract["valid_from"].as_str(), contract["valid_from_is_lower_bound"].as_str()),
        ("2023-01-01", "true")
    );
}

#[tokio::test]
async fn downloads_are_dated_and_revalidated_by_registry_version() {
    let app = TestApp::spawn().await;
    let path = "/export/roles.csv?asOf=2026-06-01";
    let response = get(&app, path).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-disposition"], "attachment; filename=\"jeugdregio-roles-2026-06-01.csv\"");
    assert_eq!(headers["cache-control"], "public, max-age=30");
    let etag = headers["etag"].to_str().unwrap().to_owned();

    let again = app.client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    // Another date or another file is another download.
    for other in ["/export/roles.csv?asOf=2025-06-01", "/export/contracts.csv?asOf=2026-06-01"] {
        let response = app.client.get(app.url(other)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(response.status(), 200, "{other}");
        assert_ne!(response.headers()["etag"], etag.as_str(), "{other}");
    }

    // Without asOf, the file is today's, in the Netherlands.
    let today = jeugdregio::registry::today();
    let response = get(&app, "/export/municipalities.csv").await;
    let expected = format!("attachment; filename=\"jeugdregio-municipalities-{today}.csv\"");
    assert_eq!(response.headers()["content-disposition"], expected.as_str());

    // A write moves the version: the old ETag no longer matches, and the new role is in the file.
    let input = json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0753", "cooperationCode": "SAMEN-VOOR-JEUGD",
                        "careFormCode": "CRISIS", "validFrom": "2026-01-01" });
    let payload = app.as_operator().mutate_ok("roleAssign", input).await;
    let code = payload["role"]["code"].as_str().expect("the new role's code").to_owned();
    let after = app.client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(after.status(), 200);
    let roles = Csv::parse(&after.text().await.unwrap());
    assert_eq!(roles.row(&code)["holder_code"], "GM0753");
}

#[tokio::test]
async fn bad_dates_are_refused_with_problem_details() {
    let app = TestApp::spawn().await;
    let response = get(&app, "/export/municipalities.csv?asOf=2014-12-31").await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "AS_OF_OUT_OF_RANGE", "{problem}");
    assert_eq!(problem["earliest"], "2015-01-01", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("2015-01-01"), "{problem}");

    for date in ["2025-13-01", "yesterday", "01-06-2025", ""] {
        let response = get(&app, &format!("/export/regions.csv?asOf={date}")).await;
        assert_eq!(response.status(), 400, "{date:?}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "BAD_REQUEST", "{date:?}: {problem}");
        assert_eq!(problem["argument"], "asOf", "{date:?}: {problem}");
    }

    let response = get(&app, "/export/provinces.csv").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}
