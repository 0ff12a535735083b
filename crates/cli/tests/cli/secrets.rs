//! `identitymesh secrets …` as an operator runs it: set, list, check and delete with their
//! refusals, the ceremonies of docs/keys-and-license.md (moving a database, rotating, shared-key
//! mode and back), key-file permissions, connectors that name secrets, and case C-48: the
//! value reaches no output, log line, audit record or file. Scenarios that involve the database
//! run on SQLite and, when `IDENTITYMESH_TEST_POSTGRES_URL` names a server, on PostgreSQL.

use identitymesh_secrets::Kek;
use identitymesh_store::{AuditFilter, DatabaseUrl, Store};
use identitymesh_testkit::{Backend, TestEnv, backends};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};

use crate::helpers::{DataDir, Outcome, identitymesh};

/// The value of case C-48: a comma and dollar signs, as shells and CSV files mangle them.
pub const SECRET: &str = "Tr1cky,Pa$$";
const PASSPHRASE: &str = "correct horse battery staple";
const PASSPHRASE_ENV: &str = "IDENTITYMESH_KEY_PASSPHRASE";

/// Where a scenario's databases live.
#[derive(Clone)]
pub enum Db {
    /// Each data directory its own SQLite file (the default).
    Own,
    /// One database every data directory uses.
    Url(String),
}

/// A host: a data directory and the database it uses.
pub struct Host {
    pub dir: DataDir,
    db: Db,
}

impl Host {
    pub fn new(db: &Db) -> Self {
        Self {
            dir: DataDir::new(),
            db: db.clone(),
        }
    }

    /// `identitymesh --data-dir DIR [--database URL] ARGS…`.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_with(args, None, &[])
    }

    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Outcome {
        let mut all: Vec<&str> = Vec::new();
        if let Db::Url(url) = &self.db {
            all.extend(["--database", url.as_str()]);
        }
        all.extend_from_slice(args);
        self.dir.run_with(&all, stdin, env)
    }

    /// `secrets set NAME` with the value on standard input (and a line break, as `echo` adds).
    pub fn set(&self, name: &str, value: &str) -> Outcome {
        self.run_with(&["secrets", "set", name], Some(&format!("{value}\n")), &[])
    }

    /// The id of this host's own key.
    pub fn host_key_id(&self) -> String {
        Kek::read_file(&self.dir.file("host.key"))
            .unwrap()
            .id()
            .to_string()
    }

    /// The database as the store names it.
    pub fn url(&self) -> DatabaseUrl {
        match &self.db {
            Db::Own => DatabaseUrl::Sqlite(self.dir.file("identitymesh.db")),
            Db::Url(url) => DatabaseUrl::parse(url).unwrap(),
        }
    }
}

