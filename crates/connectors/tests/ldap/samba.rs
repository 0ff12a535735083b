//! One real Samba AD domain controller for the whole test binary: `.ci/samba.sh start` in a
//! fresh temporary directory (a new domain EXAMPLE.TEST, LDAP 389 and LDAPS 636 on
//! 127.0.0.1), stopped by the script's watcher when this process exits. Samba binds fixed
//! ports, so it is started once per process and each test works in its own OU. Without Samba
//! the tests skip locally but FAIL when `CI` is set (CI runs `bash .ci/samba.sh install`).

use identitymesh_connectors::{Connector, ConnectorSecrets, open_connector};
use identitymesh_domain::config::compile;
use identitymesh_secrets::SecretString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The Administrator password of the test domain.
pub const ADMIN_PW: &str = "Samba-Test-Pw1!";
/// The domain's naming context.
pub const DOMAIN: &str = "DC=example,DC=test";
/// The Administrator's DN.
pub const ADMIN: &str = "CN=Administrator,CN=Users,DC=example,DC=test";
/// LDAPS.
pub const LDAPS: &str = "ldaps://127.0.0.1:636";
/// Plain LDAP (loopback only).
pub const LDAP: &str = "ldap://127.0.0.1:389";

/// Users in the shared pool.
pub const POOL_SIZE: usize = 2_600;

/// The DN of pool user `i`.
pub fn pool_user(i: usize) -> String {
    format!("CN=p{i:05},OU=Pool,{DOMAIN}")
}

/// The running DC.
pub struct Samba {
    dir: tempfile::TempDir,
    /// The CA that signed the DC's certificate.
    pub ca_file: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/samba.sh")
}

