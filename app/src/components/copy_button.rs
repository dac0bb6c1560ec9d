use super::use_toasts;
use leptos::prelude::*;

/// Copies `text` to the clipboard, with a toast saying whether it worked.
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>, #[prop(into)] label: String) -> impl IntoView {
    let toasts = use_toasts();
    let copy = move |_| {
        let value = text.get_untracked();
        let promise = window().navigator().clipboard().write_text(&value);
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(promise).await {
                Ok(_) => toasts.success("Copied to the clipboard."),
                Err(_) => toasts.error("Copying failed: select the text and copy it by hand."),
            }
        });
    };
    view! { <button type="button" class="button button-secondary" aria-label=label on:click=copy>"Copy"</button> }
}
