//! The page's pool of model workers, its browser side: compiles the worker wasm and downloads
//! the weights once, both handed to every worker, creates and ends the `Worker`s and passes
//! messages both ways. Which worker a request goes to, and what follows when a worker loads,
//! starts, answers or dies, the pool's [`Scheduler`] decides (see [`headstart_app::scheduler`]);
//! this module carries out its commands.

use crate::browser::{fetch_file, window};
use headstart_app::scheduler::{
    Build, Command, Ending, PoolSize, Report, Scheduler, Spawn, WorkerId,
};
use headstart_browser::describe;
use headstart_browser::envelope;
use headstart_core::protocol::{
    Attachment, ComputeChoice, ComputePath, ComputeReason, Event, Request,
};
use js_sys::{Object, Reflect, WebAssembly};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ErrorEvent, MessageEvent, Worker};

/// The script each worker starts with: it loads the worker wasm handed to it.
const BOOTSTRAP_URL: &str = "model-worker.js";
/// The worker as every browser gets it: the CPU path only.
const CPU_BUILD: WorkerBuild = WorkerBuild {
    glue: "headstart-worker.js",
    wasm: "headstart-worker_bg.wasm",
};
/// The same worker with burn's WebGPU backend as well (about five times the size), fetched only
/// for the first worker and only where it may use a GPU.
const WEBGPU_BUILD: WorkerBuild = WorkerBuild {
    glue: "headstart-worker-webgpu.js",
    wasm: "headstart-worker-webgpu_bg.wasm",
};
/// The converted backbone weights.
const BACKBONE_URL: &str = "weights/efficientnet-lite0.bpk";
/// What the bootstrap answers once the worker's wasm runs.
const LOADED: &str = "loaded";

/// What the pool tells the page.
pub enum PoolEvent {
    /// Weight bytes arrived.
    Progress(u64, Option<u64>),
    /// The first worker holds the backbone, or the number of workers changed.
    Ready {
        /// Their compute path.
        path: ComputePath,
        /// Why that path.
        reason: ComputeReason,
        /// How many take work.
        workers: usize,
    },
    /// The model cannot run (detail for the console).
    Failed(String),
    /// A worker's event, with its attachment.
    Worker(Event, Attachment<Blob>),
}

impl From<Report<Attachment<Blob>>> for PoolEvent {
    fn from(report: Report<Attachment<Blob>>) -> Self {
        match report {
            Report::Ready {
                path,
                reason,
                workers,
            } => Self::Ready {
                path,
                reason,
                workers,
            },
            Report::Failed(detail) => Self::Failed(detail),
            Report::Worker(event, attachment) => Self::Worker(event, attachment),
        }
    }
}

/// Where the pool's events go.
pub type PoolSink = Rc<dyn Fn(PoolEvent)>;

/// A browser worker with the handlers that pass its messages to the pool.
struct PoolWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

/// One build of the model worker: its wasm-bindgen glue, loaded by the bootstrap, and its wasm,
/// compiled once by the page.
#[derive(Clone, Copy)]
struct WorkerBuild {
    glue: &'static str,
    wasm: &'static str,
}

impl WorkerBuild {
    /// Starts downloading and compiling this build: it goes on while the caller does other
    /// things, until the returned future is awaited for the module.
    fn compile(self) -> impl Future<Output = Result<JsValue, String>> {
        let compiling = JsFuture::from(WebAssembly::compile_streaming(
            &window().fetch_with_str(self.wasm),
        ));
        async move {
            compiling
                .await
                .map_err(|e| format!("the model worker could not be compiled: {}", describe(e)))
        }
    }
}

/// Whether the first worker should get the WebGPU build: when WebGPU is asked for, when the
/// backends are to be compared, or, choosing automatically, when the browser offers a hardware
/// adapter (a software one is slower than the CPU path, and the build five times larger).
async fn wants_webgpu_build(choice: ComputeChoice, comparing_backends: bool) -> bool {
    match choice {
        _ if comparing_backends => true,
        ComputeChoice::Cpu => false,
        ComputeChoice::AnyWebGpu => true,
        ComputeChoice::Auto => headstart_browser::probe_adapter()
            .await
            .is_ok_and(|adapter| !adapter.is_fallback),
    }
}

/// The pool.
pub struct WorkerPool {
    /// Decides where each request goes and what follows each worker's events.
    scheduler: Scheduler<Attachment<Blob>>,
    /// The worker in each slot (a dead one until its replacement is created).
    workers: Vec<PoolWorker>,
    /// Workers replaced, kept so that their handlers, which may be running when they are
    /// replaced, are never dropped mid-call.
    retired: Vec<PoolWorker>,
    /// The backbone weights, handed to each worker as it starts.
    weights: Blob,
    /// The CPU build, compiled.
    cpu_module: JsValue,
    /// The WebGPU build, compiled, for the first worker, when it may use a GPU.
    webgpu_module: Option<JsValue>,
    /// The pool itself, for the handlers of the workers it creates.
    this: Weak<RefCell<Self>>,
    /// Where the page hears the pool.
    sink: PoolSink,
}

