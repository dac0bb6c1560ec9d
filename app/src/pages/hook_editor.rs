//! Create and edit a hook. The inputs follow the auth type; the REST API's
//! validation (`HookForm::validate`, compiled to WASM) runs as the person
//! types, and again on the server, whose errors land on the same inputs.

use super::problem_view;
use crate::components::{CopyButton, use_toasts};
use crate::domain::hook_form::{self, FormField, HookForm, errors_by_field};
use crate::domain::{AuthType, Catalogue, FieldError, HookState, Mode, StoredSecrets, Vertical};
use crate::server_fns::types::{FormSetup, SaveOutcome};
use crate::server_fns::{error_text, form_setup, save_hook};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use std::collections::HashSet;

/// `/hooks/new` and `/hooks/:id/edit`.
#[component]
pub fn HookEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id");
    let setup = Resource::new(id, form_setup);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(setup) => view! { <HookEditor setup/> }.into_any(),
                    Err(e) => problem_view(&e),
                }
            })}
        </Transition>
    }
}

/// The rules the form is checked against: the server's hook types for its vertical.
fn catalogue_for(vertical: Vertical, hook_types: &[String]) -> Catalogue {
    let mut catalogue = Catalogue::default();
    match vertical {
        Vertical::Flightrates => catalogue.flightrates = hook_types.to_vec(),
        Vertical::Eventsshop => catalogue.eventsshop = hook_types.to_vec(),
    }
    catalogue
}

