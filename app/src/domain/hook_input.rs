//! Parsing hook requests into validated `HookSpec`s ("parse, don't
//! validate"). One function per route family returns either a spec or
//! **every** field error at once. Used by the REST API, the server
//! functions and, compiled to WASM, the dashboard form.

use super::{AuthType, Catalogue, FieldError, Vertical, validate_endpoint};
use serde_json::Value;

/// What a stored secret reads as, and what a client sends back to keep it.
pub const MASK: &str = "*******";

pub const USERNAME_MAX: usize = 256;
pub const PASSWORD_MAX: usize = 1024;
pub const TOKEN_MAX: usize = 4096;
pub const SHOP_MAX: usize = 128;

/// What to do with a stored secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretChange {
    Keep,
    Set(String),
    Clear,
}

/// Which secrets a stored hook has (their values never leave storage here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoredSecrets {
    pub password: bool,
    pub token: bool,
}

/// A hook as it stands, the base a PATCH or PUT applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookState {
    pub endpoint: String,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub secrets: StoredSecrets,
    pub hook_type: Option<String>,
    pub shop: Option<String>,
    pub is_active: bool,
}

/// A validated hook definition, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookSpec {
    pub vertical: Vertical,
    pub endpoint: String,
    pub auth_type: AuthType,
    pub username: Option<String>,
    pub password: SecretChange,
    pub token: SecretChange,
    /// EventsShop Basic Auth: the server generates the hook's token.
    pub generate_token: bool,
    /// `None` = every hook type of the vertical (EventsShop hooks).
    pub hook_type: Option<String>,
    pub shop: Option<String>,
    pub is_active: bool,
}

/// How the request relates to the stored hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode<'a> {
    /// POST: mandatory fields required, nothing stored yet.
    Create,
    /// PUT: mandatory fields required; absent optional fields are cleared;
    /// `"*******"` keeps a stored secret.
    Replace(&'a HookState),
    /// PATCH: only the fields sent change; `null` clears an optional field.
    Patch(&'a HookState),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Endpoint,
    AuthType,
    Username,
    Password,
    Token,
    HookType,
    Active,
    Shop,
}

#[derive(Clone, Copy, Debug)]
struct FieldDef {
    name: &'static str,
    role: Role,
    required: bool,
}

const FLIGHTRATES_FIELDS: &[FieldDef] = &[
    FieldDef { name: "endPoint", role: Role::Endpoint, required: true },
    FieldDef { name: "authType", role: Role::AuthType, required: false },
    FieldDef { name: "userId", role: Role::Username, required: false },
    FieldDef { name: "pwdTxt", role: Role::Password, required: false },
    FieldDef { name: "token", role: Role::Token, required: false },
    FieldDef { name: "hookType", role: Role::HookType, required: true },
    FieldDef { name: "isActiveStatus", role: Role::Active, required: true },
    FieldDef { name: "_shop", role: Role::Shop, required: true },
];

const EVENTSSHOP_FIELDS: &[FieldDef] = &[
    FieldDef { name: "authType", role: Role::AuthType, required: true },
    FieldDef { name: "endpoint", role: Role::Endpoint, required: true },
    FieldDef { name: "userName", role: Role::Username, required: false },
    FieldDef { name: "password", role: Role::Password, required: false },
    FieldDef { name: "token", role: Role::Token, required: false },
];

/// The JSON field names a vertical's hook routes accept.
pub fn field_names(vertical: Vertical) -> Vec<&'static str> {
    fields_of(vertical).iter().map(|f| f.name).collect()
}

fn fields_of(vertical: Vertical) -> &'static [FieldDef] {
    match vertical {
        Vertical::Flightrates => FLIGHTRATES_FIELDS,
        Vertical::Eventsshop => EVENTSSHOP_FIELDS,
    }
}

fn name_of(vertical: Vertical, role: Role) -> &'static str {
    fields_of(vertical).iter().find(|f| f.role == role).map_or("", |f| f.name)
}

/// A field as sent: left out, `null`, or a value.
enum Sent<T> {
    Absent,
    Null,
    Value(T),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Absent,
    Null,
    Given,
}

fn presence<T>(sent: &Sent<T>) -> Presence {
    match sent {
        Sent::Absent => Presence::Absent,
        Sent::Null => Presence::Null,
        Sent::Value(_) => Presence::Given,
    }
}

/// `POST /api/v1/hook`, `PUT|PATCH /api/v1/hook/{id}`.
pub fn parse_flightrates(body: &Value, mode: Mode<'_>, catalogue: &Catalogue) -> Result<HookSpec, Vec<FieldError>> {
    parse(Vertical::Flightrates, body, mode, catalogue)
}

