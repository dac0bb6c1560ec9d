//! The landing page: hooks, recent delivery outcomes and their chart, and
//! the service's own status (re-checkable once the WASM has hydrated).

use super::problem_view;
use crate::components::DeliveryChart;
use crate::server_fns::{overview, service_status};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Overview() -> impl IntoView {
    let figures = Resource::new(|| (), |()| overview());
    // Bumped by the button; the resource re-runs the server function each time.
    let checks = RwSignal::new(1u32);
    let status = Resource::new(move || checks.get(), |_| service_status());

    view! {
        <Title text="Overview"/>
        <section class="page">
            <h1>"Overview"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match figures.await {
                        Ok(f) => {
                            let rate = f.success_rate().map_or_else(|| "–".to_owned(), |r| format!("{r:.1} %"));
                            view! {
                                <ul class="stats" aria-label="Figures">
                                    <li class="stat"><span class="stat-value" data-testid="hooks-active">{f.hooks_active}</span>" active hooks"</li>
                                    <li class="stat"><span class="stat-value" data-testid="hooks-inactive">{f.hooks_inactive}</span>" inactive hooks"</li>
                                    <li class="stat"><span class="stat-value" data-testid="succeeded-24h">{f.succeeded_24h}</span>" delivered (24 h)"</li>
                                    <li class="stat"><span class="stat-value" data-testid="failed-24h">{f.failed_24h}</span>" failed (24 h)"</li>
                                    <li class="stat"><span class="stat-value" data-testid="pending-24h">{f.pending_24h}</span>" pending (24 h)"</li>
                                    <li class="stat"><span class="stat-value" data-testid="success-rate">{rate}</span>" success rate"</li>
                                </ul>
                                <section class="card" aria-labelledby="chart-heading">
                                    <h2 id="chart-heading">"Deliveries per hour (UTC)"</h2>
                                    <DeliveryChart hours=f.hours/>
                                </section>
                            }
                            .into_any()
                        }
                        Err(e) => problem_view(&e),
                    }
                })}
            </Transition>
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
