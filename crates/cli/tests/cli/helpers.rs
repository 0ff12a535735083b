//! Running the binary: a fresh data directory per test, the outcome of one invocation.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one invocation of the binary did.
pub struct Outcome {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    args: Vec<String>,
}

impl Outcome {
    /// Asserts the exit code, showing the whole output when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            code,
            "`identitymesh {}` exited {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Standard output parsed as one JSON value.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of `identitymesh {}` is not JSON ({e}):\n{}",
                self.args.join(" "),
                self.stdout
            )
        })
    }
}

/// A command for the binary, without the caller's IDENTITYMESH_* environment (for tests that
/// start it as a long-running child process themselves).
pub fn isolated_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_identitymesh"));
    for name in [
        "IDENTITYMESH_DATA_DIR",
        "IDENTITYMESH_DATABASE_URL",
        "IDENTITYMESH_LOG",
        "IDENTITYMESH_KEY_PASSPHRASE",
        "IDENTITYMESH_LICENSE_ISSUERS",
        "IDENTITYMESH_HUB",
        "IDENTITYMESH_ENROLL_TOKEN",
    ] {
        command.env_remove(name);
    }
    command
}

/// Runs the binary with exactly these arguments, isolated from the caller's IDENTITYMESH_* environment.
pub fn identitymesh<S: AsRef<str>>(args: &[S]) -> Outcome {
    identitymesh_with(args, None, &[])
}

/// Runs the binary with these arguments, `stdin` as its standard input (none: closed) and
/// `env` added to an environment without the caller's IDENTITYMESH_* variables.
pub fn identitymesh_with<S: AsRef<str>>(
    args: &[S],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Outcome {
    use std::io::Write;
    use std::process::Stdio;
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let mut command = isolated_command();
    command
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.envs(env.iter().copied());
    command.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command.spawn().expect("the identitymesh binary runs");
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // a command that exits without reading closes the pipe: not this helper's concern
        let _ = pipe.write_all(text.as_bytes());
    }
    let output = child
        .wait_with_output()
        .expect("the identitymesh binary runs");
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        args,
    }
}

/// A temporary data directory, removed when dropped.
pub struct DataDir {
    dir: tempfile::TempDir,
}

impl DataDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The data directory itself (it exists; the binary fills it).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the data directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `identitymesh --data-dir DIR ARGS…`.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_with(args, None, &[])
    }

    /// Runs `identitymesh --data-dir DIR ARGS…` with standard input and extra environment
    /// (see [`identitymesh_with`]).
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Outcome {
        let mut all = vec!["--data-dir".to_owned(), self.path().display().to_string()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        identitymesh_with(&all, stdin, env)
    }

    /// `quickstart --json [EXTRA…]`, expected to complete (exit 0); its summary.
    #[track_caller]
    pub fn quickstart(&self, extra: &[&str]) -> Value {
        let mut args = vec!["quickstart", "--json"];
        args.extend_from_slice(extra);
        self.run(&args).expect_code(0).json()
    }

    /// Writes the embedded example configuration into the directory and returns its path.
    pub fn example_config(&self) -> PathBuf {
        let example = identitymesh(&["config", "example"]);
        example.expect_code(0);
        let path = self.file("example.toml");
        std::fs::write(&path, &example.stdout).unwrap();
        path
    }
}

/// A number in a JSON summary.
#[track_caller]
pub fn num(summary: &Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {summary}"))
}

/// Asserts that a cycle changed nothing anywhere.
#[track_caller]
pub fn assert_no_changes(summary: &Value) {
    for key in [
        "projected",
        "joined",
        "mesh_updates",
        "mesh_deletes",
        "exported_adds",
        "exported_updates",
        "exported_deletes",
        "errors",
        "held",
        "rejected",
    ] {
        assert_eq!(
            num(summary, key),
            0,
            "`{key}` should be 0 on a run that changes nothing: {summary}"
        );
    }
    assert_eq!(summary["status"], "completed", "{summary}");
}
