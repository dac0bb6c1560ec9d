use crate::domain::DeliveryStatus;
use leptos::prelude::*;

/// A delivery status as a coloured word (the word carries the meaning, not the colour).
#[component]
pub fn StatusBadge(status: DeliveryStatus) -> impl IntoView {
    let class = match status {
        DeliveryStatus::Succeeded => "badge badge-ok",
        DeliveryStatus::Failed => "badge badge-error",
        DeliveryStatus::Pending => "badge badge-pending",
    };
    view! { <span class=class>{status.as_str()}</span> }
}
