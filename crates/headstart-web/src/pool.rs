//! The page's pool of model workers: starts them (the worker wasm is compiled once and the
//! weights downloaded once, both handed to every worker), sends each request to a worker and
//! routes every event back. Photo jobs queue here and go to the least busy worker; a worker
//! keeps the model it last classified with, so each model goes to each worker once and later
//! photos carry only its version. A head's training run goes to the first worker, which then
//! gets photo jobs only when it is the only one; a network run (fine-tuning, LoRA, from scratch)
//! goes to the started worker with the least network training to do, and its stop follows it.
//! A worker that dies (a panic, an uncaught error) is replaced on the CPU path: its photos are
//! sent again once, then reported, and a run it was training fails.

use crate::browser::{fetch_bytes, window};
use headstart_browser::describe;
use headstart_core::protocol::{
    ComputeChoice, ComputePath, Event, JobId, NetworkTraining, PhotoError, Request, TrainingError,
};
use headstart_core::training::ModelVersion;
use js_sys::{Object, Reflect, Uint8Array, WebAssembly};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ErrorEvent, MessageEvent, Worker};

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

/// Most photo jobs a worker holds at once: one computing while the next one decodes.
const JOBS_PER_WORKER: usize = 2;

/// Most workers replaced in a session before the pool gives up (a crash on every start).
const MAX_REPLACEMENTS: usize = 8;

/// The index of the worker that trains.
const TRAINER: usize = 0;

/// What the pool tells the page.
pub enum PoolEvent {
    /// Weight bytes arrived.
    Progress(u64, Option<u64>),
    /// The first worker holds the backbone, or the number of workers changed.
    Ready {
        /// Their compute path.
        path: ComputePath,
        /// Why that path.
        reason: String,
        /// How many take work.
        workers: usize,
    },
    /// The model cannot run: no first worker could start (detail for the console).
    Failed(String),
    /// A worker's event, with its attachment.
    Worker(Event, Option<JsValue>),
}

/// Where the pool's events go.
pub type PoolSink = Rc<dyn Fn(PoolEvent)>;

/// A photo job as sent, kept until answered so that it can be sent again.
struct PhotoJob {
    job: JobId,
    request: Request,
    attachment: Option<JsValue>,
}

/// The job of a request about one photo (any worker can take it), `None` for the others.
fn photo_job(request: &Request) -> Option<JobId> {
    match request {
        Request::Embed { job }
        | Request::Classify { job, .. }
        | Request::EmbedInput { job, .. }
        | Request::PreviewAugmentation { job, .. } => Some(*job),
        _ => None,
    }
}

/// One worker and its bookkeeping.
struct PoolWorker {
    worker: Worker,
    /// Tells this worker's events from those of the one it replaced at the same index.
    generation: u32,
    /// How it started: `None` while loading.
    started: Option<Result<(ComputePath, String), String>>,
    /// Photo jobs sent and not yet answered.
    photo_jobs: Vec<PhotoJob>,
    /// The version of the model this worker was last sent to classify with: it keeps that
    /// model, so the next photos go without it.
    classifying: Option<ModelVersion>,
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
    workers: Vec<PoolWorker>,
    /// How many workers the pool grows to on the CPU path.
    size: usize,
    queue: VecDeque<PhotoJob>,
    /// Requests for the trainer sent while it was (re)starting, delivered once it runs.
    for_trainer: Vec<(Request, Option<JsValue>)>,
    weights: Uint8Array,
    /// The CPU build, compiled.
    cpu_module: JsValue,
    /// The WebGPU build, compiled, for the first worker, when it may use a GPU.
    webgpu_module: Option<JsValue>,
    choice: ComputeChoice,
    /// The training run the trainer is working on.
    training: Option<JobId>,
    /// The worker of each network run (fine-tuning, LoRA, from scratch), where its stop goes.
    network_runs: HashMap<JobId, usize>,
    /// Network runs still training, with what each costs (from scratch, about twice the others).
    networks_training: HashMap<JobId, usize>,
    /// The compute path and why, once the first worker has started.
    path: Option<(ComputePath, String)>,
    /// Why the WebGPU worker stopped, once it has: its CPU replacement's badge says so.
    gpu_failure: Option<String>,
    /// Photo jobs already sent again once after their worker died.
    retried: HashSet<JobId>,
    /// Workers that died, kept so that their handlers, which may be running when they are
    /// replaced, are never dropped mid-call.
    retired: Vec<PoolWorker>,
    sink: PoolSink,
}

