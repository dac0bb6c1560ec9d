//! Step 2: mandatory fields. Creating and replacing need every one; a PATCH
//! may leave any out, but never sets one to `null`.

use super::read::SentFields;
use super::{Mode, Role, fields_of};
use crate::domain::{FieldError, Vertical};

pub(super) fn mandatory_fields(vertical: Vertical, sent: &SentFields, mode: Mode<'_>, errors: &mut Vec<FieldError>) {
    let patch = matches!(mode, Mode::Patch(_));
    for def in fields_of(vertical).iter().filter(|d| d.required) {
        // A field that already failed its own check has its error.
        if errors.iter().any(|e| e.field == def.name) {
            continue;
        }
        let (absent, null) = match def.role {
            Role::Endpoint => (sent.endpoint.is_absent(), sent.endpoint.is_null()),
            Role::AuthType => (sent.auth_type.is_absent(), sent.auth_type.is_null()),
            Role::HookType => (sent.hook_type.is_absent(), sent.hook_type.is_null()),
            Role::Active => (sent.is_active.is_absent(), sent.is_active.is_null()),
            Role::Shop => (sent.shop.is_absent(), sent.shop.is_null()),
            // Credentials are never mandatory by themselves (`credentials.rs`).
            Role::Username | Role::Password | Role::Token => (false, false),
            // Delivery options are optional everywhere.
            Role::Headers
            | Role::SecretHeaders
            | Role::Timeout
            | Role::RateLimit
            | Role::MaxInFlight
            | Role::Ordered => (false, false),
        };
        if null {
            errors.push(FieldError::new(def.name, "is required and cannot be null"));
        } else if absent && !patch {
            errors.push(FieldError::new(def.name, "is required"));
        }
    }
}
