//! Reusable pieces of the dashboard.

mod layout;

pub use layout::Layout;
