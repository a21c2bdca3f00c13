//! The page: renders [`AppState`], turns clicks, uploads, drops and worker events into its
//! [`Action`]s, and carries out the [`Effect`]s they return by talking to the [`WorkerPool`].
//! No model work happens here.

use crate::browser::{
    ObjectUrl, download, download_blob, fetch_blob, fetch_text, install_offline_copy, now_ms,
    query_param, read_bytes,
};
use crate::camera::{CameraStream, Facing};
use crate::curves::{view_curves, view_ways_curves};
use crate::pool::{PoolEvent, PoolSink, WorkerPool};
use crate::project_file::{open_project_file, project_file_blob};
use crate::storage::{IndexedDbStorage, StorageError, bytes_used, claim_saving};
use headstart_app::{
    Action, AppState, ClassEntry, ClassId, Effect, ImportChoice, MAX_CLASS_NAME_CHARS, ModelStatus,
    PREVIEW_VIEWS, PROJECT_FILE_NAME, Prediction, ProjectFileOptions, ProjectStorage, RunPurpose,
    SplitCounts, StorageAccess, StorageState, TrainingState, Way, WayState, parse_sample_index,
    worker_count,
};
use headstart_core::augment::AugmentationSettings;
use headstart_core::preprocess::{INPUT_SIZE, Normalization};
use headstart_core::protocol::{BackendCheck, ComputeChoice, Event as WorkerEvent, Request};
use headstart_core::training::{OptimizerKind, TrainedModel, TrainingSettings};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, DragEvent, File, FileList, HtmlInputElement, HtmlSelectElement};
use yew::html::Scope;
use yew::prelude::*;

/// Where the sample photos are listed, one `class/file` per line.
const SAMPLES_INDEX: &str = "samples/index.txt";

/// Least time between two renders caused by progress alone, in milliseconds.
const PROGRESS_RENDER_MS: f64 = 100.0;

/// Round trips measured by `?check=messages`.
const PINGS: usize = 100;

/// The page's actions, with browser files and self-revoking thumbnails.
type PageAction = Action<Blob, ObjectUrl>;

/// Everything that changes the page.
pub enum Msg {
    /// A rule of the page: handled by [`AppState::apply`].
    Do(PageAction),
    /// The pool is launching.
    Launched(Rc<RefCell<WorkerPool>>),
    /// Something the pool reports.
    Pool(PoolEvent),
    /// The "Try sample photos" button.
    LoadSamples,
    /// Test hook (`?test-hooks`): make model worker N panic.
    CrashWorker(usize),
    /// The wrong normalization the experiment tries next.
    ChooseWrongNormalization(Normalization),
    /// A model file was chosen to import.
    ImportModelFile(String, Blob),
    /// One setting edited: applied to the settings as they are when it is handled, so two
    /// quick edits (before the page re-renders) both count.
    EditSettings(Box<dyn FnOnce(&mut TrainingSettings)>),
    /// A number setting is being typed (name, text so far): applied when the input changes.
    TypeSetting(&'static str, String),
    /// What was typed into a number setting is not a number.
    DiscardTypedSetting,
    /// Storage opened: the saved work goes to the state, and the storage is kept to save into
    /// when this tab may save.
    StorageOpened(Option<Rc<IndexedDbStorage>>, PageAction),
    /// The bytes the page keeps on this device, as the browser estimates them.
    StorageUsed(f64),
    /// The "New project" button: asks the student to confirm first.
    NewProject,
    /// "Save project file".
    SaveProjectFile,
    /// What the next project file holds besides the photos.
    ProjectFileOptions(ProjectFileOptions),
    /// A project file was chosen to open.
    OpenProjectFile(String, Blob),
    /// Whether the offline copy of the page is in place (detail for the console if not).
    OfflineCopy(Result<(), String>),
    /// "Use the camera", or another camera chosen (its id), or "Switch camera" (`None`, the
    /// other facing).
    StartCamera(Option<String>),
    /// The camera asked for is on (or could not start), with the cameras to choose from.
    CameraOpened(Result<CameraStream, String>, Vec<(String, String)>),
    /// "Stop the camera".
    StopCamera,
    /// The capture button of a class went down: one frame now, more while it is held.
    CaptureStart(ClassId),
    /// The capture button went up (or the pointer left it).
    CaptureStop,
    /// The capture button pressed from the keyboard: one frame.
    CaptureOne(ClassId),
    /// The held capture button's next frame, or live classification's chance for one.
    CameraTick,
    /// A frame taken from the camera, for a class or for live classification (`None`).
    FrameTaken(Option<ClassId>, Result<Blob, String>),
    /// "Classify the camera live" on or off.
    Live(bool),
}

/// The camera while it is on.
struct Camera {
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

/// How often the held capture button takes a frame, in milliseconds.
const BURST_MS: u32 = 250;

/// How often live classification checks whether the next frame is wanted, in milliseconds.
const LIVE_TICK_MS: u32 = 30;

/// Whether the page works with no network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfflineCopy {
    /// Not asked for yet, or being installed.
    Preparing,
    /// Every file of the page is cached: it works with no network.
    Ready,
    /// This browser cannot keep one.
    Unavailable,
}

/// One number input of the settings: `apply` writes the typed value into a copy of the
/// settings, which the app then keeps within limits.
struct NumberSetting {
    /// The input's `name` and test id.
    name: &'static str,
    label: &'static str,
    /// One line for the student.
    help: &'static str,
    value: f64,
    step: f64,
    apply: fn(&mut TrainingSettings, f64),
}

/// `?check=messages`: round trips of a message to a worker and back, in milliseconds.
#[derive(Default)]
struct MessageCheck {
    sent_at: f64,
    round_trips: Vec<f64>,
}

/// The root component.
pub struct App {
    state: AppState<ObjectUrl>,
    pool: Option<Rc<RefCell<WorkerPool>>>,
    /// `?check=backends`: the WebGPU-versus-CPU comparison, once it ran.
    backend_check: Option<Option<BackendCheck>>,
    /// `?check=messages`: the per-message cost.
    message_check: Option<MessageCheck>,
    /// When progress alone last rendered the page (see [`PROGRESS_RENDER_MS`]).
    last_progress_render: f64,
    /// The wrong normalization the experiment tries.
    wrong_normalization: Normalization,
    /// The number setting being typed and its text so far. Yew rewrites an input from its
    /// `value` on every render, so without this a photo or a preview finishing mid-typing would
    /// wipe what was typed before it was applied.
    typed_setting: Option<(&'static str, String)>,
    /// Where the work is saved, once open and when this tab may save.
    storage: Option<Rc<IndexedDbStorage>>,
    /// The bytes the page keeps on this device, last estimated.
    bytes_stored: Option<f64>,
    /// What the next project file holds besides the photos.
    project_file_options: ProjectFileOptions,
    /// Whether the page works offline.
    offline_copy: OfflineCopy,
    /// The camera, while on.
    camera: Option<Camera>,
    /// The camera's `<video>`.
    video: NodeRef,
    /// The way the camera last asked for faces.
    camera_facing: Facing,
    link: Scope<App>,
}

/// Photos from a file list, as `(file name, file)`.
fn files_of(list: Option<FileList>) -> Vec<(String, Blob)> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file: File| (file.name(), Blob::from(file)))
        .collect()
}

fn input_files(event: &Event) -> Vec<(String, Blob)> {
    let input: HtmlInputElement = event.target_unchecked_into();
    let files = files_of(input.files());
    input.set_value("");
    files
}

fn dropped_files(event: &DragEvent) -> Vec<(String, Blob)> {
    event.prevent_default();
    files_of(event.data_transfer().and_then(|transfer| transfer.files()))
}

fn allow_drop(event: DragEvent) {
    event.prevent_default();
}

/// `window.headstartCrashWorker(n)`, `window.headstartPanicPage()` and
/// `window.headstartStorageFull(on)`, for browser tests of a worker that dies, of the page's own
/// panic banner and of a device whose storage is full.
fn install_test_hooks(link: &Scope<App>) {
    let link = link.clone();
    let crash =
        Closure::<dyn Fn(usize)>::new(move |index| link.send_message(Msg::CrashWorker(index)));
    let panic = Closure::<dyn Fn()>::new(|| panic!("a test asked the page to panic"));
    let full = Closure::<dyn Fn(bool)>::new(crate::storage::pretend_full);
    for (name, hook) in [
        ("headstartCrashWorker", crash.as_ref()),
        ("headstartPanicPage", panic.as_ref()),
        ("headstartStorageFull", full.as_ref()),
    ] {
        let _ = js_sys::Reflect::set(&crate::browser::window(), &name.into(), hook);
    }
    crash.forget();
    panic.forget();
    full.forget();
}

/// The images a worker attached to an event: one blob, or an array of them.
fn images(attachment: Option<JsValue>) -> Vec<ObjectUrl> {
    let Some(attachment) = attachment else {
        return Vec::new();
    };
    let values: Vec<JsValue> = match attachment.dyn_into::<js_sys::Array>() {
        Ok(array) => array.iter().collect(),
        Err(single) => vec![single],
    };
    values
        .into_iter()
        .filter_map(|value| ObjectUrl::new(&value.dyn_into::<Blob>().ok()?).ok())
        .collect()
}

