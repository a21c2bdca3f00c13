//! The diagnostic checks: `?check=backends` (WebGPU against the CPU on a real photo) and
//! `?check=messages` (the cost of one message to a worker).

use headstart_core::protocol::BackendCheck;
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
        None => (
            "running",
            "Comparing WebGPU with the CPU…".to_string(),
            None,
        ),
        Some(BackendCheck::Skipped(reason)) => ("skipped", format!("Skipped: {reason}."), None),
        Some(BackendCheck::Failed(error)) => ("error", format!("WebGPU failed: {error}."), None),
        Some(BackendCheck::Compared {
            adapter,
            embedding_difference,
            probability_difference,
            same_predictions,
        }) => (
            "done",
            format!(
                "On {adapter}: the photo's embedding differs by at most {embedding_difference:e}, \
                 class probabilities by at most {probability_difference:e}; \
                 same predicted classes: {same_predictions}."
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
            <h2>{ "WebGPU versus CPU" }</h2>
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
            <h2>{ "Cost of one message to a worker" }</h2>
            <p>{ format!("{} round trips: median {median:.2} ms, longest {max:.2} ms.", round_trips.len()) }</p>
        </section>
    }
}
