//! A compiled program: parse once, evaluate many times.

use crate::ast::Node;
use crate::error::{CompileError, EvalError, Position};
use crate::eval::{self, Ctx};
use crate::lexer;
use crate::limits::Limits;
use crate::parser;
use crate::scope::Scope;
use crate::value::Value;

/// A compiled expression. Cheap to share between threads; evaluation never mutates it.
#[derive(Debug, Clone)]
pub struct Program {
    source: String,
    root: Node,
    attributes: Vec<String>,
    limits: Limits,
}

impl Program {
    /// Compiles `source` with the default [`Limits`].
    pub fn compile(source: &str) -> Result<Program, CompileError> {
        Program::compile_with(source, Limits::default())
    }

    /// Compiles `source` with the given limits.
    pub fn compile_with(source: &str, limits: Limits) -> Result<Program, CompileError> {
        if source.len() > limits.max_source_len {
            let msg = format!(
                "expression longer than the limit of {} bytes",
                limits.max_source_len
            );
            return Err(CompileError::new(Position { line: 1, column: 1 }, msg));
        }
        let tokens = lexer::tokenize(source)?;
        let parsed = parser::parse(tokens, &limits)?;
        Ok(Program {
            source: source.to_string(),
            root: parsed.root,
            attributes: parsed.attributes,
            limits,
        })
    }

    /// Evaluates the program against `scope`.
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        let mut ctx = Ctx::new(scope, &self.limits);
        eval::eval(&mut ctx, &self.root).map_err(|e| e.in_rule(&self.source))
    }

    /// Plain attribute names the program reads (identifiers, back-quoted names, `attr("…")`
    /// and the first argument of `ref("…", …)` when literal), in order of first appearance.
    pub fn referenced_attributes(&self) -> &[String] {
        &self.attributes
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The limits the program was compiled with (also used when evaluating).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}
