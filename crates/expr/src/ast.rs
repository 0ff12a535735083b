//! The resolved syntax tree the interpreter walks.
//!
//! Function names are resolved to [`Func`] at compile time and literal regex patterns are
//! pre-compiled; long chains of the same precedence level are stored flat so that their
//! length does not count as nesting depth.

use regex::Regex;

use crate::error::Position;
use crate::funcs::Func;
use crate::value::Value;

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub pos: Position,
    pub depth: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Lit(Value),
    Attr(String),
    Neg(Box<Node>),
    Not(Box<Node>),
    /// `first op1 n1 op2 n2 …`, evaluated left to right.
    Chain(Box<Node>, Vec<(BinOp, Position, Node)>),
    And(Vec<Node>),
    Or(Vec<Node>),
    If(Box<[Node; 3]>),
    Index(Box<Node>, Box<Node>),
    Call(Box<Call>),
}

#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub func: Func,
    pub name: &'static str,
    pub args: Vec<Node>,
    /// The pattern argument, compiled at compile time when it is a string literal.
    pub regex: Option<Regex>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

impl Kind {
    /// Depth of the deepest child (0 for leaves).
    pub(crate) fn child_depth(&self) -> usize {
        let max = |nodes: &mut dyn Iterator<Item = &Node>| nodes.map(|n| n.depth).max();
        let deepest = match self {
            Kind::Lit(_) | Kind::Attr(_) => None,
            Kind::Neg(n) | Kind::Not(n) => Some(n.depth),
            Kind::Chain(first, rest) => {
                max(&mut std::iter::once(&**first).chain(rest.iter().map(|(_, _, n)| n)))
            }
            Kind::And(nodes) | Kind::Or(nodes) => max(&mut nodes.iter()),
            Kind::If(parts) => max(&mut parts.iter()),
            Kind::Index(a, b) => Some(a.depth.max(b.depth)),
            Kind::Call(call) => max(&mut call.args.iter()),
        };
        deepest.unwrap_or(0)
    }
}
