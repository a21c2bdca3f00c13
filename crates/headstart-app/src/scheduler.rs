//! The rules of the page's pool of model workers, as plain data: which worker each request goes
//! to, and what follows when a worker loads, starts, answers or dies. The page's pool
//! (`headstart-web`) owns the browser's workers and carries out the [`Command`]s returned here;
//! `A` is what goes beside a request (a browser value in the page).
//!
//! Photo jobs queue here and go to the least busy worker; a worker keeps the model it last
//! classified with, so each model goes to each worker once and later photos carry only its
//! version. A head's training run goes to the first worker, which then gets photo jobs only when
//! it is the only one; a network run (fine-tuning, LoRA, from scratch) goes to the started
//! worker with the least network training to do, and its stop follows it. Only the first worker
//! may take the GPU; on the CPU path the pool grows one worker at a time, each new worker
//! joining only if the pool then embeds more photos a second (see [`PoolSize`]). A worker that
//! dies (a panic, an uncaught error, the GPU failing under a photo) is replaced on the CPU path:
//! its photos are sent again once, then reported, and a run it was training fails.

use headstart_core::protocol::{
    ComputeChoice, ComputePath, ComputeReason, Event, JobId, PhotoError, Request, TrainingError,
};
use headstart_core::training::{ModelVersion, WayFamily};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// Most photo jobs a worker holds at once: one computing while the next one decodes.
const JOBS_PER_WORKER: usize = 2;

/// Most workers replaced in a session before the pool gives up (a crash on every start).
const MAX_REPLACEMENTS: usize = 8;

/// The index of the worker that trains.
const TRAINER: usize = 0;

/// Milliseconds each worker of a timing round embeds before its clock starts: long enough for
/// the browser to optimize the network's code (a new worker's first photos took twice as long)
/// and for the round's workers to be embedding at once when the clocks start.
const WARM_UP_MS: u32 = 400;

/// Milliseconds a new worker embeds alone before its round, while photo work goes on: WebKit
/// optimizes a new worker's code for seconds, and its compiler threads take the cores (two
/// workers finished 19–22 photos on the clock with a newcomer 0.4 s old, 31–50 a round later).
const NEWCOMER_WARM_UP_MS: u32 = 3000;

/// Milliseconds each worker of a timing round embeds on the clock (a photo takes 45–120 ms).
/// The pool's rate is the photos they all finished on the clock over this time: a sum of each
/// worker's own rate, each timed over its own stretch between its first and last photo, counted
/// a third worker on two cores as 13% faster in WebKit, whose threads share the cores unevenly.
const TIMED_MS: u32 = 1200;

/// How much more a pool with one more worker must embed a second for that worker to stay: on
/// two cores a second worker embedded 1.9 to 2.9 times as many photos and a third 0.96 to 0.99
/// times as many (`workers.test.mjs`, see the README), so 15% tells them apart with room for
/// noise.
const MIN_GAIN: f64 = 1.15;

/// How many workers the pool grows to on the CPU path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolSize {
    /// This many (as a test or the `?workers=` parameter asks).
    Fixed(usize),
    /// At most this many, and only while each one more makes embedding faster: when a worker
    /// has started, it embeds a made-up input alone while photo work goes on, then photo work
    /// pauses, the workers that take work embed the same input at once, then they and the new
    /// worker do, and the new worker stays only if the pool then embeds [`MIN_GAIN`] times as
    /// many photos a second as without it; otherwise it is ended and the pool stops growing.
    UpTo(usize),
}

impl PoolSize {
    fn most(self) -> usize {
        match self {
            Self::Fixed(workers) | Self::UpTo(workers) => workers.max(1),
        }
    }
}

/// A round of timing: every worker that takes work, and the newest worker on trial, embed the
/// same input at once. With a newcomer, the newcomer first warms up alone while photo work
/// goes on ([`NEWCOMER_WARM_UP_MS`]), and the workers that take work are timed again first,
/// without it: their last rate was measured while their code was new (WebKit optimizes a
/// worker's code for seconds after it starts, and a pool of 4 on 2 cores grew against such a
/// rate).
#[derive(Debug, Default)]
struct TimingRound {
    /// The worker on trial (none when the first worker is timed alone).
    newcomer: Option<usize>,
    /// Where the round is.
    phase: Phase,
    /// Whether the requests have gone out: they wait until no photo is in flight.
    sent: bool,
    /// Photos each worker that answered finished on the clock, by slot (`None`: its network
    /// failed).
    answers: BTreeMap<usize, Option<u32>>,
}

/// The parts of a timing round, in order; a round without a newcomer has only the last.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The newcomer embeds alone while photo work goes on.
    NewcomerWarmsUp,
    /// The workers that take work are timed again, without the newcomer.
    PoolTimedAgain,
    /// Every worker that takes work and the newcomer are timed.
    #[default]
    AllTimed,
}

/// What the pool has learned of its size.
#[derive(Debug, Default)]
struct Sizing {
    /// Photos a second the pool embedded in each round: with one worker, two, and so on.
    photos_per_second: Vec<f64>,
    /// The round in progress.
    round: Option<TimingRound>,
    /// One more worker was not faster (or died on trial): the pool grows no more.
    settled: bool,
}

/// One worker of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerId {
    /// Its slot in the pool.
    pub index: usize,
    /// How many workers that slot had before it: tells its events from those of the one it
    /// replaced.
    pub generation: u32,
}

/// Which build of the model worker a worker loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The CPU path only.
    Cpu,
    /// burn's WebGPU backend as well.
    WebGpu,
}

/// A request for one worker, with what goes beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Post<A> {
    /// The worker's slot.
    pub worker: usize,
    /// The request.
    pub request: Request,
    /// What goes beside it.
    pub attachment: A,
}

/// A worker to create, handed `build` to load; once its wasm runs, ask
/// [`Scheduler::worker_loaded`] how it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawn {
    /// The new worker: in a new slot, or in place of the dead one in its slot.
    pub worker: WorkerId,
    /// What it loads.
    pub build: Build,
}

/// Why a worker is ended (detail for the console).
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// It died.
    Died(String),
    /// Its backbone could not be loaded.
    DidNotStart(String),
    /// With it the pool embedded fewer than [`MIN_GAIN`] times as many photos a second as
    /// without: the photos a second of each round, one worker, two and so on, its own last.
    NotFaster(Vec<f64>),
}

/// What the page hears from the pool.
#[derive(Debug, Clone, PartialEq)]
pub enum Report<A> {
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
    /// A worker's event, with its attachment, or one the pool makes for a worker that died.
    Worker(Event, A),
}

/// What the page's pool must do, in order (the reports may wait until the rest is done).
#[derive(Debug, Clone, PartialEq)]
pub enum Command<A> {
    /// Send a request to a worker (boxed: a request is far larger than the other commands).
    Post(Box<Post<A>>),
    /// Create a worker; if it cannot be, tell [`Scheduler::spawn_failed`].
    Spawn(Spawn),
    /// End the worker in a slot: it takes no more work.
    Terminate {
        /// The worker's slot.
        worker: usize,
        /// Why.
        ending: Ending,
    },
    /// Tell the page.
    Tell(Report<A>),
}

