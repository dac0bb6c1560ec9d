//! The dashboard's hook form: what a person types, turned into the same
//! JSON body the REST API takes, so the one validator (`hook_input`) checks
//! it — in the browser as they type (WASM) and again in the server function.

use super::delivery_options::StoredDelivery;
use super::hook_input::{self, MASK, Mode};
use super::{AuthType, Catalogue, FieldError, HookSpec, Vertical};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The form's fields, named for people rather than for a vendor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookForm {
    pub endpoint: String,
    pub auth_type: AuthType,
    /// Basic user name, or the JWT `sub`.
    pub username: String,
    /// Basic password; `MASK` keeps the stored one.
    pub password: String,
    /// OAuth 2.0 token or JWT signing secret; `MASK` keeps the stored one.
    pub token: String,
    pub hook_type: String,
    pub shop: String,
    pub is_active: bool,
    /// One `Name: value` per line.
    pub headers: String,
    /// One `Name: value` per line; `Name: *******` keeps a stored value.
    pub secret_headers: String,
    /// Whole seconds; empty for the server's timeout.
    pub timeout_seconds: String,
    /// Deliveries per second; empty for no limit.
    pub rate_limit: String,
    /// Attempts at once; empty for no limit.
    pub max_in_flight: String,
    /// One attempt at a time, in publish order.
    #[serde(default)]
    pub ordered: bool,
}

/// The form's inputs, for placing an error next to its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormField {
    Endpoint,
    AuthType,
    Username,
    Password,
    Token,
    HookType,
    Shop,
    IsActive,
    Headers,
    SecretHeaders,
    Timeout,
    RateLimit,
    MaxInFlight,
    Ordered,
    /// Anything else (shown above the form).
    Other,
}

/// Which credential inputs an auth type shows.
pub fn needs_username(auth: AuthType) -> bool {
    matches!(auth, AuthType::Basic | AuthType::Jwt)
}
pub fn needs_password(auth: AuthType) -> bool {
    auth == AuthType::Basic
}
/// OAuth 2.0 token, or JWT signing secret (EventsShop Basic Auth hooks get a generated token).
pub fn needs_token(auth: AuthType) -> bool {
    matches!(auth, AuthType::OAuth2 | AuthType::Jwt)
}

/// The auth types a vertical's hooks may use.
pub fn auth_types(vertical: Vertical) -> &'static [AuthType] {
    match vertical {
        Vertical::Flightrates => &AuthType::ALL,
        Vertical::Eventsshop => &[AuthType::Basic, AuthType::OAuth2],
    }
}

