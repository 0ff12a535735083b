//! A private slapd for one test (`.ci/slapd.sh start` in a temporary directory on a free
//! loopback port, stopped on drop), as the connectors' LDAP tests start it. Without slapd
//! the test skips locally but FAILS when `CI` is set.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const ROOT_PW: &str = "Secret-Test-Pw1";
pub const ADMIN: &str = "cn=admin,dc=example,dc=test";
pub const PEOPLE: &str = "ou=People,dc=example,dc=test";

pub struct Slapd {
    dir: tempfile::TempDir,
    pub port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/slapd.sh")
}

fn installed() -> bool {
    Command::new("sh")
        .args([
            "-c",
            "(command -v slapd || test -x /usr/sbin/slapd) && command -v ldapadd",
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Slapd {
    pub fn start() -> Option<Self> {
        if !installed() {
            assert!(
                std::env::var_os("CI").is_none_or(|v| v.is_empty()),
                "slapd is not installed but CI is set: run `bash .ci/slapd.sh install`"
            );
            eprintln!("skipped: slapd is not installed (bash .ci/slapd.sh install)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = Command::new("bash")
            .arg(script())
            .args(["start", dir.path().to_str().unwrap(), &port.to_string()])
            .env("IDENTITYMESH_TEST_SLAPD_PASSWORD", ROOT_PW)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let slapd = Slapd { dir, port };
        let base = format!(
            "dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
             dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: People\n\n"
        );
        let file = slapd.dir.path().join("base.ldif");
        std::fs::write(&file, base).unwrap();
        let status = Command::new("ldapadd")
            .args(["-x", "-H", &slapd.url(), "-D", ADMIN, "-w", ROOT_PW, "-f"])
            .arg(&file)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        Some(slapd)
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    /// The `uid`s of the entries under `ou=People`, sorted.
    pub fn uids(&self) -> Vec<String> {
        let out = Command::new("ldapsearch")
            .args(["-x", "-LLL", "-H", &self.url(), "-D", ADMIN, "-w", ROOT_PW])
            .args(["-b", PEOPLE, "(uid=*)", "uid"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut uids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("uid: ").map(str::to_owned))
            .collect();
        uids.sort();
        uids
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", self.dir.path().to_str().unwrap()])
            .status();
    }
}

/// A relay-hosted directory connector on this server; its bind password is the relay's
/// secret `dir-bind`.
pub fn config(url: &str) -> String {
    format!(
        r#"
[connectors.dir]
type = "ldap"
object_type = "person"
anchor = "entryUUID"
attributes = [{{ name = "entryUUID" }}, {{ name = "uid" }}, {{ name = "cn" }}, {{ name = "sn" }}]
secrets = {{ bind_password = "dir-bind" }}

[connectors.dir.ldap]
url = "{url}"
bind_dn = "{ADMIN}"
base_dn = "{PEOPLE}"
object_classes = ["inetOrgPerson"]
"#
    )
}