/// A photo job as sent, kept until answered so that it can be sent again.
#[derive(Debug)]
struct PhotoJob<A> {
    job: JobId,
    request: Request,
    attachment: A,
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

/// What the pool knows of the worker in one slot.
#[derive(Debug)]
struct Slot<A> {
    /// Which of the slot's workers it is.
    generation: u32,
    /// How it started: `None` while loading.
    started: Option<Result<(ComputePath, ComputeReason), String>>,
    /// Photo jobs sent and not yet answered.
    photo_jobs: Vec<PhotoJob<A>>,
    /// The version of the model this worker was last sent to classify with: it keeps that
    /// model, so the next photos go without it.
    classifying: Option<ModelVersion>,
    /// Started but takes no work yet: it is being timed (see [`PoolSize::UpTo`]).
    on_trial: bool,
}

impl<A> Slot<A> {
    /// A worker just created, loading.
    fn new(generation: u32) -> Self {
        Self {
            generation,
            started: None,
            photo_jobs: Vec::new(),
            classifying: None,
            on_trial: false,
        }
    }

    /// Started, and takes work.
    fn runs(&self) -> bool {
        matches!(self.started, Some(Ok(_))) && !self.on_trial
    }
}

/// The pool's bookkeeping: its workers, the work waiting and the runs in progress.
#[derive(Debug)]
pub struct Scheduler<A> {
    /// The worker in each slot.
    workers: Vec<Slot<A>>,
    /// How many workers the pool grows to on the CPU path.
    size: PoolSize,
    /// What timing has shown of that size.
    sizing: Sizing,
    /// The compute path asked for, for the first worker.
    choice: ComputeChoice,
    /// Whether the page has the WebGPU build, for the first worker.
    webgpu_build: bool,
    /// Photo jobs waiting for a worker with room.
    queue: VecDeque<PhotoJob<A>>,
    /// Requests for the trainer sent while it was (re)starting, delivered once it runs.
    for_trainer: Vec<(Request, A)>,
    /// The training run the trainer is working on.
    training: Option<JobId>,
    /// The worker of each network run (fine-tuning, LoRA, from scratch), where its stop goes.
    network_runs: HashMap<JobId, usize>,
    /// Network runs still training, with what each costs (from scratch, about twice the others).
    networks_training: BTreeMap<JobId, usize>,
    /// The compute path and why, once the first worker has started.
    path: Option<(ComputePath, ComputeReason)>,
    /// Why the WebGPU worker stopped, once it has: its CPU replacement's badge says so.
    gpu_failure: Option<String>,
    /// Photo jobs already sent again once after their worker died.
    retried: HashSet<JobId>,
    /// How many workers have been replaced.
    replacements: usize,
}

impl<A: Clone + Default> Scheduler<A> {
    /// A pool that grows as `size` says on the CPU path, its first worker starting with
    /// `choice` (on the WebGPU build when `webgpu_build`); returns the first worker to create.
    pub fn new(size: PoolSize, choice: ComputeChoice, webgpu_build: bool) -> (Self, Spawn) {
        let scheduler = Self {
            workers: vec![Slot::new(0)],
            size,
            sizing: Sizing::default(),
            choice,
            webgpu_build,
            queue: VecDeque::new(),
            for_trainer: Vec::new(),
            training: None,
            network_runs: HashMap::new(),
            networks_training: BTreeMap::new(),
            path: None,
            gpu_failure: None,
            retried: HashSet::new(),
            replacements: 0,
        };
        let first = scheduler.spawn(TRAINER, 0);
        (scheduler, first)
    }

    /// The worker to create in slot `index`: only the very first may take the GPU; a
    /// replacement runs on the CPU.
    fn spawn(&self, index: usize, generation: u32) -> Spawn {
        let build = match (index, generation) {
            (TRAINER, 0) if self.webgpu_build => Build::WebGpu,
            _ => Build::Cpu,
        };
        Spawn {
            worker: WorkerId { index, generation },
            build,
        }
    }

    /// Whether `id` is the worker now in its slot, not one it replaced.
    fn is_current(&self, id: WorkerId) -> bool {
        self.workers
            .get(id.index)
            .is_some_and(|w| w.generation == id.generation)
    }

    /// Worker `id`'s wasm runs: what it is to start the backbone with ([`Request::Start`],
    /// which the page sends with the weights), `None` if a later worker replaced it. Only the
    /// very first worker may take the GPU; a replacement runs on the CPU.
    pub fn worker_loaded(&self, id: WorkerId) -> Option<ComputeChoice> {
        self.is_current(id)
            .then_some(match (id.index, id.generation) {
                (TRAINER, 0) => self.choice,
                _ => ComputeChoice::Cpu,
            })
    }

    /// How many workers are up and take work.
    fn running(&self) -> usize {
        self.workers.iter().filter(|w| w.runs()).count()
    }

    fn trainer_runs(&self) -> bool {
        self.workers[TRAINER].runs()
    }

    fn on_webgpu(&self, index: usize) -> bool {
        matches!(
            self.workers[index].started,
            Some(Ok((ComputePath::WebGpu, _)))
        )
    }

