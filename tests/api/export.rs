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

// ---------------------------------------------------------------------------
// The maps (`/export/*.geojson`)

#[test]
fn the_maps_copies_of_the_cbs_layers_are_the_shared_data_set() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/data/history/source");
    if !shared.exists() {
        eprintln!("{} is absent: nothing to compare the maps' copies with", shared.display());
        return;
    }
    let layers =
        (2015..=2025).map(|year| format!("jeugdregio_{year}")).chain(["gemeente_2015".into(), "gemeente_2025".into()]);
    for layer in layers {
        let file = format!("{layer}.topojson");
        let copy = std::fs::read(root.join("assets/geo").join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(std::fs::read(shared.join(&file)).unwrap() == copy, "{file} differs");
    }
}

/// Downloads `path`, which must answer 200 with a GeoJSON FeatureCollection.
async fn map(app: &TestApp, path: &str) -> Value {
    let response = get(app, path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "application/geo+json", "{path}");
    let map: Value = response.json().await.unwrap();
    assert_eq!(map["type"], "FeatureCollection", "{path}");
    assert_eq!(map["attribution"], "Bron: CBS", "{path}");
    for feature in features(&map) {
        assert_eq!(feature["type"], "Feature", "{path}");
        assert_eq!(feature["id"], feature["properties"]["code"], "{path}");
    }
    map
}

fn features(map: &Value) -> &Vec<Value> {
    map["features"].as_array().expect("features")
}

fn feature<'a>(map: &'a Value, code: &str) -> &'a Value {
    features(map).iter().find(|f| f["id"] == code).unwrap_or_else(|| panic!("no feature {code}"))
}

fn feature_codes(map: &Value) -> Vec<&str> {
    features(map).iter().map(|f| f["id"].as_str().expect("a code")).collect()
}

/// A Polygon or MultiPolygon of WGS84 positions in the Netherlands, with 4 decimals at most.
fn assert_area(geometry: &Value, code: &str) {
    let kind = geometry["type"].as_str().unwrap_or_default();
    assert!(kind == "Polygon" || kind == "MultiPolygon", "{code}: {geometry}");
    let polygons = match kind {
        "Polygon" => vec![&geometry["coordinates"]],
        _ => geometry["coordinates"].as_array().unwrap().iter().collect(),
    };
    for rings in polygons {
        for ring in rings.as_array().unwrap() {
            let ring = ring.as_array().unwrap();
            assert!(ring.len() >= 4 && ring.first() == ring.last(), "{code}: a closed ring");
            for position in ring {
                let (lon, lat) = (position[0].as_f64().unwrap(), position[1].as_f64().unwrap());
                assert!((3.3..7.3).contains(&lon) && (50.7..53.6).contains(&lat), "{code}: {position}");
                assert!(
                    position
                        .to_string()
                        .split(['[', ',', ']'])
                        .all(|c| c.split('.').nth(1).is_none_or(|d| d.len() <= 4))
                );
            }
        }
    }
}

/// Every feature of `map` has an outline from the layer of `year`.
fn assert_drawn_by(map: &Value, year: i32) {
    for feature in features(map) {
        assert_area(&feature["geometry"], feature["id"].as_str().unwrap());
        assert_eq!(feature["properties"]["geometryYear"], year, "{}", feature["id"]);
    }
}

