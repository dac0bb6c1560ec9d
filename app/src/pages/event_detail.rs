//! One event: its type, shop and time, its data pretty-printed, and each
//! delivery it made (the hook, the status, every attempt; a link to the
//! hook's delivery log).

use super::problem_view;
use crate::components::{AttemptsTable, StatusBadge, format};
use crate::server_fns::event_detail;
use crate::server_fns::types::{EventDeliveryItem, EventDetailView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn EventDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let event = Resource::new(id, event_detail);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(event) => view! { <EventView event/> }.into_any(),
                    Err(e) => problem_view(&e),
                }
            })}
        </Transition>
    }
}

#[component]
fn EventView(event: EventDetailView) -> impl IntoView {
    let count = event.deliveries.len();
    view! {
        <Title text="Event"/>
        <section class="page">
            <div class="page-head">
                <h1>"Event " <code class="event-id">{event.id.to_string()}</code></h1>
                <A href="/events" attr:class="button button-secondary">"All events"</A>
            </div>
            <section class="card" aria-labelledby="event-heading">
                <h2 id="event-heading">"Published"</h2>
                <dl class="facts">
                    <dt>"Type"</dt><dd>{event.hook_type}</dd>
                    <dt>"Shop"</dt><dd>{event.shop.unwrap_or_else(|| "–".into())}</dd>
                    <dt>"Time"</dt><dd>{format::time(event.created_at)}</dd>
                    <dt>"webhook-id"</dt><dd><code>{event.id.to_string()}</code></dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="data-heading">
                <h2 id="data-heading">"Data"</h2>
                <pre class="payload" data-testid="event-data">{event.data}</pre>
            </section>
            <section class="card" aria-labelledby="event-deliveries-heading">
                <h2 id="event-deliveries-heading">{format!("Deliveries ({count})")}</h2>
                {if event.deliveries.is_empty() {
                    view! { <p class="empty">"No hook matched this event."</p> }.into_any()
                } else {
                    view! {
                        <ol class="deliveries">
                            {event.deliveries.into_iter().map(delivery_item).collect_view()}
                        </ol>
                    }.into_any()
                }}
            </section>
        </section>
    }
}

fn delivery_item(d: EventDeliveryItem) -> impl IntoView {
    let hook_link = format!("/hooks/{}#delivery-{}", d.hook_id, d.id);
    view! {
        <li class="delivery" data-delivery-id=d.id.to_string() data-status=d.status.as_str()>
            <div class="delivery-head">
                <StatusBadge status=d.status/>
                <span>"Hook " <A href=hook_link><code>{d.hook_id.clone()}</code></A></span>
                <span class="muted">{format!("{} attempt{}", d.attempts.len(), if d.attempts.len() == 1 { "" } else { "s" })}</span>
            </div>
            <AttemptsTable attempts=d.attempts/>
        </li>
    }
}
