//! Create and edit a hook. The inputs follow the auth type; the REST API's
//! validation (`HookForm::validate`, compiled to WASM) runs as the person
//! types, and again on the server, whose errors land on the same inputs.

use super::problem_view;
use crate::components::{CopyButton, use_toasts};
use crate::domain::hook_form::{self, FormField, HookForm, errors_by_field};
use crate::domain::{AuthType, Catalogue, FieldError, HookState, Mode, StoredSecrets, Vertical};
use crate::server_fns::types::{FormSetup, SaveOutcome};
use crate::server_fns::{DashboardError, form_setup, save_hook};
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

/// The form's signals, shared by its fields: what is typed, which fields
/// were left (their errors show from then on), whether a save was tried,
/// and the server's and the shared validation's errors.
#[derive(Clone, Copy)]
struct FormState {
    form: RwSignal<HookForm>,
    touched: RwSignal<HashSet<FormField>>,
    submitted: RwSignal<bool>,
    server_errors: RwSignal<Vec<FieldError>>,
    client_errors: Memo<Vec<(FormField, String)>>,
}

impl FormState {
    fn new(initial: HookForm, vertical: Vertical, catalogue: Catalogue, stored: Option<HookState>) -> Self {
        let form = RwSignal::new(initial);
        // The shared validation, re-run on every change.
        let client_errors = Memo::new(move |_| {
            let mode = stored.as_ref().map_or(Mode::Create, Mode::Replace);
            match form.read().validate(vertical, mode, &catalogue) {
                Ok(_) => Vec::new(),
                Err(errors) => errors_by_field(&errors),
            }
        });
        Self {
            form,
            touched: RwSignal::new(HashSet::new()),
            submitted: RwSignal::new(false),
            server_errors: RwSignal::new(Vec::new()),
            client_errors,
        }
    }

    /// The server's error for the field, else the shared validation's once
    /// the field was typed in or left, or a save was tried.
    fn error_for(self, field: FormField) -> Option<String> {
        if let Some((_, m)) = errors_by_field(&self.server_errors.read()).into_iter().find(|(f, _)| *f == field) {
            return Some(m);
        }
        if !self.submitted.get() && !self.touched.read().contains(&field) {
            return None;
        }
        self.client_errors.read().iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone())
    }

    /// A typed change: the shared validation speaks for the field from now
    /// on (as you type), and the server's old error for it no longer applies.
    fn edit(self, field: FormField, change: impl FnOnce(&mut HookForm)) {
        self.form.update(change);
        self.touched.update(|t| {
            t.insert(field);
        });
        self.server_errors.update(|e| e.retain(|x| hook_form::form_field(&x.field) != field));
    }
}

/// What the form starts from: the stored hook, or a new one's defaults.
fn initial_form(setup: &FormSetup, vertical: Vertical) -> (HookForm, Option<HookState>) {
    let Some(h) = setup.hook.as_ref() else {
        let fresh = HookForm {
            auth_type: hook_form::auth_types(vertical)[0],
            hook_type: setup.hook_types.first().cloned().unwrap_or_default(),
            is_active: true,
            ..HookForm::default()
        };
        return (fresh, None);
    };
    let stored = HookState {
        endpoint: h.form.endpoint.clone(),
        auth_type: h.form.auth_type,
        username: Some(h.form.username.clone()).filter(|u| !u.is_empty()),
        secrets: StoredSecrets { password: h.has_password, token: h.has_token },
        hook_type: Some(h.form.hook_type.clone()).filter(|t| !t.is_empty()),
        shop: Some(h.form.shop.clone()).filter(|s| !s.is_empty()),
        is_active: h.form.is_active,
        delivery: h.delivery.clone(),
    };
    (h.form.clone(), Some(stored))
}

type SaveInput = (Option<String>, HookForm);

/// Saves through the server function; on success goes to the hook (or shows
/// the token Hookrelay made), else puts the server's errors on the fields.
fn save_action(
    state: FormState,
    fresh_token: RwSignal<Option<(String, String)>>,
) -> Action<SaveInput, Result<SaveOutcome, DashboardError>> {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let save = Action::new(move |(id, form): &SaveInput| {
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
                state.server_errors.set(errors);
                toasts.error("The server refused the hook: see the highlighted fields.");
            }
            Err(e) => toasts.error(e.to_string()),
        }
    });
    save
}

