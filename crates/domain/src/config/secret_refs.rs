//! The `secrets = { SETTING = "SECRET-NAME" }` table of a connector: which connector setting
//! takes its value from which stored secret. Only names live in the configuration; the
//! engine opens the values when the connector runs.

/// The longest connector setting name accepted.
pub const MAX_SETTING_LEN: usize = 64;
/// The longest secret name accepted.
pub const MAX_SECRET_NAME_LEN: usize = 128;

/// Checks a connector setting name (`bind_password`): an ASCII letter or `_`, then letters,
/// digits or `_`. The error says what is wrong.
pub fn check_setting_name(setting: &str) -> Result<(), String> {
    let mut chars = setting.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok
        || setting.len() > MAX_SETTING_LEN
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "'{setting}' is not a connector setting name: use up to {MAX_SETTING_LEN} ASCII letters, \
             digits and '_', starting with a letter (e.g. bind_password)"
        ));
    }
    Ok(())
}

/// Checks the name of a stored secret (`ldap-bind`): an ASCII letter or digit, then letters,
/// digits, `-`, `_` or `.`. The error says what is wrong; it can only ever show a name.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok
        || name.len() > MAX_SECRET_NAME_LEN
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "{name:?} is not a secret name: use up to {MAX_SECRET_NAME_LEN} ASCII letters, digits, \
             '-', '_' and '.', starting with a letter or digit, as given to `identitymesh secrets set NAME`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::compile;

    #[test]
    fn names_are_checked() {
        for ok in ["bind_password", "_x", "Token2"] {
            assert!(check_setting_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "2fa",
            "bind-password",
            "a.b",
            "pass word",
            &"x".repeat(65),
        ] {
            assert!(check_setting_name(bad).is_err(), "{bad}");
        }
        for ok in ["ldap-bind", "ldap.bind_2", "1st"] {
            assert!(check_secret_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a b", "a/b", "ä", &"x".repeat(129)] {
            assert!(check_secret_name(bad).is_err(), "{bad}");
        }
    }

    const BASE: &str = "[connectors.dir]\ntype = \"ldap\"\nanchor = \"uid\"\ncolumns = [\"uid\"]\n";

    #[test]
    fn connectors_name_secrets_by_setting() {
        let source = format!("{BASE}secrets = {{ bind_password = \"ldap-bind\" }}\n");
        let config = compile(&source, &["ldap"]).unwrap();
        let dir = config.connector("dir").unwrap();
        assert_eq!(
            dir.secrets.get("bind_password").map(String::as_str),
            Some("ldap-bind")
        );
        let none = compile(BASE, &["ldap"]).unwrap();
        assert!(none.connector("dir").unwrap().secrets.is_empty());
    }

    #[test]
    fn bad_secret_references_are_configuration_errors_with_their_line() {
        let source = format!(
            "{BASE}ldap = {{ bind_password = \"literal\" }}\n\
             secrets = {{ \"bind-pw\" = \"ldap-bind\", token = \"no spaces\", bind_password = \"ldap-bind\" }}\n"
        );
        let errors = compile(&source, &["ldap"]).unwrap_err().0;
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{shown:#?}");
        assert!(
            errors.iter().all(|e| e.line == Some(6)),
            "every error points at the secrets line: {shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.contains("connectors.dir.secrets.bind-pw")
                    && e.contains("not a connector setting name")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.contains("connectors.dir.secrets.token")
                    && e.contains("not a secret name")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.contains("connectors.dir.secrets.bind_password")
                    && e.contains("[connectors.dir.ldap]")),
            "{shown:#?}"
        );
        assert!(
            !shown.iter().any(|e| e.contains("literal")),
            "a value written in the settings table is never echoed: {shown:#?}"
        );
    }
}