fn installed() -> bool {
    Command::new("sh")
        .args([
            "-c",
            "command -v samba && command -v samba-tool && command -v ldapmodify && command -v openssl",
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

static SAMBA: OnceLock<Option<Samba>> = OnceLock::new();

impl Samba {
    /// The shared DC, started on first use. `None` only outside CI when Samba is missing.
    pub fn get() -> Option<&'static Samba> {
        SAMBA.get_or_init(Self::start).as_ref()
    }

    fn start() -> Option<Samba> {
        if !installed() {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("Samba AD is not installed but CI is set: run `bash .ci/samba.sh install`");
            }
            eprintln!("skipped: Samba AD is not installed (bash .ci/samba.sh install)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(script())
            .args(["start", dir.path().to_str().unwrap()])
            .arg(std::process::id().to_string())
            .env("IDENTITYMESH_TEST_SAMBA_PASSWORD", ADMIN_PW)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "samba did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ca_file = stdout
            .lines()
            .find_map(|l| l.strip_prefix("ca_file="))
            .map(PathBuf::from)
            .expect("samba.sh prints ca_file=");
        Some(Samba { dir, ca_file })
    }

    fn tool(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(["-x", "-H", LDAPS, "-D", ADMIN, "-w", ADMIN_PW])
            .env("LDAPTLS_CACERT", &self.ca_file)
            .stdin(Stdio::null());
        cmd
    }

    /// `ldapmodify -a` of an LDIF (through a file: large inputs).
    pub fn ldapmodify(&self, ldif: &str) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(ldif.as_bytes()).unwrap();
        let out = self
            .tool("ldapmodify")
            .arg("-a")
            .arg("-f")
            .arg(file.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "ldapmodify: {}", stderr(&out));
    }

    /// `ldapsearch -LLL` output (unwrapped lines).
    pub fn search(&self, base: &str, filter: &str, attrs: &[&str]) -> String {
        let out = self
            .tool("ldapsearch")
            .args(["-LLL", "-o", "ldif-wrap=no", "-E", "pr=500/noprompt"])
            .args(["-b", base, filter])
            .args(attrs)
            .output()
            .unwrap();
        assert!(out.status.success(), "ldapsearch: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A fresh, empty OU below the domain for one test; returns its DN.
    pub fn fresh_ou(&self, name: &str) -> String {
        let dn = format!("OU={name},{DOMAIN}");
        let _ = self.tool("ldapdelete").arg("-r").arg(&dn).output();
        self.ldapmodify(&format!(
            "dn: {dn}\nobjectClass: organizationalUnit\nou: {name}\n\n"
        ));
        dn
    }

    /// Samba's own text form of an entry's objectGUID (`ldbsearch` on the DC's database).
    pub fn guid_text(&self, dn: &str) -> String {
        let out = Command::new("ldbsearch")
            .arg("-H")
            .arg(self.dir.path().join("private/sam.ldb"))
            .args(["-b", dn, "-s", "base", "objectGUID"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("objectGUID: "))
            .unwrap_or_else(|| panic!("no objectGUID for {dn}: {}", stderr(&out)))
            .to_owned()
    }

    /// `OU=Pool` with users `CN=p00000` … `CN=p02599` (`sAMAccountName` the same), made once.
    pub fn pool(&self) -> &'static str {
        static POOL: OnceLock<String> = OnceLock::new();
        POOL.get_or_init(|| {
            let ou = self.fresh_ou("Pool");
            let mut ldif = String::new();
            for i in 0..POOL_SIZE {
                ldif.push_str(&format!(
                    "dn: CN=p{i:05},{ou}\nobjectClass: user\nsAMAccountName: p{i:05}\n\n"
                ));
            }
            self.ldapmodify(&ldif);
            ou
        })
    }

    /// Whether a simple bind as `who` with `password` succeeds (over LDAPS; a base search of
    /// the rootDSE after it, as Samba has no WhoAmI operation).
    pub fn can_bind(&self, who: &str, password: &str) -> bool {
        Command::new("ldapsearch")
            .args(["-x", "-H", LDAPS, "-D", who, "-w", password])
            .args(["-b", "", "-s", "base", "1.1"])
            .env("LDAPTLS_CACERT", &self.ca_file)
            .stdin(Stdio::null())
            .output()
            .unwrap()
            .status
            .success()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `[connectors.dir]` configuration of an AD connector for `object_classes` below `base`.
pub fn ad_config(url: &str, base: &str, kind: Kind, extra: &str) -> String {
    let (object_type, class, attributes) = match kind {
        Kind::User => (
            "person",
            "user",
            r#"{ name = "objectGUID" }, { name = "sAMAccountName" }, { name = "userPrincipalName" },
  { name = "cn" }, { name = "enabled", type = "boolean" },
  { name = "userAccountControl", type = "integer" }, { name = "accountExpires", type = "datetime" },"#,
        ),
        Kind::Group => (
            "group",
            "group",
            r#"{ name = "objectGUID" }, { name = "sAMAccountName" }, { name = "cn" },
  { name = "member", multi = true },"#,
        ),
    };
    format!(
        r#"
[connectors.dir]
type = "ldap"
object_type = "{object_type}"
anchor = "objectGUID"
attributes = [
  {attributes}
]
secrets = {{ bind_password = "dir-bind" }}

[connectors.dir.ldap]
url = "{url}"
bind_dn = "{ADMIN}"
base_dn = "{base}"
object_classes = ["{class}"]
flavor = "active_directory"
{extra}
"#
    )
}

/// Which AD objects a connector handles.
#[derive(Clone, Copy)]
pub enum Kind {
    /// `user` objects.
    User,
    /// `group` objects.
    Group,
}

/// Opens the connector `dir` with the Administrator password and these extra secrets.
pub fn open_ad(toml: &str, extra_secrets: &[(&str, &str)]) -> Result<Box<dyn Connector>, String> {
    let config = compile(toml, identitymesh_connectors::KNOWN_KINDS).map_err(|e| e.to_string())?;
    let mut secrets = ConnectorSecrets::new();
    secrets.insert("bind_password", SecretString::from(ADMIN_PW));
    for (k, v) in extra_secrets {
        secrets.insert(*k, SecretString::from(*v));
    }
    open_connector(config.connector("dir").unwrap(), Path::new("."), secrets)
        .map_err(|e| e.to_string())
}
