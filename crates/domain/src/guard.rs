//! Guards: limits on one run's destructive changes, and on imports that come back much
//! shorter than before. A tripped guard holds the run's exports until an operator approves
//! or rejects them; a short import is partial and stages no deletion.

use crate::config::RawGuards;

/// The verdict of a guard.
#[derive(Clone, Debug, PartialEq)]
pub enum GuardVerdict {
    /// Within limits.
    Pass,
    /// Over a limit: hold, with the reason.
    Trip(String),
}

/// Checks the destructive changes (deletes and disables) an export would apply against the
/// connector's population.
pub fn check_destructive(guards: &RawGuards, destructive: u64, population: u64) -> GuardVerdict {
    if !guards.enabled || destructive == 0 {
        return GuardVerdict::Pass;
    }
    if destructive > guards.max_deletes {
        return GuardVerdict::Trip(format!(
            "{destructive} deletes/disables exceed the limit of {} (guards.max_deletes)",
            guards.max_deletes
        ));
    }
    let percent = percent_of(destructive, population);
    if destructive >= guards.percent_applies_from && percent > guards.max_delete_percent {
        return GuardVerdict::Trip(format!(
            "{destructive} deletes/disables are {percent:.1}% of {population} objects, over the limit of {}% (guards.max_delete_percent)",
            guards.max_delete_percent
        ));
    }
    GuardVerdict::Pass
}

/// Checks a complete full import's size against the previous one. `allow` is the operator's
/// explicit permission for this run.
pub fn check_import_size(
    guards: &RawGuards,
    seen: u64,
    previous: u64,
    allow: bool,
) -> GuardVerdict {
    if !guards.enabled || allow {
        return GuardVerdict::Pass;
    }
    if seen < guards.min_objects && previous > 0 {
        return GuardVerdict::Trip(format!(
            "the source returned {seen} objects (fewer than guards.min_objects = {}) where the last import had {previous}; \
             if this is real, run the import again with --allow-shrink",
            guards.min_objects
        ));
    }
    if previous > 0 && seen < previous {
        let shrink = percent_of(previous - seen, previous);
        if shrink > guards.max_shrink_percent {
            return GuardVerdict::Trip(format!(
                "the source returned {seen} objects, {shrink:.1}% fewer than the {previous} of the last import \
                 (limit guards.max_shrink_percent = {}%); if this is real, run the import again with --allow-shrink",
                guards.max_shrink_percent
            ));
        }
    }
    GuardVerdict::Pass
}

fn percent_of(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c17_a_mass_scope_change_trips_the_default_guard() {
        let g = RawGuards::default();
        assert!(matches!(
            check_destructive(&g, 900, 1200),
            GuardVerdict::Trip(_)
        ));
        assert_eq!(check_destructive(&g, 1, 207), GuardVerdict::Pass);
        assert_eq!(
            check_destructive(&g, 5, 20),
            GuardVerdict::Pass,
            "small counts do not trip on percentage alone"
        );
        assert!(matches!(
            check_destructive(&g, 501, 100_000),
            GuardVerdict::Trip(_)
        ));
    }

    #[test]
    fn c17_b_an_empty_or_much_shorter_import_is_refused_unless_allowed() {
        let g = RawGuards::default();
        assert!(matches!(
            check_import_size(&g, 0, 1200, false),
            GuardVerdict::Trip(_)
        ));
        assert!(matches!(
            check_import_size(&g, 500, 1200, false),
            GuardVerdict::Trip(_)
        ));
        assert_eq!(check_import_size(&g, 0, 1200, true), GuardVerdict::Pass);
        assert_eq!(check_import_size(&g, 1100, 1200, false), GuardVerdict::Pass);
        assert_eq!(
            check_import_size(&g, 0, 0, false),
            GuardVerdict::Pass,
            "a first import of nothing is not a shrink"
        );
    }

    #[test]
    fn disabled_guards_pass() {
        let g = RawGuards {
            enabled: false,
            ..RawGuards::default()
        };
        assert_eq!(check_destructive(&g, 10_000, 10_000), GuardVerdict::Pass);
    }
}
