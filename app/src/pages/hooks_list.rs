//! The hooks list: filters and search live in the URL (a GET form, so they
//! work without the WASM and survive a reload), a page of hooks with an
//! active switch and the status of each hook's last delivery.

use super::problem_view;
use crate::components::{StatusBadge, use_toasts};
use crate::server_fns::types::{HookPage, HookQuery, HookSummary};
use crate::server_fns::{list_hooks, set_hook_active};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

/// (hook id, new state) → switched; refreshes the list when it was.
type Toggle = Action<(String, bool), ()>;

#[component]
pub fn HooksList() -> impl IntoView {
    let toasts = use_toasts();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        HookQuery {
            page: get("page").parse().unwrap_or(1).max(1),
            search: get("search"),
            hook_type: get("hookType"),
            shop: get("shop"),
            active: get("active"),
        }
    });
    let refresh = RwSignal::new(0u32);
    let page = Resource::new(move || (query.get(), refresh.get()), |(q, _)| list_hooks(q));
    let toggle: Toggle = Action::new(move |(id, active): &(String, bool)| {
        let (id, active) = (id.clone(), *active);
        async move {
            let done = if active { "Hook activated." } else { "Hook deactivated." };
            if toasts.report(set_hook_active(id, active).await, done).is_some() {
                refresh.update(|n| *n += 1);
            }
        }
    });
    view! {
        <Title text="Hooks"/>
        <section class="page">
            <div class="page-head">
                <h1>"Hooks"</h1>
                <A href="/hooks/new" attr:class="button">"New hook"</A>
            </div>
            <Filters query/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <HooksPage page=p query toggle/> }.into_any(),
                        Err(e) => problem_view(&e),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The filter form: a plain GET to this page, so the filters are the URL's.
#[component]
fn Filters(query: Memo<HookQuery>) -> impl IntoView {
    view! {
        <Form method="GET" action="">
            <div class="filters" role="search">
                <div class="field">
                    <label for="filter-search">"Search endpoints"</label>
                    <input id="filter-search" type="search" name="search" value=move || query.get().search prop:value=move || query.get().search/>
                </div>
                <div class="field">
                    <label for="filter-type">"Type"</label>
                    <input id="filter-type" name="hookType" list="hook-types" value=move || query.get().hook_type prop:value=move || query.get().hook_type/>
                </div>
                <div class="field">
                    <label for="filter-shop">"Shop"</label>
                    <input id="filter-shop" name="shop" value=move || query.get().shop prop:value=move || query.get().shop/>
                </div>
                <div class="field">
                    <label for="filter-active">"State"</label>
                    <select id="filter-active" name="active" prop:value=move || query.get().active>
                        <option value="" selected=move || query.get().active.is_empty()>"Any"</option>
                        <option value="true" selected=move || query.get().active == "true">"Active"</option>
                        <option value="false" selected=move || query.get().active == "false">"Inactive"</option>
                    </select>
                </div>
                <button type="submit" class="button button-secondary">"Apply"</button>
            </div>
        </Form>
    }
}

/// One page of hooks (or the empty state) with the pager.
#[component]
fn HooksPage(page: HookPage, query: Memo<HookQuery>, toggle: Toggle) -> impl IntoView {
    let types = view! {
        <datalist id="hook-types">
            {page.hook_types.into_iter().map(|t| view! { <option value=t></option> }).collect_view()}
        </datalist>
    };
    if page.hooks.is_empty() && page.total > 0 {
        // A page past the end (an old link, or the last hook of the last
        // page deleted): the hooks exist, so say where they are.
        let last = page.total_pages.max(1);
        return view! {
            {types}
            <p class="empty">
                {format!("Page {} is past the last page. ", page.page)}
                <A href=page_href(&query.get(), last)>{format!("Go to page {last}")}</A>
            </p>
        }
        .into_any();
    }
    if page.hooks.is_empty() {
        return view! { {types} <p class="empty">"No hooks match. " <A href="/hooks/new">"Create one"</A></p> }
            .into_any();
    }
    let (current, pages, total) = (u64::from(page.page), page.total_pages, page.total);
    view! {
        {types}
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Your hooks"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Endpoint"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Auth"</th>
                        <th scope="col">"Shop"</th>
                        <th scope="col">"Active"</th>
                        <th scope="col">"Last delivery"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.hooks.into_iter().map(|hook| view! { <HookRow hook toggle/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <span>{format!("{total} hook{} · page {current} of {}", if total == 1 { "" } else { "s" }, pages.max(1))}</span>
            {(current > 1).then(|| view! { <A href=page_href(&query.get(), current - 1)>"Previous"</A> })}
            {(current < pages).then(|| view! { <A href=page_href(&query.get(), current + 1)>"Next"</A> })}
        </nav>
    }
    .into_any()
}

#[component]
fn HookRow(hook: HookSummary, toggle: Toggle) -> impl IntoView {
    let (id, active) = (hook.id.clone(), hook.is_active);
    let label = format!("Active: {}", hook.endpoint);
    view! {
        <tr data-hook-id=hook.id.clone()>
            <td class="endpoint"><A href=format!("/hooks/{}", hook.id)>{hook.endpoint.clone()}</A></td>
            <td>{hook.hook_type.unwrap_or_else(|| "all".into())}</td>
            <td>{hook.auth_type}</td>
            <td>{hook.shop.unwrap_or_else(|| "–".into())}</td>
            <td>
                <button type="button" role="switch" class="switch"
                        aria-checked=if active { "true" } else { "false" }
                        aria-label=label
                        title=hook.disabled_reason.clone().unwrap_or_default()
                        disabled=move || toggle.pending().get()
                        on:click=move |_| { toggle.dispatch((id.clone(), !active)); }>
                    <span class="switch-knob" aria-hidden="true"></span>
                </button>
            </td>
            <td>{match hook.last_status {
                Some(s) => view! { <StatusBadge status=s/> }.into_any(),
                None => view! { <span class="muted">"none yet"</span> }.into_any(),
            }}</td>
        </tr>
    }
}

/// A link to page `n` of the same filtered list.
fn page_href(q: &HookQuery, n: u64) -> String {
    let mut url = format!("/hooks?page={n}");
    for (k, v) in [("search", &q.search), ("hookType", &q.hook_type), ("shop", &q.shop), ("active", &q.active)] {
        if !v.is_empty() {
            url.push_str(&format!("&{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()));
        }
    }
    url
}
