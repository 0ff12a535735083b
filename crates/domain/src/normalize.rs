//! The one normaliser (design invariant 7): trim, Unicode NFC, and case folding where the
//! attribute is case-insensitive. Joins, uniqueness checks and change detection all call it,
//! so two values that join can never coexist as two "unique" objects.

use unicode_normalization::UnicodeNormalization;

/// How values of one attribute are normalised for comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Normalizer {
    /// Fold case (the default for directory-style attributes).
    pub case_fold: bool,
    /// Treat as an e-mail address: the domain is always folded, the local part when `case_fold`.
    pub email: bool,
}

impl Normalizer {
    /// Case-insensitive text.
    pub const FOLD: Normalizer = Normalizer {
        case_fold: true,
        email: false,
    };
    /// Case-sensitive text (trim and NFC only).
    pub const EXACT: Normalizer = Normalizer {
        case_fold: false,
        email: false,
    };

    /// The comparison key of a value. The original value is kept elsewhere for export.
    pub fn key(&self, raw: &str) -> String {
        let composed: String = raw.trim().nfc().collect();
        if self.email {
            return email_key(&composed, self.case_fold);
        }
        if self.case_fold {
            composed.to_lowercase()
        } else {
            composed
        }
    }
}

fn email_key(composed: &str, fold_local: bool) -> String {
    match composed.rsplit_once('@') {
        Some((local, domain)) => {
            let local = if fold_local {
                local.to_lowercase()
            } else {
                local.to_owned()
            };
            format!("{local}@{}", domain.to_lowercase())
        }
        None if fold_local => composed.to_lowercase(),
        None => composed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_folds_and_composes() {
        let n = Normalizer::FOLD;
        assert_eq!(n.key(" jdoe"), "jdoe");
        assert_eq!(n.key("jdoe "), "jdoe");
        assert_eq!(n.key("JDoe"), "jdoe");
        // "é" precomposed and decomposed compare equal
        assert_eq!(n.key("Ren\u{e9}"), n.key("Rene\u{301}"));
    }

    #[test]
    fn email_domain_always_folds_local_part_configurable() {
        let fold = Normalizer {
            case_fold: true,
            email: true,
        };
        let keep = Normalizer {
            case_fold: false,
            email: true,
        };
        assert_eq!(
            fold.key("Jane.Doe@Example.TEST"),
            fold.key("jane.doe@example.test")
        );
        assert_eq!(keep.key("Jane.Doe@Example.TEST"), "Jane.Doe@example.test");
    }

    #[test]
    fn exact_keeps_case() {
        assert_eq!(Normalizer::EXACT.key(" AbC "), "AbC");
    }
}
