//! The root's side of the camera: turning it on, switching and stopping it, and taking its
//! frames for a class (one per tap, a burst while held) or for live classification.

use super::{App, Msg};
use crate::browser::now_ms;
use crate::camera::{CameraStream, Facing};
use crate::components::CameraShown;
use headstart_app::{Action, ClassId};
use wasm_bindgen::JsCast;
use web_sys::Blob;
use yew::html::Scope;
use yew::prelude::*;

/// How often the held capture button takes a frame, in milliseconds.
const BURST_MS: u32 = 250;

/// How often live classification checks whether the next frame is wanted, in milliseconds.
const LIVE_TICK_MS: u32 = 30;

/// What the camera reports, and what the student does with it.
pub enum CameraMsg {
    /// "Use the camera", or another camera chosen (its id), or "Switch camera" (`None`, the
    /// other facing).
    Start(Option<String>),
    /// The camera asked for is on (or could not start), with the cameras to choose from.
    Opened(Result<CameraStream, String>, Vec<(String, String)>),
    /// "Stop the camera".
    Stop,
    /// The capture button of a class went down: one frame now, more while it is held.
    CaptureStart(ClassId),
    /// The capture button went up (or the pointer left it).
    CaptureStop,
    /// The capture button pressed from the keyboard: one frame.
    CaptureOne(ClassId),
    /// The held capture button's next frame, or live classification's chance for one.
    Tick,
    /// A frame taken from the camera, for a class or for live classification (`None`).
    FrameTaken(Option<ClassId>, Result<Blob, String>),
    /// "Classify the camera live" on or off.
    Live(bool),
}

/// A callback that sends the root one of the camera's messages.
pub fn camera_callback<T: 'static>(link: &Scope<App>, msg: fn(T) -> CameraMsg) -> Callback<T> {
    link.callback(move |value| Msg::Camera(msg(value)))
}

/// The camera while it is on.
pub struct CameraOn {
    stream: CameraStream,
    /// The cameras to choose from, as `(id, label)`.
    devices: Vec<(String, String)>,
    /// The camera in use, when chosen from the list.
    device: Option<String>,
    facing: Facing,
    /// The class whose capture button is held.
    burst: Option<ClassId>,
    /// A frame is being taken.
    taking: bool,
    /// Frames taken into classes so far (they are named by it).
    captured: u32,
    /// Ticks while a button is held or live classification is on.
    ticks: Option<gloo_timers::callback::Interval>,
    /// When live classification started (for the frame rate).
    live_since: f64,
}

impl CameraOn {
    /// What the page shows of it.
    pub fn shown(&self) -> CameraShown {
        CameraShown {
            devices: self.devices.clone(),
            device: self.device.clone(),
            live_since: self.live_since,
        }
    }
}

impl App {
    /// Handles a camera message; whether the page renders after it.
    pub(super) fn on_camera(&mut self, msg: CameraMsg) -> bool {
        match msg {
            CameraMsg::Start(device) => self.start_camera(device),
            CameraMsg::Opened(opened, devices) => self.camera_opened(opened, devices),
            CameraMsg::Live(on) => {
                self.apply(Action::Live(on));
                if let Some(camera) = &mut self.camera {
                    camera.live_since = now_ms();
                }
                self.tick_camera();
            }
            CameraMsg::Stop => {
                self.camera = None;
                self.apply(Action::Live(false));
            }
            CameraMsg::CaptureStart(class) => {
                if let Some(camera) = &mut self.camera {
                    camera.burst = Some(class);
                }
                self.take_frame(Some(class));
                self.tick_camera();
            }
            CameraMsg::CaptureOne(class) => self.take_frame(Some(class)),
            CameraMsg::CaptureStop => {
                if let Some(camera) = &mut self.camera {
                    camera.burst = None;
                }
                self.tick_camera();
            }
            CameraMsg::Tick => {
                if let Some(camera) = &self.camera {
                    match camera.burst {
                        Some(class) => self.take_frame(Some(class)),
                        None if self.state.wants_live_frame() => self.take_frame(None),
                        None => {}
                    }
                }
                return false;
            }
            CameraMsg::FrameTaken(target, taken) => return self.frame_taken(target, taken),
        }
        true
    }

