//! The shared domain: types and validation rules used by the REST API, the
//! server functions and (compiled to WASM) the browser forms.

mod account;
mod ids;
mod vertical;

pub use account::{EmailError, PasswordError, validate_email, validate_password};
pub use ids::{InvalidId, ResourceId};
pub use vertical::{UnknownVertical, Vertical};
