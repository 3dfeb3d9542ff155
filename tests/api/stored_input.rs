//! Input that is stored must mean one thing everywhere (issue 12, part 5):
//! dates inside 1800–2200 that both databases order the same way, text
//! without invisible or reordering characters, URLs in one normal form.
//! Every case runs on SQLite and on PostgreSQL, like every test here.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn dates_outside_1800_to_2200_are_refused_and_the_edges_compare_the_same_on_both_databases() {
    let app = TestApp::spawn().await;
    let operator = app.as_operator();
    let before = app.audit_count().await;
    for date in ["1799-12-31", "2201-01-01", "0000-01-01", "9999-12-31", "+10000-01-01"] {
        let input =
            json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0772", "cooperationCode": "JENS", "validFrom": date });
        let reply = operator.mutate("roleAssign", input).await;
        let message = reply.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("from 1800-01-01 to 2200-12-31"), "{date}: {reply}");
        assert!(reply.body["errors"][0]["extensions"]["code"].is_string(), "{date}: the error has a code: {reply}");
        let response =
            app.client.get(app.url(&format!("/export/roles.csv?asOf={date}"))).send().await.expect("download");
        assert_eq!(response.status(), 400, "{date}");
    }
    assert_eq!(app.audit_count().await, before, "refused dates write nothing");

    // The latest date there is: a role that starts then is not valid today, on either database
    // (text order and date order agree only because every year has four digits).
    let input = json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0772", "cooperationCode": "JENS", "validFrom": "2200-12-31" });
    let role = operator.mutate_ok("roleAssign", input).await;
    let code = role["role"]["code"].as_str().unwrap().to_owned();
    let query = r#"query($code: String!, $asOf: Date) { role(code: $code, asOf: $asOf) { code validFrom } }"#;
    let today = app.query_with(query, json!({ "code": code })).await;
    assert!(today["role"].is_null(), "a role from 2200-12-31 is not valid today: {today}");
    let then = app.query_with(query, json!({ "code": code, "asOf": "2200-12-31" })).await;
    assert_eq!(then["role"]["validFrom"], "2200-12-31");
    let day_before = app.query_with(query, json!({ "code": code, "asOf": "2200-12-30" })).await;
    assert!(day_before["role"].is_null(), "{day_before}");
    let jens = app.query(r#"{ cooperation(code: "JENS") { roles { code } } }"#).await;
    assert!(!jens.to_string().contains(&code), "today's roles of JENS do not include it: {jens}");
}

#[tokio::test]
async fn text_that_hides_or_reorders_characters_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let operator = app.as_operator();
    let before = app.audit_count().await;
    let version = app.version(r#"{ o: municipality(code: "GM0772") { version } }"#).await;
    for (name, problem) in [
        ("Toegang \u{202E}nevohdniE", "invisible"),
        ("Toegang\u{200B}Jeugd", "invisible"),
        ("\u{FEFF}Toegang Jeugd", "invisible"),
        ("Toegang\nJeugd", "one line"),
        ("Toe\u{301}\u{308}\u{300}\u{302}gang", "combining marks"),
    ] {
        let input = json!({ "code": "GM0772", "expectedVersion": version, "accessPoint": { "name": name } });
        let reply = eindhoven.mutate("municipalityUpdate", input).await;
        let error = &reply.payload["userErrors"][0];
        assert_eq!(error["field"], json!(["accessPoint", "name"]), "{name:?}: {reply}");
        assert_eq!(error["code"], "INVALID");
        assert!(error["message"].as_str().unwrap().contains(problem), "{name:?}: {reply}");
    }
    // A note may run over lines, but may not hide characters either.
    let multi_line = json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0772", "cooperationCode": "JENS",
        "validFrom": "2027-01-01", "note": "line one\nline \u{2066}two" });
    let reply = operator.mutate("roleAssign", multi_line).await;
    assert_eq!(reply.payload["userErrors"][0]["field"], json!(["note"]), "{reply}");
    assert_eq!(app.audit_count().await, before, "refused text writes nothing");

    let fine = json!({ "kind": "CONTRACT_MANAGER", "holderCode": "GM0772", "cooperationCode": "JENS",
        "validFrom": "2027-01-01", "note": "Zoë's note,\nover two lines" });
    let role = operator.mutate_ok("roleAssign", fine).await;
    let query = r#"query($code: String!) { role(code: $code, asOf: "2027-01-01") { note } }"#;
    let stored = app.query_with(query, json!({ "code": role["role"]["code"] })).await;
    assert_eq!(stored["role"]["note"], "Zoë's note,\nover two lines");
}

#[tokio::test]
async fn web_addresses_are_stored_only_in_their_normal_form() {
    let app = TestApp::spawn().await;
    let eindhoven = app.as_municipality("GM0772");
    let before = app.audit_count().await;
    for (website, problem) in [
        (
            "https://www.eindhoven.nl/<script>alert(1)</script>",
            "must be written as https://www.eindhoven.nl/%3Cscript%3E",
        ),
        ("HTTPS://WWW.EINDHOVEN.NL/jeugd", "must be written as https://www.eindhoven.nl/jeugd"),
        ("https://admin:secret@www.eindhoven.nl/", "user name or password"),
        ("https://10.0.0.1/jeugd", "IP address"),
        ("https://www.eindhoven.nl:8080/", "port"),
        ("javascript:alert(1)", "http(s) URL"),
    ] {
        let input = json!({ "code": "GM0772", "expectedVersion": 1, "website": website });
        let reply = eindhoven.mutate("municipalityUpdate", input).await;
        let error = &reply.payload["userErrors"][0];
        assert_eq!(error["field"], json!(["website"]), "{website}: {reply}");
        assert!(error["message"].as_str().unwrap().contains(problem), "{website}: {reply}");
    }
    assert_eq!(app.audit_count().await, before, "refused addresses write nothing");

    let input =
        json!({ "code": "GM0772", "expectedVersion": 1, "website": "https://www.eindhoven.nl/jeugd%20en%20gezin" });
    let updated = eindhoven.mutate_ok("municipalityUpdate", input).await;
    assert_eq!(updated["municipality"]["website"], "https://www.eindhoven.nl/jeugd%20en%20gezin");
}