impl WorkerPool {
    /// Downloads the weights and compiles the worker wasm (both once; the WebGPU build as well
    /// when the first worker may use it, see [`wants_webgpu_build`]), then starts the first
    /// worker with `choice`. [`PoolEvent::Ready`] follows when it has started; on the CPU path
    /// the pool then grows as `size` says, one worker after another so that the first loads at
    /// full speed, and [`PoolEvent::Ready`] comes again as each joins.
    pub async fn launch(
        size: PoolSize,
        choice: ComputeChoice,
        comparing_backends: bool,
        sink: PoolSink,
    ) -> Result<Rc<RefCell<Self>>, String> {
        // The builds download and compile while the weights download.
        let cpu_module = CPU_BUILD.compile();
        let webgpu_module = wants_webgpu_build(choice, comparing_backends)
            .await
            .then(|| WEBGPU_BUILD.compile());
        let progress = sink.clone();
        let weights = fetch_file(BACKBONE_URL, move |received, total| {
            progress(PoolEvent::Progress(received, total))
        })
        .await
        .map_err(|e| format!("the pretrained model could not be downloaded: {e}"))?;
        let cpu_module = cpu_module.await?;
        // Without the WebGPU build (offline before it was ever fetched, say) the first worker
        // runs the CPU build: its badge then says WebGPU was not loaded.
        let webgpu_module = match webgpu_module {
            Some(compiling) => compiling.await.ok(),
            None => None,
        };
        let (scheduler, first) = Scheduler::new(size, choice, webgpu_module.is_some());
        let pool = Rc::new_cyclic(|this| {
            RefCell::new(Self {
                scheduler,
                workers: Vec::new(),
                retired: Vec::new(),
                weights,
                cpu_module,
                webgpu_module,
                this: this.clone(),
                sink,
            })
        });
        let first = pool.borrow().new_worker(first)?;
        pool.borrow_mut().workers.push(first);
        Ok(pool)
    }

