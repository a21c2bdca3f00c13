//! The page's root: owns what lives across renders (the state, the worker pool, the storage,
//! the camera, the checks), turns what components and workers report into the state's
//! [`Action`]s, carries out the [`Effect`]s they return by talking to the [`WorkerPool`], and
//! hands the state to the [`components`](crate::components). No model work happens here.

mod camera;

use crate::browser::{
    ObjectUrl, download, download_blob, fetch_blob, fetch_text, install_offline_copy, now_ms,
    query_param, read_bytes,
};
use crate::camera::Facing;
use crate::components::{
    BackendCheckReport, Camera, CaptureCallbacks, Classes, Classify, Comparison, Confusion, Header,
    KeptOnDevice, MessageCheckReport, Notices, OfflineCopy, PINGS, PageAction, Preprocessing,
    ProjectFile, SettingsEdit, SharedState, Train,
};
use crate::pool::{PoolEvent, PoolSink, WorkerPool};
use crate::project_file::{open_project_file, project_file_blob};
use crate::storage::{
    IndexedDbStorage, StorageError, ask_to_keep_until_deleted, bytes_used, claim_saving,
    kept_until_deleted,
};
use crate::text::tr;
use camera::{CameraMsg, CameraOn, camera_callback};
use headstart_app::{
    Action, AppState, Effect, ModelStatus, PROJECT_FILE_NAME, ProjectFileOptions, ProjectStorage,
    StorageAccess, parse_sample_index, pool_size,
};
use headstart_core::protocol::{
    Attachment, BackendCheck, ComputeChoice, Event as WorkerEvent, Request,
};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use web_sys::Blob;
use yew::html::Scope;
use yew::prelude::*;

/// Where the sample photos are listed, one `class/file` per line.
const SAMPLES_INDEX: &str = "samples/index.txt";

/// Least time between two renders caused by progress alone, in milliseconds.
const PROGRESS_RENDER_MS: f64 = 100.0;

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
    /// A model file was chosen to import.
    ImportModelFile(String, Blob),
    /// One setting edited.
    EditSettings(SettingsEdit),
    /// Storage opened: the saved work goes to the state, and the storage is kept to save into
    /// when this tab may save.
    StorageOpened(Option<Rc<IndexedDbStorage>>, PageAction),
    /// The bytes the page keeps on this device, as the browser estimates them.
    StorageUsed(f64),
    /// "Keep it on this device": ask the browser to keep the saved work.
    KeepOnDevice,
    /// Whether the browser keeps the saved work (`None`: it cannot say), and whether the
    /// student had asked.
    Kept { kept: Option<bool>, asked: bool },
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
    /// The camera, and what the student does with it.
    Camera(CameraMsg),
}

/// `?check=messages`: round trips of a message to a worker and back, in milliseconds.
#[derive(Default)]
struct MessageCheck {
    sent_at: f64,
    round_trips: Vec<f64>,
}

/// The root component.
pub struct App {
    /// What the page shows, shared with the components (see [`SharedState`]): changed only
    /// through [`Rc::make_mut`].
    state: Rc<AppState<ObjectUrl>>,
    pool: Option<Rc<RefCell<WorkerPool>>>,
    /// `?check=backends`: the WebGPU-versus-CPU comparison, once it ran.
    backend_check: Option<Option<BackendCheck>>,
    /// `?check=messages`: the per-message cost.
    message_check: Option<MessageCheck>,
    /// When progress alone last rendered the page (see [`PROGRESS_RENDER_MS`]).
    last_progress_render: f64,
    /// Where the work is saved, once open and when this tab may save.
    storage: Option<Rc<IndexedDbStorage>>,
    /// The bytes the page keeps on this device, last estimated.
    bytes_stored: Option<f64>,
    /// What the next project file holds besides the photos.
    project_file_options: ProjectFileOptions,
    /// Whether the page works offline.
    offline_copy: OfflineCopy,
    /// Whether the browser keeps the saved work until the student deletes it.
    kept: KeptOnDevice,
    /// The camera, while on.
    camera: Option<CameraOn>,
    /// The camera's `<video>`.
    video: NodeRef,
    /// The way the camera last asked for faces.
    camera_facing: Facing,
    link: Scope<App>,
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

/// Finds out whether the browser keeps the saved work until the student deletes it; with
/// `ask` (a click on "Keep it on this device"), asks it to.
fn ask_whether_kept(link: &Scope<App>, ask: bool) {
    let link = link.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let kept = match ask {
            true => ask_to_keep_until_deleted().await,
            false => kept_until_deleted().await,
        };
        link.send_message(Msg::Kept { kept, asked: ask });
    });
}

