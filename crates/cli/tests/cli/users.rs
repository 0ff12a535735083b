//! `identitymesh users add|disable|enable|remove`: the password policy, the last
//! administrator kept, and each change audited.

use crate::helpers::DataDir;

const PASSWORD: &str = "correct horse battery";

#[test]
fn add_disable_enable_and_remove_users() {
    let dir = DataDir::new();
    let add = |name: &str, role: &str, password: &str| {
        dir.run_with(&["users", "add", name, "--role", role], Some(password), &[])
    };
    add("ada", "admin", PASSWORD).expect_code(0);
    add("vera", "viewer", PASSWORD).expect_code(0);
    let short = add("bob", "viewer", "short");
    assert_ne!(short.code, 0);
    assert!(short.stderr.contains("12 characters"), "{}", short.stderr);
    let same = add("bob.the.builder", "viewer", "bob.the.builder");
    assert_ne!(same.code, 0);
    assert!(
        same.stderr.contains("not be the user's name"),
        "{}",
        same.stderr
    );

    let out = dir.run(&["users", "disable", "vera"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("disabled user 'vera'"),
        "{}",
        out.stdout
    );
    dir.run(&["users", "enable", "vera"]).expect_code(0);
    for args in [["users", "disable", "ada"], ["users", "remove", "ada"]] {
        let refused = dir.run(&args);
        assert_ne!(refused.code, 0, "{args:?}");
        assert!(
            refused.stderr.contains("last enabled administrator"),
            "{}",
            refused.stderr
        );
    }
    dir.run(&["users", "remove", "vera"]).expect_code(0);
    let gone = dir.run(&["users", "remove", "vera"]);
    assert_ne!(gone.code, 0);
    assert!(
        gone.stderr.contains("no user named 'vera'"),
        "{}",
        gone.stderr
    );
}
