//! On an ordered hook's page: "Blocked by <delivery>" when the hook's
//! earliest pending delivery has failed and holds back the later ones, with
//! "Retry now" (due at once) and "Skip" (mark it failed; the next goes).

use crate::components::{format, use_toasts};
use crate::server_fns::{BlockedHeadView, blocked_head, retry_delivery, skip_delivery};
use leptos::prelude::*;

#[component]
pub fn BlockedHead(id: String, refresh: RwSignal<u32>) -> impl IntoView {
    let head = Resource::new(move || (id.clone(), refresh.get()), |(id, _)| blocked_head(id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match head.await {
                    Ok(Some(blocked)) => view! { <Blocked blocked refresh/> }.into_any(),
                    // Not blocked (or not readable now: the log below says more).
                    _ => ().into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Blocked(blocked: BlockedHeadView, refresh: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let retry = Action::new(move |delivery: &String| {
        let delivery = delivery.clone();
        async move {
            if toasts.report(retry_delivery(delivery).await, "Retrying it now.").is_some() {
                refresh.update(|n| *n += 1);
            }
        }
    });
    let skip = Action::new(move |delivery: &String| {
        let delivery = delivery.clone();
        async move {
            if toasts.report(skip_delivery(delivery).await, "Skipped: the next delivery goes ahead.").is_some() {
                refresh.update(|n| *n += 1);
            }
        }
    });
    let (for_retry, for_skip) = (blocked.delivery_id.clone(), blocked.delivery_id.clone());
    let busy = move || retry.pending().get() || skip.pending().get();
    let attempts =
        if blocked.attempts == 1 { "1 attempt".to_owned() } else { format!("{} attempts", blocked.attempts) };
    let waiting = match blocked.waiting {
        0 => "Nothing waits behind it yet.".to_owned(),
        1 => "1 delivery waits behind it.".to_owned(),
        n if n > 10_000 => "More than 10,000 deliveries wait behind it.".to_owned(),
        n => format!("{n} deliveries wait behind it."),
    };
    view! {
        <section class="notice blocked-banner" aria-labelledby="blocked-heading">
            <h2 id="blocked-heading">"Blocked by " <code class="blocked-delivery">{blocked.delivery_id.clone()}</code></h2>
            <p>
                {format!("This ordered hook's earliest delivery has failed ({attempts}")}
                {blocked.last_error.clone().map(|e| format!(", last: {e}"))}
                {format!("); its next attempt is due {}. {waiting}", format::time(blocked.next_attempt_at))}
            </p>
            <p class="hint">"Event " <a href=format!("/events/{}", blocked.event_id)>{blocked.event_id.clone()}</a></p>
            <div class="actions">
                <button type="button" class="button" disabled=busy on:click=move |_| { retry.dispatch(for_retry.clone()); }>
                    {move || if retry.pending().get() { "Retrying…" } else { "Retry now" }}
                </button>
                <button type="button" class="button button-danger" disabled=busy
                        on:click=move |_| { skip.dispatch(for_skip.clone()); }>
                    {move || if skip.pending().get() { "Skipping…" } else { "Skip" }}
                </button>
            </div>
        </section>
    }
}
