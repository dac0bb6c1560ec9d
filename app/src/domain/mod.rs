//! The shared domain: types and validation rules used by the REST API, the
//! server functions and (compiled to WASM) the browser forms.

mod account;
mod auth_type;
mod catalogue;
pub mod delivery_options;
mod delivery_status;
mod endpoint_url;
pub mod event_input;
mod field_error;
pub mod hook_form;
pub mod hook_input;
mod ids;
pub mod operations_input;
mod suggest;
pub mod time_window;
mod vertical;

pub use account::{EmailError, PasswordError, validate_email, validate_password};
pub use auth_type::AuthType;
pub use catalogue::{Catalogue, CatalogueError};
pub use delivery_status::DeliveryStatus;
pub use endpoint_url::{ENDPOINT_MAX, EndpointError, validate_endpoint};
pub use field_error::FieldError;
pub use hook_input::{HookSpec, HookState, MASK, Mode, SecretChange, StoredSecrets};
pub use ids::{DeliveryId, EventId, InvalidId, ResourceId};
pub use suggest::{UNKNOWN_LISTED, Unknown, UnknownTally, nearest_name, unknown_names};
pub use vertical::{UnknownVertical, Vertical};
