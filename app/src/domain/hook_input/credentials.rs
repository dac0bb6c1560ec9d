//! Step 4: the credentials the (merged) auth type needs: Basic a user name
//! and a password, OAuth 2.0 a token, JWT a subject and a signing secret.

use super::{HookSpec, Mode, Role, SecretChange, name_of};
use crate::domain::{AuthType, FieldError, Vertical};

pub(super) fn required_by_auth_type(vertical: Vertical, spec: &HookSpec, mode: Mode<'_>, errors: &mut Vec<FieldError>) {
    // With the auth type itself refused, what it would need is moot.
    if errors.iter().any(|e| e.field == name_of(vertical, Role::AuthType)) {
        return;
    }
    let stored = match mode {
        Mode::Create => Default::default(),
        Mode::Replace(state) | Mode::Patch(state) => state.secrets,
    };
    let has = |change: &SecretChange, stored: bool| match change {
        SecretChange::Keep => stored,
        SecretChange::Set(_) => true,
        SecretChange::Clear => false,
    };
    let mut need = |field: &'static str, present: bool| {
        if !present && !errors.iter().any(|e| e.field == field) {
            let spelled = match vertical {
                Vertical::Flightrates => spec.auth_type.as_str(),
                Vertical::Eventsshop => spec.auth_type.as_eventsshop(),
            };
            errors.push(FieldError::new(field, format!("is required when authType is {spelled}")));
        }
    };
    let (username, password, token) =
        (name_of(vertical, Role::Username), name_of(vertical, Role::Password), name_of(vertical, Role::Token));
    match spec.auth_type {
        AuthType::None => {}
        AuthType::Basic => {
            need(username, spec.username.is_some());
            need(password, has(&spec.password, stored.password));
        }
        AuthType::OAuth2 => need(token, has(&spec.token, stored.token)),
        AuthType::Jwt => {
            need(username, spec.username.is_some());
            need(token, has(&spec.token, stored.token));
        }
    }
}