/// Fetches the sample photos, a class at a time.
fn load_samples(link: &Scope<App>) {
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

/// Reads a model file chosen to import.
fn import_model_file(link: &Scope<App>, file_name: String, file: Blob) {
    let link = link.clone();
    wasm_bindgen_futures::spawn_local(async move {
        // A file that cannot even be read imports as an empty (refused) file.
        let bytes = read_bytes(&file).await.unwrap_or_default();
        link.send_message(Msg::Do(Action::ImportModel(file_name, bytes)));
    });
}

/// Reads a project file chosen to open.
fn open_project(link: &Scope<App>, file_name: String, file: Blob) {
    let link = link.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let action = match open_project_file(file_name.clone(), &file).await {
            Ok(project) => Action::OpenProject(Box::new(project)),
            Err(error) => Action::ProjectFileRefused(file_name, error),
        };
        link.send_message(Msg::Do(action));
    });
}

impl App {
    /// Hands the state's unsaved changes to storage, as one transaction per action; a failure
    /// comes back as an action, and the bytes kept are estimated after each save.
    fn save_changes(&mut self) {
        let Some(storage) = self.storage.clone() else {
            return;
        };
        let changes = Rc::make_mut(&mut self.state).unsaved_changes();
        if changes.is_empty() {
            return;
        }
        let link = self.link.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match storage.save(changes).await {
                Ok(()) => {
                    link.send_message(Msg::Do(Action::Saved));
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
    /// except after progress alone, after a save's outcome, and after a failed save above all
    /// (tried again on the next change, not at once: on a full device the retry would fail at
    /// once too, and again, without end).
    fn apply(&mut self, action: PageAction) {
        let saves = !matches!(
            action,
            Action::ModelProgress { .. }
                | Action::Worker(WorkerEvent::Epoch { .. }, _)
                | Action::Saved
                | Action::SaveFailed { .. }
        );
        let effects = Rc::make_mut(&mut self.state).apply(action);
        for effect in effects {
            match effect {
                Effect::Send(request, file) => {
                    self.send(request, file.map_or(Attachment::Nothing, Attachment::File))
                }
                Effect::SendWithInput(request, input) => {
                    self.send(request, Attachment::File(input.blob().clone()))
                }
                Effect::SendWithInputs(request, inputs) => {
                    let inputs = inputs.iter().map(|input| input.blob().clone()).collect();
                    self.send(request, Attachment::Files(inputs))
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

    fn send(&self, request: Request, attachment: Attachment<Blob>) {
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
                if first {
                    self.on_first_ready();
                }
            }
            PoolEvent::Failed(detail) => self.apply(Action::ModelFailed(detail)),
            PoolEvent::Worker(WorkerEvent::BackendCheck(outcome), _) => {
                self.backend_check = Some(Some(outcome))
            }
            PoolEvent::Worker(event, attachment) => {
                let images = attachment.try_map(|blob| ObjectUrl::new(&blob));
                let images = images.unwrap_or_else(|error| {
                    web_sys::console::error_1(
                        &format!("an image could not be shown: {error}").into(),
                    );
                    Attachment::Nothing
                });
                self.apply(Action::Worker(event, images))
            }
        }
    }

    /// The model is ready for the first time: the offline copy is made, and
    /// `?check=backends` runs.
    fn on_first_ready(&mut self) {
        // The offline copy downloads the page's files once more, so it waits until the model
        // is ready rather than slowing the first start.
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
            self.send(Request::CheckBackends, Attachment::Nothing);
        }
    }

    /// A round trip of `?check=messages` ended: the next one starts, or the check is done
    /// (then the page renders it).
    fn on_pong(&mut self) -> bool {
        let Some(check) = &mut self.message_check else {
            return false;
        };
        check.round_trips.push(now_ms() - check.sent_at);
        if check.round_trips.len() < PINGS {
            check.sent_at = now_ms();
            self.send(Request::Ping, Attachment::Nothing);
            return false;
        }
        true
    }

    fn on_offline_copy(&mut self, copied: Result<(), String>) {
        self.offline_copy = match copied {
            Ok(()) => OfflineCopy::Ready,
            Err(detail) => {
                web_sys::console::log_1(&format!("no offline copy: {detail}").into());
                OfflineCopy::Unavailable
            }
        };
        // `?check=messages` measures a quiet page: once the offline copy (a download of the
        // whole page) is done.
        if let Some(check) = &mut self.message_check {
            check.sent_at = now_ms();
            self.send(Request::Ping, Attachment::Nothing);
        }
    }

    fn save_project_file(&self) {
        let draft = (self.state).project_file(self.project_file_options, |image| {
            image.blob().size() as u64
        });
        wasm_bindgen_futures::spawn_local(async move {
            let saved = (project_file_blob(draft).await)
                .and_then(|blob| download_blob(PROJECT_FILE_NAME, &blob));
            if let Err(error) = saved {
                web_sys::console::error_1(&format!("project file: {error}").into());
            }
        });
    }

    fn new_project(&mut self) {
        let confirmed = crate::browser::window()
            .confirm_with_message(&tr!("new-project-confirm"))
            .unwrap_or(false);
        if confirmed {
            self.apply(Action::NewProject);
        }
    }

    /// Whether to render after a message. Progress alone (an epoch, a chunk of the download)
    /// renders at most every PROGRESS_RENDER_MS: a fast run reports hundreds of epochs a
    /// second, and rendering each kept the page's thread busy; whatever ends the run renders
    /// at once.
    fn renders_after(&mut self, progress_only: bool) -> bool {
        if !progress_only {
            return true;
        }
        let now = now_ms();
        if now - self.last_progress_render < PROGRESS_RENDER_MS {
            return false;
        }
        self.last_progress_render = now;
        true
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
        let navigator = crate::browser::window().navigator();
        let cores = navigator.hardware_concurrency() as usize;
        // Chromium's `navigator.deviceMemory`, in GiB (rounded, at most 8); others do not say.
        let device_memory = js_sys::Reflect::get(&navigator, &"deviceMemory".into())
            .ok()
            .and_then(|gib| gib.as_f64());
        let requested = query_param("workers").and_then(|n| n.parse().ok());
        let size = pool_size(cores, device_memory, requested);
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
            state: Rc::new(AppState::new()),
            pool: None,
            backend_check: checking_backends.then_some(None),
            message_check: (check.as_deref() == Some("messages")).then(MessageCheck::default),
            last_progress_render: 0.0,
            storage: None,
            bytes_stored: None,
            project_file_options: ProjectFileOptions {
                embeddings: true,
                model: true,
            },
            offline_copy: OfflineCopy::Preparing,
            kept: KeptOnDevice::Unknown,
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
            // `?check=messages` measures a message's round trip, not a render of the page: the
            // page renders once, when the check is done.
            Msg::Pool(PoolEvent::Worker(WorkerEvent::Pong, _)) => return self.on_pong(),
            Msg::Pool(event) => self.on_pool(event),
            Msg::LoadSamples => load_samples(ctx.link()),
            Msg::CrashWorker(index) => {
                if let Some(pool) = &self.pool {
                    pool.borrow().crash(index);
                }
            }
            Msg::EditSettings(edit) => {
                let mut settings = self.state.settings.clone();
                edit(&mut settings);
                self.apply(Action::ChangeSettings(settings));
            }
            Msg::ImportModelFile(file_name, file) => import_model_file(ctx.link(), file_name, file),
            Msg::StorageOpened(storage, restore) => {
                if storage.is_some() {
                    ask_whether_kept(ctx.link(), false);
                }
                self.storage = storage;
                self.apply(restore);
            }
            Msg::StorageUsed(bytes) => self.bytes_stored = Some(bytes),
            Msg::KeepOnDevice => ask_whether_kept(ctx.link(), true),
            Msg::Kept { kept, asked } => {
                self.kept = match kept {
                    None => KeptOnDevice::Unknown,
                    Some(true) => KeptOnDevice::Kept,
                    Some(false) => KeptOnDevice::MayBeCleared { asked },
                }
            }
            Msg::ProjectFileOptions(options) => self.project_file_options = options,
            Msg::Camera(msg) => return self.on_camera(msg),
            Msg::OfflineCopy(copied) => self.on_offline_copy(copied),
            Msg::SaveProjectFile => self.save_project_file(),
            Msg::OpenProjectFile(file_name, file) => open_project(ctx.link(), file_name, file),
            Msg::NewProject => self.new_project(),
        }
        self.renders_after(progress_only)
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        self.show_camera_stream();
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let state = SharedState(self.state.clone());
        let act = link.callback(Msg::Do);
        let on_edit = link.callback(Msg::EditSettings);
        html! {
            <div class="page">
                <Header state={state.clone()} bytes_stored={self.bytes_stored} offline_copy={self.offline_copy}
                    kept={self.kept} on_keep={link.callback(|()| Msg::KeepOnDevice)}
                    on_new_project={link.callback(|()| Msg::NewProject)} />
                <Notices state={state.clone()} />
                { self.view_checks() }
                <main>
                    { self.view_classes(link, &state) }
                    <Train state={state.clone()} act={act.clone()} on_edit={on_edit.clone()}
                        on_import_model={link.callback(|(file_name, file)| Msg::ImportModelFile(file_name, file))} />
                    <Preprocessing state={state.clone()} act={act.clone()} />
                    <Confusion state={state.clone()} act={act.clone()} />
                    <Classify state={state.clone()} act={act.clone()} />
                    <Comparison {state} {act} {on_edit} />
                </main>
                <footer>{ tr!("footer") }</footer>
            </div>
        }
    }
}

impl App {
    /// `?check=backends` and `?check=messages`, when asked for.
    fn view_checks(&self) -> Html {
        html! {
            <>
                if let Some(outcome) = &self.backend_check {
                    <BackendCheckReport outcome={outcome.clone()} />
                }
                if let Some(check) = &self.message_check {
                    <MessageCheckReport round_trips={check.round_trips.clone()} />
                }
            </>
        }
    }

    /// Step 1, with the camera and the project file in it.
    fn view_classes(&self, link: &Scope<Self>, state: &SharedState) -> Html {
        let capture = CaptureCallbacks {
            start: camera_callback(link, CameraMsg::CaptureStart),
            stop: camera_callback(link, |()| CameraMsg::CaptureStop),
            one: camera_callback(link, CameraMsg::CaptureOne),
        };
        html! {
            <Classes state={state.clone()} camera_on={self.camera.is_some()} act={link.callback(Msg::Do)}
                on_load_samples={link.callback(|()| Msg::LoadSamples)} {capture}>
                <Camera state={state.clone()} shown={self.camera.as_ref().map(CameraOn::shown)}
                    video={self.video.clone()} on_start={camera_callback(link, CameraMsg::Start)}
                    on_stop={camera_callback(link, |()| CameraMsg::Stop)} on_live={camera_callback(link, CameraMsg::Live)} />
                <ProjectFile state={state.clone()} options={self.project_file_options}
                    on_save={link.callback(|()| Msg::SaveProjectFile)}
                    on_options={link.callback(Msg::ProjectFileOptions)}
                    on_open={link.callback(|(file_name, file)| Msg::OpenProjectFile(file_name, file))}
                    act={link.callback(Msg::Do)} />
            </Classes>
        }
    }
}
