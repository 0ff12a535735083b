//! The OpenAPI 3 document, built from [`super::operations`] so it cannot miss a route.

use axum::Json;
use serde_json::{Map, Value, json};


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
            "responses": { "200": { "description": "success" }, "4XX": error.clone() },
        });
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
        "openapi": "3.0.3",
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
