//! Toasts: short success/error messages after an action, announced to
//! screen readers (`role=status`/`alert`) and gone after a few seconds.

use leptos::prelude::*;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Toast {
    id: u64,
    error: bool,
    text: String,
}

/// The dashboard's toasts; `Copy`, so any closure can hold it.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: RwSignal<u64>,
}

const SHOWN_FOR: Duration = Duration::from_secs(6);

impl Toasts {
    pub fn success(self, text: impl Into<String>) {
        self.push(false, text.into());
    }

    pub fn error(self, text: impl Into<String>) {
        self.push(true, text.into());
    }

    /// The outcome of a server call: `success` (when not empty) or the
    /// error as a toast; the value on success.
    pub fn report<T>(
        self,
        result: Result<T, crate::server_fns::DashboardError>,
        success: impl Into<String>,
    ) -> Option<T> {
        match result {
            Ok(value) => {
                let text = success.into();
                if !text.is_empty() {
                    self.success(text);
                }
                Some(value)
            }
            Err(e) => {
                self.error(e.to_string());
                None
            }
        }
    }

    fn push(self, error: bool, text: String) {
        let id = self.next.get_untracked();
        self.next.set(id + 1);
        self.items.update(|items| items.push(Toast { id, error, text }));
        set_timeout(move || self.dismiss(id), SHOWN_FOR);
    }

    fn dismiss(self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts { items: RwSignal::new(Vec::new()), next: RwSignal::new(0) };
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(provide_toasts)
}

#[component]
pub fn ToastList() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div class=if toast.error { "toast toast-error" } else { "toast toast-ok" }
                     role=if toast.error { "alert" } else { "status" }>
                    <span>{toast.text.clone()}</span>
                    <button type="button" class="toast-close" aria-label="Dismiss"
                            on:click=move |_| toasts.dismiss(toast.id)>"×"</button>
                </div>
            </For>
        </div>
    }
}
