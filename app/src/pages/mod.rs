//! One module per dashboard page.

mod api_keys;
mod blocked_head;
mod event_detail;
mod events;
mod hook_detail;
mod hook_editor;
mod hooks_list;
mod login;
mod not_found;
mod overview;
mod problem;
mod recover_failed;
mod settings;

pub use api_keys::ApiKeys;
pub use event_detail::EventDetailPage;
pub use events::EventsList;
pub use hook_detail::HookDetailPage;
pub use hook_editor::HookEditorPage;
pub use hooks_list::HooksList;
pub use login::Login;
pub use not_found::NotFound;
pub use overview::Overview;
pub use problem::problem_view;
pub use settings::Settings;
