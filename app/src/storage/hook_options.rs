//! How a hook's delivery options are stored: `headers` and the secret
//! headers' names as JSON text, the secret headers as one JSON object
//! sealed with the at-rest key (bound to the hook and the field
//! `secret_headers`), the timeout in seconds.

use super::StorageError;
use super::backend::{Tx, on_tx};
use super::hooks::context;
use super::row::row;
use crate::domain::ResourceId;
use crate::domain::delivery_options::{SecretHeadersChange, SecretValue, StoredDelivery};
use crate::security::SecretBox;
use std::collections::BTreeMap;

/// The sealed field's name in its context (`hook:<id>:secret_headers`).
pub const SECRET_HEADERS_FIELD: &str = "secret_headers";

/// The columns as written.
pub(super) struct OptionColumns {
    pub headers: Option<String>,
    /// Write the two secret columns below (false: leave them as stored).
    pub replace_secrets: bool,
    pub secret_headers_enc: Option<Vec<u8>>,
    pub secret_header_names: Option<String>,
    pub timeout_seconds: Option<i64>,
    pub rate_limit: Option<i64>,
    pub max_in_flight: Option<i64>,
    pub ordered: bool,
}

/// JSON text for a non-empty value, NULL for an empty one.
fn json_or_null<T: serde::Serialize>(value: &T, empty: bool) -> Result<Option<String>, StorageError> {
    if empty {
        return Ok(None);
    }
    serde_json::to_string(value).map(Some).map_err(|_| StorageError::Corrupt("hook delivery options"))
}

/// The columns for `spec`'s options on hook `id`. Secret values the request
/// kept with the mask are read from the stored ones (`tx`: the write's own
/// transaction, so they cannot change in between).
pub(super) async fn columns(
    tx: &mut Tx,
    secrets: &SecretBox,
    id: &ResourceId,
    spec: &crate::domain::delivery_options::DeliverySpec,
) -> Result<OptionColumns, StorageError> {
    let headers = json_or_null(&spec.headers, spec.headers.is_empty())?;
    let timeout_seconds = spec.timeout_seconds.map(i64::from);
    let (rate_limit, max_in_flight) = (spec.rate_limit.map(i64::from), spec.max_in_flight.map(i64::from));
    let SecretHeadersChange::Replace(change) = &spec.secret_headers else {
        return Ok(OptionColumns {
            headers,
            replace_secrets: false,
            secret_headers_enc: None,
            secret_header_names: None,
            timeout_seconds,
            rate_limit,
            max_in_flight,
            ordered: spec.ordered,
        });
    };
    let kept = if change.values().any(|v| *v == SecretValue::Keep) {
        stored_secret_headers(tx, secrets, id).await?
    } else {
        BTreeMap::new()
    };
    let mut values = BTreeMap::new();
    for (name, value) in change {
        let value = match value {
            SecretValue::Set(v) => v.clone(),
            SecretValue::Keep => kept
                .iter()
                .find(|(stored, _)| stored.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .ok_or(StorageError::Changed("A stored secret header"))?,
        };
        values.insert(name.clone(), value);
    }
    let names: Vec<&String> = values.keys().collect();
    let secret_header_names = json_or_null(&names, names.is_empty())?;
    let secret_headers_enc = match json_or_null(&values, values.is_empty())? {
        Some(plain) => Some(secrets.seal(&plain, &context(id, SECRET_HEADERS_FIELD))?),
        None => None,
    };
    Ok(OptionColumns {
        headers,
        replace_secrets: true,
        secret_headers_enc,
        secret_header_names,
        timeout_seconds,
        rate_limit,
        max_in_flight,
        ordered: spec.ordered,
    })
}

/// The hook's secret headers, opened.
async fn stored_secret_headers(
    tx: &mut Tx,
    secrets: &SecretBox,
    id: &ResourceId,
) -> Result<BTreeMap<String, String>, StorageError> {
    let sealed: Option<(Option<Vec<u8>>,)> = on_tx!(tx, t => sqlx::query_as(
        "SELECT secret_headers_enc FROM hooks WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(&mut **t)
    .await)?;
    match sealed.and_then(|(s,)| s) {
        None => Ok(BTreeMap::new()),
        Some(sealed) => open_secret_headers(secrets, id, &sealed),
    }
}

/// Opens a hook's sealed secret headers.
pub fn open_secret_headers(
    secrets: &SecretBox,
    id: &ResourceId,
    sealed: &[u8],
) -> Result<BTreeMap<String, String>, StorageError> {
    let plain = secrets.open(sealed, &context(id, SECRET_HEADERS_FIELD))?;
    serde_json::from_str(&plain).map_err(|_| StorageError::Corrupt("hook secret headers"))
}

row! {
    /// A hook row's option columns as read.
    pub(super) struct OptionRow {
        headers: Option<String>,
        secret_header_names: Option<String>,
        timeout_seconds: Option<i64>,
        rate_limit: Option<i64>,
        max_in_flight: Option<i64>,
        ordered: bool,
    }
}

/// The options as a stored row has them.
pub(super) fn stored(row: OptionRow) -> Result<StoredDelivery, StorageError> {
    let corrupt = || StorageError::Corrupt("hook delivery options");
    let count = |n: Option<i64>| n.map(u32::try_from).transpose().map_err(|_| corrupt());
    let OptionRow { headers, secret_header_names, timeout_seconds, rate_limit, max_in_flight, ordered } = row;
    let (headers, secret_header_names) = (headers.as_deref(), secret_header_names.as_deref());
    Ok(StoredDelivery {
        headers: headers.map(serde_json::from_str).transpose().map_err(|_| corrupt())?.unwrap_or_default(),
        secret_header_names: secret_header_names
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| corrupt())?
            .unwrap_or_default(),
        timeout_seconds: count(timeout_seconds)?,
        rate_limit: count(rate_limit)?,
        max_in_flight: count(max_in_flight)?,
        ordered,
    })
}