/// `POST /endpoint/`.
pub fn parse_eventsshop(body: &Value, catalogue: &Catalogue) -> Result<HookSpec, Vec<FieldError>> {
    parse(Vertical::Eventsshop, body, Mode::Create, catalogue)
}

pub fn parse(
    vertical: Vertical,
    body: &Value,
    mode: Mode<'_>,
    catalogue: &Catalogue,
) -> Result<HookSpec, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("body", format!("must be a JSON object, not {}", json_kind(body)))]);
    };
    let mut errors = Vec::new();
    let defs = fields_of(vertical);

    // Field by field: type and format.
    let mut endpoint = Sent::Absent;
    let mut auth_type = Sent::Absent;
    let mut username = Sent::Absent;
    let mut password = Sent::Absent;
    let mut token = Sent::Absent;
    let mut hook_type = Sent::Absent;
    let mut is_active = Sent::Absent;
    let mut shop = Sent::Absent;
    for def in defs {
        let name = def.name;
        let Some(value) = object.get(name) else {
            continue;
        };
        if value.is_null() {
            match def.role {
                Role::Endpoint => endpoint = Sent::Null,
                Role::AuthType => auth_type = Sent::Null,
                Role::Username => username = Sent::Null,
                Role::Password => password = Sent::Null,
                Role::Token => token = Sent::Null,
                Role::HookType => hook_type = Sent::Null,
                Role::Active => is_active = Sent::Null,
                Role::Shop => shop = Sent::Null,
            }
            continue;
        }
        let mut fail = |message: String| errors.push(FieldError::new(name, message));
        match def.role {
            Role::Active => match value {
                Value::Bool(b) => is_active = Sent::Value(*b),
                Value::String(_) => fail("must be a JSON boolean (true or false without quotes), not a string".into()),
                other => fail(format!("must be true or false, not {}", json_kind(other))),
            },
            role => {
                let Some(text) = value.as_str() else {
                    fail(format!("must be a string, not {}", json_kind(value)));
                    continue;
                };
                match role {
                    Role::Endpoint => match validate_endpoint(text) {
                        Ok(url) => endpoint = Sent::Value(url),
                        Err(message) => fail(message),
                    },
                    Role::AuthType => match AuthType::parse(text) {
                        Some(t) if allowed_auth_types(vertical).contains(&t) => auth_type = Sent::Value(t),
                        _ => fail(format!("must be one of {}", auth_type_choices(vertical))),
                    },
                    Role::Username => match check_username(text) {
                        Ok(v) => username = Sent::Value(v),
                        Err(m) => fail(m),
                    },
                    Role::Password => match check_secret(text, PASSWORD_MAX, false) {
                        Ok(v) => password = Sent::Value(v),
                        Err(m) => fail(m),
                    },
                    Role::Token => match check_secret(text, TOKEN_MAX, true) {
                        Ok(v) => token = Sent::Value(v),
                        Err(m) => fail(m),
                    },
                    Role::HookType => {
                        let text = text.trim();
                        if catalogue.contains(vertical, text) {
                            hook_type = Sent::Value(text.to_owned());
                        } else {
                            fail(format!("must be one of: {}", catalogue.hook_types(vertical).join(", ")));
                        }
                    }
                    Role::Shop => match check_shop(text) {
                        Ok(v) => shop = Sent::Value(v),
                        Err(m) => fail(m),
                    },
                    Role::Active => {}
                }
            }
        }
    }

    // Unknown fields, each with the nearest known name.
    for key in object.keys() {
        if !defs.iter().any(|d| d.name == key) {
            errors.push(FieldError::new(key.clone(), unknown_field_message(key, defs)));
        }
    }

    // Mandatory fields (create and replace).
    let base = match mode {
        Mode::Create => None,
        Mode::Replace(state) | Mode::Patch(state) => Some(state),
    };
    let patch = matches!(mode, Mode::Patch(_));
    for def in defs.iter().filter(|d| d.required) {
        let sent = match def.role {
            Role::Endpoint => presence(&endpoint),
            Role::AuthType => presence(&auth_type),
            Role::HookType => presence(&hook_type),
            Role::Active => presence(&is_active),
            Role::Shop => presence(&shop),
            Role::Username | Role::Password | Role::Token => Presence::Given,
        };
        if errors.iter().any(|e| e.field == def.name) {
            continue;
        }
        match sent {
            Presence::Null => errors.push(FieldError::new(def.name, "is required and cannot be null")),
            Presence::Absent if !patch => errors.push(FieldError::new(def.name, "is required")),
            _ => {}
        }
    }

    // Merge with the stored state.
    let merged_endpoint = pick(endpoint, base.map(|b| b.endpoint.clone()), patch).unwrap_or_default();
    let merged_auth = pick(auth_type, base.map(|b| b.auth_type), patch).unwrap_or_default();
    let merged_username = pick(username, base.and_then(|b| b.username.clone()), patch);
    let merged_hook_type = match vertical {
        Vertical::Flightrates => pick(hook_type, base.and_then(|b| b.hook_type.clone()), patch),
        Vertical::Eventsshop => None,
    };
    let merged_shop = pick(shop, base.and_then(|b| b.shop.clone()), patch);
    let merged_active = pick(is_active, base.map(|b| b.is_active), patch).unwrap_or(true);
    let stored = base.map(|b| b.secrets).unwrap_or_default();
    let password_name = name_of(vertical, Role::Password);
    let token_name = name_of(vertical, Role::Token);
    let password = secret_change(password, stored.password, mode, password_name, &mut errors);
    let generate_token = vertical == Vertical::Eventsshop && merged_auth == AuthType::Basic;
    // EventsShop Basic Auth: a sent token is replaced by a generated one.
    let token = if generate_token {
        SecretChange::Clear
    } else {
        secret_change(token, stored.token, mode, token_name, &mut errors)
    };

    // Credentials the auth type needs.
    let has = |change: &SecretChange, stored: bool| match change {
        SecretChange::Keep => stored,
        SecretChange::Set(_) => true,
        SecretChange::Clear => false,
    };
    let auth_name = name_of(vertical, Role::AuthType);
    let auth_ok = !errors.iter().any(|e| e.field == auth_name);
    if auth_ok {
        let mut need = |field: &'static str, present: bool| {
            if !present && !errors.iter().any(|e| e.field == field) {
                let spelled = match vertical {
                    Vertical::Flightrates => merged_auth.as_str(),
                    Vertical::Eventsshop => merged_auth.as_eventsshop(),
                };
                errors.push(FieldError::new(field, format!("is required when authType is {spelled}")));
            }
        };
        let username_name = name_of(vertical, Role::Username);
        match merged_auth {
            AuthType::None => {}
            AuthType::Basic => {
                need(username_name, merged_username.is_some());
                need(password_name, has(&password, stored.password));
            }
            AuthType::OAuth2 => need(token_name, has(&token, stored.token)),
            AuthType::Jwt => {
                need(username_name, merged_username.is_some());
                need(token_name, has(&token, stored.token));
            }
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(HookSpec {
        vertical,
        endpoint: merged_endpoint,
        auth_type: merged_auth,
        username: merged_username,
        password,
        token,
        generate_token,
        hook_type: merged_hook_type,
        shop: merged_shop,
        is_active: merged_active,
    })
}

