//! Authentication over real HTTP: who the token makes you, and every kind of
//! bad token refused with UNAUTHENTICATED (never treated as anonymous).

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp};

fn signed(claims: Value, secret: &str, algorithm: Algorithm) -> String {
    encode(&Header::new(algorithm), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({ "iss": "jeugdregio", "aud": "jeugdregio", "sub": "someone", "exp": now() + 600, "municipality": "GM0772" })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

const VIEWER: &str = "{ viewer { kind subject municipalityCode municipality { name } } }";

#[tokio::test]
async fn the_viewer_is_who_the_token_says() {
    let app = TestApp::spawn().await;
    let (status, body) = app.anonymous().send(VIEWER, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["viewer"],
        json!({ "kind": "ANONYMOUS", "subject": null, "municipalityCode": null, "municipality": null })
    );

    let body = app.as_municipality("GM0772").post(VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["kind"], "MUNICIPALITY");
    assert_eq!(body["data"]["viewer"]["municipalityCode"], "GM0772");
    assert_eq!(body["data"]["viewer"]["municipality"]["name"], "Eindhoven");
    assert_eq!(body["data"]["viewer"]["subject"], "tester@example.org");

    let body = app.as_operator().post(VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["kind"], "OPERATOR");

    let list_scope = signed(
        with(with(claims(), "scope", json!(["registry:admin"])), "municipality", Value::Null),
        TEST_SECRET,
        Algorithm::HS256,
    );
    let body = app.caller(Some(&format!("Bearer {list_scope}"))).post(VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["kind"], "OPERATOR");
}

#[tokio::test]
async fn every_bad_token_is_refused_with_unauthenticated() {
    let app = TestApp::spawn().await;
    let header = r#"{"alg":"none","typ":"JWT"}"#;
    let payload = claims().to_string();
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let alg_none = format!("{}.{}.", b64(header), b64(&payload));

    let mut without_exp = claims();
    without_exp.as_object_mut().unwrap().remove("exp");
    let cases = [
        ("garbage", "Bearer not-a-jwt".to_owned()),
        ("not bearer", format!("Basic {}", b64("user:pass"))),
        ("empty bearer", "Bearer ".to_owned()),
        (
            "expired",
            format!("Bearer {}", signed(with(claims(), "exp", json!(now() - 3600)), TEST_SECRET, Algorithm::HS256)),
        ),
        (
            "wrong secret",
            format!("Bearer {}", signed(claims(), "another-secret-that-is-long-enough-xx", Algorithm::HS256)),
        ),
        (
            "wrong audience",
            format!("Bearer {}", signed(with(claims(), "aud", json!("someone-else")), TEST_SECRET, Algorithm::HS256)),
        ),
        (
            "wrong issuer",
            format!("Bearer {}", signed(with(claims(), "iss", json!("someone-else")), TEST_SECRET, Algorithm::HS256)),
        ),
        ("alg none", format!("Bearer {alg_none}")),
        ("other HMAC algorithm", format!("Bearer {}", signed(claims(), TEST_SECRET, Algorithm::HS512))),
        ("no exp", format!("Bearer {}", signed(without_exp, TEST_SECRET, Algorithm::HS256))),
        (
            "no organisation",
            format!("Bearer {}", signed(with(claims(), "municipality", Value::Null), TEST_SECRET, Algorithm::HS256)),
        ),
        (
            "bad municipality claim",
            format!(
                "Bearer {}",
                signed(with(claims(), "municipality", json!("Eindhoven")), TEST_SECRET, Algorithm::HS256)
            ),
        ),
    ];
    for (name, authorization) in cases {
        let (status, body) = app.caller(Some(&authorization)).send(VIEWER, json!({})).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{name}: {body}");
        assert!(body.get("data").is_none(), "{name}: nothing is executed");
    }
}

#[tokio::test]
async fn a_service_without_a_key_refuses_every_token() {
    let app = TestApp::spawn().await;
    let mut settings = app.settings();
    settings.auth.secret = None;
    let keyless = app.start_another(settings).await;
    let (status, body) = keyless.as_operator().send(VIEWER, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A service verifying with a public key accepts tokens signed with its
/// private key, and refuses an HS256 token "signed" with the public key
/// (algorithm confusion) as well as a token signed by another key type.
#[tokio::test]
async fn public_key_verification_pins_the_algorithm() {
    let app = TestApp::spawn().await;
    for (public, private, algorithm, other_private, other_algorithm) in [
        ("ed25519-public.pem", "ed25519-private.pem", Algorithm::EdDSA, "rsa-private.pem", Algorithm::RS256),
        ("rsa-public.pem", "rsa-private.pem", Algorithm::RS256, "ed25519-private.pem", Algorithm::EdDSA),
    ] {
        let mut settings = app.settings();
        settings.auth.secret = None;
        settings.auth.public_key_pem = Some(fixture(public));
        let service = app.start_another(settings).await;
        let sign = |pem: &str, alg: Algorithm| {
            let key = match alg {
                Algorithm::EdDSA => EncodingKey::from_ed_pem(fixture(pem).as_bytes()).unwrap(),
                _ => EncodingKey::from_rsa_pem(fixture(pem).as_bytes()).unwrap(),
            };
            encode(&Header::new(alg), &claims(), &key).unwrap()
        };
        let ask = |token: String| {
            let service = &service;
            async move { service.caller(Some(&format!("Bearer {token}"))).send(VIEWER, json!({})).await }
        };
        let (status, body) = ask(sign(private, algorithm)).await;
        assert_eq!(status, 200, "{public}: {body}");
        assert_eq!(body["data"]["viewer"]["municipalityCode"], "GM0772");

        let confused = signed(claims(), &fixture(public), Algorithm::HS256);
        let (status, body) = ask(confused).await;
        assert_eq!(
            (status, body["errors"][0]["extensions"]["code"].clone()),
            (401, json!("UNAUTHENTICATED")),
            "{public}: HS256 with the public key"
        );

        let (status, _) = ask(sign(other_private, other_algorithm)).await;
        assert_eq!(status, 401, "{public}: a token of another key type");
    }
}
