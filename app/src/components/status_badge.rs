use leptos::prelude::*;

/// A delivery status as a coloured word (the word carries the meaning, not the colour).
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let class = match status.as_str() {
        "succeeded" => "badge badge-ok",
        "failed" => "badge badge-error",
        _ => "badge badge-pending",
    };
    view! { <span class=class>{status}</span> }
}
