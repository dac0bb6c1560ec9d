//! Step 3: what was sent, applied to the stored hook. PATCH keeps absent
//! fields; PUT and POST drop them; `null` clears; the mask keeps a stored
//! secret.

use super::read::{FieldValue, SentFields};
use super::{HookSpec, MASK, Mode, Role, SecretChange, name_of};
use crate::domain::delivery_options::{self, DeliverySpec, SecretHeadersChange, StoredDelivery};
use crate::domain::{AuthType, FieldError, Vertical};
use std::collections::BTreeMap;

pub(super) fn onto_stored(
    vertical: Vertical,
    sent: SentFields,
    mode: Mode<'_>,
    errors: &mut Vec<FieldError>,
) -> HookSpec {
    let base = match mode {
        Mode::Create => None,
        Mode::Replace(state) | Mode::Patch(state) => Some(state),
    };
    let patch = matches!(mode, Mode::Patch(_));
    let auth_type = pick(sent.auth_type, base.map(|b| b.auth_type), patch).unwrap_or_default();
    let stored = base.map(|b| b.secrets).unwrap_or_default();
    let password = secret_change(sent.password, stored.password, mode, name_of(vertical, Role::Password), errors);
    let generate_token = vertical == Vertical::Eventsshop && auth_type == AuthType::Basic;
    // EventsShop Basic Auth: a sent token is replaced by a generated one.
    let token = if generate_token {
        SecretChange::Clear
    } else {
        secret_change(sent.token, stored.token, mode, name_of(vertical, Role::Token), errors)
    };
    HookSpec {
        vertical,
        endpoint: pick(sent.endpoint, base.map(|b| b.endpoint.clone()), patch).unwrap_or_default(),
        auth_type,
        username: pick(sent.username, base.and_then(|b| b.username.clone()), patch),
        password,
        token,
        generate_token,
        hook_type: match vertical {
            Vertical::Flightrates => pick(sent.hook_type, base.and_then(|b| b.hook_type.clone()), patch),
            Vertical::Eventsshop => None,
        },
        shop: pick(sent.shop, base.and_then(|b| b.shop.clone()), patch),
        is_active: pick(sent.is_active, base.map(|b| b.is_active), patch).unwrap_or(true),
        delivery: delivery_options(
            SentDelivery {
                headers: sent.headers,
                secret_headers: sent.secret_headers,
                timeout: sent.timeout_seconds,
                rate_limit: sent.rate_limit,
                max_in_flight: sent.max_in_flight,
                ordered: sent.ordered,
            },
            base.map(|b| &b.delivery),
            patch,
            errors,
        ),
    }
}

/// The delivery options as the request sent them.
struct SentDelivery {
    headers: FieldValue<BTreeMap<String, String>>,
    secret_headers: FieldValue<BTreeMap<String, String>>,
    timeout: FieldValue<u32>,
    rate_limit: FieldValue<u32>,
    max_in_flight: FieldValue<u32>,
    ordered: FieldValue<bool>,
}

/// Headers, secret headers and timeout applied to the stored ones; the
/// mask keeps a stored secret header; no name in both maps.
fn delivery_options(
    sent: SentDelivery,
    stored: Option<&StoredDelivery>,
    patch: bool,
    errors: &mut Vec<FieldError>,
) -> DeliverySpec {
    let empty = StoredDelivery::default();
    let stored = stored.unwrap_or(&empty);
    let secret_headers = match sent.secret_headers {
        FieldValue::Given(sent) => match delivery_options::secret_change(sent, &stored.secret_header_names) {
            Ok(change) => SecretHeadersChange::Replace(change),
            Err(problem) => {
                errors.push(FieldError::new("secretHeaders", problem));
                SecretHeadersChange::Keep
            }
        },
        FieldValue::Absent if patch => SecretHeadersChange::Keep,
        FieldValue::Absent | FieldValue::Null => SecretHeadersChange::Replace(BTreeMap::new()),
    };
    let spec = DeliverySpec {
        headers: pick(sent.headers, Some(stored.headers.clone()), patch).unwrap_or_default(),
        secret_headers,
        timeout_seconds: pick(sent.timeout, stored.timeout_seconds, patch),
        rate_limit: pick(sent.rate_limit, stored.rate_limit, patch),
        max_in_flight: pick(sent.max_in_flight, stored.max_in_flight, patch),
        ordered: pick(sent.ordered, Some(stored.ordered), patch).unwrap_or(false),
    };
    let names = spec.secret_names_after(stored);
    if let Err(problem) = delivery_options::check_together(&spec.headers, &names) {
        errors.push(FieldError::new("secretHeaders", problem));
    }
    spec
}

/// The value after applying what was sent to the stored value.
fn pick<T>(sent: FieldValue<T>, stored: Option<T>, patch: bool) -> Option<T> {
    match sent {
        FieldValue::Given(v) => Some(v),
        FieldValue::Null => None,
        FieldValue::Absent if patch => stored,
        FieldValue::Absent => None,
    }
}

fn secret_change(
    sent: FieldValue<String>,
    stored: bool,
    mode: Mode<'_>,
    field: &'static str,
    errors: &mut Vec<FieldError>,
) -> SecretChange {
    match sent {
        FieldValue::Given(v) if v == MASK => {
            if !stored {
                errors.push(FieldError::new(
                    field,
                    format!("is the mask `{MASK}`, but this hook has no stored value to keep: send the real value"),
                ));
            }
            SecretChange::Keep
        }
        FieldValue::Given(v) => SecretChange::Set(v),
        FieldValue::Null => SecretChange::Clear,
        FieldValue::Absent => match mode {
            Mode::Patch(_) => SecretChange::Keep,
            Mode::Create | Mode::Replace(_) => SecretChange::Clear,
        },
    }
}
