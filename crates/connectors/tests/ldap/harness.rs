//! A private slapd per test: `.ci/slapd.sh start` in a fresh temporary directory on a free
//! loopback port, stopped when the handle drops. Without slapd the tests skip locally but
//! FAIL when `CI` is set (CI installs it with `bash .ci/slapd.sh install`).

use identitymesh_connectors::{
    Connector, ConnectorSecrets, ImportEnd, ImportMode, ImportRecord, open_connector,
};
use identitymesh_domain::config::compile;
use identitymesh_secrets::SecretString;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The root password of every test server (also for `cn=admin,<suffix>`).
pub const ROOT_PW: &str = "Secret-Test-Pw1";
/// The main suffix.
pub const SUFFIX: &str = "dc=example,dc=test";
/// Its root DN.
pub const ADMIN: &str = "cn=admin,dc=example,dc=test";
/// A non-root reader (limits apply to it, as to a real service account).
pub const READER: &str = "cn=reader,dc=example,dc=test";
/// Its password.
pub const READER_PW: &str = "Reader-Pw1";

pub struct Slapd {
    dir: tempfile::TempDir,
    pub port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/slapd.sh")
}

fn installed() -> bool {
    let on_path = |bin: &str| {
        Command::new("sh")
            .args([
                "-c",
                &format!("command -v {bin} || test -x /usr/sbin/{bin}"),
            ])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    on_path("slapd") && on_path("ldapadd")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Slapd {
    /// Starts a server with the main suffix (base entries, `ou=People`, the reader) and any
    /// extra (empty) suffixes. `None` only outside CI when slapd is not installed.
    pub fn start(extra_suffixes: &[&str]) -> Option<Self> {
        if !installed() {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!(
                    "slapd/ldap-utils are not installed but CI is set: run `bash .ci/slapd.sh install`"
                );
            }
            eprintln!("skipped: slapd is not installed (bash .ci/slapd.sh install)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        for attempt in 0..3 {
            let port = free_port();
            let out = Command::new("bash")
                .arg(script())
                .args(["start", dir.path().to_str().unwrap(), &port.to_string()])
                .args(extra_suffixes)
                .env("IDENTITYMESH_TEST_SLAPD_PASSWORD", ROOT_PW)
                .output()
                .unwrap();
            if out.status.success() {
                let slapd = Slapd { dir, port };
                slapd.ldapadd(ADMIN, &base_ldif(), false);
                return Some(slapd);
            }
            assert!(
                attempt < 2,
                "slapd did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        unreachable!()
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    pub fn stop(&self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", self.dir.path().to_str().unwrap()])
            .status();
    }

    /// `ldapadd` (with `-c` when `continue_on_error`): the number added and the error lines.
    pub fn ldapadd(
        &self,
        bind_dn: &str,
        ldif: &str,
        continue_on_error: bool,
    ) -> (usize, Vec<String>) {
        // Through a file: writing a large LDIF to stdin while ldapadd's output fills its pipe
        // would deadlock.
        let mut file = tempfile::NamedTempFile::new_in(self.dir.path()).unwrap();
        file.write_all(ldif.as_bytes()).unwrap();
        let mut cmd = Command::new("ldapadd");
        cmd.args(["-x", "-H", &self.url(), "-D", bind_dn, "-w", ROOT_PW]);
        cmd.arg("-f").arg(file.path());
        if continue_on_error {
            cmd.arg("-c");
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        let added = String::from_utf8_lossy(&out.stdout)
            .matches("adding new entry")
            .count();
        let errors: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.starts_with("ldap_add:"))
            .map(str::to_owned)
            .collect();
        assert!(
            continue_on_error || out.status.success(),
            "ldapadd failed: {errors:?}"
        );
        (added, errors)
    }

    /// Entries below `base` matching `filter`, counted by `ldapsearch` (paged) as `bind_dn`.
    pub fn count(&self, bind_dn: &str, base: &str, filter: &str) -> usize {
        let out = Command::new("ldapsearch")
            .args([
                "-x",
                "-LLL",
                "-H",
                &self.url(),
                "-D",
                bind_dn,
                "-w",
                ROOT_PW,
            ])
            .args(["-E", "pr=500/noprompt", "-b", base, filter, "1.1"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("dn:"))
            .count()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn base_ldif() -> String {
    format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
         dn: ou=People,{SUFFIX}\nobjectClass: organizationalUnit\nou: People\n\n\
         dn: {READER}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: {READER_PW}\n\n"
    )
}

/// The `[connectors.dir]` configuration of a person connector on this server.
pub fn person_config(url: &str, bind_dn: &str, base_dn: &str, extra: &str) -> String {
    format!(
        r#"
[connectors.dir]
type = "ldap"
object_type = "person"
anchor = "entryUUID"
attributes = [
  {{ name = "entryUUID" }},
  {{ name = "uid" }},
  {{ name = "cn" }},
  {{ name = "sn" }},
  {{ name = "mail" }},
  {{ name = "description", multi = true }},
  {{ name = "jpegPhoto", type = "binary" }},
]
secrets = {{ bind_password = "dir-bind" }}

[connectors.dir.ldap]
url = "{url}"
bind_dn = "{bind_dn}"
base_dn = "{base_dn}"
object_classes = ["inetOrgPerson"]
{extra}
"#
    )
}

/// Opens the connector `dir` of a configuration with this bind password.
pub fn open(toml: &str, password: &str) -> Box<dyn Connector> {
    let config =
        compile(toml, identitymesh_connectors::KNOWN_KINDS).unwrap_or_else(|e| panic!("{e}"));
    let mut secrets = ConnectorSecrets::new();
    secrets.insert("bind_password", SecretString::from(password));
    open_connector(config.connector("dir").unwrap(), Path::new("."), secrets).unwrap()
}

/// Reads a full import to its end.
pub async fn import_all(
    connector: &mut dyn Connector,
    batch: usize,
) -> (Vec<ImportRecord>, ImportEnd) {
    let mut stream = connector.import(ImportMode::Full).await.unwrap();
    let mut records = Vec::new();
    loop {
        let batch = stream.next_batch(batch).await.unwrap();
        if batch.is_empty() {
            break;
        }
        records.extend(batch);
    }
    (records, stream.finish())
}
