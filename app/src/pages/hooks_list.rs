//! The hooks list: filters and search live in the URL (a GET form, so they
//! work without the WASM and survive a reload), a page of hooks with an
//! active switch and the status of each hook's last delivery.

use super::problem_view;
use crate::components::{StatusBadge, use_toasts};
use crate::server_fns::types::HookQuery;
use crate::server_fns::{list_hooks, set_hook_active};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

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
    let toggle = Action::new(move |(id, active): &(String, bool)| {
        let (id, active) = (id.clone(), *active);
        async move {
            let done = if active { "Hook activated." } else { "Hook deactivated." };
            if toasts.report(set_hook_active(id, active).await, done).is_some() {
                refresh.update(|n| *n += 1);
            }
        }
    });
    // A link to another page of the same filtered list.
    let page_href = move |n: u64| {
        let q = query.get();
        let mut url = format!("/hooks?page={n}");
        for (k, v) in [("search", &q.search), ("hookType", &q.hook_type), ("shop", &q.shop), ("active", &q.active)] {
            if !v.is_empty() {
                url.push_str(&format!(
                    "&{k}={}",
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ));
            }
        }
        url
    };

    view! {
        <Title text="Hooks"/>
        <section class="page">
            <div class="page-head">
                <h1>"Hooks"</h1>
                <A href="/hooks/new" attr:class="button">"New hook"</A>
            </div>
            <Form method="GET" action="">
                <div class="filters" role="search">
                    <div class="field">
                        <label for="filter-search">"Search endpoints"</label>
                        <input id="filter-search" type="search" name="search" prop:value=move || query.get().search/>
                    </div>
                    <div class="field">
                        <label for="filter-type">"Type"</label>
                        <input id="filter-type" name="hookType" list="hook-types" prop:value=move || query.get().hook_type/>
                    </div>
                    <div class="field">
                        <label for="filter-shop">"Shop"</label>
                        <input id="filter-shop" name="shop" prop:value=move || query.get().shop/>
                    </div>
                    <div class="field">
                        <label for="filter-active">"State"</label>
                        <select id="filter-active" name="active" prop:value=move || query.get().active>
                            <option value="">"Any"</option>
                            <option value="true">"Active"</option>
                            <option value="false">"Inactive"</option>
                        </select>
                    </div>
                    <button type="submit" class="button button-secondary">"Apply"</button>
                </div>
            </Form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) if p.hooks.is_empty() => view! {
                            <datalist id="hook-types">
                                {p.hook_types.into_iter().map(|t| view! { <option value=t></option> }).collect_view()}
                            </datalist>
                            <p class="empty">"No hooks match. " <A href="/hooks/new">"Create one"</A></p>
                        }
                        .into_any(),
                        Ok(p) => {
                            let (current, pages, total) = (u64::from(p.page), p.total_pages, p.total);
                            view! {
                                <datalist id="hook-types">
                                    {p.hook_types.into_iter().map(|t| view! { <option value=t></option> }).collect_view()}
                                </datalist>
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
                                            {p.hooks.into_iter().map(|h| {
                                                let (id, active) = (h.id.clone(), h.is_active);
                                                let label = format!("Active: {}", h.endpoint);
                                                view! {
                                                    <tr data-hook-id=h.id.clone()>
                                                        <td class="endpoint"><A href=format!("/hooks/{}", h.id)>{h.endpoint.clone()}</A></td>
                                                        <td>{h.hook_type.unwrap_or_else(|| "all".into())}</td>
                                                        <td>{h.auth_type}</td>
                                                        <td>{h.shop.unwrap_or_else(|| "–".into())}</td>
                                                        <td>
                                                            <button type="button" role="switch" class="switch"
                                                                    aria-checked=if active { "true" } else { "false" }
                                                                    aria-label=label
                                                                    title=h.disabled_reason.clone().unwrap_or_default()
                                                                    disabled=move || toggle.pending().get()
                                                                    on:click=move |_| { toggle.dispatch((id.clone(), !active)); }>
                                                                <span class="switch-knob" aria-hidden="true"></span>
                                                            </button>
                                                        </td>
                                                        <td>{match h.last_status {
                                                            Some(s) => view! { <StatusBadge status=s/> }.into_any(),
                                                            None => view! { <span class="muted">"none yet"</span> }.into_any(),
                                                        }}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <nav class="pager" aria-label="Pages">
                                    <span>{format!("{total} hook{} · page {current} of {}", if total == 1 { "" } else { "s" }, pages.max(1))}</span>
                                    {(current > 1).then(|| view! { <A href=page_href(current - 1)>"Previous"</A> })}
                                    {(current < pages).then(|| view! { <A href=page_href(current + 1)>"Next"</A> })}
                                </nav>
                            }
                            .into_any()
                        }
                        Err(e) => problem_view(&e),
                    }
                })}
            </Transition>
        </section>
    }
}
