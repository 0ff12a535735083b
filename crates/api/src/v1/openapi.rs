//! The OpenAPI 3.1 document, built from [`super::operations`] so it cannot miss a route.
//! Query parameters and request bodies come from [`INPUTS`]: the JSON Schemas of the very
//! types the handlers deserialize (derived with `schemars`), so the document cannot drift
//! from what the server accepts.

use axum::Json;
use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use super::{mesh, review, runs, session};

/// Where an operation takes its input from, and the schema of that input.
pub enum Input {
    /// Query parameters: the properties of an object schema.
    Query(fn() -> Value),
    /// A JSON request body.
    Body(fn() -> Value),
}

/// The input of one operation: method, path, input.
pub type OperationInput = (&'static str, &'static str, Input);

/// The JSON Schema of `T`, with every sub-schema inlined (no `$ref`s to resolve).
pub fn schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut value = generator.into_root_schema_for::<T>().to_value();
    if let Some(object) = value.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    value
}

/// The inputs of the operations that take any.
pub const INPUTS: &[OperationInput] = &[
    (
        "post",
        "/api/v1/session",
        Input::Body(schema::<session::Credentials>),
    ),
    (
        "get",
        "/api/v1/mesh",
        Input::Query(schema::<mesh::MeshSearch>),
    ),
    (
        "get",
        "/api/v1/runs",
        Input::Query(schema::<runs::RunFilter>),
    ),
    (
        "get",
        "/api/v1/conflicts",
        Input::Query(schema::<review::ConflictFilter>),
    ),
    (
        "post",
        "/api/v1/connectors/{name}/adoptions",
        Input::Body(schema::<review::Decision>),
    ),
    (
        "get",
        "/api/v1/connectors/{name}/objects",
        Input::Query(schema::<super::space::SpaceSearch>),
    ),
    (
        "get",
        "/api/v1/config/diff",
        Input::Query(schema::<super::config::DiffQuery>),
    ),
    (
        "post",
        "/api/v1/config",
        Input::Body(schema::<super::config::ApplyBody>),
    ),
    (
        "post",
        "/api/v1/users",
        Input::Body(schema::<super::users::NewUserBody>),
    ),
    (
        "patch",
        "/api/v1/users/{name}",
        Input::Body(schema::<super::users::UserChange>),
    ),
];

/// Query parameters from an object schema: one per property, required as the schema says.
fn query_parameters(object: &Value) -> Vec<Value> {
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = object["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, schema)| {
            let mut schema = schema.clone();
            let description = schema
                .as_object_mut()
                .and_then(|o| o.remove("description"))
                .unwrap_or(Value::Null);
            json!({ "name": name, "in": "query", "required": required.contains(&name.as_str()),
                    "description": description, "schema": schema })
        })
        .collect()
}

/// Adds the operation's query parameters or request body, if it has any.
fn add_input(op: &mut Value, method: &str, path: &str) {
    let found = INPUTS.iter().find(|(m, p, _)| *m == method && *p == path);
    match found.map(|(_, _, input)| input) {
        Some(Input::Query(schema)) => {
            if let Some(params) = op["parameters"].as_array_mut() {
                params.extend(query_parameters(&schema()));
            }
        }
        Some(Input::Body(schema)) => {
            op["requestBody"] = json!({ "required": true,
                "content": { "application/json": { "schema": schema() } } });
        }
        None => {}
    }
}

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name == "id" {
                json!({ "type": "integer" })
            } else {
                json!({ "type": "string" })
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

/// The document.
pub fn build() -> Value {
    let error = json!({ "description": "an error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let mut paths = Map::new();
    for (method, path, role, summary) in super::operations() {
        let mut op = json!({
            "summary": summary,
            "parameters": parameters(path),
            "responses": { "2XX": { "description": "success" }, "4XX": error.clone() },
        });
        add_input(&mut op, method, path);
        if let Some(role) = role {
            op["x-required-role"] = json!(role);
            op["security"] = json!([{ "session": [] }, { "bearer": [] }]);
        } else {
            op["security"] = json!([]);
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "IdentityMesh Admin API", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::session::COOKIE },
                "bearer": { "type": "http", "scheme": "bearer" },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } },
                },
            },
        },
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(build())
}