#[component]
fn HookEditor(setup: FormSetup) -> impl IntoView {
    let toasts = use_toasts();
    let vertical: Vertical = setup.vertical.parse().unwrap_or_default();
    let (initial, stored) = initial_form(&setup, vertical);
    let state = FormState::new(initial, vertical, catalogue_for(vertical, &setup.hook_types), stored);
    let editing = setup.hook.is_some();
    let hook_id = setup.hook.as_ref().map(|h| h.id.clone());
    let fresh_token = RwSignal::new(None::<(String, String)>);
    let save = save_action(state, fresh_token);
    let on_submit = {
        let hook_id = hook_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            state.submitted.set(true);
            if !state.client_errors.read().is_empty() {
                toasts.error("Please fix the highlighted fields.");
                return;
            }
            save.dispatch((hook_id.clone(), state.form.get()));
        }
    };
    let title = if editing { "Edit hook" } else { "New hook" };
    let cancel_to = hook_id.map_or_else(|| "/hooks".to_owned(), |id| format!("/hooks/{id}"));
    view! {
        <Title text=title/>
        <section class="page narrow">
            <h1>{title}</h1>
            {move || fresh_token.get().map(|(id, token)| view! { <FreshToken id token/> })}
            // A class, not a style attribute: the page's CSP allows no inline style.
            <form class="card form" novalidate on:submit=on_submit
                  class:is-hidden=move || fresh_token.read().is_some()>
                {move || state.error_for(FormField::Other).map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <TextField state field=FormField::Endpoint id="hook-endpoint" label="Endpoint URL" kind="url"
                    get=|f| f.endpoint.clone() set=|f, v| f.endpoint = v/>
                <AuthFields state vertical/>
                {(vertical == Vertical::Flightrates).then(|| view! {
                    <FlightratesFields state hook_types=setup.hook_types.clone()/>
                })}
                <DeliveryFields state/>
                <div class="field field-check">
                    <input id="hook-active" type="checkbox"
                           checked=state.form.read_untracked().is_active
                           prop:checked=move || state.form.read().is_active
                           on:change=move |ev| {
                               let checked = event_target_checked(&ev);
                               state.form.update(|f| f.is_active = checked);
                           }/>
                    <label for="hook-active">"Active (receives events)"</label>
                </div>
                {editing.then(|| view! {
                    <p class="hint">"Stored secrets show as dots; they stay unchanged unless you type new ones."</p>
                })}
                <div class="actions">
                    <button type="submit" class="button" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save hook" }}
                    </button>
                    <a class="button button-secondary" href=cancel_to>"Cancel"</a>
                </div>
            </form>
        </section>
    }
}

/// The token Hookrelay made for a new hook, shown once, with a copy button.
#[component]
fn FreshToken(id: String, token: String) -> impl IntoView {
    let copied = token.clone();
    view! {
        <div class="fresh-key card" role="status">
            <p><strong>"Hook saved. "</strong>
               "Hookrelay made this token for it; every delivery sends it as "
               <code>"x-hook-token"</code>". Copy it now: it will not be shown again."</p>
            <div class="secret-row">
                <code class="secret" data-testid="generated-token">{token}</code>
                <CopyButton text=Signal::derive(move || copied.clone()) label="Copy token"/>
            </div>
            <a class="button" href=format!("/hooks/{id}")>"Go to the hook"</a>
        </div>
    }
}

/// One text input bound to one form field, with its error below it.
#[component]
fn TextField(
    state: FormState,
    field: FormField,
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    get: fn(&HookForm) -> String,
    set: fn(&mut HookForm, String),
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            // `value` is what the server renders (a page read without
            // JavaScript, or before hydration); `prop:value` keeps it live.
            <input id=id type=kind autocomplete="off"
                   value=get(&state.form.read_untracked())
                   prop:value=move || get(&state.form.read())
                   aria-invalid=move || if state.error_for(field).is_some() { "true" } else { "false" }
                   aria-describedby=error_id.clone()
                   on:input=move |ev| {
                       let value = event_target_value(&ev);
                       state.edit(field, |f| set(f, value));
                   }
                   on:blur=move |_| state.touched.update(|t| { t.insert(field); })/>
            <p class="field-error" id=error_id>{move || state.error_for(field)}</p>
        </div>
    }
}

/// The auth type, and the credential inputs it needs.
#[component]
fn AuthFields(state: FormState, vertical: Vertical) -> impl IntoView {
    // A memo, so typing in a credential input (a change of the form, not of
    // its auth type) does not rebuild that input under the cursor.
    let auth = Memo::new(move |_| state.form.read().auth_type);
    let auth = move || auth.get();
    view! {
        <div class="field">
            <label for="hook-auth">"Authentication"</label>
            <select id="hook-auth"
                    prop:value=move || auth().as_str()
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        state.form.update(|f| f.auth_type = AuthType::parse(&value).unwrap_or_default());
                    }>
                // `selected` on the option, not only the select's value: the
                // value is set before the options exist when the form is
                // built in the browser (Edit from a hook's page), and the
                // server renders no property.
                {hook_form::auth_types(vertical).iter().map(|a| {
                    let a = *a;
                    view! { <option value=a.as_str() selected=move || auth() == a>{a.label()}</option> }
                }).collect_view()}
            </select>
            <p class="field-error">{move || state.error_for(FormField::AuthType)}</p>
        </div>
        {move || hook_form::needs_username(auth()).then(|| {
            let label = if auth() == AuthType::Jwt { "User ID (JWT subject)" } else { "User name" };
            view! { <TextField state field=FormField::Username id="hook-username" label kind="text"
                get=|f| f.username.clone() set=|f, v| f.username = v/> }
        })}
        {move || hook_form::needs_password(auth()).then(|| view! {
            <TextField state field=FormField::Password id="hook-password" label="Password" kind="password"
                get=|f| f.password.clone() set=|f, v| f.password = v/>
        })}
        {move || hook_form::needs_token(auth()).then(|| {
            let label = if auth() == AuthType::Jwt { "JWT signing secret" } else { "Bearer token" };
            view! { <TextField state field=FormField::Token id="hook-token" label kind="password"
                get=|f| f.token.clone() set=|f, v| f.token = v/> }
        })}
    }
}

