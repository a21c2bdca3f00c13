//! The header: the page's name, the model's status badge, and the line saying where the work
//! is saved.

use super::{SharedState, StateProps};
use crate::text::tr;
use headstart_app::{ModelStatus, StorageState, compute_reason};
use headstart_core::protocol::ComputePath;
use headstart_text::{Arg, Message, text};
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

/// Whether the browser keeps the saved work until the student deletes it, or may clear it when
/// space runs short (or, in Safari, after days without a visit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptOnDevice {
    /// Not known: the page does not save here, or this browser cannot say.
    Unknown,
    /// Kept until the student deletes it.
    Kept,
    /// The browser may clear it; `asked`: the student asked to keep it and the browser said no.
    MayBeCleared { asked: bool },
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub state: SharedState,
    /// The bytes the page keeps on this device, last estimated.
    pub bytes_stored: Option<f64>,
    pub offline_copy: OfflineCopy,
    pub kept: KeptOnDevice,
    /// "Keep it on this device": ask the browser not to clear the saved work.
    pub on_keep: Callback<()>,
    /// "New project" (the root asks the student to confirm).
    pub on_new_project: Callback<()>,
}

#[function_component]
pub fn Header(props: &HeaderProps) -> Html {
    html! {
        <header>
            <h1>{ tr!("app-name") }</h1>
            <p class="tagline">{ tr!("tagline") }</p>
            <ModelStatusLine state={props.state.clone()} />
            <StorageLine state={props.state.clone()} bytes_stored={props.bytes_stored}
                offline_copy={props.offline_copy} kept={props.kept} on_keep={props.on_keep.clone()}
                on_new_project={props.on_new_project.clone()} />
        </header>
    }
}

/// The model loading (with its progress), ready (the badge: which path, how many workers,
/// and why), or failed.
#[function_component]
fn ModelStatusLine(props: &StateProps) -> Html {
    match &props.state.model_status {
        ModelStatus::Loading { received, total } => {
            let total_size =
                total.map_or_else(|| text!("size-unknown"), |bytes| megabytes(bytes as f64));
            html! {
                <div class="model-status" data-testid="model-loading">
                    { tr!("model-loading") }
                    <progress data-testid="model-progress" value={received.to_string()}
                        max={total.unwrap_or(0).max(*received).max(1).to_string()}></progress>
                    { tr!("model-download-progress", received = megabytes(*received as f64), total = total_size) }
                </div>
            }
        }
        ModelStatus::Ready {
            path,
            reason,
            workers,
        } => {
            let reason = crate::text::render(&compute_reason(reason));
            html! {
            <div class="model-status">
                <span class="badge" data-testid="backend" data-path={path.label()} data-workers={workers.to_string()}
                    title={reason.clone()}>
                    { tr!("compute-badge", path = path_name(*path), workers = *workers) }
                </span>
                if props.state.storage == StorageState::Opening {
                    <span class="ready">{ tr!("opening-saved-work") }</span>
                } else {
                    <span data-testid="ready" class="ready">{ tr!("model-ready") }</span>
                }
                <span class="why">{ reason }</span>
            </div>
            }
        }
        ModelStatus::Failed(_) => html! {
            <div class="model-status error" role="alert" data-testid="model-error">
                { tr!("model-failed") }
            </div>
        },
    }
}

/// Whether and how much is saved on this device, whether the browser keeps it, whether the
/// page works offline, and "New project".
#[function_component]
fn StorageLine(props: &HeaderProps) -> Html {
    let state = &props.state;
    let (storage_state, text) = match state.storage {
        StorageState::Opening => ("opening", tr!("opening-saved-work")),
        StorageState::Saving if state.last_save_failed() => ("saving", tr!("storage-not-saved")),
        StorageState::Saving if state.saving_now() => ("saving", tr!("storage-saving")),
        StorageState::Saving => (
            "saving",
            match props.bytes_stored {
                Some(bytes) => tr!("storage-saved-size", size = megabytes(bytes)),
                None => tr!("storage-saved"),
            },
        ),
        StorageState::HeldByAnotherTab => ("other-tab", tr!("storage-other-tab")),
        StorageState::Unavailable => ("unavailable", tr!("storage-unavailable")),
    };
    let (offline_state, offline_text) = match props.offline_copy {
        OfflineCopy::Preparing => ("preparing", String::new()),
        OfflineCopy::Ready => ("ready", tr!("offline-ready")),
        OfflineCopy::Unavailable => ("unavailable", tr!("offline-unavailable")),
    };
    let saving = state.storage == StorageState::Saving;
    html! {
        <div class="storage" data-testid="storage" data-state={storage_state}>
            <span data-testid="storage-used" data-bytes={props.bytes_stored.map(|b| b.to_string())}>{ text }</span>
            if saving {
                <Kept kept={props.kept} on_keep={props.on_keep.clone()} />
            }
            <span data-testid="offline" data-state={offline_state}>{ offline_text }</span>
            <button data-testid="new-project" disabled={state.storage == StorageState::Opening || state.training_busy()}
                onclick={props.on_new_project.reform(|_| ())}>{ tr!("new-project") }</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct KeptProps {
    kept: KeptOnDevice,
    on_keep: Callback<()>,
}

/// Whether the browser keeps the saved work, with "Keep it on this device" while it may not.
#[function_component]
fn Kept(props: &KeptProps) -> Html {
    let (state, text) = match props.kept {
        KeptOnDevice::Unknown => return Html::default(),
        KeptOnDevice::Kept => ("kept", tr!("storage-kept")),
        KeptOnDevice::MayBeCleared { asked: false } => {
            ("may-be-cleared", tr!("storage-may-be-cleared"))
        }
        KeptOnDevice::MayBeCleared { asked: true } => ("refused", tr!("storage-keep-refused")),
    };
    html! {
        <span class="kept" data-testid="kept" data-state={state}>
            { text }
            if props.kept != KeptOnDevice::Kept {
                <button data-testid="keep-on-device" onclick={props.on_keep.reform(|_| ())}>
                    { tr!("storage-keep") }</button>
            }
        </span>
    }
}

/// A size in bytes, in megabytes with one decimal.
fn megabytes(bytes: f64) -> Message {
    text!("size-mb", mb = Arg::decimal(bytes / 1e6, 1))
}

/// The compute path's name on the badge.
fn path_name(path: ComputePath) -> Message {
    match path {
        ComputePath::Cpu => text!("compute-path-cpu"),
        ComputePath::WebGpu => text!("compute-path-webgpu"),
    }
}
