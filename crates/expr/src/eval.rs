//! The tree-walking interpreter and its operation budget.

use crate::ast::{Kind, Node};
use crate::error::{EvalError, EvalErrorKind};
use crate::limits::Limits;
use crate::scope::Scope;
use crate::value::Value;
use crate::{funcs, ops};

/// Per-evaluation state: the scope, the limits and the operations spent so far.
pub(crate) struct Ctx<'a> {
    pub scope: &'a dyn Scope,
    pub limits: &'a Limits,
    ops: u64,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(scope: &'a dyn Scope, limits: &'a Limits) -> Self {
        Ctx {
            scope,
            limits,
            ops: 0,
        }
    }

    /// Spends `n` operations.
    pub(crate) fn charge(&mut self, n: u64) -> Result<(), EvalError> {
        self.ops = self.ops.saturating_add(n);
        if self.ops > self.limits.max_operations {
            let limit = self.limits.max_operations;
            return Err(EvalErrorKind::OperationLimit { limit }.into());
        }
        Ok(())
    }

    /// Spends operations in proportion to a size (1 per 64 bytes or items).
    pub(crate) fn charge_size(&mut self, size: usize) -> Result<(), EvalError> {
        self.charge(u64::try_from(size / 64).unwrap_or(u64::MAX))
    }
}

/// Evaluates one node; errors get the node's position unless they already have one.
pub(crate) fn eval(ctx: &mut Ctx<'_>, node: &Node) -> Result<Value, EvalError> {
    eval_kind(ctx, node).map_err(|e| e.at(node.pos))
}

fn eval_kind(ctx: &mut Ctx<'_>, node: &Node) -> Result<Value, EvalError> {
    ctx.charge(1)?;
    match &node.kind {
        Kind::Lit(v) => Ok(v.clone()),
        Kind::Attr(name) => Ok(ctx.scope.attribute(name)),
        Kind::Neg(inner) => ops::negate(eval(ctx, inner)?),
        Kind::Not(inner) => Ok(Value::Bool(!condition(eval(ctx, inner)?, "not")?)),
        Kind::Chain(first, rest) => {
            let mut acc = eval(ctx, first)?;
            for (op, pos, operand) in rest {
                let right = eval(ctx, operand)?;
                acc = ops::binary(ctx, *op, acc, right).map_err(|e| e.at(*pos))?;
            }
            Ok(acc)
        }
        Kind::And(operands) => logic(ctx, operands, false),
        Kind::Or(operands) => logic(ctx, operands, true),
        Kind::If(parts) => {
            let [cond, then, otherwise] = &**parts;
            let branch = if condition(eval(ctx, cond)?, "if")? {
                then
            } else {
                otherwise
            };
            eval(ctx, branch)
        }
        Kind::Index(target, index) => {
            let target = eval(ctx, target)?;
            ops::index(target, eval(ctx, index)?)
        }
        Kind::Call(call) => {
            let args = call
                .args
                .iter()
                .map(|a| eval(ctx, a))
                .collect::<Result<Vec<_>, _>>()?;
            funcs::call(ctx, call, args)
        }
    }
}

/// Short-circuit `and` (stops at the first false) / `or` (stops at the first true).
fn logic(ctx: &mut Ctx<'_>, operands: &[Node], is_or: bool) -> Result<Value, EvalError> {
    let op = if is_or { "or" } else { "and" };
    for operand in operands {
        let value = eval(ctx, operand)?;
        if condition(value, op).map_err(|e| e.at(operand.pos))? == is_or {
            return Ok(Value::Bool(is_or));
        }
    }
    Ok(Value::Bool(!is_or))
}

/// Interprets a value as a condition: Bool as itself, Null as false, anything else an error.
pub(crate) fn condition(value: Value, op: &'static str) -> Result<bool, EvalError> {
    match value {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        other => Err(EvalErrorKind::Condition {
            op,
            found: other.type_name(),
        }
        .into()),
    }
}