/// FlightRates hooks only: the hook type and the shop.
#[component]
fn FlightratesFields(state: FormState, hook_types: Vec<String>) -> impl IntoView {
    view! {
        <div class="field">
            <label for="hook-type">"Hook type"</label>
            <select id="hook-type"
                    prop:value=move || state.form.read().hook_type.clone()
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        state.form.update(|f| f.hook_type = value);
                    }>
                {hook_types.into_iter().map(|t| {
                    let (label, this) = (t.clone(), t.clone());
                    let selected = move || state.form.read().hook_type == this;
                    view! { <option value=t selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            <p class="field-error">{move || state.error_for(FormField::HookType)}</p>
        </div>
        <TextField state field=FormField::Shop id="hook-shop" label="Shop" kind="text"
            get=|f| f.shop.clone() set=|f, v| f.shop = v/>
    }
}

/// Headers sent with every delivery (plain and secret, one `Name: value`
/// per line), the hook's own timeout and its pace.
#[component]
fn DeliveryFields(state: FormState) -> impl IntoView {
    view! {
        <fieldset class="fieldset">
            <legend>"Delivery"</legend>
            <LinesField state field=FormField::Headers id="hook-headers" label="Headers"
                hint="One per line, e.g. X-Tenant: acme"
                get=|f| f.headers.clone() set=|f, v| f.headers = v/>
            <LinesField state field=FormField::SecretHeaders id="hook-secret-headers" label="Secret headers"
                hint="Stored encrypted and shown masked; leave a masked value to keep it"
                get=|f| f.secret_headers.clone() set=|f, v| f.secret_headers = v/>
            <TextField state field=FormField::Timeout id="hook-timeout" label="Timeout (seconds, 1–30)" kind="number"
                get=|f| f.timeout_seconds.clone() set=|f, v| f.timeout_seconds = v/>
            <TextField state field=FormField::RateLimit id="hook-rate-limit" label="Rate limit (deliveries per second)"
                kind="number" get=|f| f.rate_limit.clone() set=|f, v| f.rate_limit = v/>
            <TextField state field=FormField::MaxInFlight id="hook-max-in-flight" label="Max in flight (attempts at once)"
                kind="number" get=|f| f.max_in_flight.clone() set=|f, v| f.max_in_flight = v/>
            <div class="field field-check">
                <input id="hook-ordered" type="checkbox" aria-describedby="hook-ordered-hint"
                       checked=state.form.read_untracked().ordered
                       prop:checked=move || state.form.read().ordered
                       on:change=move |ev| {
                           let checked = event_target_checked(&ev);
                           state.form.update(|f| f.ordered = checked);
                       }/>
                <label for="hook-ordered">"Ordered delivery"</label>
                <p class="hint" id="hook-ordered-hint">
                    "One attempt at a time, in publish order: a failing delivery holds back the later ones."
                </p>
            </div>
        </fieldset>
    }
}

/// A multi-line input bound to one form field, with a hint and its error.
#[component]
fn LinesField(
    state: FormState,
    field: FormField,
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    get: fn(&HookForm) -> String,
    set: fn(&mut HookForm, String),
) -> impl IntoView {
    let (error_id, hint_id) = (format!("{id}-error"), format!("{id}-hint"));
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <textarea id=id rows="3" autocomplete="off" spellcheck="false"
                   prop:value=move || get(&state.form.read())
                   aria-invalid=move || if state.error_for(field).is_some() { "true" } else { "false" }
                   aria-describedby=format!("{hint_id} {error_id}")
                   on:input=move |ev| {
                       let value = event_target_value(&ev);
                       state.edit(field, |f| set(f, value));
                   }
                   on:blur=move |_| state.touched.update(|t| { t.insert(field); })>
                {get(&state.form.read_untracked())}
            </textarea>
            <p class="hint" id=hint_id>{hint}</p>
            <p class="field-error" id=error_id>{move || state.error_for(field)}</p>
        </div>
    }
}