/// Runs `scenario` on SQLite (each data directory its own database) and, when a server is
/// configured, on a fresh PostgreSQL database that every data directory of the scenario uses.
pub fn on_each_backend(scenario: impl Fn(&Db)) {
    eprintln!("--- backend Sqlite");
    scenario(&Db::Own);
    if !backends().contains(&Backend::Postgres) {
        println!(
            "skipped the PostgreSQL half: {} is not set",
            identitymesh_testkit::POSTGRES_ENV
        );
        return;
    }
    eprintln!("--- backend Postgres");
    let rt = runtime();
    let env = rt.block_on(TestEnv::new(Backend::Postgres));
    let outcome = catch_unwind(AssertUnwindSafe(|| scenario(&Db::Url(env.url.clone()))));
    rt.block_on(env.cleanup());
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One database for two hosts: the PostgreSQL one, or a SQLite file in `scratch`.
fn shared(db: &Db, scratch: &Path) -> Db {
    match db {
        Db::Own => Db::Url(format!("sqlite:{}", scratch.join("shared.db").display())),
        Db::Url(url) => Db::Url(url.clone()),
    }
}

/// Gives the passphrase to the key-file commands.
fn pass(passphrase: &str) -> [(&str, &str); 1] {
    [(PASSPHRASE_ENV, passphrase)]
}

#[track_caller]
fn assert_has(outcome: &Outcome, needles: &[&str]) {
    let all = format!("{}\n{}", outcome.stdout, outcome.stderr);
    for needle in needles {
        assert!(all.contains(needle), "{needle:?} is not in:\n{all}");
    }
}

#[test]
fn set_list_check_and_delete_and_what_they_refuse() {
    on_each_backend(|db| {
        let host = Host::new(db);
        for stdin in [Some(""), Some("\n"), None] {
            let empty = host.run_with(&["secrets", "set", "ldap-bind"], stdin, &[]);
            empty.expect_code(1);
            assert_has(&empty, &["secret 'ldap-bind' is empty", "standard input"]);
        }
        let list = host.run(&["secrets", "list"]);
        list.expect_code(0);
        assert_has(&list, &["no secrets stored"]);

        assert_has(
            host.set("ldap-bind", SECRET).expect_code(0),
            &["secret 'ldap-bind' set (version 1)"],
        );
        assert_has(
            host.set("ldap-bind", SECRET).expect_code(0),
            &["secret 'ldap-bind' set (version 2)"],
        );
        let key = host.host_key_id();
        let list = host.run(&["secrets", "list"]);
        list.expect_code(0);
        assert_has(
            &list,
            &[
                "ldap-bind",
                "purpose=connector",
                "version=2",
                "last-used=never",
                &format!("key={key}"),
            ],
        );
        let check = host.run(&["secrets", "check"]);
        check.expect_code(0);
        assert_has(
            &check,
            &[&format!("ok    secret 'ldap-bind' (key {key})"), "0 failed"],
        );
        host.run(&["secrets", "check", "ldap-bind"]).expect_code(0);

        let missing = host.run(&["secrets", "check", "nope"]);
        missing.expect_code(1);
        assert_has(&missing, &["no secret named 'nope'"]);
        let missing = host.run(&["secrets", "delete", "nope"]);
        missing.expect_code(1);
        assert_has(&missing, &["no secret named 'nope'"]);

        assert_has(
            host.run(&["secrets", "delete", "ldap-bind"]).expect_code(0),
            &["secret 'ldap-bind' deleted"],
        );
        host.run(&["secrets", "check", "ldap-bind"]).expect_code(1);
        assert_has(
            host.run(&["secrets", "list"]).expect_code(0),
            &["no secrets stored"],
        );
    });
}

#[test]
fn a_moved_database_needs_its_key_brought_with_export_key_and_import_key() {
    on_each_backend(|db| {
        let scratch = tempfile::tempdir().unwrap();
        let a = Host::new(db);
        a.set("ldap-bind", SECRET).expect_code(0);
        let a_key = a.host_key_id();

        // host B gets the database (a copy of identitymesh.db, or the same server), not the key
        let b = Host::new(db);
        if let Db::Own = db {
            std::fs::copy(a.dir.file("identitymesh.db"), b.dir.file("identitymesh.db")).unwrap();
        }
        for args in [
            &["secrets", "check"][..],
            &["secrets", "check", "ldap-bind"],
        ] {
            let check = b.run(args);
            check.expect_code(1);
            assert_has(
                &check,
                &[
                    "FAIL",
                    "secret 'ldap-bind'",
                    &format!("key-encryption key {a_key}"),
                    "which this host does not hold",
                    "identitymesh secrets import-key FILE",
                ],
            );
        }

        let file = scratch.path().join("im-key.json");
        let file_arg = file.display().to_string();
        let export = a.run_with(
            &["secrets", "export-key", &file_arg],
            None,
            &pass(PASSPHRASE),
        );
        export.expect_code(0);
        assert_has(&export, &[&a_key, "import-key"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the exported key file is private");
        }

        let wrong = b.run_with(
            &["secrets", "import-key", &file_arg],
            None,
            &pass("not the passphrase at all"),
        );
        wrong.expect_code(1);
        assert_has(&wrong, &["wrong passphrase"]);
        b.run(&["secrets", "check"]).expect_code(1);

        let import = b.run_with(
            &["secrets", "import-key", &file_arg],
            None,
            &pass(PASSPHRASE),
        );
        import.expect_code(0);
        assert_has(&import, &[&format!("key {a_key} imported")]);
        assert!(b.dir.file(&format!("keys/{a_key}.key")).is_file());
        let check = b.run(&["secrets", "check"]);
        check.expect_code(0);
        assert_has(
            &check,
            &[&format!("ok    secret 'ldap-bind' (key {a_key})")],
        );
    });
}

#[test]
fn rotation_rewraps_every_secret_and_check_passes_under_the_new_key() {
    on_each_backend(|db| {
        let host = Host::new(db);
        host.set("ldap-bind", SECRET).expect_code(0);
        host.set("scim-token", "another value").expect_code(0);
        let old = host.host_key_id();

        let rotate = host.run(&["secrets", "rotate"]);
        rotate.expect_code(0);
        let new = host.host_key_id();
        assert_ne!(new, old, "host.key is the new key");
        assert_has(
            &rotate,
            &[&format!("rotated to key {new}"), "2 keys rewrapped"],
        );
        assert!(
            host.dir.file(&format!("keys/{old}.key")).is_file(),
            "the previous key is kept"
        );

        let check = host.run(&["secrets", "check"]);
        check.expect_code(0);
        assert_has(
            &check,
            &[
                &format!("ok    secret 'ldap-bind' (key {new})"),
                &format!("ok    secret 'scim-token' (key {new})"),
                "0 failed",
            ],
        );
        let list = host.run(&["secrets", "list"]);
        assert!(
            !list.stdout.contains(&format!("key={old}")),
            "{}",
            list.stdout
        );
    });
}

#[cfg(unix)]
#[test]
fn a_host_key_others_can_read_is_refused_naming_the_chmod_that_fixes_it() {
    use std::os::unix::fs::PermissionsExt;
    let host = Host::new(&Db::Own);
    host.set("ldap-bind", SECRET).expect_code(0);
    let config = example_naming_a_secret(&host);
    host.run(&["config", "apply", &config.display().to_string()])
        .expect_code(0);
    let path = host.dir.file("host.key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    // the secrets commands, and a run whose connector needs a secret
    let fix = format!("chmod 600 {}", path.display());
    for outcome in [
        host.run(&["secrets", "check"]),
        host.set("other", "value"),
        host.run(&["run", "accounts", "full-import"]),
    ] {
        outcome.expect_code(1);
        assert_has(&outcome, &["readable by group or others", &fix]);
    }

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    host.run(&["secrets", "check"]).expect_code(0);
}

#[test]
fn shared_key_mode_on_two_hosts_of_one_database_and_back_to_a_host_key() {
    on_each_backend(|db| {
        let scratch = tempfile::tempdir().unwrap();
        let db = shared(db, scratch.path());
        let (a, b) = (Host::new(&db), Host::new(&db));
        a.set("ldap-bind", SECRET).expect_code(0);
        let a_key = a.host_key_id();
        assert_has(
            b.run(&["secrets", "check"]).expect_code(1),
            &[&a_key, "import-key"],
        );

        let file = scratch.path().join("shared-kek.json");
        let file_arg = file.display().to_string();
        let generated = a.run_with(
            &["secrets", "generate-key", &file_arg],
            None,
            &pass(PASSPHRASE),
        );
        generated.expect_code(0);
        let shared_key = generated
            .stdout
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_owned();
        assert_has(&generated, &[&format!("new key {shared_key} written")]);

        for host in [&a, &b] {
            let using = host.run_with(
                &["secrets", "use-shared-key", &file_arg],
                None,
                &pass(PASSPHRASE),
            );
            using.expect_code(0);
            assert_has(
                &using,
                &[&format!("rewrapped under key {shared_key} (shared mode)")],
            );
        }
        for host in [&a, &b] {
            let check = host.run(&["secrets", "check"]);
            check.expect_code(0);
            assert_has(
                &check,
                &[&format!("ok    secret 'ldap-bind' (key {shared_key})")],
            );
        }

        // back to host mode on A: A opens everything; B, without A's key, is told which
        assert_has(
            a.run(&["secrets", "use-host-key"]).expect_code(0),
            &[&format!("rewrapped under key {a_key} (host mode)")],
        );
        assert_has(
            a.run(&["secrets", "check"]).expect_code(0),
            &[&format!("ok    secret 'ldap-bind' (key {a_key})")],
        );
        assert_has(
            b.run(&["secrets", "check"]).expect_code(1),
            &[&a_key, "import-key"],
        );
    });
}

/// The example configuration with the accounts connector naming the secret `ldap-bind`
/// (a CSV connector takes none: its runs open the secret, then refuse it by setting).
fn example_naming_a_secret(host: &Host) -> PathBuf {
    let example = identitymesh(&["config", "example"]);
    example.expect_code(0);
    let anchor = "clear_token = \"<CLEAR>\"";
    assert!(example.stdout.contains(anchor), "the example changed");
    let text = example.stdout.replacen(
        anchor,
        "secrets = { password = \"ldap-bind\" }\nclear_token = \"<CLEAR>\"",
        1,
    );
    let path = host.dir.file("with-secret.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_run_whose_connector_names_a_missing_secret_fails_saying_how_to_store_it() {
    let host = Host::new(&Db::Own);
    let config = example_naming_a_secret(&host);
    host.run(&["config", "apply", &config.display().to_string()])
        .expect_code(0);

    let run = host.run(&["run", "accounts", "full-import"]);
    run.expect_code(1);
    assert_has(
        &run,
        &[
            "failed",
            "connector 'accounts' cannot run",
            "setting 'password'",
            "secret 'ldap-bind'",
            "not stored",
            "identitymesh secrets set ldap-bind",
        ],
    );

    host.set("ldap-bind", SECRET).expect_code(0);
    let run = host.run(&["run", "accounts", "full-import"]);
    run.expect_code(1);
    assert_has(&run, &["secrets.password", "takes no secrets"]);
    let list = host.run(&["secrets", "list"]);
    assert!(
        !list.stdout.contains("last-used=never"),
        "the run opened the secret: {}",
        list.stdout
    );
}

/// Every audit record of the database, as JSON.
fn audit_json(url: DatabaseUrl) -> String {
    let rt = runtime();
    let records = rt.block_on(async move {
        let store = tokio::task::spawn_blocking(move || Store::open(&url, false))
            .await
            .unwrap()
            .unwrap();
        store
            .run_blocking(|tx| {
                tx.audit(&AuditFilter {
                    limit: 100_000,
                    ..AuditFilter::default()
                })
            })
            .await
            .unwrap()
    });
    serde_json::to_string(&records).unwrap()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// C-48: at trace level, through `secrets set/list/check`, a full quickstart cycle, `cycle`,
/// and runs of a connector that names the secret (it is opened, then the run fails), the value
/// appears in no standard output or error, no audit record and no file of the data directory
/// (the database file included: it holds only the sealed blob).
#[test]
fn c48_the_secret_value_reaches_no_output_log_audit_record_or_file() {
    on_each_backend(|db| {
        let host = Host::new(db);
        let trace = |args: &[&str]| {
            let mut all = vec!["--log", "trace"];
            all.extend_from_slice(args);
            host.run(&all)
        };
        let mut outcomes = Vec::new();
        let set = host.run_with(
            &["--log", "trace", "secrets", "set", "ldap-bind"],
            Some(&format!("{SECRET}\n")),
            &[],
        );
        outcomes.push(set);
        outcomes.push(trace(&["secrets", "list"]));
        outcomes.push(trace(&["secrets", "check"]));
        outcomes.push(trace(&["secrets", "check", "ldap-bind"]));
        outcomes.push(trace(&["quickstart", "--json"]));
        outcomes.push(trace(&["cycle"]));
        for o in &outcomes {
            o.expect_code(0);
        }
        // the default filter is `warn`: info lines prove the trace filter took effect
        assert!(
            outcomes[4].stderr.contains("run started"),
            "the log is at trace level:\n{}",
            outcomes[4].stderr
        );

        // a connector that names the secret: every run opens it, then the CSV connector
        // refuses it — the failing path, at trace level
        let config = example_naming_a_secret(&host);
        let apply = trace(&["config", "apply", &config.display().to_string()]);
        apply.expect_code(0);
        outcomes.push(apply);
        for args in [&["run", "accounts", "full-import"][..], &["cycle"]] {
            let failed = trace(args);
            failed.expect_code(1);
            assert_has(&failed, &["takes no secrets"]);
            outcomes.push(failed);
        }
        let list = trace(&["secrets", "list"]);
        assert!(
            !list.stdout.contains("last-used=never"),
            "the runs opened the secret: {}",
            list.stdout
        );
        outcomes.push(list);

        for o in &outcomes {
            assert!(
                !o.stdout.contains(SECRET),
                "the secret is on stdout:\n{}",
                o.stdout
            );
            assert!(
                !o.stderr.contains(SECRET),
                "the secret is in the log:\n{}",
                o.stderr
            );
        }
        let audit = audit_json(host.url());
        for action in ["secrets.set", "config.apply"] {
            assert!(audit.contains(action), "{action} is audited: {audit}");
        }
        assert!(audit.contains("secret:ldap-bind"), "{audit}");
        assert!(!audit.contains(SECRET), "the secret is in the audit table");

        let files = files_under(host.dir.path());
        assert!(files.iter().any(|f| f.ends_with("host.key")), "{files:?}");
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !contains(&bytes, SECRET.as_bytes()),
                "the secret is in {}",
                file.display()
            );
        }
    });
}
