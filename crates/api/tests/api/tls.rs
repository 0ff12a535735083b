//! HTTPS: the app served with a certificate made by rcgen, reached by a client that trusts
//! only that certificate. Cookies get `Secure`, responses carry HSTS, plain HTTP against the
//! TLS port fails, plain HTTP off loopback is refused, and bad PEM is an error naming the file.

use identitymesh_api::{AppState, Role, Security, TlsConfig, TlsError, add_user, serve, serve_tls};
use identitymesh_engine::Clock;
use identitymesh_secrets::{Kek, KeySet};
use identitymesh_store::vault::Vault;
use identitymesh_testkit::{Backend, TestEnv, backends};
use reqwest::header::{SET_COOKIE, STRICT_TRANSPORT_SECURITY};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;

use crate::helpers::{CONFIG, PASSWORD};

/// A certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn certificate() -> (String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (made.cert.pem(), made.signing_key.serialize_pem())
}

fn state(env: &TestEnv) -> AppState {
    AppState::new(
        env.store.clone(),
        Some(env.engine(CONFIG)),
        Vault::new(KeySet::new(Kek::generate().unwrap())),
        Arc::new(env.clock.clone()),
        // deliberately not marked TLS: serving over TLS must mark it
        Security::default(),
    )
}

struct TlsApp {
    env: TestEnv,
    base: String,
    https: reqwest::Client,
    stop: oneshot::Sender<()>,
}

async fn start(backend: Backend) -> TlsApp {
    let env = TestEnv::new(backend).await;
    env.write("hr.csv", "employeeId,displayName\n1,Ada Lovelace\n");
    add_user(
        &env.store,
        "ada",
        Role::Admin,
        PASSWORD,
        "test",
        env.clock.now(),
    )
    .await
    .unwrap();
    let (cert, key) = certificate();
    let tls = TlsConfig::from_pem(
        cert.as_bytes(),
        key.as_bytes(),
        Path::new("cert.pem"),
        Path::new("key.pem"),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_tls(listener, state(&env), tls, async move {
        let _ = stopped.await;
    }));
    let https = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TlsApp {
        env,
        base: format!("127.0.0.1:{}", addr.port()),
        https,
        stop,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_with_secure_cookies_and_hsts() {
    for backend in backends() {
        let app = start(backend).await;
        let r = app
            .https
            .get(format!("https://{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[STRICT_TRANSPORT_SECURITY], "max-age=31536000");
        assert!(r.headers().contains_key("content-security-policy"));
        let login = app
            .https
            .post(format!("https://{}/api/v1/session", app.base))
            .json(&json!({ "name": "ada", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 201);
        let cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        assert!(
            cookie.contains("; Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
        let session = cookie.split(';').next().unwrap().to_owned();
        let who = app
            .https
            .get(format!("https://{}/api/v1/session", app.base))
            .header("cookie", session)
            .send()
            .await
            .unwrap();
        assert_eq!(who.status(), 200, "the secure session works over HTTPS");
        let plain = reqwest::Client::new()
            .get(format!("http://{}/healthz", app.base))
            .send()
            .await;
        assert!(
            plain.is_err() || !plain.unwrap().status().is_success(),
            "plain HTTP against the TLS port must fail"
        );
        let untrusting = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .build()
            .unwrap();
        let r = untrusting
            .get(format!("https://{}/healthz", app.base))
            .send()
            .await;
        assert!(
            r.is_err(),
            "a client that does not trust the certificate fails"
        );
        let _ = app.stop.send(());
        app.env.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_off_loopback_is_refused() {
    let env = TestEnv::new(Backend::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let e = serve(listener, state(&env), std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    let message = e.to_string();
    assert!(
        message.contains("refusing to serve plain HTTP")
            && message.contains("--tls-cert")
            && message.contains("certs self-signed"),
        "{message}"
    );
    // on loopback plain HTTP serves, without HSTS and without `Secure` cookies
    add_user(
        &env.store,
        "ada",
        Role::Admin,
        PASSWORD,
        "test",
        env.clock.now(),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, state(&env), std::future::pending()));
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(!r.headers().contains_key(STRICT_TRANSPORT_SECURITY));
    let login = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({ "name": "ada", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
    env.cleanup().await;
}

#[test]
fn bad_certificates_and_keys_are_errors_naming_the_file() {
    let (cert, key) = certificate();
    let (other_cert, _) = certificate();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (cert_path, key_path) = (write("cert.pem", &cert), write("key.pem", &key));
    TlsConfig::from_pem_files(&cert_path, &key_path).unwrap();
    let garbage = write("garbage.pem", "not a certificate\n");
    let missing = dir.path().join("missing.pem");
    let mismatched = write("other.pem", &other_cert);
    let cases: [(&Path, &Path, &str); 5] = [
        (&garbage, &key_path, "garbage.pem"),
        (&cert_path, &garbage, "garbage.pem"),
        (&missing, &key_path, "missing.pem"),
        (&cert_path, &cert_path, "cert.pem"),
        (&mismatched, &key_path, "other.pem"),
    ];
    for (c, k, named) in cases {
        let e = TlsConfig::from_pem_files(c, k).unwrap_err();
        let message = e.to_string();
        assert!(message.contains(named), "{message}");
        assert!(
            message.contains("identitymesh certs self-signed")
                || matches!(e, TlsError::Rejected { .. }),
            "{message}"
        );
        let secret_line = key.lines().nth(1).unwrap();
        assert!(
            !message.contains(secret_line),
            "no key material in {message}"
        );
    }
    let e = TlsConfig::from_pem_files(&mismatched, &key_path).unwrap_err();
    assert!(matches!(e, TlsError::Rejected { .. }), "{e}");
}