    /// Sends a request: photo jobs queue for the least busy worker; a network run goes to the
    /// started worker training the fewest (so two runs use two cores), and what concerns it
    /// later to that worker; the rest go to the trainer.
    pub fn send(&mut self, request: Request, attachment: A) -> Vec<Post<A>> {
        let owner = match &request {
            Request::Train { job, run, .. } => match run.way.family() {
                WayFamily::Network(kind) => {
                    let index = self.least_busy_trainer();
                    self.network_runs.insert(*job, index);
                    self.networks_training.insert(*job, kind.relative_cost());
                    Some(index)
                }
                WayFamily::NoGradient(_) | WayFamily::NewHead => {
                    self.training = Some(*job);
                    None
                }
            },
            Request::StopTraining { job } => self.network_runs.get(job).copied(),
            _ => None,
        };
        if let Some(worker) = owner.filter(|&index| index != TRAINER) {
            return vec![Post {
                worker,
                request,
                attachment,
            }];
        }
        match photo_job(&request) {
            Some(job) => {
                self.queue.push_back(PhotoJob {
                    job,
                    request,
                    attachment,
                });
                self.pump()
            }
            None if self.trainer_runs() => vec![Post {
                worker: TRAINER,
                request,
                attachment,
            }],
            // A worker still loading would drop it: its loader takes only the wasm.
            None => {
                self.for_trainer.push((request, attachment));
                Vec::new()
            }
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
            .filter(|&index| self.workers[index].runs())
            .min_by_key(|&index| (busy(index), index))
            .unwrap_or(TRAINER)
    }

    /// Worker `id` sent `event`: what the pool does about it. On the CPU path the pool grows by
    /// one worker once the last one has started (or failed to).
    pub fn on_event(&mut self, id: WorkerId, event: Event, attachment: A) -> Vec<Command<A>> {
        if !self.is_current(id) {
            return Vec::new();
        }
        let mut commands = match event {
            Event::Panicked { detail } => return self.worker_died(id, detail),
            Event::EmbeddingTimed {
                photos_on_the_clock,
            } => self.timed(id.index, photos_on_the_clock),
            // The GPU failed under a photo (a lost or broken device): the worker is replaced on
            // the CPU path and its photos go again, this one included, as when a worker dies.
            Event::PhotoFailed {
                error: PhotoError::Compute(detail),
                ..
            } if self.on_webgpu(id.index) => {
                return self.worker_died(id, format!("WebGPU failed: {detail}"));
            }
            event => self.route(id.index, event, attachment),
        };
        if self.should_grow() {
            let index = self.workers.len();
            self.workers.push(Slot::new(0));
            commands.push(Command::Spawn(self.spawn(index, 0)));
        }
        commands
    }

    /// Whether another worker should start now: the last one has started on the CPU path, the
    /// pool is not full, and, sized by timing, the last round is over and showed it faster.
    fn should_grow(&self) -> bool {
        let last_started = self.workers.last().is_some_and(|w| w.started.is_some());
        let timed = match self.size {
            PoolSize::Fixed(_) => true,
            PoolSize::UpTo(_) => {
                let sizing = &self.sizing;
                !sizing.photos_per_second.is_empty() && sizing.round.is_none() && !sizing.settled
            }
        };
        self.on_cpu() && last_started && timed && self.workers.len() < self.size.most()
    }

    fn on_cpu(&self) -> bool {
        matches!(
            &self.workers[TRAINER].started,
            Some(Ok((ComputePath::Cpu, _)))
        )
    }

    /// Bookkeeping for a worker's event, which the page then hears.
    fn route(&mut self, index: usize, event: Event, attachment: A) -> Vec<Command<A>> {
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
        let mut commands = self.pump_commands();
        commands.push(Command::Tell(Report::Worker(event, attachment)));
        commands
    }

    /// Notes how a worker started. The first decides the compute path and makes the pool
    /// ready, or its failure fails the pool; each later one joins it, or is ended and gets no
    /// work if it failed.
    fn record_start(
        &mut self,
        index: usize,
        outcome: Result<(ComputePath, ComputeReason), String>,
    ) -> Vec<Command<A>> {
        let mut commands = Vec::new();
        if let Err(detail) = &outcome {
            commands.push(Command::Terminate {
                worker: index,
                ending: Ending::DidNotStart(detail.clone()),
            });
        }
        let outcome = match (outcome, &self.gpu_failure) {
            (Ok((ComputePath::Cpu, _)), Some(failure)) if index == TRAINER => {
                Ok((ComputePath::Cpu, ComputeReason::GpuStopped(failure.clone())))
            }
            (outcome, _) => outcome,
        };
        let first_of_its_slot = self.workers[index].generation == 0;
        self.workers[index].started = Some(outcome);
        if let PoolSize::UpTo(_) = self.size
            && self.on_cpu()
            && matches!(self.workers[index].started, Some(Ok(_)))
            && !self.sizing.settled
            && (index == TRAINER && self.sizing.photos_per_second.is_empty()
                || index != TRAINER && first_of_its_slot)
        {
            let newcomer = (index != TRAINER).then_some(index);
            self.workers[index].on_trial = newcomer.is_some();
            self.sizing.round = Some(TimingRound {
                newcomer,
                phase: if newcomer.is_some() {
                    Phase::NewcomerWarmsUp
                } else {
                    Phase::AllTimed
                },
                ..TimingRound::default()
            });
        }
        if index == TRAINER && self.trainer_runs() {
            let held = std::mem::take(&mut self.for_trainer);
            commands.extend(held.into_iter().map(|(request, attachment)| {
                Command::Post(Box::new(Post {
                    worker: TRAINER,
                    request,
                    attachment,
                }))
            }));
        }
        commands.extend(self.pump_commands());
        match self.workers[TRAINER].started.clone() {
            Some(Ok(started)) => {
                self.path.get_or_insert(started);
                commands.extend(self.ready_report());
            }
            Some(Err(detail)) if index == TRAINER => {
                commands.push(Command::Tell(Report::Failed(detail)));
            }
            _ => {}
        }
        commands
    }

    /// Worker `id` died (a panic, an uncaught error): it is ended and replaced in its slot
    /// (at most [`MAX_REPLACEMENTS`] times), its photos go back to the queue (or are reported,
    /// the second time), and a run it was training fails.
    pub fn worker_died(&mut self, id: WorkerId, detail: String) -> Vec<Command<A>> {
        if !self.is_current(id) {
            return Vec::new();
        }
        let index = id.index;
        let mut commands = vec![Command::Terminate {
            worker: index,
            ending: Ending::Died(detail.clone()),
        }];
        // A death during a newcomer's round stops the timing: the newcomer joins untimed, or,
        // if it is the one that died, is not replaced. A first worker that dies while timed
        // alone is timed again once replaced.
        if let Some(round) = self.sizing.round.take()
            && let Some(newcomer) = round.newcomer
        {
            self.sizing.settled = true;
            self.workers[newcomer].on_trial = false;
            if newcomer == index {
                self.workers[index].started = Some(Err(detail));
                commands.extend(self.pump_commands());
                commands.extend(self.ready_report());
                return commands;
            }
        }
        if self.on_webgpu(index) {
            self.gpu_failure = Some(detail.clone());
        }
        let dead = &mut self.workers[index];
        dead.started = Some(Err(detail));
        for photo in std::mem::take(&mut dead.photo_jobs).into_iter().rev() {
            if self.retried.insert(photo.job) {
                self.queue.push_front(photo);
            } else {
                let error = PhotoError::Compute("a model worker stopped twice on it".into());
                let failed = Event::PhotoFailed {
                    job: photo.job,
                    error,
                };
                commands.push(Command::Tell(Report::Worker(failed, A::default())));
            }
        }
        if index == TRAINER
            && let Some(job) = self.training.take()
        {
            let error = TrainingError::Compute("the training worker stopped".into());
            let failed = Event::TrainingFailed { job, error };
            commands.push(Command::Tell(Report::Worker(failed, A::default())));
        }
        let lost: Vec<JobId> = self
            .networks_training
            .keys()
            .copied()
            .filter(|job| self.network_runs.get(job) == Some(&index))
            .collect();
        for job in lost {
            self.networks_training.remove(&job);
            let error = TrainingError::Compute("the worker training it stopped".into());
            let failed = Event::TrainingFailed { job, error };
            commands.push(Command::Tell(Report::Worker(failed, A::default())));
        }
        if self.replacements < MAX_REPLACEMENTS {
            self.replacements += 1;
            self.workers[index] = Slot::new(id.generation + 1);
            commands.push(Command::Spawn(self.spawn(index, id.generation + 1)));
        } else {
            let failure = Report::Failed("model workers keep stopping".into());
            commands.push(Command::Tell(failure));
        }
        commands.extend(self.pump_commands());
        // The badge shows one worker fewer until the replacement has loaded.
        commands.extend(self.ready_report());
        commands
    }

    /// The worker of a [`Command::Spawn`] could not be created (`error`): a new slot is given
    /// up until the next event; a replacement is not counted, its slot stays without a running
    /// worker, and the pool reports the failure.
    pub fn spawn_failed(&mut self, id: WorkerId, error: String) -> Option<Report<A>> {
        if id.generation == 0 {
            self.workers.truncate(id.index);
            return None;
        }
        self.replacements -= 1;
        self.workers[id.index].started = Some(Err(error.clone()));
        Some(Report::Failed(error))
    }

    fn pump_commands(&mut self) -> Vec<Command<A>> {
        self.pump()
            .into_iter()
            .map(|post| Command::Post(Box::new(post)))
            .collect()
    }

    /// The workers a timing round times: those that take work and the one on trial.
    fn round_members(&self) -> Vec<usize> {
        let newcomer = self
            .sizing
            .round
            .as_ref()
            .filter(|round| round.phase == Phase::AllTimed)
            .and_then(|round| round.newcomer);
        (0..self.workers.len())
            .filter(|&index| self.workers[index].runs() || Some(index) == newcomer)
            .collect()
    }

    /// While a timing round waits or runs, photo work pauses: the round's requests go out once
    /// no photo is in flight, and no photo goes out until every answer is in. A round waits
    /// for a run in training to end, and photos go on meanwhile (`None`: photos may go).
    fn timing_posts(&mut self) -> Option<Vec<Post<A>>> {
        let training = self.training.is_some() || !self.networks_training.is_empty();
        let in_flight = self.workers.iter().any(|w| !w.photo_jobs.is_empty());
        let members = self.round_members();
        let round = self.sizing.round.as_mut()?;
        if round.phase == Phase::NewcomerWarmsUp {
            return None;
        }
        if round.sent {
            return Some(Vec::new());
        }
        if training {
            return None;
        }
        if in_flight {
            return Some(Vec::new());
        }
        round.sent = true;
        let time = |worker| Post {
            worker,
            request: Request::TimeEmbedding {
                warm_up_ms: WARM_UP_MS,
                timed_ms: TIMED_MS,
            },
            attachment: A::default(),
        };
        Some(members.into_iter().map(time).collect())
    }

    /// The newcomer's request to warm up alone, once, when its round begins.
    fn warm_up_post(&mut self) -> Option<Post<A>> {
        let round = self
            .sizing
            .round
            .as_mut()
            .filter(|r| r.phase == Phase::NewcomerWarmsUp && !r.sent)?;
        round.sent = true;
        Some(Post {
            worker: round.newcomer?,
            request: Request::TimeEmbedding {
                warm_up_ms: NEWCOMER_WARM_UP_MS,
                timed_ms: 0,
            },
            attachment: A::default(),
        })
    }

    /// Worker `index` timed its embedding: once every worker of the round has, the newcomer
    /// joins the pool if it made embedding [`MIN_GAIN`] times faster, and is ended otherwise.
    /// The newcomer's answer to its warm-up starts the round's timing.
    fn timed(&mut self, index: usize, photos_on_the_clock: Option<u32>) -> Vec<Command<A>> {
        if let Some(round) =
            self.sizing.round.as_mut().filter(|round| {
                round.phase == Phase::NewcomerWarmsUp && round.newcomer == Some(index)
            })
        {
            round.phase = Phase::PoolTimedAgain;
            round.sent = false;
            return self.pump_commands();
        }
        let members = self.round_members();
        let Some(round) = self.sizing.round.as_mut().filter(|round| round.sent) else {
            return Vec::new();
        };
        round.answers.insert(index, photos_on_the_clock);
        if members
            .iter()
            .any(|member| !round.answers.contains_key(member))
        {
            return Vec::new();
        }
        let mut round = self.sizing.round.take().unwrap_or_default();
        // A worker whose network failed embeds nothing.
        let photos: u32 = round.answers.values().flatten().sum();
        let photos_per_second = f64::from(photos) * 1000.0 / f64::from(TIMED_MS);
        if round.phase == Phase::PoolTimedAgain {
            // The pool as it is, timed again: its rate replaces the one it had, and the
            // newcomer's part of the round follows.
            if let Some(rate) = self.sizing.photos_per_second.last_mut() {
                *rate = photos_per_second;
            }
            round.phase = Phase::AllTimed;
            round.sent = false;
            round.answers.clear();
            self.sizing.round = Some(round);
            return self.pump_commands();
        }
        let before = self.sizing.photos_per_second.last().copied();
        self.sizing.photos_per_second.push(photos_per_second);
        let mut commands = Vec::new();
        match (round.newcomer, before) {
            (Some(newcomer), Some(before)) if photos_per_second < before * MIN_GAIN => {
                self.sizing.settled = true;
                let ending = Ending::NotFaster(self.sizing.photos_per_second.clone());
                self.workers[newcomer].on_trial = false;
                self.workers[newcomer].started = Some(Err("not faster".into()));
                commands.push(Command::Terminate {
                    worker: newcomer,
                    ending,
                });
            }
            (Some(newcomer), _) => {
                self.workers[newcomer].on_trial = false;
                commands.extend(self.ready_report());
            }
            (None, _) => {}
        }
        commands.extend(self.pump_commands());
        commands
    }

    /// The badge's report: the trainer's compute path (while it restarts, the one it had), and
    /// how many workers take work.
    fn ready_report(&self) -> Option<Command<A>> {
        let (path, reason) = match &self.workers[TRAINER].started {
            Some(Ok(started)) => started.clone(),
            _ => self.path.clone()?,
        };
        Some(Command::Tell(Report::Ready {
            path,
            reason,
            workers: self.running(),
        }))
    }

    /// Hands queued photo jobs to workers with room for them.
    fn pump(&mut self) -> Vec<Post<A>> {
        let mut posts: Vec<Post<A>> = self.warm_up_post().into_iter().collect();
        if let Some(timing) = self.timing_posts() {
            posts.extend(timing);
            return posts;
        }
        loop {
            let only_one = self.running() == 1;
            let training = self.training.is_some();
            let free = self
                .workers
                .iter()
                .enumerate()
                .filter(|(index, w)| {
                    w.runs()
                        && w.photo_jobs.len() < JOBS_PER_WORKER
                        && (only_one || !training || *index != TRAINER)
                })
                .min_by_key(|(_, w)| w.photo_jobs.len())
                .map(|(index, _)| index);
            // A job leaves the queue only once a worker can take it.
            let Some(index) = free else { return posts };
            let Some(photo) = self.queue.pop_front() else {
                return posts;
            };
            let worker = &mut self.workers[index];
            let request = match &photo.request {
                // The worker holds this model already: the photo goes without it.
                Request::Classify { job, version, .. } if worker.classifying == Some(*version) => {
                    Request::Classify {
                        job: *job,
                        version: *version,
                        model: None,
                    }
                }
                request => {
                    if let Request::Classify { version, .. } = request {
                        worker.classifying = Some(*version);
                    }
                    request.clone()
                }
            };
            posts.push(Post {
                worker: index,
                request,
                attachment: photo.attachment.clone(),
            });
            worker.photo_jobs.push(photo);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use headstart_core::dataset::Validation;
    use headstart_core::embedding::EMBEDDING_DIM;
    use headstart_core::run::{RunSpec, TrainingExamples};
    use headstart_core::training::{
        HeadWeights, ModelWeights, SplitSizes, TrainedModel, TrainingSettings, Way,
    };

    /// The attachment: a photo's number, if any.
    type Attached = Option<u32>;

    type Commands = Vec<Command<Attached>>;

    fn id(index: usize, generation: u32) -> WorkerId {
        WorkerId { index, generation }
    }

    fn embed(job: u32) -> Request {
        Request::Embed { job: JobId(job) }
    }

    /// A worker's answer to a photo it could not decode.
    fn not_an_image(job: u32) -> Event {
        Event::PhotoFailed {
            job: JobId(job),
            error: PhotoError::NotAnImage,
        }
    }

    /// A run of `way` as job `job`.
    fn train_way(job: u32, way: Way) -> Request {
        let run = RunSpec {
            way,
            version: ModelVersion(job),
            class_names: vec!["a".into(), "b".into()],
            validation: Validation::HeldOut(Vec::new()),
            settings: TrainingSettings::default(),
        };
        let examples = TrainingExamples::for_way(way, Vec::new(), Default::default);
        Request::Train {
            job: JobId(job),
            run,
            examples,
        }
    }

    fn train(job: u32) -> Request {
        train_way(job, Way::Frozen)
    }

    fn stop(job: u32) -> Request {
        Request::StopTraining { job: JobId(job) }
    }

    fn classify(job: u32, version: u32) -> Request {
        let model = TrainedModel {
            version: ModelVersion(version),
            class_names: vec!["a".into(), "b".into()],
            settings: TrainingSettings::default(),
            split: SplitSizes {
                train: 2,
                views: 0,
                validation: 0,
            },
            history: Vec::new(),
            stopped_early: false,
            restored_epoch: None,
            validation: Vec::new(),
            weights: ModelWeights::Head(HeadWeights {
                weight: vec![0.0; EMBEDDING_DIM * 2],
                bias: vec![0.0; 2],
            }),
            trainable_params: 0,
            training_ms: 0.0,
            fold_accuracies: Vec::new(),
        };
        Request::Classify {
            job: JobId(job),
            version: ModelVersion(version),
            model: Some(Box::new(model)),
        }
    }

    fn ready(workers: usize) -> Report<Attached> {
        Report::Ready {
            path: ComputePath::Cpu,
            reason: ComputeReason::CpuRequested,
            workers,
        }
    }

    /// Worker `id` loads its wasm and then, on the CPU path, the backbone.
    fn start(pool: &mut Scheduler<Attached>, id: WorkerId) -> Commands {
        assert!(pool.worker_loaded(id).is_some(), "{id:?} is not current");
        let started = Event::Started {
            path: ComputePath::Cpu,
            reason: ComputeReason::CpuRequested,
        };
        pool.on_event(id, started, None)
    }

    /// A pool of `size` workers, all started on the CPU path.
    fn started(size: usize) -> Scheduler<Attached> {
        let (mut pool, first) = Scheduler::new(PoolSize::Fixed(size), ComputeChoice::Cpu, false);
        let mut next = Some(first.worker);
        while let Some(worker) = next {
            next = spawns(&start(&mut pool, worker)).first().map(|s| s.worker);
        }
        assert_eq!(pool.running(), size);
        pool
    }

    /// Two started workers, photo 1 on worker 0 and photo 2 on worker 1, which dies: the
    /// pool, and what followed the death.
    fn worker_1_dies_with_a_photo() -> (Scheduler<Attached>, Commands) {
        let mut pool = started(2);
        let sent: Vec<_> = (1..=2).flat_map(|n| pool.send(embed(n), Some(n))).collect();
        assert_eq!(destinations(&sent), [(0, 1), (1, 2)]);
        let died = pool.worker_died(id(1, 0), "unreachable".into());
        (pool, died)
    }

    fn posted(commands: &[Command<Attached>]) -> Vec<Post<Attached>> {
        let post = |command: &Command<Attached>| match command {
            Command::Post(post) => Some(Post::clone(post)),
            _ => None,
        };
        commands.iter().filter_map(post).collect()
    }

    fn spawns(commands: &[Command<Attached>]) -> Vec<Spawn> {
        let spawn = |command: &Command<Attached>| match command {
            Command::Spawn(spawn) => Some(*spawn),
            _ => None,
        };
        commands.iter().filter_map(spawn).collect()
    }

    fn reports(commands: &[Command<Attached>]) -> Vec<Report<Attached>> {
        let report = |command: &Command<Attached>| match command {
            Command::Tell(report) => Some(report.clone()),
            _ => None,
        };
        commands.iter().filter_map(report).collect()
    }

    /// Which worker got which job.
    fn destinations(posts: &[Post<Attached>]) -> Vec<(usize, u32)> {
        let job = |request: &Request| match request {
            Request::Train { job, .. } | Request::StopTraining { job } => *job,
            request => photo_job(request).expect("a request with a job"),
        };
        let destination = |post: &Post<Attached>| (post.worker, job(&post.request).0);
        posts.iter().map(destination).collect()
    }

    #[test]
    fn photos_go_to_the_least_busy_worker_two_at_a_time() {
        let mut pool = started(2);
        let sent: Vec<_> = (1..=5).flat_map(|n| pool.send(embed(n), Some(n))).collect();
        assert_eq!(destinations(&sent), [(0, 1), (1, 2), (0, 3), (1, 4)]);
        let photo = |post: &Post<Attached>| photo_job(&post.request).map(|job| job.0);
        assert!(sent.iter().all(|post| post.attachment == photo(post)));
        // Worker 1 answers a photo: the fifth goes to it, and the page hears the answer.
        let answered = pool.on_event(id(1, 0), not_an_image(2), Some(20));
        assert_eq!(destinations(&posted(&answered)), [(1, 5)]);
        assert_eq!(posted(&answered)[0].attachment, Some(5));
        assert_eq!(
            reports(&answered),
            [Report::Worker(not_an_image(2), Some(20))]
        );
    }

    #[test]
    fn while_a_head_trains_the_trainer_takes_photos_only_when_it_is_the_only_worker() {
        let mut pool = started(2);
        assert_eq!(destinations(&pool.send(train(1), None)), [(0, 1)]);
        let photos: Vec<_> = (2..=4).flat_map(|n| pool.send(embed(n), Some(n))).collect();
        assert_eq!(destinations(&photos), [(1, 2), (1, 3)]);
        // The run ends: the trainer takes the photo that waited.
        let ended = Event::TrainingDiscarded { job: JobId(1) };
        assert_eq!(
            destinations(&posted(&pool.on_event(id(0, 0), ended, None))),
            [(0, 4)]
        );

        let mut alone = started(1);
        alone.send(train(1), None);
        assert_eq!(destinations(&alone.send(embed(2), Some(2))), [(0, 2)]);
    }

    #[test]
    fn network_runs_go_to_the_worker_with_the_least_network_training_and_scratch_counts_double() {
        use Way::{Finetune, Lora, Scratch};
        let mut pool = started(2);
        let runs = [(1, Scratch), (2, Finetune), (3, Lora), (4, Finetune)];
        let sent: Vec<_> = runs
            .into_iter()
            .flat_map(|(job, way)| pool.send(train_way(job, way), None))
            .collect();
        // From scratch costs worker 0 two; the next two runs (one each) go to worker 1 until it
        // has as much to do; on a tie the trainer takes the run.
        assert_eq!(destinations(&sent), [(0, 1), (1, 2), (1, 3), (0, 4)]);
        // Worker 1's runs end: it has the least to do again.
        for job in [2, 3] {
            let ended = Event::TrainingDiscarded { job: JobId(job) };
            pool.on_event(id(1, 0), ended, None);
        }
        let next = pool.send(train_way(5, Scratch), None);
        assert_eq!(destinations(&next), [(1, 5)]);
    }

    #[test]
    fn a_stop_goes_to_the_worker_training_its_run() {
        let mut pool = started(2);
        pool.send(train_way(1, Way::Scratch), None);
        pool.send(train_way(2, Way::Finetune), None);
        assert_eq!(destinations(&pool.send(stop(2), None)), [(1, 2)]);
        assert_eq!(destinations(&pool.send(stop(1), None)), [(0, 1)]);
        // A head's run is the trainer's.
        pool.send(train(3), None);
        assert_eq!(destinations(&pool.send(stop(3), None)), [(0, 3)]);
    }

    #[test]
    fn a_photo_classified_with_a_model_the_worker_holds_goes_without_it() {
        let mut pool = started(2);
        let sent: Vec<_> = [(1, 1), (2, 1), (3, 1), (4, 2)]
            .into_iter()
            .flat_map(|(job, version)| pool.send(classify(job, version), Some(job)))
            .collect();
        let with_model: Vec<_> = sent
            .iter()
            .map(|post| match &post.request {
                Request::Classify { model, .. } => (post.worker, model.is_some()),
                other => panic!("sent {other:?}"),
            })
            .collect();
        // Each worker gets model 1 once, and model 2 when it first classifies with it.
        assert_eq!(with_model, [(0, true), (1, true), (0, false), (1, true)]);
        assert_eq!(destinations(&sent), [(0, 1), (1, 2), (0, 3), (1, 4)]);
    }

    #[test]
    fn a_dead_workers_photos_are_sent_again_once_then_reported_failed() {
        let (mut pool, died) = worker_1_dies_with_a_photo();
        // Its photo goes to the worker left, and the badge counts one worker.
        assert_eq!(
            died[0],
            Command::Terminate {
                worker: 1,
                ending: Ending::Died("unreachable".into())
            }
        );
        assert_eq!(destinations(&posted(&died)), [(0, 2)]);
        assert_eq!(posted(&died)[0].attachment, Some(2));
        assert_eq!(reports(&died), [ready(1)]);
        // Worker 0 dies with both: photo 2 has been sent again once already and fails; photo 1
        // waits for a worker.
        let died = pool.worker_died(id(0, 0), "unreachable".into());
        assert!(posted(&died).is_empty());
        let failed = Event::PhotoFailed {
            job: JobId(2),
            error: PhotoError::Compute("a model worker stopped twice on it".into()),
        };
        assert_eq!(reports(&died), [Report::Worker(failed, None), ready(0)]);
        assert_eq!(destinations(&posted(&start(&mut pool, id(1, 1)))), [(1, 1)]);
    }

    #[test]
    fn a_dead_trainer_fails_the_head_it_was_training() {
        let mut pool = started(2);
        pool.send(train(1), None);
        let died = pool.worker_died(id(0, 0), "unreachable".into());
        let failed = Event::TrainingFailed {
            job: JobId(1),
            error: TrainingError::Compute("the training worker stopped".into()),
        };
        assert_eq!(reports(&died), [Report::Worker(failed, None), ready(1)]);
        // No run trains any more: worker 1 is not kept for it, its replacement gets photos.
        start(&mut pool, id(0, 1));
        let photos: Vec<_> = (2..=3).flat_map(|n| pool.send(embed(n), Some(n))).collect();
        assert_eq!(destinations(&photos), [(0, 2), (1, 3)]);
    }

    #[test]
    fn a_network_run_fails_when_its_worker_dies() {
        let mut pool = started(2);
        pool.send(train_way(1, Way::Scratch), None);
        pool.send(train_way(2, Way::Finetune), None);
        let died = pool.worker_died(id(1, 0), "unreachable".into());
        let failed = Event::TrainingFailed {
            job: JobId(2),
            error: TrainingError::Compute("the worker training it stopped".into()),
        };
        assert_eq!(reports(&died), [Report::Worker(failed, None), ready(1)]);
        // Run 1 trains on: the trainer's replacement would fail it, worker 1's does not.
        let died = pool.worker_died(id(1, 1), "unreachable".into());
        assert_eq!(reports(&died), [ready(1)]);
    }

    #[test]
    fn events_from_a_replaced_worker_are_ignored() {
        let (mut pool, died) = worker_1_dies_with_a_photo();
        assert_eq!(
            spawns(&died),
            [Spawn {
                worker: id(1, 1),
                build: Build::Cpu
            }]
        );
        // The old worker's late answer, load and death change nothing.
        assert!(pool.on_event(id(1, 0), not_an_image(2), None).is_empty());
        assert_eq!(pool.worker_loaded(id(1, 0)), None);
        assert!(pool.worker_died(id(1, 0), "again".into()).is_empty());
        // Its replacement is heard.
        assert_eq!(pool.worker_loaded(id(1, 1)), Some(ComputeChoice::Cpu));
        assert_eq!(reports(&start(&mut pool, id(1, 1))), [ready(2)]);
    }

    #[test]
    fn the_pool_grows_one_worker_at_a_time_on_the_cpu_path_only() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::Fixed(3), ComputeChoice::Cpu, false);
        assert_eq!(
            first,
            Spawn {
                worker: id(0, 0),
                build: Build::Cpu
            }
        );
        let started = start(&mut pool, first.worker);
        let second = Spawn {
            worker: id(1, 0),
            build: Build::Cpu,
        };
        assert_eq!(started, [Command::Tell(ready(1)), Command::Spawn(second)]);
        // Nothing more until that one has started or failed to; one that failed is ended.
        assert_eq!(
            pool.on_event(id(0, 0), Event::Pong, None),
            [Command::Tell(Report::Worker(Event::Pong, None))]
        );
        let failed = Event::StartFailed {
            detail: "out of memory".into(),
        };
        let third = Spawn {
            worker: id(2, 0),
            build: Build::Cpu,
        };
        assert_eq!(
            pool.on_event(id(1, 0), failed, None),
            [
                Command::Terminate {
                    worker: 1,
                    ending: Ending::DidNotStart("out of memory".into())
                },
                Command::Tell(ready(1)),
                Command::Spawn(third)
            ]
        );
        assert_eq!(start(&mut pool, id(2, 0)), [Command::Tell(ready(2))]);

        // On WebGPU the first worker stays alone.
        let (mut gpu, first) =
            Scheduler::<Attached>::new(PoolSize::Fixed(3), ComputeChoice::Auto, true);
        assert_eq!(first.build, Build::WebGpu);
        assert_eq!(gpu.worker_loaded(first.worker), Some(ComputeChoice::Auto));
        let started = Event::Started {
            path: ComputePath::WebGpu,
            reason: ComputeReason::WebGpu("a hardware adapter".into()),
        };
        let ready = Report::Ready {
            path: ComputePath::WebGpu,
            reason: ComputeReason::WebGpu("a hardware adapter".into()),
            workers: 1,
        };
        assert_eq!(
            gpu.on_event(first.worker, started, None),
            [Command::Tell(ready)]
        );
    }

    /// Worker `id` embedded the made-up input in `ms` a photo: it finished `TIMED_MS / ms` on
    /// the clock.
    fn timed(pool: &mut Scheduler<Attached>, id: WorkerId, ms: f64) -> Commands {
        let timed = Event::EmbeddingTimed {
            photos_on_the_clock: Some((f64::from(TIMED_MS) / ms).round() as u32),
        };
        pool.on_event(id, timed, None)
    }

    /// Starts newcomer `id`, which is asked to warm up alone, and answers the warm-up: the
    /// commands of both, the warm-up request left out.
    fn start_warmed(pool: &mut Scheduler<Attached>, id: WorkerId) -> Commands {
        let warm_up = Request::TimeEmbedding {
            warm_up_ms: NEWCOMER_WARM_UP_MS,
            timed_ms: 0,
        };
        let mut commands = start(pool, id);
        let warming: Vec<usize> = posted(&commands)
            .iter()
            .filter(|post| post.request == warm_up)
            .map(|post| post.worker)
            .collect();
        assert_eq!(warming, [id.index]);
        commands
            .retain(|command| !matches!(command, Command::Post(post) if post.request == warm_up));
        let warmed = Event::EmbeddingTimed {
            photos_on_the_clock: Some(0),
        };
        commands.extend(pool.on_event(id, warmed, None));
        commands
    }

    /// The workers sent a timing request.
    fn timing(commands: &[Command<Attached>]) -> Vec<usize> {
        let time = Request::TimeEmbedding {
            warm_up_ms: WARM_UP_MS,
            timed_ms: TIMED_MS,
        };
        let posts = posted(commands);
        assert!(posts.iter().all(|post| post.request == time), "{posts:?}");
        posts.iter().map(|post| post.worker).collect()
    }

    #[test]
    fn the_pool_grows_while_one_more_worker_embeds_faster_and_ends_the_first_that_does_not() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::UpTo(4), ComputeChoice::Cpu, false);
        // The first worker takes work at once, and is timed alone.
        let started = start(&mut pool, first.worker);
        assert_eq!(reports(&started), [ready(1)]);
        assert_eq!(timing(&started), [0]);
        assert!(spawns(&started).is_empty());
        assert_eq!(
            spawns(&timed(&mut pool, id(0, 0), 100.0)),
            [Spawn {
                worker: id(1, 0),
                build: Build::Cpu
            }]
        );
        // The second is on trial: the badge does not count it, the first is timed again alone
        // and then both at once, and a photo waits for the round.
        let started = start_warmed(&mut pool, id(1, 0));
        assert_eq!(reports(&started), [ready(1)]);
        assert_eq!(timing(&started), [0]);
        assert!(pool.send(embed(1), Some(1)).is_empty());
        assert_eq!(timing(&timed(&mut pool, id(0, 0), 100.0)), [0, 1]);
        assert!(timed(&mut pool, id(0, 0), 120.0).is_empty());
        // 2 × 1000 / 120 = 16.7 photos a second against 10: it joins, the photo goes, a third
        // worker starts.
        let joined = timed(&mut pool, id(1, 0), 120.0);
        assert_eq!(reports(&joined), [ready(2)]);
        assert_eq!(destinations(&posted(&joined)), [(0, 1)]);
        assert_eq!(
            spawns(&joined),
            [Spawn {
                worker: id(2, 0),
                build: Build::Cpu
            }]
        );
        // The third's round waits for the photo in flight.
        assert!(posted(&start_warmed(&mut pool, id(2, 0))).is_empty());
        assert_eq!(
            timing(&pool.on_event(id(0, 0), not_an_image(1), None)),
            [0, 1]
        );
        timed(&mut pool, id(0, 0), 120.0);
        assert_eq!(timing(&timed(&mut pool, id(1, 0), 120.0)), [0, 1, 2]);
        timed(&mut pool, id(0, 0), 200.0);
        timed(&mut pool, id(1, 0), 200.0);
        // 15 photos a second: fewer, not 15% more. It is ended, and the pool grows no more.
        let ended = timed(&mut pool, id(2, 0), 200.0);
        let rates = vec![10.0, 2000.0 / 120.0, 15.0];
        assert_eq!(
            ended,
            [Command::Terminate {
                worker: 2,
                ending: Ending::NotFaster(rates)
            }]
        );
        let photos: Vec<_> = (2..=4).flat_map(|n| pool.send(embed(n), Some(n))).collect();
        assert_eq!(destinations(&photos), [(0, 2), (1, 3), (0, 4)]);
        assert!(spawns(&pool.on_event(id(0, 0), Event::Pong, None)).is_empty());
    }

