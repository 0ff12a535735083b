//! `identitymesh license show|install|verify` and the connector limit of `config apply`, with
//! licenses issued here by a test issuer trusted through IDENTITYMESH_LICENSE_ISSUERS (the
//! library functions of the `issue-license` tool). Dates are fixed far from today, so no test
//! depends on the clock: "expired within grace" is an old license with a long grace period.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use identitymesh_secrets::license::issuers::{issuer_id, sign_license};
use identitymesh_secrets::{LicenseDocument, Limits, SigningKey};
use std::path::PathBuf;

use crate::helpers::{DataDir, Outcome};

pub(crate) const ISSUERS_ENV: &str = "IDENTITYMESH_LICENSE_ISSUERS";

fn issuer() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

/// The environment that trusts the test issuer.
pub(crate) fn trusted() -> String {
    B64.encode(issuer().verifying_key().as_bytes())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn document(expires: NaiveDate, grace_days: u32, connectors: Option<u64>) -> LicenseDocument {
    LicenseDocument {
        id: "LIC-TEST-1".into(),
        licensee: "Test Corp".into(),
        edition: "standard".into(),
        issued: date(2000, 1, 1),
        expires,
        grace_days,
        limits: Limits {
            connectors,
            ..Limits::default()
        },
        features: vec!["scale-out".into()],
    }
}

/// Signs `doc` with `key` into a file of `dir` named `name`.
fn issue(dir: &DataDir, name: &str, doc: &LicenseDocument, key: &SigningKey) -> PathBuf {
    let path = dir.file(name);
    std::fs::write(&path, sign_license(doc, key).unwrap()).unwrap();
    path
}

/// A license file in `dir`, from the test issuer, for `relays` relay agents (nothing else
/// limited); trust it with [`ISSUERS_ENV`] = [`trusted`].
pub(crate) fn relay_license(dir: &DataDir, relays: u64) -> PathBuf {
    let mut doc = document(date(2999, 12, 31), 30, None);
    doc.limits.relay_agents = Some(relays);
    issue(dir, "relay-license.key", &doc, &issuer())
}

fn valid() -> LicenseDocument {
    document(date(2999, 12, 31), 30, Some(1))
}

/// Runs with the test issuer trusted.
fn licensed(dir: &DataDir, args: &[&str]) -> Outcome {
    let trusted = trusted();
    dir.run_with(args, None, &[(ISSUERS_ENV, trusted.as_str())])
}

#[track_caller]
fn assert_has(outcome: &Outcome, needles: &[&str]) {
    let all = format!("{}\n{}", outcome.stdout, outcome.stderr);
    for needle in needles {
        assert!(all.contains(needle), "{needle:?} is not in:\n{all}");
    }
}

#[test]
fn verify_accepts_valid_and_in_grace_licenses_and_refuses_tampered_and_unknown_ones() {
    let dir = DataDir::new();
    let file = issue(&dir, "valid.key", &valid(), &issuer());
    let path = file.display().to_string();
    let ok = licensed(&dir, &["license", "verify", &path]);
    ok.expect_code(0);
    assert_has(
        &ok,
        &[
            "license OK",
            "edition:  standard",
            "licensee: Test Corp",
            "valid until 2999-12-31",
            "connectors 1",
        ],
    );
    assert!(!ok.stderr.contains("warning"), "{}", ok.stderr);

    // expired in 2000, honoured for a million days: in grace, with a warning, still OK
    let grace = issue(
        &dir,
        "grace.key",
        &document(date(2000, 1, 1), 1_000_000, None),
        &issuer(),
    );
    let in_grace = licensed(&dir, &["license", "verify", &grace.display().to_string()]);
    in_grace.expect_code(0);
    assert_has(
        &in_grace,
        &["license OK", "expired on 2000-01-01, in grace period until"],
    );
    assert!(
        in_grace.stderr.contains("warning:") && in_grace.stderr.contains("grace period"),
        "{}",
        in_grace.stderr
    );

    // one changed byte of the signed document: refused
    let mut envelope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let signed = B64.decode(envelope["document"].as_str().unwrap()).unwrap();
    let altered = String::from_utf8(signed)
        .unwrap()
        .replace("\"connectors\":1", "\"connectors\":9");
    assert!(altered.contains("\"connectors\":9"));
    envelope["document"] = B64.encode(altered).into();
    let tampered = dir.file("tampered.key");
    std::fs::write(&tampered, envelope.to_string()).unwrap();
    let refused = licensed(
        &dir,
        &["license", "verify", &tampered.display().to_string()],
    );
    refused.expect_code(1);
    assert_has(&refused, &["was altered after it was signed"]);

    // a valid signature by an issuer nobody configured: refused, naming its key id
    let stranger = SigningKey::from_bytes(&[0x24; 32]);
    let unknown = issue(&dir, "unknown.key", &valid(), &stranger);
    let refused = licensed(&dir, &["license", "verify", &unknown.display().to_string()]);
    refused.expect_code(1);
    assert_has(
        &refused,
        &[
            "unknown issuer",
            &issuer_id(&stranger.verifying_key()),
            "IDENTITYMESH_LICENSE_ISSUERS",
        ],
    );
    // and so is the valid one where the test issuer is not trusted
    dir.run(&["license", "verify", &path]).expect_code(1);
}

#[test]
fn no_license_is_community_and_an_installed_one_is_shown() {
    let dir = DataDir::new();
    let show = dir.run(&["license", "show"]);
    show.expect_code(0);
    assert_has(
        &show,
        &[
            "edition:  community",
            "community edition (no license installed)",
        ],
    );

    let file = issue(&dir, "valid.key", &valid(), &issuer());
    let install = licensed(&dir, &["license", "install", &file.display().to_string()]);
    install.expect_code(0);
    assert_has(&install, &["installed", "license.key"]);
    assert_eq!(
        std::fs::read(dir.file("license.key")).unwrap(),
        std::fs::read(&file).unwrap(),
        "the verified file is installed as it was signed"
    );

    let show = licensed(&dir, &["license", "show"]);
    show.expect_code(0);
    assert_has(
        &show,
        &[
            "edition:  standard",
            "licensee: Test Corp",
            "valid until 2999-12-31",
            "id:       LIC-TEST-1",
            "features: scale-out",
            "connectors 1",
        ],
    );
    licensed(&dir, &["license", "verify"]).expect_code(0);
}

#[test]
fn config_apply_with_more_connectors_than_licensed_is_refused_naming_the_limit() {
    let dir = DataDir::new();
    let config = dir.example_config();
    let config_arg = config.display().to_string();
    let one = issue(&dir, "one.key", &valid(), &issuer());
    licensed(&dir, &["license", "install", &one.display().to_string()]).expect_code(0);

    let refused = licensed(&dir, &["config", "apply", &config_arg]);
    refused.expect_code(1);
    assert_has(
        &refused,
        &[
            "the standard license of Test Corp allows 1 connectors, this needs 3",
            "connectors limit",
        ],
    );
    assert!(
        licensed(&dir, &["config", "versions"])
            .stdout
            .trim()
            .is_empty(),
        "nothing was applied"
    );

    let three = issue(
        &dir,
        "three.key",
        &document(date(2999, 12, 31), 30, Some(3)),
        &issuer(),
    );
    licensed(&dir, &["license", "install", &three.display().to_string()]).expect_code(0);
    licensed(&dir, &["config", "apply", &config_arg]).expect_code(0);
}
