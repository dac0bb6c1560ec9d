//! The overview's deliveries-per-hour chart: stacked bars drawn as SVG by
//! the app itself (no chart library, nothing fetched).

use crate::components::format;
use crate::server_fns::types::HourCount;
use leptos::prelude::*;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const AXIS: f64 = 20.0;

#[component]
pub fn DeliveryChart(hours: Vec<HourCount>) -> impl IntoView {
    let max = hours.iter().map(|h| h.succeeded + h.failed + h.pending).max().unwrap_or(0).max(1);
    let scale = (HEIGHT - AXIS) / max as f64;
    let slot = WIDTH / hours.len().max(1) as f64;
    let total: u64 = hours.iter().map(|h| h.succeeded + h.failed + h.pending).sum();
    let summary = format!("Deliveries per hour over the last 24 hours: {total} in all, at most {max} in one hour.");
    let bars = hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let x = i as f64 * slot + slot * 0.15;
            let w = slot * 0.7;
            let mut y = HEIGHT - AXIS;
            let mut segment = |n: u64, class: &'static str| {
                let h = n as f64 * scale;
                y -= h;
                (n > 0).then(|| view! { <rect class=class x=x y=y width=w height=h></rect> })
            };
            let ok = segment(h.succeeded, "bar-ok");
            let failed = segment(h.failed, "bar-failed");
            let pending = segment(h.pending, "bar-pending");
            let label = (i % 6 == 0).then(|| {
                view! { <text class="axis-label" x=x y=HEIGHT - 4.0>{format::hour(h.start)}</text> }
            });
            let tip = format!(
                "{}: {} succeeded, {} failed, {} pending",
                format::hour(h.start),
                h.succeeded,
                h.failed,
                h.pending
            );
            view! { <g><title>{tip}</title>{ok}{failed}{pending}{label}</g> }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary.clone()
                 preserveAspectRatio="none" data-testid="delivery-chart">
                <line class="axis" x1="0" y1=HEIGHT - AXIS x2=WIDTH y2=HEIGHT - AXIS></line>
                {bars}
            </svg>
            <figcaption>
                <span class="legend legend-ok">"succeeded"</span>
                <span class="legend legend-failed">"failed"</span>
                <span class="legend legend-pending">"pending"</span>
            </figcaption>
        </figure>
    }
}