/// The value after applying what was sent to the stored value. PATCH keeps
/// absent fields; PUT and POST drop them.
fn pick<T>(sent: Sent<T>, stored: Option<T>, patch: bool) -> Option<T> {
    match sent {
        Sent::Value(v) => Some(v),
        Sent::Null => None,
        Sent::Absent if patch => stored,
        Sent::Absent => None,
    }
}

fn secret_change(
    sent: Sent<String>,
    stored: bool,
    mode: Mode<'_>,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> SecretChange {
    match sent {
        Sent::Value(v) if v == MASK => {
            if !stored {
                errors.push(FieldError::new(
                    field,
                    format!("is the mask `{MASK}`, but this hook has no stored value to keep: send the real value"),
                ));
            }
            SecretChange::Keep
        }
        Sent::Value(v) => SecretChange::Set(v),
        Sent::Null => SecretChange::Clear,
        Sent::Absent => match mode {
            Mode::Patch(_) => SecretChange::Keep,
            Mode::Create | Mode::Replace(_) => SecretChange::Clear,
        },
    }
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

fn unknown_field_message(key: &str, defs: &[FieldDef]) -> String {
    let names: Vec<&str> = defs.iter().map(|d| d.name).collect();
    match super::nearest_name(key, &names) {
        Some(name) => format!("is not a known field: did you mean `{name}`?"),
        None => format!("is not a known field (known fields: {})", names.join(", ")),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The state a spec leaves behind (for tests and PATCH chains).
impl HookSpec {
    pub fn state_after(&self, before: StoredSecrets) -> HookState {
        let keep = |c: &SecretChange, was: bool| match c {
            SecretChange::Keep => was,
            SecretChange::Set(_) => true,
            SecretChange::Clear => false,
        };
        HookState {
            endpoint: self.endpoint.clone(),
            auth_type: self.auth_type,
            username: self.username.clone(),
            secrets: StoredSecrets {
                password: keep(&self.password, before.password),
                token: self.generate_token || keep(&self.token, before.token),
            },
            hook_type: self.hook_type.clone(),
            shop: self.shop.clone(),
            is_active: self.is_active,
        }
    }
}

#[cfg(test)]
mod tests;
