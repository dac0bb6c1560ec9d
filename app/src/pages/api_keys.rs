//! API keys: create one (shown once, with a copy button), list, revoke.

use super::problem_view;
use crate::components::{CopyButton, format, use_toasts};
use crate::server_fns::types::KeyView;
use crate::server_fns::{create_key, list_keys, revoke_key};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiKeys() -> impl IntoView {
    let toasts = use_toasts();
    let refresh = RwSignal::new(0u32);
    let keys = Resource::new(move || refresh.get(), |_| list_keys());
    let name = RwSignal::new(String::new());
    let fresh = RwSignal::new(None::<String>);
    let create = Action::new(move |name: &String| {
        let name = name.clone();
        async move {
            if let Some(key) =
                toasts.report(create_key(name).await, "API key created. Copy it now: it is shown only once.")
            {
                fresh.set(Some(key));
                refresh.update(|n| *n += 1);
            }
        }
    });
    view! {
        <Title text="API keys"/>
        <section class="page">
            <h1>"API keys"</h1>
            <section class="card" aria-labelledby="new-key-heading">
                <h2 id="new-key-heading">"New key"</h2>
                <form class="inline-form" on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch(name.get());
                }>
                    <div class="field">
                        <label for="key-name">"Name"</label>
                        <input id="key-name" maxlength="100" placeholder="e.g. billing service"
                               prop:value=move || name.get()
                               on:input=move |ev| name.set(event_target_value(&ev))/>
                    </div>
                    <button type="submit" class="button" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create key" }}
                    </button>
                </form>
                {move || fresh.get().map(|key| view! {
                    <div class="fresh-key" role="status">
                        <p><strong>"Your new key. "</strong>"Copy it now: it will not be shown again."</p>
                        <div class="secret-row">
                            <code class="secret" data-testid="new-api-key">{key.clone()}</code>
                            <CopyButton text=Signal::derive(move || key.clone()) label="Copy API key"/>
                        </div>
                    </div>
                })}
            </section>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) => view! { <KeyTable keys=list refresh/> }.into_any(),
                        Err(e) => problem_view(&e),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The account's keys, each active one with "Revoke".
#[component]
fn KeyTable(keys: Vec<KeyView>, refresh: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let revoke = Action::new(move |id: &String| {
        let id = id.clone();
        async move {
            if toasts.report(revoke_key(id).await, "API key revoked.").is_some() {
                refresh.update(|n| *n += 1);
            }
        }
    });
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Your API keys"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Key"</th>
                    <th scope="col" class="col-wide">"Created"</th><th scope="col">"State"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {keys.into_iter().map(|k| {
                        let id = k.id.clone();
                        let label = format!("Revoke key {}…", k.prefix);
                        view! {
                            <tr data-key-prefix=k.prefix.clone()>
                                <td>{if k.name.is_empty() { "–".to_owned() } else { k.name.clone() }}</td>
                                <td><code>{format!("{}…", k.prefix)}</code></td>
                                <td class="col-wide">{format::time(k.created_at)}</td>
                                <td>{match k.revoked_at {
                                    Some(at) => format!("revoked {}", format::time(at)),
                                    None => "active".to_owned(),
                                }}</td>
                                <td>{k.revoked_at.is_none().then(|| view! {
                                    <button type="button" class="button button-danger" aria-label=label
                                            disabled=move || revoke.pending().get()
                                            on:click=move |_| { revoke.dispatch(id.clone()); }>"Revoke"</button>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