    #[test]
    fn a_timing_round_waits_for_a_run_in_training_and_photos_go_on_meanwhile() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::UpTo(2), ComputeChoice::Cpu, false);
        start(&mut pool, first.worker);
        timed(&mut pool, first.worker, 100.0);
        pool.send(train_way(1, Way::Finetune), None);
        // The newcomer waits on trial; the trainer, the only worker, takes photos.
        assert!(posted(&start_warmed(&mut pool, id(1, 0))).is_empty());
        assert_eq!(destinations(&pool.send(embed(2), Some(2))), [(0, 2)]);
        pool.on_event(id(0, 0), not_an_image(2), None);
        let trained = pool.on_event(id(0, 0), Event::TrainingDiscarded { job: JobId(1) }, None);
        assert_eq!(timing(&trained), [0]);
    }

    #[test]
    fn a_newcomer_warms_up_alone_while_photos_go_on_and_then_the_pool_is_timed() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::UpTo(2), ComputeChoice::Cpu, false);
        start(&mut pool, first.worker);
        let grown = timed(&mut pool, first.worker, 100.0);
        let started = start(&mut pool, spawns(&grown)[0].worker);
        let warm_up = Request::TimeEmbedding {
            warm_up_ms: NEWCOMER_WARM_UP_MS,
            timed_ms: 0,
        };
        assert_eq!(
            posted(&started)
                .iter()
                .map(|p| (p.worker, &p.request))
                .collect::<Vec<_>>(),
            [(1, &warm_up)]
        );
        // Photos go to the first worker meanwhile; the round waits for the one in flight.
        assert_eq!(destinations(&pool.send(embed(1), Some(1))), [(0, 1)]);
        let warmed = Event::EmbeddingTimed {
            photos_on_the_clock: Some(0),
        };
        assert!(posted(&pool.on_event(id(1, 0), warmed, None)).is_empty());
        assert_eq!(timing(&pool.on_event(id(0, 0), not_an_image(1), None)), [0]);
    }

    #[test]
    fn a_newcomer_is_judged_against_the_pool_timed_again_once_its_code_is_warm() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::UpTo(4), ComputeChoice::Cpu, false);
        start(&mut pool, first.worker);
        let grown = timed(&mut pool, id(0, 0), 100.0);
        start_warmed(&mut pool, spawns(&grown)[0].worker);
        timed(&mut pool, id(0, 0), 100.0);
        timed(&mut pool, id(0, 0), 100.0);
        // The second worker's code is still new: 10 + 3.3 photos a second, 1.33 times one.
        let joined = timed(&mut pool, id(1, 0), 300.0);
        assert_eq!(reports(&joined), [ready(2)]);
        start_warmed(&mut pool, spawns(&joined)[0].worker);
        // Timed again, the two now embed 20 photos a second; with a third on two cores, 20
        // again, which is more than 1.15 times the 13.3 they had, but not the 20 they have.
        timed(&mut pool, id(0, 0), 100.0);
        assert_eq!(timing(&timed(&mut pool, id(1, 0), 100.0)), [0, 1, 2]);
        timed(&mut pool, id(0, 0), 150.0);
        timed(&mut pool, id(1, 0), 150.0);
        let ended = timed(&mut pool, id(2, 0), 150.0);
        assert_eq!(
            ended,
            [Command::Terminate {
                worker: 2,
                ending: Ending::NotFaster(vec![10.0, 20.0, 20.0])
            }]
        );
    }

    #[test]
    fn a_first_worker_that_dies_while_timed_alone_is_timed_again_once_replaced() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::UpTo(2), ComputeChoice::Cpu, false);
        assert_eq!(timing(&start(&mut pool, first.worker)), [0]);
        pool.worker_died(first.worker, "unreachable".into());
        assert_eq!(timing(&start(&mut pool, id(0, 1))), [0]);
        let grown = timed(&mut pool, id(0, 1), 100.0);
        assert_eq!(
            spawns(&grown),
            [Spawn {
                worker: id(1, 0),
                build: Build::Cpu
            }]
        );
    }

    #[test]
    fn a_worker_that_dies_on_trial_is_not_replaced_and_the_pool_stops_growing() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::UpTo(4), ComputeChoice::Cpu, false);
        start(&mut pool, first.worker);
        timed(&mut pool, first.worker, 100.0);
        start(&mut pool, id(1, 0));
        let died = pool.worker_died(id(1, 0), "out of memory".into());
        assert!(spawns(&died).is_empty());
        assert_eq!(reports(&died), [ready(1)]);
        // The round is over: photos go to the worker left, and no worker is added.
        assert_eq!(destinations(&pool.send(embed(1), Some(1))), [(0, 1)]);
        assert!(spawns(&pool.on_event(id(0, 0), not_an_image(1), None)).is_empty());
    }

    #[test]
    fn a_first_worker_that_cannot_start_fails_the_pool() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::Fixed(2), ComputeChoice::Cpu, false);
        let failed = Event::StartFailed {
            detail: "no SIMD".into(),
        };
        assert_eq!(
            pool.on_event(first.worker, failed, None),
            [
                Command::Terminate {
                    worker: 0,
                    ending: Ending::DidNotStart("no SIMD".into())
                },
                Command::Tell(Report::Failed("no SIMD".into()))
            ]
        );
    }

    #[test]
    fn replacements_stop_after_max_replacements() {
        let mut pool = started(1);
        for generation in 0..MAX_REPLACEMENTS as u32 {
            let died = pool.worker_died(id(0, generation), "crashed".into());
            assert_eq!(spawns(&died).len(), 1, "replacement {generation}");
        }
        let last = id(0, MAX_REPLACEMENTS as u32);
        let died = pool.worker_died(last, "crashed".into());
        assert!(spawns(&died).is_empty());
        let gave_up = Report::Failed("model workers keep stopping".into());
        assert_eq!(reports(&died), [gave_up, ready(0)]);
    }

    #[test]
    fn a_worker_that_cannot_be_created_is_tried_again_or_fails_the_pool() {
        // A new slot: the pool tries again after the next event.
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::Fixed(2), ComputeChoice::Cpu, false);
        let grown = spawns(&start(&mut pool, first.worker));
        assert_eq!(pool.spawn_failed(grown[0].worker, "no".into()), None);
        assert_eq!(
            spawns(&pool.on_event(first.worker, Event::Pong, None)),
            grown
        );
        // A replacement: the pool fails.
        let died = pool.worker_died(first.worker, "unreachable".into());
        let replacement = spawns(&died)[0].worker;
        assert_eq!(
            pool.spawn_failed(replacement, "too many workers".into()),
            Some(Report::Failed("too many workers".into()))
        );
    }

    #[test]
    fn requests_for_the_trainer_wait_until_it_runs() {
        let (mut pool, first) =
            Scheduler::<Attached>::new(PoolSize::Fixed(1), ComputeChoice::Cpu, false);
        assert!(pool.send(Request::Ping, Some(7)).is_empty());
        let ping = Post {
            worker: 0,
            request: Request::Ping,
            attachment: Some(7),
        };
        assert_eq!(
            posted(&start(&mut pool, first.worker)),
            std::slice::from_ref(&ping)
        );
        // Again while its replacement starts.
        pool.worker_died(first.worker, "unreachable".into());
        assert!(pool.send(Request::Ping, Some(7)).is_empty());
        assert_eq!(posted(&start(&mut pool, id(0, 1))), [ping]);
    }

    /// A pool of `size` whose first worker started on a hardware GPU, that worker, and what
    /// its start made the pool do.
    fn on_a_gpu(size: PoolSize) -> (Scheduler<Attached>, WorkerId, Commands) {
        let (mut pool, first) = Scheduler::<Attached>::new(size, ComputeChoice::Auto, true);
        let started = Event::Started {
            path: ComputePath::WebGpu,
            reason: ComputeReason::WebGpu("a hardware adapter".into()),
        };
        let commands = pool.on_event(first.worker, started, None);
        (pool, first.worker, commands)
    }

    #[test]
    fn a_gpu_failing_under_a_photo_hands_its_work_to_the_cpu_and_the_badge_says_why() {
        let (mut pool, first, _) = on_a_gpu(PoolSize::Fixed(2));
        pool.send(embed(1), Some(1));
        let lost = Event::PhotoFailed {
            job: JobId(1),
            error: PhotoError::Compute("device lost".into()),
        };
        let lost = pool.on_event(first, lost, None);
        let died = Ending::Died("WebGPU failed: device lost".into());
        assert_eq!(
            lost[0],
            Command::Terminate {
                worker: 0,
                ending: died
            }
        );
        let replacement = Spawn {
            worker: id(0, 1),
            build: Build::Cpu,
        };
        assert_eq!(spawns(&lost), [replacement]);
        // The photo is not reported: it goes again, to the replacement, on the CPU.
        assert!(posted(&lost).is_empty());
        assert!(
            !reports(&lost)
                .iter()
                .any(|r| matches!(r, Report::Worker(..)))
        );
        assert_eq!(pool.worker_loaded(id(0, 1)), Some(ComputeChoice::Cpu));
        let replaced = start(&mut pool, id(0, 1));
        assert_eq!(destinations(&posted(&replaced)), [(0, 1)]);
        let ready = Report::Ready {
            path: ComputePath::Cpu,
            reason: ComputeReason::GpuStopped("WebGPU failed: device lost".into()),
            workers: 1,
        };
        assert_eq!(reports(&replaced), [ready]);
        // On the CPU the pool grows, and a photo the CPU fails on is only reported.
        assert_eq!(spawns(&replaced).len(), 1);
        let failed = Event::PhotoFailed {
            job: JobId(1),
            error: PhotoError::Compute("out of memory".into()),
        };
        let answered = pool.on_event(id(0, 1), failed.clone(), None);
        assert_eq!(reports(&answered), [Report::Worker(failed, None)]);
    }

    #[test]
    fn after_the_gpu_is_lost_the_pool_grows_by_timing_and_the_badge_keeps_saying_cpu() {
        let (mut pool, first, started) = on_a_gpu(PoolSize::UpTo(2));
        assert!(timing(&started).is_empty(), "a GPU worker is not timed");
        pool.worker_died(first, "WebGPU failed: device lost".into());
        let on_cpu = Report::Ready {
            path: ComputePath::Cpu,
            reason: ComputeReason::GpuStopped("WebGPU failed: device lost".into()),
            workers: 1,
        };
        let replaced = start(&mut pool, id(0, 1));
        assert_eq!(reports(&replaced), [on_cpu]);
        assert_eq!(timing(&replaced), [0]);
        let grown = timed(&mut pool, id(0, 1), 100.0);
        start_warmed(&mut pool, spawns(&grown)[0].worker);
        timed(&mut pool, id(0, 1), 100.0);
        timed(&mut pool, id(0, 1), 100.0);
        let joined = timed(&mut pool, id(1, 0), 100.0);
        let two_on_cpu = Report::Ready {
            path: ComputePath::Cpu,
            reason: ComputeReason::GpuStopped("WebGPU failed: device lost".into()),
            workers: 2,
        };
        assert_eq!(reports(&joined), [two_on_cpu]);
    }
}