impl HookForm {
    /// The REST body for the vertical; credentials the auth type does not use are left out.
    pub fn to_body(&self, vertical: Vertical) -> Value {
        let names = match vertical {
            Vertical::Flightrates => ["endPoint", "userId", "pwdTxt", "token"],
            Vertical::Eventsshop => ["endpoint", "userName", "password", "token"],
        };
        let auth = match vertical {
            Vertical::Flightrates => self.auth_type.as_str(),
            Vertical::Eventsshop => self.auth_type.as_eventsshop(),
        };
        let mut body = Map::new();
        // An empty input is a missing field ("is required"), not an empty value.
        let mut put = |name: &str, value: &str, trim: bool| {
            let value = if trim { value.trim() } else { value };
            if !value.trim().is_empty() {
                body.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        };
        put(names[0], &self.endpoint, true);
        put("authType", auth, true);
        if needs_username(self.auth_type) {
            put(names[1], &self.username, true);
        }
        if needs_password(self.auth_type) {
            put(names[2], &self.password, false);
        }
        if needs_token(self.auth_type) {
            put(names[3], &self.token, false);
        }
        if vertical == Vertical::Flightrates {
            put("hookType", &self.hook_type, true);
            put("_shop", &self.shop, true);
            body.insert("isActiveStatus".to_owned(), Value::Bool(self.is_active));
        }
        body.insert("headers".to_owned(), header_lines(&self.headers));
        body.insert("secretHeaders".to_owned(), header_lines(&self.secret_headers));
        body.insert("ordered".to_owned(), Value::Bool(self.ordered));
        for (name, text) in [
            ("timeoutSeconds", &self.timeout_seconds),
            ("rateLimit", &self.rate_limit),
            ("maxInFlight", &self.max_in_flight),
        ] {
            let text = text.trim();
            if !text.is_empty() {
                // Not a number: sent as text, so the validator says what it must be.
                let value = text.parse::<u64>().map_or_else(|_| Value::String(text.to_owned()), Value::from);
                body.insert(name.to_owned(), value);
            }
        }
        Value::Object(body)
    }

    /// Validates with the REST API's rules (`Mode::Create`, or `Mode::Replace`
    /// on edit so that `MASK` keeps a stored secret).
    pub fn validate(
        &self,
        vertical: Vertical,
        mode: Mode<'_>,
        catalogue: &Catalogue,
    ) -> Result<HookSpec, Vec<FieldError>> {
        let mut spec = hook_input::parse(vertical, &self.to_body(vertical), mode, catalogue)?;
        if vertical == Vertical::Eventsshop {
            // The EventsShop API has no active flag; the dashboard does.
            spec.is_active = self.is_active;
        }
        Ok(spec)
    }

    /// The form for an existing hook: stored secrets read as `MASK`.
    pub fn masked(mut self, has_password: bool, has_token: bool) -> Self {
        self.password = if has_password { MASK.to_owned() } else { String::new() };
        self.token = if has_token { MASK.to_owned() } else { String::new() };
        self
    }

    /// The delivery options' inputs for a stored hook (secret values masked).
    pub fn with_delivery(mut self, stored: &StoredDelivery) -> Self {
        self.headers = stored.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n");
        self.secret_headers =
            stored.secret_header_names.iter().map(|k| format!("{k}: {MASK}")).collect::<Vec<_>>().join("\n");
        let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        self.timeout_seconds = number(stored.timeout_seconds);
        self.rate_limit = number(stored.rate_limit);
        self.max_in_flight = number(stored.max_in_flight);
        self.ordered = stored.ordered;
        self
    }
}

/// `Name: value` lines as the JSON object the API takes (blank lines
/// skipped; a line without a colon becomes a name without a value, which
/// the validator names).
fn header_lines(text: &str) -> Value {
    let object: Map<String, Value> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once(':') {
            Some((name, value)) => (name.trim().to_owned(), Value::String(value.trim().to_owned())),
            None => (line.to_owned(), Value::String(String::new())),
        })
        .collect();
    Value::Object(object)
}

/// The input an API field name belongs to.
pub fn form_field(api_field: &str) -> FormField {
    match api_field {
        "endPoint" | "endpoint" => FormField::Endpoint,
        "authType" => FormField::AuthType,
        "userId" | "userName" => FormField::Username,
        "pwdTxt" | "password" => FormField::Password,
        "token" => FormField::Token,
        "hookType" => FormField::HookType,
        "_shop" => FormField::Shop,
        "isActiveStatus" => FormField::IsActive,
        "headers" => FormField::Headers,
        "secretHeaders" => FormField::SecretHeaders,
        "timeoutSeconds" => FormField::Timeout,
        "rateLimit" => FormField::RateLimit,
        "maxInFlight" => FormField::MaxInFlight,
        "ordered" => FormField::Ordered,
        _ => FormField::Other,
    }
}

