//! The JSON shapes of hooks, in each vendor's spelling. Secrets never
//! appear: a set one reads `"*******"`, an unset one `null`.

use app::domain::{Catalogue, MASK};
use app::storage::accounts::Account;
use app::storage::hooks::Hook;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

fn masked(is_set: bool) -> Option<String> {
    is_set.then(|| MASK.to_owned())
}

/// A hook's delivery options as both verticals show them.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOptionsView {
    /// Headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    /// Secret headers sent with every delivery, each value read as `"*******"`.
    #[serde(rename = "secretHeaders")]
    pub secret_headers: BTreeMap<String, String>,
    /// The hook's own attempt timeout in seconds; null: the server's `--delivery-timeout`.
    #[serde(rename = "timeoutSeconds")]
    pub timeout_seconds: Option<u32>,
    /// Deliveries per second this hook takes; null: no limit.
    #[serde(rename = "rateLimit")]
    pub rate_limit: Option<u32>,
    /// Attempts at once this hook takes; null: no limit of its own.
    #[serde(rename = "maxInFlight")]
    pub max_in_flight: Option<u32>,
    /// One attempt at a time, in publish order: a failing delivery holds back the later ones.
    pub ordered: bool,
}

impl DeliveryOptionsView {
    fn new(hook: &Hook) -> Self {
        let options = &hook.delivery;
        Self {
            headers: options.headers.clone(),
            secret_headers: options.secret_header_names.iter().map(|name| (name.clone(), MASK.to_owned())).collect(),
            timeout_seconds: options.timeout_seconds,
            rate_limit: options.rate_limit,
            max_in_flight: options.max_in_flight,
            ordered: options.ordered,
        }
    }
}

/// Unix milliseconds → RFC 3339 (UTC, millisecond precision).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// A FlightRates hook (`/api/v1/hook…`), field order as the vendor's page.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlightratesHook {
    /// Owning account id.
    #[serde(rename = "_user")]
    pub user: String,
    /// Owning account's email.
    #[serde(rename = "userName")]
    pub user_name: String,
    #[serde(rename = "endPoint")]
    pub end_point: String,
    /// `none`, `basic`, `oauth2` or `jwt`.
    #[serde(rename = "authType")]
    pub auth_type: String,
    #[serde(rename = "userId")]
    pub user_id: Option<String>,
    /// `"*******"` when set, else null.
    #[serde(rename = "pwdTxt")]
    pub pwd_txt: Option<String>,
    /// `"*******"` when set, else null.
    pub token: Option<String>,
    #[serde(rename = "hookType")]
    pub hook_type: Option<String>,
    #[serde(rename = "isActiveStatus")]
    pub is_active_status: bool,
    #[serde(rename = "_shop")]
    pub shop: Option<String>,
    pub vertical: String,
    #[serde(rename = "isCustomerCreated")]
    pub is_customer_created: bool,
    /// 24 lowercase hex characters.
    pub id: String,
    #[serde(flatten)]
    pub delivery: DeliveryOptionsView,
    /// Why Hookrelay disabled the hook (e.g. the endpoint answered 410), if it did.
    #[serde(rename = "disabledReason")]
    pub disabled_reason: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

