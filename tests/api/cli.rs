//! The README's first command: `jeugdregio serve` with no configuration
//! creates, migrates and seeds `jeugdregio.sqlite` in the working directory,
//! and a second start reuses it without seeding again.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Server(pub(crate) Child);

/// Stopped the way an operator stops it, with SIGTERM, so that it writes its
/// last log lines (a thread of their own writes them) before the test reads
/// them; killed if it is not gone within 10 s.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: kill(2) on our own child's pid has no memory effects.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if !matches!(self.0.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(dir: &std::path::Path, port: u16) -> Server {
    let log = std::fs::File::create(dir.join(format!("serve-{port}.log"))).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("JEUGDREGIO_LISTEN")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start jeugdregio serve");
    Server(child)
}

pub(crate) async fn wait_ready(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && response.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "jeugdregio serve did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn serve_creates_and_seeds_a_sqlite_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    for start_number in 1..=2 {
        let port = free_port();
        let server = start(dir.path(), port);
        wait_ready(&client, port).await;
        let body =
            crate::helpers::post_query(&client, port, "{ regions { totalCount } municipalities { totalCount } }").await;
        assert_eq!(body["data"]["regions"]["totalCount"], 42, "start {start_number}");
        assert_eq!(body["data"]["municipalities"]["totalCount"], 342, "start {start_number}");
        drop(server);
        let log = std::fs::read_to_string(dir.path().join(format!("serve-{port}.log"))).unwrap();
        assert!(log.contains(&format!("http://127.0.0.1:{port}/graphql")), "logs the URL: {log}");
        assert_eq!(log.contains("seeded the national registry"), start_number == 1, "start {start_number}: {log}");
    }
    assert!(dir.path().join("jeugdregio.sqlite").exists());
}

#[test]
fn the_token_command_prints_a_token_the_service_accepts() {
    let secret = "cli-test-secret-that-is-long-enough-123";
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
            .args(args)
            .env("JEUGDREGIO_JWT_SECRET", secret)
            .env_remove("JEUGDREGIO_JWT_ISSUER")
            .env_remove("JEUGDREGIO_JWT_AUDIENCE")
            .output()
            .expect("run jeugdregio token")
    };
    let authenticator = jeugdregio::auth::Authenticator::new(&jeugdregio::auth::AuthConfig {
        secret: Some(secret.into()),
        public_key_pem: None,
        issuer: "jeugdregio".into(),
        audience: "jeugdregio".into(),
    })
    .unwrap();
    let token_of = |output: std::process::Output| {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        format!("Bearer {}", String::from_utf8(output.stdout).unwrap().trim())
    };
    let municipality =
        token_of(run(&["token", "--municipality", "GM0772", "--sub", "dev@example.org", "--ttl", "10m"]));
    assert_eq!(
        authenticator.authenticate(Some(&municipality)),
        Ok(jeugdregio::auth::Actor::Municipality { code: "GM0772".into(), subject: "dev@example.org".into() })
    );
    let admin = token_of(run(&["token", "--admin"]));
    assert!(matches!(authenticator.authenticate(Some(&admin)), Ok(jeugdregio::auth::Actor::Operator { .. })));

    let without_secret = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["token", "--admin"])
        .env_remove("JEUGDREGIO_JWT_SECRET")
        .output()
        .unwrap();
    assert!(!without_secret.status.success());
    assert!(String::from_utf8_lossy(&without_secret.stderr).contains("JEUGDREGIO_JWT_SECRET"));

    // No token the service would refuse, nor one for a code that is not a CBS municipality code.
    let not_a_municipality = run(&["token", "--municipality", "GM77"]);
    assert!(!not_a_municipality.status.success());
    assert!(String::from_utf8_lossy(&not_a_municipality.stderr).contains("not a CBS municipality code"));
    let short_secret = Command::new(env!("CARGO_BIN_EXE_jeugdregio"))
        .args(["token", "--admin"])
        .env("JEUGDREGIO_JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!short_secret.status.success());
    assert!(String::from_utf8_lossy(&short_secret.stderr).contains("at least 32 bytes"));
}