/// Opens the saved work and tells the page what it holds and whether this tab may save.
fn open_storage(link: Scope<App>) {
    wasm_bindgen_futures::spawn_local(async move {
        let may_save = claim_saving().await;
        let opened = match IndexedDbStorage::open().await {
            Ok(storage) => storage
                .load()
                .await
                .map(|work| (storage, work.map(Box::new))),
            Err(error) => Err(error),
        };
        let (storage, action) = match opened {
            Ok((storage, work)) => {
                let access = match may_save {
                    true => StorageAccess::Granted,
                    false => StorageAccess::HeldByAnotherTab,
                };
                (
                    may_save.then(|| Rc::new(storage)),
                    Action::Restore { work, access },
                )
            }
            Err(error) => {
                let access = StorageAccess::Unavailable(error.to_string());
                (None, Action::Restore { work: None, access })
            }
        };
        link.send_message(Msg::StorageOpened(storage, action));
    });
}

impl App {
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
            link.send_message(Msg::CameraOpened(opened, devices));
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
                self.camera = Some(Camera {
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
            gloo_timers::callback::Interval::new(ms, move || link.send_message(Msg::CameraTick))
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
            link.send_message(Msg::FrameTaken(target, taken));
        });
    }

    /// Hands the state's unsaved changes to storage, as one transaction per action; a failure
    /// comes back as an action, and the bytes kept are estimated after each save.
    fn save_changes(&mut self) {
        let Some(storage) = self.storage.clone() else {
            return;
        };
        let changes = self.state.unsaved_changes();
        if changes.is_empty() {
            return;
        }
        let link = self.link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match storage.save(changes).await {
                Ok(()) => {
                    if let Some(bytes) = bytes_used().await {
                        link.send_message(Msg::StorageUsed(bytes));
                    }
                }
                Err(error) => link.send_message(Msg::Do(Action::SaveFailed {
                    quota: matches!(error, StorageError::Full(_)),
                    detail: error.to_string(),
                })),
            }
        });
    }

    /// Applies an action to the state, carries out its effects, then saves what changed:
    /// except after progress alone, and after a failed save (tried again on the next change,
    /// not at once: on a full device the retry would fail at once too, and again, without end).
    fn apply(&mut self, action: PageAction) {
        let saves = !matches!(
            action,
            Action::ModelProgress { .. }
                | Action::Worker(WorkerEvent::Epoch { .. }, _)
                | Action::SaveFailed { .. }
        );
        for effect in self.state.apply(action) {
            match effect {
                Effect::Send(request, file) => self.send(request, file.map(JsValue::from)),
                Effect::SendWithInput(request, input) => {
                    self.send(request, Some(input.blob().into()))
                }
                Effect::SendWithInputs(request, inputs) => {
                    let blobs: js_sys::Array = inputs.iter().map(ObjectUrl::blob).collect();
                    self.send(request, Some(blobs.into()))
                }
                Effect::Download { file_name, bytes } => {
                    if let Err(error) = download(&file_name, &bytes) {
                        web_sys::console::error_1(&format!("download failed: {error}").into());
                    }
                }
                Effect::Log(detail) => web_sys::console::log_1(&detail.into()),
            }
        }
        if saves {
            self.save_changes();
        }
    }

    fn send(&self, request: Request, attachment: Option<JsValue>) {
        if let Some(pool) = &self.pool {
            pool.borrow_mut().send(request, attachment);
        }
    }

    fn on_pool(&mut self, event: PoolEvent) {
        match event {
            PoolEvent::Progress(received, total) => {
                self.apply(Action::ModelProgress { received, total })
            }
            PoolEvent::Ready {
                path,
                reason,
                workers,
            } => {
                let first = !matches!(self.state.model_status, ModelStatus::Ready { .. });
                self.apply(Action::WorkersStarted {
                    path,
                    reason,
                    workers,
                });
                if !first {
                    return;
                }
                // The offline copy downloads the page's files once more, so it waits until the
                // model is ready rather than slowing the first start.
                let link = self.link.clone();
                let on_demand = self
                    .pool
                    .as_ref()
                    .map(|pool| pool.borrow().files_on_demand())
                    .unwrap_or_default();
                wasm_bindgen_futures::spawn_local(async move {
                    link.send_message(Msg::OfflineCopy(install_offline_copy(&on_demand).await));
                });
                if self.backend_check.is_some() {
                    self.send(Request::CheckBackends, None);
                }
            }
            PoolEvent::Failed(detail) => self.apply(Action::ModelFailed(detail)),
            PoolEvent::Worker(WorkerEvent::BackendCheck(outcome), _) => {
                self.backend_check = Some(Some(outcome))
            }
            PoolEvent::Worker(WorkerEvent::Pong, _) => self.on_pong(),
            PoolEvent::Worker(event, attachment) => {
                self.apply(Action::Worker(event, images(attachment)))
            }
        }
    }

    fn on_pong(&mut self) {
        let Some(check) = &mut self.message_check else {
            return;
        };
        check.round_trips.push(now_ms() - check.sent_at);
        if check.round_trips.len() < PINGS {
            check.sent_at = now_ms();
            self.send(Request::Ping, None);
        }
    }

    fn load_samples(link: &Scope<Self>) {
        let link = link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let index = match fetch_text(SAMPLES_INDEX).await {
                Ok(index) => index,
                Err(error) => return link.send_message(Msg::Do(Action::SamplesFailed(error))),
            };
            for class in parse_sample_index(&index) {
                let mut photos = Vec::new();
                for file in &class.files {
                    match fetch_blob(&format!("samples/{}", class.path(file))).await {
                        Ok(blob) => photos.push((file.clone(), blob)),
                        Err(error) => {
                            return link.send_message(Msg::Do(Action::SamplesFailed(error)));
                        }
                    }
                }
                link.send_message(Msg::Do(Action::AddSamples(class.name, photos)));
            }
        });
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let check = query_param("check");
        let checking_backends = check.as_deref() == Some("backends");
        // The comparison needs the first worker on the CPU.
        let choice = match checking_backends {
            true => ComputeChoice::Cpu,
            false => ComputeChoice::from_query(query_param("compute").as_deref()),
        };
        let cores = web_sys::window()
            .map(|w| w.navigator().hardware_concurrency() as usize)
            .unwrap_or(1);
        let requested = query_param("workers").and_then(|n| n.parse().ok());
        let size = worker_count(cores, requested);
        let link = ctx.link().clone();
        if query_param("test-hooks").is_some() {
            install_test_hooks(&link);
        }
        open_storage(link.clone());
        let sink_link = link.clone();
        let sink: PoolSink = Rc::new(move |event| sink_link.send_message(Msg::Pool(event)));
        wasm_bindgen_futures::spawn_local(async move {
            match WorkerPool::launch(size, choice, checking_backends, sink).await {
                Ok(pool) => link.send_message(Msg::Launched(pool)),
                Err(error) => link.send_message(Msg::Pool(PoolEvent::Failed(error))),
            }
        });
        Self {
            state: AppState::new(),
            pool: None,
            backend_check: checking_backends.then_some(None),
            message_check: (check.as_deref() == Some("messages")).then(MessageCheck::default),
            last_progress_render: 0.0,
            wrong_normalization: Normalization::Raw,
            typed_setting: None,
            storage: None,
            bytes_stored: None,
            project_file_options: ProjectFileOptions {
                embeddings: true,
                model: true,
            },
            offline_copy: OfflineCopy::Preparing,
            camera: None,
            video: NodeRef::default(),
            camera_facing: Facing::User,
            link: ctx.link().clone(),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        let progress_only = matches!(
            msg,
            Msg::Pool(PoolEvent::Progress(..))
                | Msg::Pool(PoolEvent::Worker(WorkerEvent::Epoch { .. }, _))
        );
        match msg {
            Msg::Do(action) => self.apply(action),
            Msg::Launched(pool) => self.pool = Some(pool),
            Msg::Pool(event) => self.on_pool(event),
            Msg::LoadSamples => Self::load_samples(ctx.link()),
            Msg::CrashWorker(index) => {
                if let Some(pool) = &self.pool {
                    pool.borrow().crash(index);
                }
            }
            Msg::TypeSetting(name, text) => self.typed_setting = Some((name, text)),
            Msg::DiscardTypedSetting => self.typed_setting = None,
            Msg::EditSettings(edit) => {
                self.typed_setting = None;
                let mut settings = self.state.settings.clone();
                edit(&mut settings);
                self.apply(Action::ChangeSettings(settings));
            }
            Msg::ImportModelFile(file_name, file) => {
                let link = ctx.link().clone();
                wasm_bindgen_futures::spawn_local(async move {
                    // A file that cannot even be read imports as an empty (refused) file.
                    let bytes = read_bytes(&file).await.unwrap_or_default();
                    link.send_message(Msg::Do(Action::ImportModel(file_name, bytes)));
                });
            }
            Msg::ChooseWrongNormalization(normalization) => {
                self.wrong_normalization = normalization;
                if self.state.experiment.is_some() {
                    self.apply(Action::WrongPreprocessing(Some(normalization)));
                }
            }
            Msg::StorageOpened(storage, restore) => {
                self.storage = storage;
                self.apply(restore);
            }
            Msg::StorageUsed(bytes) => self.bytes_stored = Some(bytes),
            Msg::ProjectFileOptions(options) => self.project_file_options = options,
            Msg::StartCamera(device) => self.start_camera(device),
            Msg::CameraOpened(opened, devices) => self.camera_opened(opened, devices),
            Msg::Live(on) => {
                self.apply(Action::Live(on));
                if let Some(camera) = &mut self.camera {
                    camera.live_since = now_ms();
                }
                self.tick_camera();
            }
            Msg::StopCamera => {
                self.camera = None;
                self.apply(Action::Live(false));
            }
            Msg::CaptureStart(class) => {
                if let Some(camera) = &mut self.camera {
                    camera.burst = Some(class);
                }
                self.take_frame(Some(class));
                self.tick_camera();
            }
            Msg::CaptureOne(class) => self.take_frame(Some(class)),
            Msg::CaptureStop => {
                if let Some(camera) = &mut self.camera {
                    camera.burst = None;
                }
                self.tick_camera();
            }
            Msg::CameraTick => {
                let Some(camera) = &self.camera else {
                    return false;
                };
                match camera.burst {
                    Some(class) => self.take_frame(Some(class)),
                    None if self.state.wants_live_frame() => self.take_frame(None),
                    None => {}
                }
                return false;
            }
            Msg::FrameTaken(target, taken) => {
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
            }
            Msg::OfflineCopy(copied) => {
                self.offline_copy = match copied {
                    Ok(()) => OfflineCopy::Ready,
                    Err(detail) => {
                        web_sys::console::log_1(&format!("no offline copy: {detail}").into());
                        OfflineCopy::Unavailable
                    }
                };
                // `?check=messages` measures a quiet page: once the offline copy (a download
                // of the whole page) is done.
                if let Some(check) = &mut self.message_check {
                    check.sent_at = now_ms();
                    self.send(Request::Ping, None);
                }
            }
            Msg::SaveProjectFile => {
                let saved = project_file_blob(&self.state, self.project_file_options)
                    .and_then(|blob| download_blob(PROJECT_FILE_NAME, &blob));
                if let Err(error) = saved {
                    web_sys::console::error_1(&format!("project file: {error}").into());
                }
            }
            Msg::OpenProjectFile(file_name, file) => {
                let link = ctx.link().clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let action = match open_project_file(file_name.clone(), &file).await {
                        Ok(project) => Action::OpenProject(Box::new(project)),
                        Err(error) => Action::ProjectFileRefused(file_name, error),
                    };
                    link.send_message(Msg::Do(action));
                });
            }
            Msg::NewProject => {
                let confirmed = crate::browser::window()
                    .confirm_with_message("Start a new project? Every class, photo and model on this device will be deleted.")
                    .unwrap_or(false);
                if confirmed {
                    self.apply(Action::NewProject);
                }
            }
        }
        // Progress alone (an epoch, a chunk of the download) renders at most every
        // PROGRESS_RENDER_MS: a fast run reports hundreds of epochs a second, and rendering each
        // kept the page's thread busy; whatever ends the run renders at once.
        if progress_only {
            let now = now_ms();
            if now - self.last_progress_render < PROGRESS_RENDER_MS {
                return false;
            }
            self.last_progress_render = now;
        }
        true
    }

    /// Shows the camera's stream in its `<video>` once the element exists.
    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        let (Some(camera), Some(video)) =
            (&self.camera, self.video.cast::<web_sys::HtmlVideoElement>())
        else {
            return;
        };
        if video.src_object().is_none() {
            video.set_src_object(Some(&camera.stream.0));
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let pending = self.state.photos_being_added() + self.state.photos_being_classified();
        let splits = self.state.split_per_class();
        html! {
            <div class="page">
                <header>
                    <h1>{ "Headstart" }</h1>
                    <p class="tagline">{ "Teach a pretrained network new classes from a few photos. Everything runs on this device; no photo leaves it." }</p>
                    { self.view_model_status() }
                    { self.view_storage(link) }
                </header>
                { self.view_notices() }
                { self.view_checks() }
                <main>
                    <section class="step classes">
                        <h2>{ "1. Classes and photos" }</h2>
                        <div class="class-list">
                            { for self.state.classes.iter().map(|class| {
                                let split = splits.iter().find(|(id, _)| *id == class.id).map(|(_, counts)| *counts);
                                view_class(link, class, split, self.camera.is_some())
                            }) }
                        </div>
                        <div class="row">
                            <button data-testid="add-class" onclick={link.callback(|_| Msg::Do(Action::AddClass))}>{ "+ Add a class" }</button>
                            <button data-testid="load-samples" disabled={!self.state.is_ready()}
                                onclick={link.callback(|_| Msg::LoadSamples)}>{ "Try sample photos" }</button>
                            if pending > 0 {
                                <span class="working" data-testid="pending-photos" role="status">{ format!("Working on {pending} photo(s)…") }</span>
                            }
                        </div>
                        { self.view_camera(link) }
                        { self.view_project_file(link) }
                    </section>
                    { self.view_training(link) }
                    { self.view_preprocessing(link) }
                    { self.view_confusion(link) }
                    { self.view_predictions(link) }
                    { self.view_comparison(link) }
                </main>
                <footer>
                    { "The backbone is EfficientNet-Lite0 pretrained on ImageNet; only a new head is trained on your photos (feature extraction). The model runs in background workers, so the page stays responsive." }
                </footer>
            </div>
        }
    }
}

