use super::format;
use crate::server_fns::types::AttemptView;
use leptos::prelude::*;

/// A delivery's attempts: time, status, duration, error and the answer's body.
#[component]
pub fn AttemptsTable(attempts: Vec<AttemptView>) -> impl IntoView {
    view! {
        <table class="table attempts">
            <caption class="visually-hidden">"Attempts"</caption>
            <thead><tr>
                <th scope="col">"Time"</th><th scope="col">"Status"</th><th scope="col">"Duration"</th>
                <th scope="col">"Error"</th><th scope="col">"Response"</th>
            </tr></thead>
            <tbody>
                {attempts.into_iter().map(|a| view! {
                    <tr class="attempt">
                        <td>{format::time(a.at)}</td>
                        <td>{a.status_code.map_or_else(|| "–".to_owned(), |c| c.to_string())}</td>
                        <td>{format!("{} ms", a.duration_ms)}</td>
                        <td>{a.error.unwrap_or_default()}</td>
                        <td>{a.response.filter(|r| !r.is_empty()).map(|r| view! {
                            <details><summary>"Body"</summary><pre>{r}</pre></details>
                        })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
