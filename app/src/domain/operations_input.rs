//! `PUT /api/v1/account/operations`: `{"endpoint": "<absolute http(s) URL>"}`,
//! checked like a hook's endpoint; also what the dashboard's settings send.

use super::{FieldError, Unknown, unknown_names, validate_endpoint};
use serde_json::Value;

const FIELDS: &[&str] = &["endpoint"];

/// The operations endpoint in `body`, or every problem.
pub fn parse_operations_endpoint(body: &Value) -> Result<String, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("body", "must be a JSON object with `endpoint`")]);
    };
    let mut errors: Vec<FieldError> = unknown_names(object.keys().map(String::as_str), FIELDS, Unknown::Field);
    let endpoint = match object.get("endpoint") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new("endpoint", "is required (an absolute http(s) URL)"));
            None
        }
        Some(Value::String(text)) => match validate_endpoint(text) {
            Ok(url) => Some(url),
            Err(e) => {
                errors.push(FieldError::new("endpoint", e.to_string()));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("endpoint", "must be a string (an absolute http(s) URL)"));
            None
        }
    };
    match endpoint {
        Some(url) if errors.is_empty() => Ok(url),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_endpoint_is_an_absolute_url_and_nothing_else_is_taken() {
        assert_eq!(
            parse_operations_endpoint(&json!({"endpoint": "https://ops.example.com/hooks"})),
            Ok("https://ops.example.com/hooks".to_owned())
        );
        for bad in [
            json!({}),
            json!({"endpoint": "//nope"}),
            json!({"endpoint": 5}),
            json!({"endpont": "https://e.com"}),
            json!([]),
        ] {
            assert!(parse_operations_endpoint(&bad).is_err(), "{bad}");
        }
    }
}