    /// The files the offline copy keeps only for a page that uses them: the WebGPU build's,
    /// when the first worker got it.
    pub fn files_on_demand(&self) -> Vec<&'static str> {
        match self.webgpu_module {
            Some(_) => vec![WEBGPU_BUILD.glue, WEBGPU_BUILD.wasm],
            None => Vec::new(),
        }
    }

    /// Creates the worker of `spawn` and hands it its build's compiled wasm to load.
    fn new_worker(&self, spawn: Spawn) -> Result<PoolWorker, String> {
        let id = spawn.worker;
        let worker = Worker::new(BOOTSTRAP_URL).map_err(describe)?;
        let pool = self.this.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(pool) = pool.upgrade() {
                Self::on_message(&pool, id, event.data());
            }
        });
        let pool = self.this.clone();
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            if let Some(pool) = pool.upgrade() {
                Self::decide(&pool, |scheduler| {
                    scheduler.worker_died(id, event.message())
                });
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // The scheduler asks for the WebGPU build only when the page has it.
        let (build, module) = match (spawn.build, &self.webgpu_module) {
            (Build::WebGpu, Some(module)) => (WEBGPU_BUILD, module),
            _ => (CPU_BUILD, &self.cpu_module),
        };
        let load = Object::new();
        Reflect::set(&load, &"glue".into(), &build.glue.into()).map_err(describe)?;
        Reflect::set(&load, &"module".into(), module).map_err(describe)?;
        let test_hooks = crate::browser::query_param("test-hooks").is_some();
        Reflect::set(&load, &"testHooks".into(), &test_hooks.into()).map_err(describe)?;
        worker.post_message(&load).map_err(describe)?;
        Ok(PoolWorker {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    fn on_message(pool: &Rc<RefCell<Self>>, id: WorkerId, data: JsValue) {
        if data.as_string().is_some_and(|text| text == LOADED) {
            return Self::start_worker(pool, id);
        }
        // Any other text is the bootstrap's failure to load the wasm; a message that does not
        // decode fails the worker's start too.
        let (event, attachment) = match data.as_string() {
            Some(detail) => (Event::StartFailed { detail }, Attachment::Nothing),
            None => envelope::unwrap::<Event>(data).unwrap_or_else(|error| {
                let detail = error.to_string();
                (Event::StartFailed { detail }, Attachment::Nothing)
            }),
        };
        Self::decide(pool, |scheduler| scheduler.on_event(id, event, attachment));
    }

    /// Worker `id`'s wasm runs: it gets the weights to start the backbone with, and if they
    /// cannot be sent, it did not start.
    fn start_worker(pool: &Rc<RefCell<Self>>, id: WorkerId) {
        let sent = {
            let this = pool.borrow();
            let Some(compute) = this.scheduler.worker_loaded(id) else {
                return;
            };
            let weights = Attachment::File(this.weights.clone());
            let message = envelope::wrap(&Request::Start { compute }, &weights);
            this.workers[id.index].worker.post_message(&message)
        };
        if let Err(error) = sent {
            let failed = Event::StartFailed {
                detail: describe(error),
            };
            Self::decide(pool, |scheduler| {
                scheduler.on_event(id, failed, Attachment::Nothing)
            });
        }
    }

    /// Lets the scheduler decide, carries out its commands, then tells the page what it is to
    /// hear outside any borrow of the pool (the page may send a request at once).
    fn decide(
        pool: &Rc<RefCell<Self>>,
        decision: impl FnOnce(&mut Scheduler<Attachment<Blob>>) -> Vec<Command<Attachment<Blob>>>,
    ) {
        let (told, sink) = {
            let mut this = pool.borrow_mut();
            let commands = decision(&mut this.scheduler);
            (this.carry_out(commands), this.sink.clone())
        };
        told.into_iter().for_each(|event| sink(event));
    }

    /// Carries out the scheduler's commands; returns, in order, what the page is to hear.
    fn carry_out(&mut self, commands: Vec<Command<Attachment<Blob>>>) -> Vec<PoolEvent> {
        let mut told = Vec::new();
        for command in commands {
            match command {
                Command::Post(post) => self.post(post.worker, &post.request, &post.attachment),
                Command::Spawn(spawn) => told.extend(self.create(spawn)),
                Command::Terminate { worker, ending } => {
                    let (line, log): (String, fn(&JsValue)) = match ending {
                        Ending::Died(detail) => (
                            format!("model worker {worker} stopped: {detail}"),
                            web_sys::console::error_1,
                        ),
                        Ending::DidNotStart(detail) => (
                            format!("model worker {worker} did not start: {detail}"),
                            web_sys::console::error_1,
                        ),
                        // Not a failure: the pool found its size.
                        Ending::NotFaster(photos_per_second) => {
                            let rounds: Vec<String> = photos_per_second
                                .iter()
                                .map(|rate| format!("{rate:.1}"))
                                .collect();
                            let line = format!(
                                "model worker {worker} ended, as it made embedding no faster: \
                                 photos a second with 1, 2, … workers: {}",
                                rounds.join(", ")
                            );
                            (line, web_sys::console::info_1)
                        }
                    };
                    log(&line.into());
                    self.workers[worker].worker.terminate();
                }
                Command::Tell(report) => told.push(report.into()),
            }
        }
        told
    }

    /// Puts the worker of `spawn` in its slot: a new one, or in place of the dead one, whose
    /// handlers are detached and kept in `retired`. Returns what the page is to hear when the
    /// worker cannot be created.
    fn create(&mut self, spawn: Spawn) -> Option<PoolEvent> {
        let index = spawn.worker.index;
        let growing = index == self.workers.len();
        match self.new_worker(spawn) {
            Ok(worker) if growing => self.workers.push(worker),
            Ok(worker) => {
                let dead = std::mem::replace(&mut self.workers[index], worker);
                dead.worker.set_onmessage(None);
                dead.worker.set_onerror(None);
                self.retired.push(dead);
            }
            Err(error) => {
                if growing {
                    let line = format!("no further model worker: {error}");
                    web_sys::console::error_1(&line.into());
                }
                return self
                    .scheduler
                    .spawn_failed(spawn.worker, error)
                    .map(PoolEvent::from);
            }
        }
        None
    }

    /// Sends a request to the worker the scheduler picks, now or once one can take it.
    pub fn send(&mut self, request: Request, attachment: Attachment<Blob>) {
        for post in self.scheduler.send(request, attachment) {
            self.post(post.worker, &post.request, &post.attachment);
        }
    }

    /// Test hook (`?test-hooks`): makes worker `index` panic, as a bug would.
    pub fn crash(&self, index: usize) {
        if index < self.workers.len() {
            self.post(index, &Request::Crash, &Attachment::Nothing);
        }
    }

    fn post(&self, index: usize, request: &Request, attachment: &Attachment<Blob>) {
        let message = envelope::wrap(request, attachment);
        if let Err(error) = self.workers[index].worker.post_message(&message) {
            web_sys::console::error_1(
                &format!("could not send {request:?}: {}", describe(error)).into(),
            );
        }
    }
}
