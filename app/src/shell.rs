//! The HTML document and the router: every page of the dashboard hangs off `App`.

use crate::components::{Layout, provide_toasts};
use crate::pages::{
    ApiKeys, EventDetailPage, EventsList, HookDetailPage, HookEditorPage, HooksList, Login, NotFound, Overview,
    Settings,
};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The server-rendered document around the app (used by SSR only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Here rather than in `App`: the bundle's name (hashed when the
                // site is embedded) is known on the server only.
                <link rel="stylesheet" id="leptos" href=format!("/pkg/{}.css", options.output_name)/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A fresh nonce for this page's inline scripts (Leptos adds it to the
/// hydration and resource scripts) and the policy that allows only those,
/// the site's own files and the WASM: no other inline script, no framing.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    leptos::nonce::provide_nonce();
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    // `cargo leptos watch` reloads the page over a WebSocket on its own port.
    let reload = if std::env::var_os("LEPTOS_WATCH").is_some() { " ws: wss:" } else { "" };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'{reload}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_toasts();

    // Effects only run in the browser, so this marks the moment the WASM has
    // taken over the server-rendered page (end-to-end tests wait for it).
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|page: String| if page.is_empty() { "Hookrelay".to_owned() } else { format!("{page} · Hookrelay") }/>
        // Async: every page is rendered once its data is in, so a missing session
        // (302 to /login) and another account's id (404) set the status code.
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Overview ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=Login ssr=SsrMode::Async/>
                    <Route path=path!("/hooks") view=HooksList ssr=SsrMode::Async/>
                    <Route path=path!("/hooks/new") view=HookEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/hooks/:id") view=HookDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/hooks/:id/edit") view=HookEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/events") view=EventsList ssr=SsrMode::Async/>
                    <Route path=path!("/events/:id") view=EventDetailPage ssr=SsrMode::Async/>
                    <Route path=path!("/keys") view=ApiKeys ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=Settings ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
