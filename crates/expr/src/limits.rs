//! Resource limits applied when compiling and evaluating a program.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, EvalErrorKind};

/// Bounds that keep any rule from hanging or exhausting memory.
///
/// `max_depth` bounds both parser recursion and evaluation recursion; keep it well below a
/// thousand so that parsing stays within a default thread stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Operations per evaluation: one per node, plus output size / 64 for string and list work.
    pub max_operations: u64,
    /// Longest string (in bytes) an operation may produce.
    pub max_string_len: usize,
    /// Longest list an operation may produce.
    pub max_list_len: usize,
    /// Longest accepted source text, in bytes.
    pub max_source_len: usize,
    /// Deepest accepted nesting of the expression.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 100_000,
            max_string_len: 1024 * 1024,
            max_list_len: 100_000,
            max_source_len: 64 * 1024,
            max_depth: 64,
        }
    }
}

impl Limits {
    /// Fails when a string of `len` bytes produced by `op` would exceed the limit.
    pub(crate) fn check_str(&self, op: &'static str, len: usize) -> Result<(), EvalError> {
        if len > self.max_string_len {
            let limit = self.max_string_len;
            return Err(EvalErrorKind::StringLimit { op, limit }.into());
        }
        Ok(())
    }

    /// Fails when a list of `len` items produced by `op` would exceed the limit.
    pub(crate) fn check_list(&self, op: &'static str, len: usize) -> Result<(), EvalError> {
        if len > self.max_list_len {
            let limit = self.max_list_len;
            return Err(EvalErrorKind::ListLimit { op, limit }.into());
        }
        Ok(())
    }
}