    /// Turns on the camera `device` (or the other facing one, or the front one at first).
    fn start_camera(&mut self, device: Option<String>) {
        let facing = match (&self.camera, &device) {
            (Some(camera), None) => camera.facing.flipped(),
            (Some(camera), Some(_)) => camera.facing,
            (None, _) => Facing::User,
        };
        // The camera in use goes first: some devices open only one at a time.
        self.camera = None;
        self.camera_facing = facing;
        let link = self.link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let opened = crate::camera::open(device.as_deref(), facing).await;
            let devices = crate::camera::cameras().await;
            link.send_message(Msg::Camera(CameraMsg::Opened(opened, devices)));
        });
    }

    fn camera_opened(
        &mut self,
        opened: Result<CameraStream, String>,
        devices: Vec<(String, String)>,
    ) {
        match opened {
            Ok(stream) => {
                let device = (stream.0.get_video_tracks().get(0))
                    .dyn_into::<web_sys::MediaStreamTrack>()
                    .ok()
                    .and_then(|track| {
                        let settings = track.get_settings();
                        js_sys::Reflect::get(&settings, &"deviceId".into())
                            .ok()?
                            .as_string()
                    });
                self.camera = Some(CameraOn {
                    stream,
                    devices,
                    device,
                    facing: self.camera_facing,
                    burst: None,
                    taking: false,
                    captured: 0,
                    ticks: None,
                    live_since: now_ms(),
                });
                self.tick_camera();
            }
            Err(detail) => self.apply(Action::CameraFailed(detail)),
        }
    }

    /// Ticks while the capture button is held or live classification is on; none otherwise.
    fn tick_camera(&mut self) {
        let live = self.state.live.is_some();
        let Some(camera) = &mut self.camera else {
            return;
        };
        let every = match (camera.burst, live) {
            (Some(_), _) => Some(BURST_MS),
            (None, true) => Some(LIVE_TICK_MS),
            (None, false) => None,
        };
        camera.ticks = every.map(|ms| {
            let link = self.link.clone();
            gloo_timers::callback::Interval::new(ms, move || {
                link.send_message(Msg::Camera(CameraMsg::Tick))
            })
        });
    }

    /// Takes the video's current frame for a class, or for live classification (`None`).
    fn take_frame(&mut self, target: Option<ClassId>) {
        let Some(camera) = self.camera.as_mut().filter(|camera| !camera.taking) else {
            return;
        };
        let Some(video) = self.video.cast::<web_sys::HtmlVideoElement>() else {
            return;
        };
        camera.taking = true;
        let link = self.link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let taken = crate::camera::frame(&video).await;
            link.send_message(Msg::Camera(CameraMsg::FrameTaken(target, taken)));
        });
    }

    /// A frame goes to its class (named by the frames captured so far) or to live
    /// classification; whether the page renders after it.
    fn frame_taken(&mut self, target: Option<ClassId>, taken: Result<Blob, String>) -> bool {
        if let Some(camera) = &mut self.camera {
            camera.taking = false;
        }
        match (target, taken) {
            (Some(class), Ok(frame)) => {
                let Some(camera) = &mut self.camera else {
                    return false;
                };
                camera.captured += 1;
                let name = format!("camera-{}.jpg", camera.captured);
                self.apply(Action::AddPhotos(class, vec![(name, frame)]));
            }
            (None, Ok(frame)) => self.apply(Action::LiveFrame(frame)),
            (_, Err(detail)) => {
                web_sys::console::log_1(&format!("no frame: {detail}").into());
            }
        }
        true
    }

    /// Shows the camera's stream in its `<video>` once the element exists.
    pub(super) fn show_camera_stream(&self) {
        let (Some(camera), Some(video)) =
            (&self.camera, self.video.cast::<web_sys::HtmlVideoElement>())
        else {
            return;
        };
        if video.src_object().is_none() {
            video.set_src_object(Some(&camera.stream.0));
        }
    }
}
