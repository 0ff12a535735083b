//! `identitymesh certs self-signed` (files, permissions, the printed fingerprint and serve
//! command) and `admin-api` refusing bad TLS files and plain HTTP off loopback, naming what
//! is wrong.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use crate::helpers::DataDir;

fn der_of(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).unwrap()
}

#[test]
fn self_signed_writes_a_certificate_and_a_private_key() {
    let dir = DataDir::new();
    let out = dir.file("tls");
    let out_arg = out.display().to_string();
    let args = [
        "certs",
        "self-signed",
        "--host",
        "sync.example.test",
        "--host",
        "127.0.0.1",
        "--out",
        &out_arg,
        "--days",
        "30",
    ];
    let done = dir.run(&args);
    done.expect_code(0);
    let cert = std::fs::read_to_string(out.join("cert.pem")).unwrap();
    let key = std::fs::read_to_string(out.join("key.pem")).unwrap();
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{cert}");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| std::fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("key.pem"), 0o600, "the key is private");
        assert_eq!(
            mode("cert.pem") & 0o600,
            0o600,
            "the certificate is readable"
        );
    }
    let fingerprint: String = Sha256::digest(der_of(&cert))
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    assert!(
        done.stdout
            .contains(&format!("SHA-256 fingerprint: {fingerprint}")),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("identitymesh serve --listen")
            && done
                .stdout
                .contains(&format!("--tls-cert {}", out.join("cert.pem").display())),
        "{}",
        done.stdout
    );
    assert!(
        !done.stdout.contains(key.lines().nth(1).unwrap()),
        "the key is never printed"
    );
    let again = dir.run(&args);
    again.expect_code(1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("key.pem")).unwrap(),
        key,
        "not overwritten"
    );
}

#[test]
fn self_signed_refuses_a_host_that_is_no_name() {
    let dir = DataDir::new();
    let out = dir.file("tls").display().to_string();
    let bad = dir.run(&[
        "certs",
        "self-signed",
        "--host",
        "not a name!",
        "--out",
        &out,
    ]);
    bad.expect_code(1);
    assert!(bad.stderr.contains("--host"), "{}", bad.stderr);
    assert!(!dir.file("tls").join("key.pem").exists());
}

#[test]
fn admin_api_refuses_bad_tls_files_and_plain_http_off_loopback() {
    let dir = DataDir::new();
    let out = dir.file("tls");
    let out_arg = out.display().to_string();
    dir.run(&[
        "certs",
        "self-signed",
        "--host",
        "localhost",
        "--out",
        &out_arg,
    ])
    .expect_code(0);
    let key = out.join("key.pem").display().to_string();
    let bad = dir.file("broken-cert.pem");
    std::fs::write(&bad, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n").unwrap();
    let bad = bad.display().to_string();
    let missing = dir.file("nowhere.pem").display().to_string();
    for (cert, named) in [(&bad, "broken-cert.pem"), (&missing, "nowhere.pem")] {
        let r = dir.run(&[
            "admin-api",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert,
            "--tls-key",
            &key,
        ]);
        r.expect_code(1);
        assert!(
            r.stderr.contains(named) && r.stderr.contains("certs self-signed"),
            "{}",
            r.stderr
        );
    }
    let cert = out.join("cert.pem").display().to_string();
    let r = dir.run(&[
        "admin-api",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        &cert,
        "--tls-key",
        &cert,
    ]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("private key") && r.stderr.contains("cert.pem"),
        "{}",
        r.stderr
    );
    let r = dir.run(&["admin-api", "--listen", "127.0.0.1:0", "--tls-cert", &cert]);
    r.expect_code(1);
    assert!(r.stderr.contains("--tls-key"), "{}", r.stderr);
    let r = dir.run(&["admin-api", "--listen", "0.0.0.0:0"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("refusing to serve plain HTTP") && r.stderr.contains("--tls-cert"),
        "{}",
        r.stderr
    );
}
