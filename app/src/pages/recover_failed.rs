//! "Retry all failed since…" on a hook's page: re-queues the hook's failed
//! deliveries created since a time (at most 14 days back), as
//! `POST /api/v1/hook/{id}/recover` does.

use crate::components::use_toasts;
use crate::server_fns::recover_failed;
use leptos::prelude::*;

#[component]
pub fn RecoverFailed(id: String, refresh: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let since = RwSignal::new(String::new());
    let recover = Action::new(move |since: &String| {
        let (id, since) = (id.clone(), since.clone());
        async move {
            if let Some(n) = toasts.report(recover_failed(id, since).await, "") {
                let plural = if n == 1 { "delivery" } else { "deliveries" };
                toasts.success(format!("{n} failed {plural} queued again."));
                refresh.update(|n| *n += 1);
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="recover-heading">
            <h2 id="recover-heading">"Recover failed deliveries"</h2>
            <p class="hint">"Queues every failed delivery of this hook created since the time below (UTC, at most 14 days back) for one more attempt. Each keeps its " <code>"webhook-id"</code> "."</p>
            <form class="inline-form" on:submit=move |ev| {
                ev.prevent_default();
                recover.dispatch(since.get());
            }>
                <div class="field">
                    <label for="recover-since">"Failed since (UTC)"</label>
                    <input id="recover-since" type="datetime-local" required=true
                           prop:value=move || since.get()
                           on:input=move |ev| since.set(event_target_value(&ev))/>
                </div>
                <button type="submit" class="button button-secondary"
                        disabled=move || recover.pending().get() || since.get().is_empty()>
                    {move || if recover.pending().get() { "Queuing…" } else { "Retry all failed since…" }}
                </button>
            </form>
        </section>
    }
}
