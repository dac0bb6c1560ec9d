//! What a page shows when its data could not be loaded.

use super::NotFound;
use crate::server_fns::DashboardError;
use leptos::prelude::*;

/// Not found (another account's id, a deleted hook), not signed in, or any other failure.
pub fn problem_view(e: &DashboardError) -> AnyView {
    match e {
        DashboardError::NotSignedIn => {
            view! { <p class="form-error" role="alert">"Your session has ended. "<a href="/login">"Log in again"</a></p> }
                .into_any()
        }
        DashboardError::NotFound(_) => view! { <NotFound/> }.into_any(),
        other => view! { <p class="form-error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}
