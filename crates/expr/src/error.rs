//! Compile and evaluation errors.
//!
//! Messages name the function or operator, the types involved and the position in the source;
//! they never contain attribute values, which may be secrets.

use std::fmt;

use thiserror::Error;

/// A 1-based position in the source text (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Why a source text does not compile. Displays as `line L, column C: message`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl CompileError {
    pub(crate) fn new(pos: Position, message: impl Into<String>) -> Self {
        CompileError {
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

/// What went wrong during evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalErrorKind {
    /// An operand or argument has the wrong type.
    #[error("{op}: expected {expected}, found {found}")]
    Type {
        op: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    /// A condition is neither Bool nor Null.
    #[error("condition of `{op}` must be Bool, found {found}")]
    Condition {
        op: &'static str,
        found: &'static str,
    },
    /// Ordering two values of types that cannot be ordered.
    #[error("`{op}`: cannot order {left} and {right}")]
    Ordering {
        op: &'static str,
        left: &'static str,
        right: &'static str,
    },
    /// Integer overflow.
    #[error("`{op}`: integer overflow")]
    Overflow { op: &'static str },
    /// Division or remainder by zero.
    #[error("`{op}`: division by zero")]
    DivisionByZero { op: &'static str },
    /// An argument has the right type but an unusable value.
    #[error("{func}: {problem}")]
    Invalid {
        func: &'static str,
        problem: &'static str,
    },
    /// The operation budget is spent.
    #[error("operation limit of {limit} exceeded")]
    OperationLimit { limit: u64 },
    /// A string result would be too long.
    #[error("{op}: result exceeds the string length limit of {limit} bytes")]
    StringLimit { op: &'static str, limit: usize },
    /// A list result would be too long.
    #[error("{op}: result exceeds the list length limit of {limit} items")]
    ListLimit { op: &'static str, limit: usize },
    /// The scope does not implement `ref`, `lookup`, …
    #[error("{what}() is not supported in this context")]
    Unsupported { what: String },
    /// An error reported by the [`crate::Scope`] implementation.
    #[error("{0}")]
    Scope(String),
}

/// An evaluation error: its kind, where in the source it happened and which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    kind: EvalErrorKind,
    position: Option<Position>,
    rule: Option<String>,
}

impl EvalError {
    /// The error a [`crate::Scope`] returns for a capability it lacks (`ref`, `lookup`).
    pub fn unsupported(what: &str) -> Self {
        EvalErrorKind::Unsupported {
            what: what.to_string(),
        }
        .into()
    }

    /// An error raised by a [`crate::Scope`] implementation. Do not put attribute values in it.
    pub fn scope(message: impl Into<String>) -> Self {
        EvalErrorKind::Scope(message.into()).into()
    }

    /// What went wrong.
    pub fn kind(&self) -> &EvalErrorKind {
        &self.kind
    }

    /// Where in the source, when known.
    pub fn position(&self) -> Option<Position> {
        self.position
    }

    /// Attaches a position unless one is already known (the innermost position wins).
    pub(crate) fn at(mut self, pos: Position) -> Self {
        self.position.get_or_insert(pos);
        self
    }

    /// Attaches an excerpt of the rule's source.
    pub(crate) fn in_rule(mut self, source: &str) -> Self {
        let first = source.lines().next().unwrap_or("").trim();
        let mut excerpt: String = first.chars().take(60).collect();
        if excerpt.len() < first.len() || source.trim().lines().count() > 1 {
            excerpt.push('…');
        }
        self.rule = Some(excerpt);
        self
    }
}

impl From<EvalErrorKind> for EvalError {
    fn from(kind: EvalErrorKind) -> Self {
        EvalError {
            kind,
            position: None,
            rule: None,
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(rule) = &self.rule {
            write!(f, " in rule `{rule}`")?;
        }
        if let Some(pos) = self.position {
            write!(f, " at line {}, column {}", pos.line, pos.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for EvalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}
