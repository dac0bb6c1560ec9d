//! The login form. A plain HTML form posting to the login server function,
//! so it works before (and without) the WASM; with it, errors show inline.

use crate::server_fns::LoginFn;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Login() -> impl IntoView {
    let login = ServerAction::<LoginFn>::new();
    let error = move || login.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <Title text="Log in"/>
        <section class="page narrow">
            <h1>"Log in"</h1>
            <div class="card">
                <ActionForm action=login>
                    <div class="field">
                        <label for="login-email">"Email"</label>
                        <input id="login-email" type="email" name="email" autocomplete="username" required/>
                    </div>
                    <div class="field">
                        <label for="login-password">"Password"</label>
                        <input id="login-password" type="password" name="password" autocomplete="current-password" required/>
                    </div>
                    {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <button type="submit" class="button" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Logging in…" } else { "Log in" }}
                    </button>
                </ActionForm>
            </div>
            <p class="hint">"Accounts are made with " <code>"hookrelay user create"</code> "."</p>
        </section>
    }
}
