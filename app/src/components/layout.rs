//! The frame around every page: product name, navigation, who is signed
//! in, the main landmark and the toasts. Without a session every page but
//! the login form sends the browser to `/login`.

use super::ToastList;
use crate::server_fns::{LogoutFn, current_user};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    // Asked again on every navigation: logging in or out changes the answer.
    let user = Resource::new(move || location.pathname.get(), |_| current_user());
    let logout = ServerAction::<LogoutFn>::new();
    let navigate = use_navigate();

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"⇢"</span>
                "Hookrelay"
            </a>
            <Transition fallback=|| ()>
                {move || {
                    let navigate = navigate.clone();
                    Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) => view! {
                            <nav aria-label="Main">
                                <ul>
                                    <li><A href="/" exact=true>"Overview"</A></li>
                                    <li><A href="/hooks">"Hooks"</A></li>
                                    <li><A href="/events">"Events"</A></li>
                                    <li><A href="/keys">"API keys"</A></li>
                                    <li><A href="/settings">"Settings"</A></li>
                                </ul>
                            </nav>
                            <div class="who">
                                <span class="who-email" data-testid="signed-in-as">{me.email}</span>
                                <ActionForm action=logout>
                                    <button type="submit" class="button button-quiet"
                                            disabled=move || logout.pending().get()>"Log out"</button>
                                </ActionForm>
                            </div>
                        }
                        .into_any(),
                        Ok(None) if location.pathname.get_untracked() != "/login" => {
                            // On the server a 302 (when headers are still unsent), in the browser a navigation.
                            #[cfg(feature = "ssr")]
                            {
                                let _ = &navigate;
                                leptos_axum::redirect("/login");
                            }
                            #[cfg(not(feature = "ssr"))]
                            navigate("/login", Default::default());
                            ().into_any()
                        }
                        _ => ().into_any(),
                    }
                })}}
            </Transition>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
        <footer class="footer">"Hookrelay " {crate::VERSION}</footer>
        <ToastList/>
    }
}
