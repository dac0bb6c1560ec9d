//! Step 1: each known field's JSON type and format, and every unknown field
//! named with the nearest known one.

use super::{FieldDef, PASSWORD_MAX, Role, SHOP_MAX, TOKEN_MAX, USERNAME_MAX, fields_of};
use crate::domain::{AuthType, Catalogue, FieldError, Vertical, delivery_options, validate_endpoint};
use delivery_options::{MAX_IN_FLIGHT_MAX, RATE_LIMIT_MAX};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One field of the request: left out, `null`, or a value that passed its
/// type and format checks.
pub(super) enum FieldValue<T> {
    Absent,
    Null,
    Given(T),
}

impl<T> FieldValue<T> {
    pub(super) fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

/// The request's fields, each as sent. A field that failed its check is
/// `Absent` here and has its error in the list.
pub(super) struct SentFields {
    pub endpoint: FieldValue<String>,
    pub auth_type: FieldValue<AuthType>,
    pub username: FieldValue<String>,
    pub password: FieldValue<String>,
    pub token: FieldValue<String>,
    pub hook_type: FieldValue<String>,
    pub is_active: FieldValue<bool>,
    pub shop: FieldValue<String>,
    pub headers: FieldValue<BTreeMap<String, String>>,
    /// Values as sent: the mask keeps a stored one (`merge.rs`).
    pub secret_headers: FieldValue<BTreeMap<String, String>>,
    pub timeout_seconds: FieldValue<u32>,
    pub rate_limit: FieldValue<u32>,
    pub max_in_flight: FieldValue<u32>,
    pub ordered: FieldValue<bool>,
}

/// Reads every field the vertical knows from the request object.
pub(super) fn fields(
    vertical: Vertical,
    object: &Map<String, Value>,
    catalogue: &Catalogue,
    errors: &mut Vec<FieldError>,
) -> SentFields {
    let mut sent = SentFields {
        endpoint: FieldValue::Absent,
        auth_type: FieldValue::Absent,
        username: FieldValue::Absent,
        password: FieldValue::Absent,
        token: FieldValue::Absent,
        hook_type: FieldValue::Absent,
        is_active: FieldValue::Absent,
        shop: FieldValue::Absent,
        headers: FieldValue::Absent,
        secret_headers: FieldValue::Absent,
        timeout_seconds: FieldValue::Absent,
        rate_limit: FieldValue::Absent,
        max_in_flight: FieldValue::Absent,
        ordered: FieldValue::Absent,
    };
    for def in fields_of(vertical) {
        let Some(value) = object.get(def.name) else { continue };
        if value.is_null() {
            sent.set_null(def.role);
        } else if let Err(message) = sent.set(def, value, vertical, catalogue) {
            errors.push(FieldError::new(def.name, message));
        }
    }
    sent
}

impl SentFields {
    fn set_null(&mut self, role: Role) {
        match role {
            Role::Endpoint => self.endpoint = FieldValue::Null,
            Role::AuthType => self.auth_type = FieldValue::Null,
            Role::Username => self.username = FieldValue::Null,
            Role::Password => self.password = FieldValue::Null,
            Role::Token => self.token = FieldValue::Null,
            Role::HookType => self.hook_type = FieldValue::Null,
            Role::Active => self.is_active = FieldValue::Null,
            Role::Shop => self.shop = FieldValue::Null,
            Role::Headers => self.headers = FieldValue::Null,
            Role::SecretHeaders => self.secret_headers = FieldValue::Null,
            Role::Timeout => self.timeout_seconds = FieldValue::Null,
            Role::RateLimit => self.rate_limit = FieldValue::Null,
            Role::MaxInFlight => self.max_in_flight = FieldValue::Null,
            Role::Ordered => self.ordered = FieldValue::Null,
        }
    }