#[tokio::test]
async fn the_region_map_has_todays_regions_with_their_outlines() {
    let app = TestApp::spawn().await;
    let today = jeugdregio::registry::today();
    let regions = map(&app, "/export/regions.geojson").await;
    let csv = download(&app, "/export/regions.csv").await;
    assert_eq!(regions["asOf"], today.to_string());
    assert_eq!(feature_codes(&regions), csv.codes(), "the regions of regions.csv, in code order");
    let layer_year = today.format("%Y").to_string().parse::<i32>().unwrap().min(2025);
    for (feature, row) in features(&regions).iter().zip(&csv.rows) {
        let properties = &feature["properties"];
        assert_eq!(properties["name"], row["name"].as_str());
        assert_eq!(properties["municipalityCount"].to_string(), row["municipality_count"]);
        assert_eq!(properties["municipalities"].as_array().unwrap().len(), properties["municipalityCount"]);
    }
    assert_drawn_by(&regions, layer_year);
    let source = regions["geometrySource"].as_str().unwrap();
    let layer = format!("jeugdregio_{layer_year}");
    assert!(source.contains("CBS gebiedsindelingen") && source.contains("cartomap/nl"), "{source}");
    assert!(source.contains("CC BY 4.0") && source.contains(&layer), "{source}");

    let zuidoost_brabant = &feature(&regions, "JZ39")["properties"];
    assert_eq!(zuidoost_brabant["name"], "Zuidoost-Brabant");
    assert_eq!(zuidoost_brabant["municipalityCount"], 21);
    let members = zuidoost_brabant["municipalities"].as_array().unwrap();
    assert!(members.contains(&json!("GM0772")) && members.windows(2).all(|w| w[0].as_str() < w[1].as_str()));
}

#[tokio::test]
async fn the_region_map_of_a_past_date_is_drawn_by_that_years_layer() {
    let app = TestApp::spawn().await;
    let regions = map(&app, "/export/regions.geojson?asOf=2018-06-01").await;
    let csv = download(&app, "/export/regions.csv?asOf=2018-06-01").await;
    assert_eq!(regions["asOf"], "2018-06-01");
    assert_eq!(feature_codes(&regions), csv.codes());
    assert!(regions["geometrySource"].as_str().unwrap().contains("jeugdregio_2018"));
    assert_eq!(regions["note"], Value::Null, "every region has its 2018 outline");
    assert_drawn_by(&regions, 2018);
    let mut members: Vec<&str> = Vec::new();
    for (feature, row) in features(&regions).iter().zip(&csv.rows) {
        let properties = &feature["properties"];
        assert_eq!(properties["name"], row["name"].as_str(), "the name of 2018");
        assert_eq!(properties["municipalityCount"].to_string(), row["municipality_count"]);
        members.extend(properties["municipalities"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()));
    }
    // Every municipality of the date is in exactly one region.
    members.sort_unstable();
    let municipalities = download(&app, "/export/municipalities.csv?asOf=2018-06-01").await;
    assert_eq!(members, municipalities.codes());
    assert_eq!(members.len(), 380);
    // Nuth (until 2019) is in Zuid-Limburg in 2018; Arnhem's region had its old name.
    assert!(feature(&regions, "JZ41")["properties"]["municipalities"].as_array().unwrap().contains(&json!("GM0951")));
    assert_eq!(feature(&regions, "JZ28")["properties"]["name"], "Arnhem");
}

#[tokio::test]
async fn the_municipal_map_has_outlines_only_where_cbs_has_that_years_layer() {
    let app = TestApp::spawn().await;
    let today = map(&app, "/export/municipalities.geojson").await;
    assert_eq!(features(&today).len(), 342);
    assert!(today["geometrySource"].as_str().unwrap().contains("gemeente_2025"));
    assert_drawn_by(&today, 2025);
    let eindhoven = &feature(&today, "GM0772")["properties"];
    assert_eq!((&eindhoven["name"], &eindhoven["regionCode"]), (&json!("Eindhoven"), &json!("JZ39")));
    assert_eq!(eindhoven["regionName"], "Zuidoost-Brabant");

    // CBS's municipal boundaries of 2016-2024 are not in the sources: no outline is made up.
    let then = map(&app, "/export/municipalities.geojson?asOf=2018-06-01").await;
    let csv = download(&app, "/export/municipalities.csv?asOf=2018-06-01").await;
    assert_eq!(feature_codes(&then), csv.codes());
    assert_eq!(features(&then).len(), 380);
    assert!(features(&then).iter().all(|f| f["geometry"].is_null() && f["properties"]["geometryYear"].is_null()));
    assert_eq!(then["geometrySource"], Value::Null);
    let note = then["note"].as_str().expect("a note says why");
    assert!(note.contains("2018") && note.contains("2015 and 2025"), "{note}");
    assert_eq!(feature(&then, "GM0951")["properties"]["regionCode"], "JZ41");

    let first = map(&app, "/export/municipalities.geojson?asOf=2015-06-01").await;
    assert_eq!(features(&first).len(), 393);
    assert!(first["geometrySource"].as_str().unwrap().contains("gemeente_2015"));
    assert_drawn_by(&first, 2015);
}

