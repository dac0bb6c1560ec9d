//! Parsing hook requests into validated `HookSpec`s ("parse, don't
//! validate"). One function per route family returns either a spec or
//! **every** field error at once. Used by the REST API, the server
//! functions and, compiled to WASM, the dashboard form.
//!
//! `parse` runs four steps, each in its own module: `read` (each field's
//! type and format, unknown fields), `require` (mandatory fields), `merge`
//! (what was sent applied to the stored hook) and `credentials` (what the
//! auth type needs).

mod credentials;
mod merge;
mod read;
mod require;

use super::delivery_options::{DeliverySpec, StoredDelivery};
use super::{AuthType, Catalogue, FieldError, Vertical};
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
    /// Headers, secret header names, timeout.
    pub delivery: StoredDelivery,
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
    /// Headers, secret headers, timeout (`delivery_options.rs`).
    pub delivery: DeliverySpec,
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
    Headers,
    SecretHeaders,
    Timeout,
    RateLimit,
    MaxInFlight,
    Ordered,
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
    FieldDef { name: "headers", role: Role::Headers, required: false },
    FieldDef { name: "secretHeaders", role: Role::SecretHeaders, required: false },
    FieldDef { name: "timeoutSeconds", role: Role::Timeout, required: false },
    FieldDef { name: "rateLimit", role: Role::RateLimit, required: false },
    FieldDef { name: "maxInFlight", role: Role::MaxInFlight, required: false },
    FieldDef { name: "ordered", role: Role::Ordered, required: false },
];

const EVENTSSHOP_FIELDS: &[FieldDef] = &[
    FieldDef { name: "authType", role: Role::AuthType, required: true },
    FieldDef { name: "endpoint", role: Role::Endpoint, required: true },
    FieldDef { name: "userName", role: Role::Username, required: false },
    FieldDef { name: "password", role: Role::Password, required: false },
    FieldDef { name: "token", role: Role::Token, required: false },
    FieldDef { name: "headers", role: Role::Headers, required: false },
    FieldDef { name: "secretHeaders", role: Role::SecretHeaders, required: false },
    FieldDef { name: "timeoutSeconds", role: Role::Timeout, required: false },
    FieldDef { name: "rateLimit", role: Role::RateLimit, required: false },
    FieldDef { name: "maxInFlight", role: Role::MaxInFlight, required: false },
    FieldDef { name: "ordered", role: Role::Ordered, required: false },
];

fn fields_of(vertical: Vertical) -> &'static [FieldDef] {
    match vertical {
        Vertical::Flightrates => FLIGHTRATES_FIELDS,
        Vertical::Eventsshop => EVENTSSHOP_FIELDS,
    }
}

/// The JSON name of the field playing `role` in this vertical ("" if none).
fn name_of(vertical: Vertical, role: Role) -> &'static str {
    fields_of(vertical).iter().find(|f| f.role == role).map_or("", |f| f.name)
}

/// `POST /api/v1/hook`, `PUT|PATCH /api/v1/hook/{id}`.
pub fn parse_flightrates(body: &Value, mode: Mode<'_>, catalogue: &Catalogue) -> Result<HookSpec, Vec<FieldError>> {
    parse(Vertical::Flightrates, body, mode, catalogue)
}

/// `POST /endpoint/`.
pub fn parse_eventsshop(body: &Value, catalogue: &Catalogue) -> Result<HookSpec, Vec<FieldError>> {
    parse(Vertical::Eventsshop, body, Mode::Create, catalogue)
}

/// The hook `body` describes for `vertical`, against the stored hook that
/// `mode` names, or every field error at once.
pub fn parse(
    vertical: Vertical,
    body: &Value,
    mode: Mode<'_>,
    catalogue: &Catalogue,
) -> Result<HookSpec, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("body", format!("must be a JSON object, not {}", read::json_kind(body)))]);
    };
    let mut errors = Vec::new();
    let sent = read::fields(vertical, object, catalogue, &mut errors);
    read::unknown_fields(vertical, object, &mut errors);
    require::mandatory_fields(vertical, &sent, mode, &mut errors);
    let spec = merge::onto_stored(vertical, sent, mode, &mut errors);
    credentials::required_by_auth_type(vertical, &spec, mode, &mut errors);
    if errors.is_empty() { Ok(spec) } else { Err(errors) }
}

/// The state a spec leaves behind (for tests and PATCH chains).
impl HookSpec {
    pub fn state_after(&self, before: StoredSecrets, before_delivery: &StoredDelivery) -> HookState {
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
            delivery: self.delivery.stored_after(before_delivery),
        }
    }
}

#[cfg(test)]
mod tests;
