//! An embedded, sandboxed expression language for attribute flows, scope filters and naming
//! rules, such as `trim(split(Employee_Name, ",")[1])`.
//!
//! The key design decision: a rule is compiled once when configuration is applied (errors name
//! line and column, function names and literal regex patterns are resolved then) and evaluated
//! millions of times by a small tree-walking interpreter over the resolved tree. Every
//! evaluation runs under [`Limits`]: an operation budget, bounds on string and list sizes that
//! are checked before allocating, and a nesting depth bound, so no rule can hang, panic or
//! exhaust memory. Error messages never include attribute values.
//!
//! This crate is pure: it must not depend on tokio, a database, the network, the file system
//! or the system clock (the run time comes from [`Scope::now`]). The object being evaluated is
//! reached only through the [`Scope`] trait, so this crate does not depend on the domain model.
//!
//! ```
//! use identitymesh_expr::{MapScope, Program, Value};
//!
//! let program = Program::compile(r#"trim(split(Employee_Name, ",")[1])"#).unwrap();
//! let scope = MapScope::new().with("Employee_Name", "Doe, Jane M");
//! assert_eq!(program.eval(&scope).unwrap(), Value::from("Jane M"));
//! assert_eq!(program.referenced_attributes(), ["Employee_Name"]);
//! ```
//!
//! The language is documented in `docs/expressions.md`.

mod ast;
mod error;
mod eval;
mod funcs;
mod lexer;
mod limits;
mod ops;
mod parser;
mod program;
mod resolve;
mod scope;
mod value;

pub use error::{CompileError, EvalError, EvalErrorKind, Position};
pub use funcs::function_names;
pub use limits::Limits;
pub use program::Program;
pub use scope::{MapScope, Scope};
pub use value::Value;

#[cfg(test)]
mod tests;
