//! A hook as the dispatcher sends to it, typed as it leaves storage: the
//! endpoint, the auth its endpoint expects and the signing secrets, each
//! secret still sealed and bound to its hook and field. The server never
//! sees an auth-type string or a sealed column.

use super::StorageError;
use super::hook_options::SECRET_HEADERS_FIELD;
use super::hooks::context;
use super::row::row;
use crate::domain::{AuthType, ResourceId};
use crate::security::{SecretBox, SecurityError};
use std::fmt;
use std::time::Duration;

/// A secret as stored: sealed with the at-rest key for one hook's field.
#[derive(Clone)]
pub struct SealedSecret {
    sealed: Vec<u8>,
    context: String,
}

impl SealedSecret {
    fn of(hook: &ResourceId, field: &str, sealed: Option<Vec<u8>>) -> Option<Self> {
        sealed.map(|sealed| Self { sealed, context: context(hook, field) })
    }

    pub fn open(&self, key: &SecretBox) -> Result<String, SecurityError> {
        key.open(&self.sealed, &self.context)
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

/// How a delivery authenticates to the endpoint.
#[derive(Debug, Clone)]
pub enum TargetAuth {
    None,
    /// `Authorization: Basic user:password`.
    Basic {
        username: String,
        password: Option<SealedSecret>,
    },
    /// `Authorization: Bearer <token>`; nothing without a token.
    OAuth2 {
        token: Option<SealedSecret>,
    },
    /// `Authorization: Bearer <HS256 JWT>` signed with the secret, `sub` = the user.
    Jwt {
        subject: String,
        secret: Option<SealedSecret>,
    },
}

/// Where and how a hook's deliveries are sent.
#[derive(Debug, Clone)]
pub struct HookTarget {
    pub hook_id: ResourceId,
    pub endpoint: String,
    pub auth: TargetAuth,
    /// EventsShop Basic Auth: the token Hookrelay generated, sent as `x-hook-token`.
    pub hook_token: Option<SealedSecret>,
    pub signing_secret: Option<SealedSecret>,
    /// The secret before the last rotation, and until when (ms) it also signs.
    pub previous_signing_secret: Option<(SealedSecret, i64)>,
    /// Sent with every delivery, in this order, after Hookrelay's own headers.
    pub headers: Vec<(String, String)>,
    /// More headers, sealed as one JSON object of name → value.
    pub secret_headers: Option<SealedSecret>,
    /// The hook's own attempt timeout (`None`: the server's).
    pub timeout: Option<Duration>,
    /// Deliveries per second the hook takes (`None`: no limit of its own).
    pub rate_limit: Option<u32>,
    /// Attempts at once the hook takes (`None`: no limit of its own); 1
    /// for an ordered hook.
    pub max_in_flight: Option<u32>,
    /// One attempt at a time, in publish order (the claim takes only the
    /// hook's earliest pending delivery: `deliveries::claim`).
    pub ordered: bool,
    /// The hook row's revision when this was read (`hooks::revisions`).
    pub revision: i64,
    /// Scheme, host and port of `endpoint` (worked out once, when loaded).
    destination: String,
}

impl HookTarget {
    /// The destination concurrency is capped by: scheme, host and port.
    pub fn destination(&self) -> &str {
        &self.destination
    }
}

row! {
    /// The stored columns `directory` reads.
    pub(super) struct TargetRow {
        hook_id: String,
        endpoint: String,
        auth_type: String,
        username: Option<String>,
        password_enc: Option<Vec<u8>>,
        token_enc: Option<Vec<u8>>,
        token_generated: bool,
        signing_secret_enc: Option<Vec<u8>>,
        previous_signing_secret_enc: Option<Vec<u8>>,
        previous_signing_expires_at: Option<i64>,
        pub(super) is_active: bool,
        revision: i64,
        headers: Option<String>,
        secret_headers_enc: Option<Vec<u8>>,
        timeout_seconds: Option<i64>,
        rate_limit: Option<i64>,
        max_in_flight: Option<i64>,
        ordered: bool,
    }
}

impl TryFrom<TargetRow> for HookTarget {
    type Error = StorageError;

    fn try_from(row: TargetRow) -> Result<Self, StorageError> {
        let hook_id = ResourceId::parse(&row.hook_id).map_err(|_| StorageError::Corrupt("hook id"))?;
        let auth_type = AuthType::parse(&row.auth_type).ok_or(StorageError::Corrupt("hook auth type"))?;
        let sealed = |field, value| SealedSecret::of(&hook_id, field, value);
        let username = row.username.unwrap_or_default();
        let token = sealed("token", row.token_enc);
        let hook_token = if row.token_generated { token.clone() } else { None };
        let auth = match auth_type {
            AuthType::None => TargetAuth::None,
            AuthType::Basic => TargetAuth::Basic { username, password: sealed("password", row.password_enc) },
            AuthType::OAuth2 => TargetAuth::OAuth2 { token },
            AuthType::Jwt => TargetAuth::Jwt { subject: username, secret: token },
        };
        let previous_signing_secret =
            sealed("signing", row.previous_signing_secret_enc).zip(row.previous_signing_expires_at);
        let headers: std::collections::BTreeMap<String, String> = match &row.headers {
            Some(json) => serde_json::from_str(json).map_err(|_| StorageError::Corrupt("hook headers"))?,
            None => Default::default(),
        };
        let timeout = row
            .timeout_seconds
            .map(|s| u64::try_from(s).map(Duration::from_secs))
            .transpose()
            .map_err(|_| StorageError::Corrupt("hook timeout"))?;
        let count = |n: Option<i64>| n.map(u32::try_from).transpose().map_err(|_| StorageError::Corrupt("hook pace"));
        Ok(Self {
            headers: headers.into_iter().collect(),
            secret_headers: sealed(SECRET_HEADERS_FIELD, row.secret_headers_enc),
            timeout,
            rate_limit: count(row.rate_limit)?,
            max_in_flight: if row.ordered { Some(1) } else { count(row.max_in_flight)? },
            ordered: row.ordered,
            revision: row.revision,
            destination: destination_of(&row.endpoint),
            signing_secret: sealed("signing", row.signing_secret_enc),
            previous_signing_secret,
            hook_token,
            auth,
            endpoint: row.endpoint,
            hook_id,
        })
    }
}

fn destination_of(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(url) => format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        ),
        Err(_) => endpoint.to_owned(),
    }
}
