//! Reusable pieces of the dashboard.

mod attempts_table;
mod chart;
mod copy_button;
pub mod format;
mod layout;
mod status_badge;
mod toast;

pub use attempts_table::AttemptsTable;
pub use chart::DeliveryChart;
pub use copy_button::CopyButton;
pub use layout::Layout;
pub use status_badge::StatusBadge;
pub use toast::{ToastList, Toasts, provide_toasts, use_toasts};
