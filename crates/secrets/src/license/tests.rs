//! The license matrix: valid, in grace, past grace, tampered, unknown issuer, over a limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::issuers::{TrustedIssuers, sign_license, verify_license};
use super::*;
use ed25519_dalek::SigningKey;
use rand_core::OsRng;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn document() -> LicenseDocument {
    LicenseDocument {
        id: "L-0001".into(),
        licensee: "Example Corp".into(),
        edition: "enterprise".into(),
        issued: day("2026-01-01"),
        expires: day("2026-12-31"),
        grace_days: 30,
        limits: Limits {
            mesh_objects: Some(10_000),
            connectors: Some(3),
            relay_agents: Some(2),
        },
        features: vec!["scale-out".into()],
    }
}

fn issuer() -> (SigningKey, TrustedIssuers) {
    let key = SigningKey::generate(&mut OsRng);
    let mut trusted = TrustedIssuers::none();
    trusted.add(key.verifying_key());
    (key, trusted)
}

#[test]
fn valid_license_verifies_and_reports_its_terms() {
    let (key, trusted) = issuer();
    let text = sign_license(&document(), &key).unwrap();
    let doc = verify_license(&text, "license.key", &trusted).unwrap();
    assert_eq!(doc, document());
    let license = License::licensed(doc);
    assert_eq!(
        license.status(day("2026-06-01")),
        LicenseStatus::Valid {
            expires: day("2026-12-31")
        }
    );
    assert_eq!(license.warning(day("2026-12-31")), None);
    assert!(license.has_feature("scale-out"));
}

#[test]
fn expired_in_grace_then_past_grace_warns_louder() {
    let license = License::licensed(document());
    let in_grace = license.status(day("2027-01-15"));
    assert!(
        matches!(in_grace, LicenseStatus::InGrace { .. }),
        "{in_grace}"
    );
    let w = license.warning(day("2027-01-15")).unwrap();
    assert!(w.contains("grace period until 2027-01-30"), "{w}");
    assert!(matches!(
        license.status(day("2027-01-30")),
        LicenseStatus::InGrace { .. }
    ));
    let past = license.status(day("2027-01-31"));
    assert!(matches!(past, LicenseStatus::PastGrace { .. }), "{past}");
    let loud = license.warning(day("2027-01-31")).unwrap();
    assert!(
        loud.starts_with("LICENSE EXPIRED") && loud.contains("Synchronisation continues"),
        "{loud}"
    );
    // limits keep applying, nothing stops
    assert!(license.check_limit(Limit::Connectors, 3).is_ok());
}

#[test]
fn grace_is_configurable_in_the_document() {
    let license = License::licensed(LicenseDocument {
        grace_days: 0,
        ..document()
    });
    assert!(matches!(
        license.status(day("2027-01-01")),
        LicenseStatus::PastGrace { .. }
    ));
}

#[test]
fn tampered_license_is_rejected() {
    let (key, trusted) = issuer();
    let text = sign_license(&document(), &key).unwrap();
    let mut richer = document();
    richer.limits.connectors = Some(1000);
    let forged_doc = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        serde_json::to_vec(&richer).unwrap(),
    );
    let mut envelope: serde_json::Value = serde_json::from_str(&text).unwrap();
    envelope["document"] = forged_doc.into();
    let err = verify_license(&envelope.to_string(), "license.key", &trusted).unwrap_err();
    assert!(matches!(err, SecretsError::LicenseTampered { .. }), "{err}");
    assert!(err.to_string().contains("altered"), "{err}");
    assert!(verify_license("not a license", "x", &trusted).is_err());
}

#[test]
fn unknown_issuer_is_rejected_naming_the_key() {
    let (_, trusted) = issuer();
    let stranger = SigningKey::generate(&mut OsRng);
    let text = sign_license(&document(), &stranger).unwrap();
    let err = verify_license(&text, "license.key", &trusted).unwrap_err();
    let id = issuers::issuer_id(&stranger.verifying_key());
    assert!(matches!(err, SecretsError::LicenseUnknownIssuer { .. }));
    assert!(err.to_string().contains(&id), "{err}");
}

#[test]
fn limits_name_the_limit() {
    let license = License::licensed(document());
    assert!(license.check_limit(Limit::Connectors, 3).is_ok());
    let err = license
        .check_limit(Limit::Connectors, 4)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("allows 3 connectors") && err.contains("needs 4"),
        "{err}"
    );
    assert!(license.check_limit(Limit::MeshObjects, 10_001).is_err());
    let community = License::community();
    assert!(community.check_limit(Limit::Connectors, 500).is_ok());
    assert!(community.check_limit(Limit::RelayAgents, 1).is_err());
    assert_eq!(
        community.status(day("2030-01-01")),
        LicenseStatus::Community
    );
}

#[test]
fn configured_issuers_are_added_to_the_builtin_ones() {
    let (key, _) = issuer();
    let public = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        key.verifying_key().as_bytes(),
    );
    let builtin = TrustedIssuers::builtin().unwrap();
    let n = builtin.ids().len();
    let trusted = builtin
        .with_configured(&format!("# ours\n{public}\n"), "env")
        .unwrap();
    assert_eq!(trusted.ids().len(), n + 1);
    let text = sign_license(&document(), &key).unwrap();
    assert!(verify_license(&text, "license.key", &trusted).is_ok());
    assert!(
        TrustedIssuers::none()
            .with_configured("bogus", "env")
            .is_err()
    );
}
