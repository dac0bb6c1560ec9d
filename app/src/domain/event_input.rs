//! `POST /api/v1/events`: `{"hookType","_shop"?,"data","_user"?}`.

use super::{Catalogue, FieldError, ResourceId, Unknown, Vertical, unknown_names};
use serde_json::Value;

const FIELDS: &[&str] = &["hookType", "_shop", "data", "_user"];

#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    pub hook_type: String,
    pub vertical: Vertical,
    pub shop: Option<String>,
    pub data: Value,
    /// Publish for this account (admin keys only).
    pub on_behalf_of: Option<ResourceId>,
}

pub fn parse_event(body: &Value, catalogue: &Catalogue) -> Result<EventSpec, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors = Vec::new();
    let mut hook_type = None;
    match object.get("hookType") {
        None | Some(Value::Null) => errors.push(FieldError::new("hookType", "is required")),
        Some(Value::String(t)) => match catalogue.vertical_of(t.trim()) {
            Some(v) => hook_type = Some((t.trim().to_owned(), v)),
            None => errors.push(FieldError::new(
                "hookType",
                format!("must be one of: {}", catalogue.all_hook_types().join(", ")),
            )),
        },
        Some(_) => errors.push(FieldError::new("hookType", "must be a string")),
    }
    let shop = match object.get("_shop") {
        None | Some(Value::Null) => None,
        Some(Value::String(s))
            if !s.trim().is_empty() && s.len() <= 128 && s.trim().bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Some(s.trim().to_owned())
        }
        Some(Value::String(_)) => {
            errors.push(FieldError::new("_shop", "must be 1 to 128 printable ASCII characters"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new("_shop", "must be a string"));
            None
        }
    };
    let data = match object.get("data") {
        None => {
            errors.push(FieldError::new("data", "is required (any JSON value; usually an object)"));
            Value::Null
        }
        Some(v) => v.clone(),
    };
    let on_behalf_of = match object.get("_user") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match ResourceId::parse(s) {
            Ok(id) => Some(id),
            Err(e) => {
                errors.push(FieldError::new("_user", e.to_string()));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("_user", "must be a string"));
            None
        }
    };
    errors.extend(unknown_names(object.keys().map(String::as_str), FIELDS, Unknown::Field));
    match (errors.is_empty(), hook_type) {
        (true, Some((hook_type, vertical))) => Ok(EventSpec { hook_type, vertical, shop, data, on_behalf_of }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_reports_every_problem() {
        let c = Catalogue::default();
        let spec = parse_event(&json!({"hookType":"dbs","_shop":"s1","data":{"a":1}}), &c).expect("valid");
        assert_eq!((spec.vertical, spec.shop.as_deref()), (Vertical::Flightrates, Some("s1")));
        let spec = parse_event(&json!({"hookType":"hoteldemand","data":[1]}), &c).expect("valid");
        assert_eq!(spec.vertical, Vertical::Eventsshop);
        let errors = parse_event(&json!({"hookType":"x","_shop":5,"_user":"nope","dta":{}}), &c).expect_err("x");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["hookType", "_shop", "data", "_user", "dta"]);
    }
}
