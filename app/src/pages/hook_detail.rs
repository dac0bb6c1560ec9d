//! One hook: its settings, signing secret (reveal, copy, rotate), "Send
//! test event", "Retry all failed since…", the delivery log with every
//! attempt and "Retry", delete.

use super::blocked_head::BlockedHead;
use super::problem_view;
use super::recover_failed::RecoverFailed;
use crate::components::{AttemptsTable, CopyButton, StatusBadge, format, use_toasts};
use crate::domain::{DeliveryId, DeliveryStatus};
use crate::server_fns::types::{DeliveryView, HookDetail};
use crate::server_fns::{
    delete_hook, hook_detail, list_deliveries, retry_delivery, reveal_secret, rotate_secret, send_test_event,
    set_hook_active,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::time::Duration;

#[component]
pub fn HookDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let hook = Resource::new(id, hook_detail);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match hook.await {
                    Ok(detail) => view! { <HookView detail reload=move || hook.refetch()/> }.into_any(),
                    Err(e) => problem_view(&e),
                }
            })}
        </Transition>
    }
}

#[component]
fn HookView(detail: HookDetail, #[prop(into)] reload: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let id = detail.id.clone();
    let log_refresh = RwSignal::new(0u32);
    let send_test = Action::new({
        let id = id.clone();
        move |(): &()| {
            let id = id.clone();
            async move {
                if let Some(event) = toasts.report(send_test_event(id).await, "") {
                    toasts.success(format!("Test event {event} queued."));
                    log_refresh.update(|n| *n += 1);
                }
            }
        }
    });
    view! {
        <Title text="Hook"/>
        <section class="page">
            <div class="page-head">
                <h1>"Hook " <code class="hook-id">{id.clone()}</code></h1>
                <div class="actions">
                    <A href=format!("/hooks/{id}/edit") attr:class="button button-secondary">"Edit"</A>
                    <button type="button" class="button" disabled=move || send_test.pending().get()
                            on:click=move |_| { send_test.dispatch(()); }>
                        {move || if send_test.pending().get() { "Sending…" } else { "Send test event" }}
                    </button>
                </div>
            </div>
            {detail.disabled_reason.clone().map(|reason| view! { <DisabledBanner id=id.clone() reason reload/> })}
            <section class="card" aria-labelledby="settings-heading">
                <h2 id="settings-heading">"Settings"</h2>
                <dl class="facts">
                    {facts(&detail).into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                </dl>
            </section>
            <SigningSecret id=id.clone()/>
            {detail.delivery.ordered.then(|| view! { <BlockedHead id=id.clone() refresh=log_refresh/> })}
            <RecoverFailed id=id.clone() refresh=log_refresh/>
            <DeliveryLog id=id.clone() refresh=log_refresh/>
            <DeleteHook id/>
        </section>
    }
}

/// The hook's settings as label → text; secrets only as "set" or not.
fn facts(detail: &HookDetail) -> Vec<(&'static str, String)> {
    let form = &detail.form;
    let or_dash = |text: &str| if text.is_empty() { "–".to_owned() } else { text.to_owned() };
    vec![
        ("Endpoint", form.endpoint.clone()),
        ("Authentication", form.auth_type.label().to_owned()),
        ("User", or_dash(&form.username)),
        ("Password", if detail.has_password { "set (hidden)".to_owned() } else { "–".to_owned() }),
        (
            "Token",
            match (detail.has_token, detail.token_generated) {
                (true, true) => "generated (hidden; sent as x-hook-token)".to_owned(),
                (true, false) => "set (hidden)".to_owned(),
                _ => "–".to_owned(),
            },
        ),
        (
            "Hook type",
            if form.hook_type.is_empty() { "all of the vertical".to_owned() } else { form.hook_type.clone() },
        ),
        ("Shop", or_dash(&form.shop)),
        ("Headers", or_dash(&detail.delivery.headers.keys().cloned().collect::<Vec<_>>().join(", "))),
        ("Secret headers", or_dash(&detail.delivery.secret_header_names.join(", "))),
        ("Timeout", detail.delivery.timeout_seconds.map_or_else(|| "the server's".to_owned(), |t| format!("{t} s"))),
        ("Pace", pace(detail.delivery.rate_limit, detail.delivery.max_in_flight)),
        (
            "Order",
            if detail.delivery.ordered { "in publish order, one at a time" } else { "any (in parallel)" }.to_owned(),
        ),
        ("Vertical", detail.vertical.clone()),
        ("State", if form.is_active { "active".to_owned() } else { "inactive".to_owned() }),
        ("Created", format::time(detail.created_at)),
    ]
}

/// A hook's pace in words: "20/s, 5 at once", or "no limit".
fn pace(rate: Option<u32>, at_once: Option<u32>) -> String {
    let parts: Vec<String> =
        [rate.map(|r| format!("{r}/s")), at_once.map(|n| format!("{n} at once"))].into_iter().flatten().collect();
    if parts.is_empty() { "no limit".to_owned() } else { parts.join(", ") }
}

/// A hook Hookrelay switched off (410, or failing for the whole window):
/// why, and "Enable again" (its pending deliveries were ended as failed;
/// "Retry all failed since…" sends them again).
#[component]
fn DisabledBanner(id: String, reason: String, reload: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let enable = Action::new(move |(): &()| {
        let id = id.clone();
        async move {
            if toasts.report(set_hook_active(id, true).await, "Hook enabled again.").is_some() {
                reload.run(());
            }
        }
    });
    view! {
        <div class="notice disabled-banner" role="status">
            <p>"Disabled by Hookrelay: " {reason}</p>
            <button type="button" class="button" disabled=move || enable.pending().get()
                    on:click=move |_| { enable.dispatch(()); }>"Enable again"</button>
        </div>
    }
}

/// "Delete hook", confirmed before it is done; then back to the list.
#[component]
fn DeleteHook(id: String) -> impl IntoView {
    let toasts = use_toasts();
    let confirming = RwSignal::new(false);
    let navigate = use_navigate();
    let delete = Action::new(move |(): &()| {
        let (id, navigate) = (id.clone(), navigate.clone());
        async move {
            if toasts.report(delete_hook(id).await, "Hook deleted.").is_some() {
                navigate("/hooks", Default::default());
            }
        }
    });
    // Keyboard users keep their place: the dialog's Cancel takes the focus
    // when it opens (the button that opened it is gone), Escape closes it,
    // and closing gives the focus back to "Delete hook".
    let refocus = RwSignal::new(false);
    let close = move || {
        refocus.set(true);
        confirming.set(false);
    };
    view! {
        <section class="card danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete"</h2>
            <Show when=move || confirming.get() fallback=move || {
                let opener = NodeRef::<leptos::html::Button>::new();
                Effect::new(move |_| {
                    if let Some(button) = opener.get()
                        && refocus.get_untracked()
                    {
                        refocus.set(false);
                        let _ = button.focus();
                    }
                });
                view! {
                    <button type="button" class="button button-danger" node_ref=opener
                            on:click=move |_| confirming.set(true)>
                        "Delete hook"
                    </button>
                }
            }>
                {
                    let cancel = NodeRef::<leptos::html::Button>::new();
                    Effect::new(move |_| {
                        if let Some(button) = cancel.get() {
                            let _ = button.focus();
                        }
                    });
                    view! {
                        <div role="alertdialog" aria-labelledby="confirm-text" class="confirm"
                             on:keydown=move |ev| if ev.key() == "Escape" { close(); }>
                            <p id="confirm-text">"Delete this hook? It stops receiving events and its delivery log goes with it."</p>
                            <button type="button" class="button button-danger" disabled=move || delete.pending().get()
                                    on:click=move |_| { delete.dispatch(()); }>"Yes, delete"</button>
                            <button type="button" class="button button-secondary" node_ref=cancel
                                    on:click=move |_| close()>
                                "Cancel"
                            </button>
                        </div>
                    }
                }
            </Show>
        </section>
    }
}

#[component]
fn SigningSecret(id: String) -> impl IntoView {
    let toasts = use_toasts();
    let secret = RwSignal::new(None::<String>);
    let reveal = Action::new({
        let id = id.clone();
        move |(): &()| {
            let id = id.clone();
            async move {
                if let Some(s) = toasts.report(reveal_secret(id).await, "") {
                    secret.set(Some(s));
                }
            }
        }
    });
    let rotate = Action::new(move |(): &()| {
        let id = id.clone();
        async move {
            let rotated = rotate_secret(id).await;
            if let Some(s) =
                toasts.report(rotated, "Signing secret rotated; the old one also signs for the next 24 hours.")
            {
                secret.set(Some(s));
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="secret-heading">
            <h2 id="secret-heading">"Signing secret"</h2>
            <p class="hint">"Receivers verify the " <code>"webhook-signature"</code> " header (Standard Webhooks) with it."</p>
            <div class="secret-row">
                <code class="secret" data-testid="signing-secret">
                    {move || secret.get().unwrap_or_else(|| "whsec_••••••••••••••••".to_owned())}
                </code>
                {move || match secret.get() {
                    None => view! {
                        <button type="button" class="button button-secondary" disabled=move || reveal.pending().get()
                                on:click=move |_| { reveal.dispatch(()); }>"Reveal"</button>
                    }.into_any(),
                    Some(_) => view! {
                        <CopyButton text=Signal::derive(move || secret.get().unwrap_or_default()) label="Copy signing secret"/>
                        <button type="button" class="button button-secondary" on:click=move |_| secret.set(None)>"Hide"</button>
                    }.into_any(),
                }}
                <button type="button" class="button button-secondary" disabled=move || rotate.pending().get()
                        on:click=move |_| { rotate.dispatch(()); }>
                    {move || if rotate.pending().get() { "Rotating…" } else { "Rotate" }}
                </button>
            </div>
        </section>
    }
}

#[component]
fn DeliveryLog(id: String, refresh: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let page = RwSignal::new(1u32);
    let log = Resource::new(move || (id.clone(), page.get(), refresh.get()), |(id, page, _)| list_deliveries(id, page));
    // While something is pending, look again every 2 seconds.
    Effect::new(move |_| {
        if let Some(Ok(p)) = log.get()
            && p.deliveries.iter().any(|d| d.status == DeliveryStatus::Pending)
        {
            set_timeout(move || refresh.update(|n| *n += 1), Duration::from_secs(2));
        }
    });
    let retry = Action::new(move |delivery: &DeliveryId| {
        let delivery = delivery.to_string();
        async move {
            if toasts.report(retry_delivery(delivery).await, "Delivery queued again.").is_some() {
                refresh.update(|n| *n += 1);
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="log-heading">
            <div class="page-head">
                <h2 id="log-heading">"Delivery log"</h2>
                <button type="button" class="button button-secondary" on:click=move |_| refresh.update(|n| *n += 1)>
                    "Refresh log"
                </button>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(p) if p.deliveries.is_empty() => view! {
                            <p class="empty">"No deliveries yet. Send a test event to try the endpoint."</p>
                        }.into_any(),
                        Ok(p) => {
                            let (current, pages) = (p.page, p.total_pages);
                            view! {
                                <ol class="deliveries">
                                    {p.deliveries.into_iter().map(|d| delivery_item(d, retry)).collect_view()}
                                </ol>
                                <nav class="pager" aria-label="Delivery log pages">
                                    <span>{format!("{} deliver{} · page {current} of {}", p.total, if p.total == 1 { "y" } else { "ies" }, pages.max(1))}</span>
                                    {(current > 1).then(|| view! {
                                        <button type="button" class="button button-secondary" on:click=move |_| page.set(current - 1)>"Newer"</button>
                                    })}
                                    {(u64::from(current) < pages).then(|| view! {
                                        <button type="button" class="button button-secondary" on:click=move |_| page.set(current + 1)>"Older"</button>
                                    })}
                                </nav>
                            }.into_any()
                        }
                        Err(e) => problem_view(&e),
                    }
                })}
            </Transition>
        </section>
    }
}

fn delivery_item(d: DeliveryView, retry: Action<DeliveryId, ()>) -> impl IntoView {
    let failed = d.status == DeliveryStatus::Failed;
    let delivery_id = d.id.clone();
    let attempts = d.attempts.len();
    view! {
        <li class="delivery" id=format!("delivery-{}", d.id) data-delivery-id=d.id.to_string() data-status=d.status.as_str()>
            <div class="delivery-head">
                <StatusBadge status=d.status/>
                <span>"Event " <A href=format!("/events/{}", d.event_id)><code>{d.event_id.to_string()}</code></A></span>
                <span class="muted">{format::time(d.created_at)}</span>
                <span class="muted">{format!("{attempts} attempt{}", if attempts == 1 { "" } else { "s" })}</span>
                {failed.then(|| view! {
                    <button type="button" class="button button-secondary" disabled=move || retry.pending().get()
                            on:click=move |_| { retry.dispatch(delivery_id.clone()); }>"Retry"</button>
                })}
            </div>
            <AttemptsTable attempts=d.attempts/>
        </li>
    }
}
