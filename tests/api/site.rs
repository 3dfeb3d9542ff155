//! The registry page at `/`: served from the binary, revalidated by ETag, and
//! asking the API only what the API answers. What it shows is checked in a
//! real browser by `tests/browser/page.mjs`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_every_error_is_coded};

const APP_JS: &str = include_str!("../../assets/site/app.js");

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary_and_revalidated() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<html lang="nl">"#));
    // Offline: nothing from a CDN, no web fonts, no remote images.
    assert!(!html.contains("https://") && !html.contains("http://"), "the page loads nothing from elsewhere");
    for link in ["/graphql", "/schema.graphql", "/export/municipalities.csv", "/export/regions.geojson"] {
        assert!(html.contains(&format!("href=\"{link}")), "the page links {link}");
    }

    for (asset, content_type) in
        [("/site/app.js", "text/javascript; charset=utf-8"), ("/site/app.css", "text/css; charset=utf-8")]
    {
        assert!(html.contains(asset), "{asset}");
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert_eq!(response.headers()["content-type"], content_type);
        assert_eq!(response.headers()["cache-control"], "no-cache");
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert!(response.text().await.unwrap().len() > 1000, "{asset}");

        let again = app.client.get(app.url(asset)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{asset} is revalidated");
        assert!(again.bytes().await.unwrap().is_empty());
        let gzipped = app.client.get(app.url(asset)).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{asset} is compressed");
    }
    assert_eq!(app.client.get(app.url("/site/nope.js")).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(app.url("/site/../Cargo.toml")).send().await.unwrap().status(), 404);
}

/// The GraphQL documents the page sends, read from its script: the backquoted
/// strings that start with `query`.
fn page_queries() -> Vec<(&'static str, &'static str)> {
    APP_JS
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|text| text.starts_with("query "))
        .map(|text| (text.split(['(', ' ']).nth(1).unwrap(), text))
        .collect()
}

#[tokio::test]
async fn every_query_the_page_sends_is_answered_without_errors_on_old_and_new_dates() {
    let app = TestApp::spawn().await;
    let queries = page_queries();
    let names: Vec<&str> = queries.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["Overzicht", "Regio", "Gemeentegeschiedenis"]);
    for as_of in ["2015-01-01", "2018-06-01", "2025-06-01"] {
        for (name, document) in &queries {
            let variables =
                json!({ "asOf": as_of, "code": if *name == "Gemeentegeschiedenis" { "GM0951" } else { "JZ39" } });
            // As the page sends them: GET, so the response cache and ETags apply.
            let response = app
                .anonymous()
                .get()
                .query(&[("query", *document), ("variables", &variables.to_string())])
                .header("accept", "application/graphql-response+json")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{name} on {as_of}");
            assert!(response.headers().contains_key("etag"));
            let body: Value = response.json().await.unwrap();
            assert_every_error_is_coded(&body);
            assert!(body.get("errors").is_none(), "{name} on {as_of}: {body}");
            match *name {
                "Overzicht" => assert_eq!(body["data"]["regions"]["nodes"].as_array().unwrap().len(), 42),
                "Regio" => assert_eq!(body["data"]["region"]["code"], "JZ39"),
                _ => assert_eq!(body["data"]["municipalityRecord"]["validTo"], "2019-01-01"),
            }
        }
    }
}

/// RFC 9110: a HEAD request gets the headers a GET would get, and no body.
#[tokio::test]
async fn a_head_request_gets_the_headers_of_the_get_without_a_body() {
    let app = TestApp::spawn().await;
    for path in ["/site/app.js", "/export/municipalities.csv", "/schema.graphql"] {
        let get = app.client.get(app.url(path)).header("accept-encoding", "gzip").send().await.unwrap();
        let head = app.client.head(app.url(path)).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(get.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"), "{path}");
        for name in ["content-type", "content-encoding", "vary", "etag", "cache-control", "api-version"] {
            assert_eq!(head.headers().get(name), get.headers().get(name), "{path}: {name}");
        }
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
}
