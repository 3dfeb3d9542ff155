//! What every response tells a browser (issue 12, part 11): security headers
//! on pages, answers and errors alike, and CORS from an allow-list.

use crate::helpers::TestApp;

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_server_detail() {
    let app = TestApp::spawn().await;
    let requests = [
        app.client.get(app.url("/")),
        app.client.get(app.url("/graphql")).header("accept", "text/html"),
        app.client.get(app.url("/graphql")).query(&[("query", "{ registryVersion }")]),
        app.client.post(app.url("/graphql")).body("not json"),
        app.client.get(app.url("/export/regions.csv")),
        app.client.get(app.url("/no/such/path")),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let (url, headers) = (response.url().clone(), response.headers().clone());
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{url}");
        assert_eq!(headers["x-frame-options"], "DENY", "{url}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        for directive in ["default-src 'self'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{url}: {policy}");
        }
        assert!(!policy.contains("unsafe-eval") && !policy.contains("script-src 'self' 'unsafe-inline'"), "{policy}");
        assert!(!headers.contains_key("server"), "{url}: no Server header");
    }
}

#[tokio::test]
async fn any_origin_may_read_by_default_and_only_listed_origins_when_configured() {
    let app = TestApp::spawn().await;
    let from = |app: &TestApp, origin: &str| {
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", "{ registryVersion }")])
            .header("origin", origin.to_owned())
    };
    let open = from(&app, "https://anyone.example.org").send().await.unwrap();
    assert_eq!(open.headers()["access-control-allow-origin"], "*");
    assert!(!open.headers().contains_key("access-control-allow-credentials"), "never with credentials");

    let mut settings = app.settings();
    settings.cors_allowed_origins = vec!["https://portal.example.nl".into()];
    let listed = app.start_another(settings).await;
    let portal = from(&listed, "https://portal.example.nl").send().await.unwrap();
    assert_eq!(portal.headers()["access-control-allow-origin"], "https://portal.example.nl");
    assert!(!portal.headers().contains_key("access-control-allow-credentials"));
    let other = from(&listed, "https://elsewhere.example.org").send().await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"), "an unlisted origin may not read");

    // A preflight for a write with a token from the listed origin is allowed.
    let preflight = listed
        .client
        .request(reqwest::Method::OPTIONS, listed.url("/graphql"))
        .header("origin", "https://portal.example.nl")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://portal.example.nl");
    let allowed = preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");

    let mut bad = app.settings();
    bad.cors_allowed_origins = vec!["https://portal.example.nl/path".into()];
    let Err(refused) = jeugdregio::app(&bad).await else { panic!("an origin with a path is refused at start") };
    assert!(refused.to_string().contains("must be just a scheme, host and optional port"), "{refused}");
}
