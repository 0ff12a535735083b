//! The secrets a connector is given: connector setting name (`bind_password`) to value,
//! opened by the engine from the secrets its configuration names. A connector reads them
//! when it connects; it never logs, stores or echoes them.

use identitymesh_secrets::SecretString;
use std::collections::BTreeMap;
use std::fmt;

use crate::ConnectorError;

/// Resolved secrets by connector setting name. `Debug` shows setting names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnectorSecrets(BTreeMap<String, SecretString>);

impl ConnectorSecrets {
    /// No secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives `setting` the value `value`.
    pub fn insert(&mut self, setting: impl Into<String>, value: SecretString) {
        self.0.insert(setting.into(), value);
    }

    /// The value for `setting`, if given.
    pub fn get(&self, setting: &str) -> Option<&SecretString> {
        self.0.get(setting)
    }

    /// The value for `setting`, or a configuration error naming the setting and how to give it.
    pub fn require(&self, connector: &str, setting: &str) -> Result<&SecretString, ConnectorError> {
        self.get(setting).ok_or_else(|| ConnectorError::Config {
            connector: connector.to_owned(),
            message: format!(
                "the setting '{setting}' is a credential: name a stored secret for it with \
                 `secrets = {{ {setting} = \"NAME\" }}` and store the value with \
                 `identitymesh secrets set NAME`"
            ),
        })
    }

    /// The setting names given, in order.
    pub fn settings(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// How many settings are given.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ConnectorSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, format_args!("<redacted>"))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_names_settings_and_hides_values() {
        let mut secrets = ConnectorSecrets::new();
        secrets.insert("bind_password", SecretString::from("Tr1cky,Pa$$"));
        for shown in [format!("{secrets:?}"), format!("{secrets:#?}")] {
            assert!(shown.contains("bind_password"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
            assert!(!shown.contains("Tr1cky"), "{shown}");
        }
        assert_eq!(
            secrets.require("dir", "bind_password").unwrap().expose(),
            "Tr1cky,Pa$$"
        );
        let missing = secrets.require("dir", "token").unwrap_err().to_string();
        assert!(
            missing.contains("connector 'dir'") && missing.contains("'token'"),
            "{missing}"
        );
        assert_eq!(
            secrets.settings().collect::<Vec<_>>(),
            vec!["bind_password"]
        );
        assert_eq!((secrets.len(), secrets.is_empty()), (1, false));
    }
}

#[cfg(test)]
mod csv_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::open_connector;
    use identitymesh_domain::config::compile;

    const CSV: &str = "[connectors.hr]\ntype = \"csv\"\nanchor = \"id\"\ncolumns = [\"id\"]\ncsv = { path = \"hr.csv\" }\n";

    #[test]
    fn a_csv_connector_refuses_secrets_naming_the_setting() {
        let dir = std::path::Path::new(".");
        let plain = compile(CSV, &["csv"]).unwrap();
        let hr = plain.connector("hr").unwrap();
        assert!(open_connector(hr, dir, ConnectorSecrets::new()).is_ok());

        let mut given = ConnectorSecrets::new();
        given.insert("token", SecretString::from("Tr1cky,Pa$$"));
        let shown = open_connector(hr, dir, given).err().unwrap().to_string();
        assert!(
            shown.contains("connector 'hr'") && shown.contains("secrets.token"),
            "{shown}"
        );
        assert!(!shown.contains("Tr1cky"), "{shown}");

        let configured = compile(
            &format!("{CSV}secrets = {{ password = \"hr-pw\" }}\n"),
            &["csv"],
        )
        .unwrap();
        let hr = configured.connector("hr").unwrap();
        let shown = open_connector(hr, dir, ConnectorSecrets::new())
            .err()
            .unwrap()
            .to_string();
        assert!(
            shown.contains("secrets.password") && shown.contains("takes no secrets"),
            "{shown}"
        );
        let direct = crate::CsvConnector::from_config(hr, dir)
            .err()
            .unwrap()
            .to_string();
        assert!(direct.contains("secrets.password"), "{direct}");
    }
}