impl WorkerPool {
    /// Downloads the weights and compiles the worker wasm (both once; the WebGPU build as well
    /// when the first worker may use it, see [`wants_webgpu_build`]), then starts the first
    /// worker with `choice`. [`PoolEvent::Ready`] follows when it has started; on the CPU path
    /// the pool then grows to `size` workers, one after another so that the first loads at
    /// full speed, and [`PoolEvent::Ready`] comes again as each joins.
    pub async fn launch(
        size: usize,
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
        let weights = fetch_bytes(BACKBONE_URL, move |received, total| {
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
        let pool = Rc::new(RefCell::new(Self {
            workers: Vec::new(),
            size: size.max(1),
            queue: VecDeque::new(),
            for_trainer: Vec::new(),
            weights,
            cpu_module,
            webgpu_module,
            choice,
            training: None,
            network_runs: HashMap::new(),
            networks_training: HashMap::new(),
            path: None,
            gpu_failure: None,
            retried: HashSet::new(),
            retired: Vec::new(),
            sink,
        }));
        let first = Self::spawn(&pool, 0, 0)?;
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

    /// Creates a worker for slot `index` and hands it the compiled wasm to load.
    fn spawn(
        pool: &Rc<RefCell<Self>>,
        index: usize,
        generation: u32,
    ) -> Result<PoolWorker, String> {
        let worker = Worker::new(BOOTSTRAP_URL).map_err(describe)?;
        let weak = Rc::downgrade(pool);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(pool) = weak.upgrade() {
                Self::on_message(&pool, index, generation, event.data());
            }
        });
        let weak = Rc::downgrade(pool);
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            if let Some(pool) = weak.upgrade() {
                Self::on_death(&pool, index, generation, event.message());
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        // Only the very first worker may take the GPU (see `start_worker`).
        let (build, module) = match (index, generation, &pool.borrow().webgpu_module) {
            (TRAINER, 0, Some(module)) => (WEBGPU_BUILD, module.clone()),
            _ => (CPU_BUILD, pool.borrow().cpu_module.clone()),
        };
        let load = Object::new();
        Reflect::set(&load, &"glue".into(), &build.glue.into()).map_err(describe)?;
        Reflect::set(&load, &"module".into(), &module).map_err(describe)?;
        let test_hooks = crate::browser::query_param("test-hooks").is_some();
        Reflect::set(&load, &"testHooks".into(), &test_hooks.into()).map_err(describe)?;
        worker.post_message(&load).map_err(describe)?;
        Ok(PoolWorker {
            worker,
            generation,
            started: None,
            photo_jobs: Vec::new(),
            classifying: None,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// How many workers are up and take work.
    fn running(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| matches!(w.started, Some(Ok(_))))
            .count()
    }

    /// Whether an event comes from the worker now in slot `index`, not one it replaced.
    fn is_current(&self, index: usize, generation: u32) -> bool {
        self.workers
            .get(index)
            .is_some_and(|w| w.generation == generation)
    }

    fn on_message(pool: &Rc<RefCell<Self>>, index: usize, generation: u32, data: JsValue) {
        if !pool.borrow().is_current(index, generation) {
            return;
        }
        if data.as_string().is_some_and(|text| text == LOADED) {
            return pool.borrow_mut().start_worker(index);
        }
        let message = match data.as_string() {
            Some(failure) => Err(failure),
            None => headstart_browser::envelope::unwrap::<Event>(data),
        };
        let out = match message {
            Ok((Event::Panicked { detail }, _)) => {
                return Self::on_death(pool, index, generation, detail);
            }
            // The GPU failed under a photo (a lost or broken device): the worker is replaced on
            // the CPU path and its photos go again, this one included, as when a worker dies.
            Ok((
                Event::PhotoFailed {
                    error: PhotoError::Compute(detail),
                    ..
                },
                _,
            )) if pool.borrow().on_webgpu(index) => {
                let detail = format!("WebGPU failed: {detail}");
                return Self::on_death(pool, index, generation, detail);
            }
            Ok((event, attachment)) => pool.borrow_mut().route(index, event, attachment),
            Err(failure) => pool.borrow_mut().record_start(index, Err(failure)),
        };
        if pool.borrow().should_grow() {
            let index = pool.borrow().workers.len();
            match Self::spawn(pool, index, 0) {
                Ok(worker) => pool.borrow_mut().workers.push(worker),
                Err(error) => {
                    web_sys::console::error_1(&format!("no further model worker: {error}").into())
                }
            }
        }
        Self::tell(pool, out);
    }

    /// Passes events to the page, outside any borrow of the pool.
    fn tell(pool: &Rc<RefCell<Self>>, events: impl IntoIterator<Item = PoolEvent>) {
        let sink = pool.borrow().sink.clone();
        events.into_iter().for_each(|event| sink(event));
    }

    /// A worker died: it is replaced in its slot, its photos go back to the queue (or are
    /// reported, the second time), and a run it was training fails.
    fn on_death(pool: &Rc<RefCell<Self>>, index: usize, generation: u32, detail: String) {
        if !pool.borrow().is_current(index, generation) {
            return;
        }
        web_sys::console::error_1(&format!("model worker {index} stopped: {detail}").into());
        let mut events = Vec::new();
        let replace = {
            let mut pool = pool.borrow_mut();
            if pool.on_webgpu(index) {
                pool.gpu_failure = Some(detail.clone());
            }
            let dead = &mut pool.workers[index];
            dead.worker.terminate();
            dead.started = Some(Err(detail));
            let jobs = std::mem::take(&mut dead.photo_jobs);
            for photo in jobs.into_iter().rev() {
                if pool.retried.insert(photo.job) {
                    pool.queue.push_front(photo);
                } else {
                    let error = PhotoError::Compute("a model worker stopped twice on it".into());
                    let failed = Event::PhotoFailed {
                        job: photo.job,
                        error,
                    };
                    events.push(PoolEvent::Worker(failed, None));
                }
            }
            if index == TRAINER
                && let Some(job) = pool.training.take()
            {
                let error = TrainingError::Compute("the training worker stopped".into());
                events.push(PoolEvent::Worker(
                    Event::TrainingFailed { job, error },
                    None,
                ));
            }
            let lost: Vec<JobId> = pool
                .networks_training
                .keys()
                .copied()
                .filter(|job| pool.network_runs.get(job) == Some(&index))
                .collect();
            for job in lost {
                pool.networks_training.remove(&job);
                let error = TrainingError::Compute("the worker training it stopped".into());
                events.push(PoolEvent::Worker(
                    Event::TrainingFailed { job, error },
                    None,
                ));
            }
            pool.retired.len() < MAX_REPLACEMENTS
        };
        if replace {
            match Self::spawn(pool, index, generation + 1) {
                Ok(worker) => {
                    let mut pool = pool.borrow_mut();
                    let dead = std::mem::replace(&mut pool.workers[index], worker);
                    dead.worker.set_onmessage(None);
                    dead.worker.set_onerror(None);
                    pool.retired.push(dead);
                }
                Err(error) => events.push(PoolEvent::Failed(error)),
            }
        } else {
            events.push(PoolEvent::Failed("model workers keep stopping".into()));
        }
        // The badge shows one worker fewer until the replacement has loaded.
        let (path, workers) = {
            let mut pool = pool.borrow_mut();
            pool.pump();
            (pool.path.clone(), pool.running())
        };
        if let Some((path, reason)) = path {
            events.push(PoolEvent::Ready {
                path,
                reason,
                workers,
            });
        }
        Self::tell(pool, events);
    }

    /// Whether another worker should start now: the last one has started on the CPU path and
    /// the pool is not full.
    fn should_grow(&self) -> bool {
        let last_started = self.workers.last().is_some_and(|w| w.started.is_some());
        let on_cpu = matches!(
            &self.workers[TRAINER].started,
            Some(Ok((ComputePath::Cpu, _)))
        );
        on_cpu && last_started && self.workers.len() < self.size
    }

    fn start_worker(&mut self, index: usize) {
        // Only the very first worker may take the GPU; a replacement runs on the CPU.
        let compute = match (index, self.workers[index].generation) {
            (TRAINER, 0) => self.choice,
            _ => ComputeChoice::Cpu,
        };
        let weights = self.weights.slice(0, self.weights.length()).buffer();
        let message =
            headstart_browser::envelope::wrap(&Request::Start { compute }, Some(&weights));
        if let Err(error) = self.workers[index].worker.post_message(&message) {
            self.workers[index].started = Some(Err(describe(error)));
        }
    }

    /// Notes how a worker started. The first decides the compute path and makes the pool
    /// ready, or its failure fails the pool; each later one joins it, or is ended and gets no
    /// work if it failed.
    fn record_start(
        &mut self,
        index: usize,
        outcome: Result<(ComputePath, String), String>,
    ) -> Option<PoolEvent> {
        if let Err(detail) = &outcome {
            web_sys::console::error_1(
                &format!("model worker {index} did not start: {detail}").into(),
            );
            self.workers[index].worker.terminate();
        }
        let outcome = match (outcome, &self.gpu_failure) {
            (Ok((ComputePath::Cpu, _)), Some(failure)) if index == TRAINER => Ok((
                ComputePath::Cpu,
                format!("WebGPU stopped working ({failure}); the CPU took over"),
            )),
            (outcome, _) => outcome,
        };
        self.workers[index].started = Some(outcome);
        if index == TRAINER && self.trainer_runs() {
            for (request, attachment) in std::mem::take(&mut self.for_trainer) {
                self.post(TRAINER, &request, attachment.as_ref());
            }
        }
        self.pump();
        match self.workers[TRAINER].started.clone()? {
            Ok((path, reason)) => {
                self.path.get_or_insert((path, reason.clone()));
                Some(PoolEvent::Ready {
                    path,
                    reason,
                    workers: self.running(),
                })
            }
            Err(detail) => (index == TRAINER).then_some(PoolEvent::Failed(detail)),
        }
    }

    /// Bookkeeping for a worker's event; returns what the page should hear.
    fn route(
        &mut self,
        index: usize,
        event: Event,
        attachment: Option<JsValue>,
    ) -> Option<PoolEvent> {
        match &event {
            Event::Started { path, reason } => {
                return self.record_start(index, Ok((*path, reason.clone())));
            }
            Event::StartFailed { detail } => return self.record_start(index, Err(detail.clone())),
            Event::Embedded { job, .. }
            | Event::Classified { job, .. }
            | Event::Previewed { job }
            | Event::PhotoFailed { job, .. } => self.workers[index]
                .photo_jobs
                .retain(|photo| photo.job != *job),
            Event::Trained { job, .. }
            | Event::TrainingDiscarded { job }
            | Event::TrainingFailed { job, .. }
                if self.networks_training.remove(job).is_some() => {}
            // The comparison's off-the-shelf ways end with a model too, beside the head's run.
            Event::Trained { job, .. }
            | Event::TrainingDiscarded { job }
            | Event::TrainingFailed { job, .. }
                if self.training == Some(*job) =>
            {
                self.training = None
            }
            _ => {}
        }
        self.pump();
        Some(PoolEvent::Worker(event, attachment))
    }

    /// Sends a request: photo jobs queue for the least busy worker; a network run goes to the
    /// started worker training the fewest (so two runs use two cores), and what concerns it
    /// later to that worker; the rest go to the trainer.
    pub fn send(&mut self, request: Request, attachment: Option<JsValue>) {
        if let Request::Train { job, .. } = &request {
            self.training = Some(*job);
        }
        let owner = match &request {
            Request::TrainNetwork { job, kind, .. } => {
                let index = self.least_busy_trainer();
                let cost = match kind {
                    NetworkTraining::FromScratch => 2,
                    NetworkTraining::FineTune | NetworkTraining::Lora => 1,
                };
                self.network_runs.insert(*job, index);
                self.networks_training.insert(*job, cost);
                Some(index)
            }
            Request::StopTraining { job } => self.network_runs.get(job).copied(),
            _ => None,
        };
        if let Some(index) = owner.filter(|&index| index != TRAINER) {
            return self.post(index, &request, attachment.as_ref());
        }
        match photo_job(&request) {
            Some(job) => {
                self.queue.push_back(PhotoJob {
                    job,
                    request,
                    attachment,
                });
                self.pump();
            }
            None if self.trainer_runs() => self.post(TRAINER, &request, attachment.as_ref()),
            // A worker still loading would drop it: its loader takes only the wasm.
            None => self.for_trainer.push((request, attachment)),
        }
    }

    /// The started worker with the least network training to do (the trainer on ties).
    fn least_busy_trainer(&self) -> usize {
        let busy = |index: usize| -> usize {
            self.networks_training
                .iter()
                .filter(|(job, _)| self.network_runs.get(job) == Some(&index))
                .map(|(_, cost)| cost)
                .sum()
        };
        (0..self.workers.len())
            .filter(|&index| matches!(self.workers[index].started, Some(Ok(_))))
            .min_by_key(|&index| (busy(index), index))
            .unwrap_or(TRAINER)
    }

    fn on_webgpu(&self, index: usize) -> bool {
        matches!(
            self.workers[index].started,
            Some(Ok((ComputePath::WebGpu, _)))
        )
    }

    fn trainer_runs(&self) -> bool {
        matches!(self.workers[TRAINER].started, Some(Ok(_)))
    }

    /// Test hook (`?test-hooks`): makes worker `index` panic, as a bug would.
    pub fn crash(&self, index: usize) {
        if index < self.workers.len() {
            self.post(index, &Request::Crash, None);
        }
    }

    fn post(&self, index: usize, request: &Request, attachment: Option<&JsValue>) {
        let message = headstart_browser::envelope::wrap(request, attachment);
        if let Err(error) = self.workers[index].worker.post_message(&message) {
            web_sys::console::error_1(
                &format!("could not send {request:?}: {}", describe(error)).into(),
            );
        }
    }

    /// Hands queued photo jobs to workers with room for them.
    fn pump(&mut self) {
        loop {
            let only_one = self.running() == 1;
            let training = self.training.is_some();
            let free = self
                .workers
                .iter()
                .enumerate()
                .filter(|(index, w)| {
                    matches!(w.started, Some(Ok(_)))
                        && w.photo_jobs.len() < JOBS_PER_WORKER
                        && (only_one || !training || *index != TRAINER)
                })
                .min_by_key(|(_, w)| w.photo_jobs.len())
                .map(|(index, _)| index);
            // A job leaves the queue only once a worker can take it.
            let Some(index) = free else { return };
            let Some(photo) = self.queue.pop_front() else {
                return;
            };
            match &photo.request {
                // The worker holds this model already: the photo goes without it.
                Request::Classify { job, version, .. }
                    if self.workers[index].classifying == Some(*version) =>
                {
                    let request = Request::Classify {
                        job: *job,
                        version: *version,
                        model: None,
                    };
                    self.post(index, &request, photo.attachment.as_ref());
                }
                request => {
                    self.post(index, request, photo.attachment.as_ref());
                    if let Request::Classify { version, .. } = request {
                        self.workers[index].classifying = Some(*version);
                    }
                }
            }
            self.workers[index].photo_jobs.push(photo);
        }
    }
}