#[component]
fn HookEditor(setup: FormSetup) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let vertical: Vertical = setup.vertical.parse().unwrap_or_default();
    let catalogue = catalogue_for(vertical, &setup.hook_types);
    let editing = setup.hook.clone();
    let hook_id = editing.as_ref().map(|h| h.id.clone());
    let stored = editing.as_ref().map(|h| HookState {
        endpoint: h.form.endpoint.clone(),
        auth_type: h.form.auth_type,
        username: Some(h.form.username.clone()).filter(|u| !u.is_empty()),
        secrets: StoredSecrets { password: h.has_password, token: h.has_token },
        hook_type: Some(h.form.hook_type.clone()).filter(|t| !t.is_empty()),
        shop: Some(h.form.shop.clone()).filter(|s| !s.is_empty()),
        is_active: h.form.is_active,
    });
    let initial = editing.as_ref().map_or_else(
        || HookForm {
            auth_type: hook_form::auth_types(vertical)[0],
            hook_type: setup.hook_types.first().cloned().unwrap_or_default(),
            is_active: true,
            ..HookForm::default()
        },
        |h| h.form.clone(),
    );
    let form = RwSignal::new(initial);
    let touched = RwSignal::new(HashSet::<FormField>::new());
    let submitted = RwSignal::new(false);
    let server_errors = RwSignal::new(Vec::<FieldError>::new());
    let fresh_token = RwSignal::new(None::<(String, String)>);

    // The shared validation, re-run on every change.
    let client_errors = Memo::new(move |_| {
        let mode = stored.as_ref().map_or(Mode::Create, Mode::Replace);
        match form.read().validate(vertical, mode, &catalogue) {
            Ok(_) => Vec::new(),
            Err(errors) => errors_by_field(&errors),
        }
    });
    let error_for = move |field: FormField| -> Option<String> {
        if let Some((_, m)) = errors_by_field(&server_errors.read()).into_iter().find(|(f, _)| *f == field) {
            return Some(m);
        }
        if !submitted.get() && !touched.read().contains(&field) {
            return None;
        }
        client_errors.read().iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone())
    };

    let save = Action::new(move |(id, form): &(Option<String>, HookForm)| {
        let (id, form) = (id.clone(), form.clone());
        async move { save_hook(id, form).await }
    });
    Effect::new(move |_| {
        let Some(result) = save.value().get() else { return };
        match result {
            // A token Hookrelay made (EventsShop Basic Auth) is shown once, here.
            Ok(SaveOutcome::Saved { id, generated_token: Some(token) }) => {
                toasts.success("Hook saved. Copy its token now: it is shown only once.");
                fresh_token.set(Some((id, token)));
            }
            Ok(SaveOutcome::Saved { id, generated_token: None }) => {
                toasts.success("Hook saved.");
                navigate(&format!("/hooks/{id}"), Default::default());
            }
            Ok(SaveOutcome::Invalid(errors)) => {
                server_errors.set(errors);
                toasts.error("The server refused the hook: see the highlighted fields.");
            }
            Err(e) => toasts.error(error_text(&e)),
        }
    });

    let on_submit = {
        let hook_id = hook_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            submitted.set(true);
            if !client_errors.read().is_empty() {
                toasts.error("Please fix the highlighted fields.");
                return;
            }
            save.dispatch((hook_id.clone(), form.get()));
        }
    };

    // One text input bound to one form field.
    let text_input = move |field: FormField,
                           id: &'static str,
                           label: &'static str,
                           kind: &'static str,
                           get: fn(&HookForm) -> String,
                           set: fn(&mut HookForm, String)| {
        let error_id = format!("{id}-error");
        let described = error_id.clone();
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type=kind autocomplete="off"
                       prop:value=move || get(&form.read())
                       aria-invalid=move || if error_for(field).is_some() { "true" } else { "false" }
                       aria-describedby=described
                       on:input=move |ev| {
                           let value = event_target_value(&ev);
                           form.update(|f| set(f, value));
                           server_errors.update(|e| e.retain(|x| hook_form::form_field(&x.field) != field));
                       }
                       on:blur=move |_| touched.update(|t| { t.insert(field); })/>
                <p class="field-error" id=error_id>{move || error_for(field)}</p>
            </div>
        }
    };

    let title = if editing.is_some() { "Edit hook" } else { "New hook" };
    let auth = move || form.read().auth_type;
    let other_errors = move || error_for(FormField::Other);
    let hook_types = setup.hook_types.clone();

    view! {
        <Title text=title/>
        <section class="page narrow">
            <h1>{title}</h1>
            {move || fresh_token.get().map(|(id, token)| view! {
                <div class="fresh-key card" role="status">
                    <p><strong>"Hook saved. "</strong>
                       "Hookrelay made this token for it; every delivery sends it as "
                       <code>"x-hook-token"</code>". Copy it now: it will not be shown again."</p>
                    <div class="secret-row">
                        <code class="secret" data-testid="generated-token">{token.clone()}</code>
                        <CopyButton text=Signal::derive(move || token.clone()) label="Copy token"/>
                    </div>
                    <a class="button" href=format!("/hooks/{id}")>"Go to the hook"</a>
                </div>
            })}
            // A class, not a style attribute: the page's CSP allows no inline style.
            <form class="card form" novalidate on:submit=on_submit
                  class:is-hidden=move || fresh_token.read().is_some()>
                {move || other_errors().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                {text_input(FormField::Endpoint, "hook-endpoint", "Endpoint URL", "url",
                    |f| f.endpoint.clone(), |f, v| f.endpoint = v)}
                <div class="field">
                    <label for="hook-auth">"Authentication"</label>
                    <select id="hook-auth"
                            prop:value=move || auth().as_str()
                            on:change=move |ev| {
                                let value = event_target_value(&ev);
                                form.update(|f| f.auth_type = AuthType::parse(&value).unwrap_or_default());
                            }>
                        {hook_form::auth_types(vertical).iter().map(|a| view! {
                            <option value=a.as_str()>{a.label()}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error">{move || error_for(FormField::AuthType)}</p>
                </div>
                {move || hook_form::needs_username(auth()).then(|| {
                    let label = if auth() == AuthType::Jwt { "User ID (JWT subject)" } else { "User name" };
                    text_input(FormField::Username, "hook-username", label, "text",
                        |f| f.username.clone(), |f, v| f.username = v)
                })}
                {move || hook_form::needs_password(auth()).then(|| {
                    text_input(FormField::Password, "hook-password", "Password", "password",
                        |f| f.password.clone(), |f, v| f.password = v)
                })}
                {move || hook_form::needs_token(auth()).then(|| {
                    let label = if auth() == AuthType::Jwt { "JWT signing secret" } else { "Bearer token" };
                    text_input(FormField::Token, "hook-token", label, "password",
                        |f| f.token.clone(), |f, v| f.token = v)
                })}
                {(vertical == Vertical::Flightrates).then(|| view! {
                    <div class="field">
                        <label for="hook-type">"Hook type"</label>
                        <select id="hook-type"
                                prop:value=move || form.read().hook_type.clone()
                                on:change=move |ev| {
                                    let value = event_target_value(&ev);
                                    form.update(|f| f.hook_type = value);
                                }>
                            {hook_types.iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                        </select>
                        <p class="field-error">{move || error_for(FormField::HookType)}</p>
                    </div>
                    {text_input(FormField::Shop, "hook-shop", "Shop", "text", |f| f.shop.clone(), |f, v| f.shop = v)}
                })}
                <div class="field field-check">
                    <input id="hook-active" type="checkbox"
                           prop:checked=move || form.read().is_active
                           on:change=move |ev| {
                               let checked = event_target_checked(&ev);
                               form.update(|f| f.is_active = checked);
                           }/>
                    <label for="hook-active">"Active (receives events)"</label>
                </div>
                {editing.is_some().then(|| view! {
                    <p class="hint">"Stored secrets show as dots; they stay unchanged unless you type new ones."</p>
                })}
                <div class="actions">
                    <button type="submit" class="button" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save hook" }}
                    </button>
                    <a class="button button-secondary" href=hook_id.map_or_else(|| "/hooks".to_owned(), |id| format!("/hooks/{id}"))>"Cancel"</a>
                </div>
            </form>
        </section>
    }
}