impl App {
    fn view_checks(&self) -> Html {
        html! {
            <>
                { self.backend_check.as_ref().map(view_backend_check).unwrap_or_default() }
                { self.message_check.as_ref().map(view_message_check).unwrap_or_default() }
            </>
        }
    }

    fn view_model_status(&self) -> Html {
        match &self.state.model_status {
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
                    if self.state.storage == StorageState::Opening {
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

    fn view_storage(&self, link: &Scope<Self>) -> Html {
        let (state, text) = match self.state.storage {
            StorageState::Opening => ("opening", "Opening your saved work…".to_string()),
            StorageState::Saving => (
                "saving",
                match self.bytes_stored {
                    Some(bytes) => format!("Saved on this device ({:.1} MB)", bytes / 1e6),
                    None => "Saved on this device".into(),
                },
            ),
            StorageState::HeldByAnotherTab => {
                ("other-tab", "Not saved: open in another tab".into())
            }
            StorageState::Unavailable => ("unavailable", "Not saved in this browser".into()),
        };
        let (offline_state, offline_text) = match self.offline_copy {
            OfflineCopy::Preparing => ("preparing", ""),
            OfflineCopy::Ready => ("ready", " · works offline"),
            OfflineCopy::Unavailable => ("unavailable", " · needs the network"),
        };
        html! {
            <div class="storage" data-testid="storage" data-state={state}>
                <span data-testid="storage-used" data-bytes={self.bytes_stored.map(|b| b.to_string())}>{ text }</span>
                <span data-testid="offline" data-state={offline_state}>{ offline_text }</span>
                <button data-testid="new-project" disabled={self.state.storage == StorageState::Opening || self.state.training_busy()}
                    onclick={link.callback(|_| Msg::NewProject)}>{ "New project" }</button>
            </div>
        }
    }

    /// The camera: turn it on, choose or switch it, see it.
    fn view_camera(&self, link: &Scope<Self>) -> Html {
        let Some(camera) = &self.camera else {
            return html! {
                <div class="camera">
                    <button data-testid="webcam-start" disabled={!self.state.is_ready()}
                        onclick={link.callback(|_| Msg::StartCamera(None))}>{ "📷 Use the camera" }</button>
                </div>
            };
        };
        html! {
            <div class="camera" data-testid="camera" data-device={camera.device.clone()}>
                <video ref={self.video.clone()} data-testid="camera-video" autoplay=true playsinline=true muted=true></video>
                <div class="row">
                    if camera.devices.len() > 1 {
                        <label class="setting">
                            { "Camera" }
                            <select data-testid="camera-select" onchange={link.callback(|event: Event| {
                                Msg::StartCamera(Some(event.target_unchecked_into::<HtmlSelectElement>().value()))
                            })}>
                                { for camera.devices.iter().map(|(id, label)| html! {
                                    <option value={id.clone()} selected={camera.device.as_ref() == Some(id)}>{ label.clone() }</option>
                                }) }
                            </select>
                        </label>
                    }
                    <button data-testid="camera-switch" title="Front or back camera"
                        onclick={link.callback(|_| Msg::StartCamera(None))}>{ "Switch camera" }</button>
                    <button data-testid="camera-stop" onclick={link.callback(|_| Msg::StopCamera)}>{ "Stop the camera" }</button>
                </div>
                <p class="hint">{ "Tap a class's Capture button for one photo; hold it to take several." }</p>
                { self.view_live(link) }
            </div>
        }
    }

    /// Live classification of the camera: the switch and the latest frame's prediction.
    fn view_live(&self, link: &Scope<Self>) -> Html {
        let Some(camera) = &self.camera else {
            return html! {};
        };
        let live = self.state.live.as_ref();
        let latest = live.and_then(|live| Some((live, live.latest.as_ref()?)));
        let per_second = |frames: u32| {
            let seconds = (now_ms() - camera.live_since) / 1000.0;
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
                        disabled={self.state.model.is_none()}
                        onchange={link.callback(|event: Event| Msg::Live(event.target_unchecked_into::<HtmlInputElement>().checked()))} />
                    { "Classify the camera live" }
                </label>
                if let Some((live, prediction)) = latest {
                    <p class="live-prediction" data-testid="live-prediction" role="status"
                        data-label={prediction.top().0.to_string()} data-confidence={prediction.top().1.to_string()}
                        data-frames={live.frames.to_string()} data-model-version={prediction.model_version.to_string()}
                        data-fps={format!("{:.1}", per_second(live.frames))}>
                        <strong>{ format!("{} ({:.0}%)", prediction.top().0, prediction.top().1 * 100.0) }</strong>
                        { format!(" · model {} · {:.1} frames/s", prediction.model_version, per_second(live.frames)) }
                    </p>
                }
            </div>
        }
    }

    /// Saving the project as a file, opening one, and the question an open into work asks.
    fn view_project_file(&self, link: &Scope<Self>) -> Html {
        let options = self.project_file_options;
        let has_photos = self.state.classes.iter().any(|c| !c.photos.is_empty());
        let toggle = |name: &'static str,
                      label: &'static str,
                      on: bool,
                      set: fn(&mut ProjectFileOptions, bool)| {
            html! {
                <label class="switch">
                    <input type="checkbox" data-testid={name} checked={on}
                        onchange={link.callback(move |event: Event| {
                            let mut changed = options;
                            set(&mut changed, event.target_unchecked_into::<HtmlInputElement>().checked());
                            Msg::ProjectFileOptions(changed)
                        })} />
                    { label }
                </label>
            }
        };
        html! {
            <div class="project-file">
                <div class="row">
                    <button data-testid="export-project" disabled={!has_photos}
                        title="Save the classes and photos as one file to share (nothing is uploaded)"
                        onclick={link.callback(|_| Msg::SaveProjectFile)}>{ "Save project file" }</button>
                    { toggle("project-with-model", "with the model", options.model, |o, on| o.model = on) }
                    { toggle("project-with-embeddings", "with embeddings (opens faster)", options.embeddings, |o, on| o.embeddings = on) }
                    <label class={classes!("upload", (!self.state.is_ready()).then_some("disabled"))}>
                        { "Open a project file" }
                        <input type="file" accept=".hsp" data-testid="import-project" disabled={!self.state.is_ready()}
                            onchange={link.batch_callback(|event: Event| {
                                let (file_name, file) = input_files(&event).into_iter().next()?;
                                Some(Msg::OpenProjectFile(file_name, file))
                            })} />
                    </label>
                </div>
                if let Some(import) = &self.state.pending_import {
                    <div class="import-choice" data-testid="import-choice" role="alertdialog" aria-label="Open a project file">
                        <p>{ format!("\"{}\" holds {} photo(s) in {} class(es). This project already has work in it.",
                            import.file_name, import.classes.iter().map(|(_, p)| p.len()).sum::<usize>(), import.classes.len()) }</p>
                        <button data-testid="import-replace" onclick={link.callback(|_| Msg::Do(Action::ResolveImport(ImportChoice::Replace)))}>
                            { "Replace this project" }</button>
                        <button data-testid="import-merge" onclick={link.callback(|_| Msg::Do(Action::ResolveImport(ImportChoice::Merge)))}>
                            { "Add to this project" }</button>
                        <button data-testid="import-cancel" onclick={link.callback(|_| Msg::Do(Action::ResolveImport(ImportChoice::Cancel)))}>
                            { "Cancel" }</button>
                    </div>
                }
            </div>
        }
    }

    fn view_notices(&self) -> Html {
        if self.state.notices.is_empty() {
            return html! {};
        }
        html! {
            <ul class="notices" data-testid="notices" role="status">
                { for self.state.notices.iter().map(|notice| html! { <li>{ notice.sentence() }</li> }) }
            </ul>
        }
    }

    fn view_training(&self, link: &Scope<Self>) -> Html {
        let blocker = self.state.training_blocker();
        let percent = |value: f32| format!("{:.0}%", value * 100.0);
        let model = self.state.model.as_ref();
        let (detail, progress, curves) = match &self.state.training {
            TrainingState::Idle => (
                blocker.clone().unwrap_or_else(|| "Ready to train.".into()),
                None,
                None,
            ),
            TrainingState::Preparing {
                purpose,
                done,
                total,
            } => {
                let what = match purpose {
                    RunPurpose::Model | RunPurpose::Comparison => "augmented views",
                    RunPurpose::WrongPreprocessing(_) => "wrongly preprocessed inputs",
                };
                (
                    format!("Making {what} of the photos: {done} of {total}…"),
                    Some((*done, *total)),
                    None,
                )
            }
            TrainingState::Running {
                epochs,
                history,
                stopping,
                ..
            } => {
                let text = match (stopping, history.last()) {
                    (true, _) => format!("Stopping after epoch {}…", history.len() + 1),
                    (false, Some(report)) => format!(
                        "Epoch {} of {epochs}: loss {:.3}, training accuracy {}",
                        report.epoch,
                        report.train.loss,
                        percent(report.train.accuracy)
                    ),
                    (false, None) => format!("Starting {epochs} epochs…"),
                };
                let curves = view_curves("curves", history, *epochs, None);
                (text, Some((history.len(), *epochs)), Some(curves))
            }
            TrainingState::Done => match model
                .and_then(|m| Some((m, m.last_epoch()?, m.kept_epoch()?)))
            {
                // Off-the-shelf: no epochs, no curves.
                None if model.is_some_and(|m| m.history.is_empty()) => {
                    let model = model.expect("matched");
                    let validation = model
                        .validation_accuracy()
                        .map_or("no validation photos".into(), |a| {
                            format!("validation accuracy {}", percent(a))
                        });
                    let text = format!(
                        "{}: made from {} photos ({} held back for validation) in one look, no training: {validation}.",
                        model.weights.way().label(),
                        model.split.train,
                        model.split.validation,
                    );
                    (text, None, None)
                }
                Some((model, last, kept)) => {
                    let validation = kept.validation.map_or("no validation photos".into(), |v| {
                        format!(
                            "validation accuracy {} (loss {:.3})",
                            percent(v.accuracy),
                            v.loss
                        )
                    });
                    let how = match (model.stopped_early, model.restored_epoch) {
                        (true, _) => format!(
                            "Stopped after epoch {} of {}; kept the model as it was",
                            last.epoch, model.settings.epochs
                        ),
                        (false, Some(best)) => format!(
                            "Done after {} epochs; validation loss was lowest at epoch {best}, so the model keeps that epoch's weights",
                            last.epoch
                        ),
                        (false, None) => format!("Done after {} epochs", last.epoch),
                    };
                    let views = match model.split.views {
                        0 => String::new(),
                        views => format!(" and {views} augmented views"),
                    };
                    let text = format!(
                        "{}: {how}, on {} photos{views} ({} held back for validation): training accuracy {}, {validation}.",
                        model.weights.way().label(),
                        model.split.train,
                        model.split.validation,
                        percent(kept.train.accuracy)
                    );
                    let curves = view_curves(
                        "curves",
                        &model.history,
                        model.settings.epochs,
                        model.restored_epoch,
                    );
                    (
                        text,
                        Some((last.epoch, model.settings.epochs)),
                        Some(curves),
                    )
                }
                None => ("Done.".into(), None, None),
            },
            TrainingState::Discarded => (
                match model {
                    Some(model) => format!(
                        "Stopped before the first epoch ended: nothing was kept. Model {} is still in use.",
                        model.version
                    ),
                    None => "Stopped before the first epoch ended: nothing was kept.".into(),
                },
                None,
                None,
            ),
            TrainingState::Failed(reason) => (
                format!("Training stopped: {reason}. Your photos are kept; try again."),
                None,
                None,
            ),
        };
        let running = self.state.training_busy();
        let stopping = matches!(
            self.state.training,
            TrainingState::Running { stopping: true, .. }
        );
        let kept = model.and_then(|m| m.kept_epoch());
        html! {
            <section class="step training">
                <h2>{ "2. Train" }</h2>
                <div class="row">
                    <label class="setting way">
                        <span class="setting-name">{ "Way to train" }</span>
                        <select name="train_mode" data-testid="train-mode" disabled={running}
                            onchange={link.batch_callback(|event: Event| {
                                let select: HtmlSelectElement = event.target_unchecked_into();
                                Way::from_name(&select.value()).map(|way| Msg::Do(Action::ChooseTrainWay(way)))
                            })}>
                            { for Way::ALL.into_iter().map(|way| html! {
                                <option value={way.name()} selected={way == self.state.train_way}>{ way.label() }</option>
                            }) }
                        </select>
                    </label>
                    <button data-testid="train" class="primary" disabled={blocker.is_some()}
                        onclick={link.callback(|_| Msg::Do(Action::Train))}>{ "Train" }</button>
                    if running {
                        <button data-testid="stop-training" disabled={stopping}
                            onclick={link.callback(|_| Msg::Do(Action::StopTraining))}>{ "Stop" }</button>
                    }
                    { self.number_setting(link, NumberSetting { name: "epochs", label: "Epochs", help: "How many times training goes through all the photos.", value: self.state.settings.epochs as f64, step: 1.0, apply: |s, v| s.epochs = v as usize }) }
                                </div>
                <div class="train-status" data-testid="train-status" data-state={self.state.training.name()}
                    data-train-accuracy={kept.map(|r| r.train.accuracy.to_string())}
                    data-validation-accuracy={model.and_then(TrainedModel::validation_accuracy).map(|a| a.to_string())}
                    data-stopped-early={model.map(|m| m.stopped_early.to_string())}
                    data-views={model.map(|m| m.split.views.to_string())}>
                    if let Some((done, total)) = progress {
                        <progress value={done.to_string()} max={total.max(1).to_string()}></progress>
                    }
                    <p>{ detail }</p>
                    { curves.unwrap_or_default() }
                </div>
                { self.view_settings(link) }
                if let Some(model) = model {
                    <p class="model-info" data-testid="model-info" data-version={model.version.to_string()}
                        data-classes={model.class_names.join("\n")} data-way={model.weights.way().name()}
                        data-trainable-params={model.trainable_params.to_string()}>
                        { format!("In use: model {} ({}), {}, {} numbers trained", model.version, model.class_names.join(", "), model.weights.way().short_label(), format_count(model.trainable_params)) }
                    </p>
                }
                <div class="row model-file">
                    <button data-testid="export-model" disabled={model.is_none()}
                        title="Save the model in use as a file (nothing is uploaded)"
                        onclick={link.callback(|_| Msg::Do(Action::ExportModel))}>{ "Export model" }</button>
                    <label class="upload">
                        { "Import a model file" }
                        <input type="file" accept=".hsm" data-testid="import-model"
                            onchange={link.batch_callback(|event: Event| {
                                let (file_name, file) = input_files(&event).into_iter().next()?;
                                Some(Msg::ImportModelFile(file_name, file))
                            })} />
                    </label>
                </div>
                if self.state.classes_changed_since_training() {
                    <p class="hint">{ "Your classes changed since training: train again to include the changes." }</p>
                }
            </section>
        }
    }

    /// Ways to train side by side: the predicted ranking, the runs, their results, and the
    /// final test of them all.
    fn view_comparison(&self, link: &Scope<Self>) -> Html {
        let comparison = self.state.comparison.as_ref();
        let ranking_name = |ranking: &[Way]| {
            ranking
                .iter()
                .map(|way| way.name())
                .collect::<Vec<_>>()
                .join(">")
        };
        let ranking_label = |ranking: &[Way]| {
            ranking
                .iter()
                .map(|way| way.short_label())
                .collect::<Vec<_>>()
                .join(" > ")
        };
        let chosen = self
            .state
            .predicted_ranking()
            .map(|ranking| ranking_name(&ranking));
        let comparing =
            comparison.is_some_and(|c| c.results.iter().any(|r| r.state == WayState::Running));
        let blocked = self.state.training_blocker().is_some() || chosen.is_none();
        let percent =
            |value: Option<f32>| value.map_or("–".into(), |a| format!("{:.0}%", a * 100.0));
        html! {
            <section class="step compare" data-testid="compare">
                <h2>{ "4. Compare ways to train" }</h2>
                <p>{ "The same photos and split, six ways: the class average of the pretrained features (nearest centroid), the 5 most similar training photos voting (nearest neighbours), a new head on top of the frozen network, a new head trained together with the network's last blocks (fine-tuning), small LoRA corrections to those blocks while they stay frozen, and the same network learning from your photos alone (from scratch, at half resolution so that it finishes in a few minutes). Which will do best on photos it never saw? Predict first, then run." }</p>
                <div class="settings-grid">
                    { self.number_setting(link, NumberSetting { name: "unfreeze-blocks", label: "Blocks to fine-tune", help: "How many of the network's last blocks (of 16) learn too. Their BatchNorm statistics stay as pretrained: a few photos are too few to re-estimate them.", value: self.state.settings.fine_tuning.unfrozen_blocks as f64, step: 1.0, apply: |s, v| s.fine_tuning.unfrozen_blocks = v as usize }) }
                    { self.number_setting(link, NumberSetting { name: "backbone_learning_rate", label: "Their learning rate", help: "Pretrained layers learn with smaller steps than the new head, so they keep what they know.", value: self.state.settings.fine_tuning.backbone_learning_rate, step: 0.00001, apply: |s, v| s.fine_tuning.backbone_learning_rate = v }) }
                    { self.number_setting(link, NumberSetting { name: "lora-rank", label: "LoRA rank", help: "LoRA keeps those blocks frozen and learns a small correction beside each 1x1 layer: rank r adds r numbers per channel in and out (1 to 64).", value: self.state.settings.fine_tuning.lora_rank as f64, step: 1.0, apply: |s, v| s.fine_tuning.lora_rank = v as usize }) }
                </div>
                <div class="row">
                    <fieldset class="prediction-places" data-testid="predicted-ranking" data-ranking={chosen.clone()}>
                        <legend>{ "Your prediction, best first" }</legend>
                        { for self.state.predicted_places.iter().enumerate().map(|(place, way)| html! {
                            <label class="place">
                                <span>{ format!("{}.", place + 1) }</span>
                                <select data-testid="predicted-place" data-place={(place + 1).to_string()}
                                    aria-label={format!("Place {}", place + 1)}
                                    onchange={link.batch_callback(move |event: Event| {
                                        let select: HtmlSelectElement = event.target_unchecked_into();
                                        Way::from_name(&select.value()).map(|way| Msg::Do(Action::PredictPlace(place, way)))
                                    })}>
                                    <option value="" selected={way.is_none()} disabled=true>{ "choose…" }</option>
                                    { for Way::ALL.into_iter().map(|option| html! {
                                        <option value={option.name()} selected={*way == Some(option)}>{ option.short_label() }</option>
                                    }) }
                                </select>
                            </label>
                        }) }
                    </fieldset>
                    <button data-testid="compare-run" class="primary" disabled={blocked || comparing}
                        title={if chosen.is_none() { "Choose your prediction first" } else { "Train every way on the same split" }}
                        onclick={link.callback(|_| Msg::Do(Action::RunComparison))}>{ "Compare" }</button>
                    if comparing {
                        <button data-testid="compare-stop" onclick={link.callback(|_| Msg::Do(Action::StopTraining))}>{ "Stop" }</button>
                    }
                </div>
                if let Some(comparison) = comparison {
                    <div class="table-scroll">
                        <table class="compare-table">
                            <thead><tr>
                                <th scope="col">{ "Way" }</th>
                                <th scope="col">{ "Numbers learned" }</th>
                                <th scope="col">{ "Training time" }</th>
                                <th scope="col">{ "Validation" }</th>
                                <th scope="col">{ "Final test" }</th>
                            </tr></thead>
                            <tbody>
                                { for comparison.results.iter().map(|result| html! {
                                    <tr data-testid="compare-result" data-mode={result.way.name()} data-state={result.state.name()}
                                        data-trainable-params={result.trainable_params.to_string()}
                                        data-train-ms={result.training_ms.map(|ms| ms.to_string())}
                                        data-validation-accuracy={result.validation_accuracy.map(|a| a.to_string())}
                                        data-test-accuracy={result.test_accuracy.map(|a| a.to_string())}>
                                        <th scope="row">{ result.way.label() }</th>
                                        <td>{ format_count(result.trainable_params) }</td>
                                        <td>{ match (result.state, result.training_ms) {
                                            (WayState::Running, _) if !result.history.is_empty() => format!("epoch {} of {}…", result.history.len(), self.state.settings.epochs),
                                            (WayState::Running, _) => "training…".to_string(),
                                            (WayState::Failed, _) => "stopped".to_string(),
                                            (WayState::Done, Some(ms)) if ms < 1000.0 => format!("{ms:.0} ms"),
                                            (WayState::Done, Some(ms)) => format!("{:.1} s", ms / 1000.0),
                                            (WayState::Done, None) => "–".to_string(),
                                        } }</td>
                                        <td>{ percent(result.validation_accuracy) }</td>
                                        <td>{ percent(result.test_accuracy) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                    <p class="setting-help">{ "Nearest centroid and nearest neighbours learn nothing: they keep the training photos' features (or their class averages) and compare. The head learns 1,281 numbers per class; fine-tuning also changes the last blocks; LoRA learns only small corrections beside them (compare the counts); from scratch, every number of the network is learned from these photos alone. Their learning curves:" }</p>
                    { view_ways_curves(
                        &comparison.results.iter().map(|r| (r.way.name(), r.way.short_label(), r.history.as_slice())).collect::<Vec<_>>(),
                        comparison.settings().epochs,
                    ) }
                    if self.state.comparison_is_stale() {
                        <p class="hint" data-testid="compare-stale">{ "Photos, classes or settings changed since this comparison ran: compare again for results that match them." }</p>
                    }
                    <p data-testid="ranking" data-predicted={ranking_name(&comparison.predicted)}
                        data-measured={comparison.ranking().map(|r| ranking_name(&r))}>
                        { format!("You predicted: {}.", ranking_label(&comparison.predicted)) }
                        { match comparison.ranking() {
                            Some(measured) => format!(" Measured on the test photos: {}.", ranking_label(&measured)),
                            None => " Press Final test below to measure every way on the test photos.".to_string(),
                        } }
                    </p>
                }
                { self.view_final_test(link) }
            </section>
        }
    }

    /// The final test: the button, and the result once it ran.
    fn view_final_test(&self, link: &Scope<Self>) -> Html {
        if self.state.model.is_none() && self.state.comparison.is_none() {
            return html! {};
        }
        let blocker = self.state.final_test_blocker();
        let test = self.state.final_test.as_ref();
        let stale = self.state.final_test_is_stale();
        let reused = self.state.final_tests_run > 1;
        html! {
            <div class="final-test">
                <button data-testid="final-test" disabled={blocker.is_some() || self.state.training_busy()}
                    title={blocker.unwrap_or("Measure the model once on the photos kept aside")}
                    onclick={link.callback(|_| Msg::Do(Action::FinalTest))}>{ "Final test" }</button>
                <span class="setting-help">{ "Use it once, at the end: the test photos were never used while training or choosing settings." }</span>
                if let Some(test) = test {
                    <p data-testid="final-test-result" data-model-version={test.model_version.to_string()}
                        data-accuracy={test.accuracy().map(|a| a.to_string())} data-total={test.total.to_string()}
                        data-stale={stale.to_string()} data-tests-run={self.state.final_tests_run.to_string()}
                        class={classes!("final-result", stale.then_some("stale"))}>
                        { match test.correct {
                            None => "Testing…".to_string(),
                            Some(correct) => format!("Final test of model {}: {correct} of {} test photos right ({:.0}%).", test.model_version, test.total, test.accuracy().unwrap_or(0.0) * 100.0),
                        } }
                        if stale {
                            { " Photos, classes, settings or the model changed since: this result is out of date." }
                        }
                        if reused {
                            { format!(" The test photos have now been used {} times: choosing by them makes this number too hopeful.", self.state.final_tests_run) }
                        }
                    </p>
                }
            </div>
        }
    }

    /// Whether a run is preparing or training (settings are locked meanwhile).
    /// A number input for one training setting.
    fn number_setting(&self, link: &Scope<Self>, setting: NumberSetting) -> Html {
        let NumberSetting {
            name,
            label,
            help,
            value,
            step,
            apply,
        } = setting;
        let running = self.state.training_busy();
        let shown = match &self.typed_setting {
            Some((typed, text)) if *typed == name => text.clone(),
            _ => value.to_string(),
        };
        html! {
            <label class="setting" title={help}>
                <span class="setting-name">{ label }</span>
                <input type="number" name={name} data-testid={name} step={step.to_string()} min="0"
                    value={shown} disabled={running}
                    oninput={link.callback(move |event: InputEvent| {
                        let input: HtmlInputElement = event.target_unchecked_into();
                        Msg::TypeSetting(name, input.value())
                    })}
                    onchange={link.callback(move |event: Event| {
                        let input: HtmlInputElement = event.target_unchecked_into();
                        match input.value().parse::<f64>() {
                            Ok(value) => Msg::EditSettings(Box::new(move |settings| apply(settings, value))),
                            // Not a number: the input shows the setting as it was.
                            Err(_) => Msg::DiscardTypedSetting,
                        }
                    })} />
                <span class="setting-help">{ help }</span>
            </label>
        }
    }

    fn view_settings(&self, link: &Scope<Self>) -> Html {
        let settings = &self.state.settings;
        let optimizer = settings.optimizer.clone();
        let running = self.state.training_busy();
        html! {
            <details class="settings" data-testid="settings">
                <summary>{ "Settings" }</summary>
                <div class="settings-grid">
                    <label class="setting">
                        <span class="setting-name">{ "Optimizer" }</span>
                        <select name="optimizer" data-testid="optimizer" disabled={running}
                            onchange={link.callback(|event: Event| {
                                let select: HtmlSelectElement = event.target_unchecked_into();
                                let kind = match select.value().as_str() {
                                    "sgd" => OptimizerKind::SgdMomentum,
                                    _ => OptimizerKind::Adam,
                                };
                                Msg::EditSettings(Box::new(move |settings| settings.optimizer.kind = kind))
                            })}>
                            <option value="adam" selected={optimizer.kind == OptimizerKind::Adam}>{ "Adam" }</option>
                            <option value="sgd" selected={optimizer.kind == OptimizerKind::SgdMomentum}>{ "SGD with momentum" }</option>
                        </select>
                        <span class="setting-help">{ "Adam adapts the step for every weight; SGD takes plain steps and usually needs a larger learning rate (try 0.05)." }</span>
                    </label>
                    { self.number_setting(link, NumberSetting { name: "learning_rate", label: "Learning rate", help: "How big each step is. Too big jumps around; too small learns slowly.", value: optimizer.learning_rate, step: 0.0001, apply: |s, v| s.optimizer.learning_rate = v }) }
                    if optimizer.kind == OptimizerKind::SgdMomentum {
                        { self.number_setting(link, NumberSetting { name: "momentum", label: "Momentum", help: "How much of the last step SGD keeps going in (0 to 0.99).", value: optimizer.momentum, step: 0.05, apply: |s, v| s.optimizer.momentum = v }) }
                    }
                    { self.number_setting(link, NumberSetting { name: "batch_size", label: "Batch size", help: "Photos per step. Smaller batches give noisier steps.", value: settings.batch_size as f64, step: 1.0, apply: |s, v| s.batch_size = v as usize }) }
                    { self.number_setting(link, NumberSetting { name: "dropout", label: "Dropout", help: "Share of the 1280 features hidden at random in each step, so the head cannot rely on a few (0 to 0.9).", value: settings.dropout, step: 0.05, apply: |s, v| s.dropout = v }) }
                    { self.number_setting(link, NumberSetting { name: "weight_decay", label: "Weight decay", help: "Pulls every weight a little towards zero each step: a simpler model that may overfit less.", value: optimizer.weight_decay, step: 0.001, apply: |s, v| s.optimizer.weight_decay = v }) }
                    { self.number_setting(link, NumberSetting { name: "label_smoothing", label: "Label smoothing", help: "Trains towards e.g. 90% sure instead of 100%, so the model is less overconfident (0 to 0.5).", value: settings.label_smoothing, step: 0.05, apply: |s, v| s.label_smoothing = v }) }
                    { self.number_setting(link, NumberSetting { name: "patience", label: "Early stopping", help: "Stop when the validation loss has not improved for this many epochs, and keep the best epoch's weights (0 = off).", value: settings.patience as f64, step: 1.0, apply: |s, v| s.patience = v as usize }) }
                    { self.number_setting(link, NumberSetting { name: "validation_fraction", label: "Validation share", help: "Share of each class held back to check the model on photos it never learned from, while it trains (0 to 0.5).", value: settings.validation_fraction, step: 0.05, apply: |s, v| s.validation_fraction = v }) }
                    { self.number_setting(link, NumberSetting { name: "test_fraction", label: "Test share", help: "Share of each class kept aside for the final test: training never sees them (0 to 0.5).", value: settings.test_fraction, step: 0.05, apply: |s, v| s.test_fraction = v }) }
                    { self.number_setting(link, NumberSetting { name: "seed", label: "Seed", help: "Decides the random split, start and shuffling: the same seed and photos train the same model.", value: settings.seed as f64, step: 1.0, apply: |s, v| s.seed = v as u64 }) }
                </div>
                { self.view_augmentation(link) }
                <button data-testid="reset-settings" disabled={running}
                    onclick={link.callback(|_| Msg::Do(Action::ResetSettings))}>{ "Reset to defaults" }</button>
            </details>
        }
    }

    /// The augmentation switches, the views per photo and the preview.
    fn view_augmentation(&self, link: &Scope<Self>) -> Html {
        let augmentation = self.state.settings.augmentation;
        let running = self.state.training_busy();
        type Switch = fn(&mut AugmentationSettings) -> &mut bool;
        let switches: [(&str, &str, &str, Switch); 4] = [
            (
                "augment-crop",
                "Random crop",
                "A random part of the photo, stretched back to full size.",
                |a| &mut a.crop,
            ),
            (
                "augment-flip",
                "Flip",
                "Mirrored left to right, in half of the views.",
                |a| &mut a.flip,
            ),
            (
                "augment-color",
                "Colour jitter",
                "Brightness, contrast and saturation changed a little.",
                |a| &mut a.color,
            ),
            (
                "augment-rotation",
                "Rotation",
                "Turned by up to 15 degrees.",
                |a| &mut a.rotation,
            ),
        ];
        let preview = self.state.augment_preview.as_ref();
        html! {
            <fieldset class="augmentation">
                <legend>{ "Augmentation" }</legend>
                <p class="setting-help">{ "Each training photo also trains as a few changed copies (views), so the model learns what stays the same. Validation photos are never changed." }</p>
                <div class="switches">
                    { for switches.into_iter().map(|(name, label, help, field)| {
                        let mut copy = augmentation;
                        let checked = *field(&mut copy);
                        html! {
                            <label class="switch" title={help}>
                                <input type="checkbox" name={name} data-testid={name} checked={checked} disabled={running}
                                    onchange={link.callback(move |event: Event| {
                                        let input: HtmlInputElement = event.target_unchecked_into();
                                        let on = input.checked();
                                        Msg::EditSettings(Box::new(move |settings| *field(&mut settings.augmentation) = on))
                                    })} />
                                { label }
                            </label>
                        }
                    }) }
                </div>
                { self.number_setting(link, NumberSetting { name: "views_per_photo", label: "Views per photo", help: "Changed copies made of each training photo; each is embedded once, then reused.", value: augmentation.views_per_photo as f64, step: 1.0, apply: |s, v| s.augmentation.views_per_photo = v as usize }) }
                <div class="augment-preview" data-testid="augment-preview"
                    data-augmented={preview.map(|p| p.settings.is_on().to_string())}
                    data-settings={preview.map(|p| {
                        let a = p.settings;
                        [(a.crop, "crop"), (a.flip, "flip"), (a.color, "color"), (a.rotation, "rotation")]
                            .into_iter()
                            .filter_map(|(on, name)| on.then_some(name))
                            .collect::<Vec<_>>()
                            .join(",")
                    })}
                    data-views={preview.map(|p| p.views.len().to_string())}>
                    { match preview {
                        None => html! { <p class="setting-help">{ "Turn an augmentation on to see views of a photo (tap a photo to choose which)." }</p> },
                        Some(preview) if preview.views.is_empty() => html! { <p class="setting-help">{ "Making views…" }</p> },
                        Some(preview) => html! {
                            <>
                                <p class="setting-help">{ if preview.settings.is_on() {
                                    format!("{} views of {}, as training makes them:", preview.views.len(), self.state.photo(preview.photo).map_or("the photo", |(_, p)| p.file_name.as_str()))
                                } else {
                                    "Augmentation is off: every view is the photo itself.".to_string()
                                } }</p>
                                <div class="thumbs">
                                    { for preview.views.iter().enumerate().map(|(i, view)| html! {
                                        <img class="view" src={view.as_str().to_string()} alt={format!("View {}", i + 1)} />
                                    }) }
                                </div>
                            </>
                        },
                    } }
                    <button data-testid="augment-more" disabled={self.state.classes.iter().all(|c| c.photos.is_empty())}
                        onclick={link.callback(|_| Msg::Do(Action::PreviewAugmentation))}>
                        { format!("Show {PREVIEW_VIEWS} other views") }
                    </button>
                </div>
            </fieldset>
        }
    }

    /// What the model sees of one photo, and the wrong-preprocessing experiment.
    fn view_preprocessing(&self, link: &Scope<Self>) -> Html {
        let Some((class, photo)) = self.state.shown_photo() else {
            return html! {};
        };
        let model = Normalization::Model;
        let example = |value: u8| format!("{value} → {:.2}", model.apply(0, value));
        let experiment = self.state.experiment.as_ref();
        let chosen = self.wrong_normalization;
        let percent =
            |value: Option<f32>| value.map_or("–".into(), |a| format!("{:.0}%", a * 100.0));
        html! {
            <section class="step preprocessing" data-testid="preprocessing-view" data-file={photo.file_name.clone()}>
                <h2>{ "What the model sees" }</h2>
                <div class="seen">
                    <figure>
                        <img class="original" src={photo.thumbnail.as_str().to_string()} alt={photo.file_name.clone()} />
                        <figcaption>{ format!("{} ({})", photo.file_name, class.label()) }</figcaption>
                    </figure>
                    <span class="arrow" aria-hidden="true">{ "→" }</span>
                    <figure>
                        <img class="model-input" data-testid="model-input" src={photo.input.as_str().to_string()}
                            width={INPUT_SIZE.to_string()} height={INPUT_SIZE.to_string()} alt={format!("What the model sees of {}", photo.file_name)} />
                        <figcaption>{ format!("{INPUT_SIZE} × {INPUT_SIZE} pixels") }</figcaption>
                    </figure>
                </div>
                <p>{ "The photo is turned upright, its centre square (87.5% of the short side) is cut out and resized to 224 × 224. Tap any photo in a class to see it here." }</p>
                <p>{ format!("Each colour value x (0 to 255) then becomes {}: {}, {}, {}. The pretrained network learned with exactly this; anything else shows it numbers it never saw.", model.formula(), example(0), example(127), example(255)) }</p>
                <div class="row experiment">
                    <label class="switch">
                        <input type="checkbox" data-testid="wrong-preprocessing" checked={experiment.is_some()}
                            disabled={self.state.model.is_none() || self.state.training_busy()}
                            onchange={link.callback(move |event: Event| {
                                let input: HtmlInputElement = event.target_unchecked_into();
                                Msg::Do(Action::WrongPreprocessing(input.checked().then_some(chosen)))
                            })} />
                        { "Train with the wrong preprocessing:" }
                    </label>
                    <select data-testid="wrong-normalization" aria-label="Which wrong preprocessing" disabled={self.state.training_busy()}
                        onchange={link.callback(|event: Event| {
                            let select: HtmlSelectElement = event.target_unchecked_into();
                            Msg::ChooseWrongNormalization(match select.value().as_str() {
                                "imagenet" => Normalization::ImageNet,
                                "zero-to-one" => Normalization::ZeroToOne,
                                _ => Normalization::Raw,
                            })
                        })}>
                        <option value="raw" selected={chosen == Normalization::Raw}>{ "no normalization (0..255)" }</option>
                        <option value="zero-to-one" selected={chosen == Normalization::ZeroToOne}>{ format!("inputs in 0..1 ({})", Normalization::ZeroToOne.formula()) }</option>
                        <option value="imagenet" selected={chosen == Normalization::ImageNet}>{ "ImageNet mean and std" }</option>
                    </select>
                </div>
                if self.state.model.is_none() {
                    <p class="hint">{ "Train a model first: the experiment trains again the same way with wrong inputs and compares." }</p>
                }
                if let Some(experiment) = experiment {
                    <p class="experiment-result" data-testid="wrong-preprocessing-result"
                        data-state={if experiment.wrong_accuracy.is_some() { "done" } else { "running" }}
                        data-accuracy={experiment.wrong_accuracy.map(|a| a.to_string())}
                        data-correct-accuracy={experiment.correct_accuracy.map(|a| a.to_string())}>
                        { match experiment.wrong_accuracy {
                            Some(_) => format!(
                                "Validation accuracy: {} with the right preprocessing (model {}), {} with {}.",
                                percent(experiment.correct_accuracy),
                                experiment.model_version,
                                percent(experiment.wrong_accuracy),
                                experiment.normalization.formula()
                            ),
                            None => "Training again with the wrong preprocessing…".into(),
                        } }
                    </p>
                }
            </section>
        }
    }

    fn view_confusion(&self, link: &Scope<Self>) -> Html {
        let (Some(model), Some(matrix)) = (&self.state.model, self.state.confusion()) else {
            return html! {};
        };
        let names = &model.class_names;
        let body = if matrix.total() == 0 {
            html! { <p>{ "No photos were held back for validation: add more photos to each class to see what the model confuses." }</p> }
        } else {
            html! {
                <div class="table-scroll">
                <table>
                    <caption>{ "Rows: the true class. Columns: what the model said. Tap a number to see those photos." }</caption>
                    <thead>
                        <tr>
                            <th></th>
                            { for names.iter().map(|name| html! { <th scope="col">{ name.clone() }</th> }) }
                            <th scope="col">{ "right" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for names.iter().enumerate().map(|(truth, truth_name)| html! {
                            <tr>
                                <th scope="row">{ truth_name.clone() }</th>
                                { for names.iter().enumerate().map(|(predicted, predicted_name)| {
                                    let count = matrix.count(truth, predicted);
                                    let selected = self.state.shown_cell == Some((truth, predicted));
                                    html! {
                                        <td>
                                            <button data-testid="confusion-cell" data-true={truth_name.clone()} data-predicted={predicted_name.clone()}
                                                data-count={count.to_string()} aria-pressed={selected.to_string()}
                                                class={classes!((truth == predicted).then_some("right"), selected.then_some("selected"))}
                                                disabled={count == 0}
                                                onclick={link.callback(move |_| Msg::Do(Action::ShowCell(truth, predicted)))}>
                                                { count }
                                            </button>
                                        </td>
                                    }
                                }) }
                                <td class="class-accuracy">{ matrix.class_accuracy(truth).map_or("–".into(), |a| format!("{:.0}%", a * 100.0)) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                </div>
            }
        };
        html! {
            <section class="step confusion" data-testid="confusion-matrix">
                <h2>{ format!("What model {} confuses, on the {} validation photos", model.version, matrix.total()) }</h2>
                { body }
                { self.view_cell_photos(names) }
                { self.view_mistakes(link, names) }
            </section>
        }
    }

    fn view_mistakes(&self, link: &Scope<Self>, names: &[String]) -> Html {
        let mistakes = self.state.mistakes();
        if mistakes.is_empty() {
            return html! {};
        }
        let classes: Vec<(ClassId, String)> = self
            .state
            .classes
            .iter()
            .map(|class| (class.id, class.label().to_string()))
            .collect();
        html! {
            <div class="mistakes" data-testid="mistakes">
                <h3>{ "Mistakes, most confident first" }</h3>
                <p class="hint">{ "A confident mistake can be a photo in the wrong class: move it, or remove it, then train again." }</p>
                <ul>
                    { for mistakes.iter().map(|mistake| {
                        let id = mistake.photo.id;
                        let (truth, predicted) = (&names[mistake.truth], &names[mistake.predicted]);
                        let targets = classes.clone();
                        html! {
                            <li class="mistake" data-testid="mistake" data-file={mistake.photo.file_name.clone()}
                                data-true={truth.clone()} data-predicted={predicted.clone()}>
                                <img src={mistake.photo.thumbnail.as_str().to_string()} alt={mistake.photo.file_name.clone()} />
                                <span>{ format!("In {truth}, the model said {predicted} ({:.0}%)", mistake.confidence * 100.0) }</span>
                                <select data-testid="move-photo" aria-label="Move this photo to another class"
                                    onchange={link.batch_callback(move |event: Event| {
                                        let select: HtmlSelectElement = event.target_unchecked_into();
                                        let index: usize = select.value().parse().ok()?;
                                        targets.get(index).map(|(class, _)| Msg::Do(Action::MovePhoto(id, *class)))
                                    })}>
                                    <option value="" selected=true>{ "Move to…" }</option>
                                    { for classes.iter().enumerate().map(|(index, (_, name))| html! {
                                        <option value={index.to_string()}>{ name.clone() }</option>
                                    }) }
                                </select>
                                <button data-testid="remove-photo" onclick={link.callback(move |_| Msg::Do(Action::DeletePhoto(id)))}>{ "Remove" }</button>
                            </li>
                        }
                    }) }
                </ul>
            </div>
        }
    }

    fn view_cell_photos(&self, names: &[String]) -> Html {
        let Some((truth, predicted)) = self.state.shown_cell else {
            return html! {};
        };
        let photos = self.state.cell_photos(truth, predicted);
        let (truth_name, predicted_name) = (&names[truth], &names[predicted]);
        html! {
            <div class="cell-photos" data-testid="cell-photos" data-count={photos.len().to_string()}>
                <p>{ format!("{} photo(s) of {truth_name} that the model called {predicted_name}:", photos.len()) }</p>
                <div class="thumbs">
                    { for photos.iter().map(|(photo, probability)| html! {
                        <figure class="thumb" data-file={photo.file_name.clone()}>
                            <img src={photo.thumbnail.as_str().to_string()} alt={photo.file_name.clone()} title={photo.file_name.clone()} />
                            <figcaption>{ format!("{:.0}%", probability * 100.0) }</figcaption>
                        </figure>
                    }) }
                </div>
            </div>
        }
    }

    fn view_predictions(&self, link: &Scope<Self>) -> Html {
        let ready = self.state.model.is_some();
        html! {
            <section class="step predict" ondragover={Callback::from(allow_drop)}
                ondrop={link.callback(|event: DragEvent| Msg::Do(Action::Classify(dropped_files(&event))))}>
                <h2>{ "3. Classify new photos" }</h2>
                <label class={classes!("upload", (!ready).then_some("disabled"))}>
                    { if ready { "Pick or drop photos to classify" } else { "Train first, then pick or drop photos to classify" } }
                    <input type="file" accept="image/*" multiple=true data-testid="predict-upload" disabled={!ready}
                        onchange={link.callback(|event: Event| Msg::Do(Action::Classify(input_files(&event))))} />
                </label>
                if !self.state.predictions.is_empty() {
                    <button data-testid="clear-predictions" onclick={link.callback(|_| Msg::Do(Action::ClearPredictions))}>{ "Clear" }</button>
                }
                <div class="predictions">
                    { for self.state.predictions.iter().map(view_prediction) }
                </div>
            </section>
        }
    }
}

/// A count with thousands separated, as students read it.
fn format_count(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn view_class(
    link: &Scope<App>,
    class: &ClassEntry<ObjectUrl>,
    split: Option<SplitCounts>,
    camera_on: bool,
) -> Html {
    let id = class.id;
    let count = class.photos.len();
    html! {
        <div class="class-card" data-testid="class-card" key={id.0}
            ondragover={Callback::from(allow_drop)}
            ondrop={link.callback(move |event: DragEvent| Msg::Do(Action::AddPhotos(id, dropped_files(&event))))}>
            <div class="class-head">
                // Every keystroke goes to the state: yew rewrites the input from the state on
                // each render, which would wipe a half-typed name when a photo finishes.
                <input data-testid="class-name" aria-label="Class name" value={class.name.clone()}
                    maxlength={MAX_CLASS_NAME_CHARS.to_string()}
                    oninput={link.callback(move |event: InputEvent| {
                        let input: HtmlInputElement = event.target_unchecked_into();
                        Msg::Do(Action::RenameClass(id, input.value()))
                    })} />
                <span class="count" data-testid="class-count">{ format!("{count} photo{}", if count == 1 { "" } else { "s" }) }</span>
                <button class="delete" data-testid="delete-class" title="Delete this class and its photos" aria-label={format!("Delete class {}", class.label())}
                    onclick={link.callback(move |_| Msg::Do(Action::DeleteClass(id)))}>{ "✕" }</button>
            </div>
            <div class="thumbs">
                { for class.photos.iter().map(|photo| {
                    let photo_id = photo.id;
                    html! {
                        <figure class="thumb" key={photo_id.0}>
                            <button class="inspect" title="See what the model sees" aria-label={format!("See what the model sees of {}", photo.file_name)}
                                onclick={link.callback(move |_| Msg::Do(Action::InspectPhoto(photo_id)))}>
                                <img src={photo.thumbnail.as_str().to_string()} alt={photo.file_name.clone()} title={photo.file_name.clone()} />
                            </button>
                            <button class="remove" title="Remove this photo" aria-label={format!("Remove {}", photo.file_name)} onclick={link.callback(move |_| Msg::Do(Action::DeletePhoto(photo_id)))}>{ "✕" }</button>
                        </figure>
                    }
                }) }
            </div>
            if let Some(split) = split {
                <p class="class-split" data-testid="class-split" data-train={split.train.to_string()}
                    data-validation={split.validation.to_string()} data-test={split.test.to_string()}>
                    { format!("{} to train · {} to validate · {} for the final test", split.train, split.validation, split.test) }
                </p>
            }
            <label class="upload">
                { "Add photos (or drop them here)" }
                <input type="file" accept="image/*" multiple=true data-testid="class-upload"
                    onchange={link.callback(move |event: Event| Msg::Do(Action::AddPhotos(id, input_files(&event))))} />
            </label>
            if camera_on {
                // Pointer down takes a frame and keeps taking them while held; a key press
                // (a click with no pointer) takes one.
                <button class="capture" data-testid="capture" title="Tap for one photo from the camera; hold for a burst"
                    onpointerdown={link.callback(move |event: PointerEvent| {
                        let _ = event.target_unchecked_into::<web_sys::Element>().set_pointer_capture(event.pointer_id());
                        Msg::CaptureStart(id)
                    })}
                    onpointerup={link.callback(|_: PointerEvent| Msg::CaptureStop)}
                    onpointercancel={link.callback(|_: PointerEvent| Msg::CaptureStop)}
                    onclick={link.batch_callback(move |event: MouseEvent| (event.detail() == 0).then_some(Msg::CaptureOne(id)))}>
                    { "📷 Capture (hold for more)" }
                </button>
            }
        </div>
    }
}

fn view_prediction(prediction: &Prediction<ObjectUrl>) -> Html {
    let (label, confidence) = prediction.top();
    html! {
        <figure class="prediction" data-testid="prediction" data-file={prediction.file_name.clone()}
            data-label={label.to_string()} data-confidence={confidence.to_string()}
            data-model-version={prediction.model_version.to_string()}>
            <img src={prediction.thumbnail.as_str().to_string()} alt={prediction.file_name.clone()} />
            <figcaption>
                <strong>{ format!("{label} ({:.0}%)", confidence * 100.0) }</strong>
                <span class="file">{ format!("{} · model {}", prediction.file_name, prediction.model_version) }</span>
                { for prediction.probabilities.iter().map(|(name, probability)| html! {
                    <div class="bar">
                        <span class="bar-name">{ name.clone() }</span>
                        <meter min="0" max="1" value={probability.to_string()}></meter>
                        <span class="bar-value">{ format!("{:.0}%", probability * 100.0) }</span>
                    </div>
                }) }
            </figcaption>
        </figure>
    }
}

fn view_backend_check(outcome: &Option<BackendCheck>) -> Html {
    let (state, text, attributes) = match outcome {
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
            data-embedding-difference={attributes.map(|a| a.0.to_string())}
            data-probability-difference={attributes.map(|a| a.1.to_string())}
            data-same-predictions={attributes.map(|a| a.2.to_string())}>
            <h2>{ "WebGPU versus CPU" }</h2>
            <p>{ text }</p>
        </section>
    }
}

fn view_message_check(check: &MessageCheck) -> Html {
    let done = check.round_trips.len() >= PINGS;
    let mut sorted = check.round_trips.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let max = sorted.last().copied().unwrap_or(0.0);
    html! {
        <section class="step" data-testid="message-check" data-state={if done { "done" } else { "running" }}
            data-median-ms={median.to_string()} data-max-ms={max.to_string()} data-count={check.round_trips.len().to_string()}>
            <h2>{ "Cost of one message to a worker" }</h2>
            <p>{ format!("{} round trips: median {median:.2} ms, longest {max:.2} ms.", check.round_trips.len()) }</p>
        </section>
    }
}
