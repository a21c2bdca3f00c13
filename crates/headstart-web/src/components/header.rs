//! The header: the page's name, the model's status badge, and the line saying where the work
//! is saved.

use super::{SharedState, StateProps};
use headstart_app::{ModelStatus, StorageState};
use yew::prelude::*;

/// Whether the page works with no network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineCopy {
    /// Not asked for yet, or being installed.
    Preparing,
    /// Every file of the page is cached: it works with no network.
    Ready,
    /// This browser cannot keep one.
    Unavailable,
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub state: SharedState,
    /// The bytes the page keeps on this device, last estimated.
    pub bytes_stored: Option<f64>,
    pub offline_copy: OfflineCopy,
    /// "New project" (the root asks the student to confirm).
    pub on_new_project: Callback<()>,
}

#[function_component]
pub fn Header(props: &HeaderProps) -> Html {
    html! {
        <header>
            <h1>{ "Headstart" }</h1>
            <p class="tagline">{ "Teach a pretrained network new classes from a few photos. Everything runs on this device; no photo leaves it." }</p>
            <ModelStatusLine state={props.state.clone()} />
            <StorageLine state={props.state.clone()} bytes_stored={props.bytes_stored}
                offline_copy={props.offline_copy} on_new_project={props.on_new_project.clone()} />
        </header>
    }
}

/// The model loading (with its progress), ready (the badge: which path, how many workers,
/// and why), or failed.
#[function_component]
fn ModelStatusLine(props: &StateProps) -> Html {
    match &props.state.model_status {
        ModelStatus::Loading { received, total } => {
            let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
            html! {
                <div class="model-status" data-testid="model-loading">
                    { "Loading the pretrained model… " }
                    <progress data-testid="model-progress" value={received.to_string()}
                        max={total.unwrap_or(0).max(*received).max(1).to_string()}></progress>
                    { format!(" {} of {}", mb(*received), total.map_or("?".into(), mb)) }
                </div>
            }
        }
        ModelStatus::Ready {
            path,
            reason,
            workers,
        } => html! {
            <div class="model-status">
                <span class="badge" data-testid="backend" data-path={path.label()} data-workers={workers.to_string()}
                    title={reason.clone()}>
                    { format!("{} · {workers} worker{}", path.label(), if *workers == 1 { "" } else { "s" }) }
                </span>
                if props.state.storage == StorageState::Opening {
                    <span class="ready">{ "Opening your saved work…" }</span>
                } else {
                    <span data-testid="ready" class="ready">{ "Model ready" }</span>
                }
                <span class="why">{ reason.clone() }</span>
            </div>
        },
        ModelStatus::Failed(_) => html! {
            <div class="model-status error" role="alert" data-testid="model-error">
                { "The model could not start. Check the connection to the page's server and reload." }
            </div>
        },
    }
}

/// Whether and how much is saved on this device, whether the page works offline, and
/// "New project".
#[function_component]
fn StorageLine(props: &HeaderProps) -> Html {
    let state = &props.state;
    let (storage_state, text) = match state.storage {
        StorageState::Opening => ("opening", "Opening your saved work…".to_string()),
        StorageState::Saving => (
            "saving",
            match props.bytes_stored {
                Some(bytes) => format!("Saved on this device ({:.1} MB)", bytes / 1e6),
                None => "Saved on this device".into(),
            },
        ),
        StorageState::HeldByAnotherTab => ("other-tab", "Not saved: open in another tab".into()),
        StorageState::Unavailable => ("unavailable", "Not saved in this browser".into()),
    };
    let (offline_state, offline_text) = match props.offline_copy {
        OfflineCopy::Preparing => ("preparing", ""),
        OfflineCopy::Ready => ("ready", " · works offline"),
        OfflineCopy::Unavailable => ("unavailable", " · needs the network"),
    };
    html! {
        <div class="storage" data-testid="storage" data-state={storage_state}>
            <span data-testid="storage-used" data-bytes={props.bytes_stored.map(|b| b.to_string())}>{ text }</span>
            <span data-testid="offline" data-state={offline_state}>{ offline_text }</span>
            <button data-testid="new-project" disabled={state.storage == StorageState::Opening || state.training_busy()}
                onclick={props.on_new_project.reform(|_| ())}>{ "New project" }</button>
        </div>
    }
}
