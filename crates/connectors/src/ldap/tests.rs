//! Configuration of the LDAP connector: the password only from the secret store, no other
//! secret, no DN anchor, plain LDAP only where it is safe.
#![allow(clippy::unwrap_used)]

use identitymesh_domain::config::compile;
use identitymesh_secrets::SecretString;
use std::path::Path;

use crate::{ConnectorSecrets, ExportStyle, KNOWN_KINDS, open_connector};

fn config(anchor: &str, url: &str, extra: &str) -> String {
    format!(
        "[connectors.dir]\ntype = \"ldap\"\nanchor = \"{anchor}\"\ncolumns = [\"{anchor}\", \"uid\"]\n\
         secrets = {{ bind_password = \"dir-bind\" }}\n\
         [connectors.dir.ldap]\nurl = \"{url}\"\nbind_dn = \"cn=admin,dc=example,dc=test\"\n\
         base_dn = \"dc=example,dc=test\"\n{extra}"
    )
}

fn open(toml: &str, secrets: ConnectorSecrets) -> Result<Box<dyn crate::Connector>, String> {
    let compiled = compile(toml, KNOWN_KINDS).map_err(|e| e.to_string())?;
    open_connector(compiled.connector("dir").unwrap(), Path::new("."), secrets)
        .map_err(|e| e.to_string())
}

fn password() -> ConnectorSecrets {
    let mut s = ConnectorSecrets::new();
    s.insert("bind_password", SecretString::from("Tr1cky,Pa$$"));
    s
}

#[test]
fn an_ldap_connector_opens_with_its_bind_password() {
    let connector = open(&config("entryUUID", "ldap://127.0.0.1:389", ""), password()).unwrap();
    assert_eq!(connector.export_style(), ExportStyle::PerItem);
    assert_eq!(
        connector.source_id(),
        "ldap://127.0.0.1:389/dc=example,dc=test"
    );
}

#[test]
fn the_password_comes_only_from_the_secret_store() {
    let missing = open(
        &config("entryUUID", "ldap://127.0.0.1", ""),
        ConnectorSecrets::new(),
    );
    assert!(missing.err().unwrap().contains("bind_password"));

    let in_settings = config(
        "entryUUID",
        "ldap://127.0.0.1",
        "bind_password = \"Tr1cky\"\n",
    );
    let shown = open(&in_settings, password()).err().unwrap();
    assert!(
        shown.contains("bind_password") && !shown.contains("Tr1cky"),
        "{shown}"
    );

    let mut other = password();
    other.insert("token", SecretString::from("x"));
    let shown = open(&config("entryUUID", "ldap://127.0.0.1", ""), other)
        .err()
        .unwrap();
    assert!(shown.contains("secrets.token"), "{shown}");
}

#[test]
fn a_dn_is_not_an_anchor_and_plain_ldap_stays_local() {
    let shown = open(&config("dn", "ldap://127.0.0.1", ""), password())
        .err()
        .unwrap();
    assert!(shown.contains("not a stable identity"), "{shown}");
    let shown = open(
        &config("entryUUID", "ldap://dir.example.test", ""),
        password(),
    )
    .err()
    .unwrap();
    assert!(shown.contains("plain LDAP"), "{shown}");
    assert!(
        open(
            &config("entryUUID", "ldaps://dir.example.test", ""),
            password()
        )
        .is_ok()
    );
    let bad_base = config("entryUUID", "ldap://127.0.0.1", "scope = \"one\"\n").replace(
        "base_dn = \"dc=example,dc=test\"",
        "base_dn = \"dc=example,\"",
    );
    assert!(
        open(&bad_base, password())
            .err()
            .unwrap()
            .contains("base_dn")
    );
}
