//! The event log: the account's published events, newest first, with
//! filters that live in the URL (a GET form: they work without the WASM and
//! survive a reload); each event links to its page.

use super::problem_view;
use crate::components::format;
use crate::server_fns::list_events;
use crate::server_fns::types::{EventPage, EventQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

#[component]
pub fn EventsList() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        EventQuery {
            page: get("page").parse().unwrap_or(1).max(1),
            hook_type: get("hookType"),
            shop: get("shop"),
            since: get("since"),
        }
    });
    let page = Resource::new(move || query.get(), list_events);
    view! {
        <Title text="Events"/>
        <section class="page">
            <h1>"Events"</h1>
            <EventFilters query/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <EventsPage page=p query/> }.into_any(),
                        Err(e) => problem_view(&e),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EventFilters(query: Memo<EventQuery>) -> impl IntoView {
    view! {
        <Form method="GET" action="">
            <div class="filters" role="search">
                <div class="field">
                    <label for="events-type">"Type"</label>
                    <input id="events-type" name="hookType" list="event-types" value=move || query.get().hook_type prop:value=move || query.get().hook_type/>
                </div>
                <div class="field">
                    <label for="events-shop">"Shop"</label>
                    <input id="events-shop" name="shop" value=move || query.get().shop prop:value=move || query.get().shop/>
                </div>
                <div class="field">
                    <label for="events-since">"Published since (UTC)"</label>
                    <input id="events-since" name="since" type="datetime-local" value=move || query.get().since prop:value=move || query.get().since/>
                </div>
                <button type="submit" class="button button-secondary">"Apply"</button>
            </div>
        </Form>
    }
}

#[component]
fn EventsPage(page: EventPage, query: Memo<EventQuery>) -> impl IntoView {
    let types = view! {
        <datalist id="event-types">
            {page.hook_types.into_iter().map(|t| view! { <option value=t></option> }).collect_view()}
        </datalist>
    };
    if page.events.is_empty() {
        return view! { {types} <p class="empty">"No events match."</p> }.into_any();
    }
    let (current, pages, total) = (u64::from(page.page), page.total_pages, page.total);
    view! {
        {types}
        <div class="table-wrap">
            <table class="table events">
                <caption class="visually-hidden">"Published events"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Shop"</th>
                        <th scope="col">"Published"</th>
                        <th scope="col">"Deliveries"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.events.into_iter().map(|e| {
                        let (id, label) = (e.id.to_string(), e.id.to_string());
                        view! {
                        <tr data-event-id=id.clone()>
                            <td><A href=format!("/events/{id}")><code>{label}</code></A></td>
                            <td>{e.hook_type}</td>
                            <td>{e.shop.unwrap_or_else(|| "–".into())}</td>
                            <td>{format::time(e.created_at)}</td>
                            <td>{e.deliveries}</td>
                        </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <span>{format!("{total} event{} · page {current} of {}", if total == 1 { "" } else { "s" }, pages.max(1))}</span>
            {(current > 1).then(|| view! { <A href=page_href(&query.get(), current - 1)>"Newer"</A> })}
            {(current < pages).then(|| view! { <A href=page_href(&query.get(), current + 1)>"Older"</A> })}
        </nav>
    }
    .into_any()
}

/// A link to page `n` of the same filtered log.
fn page_href(q: &EventQuery, n: u64) -> String {
    let mut url = format!("/events?page={n}");
    for (k, v) in [("hookType", &q.hook_type), ("shop", &q.shop), ("since", &q.since)] {
        if !v.is_empty() {
            url.push_str(&format!("&{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()));
        }
    }
    url
}