    /// Checks one non-null value and keeps it; `Err` says what is wrong.
    fn set(&mut self, def: &FieldDef, value: &Value, vertical: Vertical, catalogue: &Catalogue) -> Result<(), String> {
        match def.role {
            Role::Headers => {
                self.headers = FieldValue::Given(delivery_options::read_headers(value)?);
                return Ok(());
            }
            Role::SecretHeaders => {
                self.secret_headers = FieldValue::Given(delivery_options::read_headers(value)?);
                return Ok(());
            }
            Role::Timeout => {
                self.timeout_seconds = FieldValue::Given(delivery_options::read_timeout(value)?);
                return Ok(());
            }
            Role::RateLimit => {
                self.rate_limit = FieldValue::Given(delivery_options::read_count(value, RATE_LIMIT_MAX)?);
                return Ok(());
            }
            Role::MaxInFlight => {
                self.max_in_flight = FieldValue::Given(delivery_options::read_count(value, MAX_IN_FLIGHT_MAX)?);
                return Ok(());
            }
            _ => {}
        }
        if matches!(def.role, Role::Active | Role::Ordered) {
            let flag = match value {
                Value::Bool(b) => *b,
                Value::String(_) => {
                    return Err("must be a JSON boolean (true or false without quotes), not a string".into());
                }
                other => return Err(format!("must be true or false, not {}", json_kind(other))),
            };
            if def.role == Role::Active {
                self.is_active = FieldValue::Given(flag);
            } else {
                self.ordered = FieldValue::Given(flag);
            }
            return Ok(());
        }
        let Some(text) = value.as_str() else {
            return Err(format!("must be a string, not {}", json_kind(value)));
        };
        match def.role {
            Role::Endpoint => self.endpoint = FieldValue::Given(validate_endpoint(text).map_err(|e| e.to_string())?),
            Role::AuthType => match AuthType::parse(text) {
                Some(t) if allowed_auth_types(vertical).contains(&t) => self.auth_type = FieldValue::Given(t),
                _ => return Err(format!("must be one of {}", auth_type_choices(vertical))),
            },
            Role::Username => self.username = FieldValue::Given(check_username(text)?),
            Role::Password => self.password = FieldValue::Given(check_secret(text, PASSWORD_MAX, false)?),
            Role::Token => self.token = FieldValue::Given(check_secret(text, TOKEN_MAX, true)?),
            Role::HookType => {
                let text = text.trim();
                if !catalogue.contains(vertical, text) {
                    return Err(format!("must be one of: {}", catalogue.hook_types(vertical).join(", ")));
                }
                self.hook_type = FieldValue::Given(text.to_owned());
            }
            Role::Shop => self.shop = FieldValue::Given(check_shop(text)?),
            Role::Active
            | Role::Headers
            | Role::SecretHeaders
            | Role::Timeout
            | Role::RateLimit
            | Role::MaxInFlight
            | Role::Ordered => {}
        }
        Ok(())
    }
}

/// Every field the vertical does not know, each with the nearest known name.
pub(super) fn unknown_fields(vertical: Vertical, object: &Map<String, Value>, errors: &mut Vec<FieldError>) {
    let defs = fields_of(vertical);
    let names: Vec<&str> = defs.iter().map(|d| d.name).collect();
    errors.extend(crate::domain::unknown_names(
        object.keys().map(String::as_str),
        &names,
        crate::domain::Unknown::Field,
    ));
}

fn allowed_auth_types(vertical: Vertical) -> &'static [AuthType] {
    match vertical {
        Vertical::Flightrates => &AuthType::ALL,
        Vertical::Eventsshop => &[AuthType::Basic, AuthType::OAuth2],
    }
}

fn auth_type_choices(vertical: Vertical) -> &'static str {
    match vertical {
        Vertical::Flightrates => "none, basic (or \"Basic Auth\"), oauth2 (or \"OAuth 2.0\"), jwt",
        Vertical::Eventsshop => "\"Basic Auth\" or \"OAuth 2.0\"",
    }
}

fn check_username(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.chars().count() > USERNAME_MAX {
        return Err(format!("must be at most {USERNAME_MAX} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if text.contains(':') {
        return Err("must not contain `:` (it separates user and password in Basic Auth)".into());
    }
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(text.to_owned())
}

/// Secrets are kept byte for byte (no trimming). Tokens go into an HTTP
/// header, so they must be visible ASCII without spaces.
fn check_secret(text: &str, max: usize, header_safe: bool) -> Result<String, String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if header_safe && !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".into());
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

fn check_shop(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > SHOP_MAX {
        return Err(format!("must be at most {SHOP_MAX} characters"));
    }
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".into());
    }
    Ok(text.to_owned())
}

/// "a string", "a number", … for error messages.
pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