#[tokio::test]
async fn an_area_that_changed_after_its_layer_has_no_outline() {
    let app = TestApp::spawn().await;
    // Best merges into Eindhoven (both Zuidoost-Brabant) in 2030, and Gemert-Bakel moves to Noord-Limburg in 2031.
    let operator = app.as_operator();
    let merge = json!({ "municipalityCodes": ["GM0753"], "successorCode": "GM0772", "date": "2030-01-01" });
    operator.mutate_ok("municipalityMerge", merge).await;
    let version = app.query(r#"{ m: municipality(code: "GM1652") { version } }"#).await["m"]["version"].clone();
    let change = json!({ "municipalityCode": "GM1652", "expectedVersion": version, "regionCode": "JZ37", "validFrom": "2031-01-01" });
    operator.mutate_ok("membershipChange", change).await;

    // A merger inside one region keeps the region's outline, not the grown municipality's.
    let regions = map(&app, "/export/regions.geojson?asOf=2030-06-01").await;
    assert_eq!(feature(&regions, "JZ39")["properties"]["municipalityCount"], 20);
    assert_area(&feature(&regions, "JZ39")["geometry"], "JZ39");
    assert!(regions["note"].as_str().unwrap().contains("(0 of these 42)"), "{}", regions["note"]);
    let municipalities = map(&app, "/export/municipalities.geojson?asOf=2030-06-01").await;
    assert_eq!(features(&municipalities).len(), 341);
    assert!(feature(&municipalities, "GM0772")["geometry"].is_null(), "Eindhoven took over Best");
    assert!(municipalities["note"].as_str().unwrap().contains("(1 of these 341)"), "{}", municipalities["note"]);

    // A municipality that moves changes both regions.
    let regions = map(&app, "/export/regions.geojson?asOf=2031-06-01").await;
    for code in ["JZ39", "JZ37"] {
        let region = feature(&regions, code);
        assert!(region["geometry"].is_null() && region["properties"]["geometryYear"].is_null(), "{code}");
    }
    assert_area(&feature(&regions, "JZ38")["geometry"], "JZ38");
    let note = regions["note"].as_str().unwrap();
    assert!(note.contains("no CBS jeugdregio layer after 2025") && note.contains("(2 of these 42)"), "{note}");

    let municipalities = map(&app, "/export/municipalities.geojson?asOf=2031-06-01").await;
    assert_area(&feature(&municipalities, "GM1652")["geometry"], "GM1652");
    assert_eq!(feature(&municipalities, "GM1652")["properties"]["regionCode"], "JZ37");
}

#[tokio::test]
async fn maps_share_the_downloads_caching_and_problems() {
    let app = TestApp::spawn().await;
    let path = "/export/regions.geojson?asOf=2018-06-01";
    let response = get(&app, path).await;
    let headers = response.headers().clone();
    assert_eq!(headers["content-disposition"], "attachment; filename=\"jeugdregio-regions-2018-06-01.geojson\"");
    assert_eq!(headers["cache-control"], "public, max-age=30");
    assert_eq!(headers["vary"], "Accept-Encoding");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let again = app.client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // The CSV of the same date is another file.
    let csv = app.client.get(app.url("/export/regions.csv?asOf=2018-06-01")).header("if-none-match", &etag);
    assert_eq!(csv.send().await.unwrap().status(), 200);

    for file in ["regions.geojson", "municipalities.geojson"] {
        let response = get(&app, &format!("/export/{file}?asOf=2014-12-31")).await;
        assert_eq!(response.status(), 400, "{file}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        let problem: Value = response.json().await.unwrap();
        assert_eq!((&problem["code"], &problem["earliest"]), (&json!("AS_OF_OUT_OF_RANGE"), &json!("2015-01-01")));
    }
    assert_eq!(get(&app, "/export/roles.geojson").await.status(), 404);
}
