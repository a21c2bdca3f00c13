//! The page's pool of model workers: starts them (the worker wasm is compiled once and the
//! weights downloaded once, both handed to every worker), sends each request to a worker and
//! routes every event back. Photo jobs queue here and go to the least busy worker; a training
//! run and everything about it go to the first worker, which then gets photo jobs only when it
//! is the only one.

use crate::browser::{fetch_bytes, window};
use headstart_browser::describe;
use headstart_core::protocol::{ComputeChoice, ComputePath, Event, Request};
use js_sys::{Object, Reflect, Uint8Array, WebAssembly};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker};

/// The script each worker starts with: it loads the worker wasm handed to it.
const BOOTSTRAP_URL: &str = "model-worker.js";
/// The worker's wasm-bindgen glue, loaded by the bootstrap.
const WORKER_GLUE_URL: &str = "headstart-worker.js";
/// The worker's wasm, compiled once by the page.
const WORKER_WASM_URL: &str = "headstart-worker_bg.wasm";
/// The converted backbone weights.
const BACKBONE_URL: &str = "weights/efficientnet-lite0.bpk";
/// What the bootstrap answers once the worker's wasm runs.
const LOADED: &str = "loaded";

/// Most photo jobs a worker holds at once: one computing while the next one decodes.
const JOBS_PER_WORKER: usize = 2;

/// What the pool tells the page.
pub enum PoolEvent {
    /// Weight bytes arrived.
    Progress(u64, Option<u64>),
    /// The first worker holds the backbone, or another worker joined it.
    Ready {
        /// Their compute path.
        path: ComputePath,
        /// Why that path.
        reason: String,
        /// How many there are.
        workers: usize,
    },
    /// No worker could start (detail for the console).
    Failed(String),
    /// A worker's event, with its attachment.
    Worker(Event, Option<JsValue>),
}

/// Where the pool's events go.
pub type PoolSink = Rc<dyn Fn(PoolEvent)>;

/// One worker and its bookkeeping.
struct PoolWorker {
    worker: Worker,
    /// How it started: `None` while loading.
    started: Option<Result<(ComputePath, String), String>>,
    /// Photo jobs sent and not yet answered.
    photo_jobs: usize,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

/// The pool.
pub struct WorkerPool {
    workers: Vec<PoolWorker>,
    /// How many workers the pool grows to on the CPU path.
    size: usize,
    queue: VecDeque<(Request, Option<JsValue>)>,
    weights: Uint8Array,
    /// The compiled worker wasm.
    module: JsValue,
    choice: ComputeChoice,
    training: bool,
    sink: PoolSink,
}

/// The index of the worker that trains.
const TRAINER: usize = 0;

impl WorkerPool {
    /// Downloads the weights and compiles the worker wasm (both once), then starts the first
    /// worker with `choice`. [`PoolEvent::Ready`] follows when it has started; on the CPU path
    /// the pool then grows to `size` workers, one after another so that the first loads at
    /// full speed, and [`PoolEvent::Ready`] comes again as each joins.
    pub async fn launch(
        size: usize,
        choice: ComputeChoice,
        sink: PoolSink,
    ) -> Result<Rc<RefCell<Self>>, String> {
        let progress = sink.clone();
        let weights = fetch_bytes(BACKBONE_URL, move |received, total| {
            progress(PoolEvent::Progress(received, total))
        })
        .await
        .map_err(|e| format!("the pretrained model could not be downloaded: {e}"))?;
        let module = JsFuture::from(WebAssembly::compile_streaming(
            &window().fetch_with_str(WORKER_WASM_URL),
        ))
        .await
        .map_err(|e| format!("the model worker could not be compiled: {}", describe(e)))?;
        let pool = Rc::new(RefCell::new(Self {
            workers: Vec::new(),
            size: size.max(1),
            queue: VecDeque::new(),
            weights,
            module,
            choice,
            training: false,
            sink,
        }));
        Self::add_worker(&pool)?;
        Ok(pool)
    }