/// The first error for each input.
pub fn errors_by_field(errors: &[FieldError]) -> Vec<(FormField, String)> {
    let mut out: Vec<(FormField, String)> = Vec::new();
    for e in errors {
        let field = form_field(&e.field);
        if !out.iter().any(|(f, _)| *f == field) {
            let message =
                if field == FormField::Other { format!("{}: {}", e.field, e.message) } else { e.message.clone() };
            out.push((field, message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{HookState, SecretChange, StoredSecrets};

    fn valid() -> HookForm {
        HookForm {
            endpoint: "https://example.com/hook".into(),
            auth_type: AuthType::Basic,
            username: "alice".into(),
            password: "s3cret".into(),
            token: "left over".into(),
            hook_type: "dbs".into(),
            shop: "shop-1".into(),
            is_active: true,
            ..HookForm::default()
        }
    }

    #[test]
    fn a_complete_form_is_a_valid_flightrates_hook_and_unused_credentials_are_dropped() {
        let spec = valid().validate(Vertical::Flightrates, Mode::Create, &Catalogue::default()).expect("valid");
        assert_eq!(spec.endpoint, "https://example.com/hook");
        assert_eq!(spec.password, SecretChange::Set("s3cret".into()));
        assert_eq!(spec.token, SecretChange::Clear);
        assert!(valid().to_body(Vertical::Flightrates).get("token").is_none());
    }

    #[test]
    fn bad_url_and_missing_credentials_land_on_their_inputs() {
        let form = HookForm { endpoint: "//my-hook".into(), password: String::new(), ..valid() };
        let errors = form.validate(Vertical::Flightrates, Mode::Create, &Catalogue::default()).expect_err("invalid");
        let fields: Vec<FormField> = errors_by_field(&errors).into_iter().map(|(f, _)| f).collect();
        assert!(fields.contains(&FormField::Endpoint), "{errors:?}");
        assert!(fields.contains(&FormField::Password), "{errors:?}");
    }

    #[test]
    fn each_auth_type_asks_for_its_own_credentials() {
        let catalogue = Catalogue::default();
        let jwt = HookForm { auth_type: AuthType::Jwt, token: String::new(), ..valid() };
        let errors = jwt.validate(Vertical::Flightrates, Mode::Create, &catalogue).expect_err("needs a secret");
        assert_eq!(errors_by_field(&errors)[0].0, FormField::Token);
        let oauth = HookForm { auth_type: AuthType::OAuth2, token: "tok".into(), username: String::new(), ..valid() };
        assert!(oauth.validate(Vertical::Flightrates, Mode::Create, &catalogue).is_ok());
        let none = HookForm { auth_type: AuthType::None, username: String::new(), password: String::new(), ..valid() };
        assert!(none.validate(Vertical::Flightrates, Mode::Create, &catalogue).is_ok());
    }

    #[test]
    fn a_masked_secret_is_kept_on_edit() {
        let state = HookState {
            endpoint: "https://example.com/hook".into(),
            auth_type: AuthType::Basic,
            username: Some("alice".into()),
            secrets: StoredSecrets { password: true, token: false },
            hook_type: Some("dbs".into()),
            shop: Some("shop-1".into()),
            is_active: true,
            delivery: StoredDelivery::default(),
        };
        let form = valid().masked(true, false);
        let spec = form.validate(Vertical::Flightrates, Mode::Replace(&state), &Catalogue::default()).expect("valid");
        assert_eq!(spec.password, SecretChange::Keep);
    }

    #[test]
    fn header_lines_and_the_timeout_become_the_api_fields() {
        let form = HookForm {
            headers: "X-Tenant: acme\n\n  X-Trace : 1 ".into(),
            secret_headers: "X-Api-Key: k1".into(),
            timeout_seconds: "12".into(),
            ..valid()
        };
        let spec = form.validate(Vertical::Flightrates, Mode::Create, &Catalogue::default()).expect("valid");
        assert_eq!(spec.delivery.headers.len(), 2);
        assert_eq!(spec.delivery.headers.get("X-Trace").map(String::as_str), Some("1"));
        assert_eq!(spec.delivery.timeout_seconds, Some(12));
        let bad = HookForm { headers: "no colon here".into(), timeout_seconds: "soon".into(), ..valid() };
        let errors = bad.validate(Vertical::Flightrates, Mode::Create, &Catalogue::default()).expect_err("x");
        let fields: Vec<FormField> = errors_by_field(&errors).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [FormField::Headers, FormField::Timeout]);
    }

    #[test]
    fn eventsshop_forms_use_the_eventsshop_names() {
        let form = HookForm { auth_type: AuthType::OAuth2, token: "tok".into(), ..valid() };
        let body = form.to_body(Vertical::Eventsshop);
        assert_eq!(body["authType"], "OAuth 2.0");
        assert_eq!(body["endpoint"], "https://example.com/hook");
        assert!(form.validate(Vertical::Eventsshop, Mode::Create, &Catalogue::default()).is_ok());
    }
}
