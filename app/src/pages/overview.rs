//! The landing page. For now: the service's own status, re-checkable from
//! the browser (which only works once the WASM has hydrated the page).

use crate::server_fns::service_status;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Overview() -> impl IntoView {
    // Bumped by the button; the resource re-runs the server function each time.
    let checks = RwSignal::new(1u32);
    let status = Resource::new(move || checks.get(), |_| service_status());

    view! {
        <Title text="Overview"/>
        <section class="page">
            <h1>"Overview"</h1>
            <section class="card" aria-labelledby="status-heading">
                <h2 id="status-heading">"Service status"</h2>
                <Transition fallback=|| view! { <p>"Checking…"</p> }>
                    {move || Suspend::new(async move {
                        match status.await {
                            Ok(s) => view! {
                                <dl class="facts">
                                    <dt>"Database"</dt>
                                    <dd data-testid="database-status">
                                        {if s.database_ok { "reachable" } else { "unreachable" }}
                                    </dd>
                                    <dt>"Version"</dt>
                                    <dd>{s.version}</dd>
                                    <dt>"Checks"</dt>
                                    <dd data-testid="check-count">{checks.get_untracked()}</dd>
                                </dl>
                            }
                            .into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
                <button type="button" class="button" on:click=move |_| checks.update(|n| *n += 1)>
                    "Check again"
                </button>
            </section>
        </section>
    }
}