    /// Creates the next worker and hands it the compiled wasm to load.
    fn add_worker(pool: &Rc<RefCell<Self>>) -> Result<(), String> {
        let index = pool.borrow().workers.len();
        let worker = Worker::new(BOOTSTRAP_URL).map_err(describe)?;
        let weak = Rc::downgrade(pool);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(pool) = weak.upgrade() {
                Self::on_message(&pool, index, event.data());
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let load = Object::new();
        Reflect::set(&load, &"glue".into(), &WORKER_GLUE_URL.into()).map_err(describe)?;
        Reflect::set(&load, &"module".into(), &pool.borrow().module).map_err(describe)?;
        worker.post_message(&load).map_err(describe)?;
        pool.borrow_mut().workers.push(PoolWorker {
            worker,
            started: None,
            photo_jobs: 0,
            _on_message: on_message,
        });
        Ok(())
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

    /// How many workers are up and take work.
    fn running(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| matches!(w.started, Some(Ok(_))))
            .count()
    }

    fn on_message(pool: &Rc<RefCell<Self>>, index: usize, data: JsValue) {
        let out = {
            let mut pool = pool.borrow_mut();
            if data.as_string().is_some_and(|text| text == LOADED) {
                pool.start_worker(index);
                return;
            }
            if let Some(failure) = data.as_string() {
                pool.record_start(index, Err(failure))
            } else {
                match headstart_browser::envelope::unwrap::<Event>(data) {
                    Ok((event, attachment)) => pool.route(index, event, attachment),
                    Err(error) => Some(PoolEvent::Failed(error)),
                }
            }
        };
        if pool.borrow().should_grow()
            && let Err(error) = Self::add_worker(pool)
        {
            web_sys::console::error_1(&format!("no further model worker: {error}").into());
        }
        if let Some(event) = out {
            let sink = pool.borrow().sink.clone();
            sink(event);
        }
    }

    fn start_worker(&mut self, index: usize) {
        let compute = match index {
            TRAINER => self.choice,
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
        self.workers[index].started = Some(outcome);
        match self.workers[TRAINER].started.clone()? {
            Ok((path, reason)) => Some(PoolEvent::Ready {
                path,
                reason,
                workers: self.running(),
            }),
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
            Event::Embedded { .. } | Event::Classified { .. } | Event::PhotoFailed { .. } => {
                if let Some(worker) = self.workers.get_mut(index) {
                    worker.photo_jobs = worker.photo_jobs.saturating_sub(1);
                }
            }
            Event::Trained { .. }
            | Event::TrainingDiscarded { .. }
            | Event::TrainingFailed { .. } => self.training = false,
            _ => {}
        }
        self.pump();
        Some(PoolEvent::Worker(event, attachment))
    }

    /// Sends a request: photo jobs queue for the least busy worker, the rest go to the trainer.
    pub fn send(&mut self, request: Request, attachment: Option<JsValue>) {
        match request {
            Request::Embed { .. } | Request::Classify { .. } => {
                self.queue.push_back((request, attachment));
                self.pump();
            }
            _ => {
                self.training |= matches!(request, Request::Train { .. });
                self.post(TRAINER, &request, attachment.as_ref());
            }
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
            let free = self
                .workers
                .iter()
                .enumerate()
                .filter(|(index, w)| {
                    matches!(w.started, Some(Ok(_)))
                        && w.photo_jobs < JOBS_PER_WORKER
                        && (only_one || !self.training || *index != TRAINER)
                })
                .min_by_key(|(_, w)| w.photo_jobs)
                .map(|(index, _)| index);
            // A job leaves the queue only once a worker can take it.
            let Some(index) = free else { return };
            let Some((request, attachment)) = self.queue.pop_front() else {
                return;
            };
            self.post(index, &request, attachment.as_ref());
            self.workers[index].photo_jobs += 1;
        }
    }
}
