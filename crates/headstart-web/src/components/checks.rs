//! The diagnostic checks: `?check=backends` (WebGPU against the CPU on a real photo) and
//! `?check=messages` (the cost of one message to a worker).

use crate::text::tr;
use headstart_app::compute_reason;
use headstart_core::protocol::BackendCheck;
use headstart_text::Arg;
use yew::prelude::*;

/// Round trips measured by `?check=messages`.
pub const PINGS: usize = 100;

#[derive(Properties, PartialEq)]
pub struct BackendCheckProps {
    /// The comparison's outcome, once it ran.
    pub outcome: Option<BackendCheck>,
}

#[function_component]
pub fn BackendCheckReport(props: &BackendCheckProps) -> Html {
    let (state, text, differences) = match &props.outcome {
        None => ("running", tr!("backend-check-running"), None),
        Some(BackendCheck::Skipped(reason)) => (
            "skipped",
            tr!("backend-check-skipped", reason = compute_reason(reason)),
            None,
        ),
        Some(BackendCheck::Failed(error)) => {
            ("error", tr!("backend-check-failed", detail = error), None)
        }
        Some(BackendCheck::Compared {
            adapter,
            embedding_difference,
            probability_difference,
            same_predictions,
        }) => (
            "done",
            // The differences are tiny (1e-7): shown in scientific notation, as a diagnostic.
            tr!(
                "backend-check-compared",
                adapter = adapter,
                embedding = format!("{embedding_difference:e}"),
                probability = format!("{probability_difference:e}"),
                same = same_predictions.to_string(),
            ),
            Some((
                *embedding_difference,
                *probability_difference,
                *same_predictions,
            )),
        ),
    };
    html! {
        <section class="step" data-testid="backend-check" data-state={state}
            data-embedding-difference={differences.map(|d| d.0.to_string())}
            data-probability-difference={differences.map(|d| d.1.to_string())}
            data-same-predictions={differences.map(|d| d.2.to_string())}>
            <h2>{ tr!("backend-check-heading") }</h2>
            <p>{ text }</p>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct MessageCheckProps {
    /// The round trips measured so far, in milliseconds.
    pub round_trips: Vec<f64>,
}

#[function_component]
pub fn MessageCheckReport(props: &MessageCheckProps) -> Html {
    let round_trips = &props.round_trips;
    let done = round_trips.len() >= PINGS;
    let mut sorted = round_trips.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let max = sorted.last().copied().unwrap_or(0.0);
    html! {
        <section class="step" data-testid="message-check" data-state={if done { "done" } else { "running" }}
            data-median-ms={median.to_string()} data-max-ms={max.to_string()} data-count={round_trips.len().to_string()}>
            <h2>{ tr!("message-check-heading") }</h2>
            <p>{ tr!("message-check", count = round_trips.len(), median = Arg::decimal(median, 2), longest = Arg::decimal(max, 2)) }</p>
        </section>
    }
}
