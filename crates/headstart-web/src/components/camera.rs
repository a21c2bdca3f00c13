//! The camera: turn it on, choose or switch it, see it, and classify what it shows live.

use super::{SharedState, checked, selected};
use crate::browser::now_ms;
use crate::text::tr;
use headstart_text::Arg;
use yew::prelude::*;

/// What the page shows of a camera that is on.
#[derive(Clone, PartialEq)]
pub struct CameraShown {
    /// The cameras to choose from, as `(id, label)`.
    pub devices: Vec<(String, String)>,
    /// The camera in use, when chosen from the list.
    pub device: Option<String>,
    /// When live classification started (for the frame rate).
    pub live_since: f64,
}

#[derive(Properties, PartialEq)]
pub struct CameraProps {
    pub state: SharedState,
    /// The camera while it is on; `None` offers to turn it on.
    pub shown: Option<CameraShown>,
    /// The `<video>` the root shows the stream in.
    pub video: NodeRef,
    /// "Use the camera", or another camera chosen (its id), or "Switch camera" (`None`, the
    /// other facing).
    pub on_start: Callback<Option<String>>,
    /// "Stop the camera".
    pub on_stop: Callback<()>,
    /// "Classify the camera live" on or off.
    pub on_live: Callback<bool>,
}

#[function_component]
pub fn Camera(props: &CameraProps) -> Html {
    let Some(shown) = &props.shown else {
        return html! {
            <div class="camera">
                <button data-testid="webcam-start" disabled={!props.state.is_ready()}
                    onclick={props.on_start.reform(|_| None)}>{ tr!("camera-start") }</button>
            </div>
        };
    };
    html! {
        <div class="camera" data-testid="camera" data-device={shown.device.clone()}>
            <video ref={props.video.clone()} data-testid="camera-video" autoplay=true playsinline=true muted=true></video>
            <div class="row">
                if shown.devices.len() > 1 {
                    <label class="setting">
                        { tr!("camera-choose") }
                        <select data-testid="camera-select" onchange={props.on_start.reform(|event: Event| Some(selected(event)))}>
                            { for shown.devices.iter().map(|(id, label)| html! {
                                <option value={id.clone()} selected={shown.device.as_ref() == Some(id)}>{ label.clone() }</option>
                            }) }
                        </select>
                    </label>
                }
                <button data-testid="camera-switch" title={tr!("camera-switch-title")}
                    onclick={props.on_start.reform(|_| None)}>{ tr!("camera-switch") }</button>
                <button data-testid="camera-stop" onclick={props.on_stop.reform(|_| ())}>{ tr!("camera-stop") }</button>
            </div>
            <p class="hint">{ tr!("camera-hint") }</p>
            <Live state={props.state.clone()} live_since={shown.live_since} on_live={props.on_live.clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct LiveProps {
    state: SharedState,
    live_since: f64,
    on_live: Callback<bool>,
}

/// Live classification of the camera: the switch and the latest frame's prediction.
#[function_component]
fn Live(props: &LiveProps) -> Html {
    let state = &props.state;
    let live = state.live.as_ref();
    let latest = live.and_then(|live| Some((live, live.latest.as_ref()?)));
    let per_second = |frames: u32| {
        let seconds = (now_ms() - props.live_since) / 1000.0;
        if seconds > 0.0 {
            frames as f64 / seconds
        } else {
            0.0
        }
    };
    html! {
        <div class="live">
            <label class="switch">
                <input type="checkbox" data-testid="live-classify" checked={live.is_some()}
                    data-fps={live.map(|live| format!("{:.1}", per_second(live.frames)))}
                    disabled={state.model.is_none()}
                    onchange={props.on_live.reform(checked)} />
                { tr!("live-classify") }
            </label>
            if let Some((live, prediction)) = latest {
                <p class="live-prediction" data-testid="live-prediction" role="status"
                    data-label={prediction.top().0.to_string()} data-confidence={prediction.top().1.to_string()}
                    data-frames={live.frames.to_string()} data-model-version={prediction.model_version.to_string()}
                    data-fps={format!("{:.1}", per_second(live.frames))}>
                    <strong>{ tr!("live-prediction", label = prediction.top().0, confidence = Arg::percent(prediction.top().1)) }</strong>
                    { tr!("live-prediction-detail", version = prediction.model_version.0, fps = Arg::decimal(per_second(live.frames), 1)) }
                </p>
            }
        </div>
    }
}