impl FlightratesHook {
    pub fn new(account: &Account, hook: &Hook) -> Self {
        Self {
            user: hook.account_id.to_string(),
            user_name: account.email.clone(),
            end_point: hook.endpoint.clone(),
            auth_type: hook.auth_type.as_str().to_owned(),
            user_id: hook.username.clone(),
            pwd_txt: masked(hook.secrets.password),
            token: masked(hook.secrets.token),
            hook_type: hook.hook_type.clone(),
            is_active_status: hook.is_active,
            shop: hook.shop.clone(),
            vertical: hook.vertical.as_str().to_owned(),
            is_customer_created: hook.is_customer_created,
            id: hook.id.to_string(),
            delivery: DeliveryOptionsView::new(hook),
            disabled_reason: hook.disabled_reason.clone(),
            created_at: rfc3339(hook.created_at),
            updated_at: rfc3339(hook.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HookEnvelope {
    /// Always false on success.
    pub error: bool,
    pub hook: FlightratesHook,
}

impl HookEnvelope {
    pub fn new(account: &Account, hook: &Hook) -> Self {
        Self { error: false, hook: FlightratesHook::new(account, hook) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookListBody {
    pub error: bool,
    pub hooks: Vec<FlightratesHook>,
    pub total_data: u64,
    pub total_pages: u64,
    pub page: u32,
    pub size: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedBody {
    pub error: bool,
    pub message: String,
    pub id: String,
}

/// An EventsShop endpoint (`/endpoint/…`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsshopEndpoint {
    pub id: String,
    #[serde(rename = "_user")]
    pub user: String,
    pub endpoint: String,
    /// `Basic Auth` or `OAuth 2.0`.
    #[serde(rename = "authType")]
    pub auth_type: String,
    #[serde(rename = "userName")]
    pub user_name: Option<String>,
    /// `"*******"` when set, else null.
    pub password: Option<String>,
    /// `"*******"` when set, else null.
    pub token: Option<String>,
    /// The feeds this endpoint receives.
    #[serde(rename = "hookTypes")]
    pub hook_types: Vec<String>,
    #[serde(rename = "isActiveStatus")]
    pub is_active_status: bool,
    pub vertical: String,
    #[serde(rename = "isCustomerCreated")]
    pub is_customer_created: bool,
    #[serde(flatten)]
    pub delivery: DeliveryOptionsView,
    #[serde(rename = "disabledReason")]
    pub disabled_reason: Option<String>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

impl EventsshopEndpoint {
    pub fn new(hook: &Hook, catalogue: &Catalogue) -> Self {
        Self {
            id: hook.id.to_string(),
            user: hook.account_id.to_string(),
            endpoint: hook.endpoint.clone(),
            auth_type: hook.auth_type.as_eventsshop().to_owned(),
            user_name: hook.username.clone(),
            password: masked(hook.secrets.password),
            token: masked(hook.secrets.token),
            hook_types: match &hook.hook_type {
                Some(t) => vec![t.clone()],
                None => catalogue.hook_types(hook.vertical).to_vec(),
            },
            is_active_status: hook.is_active,
            vertical: hook.vertical.as_str().to_owned(),
            is_customer_created: hook.is_customer_created,
            delivery: DeliveryOptionsView::new(hook),
            disabled_reason: hook.disabled_reason.clone(),
            created_at: rfc3339(hook.created_at),
            updated_at: rfc3339(hook.updated_at),
        }
    }
}

/// The 202 answer to `POST /endpoint/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointCreated {
    pub error: bool,
    /// The new endpoint's id.
    pub id: String,
    /// Basic Auth only: the token Hookrelay generated (a UUID), sent as
    /// `x-hook-token` with every delivery. Shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub endpoint: EventsshopEndpoint,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointEnvelope {
    pub error: bool,
    pub endpoint: EventsshopEndpoint,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointListBody {
    pub error: bool,
    pub endpoints: Vec<EventsshopEndpoint>,
    pub total_data: u64,
    pub total_pages: u64,
    pub page: u32,
    pub size: u32,
}

/// Request body of `POST /api/v1/hook` (and `PUT`; every field optional for `PATCH`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FlightratesHookInput {
    /// Absolute http(s) URL, no user info, at most 2048 characters.
    #[schema(rename = "endPoint", max_length = 2048, example = "https://example.com/my-hook")]
    end_point: String,
    /// `none` (default), `basic`/`Basic Auth`, `oauth2`/`OAuth 2.0`, `jwt`.
    #[schema(rename = "authType", example = "jwt")]
    auth_type: Option<String>,
    /// User for Basic Auth; `sub` claim for JWT.
    #[schema(rename = "userId", max_length = 256)]
    user_id: Option<String>,
    /// Password for Basic Auth. Send `"*******"` to keep the stored one.
    #[schema(rename = "pwdTxt", max_length = 1024)]
    pwd_txt: Option<String>,
    /// Bearer token (OAuth 2.0) or HS256 secret (JWT). `"*******"` keeps the stored one.
    #[schema(max_length = 4096)]
    token: Option<String>,
    /// From the vertical's catalogue (default: `dbs`).
    #[schema(rename = "hookType", example = "dbs")]
    hook_type: String,
    /// A JSON boolean.
    #[schema(rename = "isActiveStatus")]
    is_active_status: bool,
    #[schema(rename = "_shop", max_length = 128, example = "63fdc414cccc3592d31b3ac8")]
    shop: String,
    #[serde(flatten)]
    delivery: DeliveryOptionsInput,
}

/// Request body of `POST /endpoint/`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EventsshopEndpointInput {
    /// `Basic Auth` (needs userName + password; a token is generated) or `OAuth 2.0` (needs token).
    #[schema(rename = "authType", example = "Basic Auth")]
    auth_type: String,
    /// Absolute http(s) URL.
    #[schema(max_length = 2048, example = "https://example.com/events")]
    endpoint: String,
    #[schema(rename = "userName", max_length = 256)]
    user_name: Option<String>,
    #[schema(max_length = 1024)]
    password: Option<String>,
    #[schema(max_length = 4096)]
    token: Option<String>,
    #[serde(flatten)]
    delivery: DeliveryOptionsInput,
}

/// The delivery options both verticals' hooks take (documentation only:
/// `domain::hook_input` reads them).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DeliveryOptionsInput {
    /// Headers sent with every delivery (name → value). Names Hookrelay sets (`webhook-*`,
    /// `authorization`, `content-type`, `content-length`, `host`, `x-hook-token`, `user-agent`)
    /// and hop-by-hop ones are refused. At most 20 headers with `secretHeaders`.
    #[schema(example = json!({"X-Tenant": "acme"}))]
    headers: Option<BTreeMap<String, String>>,
    /// Like `headers`, but each value is stored sealed and reads back as `"*******"`;
    /// sending `"*******"` keeps the stored value.
    #[schema(rename = "secretHeaders")]
    secret_headers: Option<BTreeMap<String, String>>,
    /// The hook's own attempt timeout, 1 to 30 seconds (null: the server's).
    #[schema(rename = "timeoutSeconds", minimum = 1, maximum = 30)]
    timeout_seconds: Option<u32>,
    /// Deliveries per second, 1 to 10000 (null: no limit); the hook's other deliveries wait.
    #[schema(rename = "rateLimit", minimum = 1, maximum = 10000)]
    rate_limit: Option<u32>,
    /// Attempts at once, 1 to 1000 (null: no limit of its own).
    #[schema(rename = "maxInFlight", minimum = 1, maximum = 1000)]
    max_in_flight: Option<u32>,
    /// Ordered delivery (default false): one attempt at a time, strictly in publish order. A
    /// delivery that keeps failing holds back the hook's later ones until it succeeds, is
    /// dead-lettered or is skipped (`POST /api/v1/deliveries/{id}/skip`); then the next goes.
    ordered: Option<bool>,
}
