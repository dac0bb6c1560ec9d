//! Settings: the account's operations endpoint, which hears (signed with
//! its own secret) when Hookrelay disables a hook or dead-letters a delivery.

use super::problem_view;
use crate::components::{CopyButton, use_toasts};
use crate::server_fns::{
    operations_settings, remove_operations_endpoint, reveal_operations_secret, save_operations_endpoint,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Settings() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let current = Resource::new(move || refresh.get(), |_| operations_settings());
    view! {
        <Title text="Settings"/>
        <section class="page narrow">
            <h1>"Settings"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match current.await {
                        Ok(endpoint) => view! { <OperationsEndpoint endpoint refresh/> }.into_any(),
                        Err(e) => problem_view(&e),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OperationsEndpoint(endpoint: Option<String>, refresh: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let is_set = endpoint.is_some();
    let url = RwSignal::new(endpoint.unwrap_or_default());
    let secret = RwSignal::new(None::<String>);
    let save = Action::new(move |url: &String| {
        let url = url.clone();
        async move {
            if toasts.report(save_operations_endpoint(url).await, "Operations endpoint saved.").is_some() {
                refresh.update(|n| *n += 1);
            }
        }
    });
    let remove = Action::new(move |(): &()| async move {
        if toasts.report(remove_operations_endpoint().await, "Operations endpoint removed.").is_some() {
            refresh.update(|n| *n += 1);
        }
    });
    let reveal = Action::new(move |(): &()| async move {
        if let Some(s) = toasts.report(reveal_operations_secret().await, "") {
            secret.set(Some(s));
        }
    });
    view! {
        <section class="card" aria-labelledby="ops-heading">
            <h2 id="ops-heading">"Operations endpoint"</h2>
            <p class="hint">"Receives a signed " <code>"hook.disabled"</code> " notice when Hookrelay switches a hook off (410 Gone, or failing for too long) and a "
                <code>"delivery.dead_lettered"</code> " notice when a delivery has used up its attempts."</p>
            // The server's checks (the same as the REST API's) speak, not the browser's.
            <form class="inline-form" novalidate on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(url.get());
            }>
                <div class="field">
                    <label for="ops-endpoint">"Operations endpoint URL"</label>
                    <input id="ops-endpoint" type="url" autocomplete="off" placeholder="https://ops.example.com/hookrelay"
                           prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                </div>
                <button type="submit" class="button" disabled=move || save.pending().get()>"Save"</button>
            </form>
            {is_set.then(|| view! {
                <div class="secret-row ops-secret">
                    <code class="secret" data-testid="operations-secret">
                        {move || secret.get().unwrap_or_else(|| "whsec_••••••••••••••••".to_owned())}
                    </code>
                    {move || match secret.get() {
                        None => view! {
                            <button type="button" class="button button-secondary" on:click=move |_| { reveal.dispatch(()); }>
                                "Reveal secret"
                            </button>
                        }.into_any(),
                        Some(_) => view! {
                            <CopyButton text=Signal::derive(move || secret.get().unwrap_or_default()) label="Copy operations secret"/>
                        }.into_any(),
                    }}
                    <button type="button" class="button button-danger" disabled=move || remove.pending().get()
                            on:click=move |_| { remove.dispatch(()); }>"Remove endpoint"</button>
                </div>
            })}
        </section>
    }
}
