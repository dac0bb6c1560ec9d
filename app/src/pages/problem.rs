//! What a page shows when its data could not be loaded.

use super::NotFound;
use crate::server_fns::{NOT_SIGNED_IN, error_text};
use leptos::prelude::*;

/// Not found (another account's id, a deleted hook), not signed in, or any other failure.
pub fn problem_view(e: &ServerFnError) -> AnyView {
    let text = error_text(e);
    if text == NOT_SIGNED_IN {
        view! { <p class="form-error" role="alert">"Your session has ended. "<a href="/login">"Log in again"</a></p> }
            .into_any()
    } else if text.ends_with(" not found") {
        view! { <NotFound/> }.into_any()
    } else {
        view! { <p class="form-error" role="alert">{text}</p> }.into_any()
    }
}
