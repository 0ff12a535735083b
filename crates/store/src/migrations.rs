//! The migration list and the rules a runner follows, shared by both backends.
//!
//! Each backend has its own SQL for every version (`migrations/{sqlite,postgres}/NNNN_name.sql`,
//! same names, embedded at build time) and records applied versions in a
//! `schema_migrations(version, name, applied_at)` table. The decision what to do with the
//! version found lives here so both backends refuse and apply alike: a newer schema is always
//! refused before anything is changed, an older one is migrated only when asked.

use crate::error::StoreError;
use crate::port::{SCHEMA_VERSION, StoreResult};

/// One schema version.
pub(crate) struct Migration {
    /// Version number, from 1.
    pub version: i64,
    /// Name (the file name without number and extension).
    pub name: &'static str,
    /// SQLite statements.
    pub sqlite: &'static str,
    /// PostgreSQL statements.
    pub postgres: &'static str,
}

/// Every migration, in order. The last one's version is [`SCHEMA_VERSION`].
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "secrets",
        sqlite: include_str!("../migrations/sqlite/0002_secrets.sql"),
        postgres: include_str!("../migrations/postgres/0002_secrets.sql"),
    },
    Migration {
        version: 3,
        name: "users",
        sqlite: include_str!("../migrations/sqlite/0003_users.sql"),
        postgres: include_str!("../migrations/postgres/0003_users.sql"),
    },
    Migration {
        version: 4,
        name: "operations",
        sqlite: include_str!("../migrations/sqlite/0004_operations.sql"),
        postgres: include_str!("../migrations/postgres/0004_operations.sql"),
    },
    Migration {
        version: 5,
        name: "relays",
        sqlite: include_str!("../migrations/sqlite/0005_relays.sql"),
        postgres: include_str!("../migrations/postgres/0005_relays.sql"),
    },
];

/// What to apply to a database whose schema is at `found` (0: empty). Errors when the
/// schema is newer than this build, or older and `apply` is false.
pub(crate) fn pending(found: i64, apply: bool) -> StoreResult<&'static [Migration]> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION && !apply {
        return Err(StoreError::SchemaTooOld {
            found,
            known: SCHEMA_VERSION,
        });
    }
    let start = MIGRATIONS.partition_point(|m| m.version <= found);
    Ok(MIGRATIONS.get(start..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_contiguous_and_end_at_schema_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn newer_is_refused_and_older_needs_apply() {
        assert!(matches!(
            pending(SCHEMA_VERSION + 1, true),
            Err(StoreError::SchemaTooNew { .. })
        ));
        assert!(matches!(
            pending(0, false),
            Err(StoreError::SchemaTooOld { .. })
        ));
        assert_eq!(
            pending(0, true).map(<[Migration]>::len).ok(),
            Some(MIGRATIONS.len())
        );
        assert_eq!(
            pending(SCHEMA_VERSION, false).map(<[Migration]>::len).ok(),
            Some(0)
        );
    }
}
