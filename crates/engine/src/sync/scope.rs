//! Expression scopes over connector objects and mesh objects, and the conversion between
//! stored values and expression values.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use identitymesh_domain::config::{Config, EmptyMeaning, Flow};
use identitymesh_domain::{Attributes, Contribution, MeshId, Value};
use identitymesh_expr::{EvalError, Scope, Value as X};
use identitymesh_store::Tx;
use std::cell::RefCell;

/// Converts stored values to an expression value: absent is Null, empty is "", one value
/// is a scalar, several a list.
pub(crate) fn to_expr(values: Option<&[Value]>) -> X {
    match values {
        None => X::Null,
        Some([]) => X::Str(String::new()),
        Some([one]) => scalar(one),
        Some(many) => X::List(many.iter().map(scalar).collect()),
    }
}

fn scalar(v: &Value) -> X {
    match v {
        Value::Str(s) => X::Str(s.clone()),
        Value::Int(i) => X::Int(*i),
        Value::Bool(b) => X::Bool(*b),
        Value::Bytes(_) => X::Str(v.to_text()),
    }
}

/// What a flow produced.
pub(crate) enum FlowValue {
    /// Null: no contribution.
    Nothing,
    /// clear().
    Clear,
    /// Values (possibly one empty string).
    Values(Vec<Value>),
}

pub(crate) fn from_expr(x: X) -> FlowValue {
    match x {
        X::Null => FlowValue::Nothing,
        X::Clear => FlowValue::Clear,
        X::List(items) => FlowValue::Values(items.into_iter().filter_map(stored).collect()),
        other => FlowValue::Values(stored(other).into_iter().collect()),
    }
}

fn stored(x: X) -> Option<Value> {
    match x {
        X::Str(s) => Some(Value::Str(s)),
        X::Int(i) => Some(Value::Int(i)),
        X::Bool(b) => Some(Value::Bool(b)),
        X::DateTime(d) => Some(Value::Str(d.to_rfc3339_opts(SecondsFormat::Secs, true))),
        X::Null | X::Clear | X::List(_) => None,
    }
}

/// An inbound flow's contribution, honouring the flow's empty meaning and the clear token.
pub(crate) fn inbound(
    flow: &Flow,
    clear_token: Option<&str>,
    scope: &dyn Scope,
) -> Result<Option<Contribution>, EvalError> {
    let values = match from_expr(flow.program.eval(scope)?) {
        FlowValue::Nothing => return Ok(None),
        FlowValue::Clear => return Ok(Some(Contribution::Clear)),
        FlowValue::Values(v) => v,
    };
    if let (Some(token), [Value::Str(s)]) = (clear_token, values.as_slice())
        && s == token
    {
        return Ok(Some(Contribution::Clear));
    }
    let empty = values.is_empty()
        || values
            .iter()
            .all(|v| matches!(v, Value::Str(s) if s.is_empty()));
    if empty {
        return Ok(match flow.empty {
            EmptyMeaning::NoContribution => None,
            EmptyMeaning::Clear => Some(Contribution::Clear),
            EmptyMeaning::Empty => Some(Contribution::Values(Vec::new())),
        });
    }
    Ok(Some(Contribution::Values(values)))
}

/// Evaluates outbound flows into the attributes the target should hold. Null, clear() and
/// the empty string all mean "the target should not hold this attribute".
/// Errors name the flow rule.
pub(crate) fn outbound(flows: &[Flow], scope: &dyn Scope) -> Result<Attributes, String> {
    let mut out = Attributes::new();
    for flow in flows {
        let x = flow
            .program
            .eval(scope)
            .map_err(|e| format!("{}: {e}", flow.rule))?;
        if let FlowValue::Values(values) = from_expr(x) {
            let values: Vec<Value> = values
                .into_iter()
                .filter(|v| !matches!(v, Value::Str(s) if s.is_empty()))
                .collect();
            if !values.is_empty() {
                out.set(flow.attribute.clone(), values);
            }
        }
    }
    Ok(out)
}

/// A scope over one object's attributes, with lookups into the mesh through the open
/// transaction.
pub(crate) struct ObjectScope<'a, 't> {
    pub attributes: &'a Attributes,
    pub now: DateTime<Utc>,
    pub config: &'a Config,
    pub tx: Option<&'a RefCell<&'t mut dyn Tx>>,
}

impl ObjectScope<'_, '_> {
    fn with_tx<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        let cell = self.tx.ok_or_else(|| EvalError::unsupported(what))?;
        let mut guard = cell
            .try_borrow_mut()
            .map_err(|_| EvalError::scope(format!("{what} cannot run here")))?;
        f(&mut **guard)
    }
}

impl Scope for ObjectScope<'_, '_> {
    fn attribute(&self, name: &str) -> X {
        to_expr(self.attributes.get(name))
    }

    fn now(&self) -> Option<DateTime<FixedOffset>> {
        Some(self.now.fixed_offset())
    }

    fn lookup(
        &self,
        object_type: &str,
        attribute: &str,
        value: &X,
        result_attribute: &str,
    ) -> Result<X, EvalError> {
        let mesh_type = self.config.mesh_types.get(object_type).ok_or_else(|| {
            EvalError::scope(format!("lookup: mesh type '{object_type}' is not declared"))
        })?;
        if !mesh_type.indexed.contains(attribute) {
            return Err(EvalError::scope(format!(
                "lookup: '{object_type}.{attribute}' is not indexed; declare it with indexed = true"
            )));
        }
        let text = match value {
            X::Null => return Ok(X::Null),
            X::Str(s) => s.clone(),
            X::Int(i) => i.to_string(),
            _ => {
                return Err(EvalError::scope(
                    "lookup: the value must be text or a number",
                ));
            }
        };
        let normalizer = mesh_type
            .attribute(attribute)
            .map(|a| a.normalizer())
            .unwrap_or_default();
        let key = normalizer.key(&text);
        self.with_tx("lookup", |tx| {
            let ids = tx
                .mesh_ids_by_key(object_type, attribute, &key)
                .map_err(|e| EvalError::scope(format!("lookup failed: {e}")))?;
            let [id] = ids.as_slice() else {
                return Ok(X::Null);
            };
            let object = tx
                .mesh_by_id(*id)
                .map_err(|e| EvalError::scope(format!("lookup failed: {e}")))?;
            Ok(object.map_or(X::Null, |o| to_expr(o.attributes.get(result_attribute))))
        })
    }

    fn referenced(&self, ref_attribute: &str, target_attribute: &str) -> Result<X, EvalError> {
        let Some(reference) = self.attributes.first_text(ref_attribute) else {
            return Ok(X::Null);
        };
        let id: i64 = reference.trim_start_matches("mesh:").parse().map_err(|_| {
            EvalError::scope(format!(
                "ref: '{ref_attribute}' does not hold a mesh reference"
            ))
        })?;
        self.with_tx("ref", |tx| {
            let object = tx
                .mesh_by_id(MeshId(id))
                .map_err(|e| EvalError::scope(format!("ref failed: {e}")))?;
            Ok(object.map_or(X::Null, |o| to_expr(o.attributes.get(target_attribute))))
        })
    }
}
