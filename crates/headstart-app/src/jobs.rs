//! Work handed to the model workers and the events that answer it. Each event names its job;
//! [`AppState::on_event`] finds who the job belongs to, once, and hands the event to that
//! owner's handler, in the module of that kind of work. An event that finds nobody (a stale or
//! unknown job), or an owner that does not take it, is only logged.

use crate::classify::Classifying;
use crate::{AppState, ClassId, Effect, PhotoId, ViewKey};
use headstart_core::protocol::{Attachment, Event, JobId, PhotoError, TrainingError};
use headstart_core::training::{TrainedModel, Way};

/// Work handed to a worker and not yet answered, with what its answer needs. The other jobs
/// belong to what holds them: the training run, a way of the comparison, the augmentation
/// preview.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PendingJob {
    /// A photo being embedded into a class; its id, given when it was asked for, keeps the
    /// class in the order the student added photos, whichever worker finishes first.
    AddPhoto {
        class: ClassId,
        photo: PhotoId,
        file_name: String,
    },
    /// A photo being classified by a model.
    Classify(Classifying),
    /// Another view of a photo being embedded for a training run.
    View { photo: PhotoId, key: ViewKey },
    /// The final test, with the label of each test photo in the request's order, of the model
    /// in use (`None`) or of a way of the comparison.
    FinalTest {
        way: Option<Way>,
        labels: Vec<usize>,
    },
    /// An imported model whose network layers a worker is checking.
    ImportCheck {
        file_name: String,
        model: Box<TrainedModel>,
    },
}

/// Who a worker's event is for.
enum JobOwner {
    /// Work handed out and answered now, so no longer pending.
    Pending(PendingJob),
    /// The augmentation preview being made.
    Preview,
    /// The training run.
    TrainingRun,
    /// A way of the comparison, while it trains.
    ComparisonWay(Way),
    /// Nobody: the job is stale or unknown.
    Nobody,
}

/// What the console hears of an event that its job's owner does not take, or whose job nobody
/// waits for (a stale or unknown job): a failure's detail, or that nothing waited for it.
pub(crate) fn unanswered<F, T>(event: &Event) -> Vec<Effect<F, T>> {
    let log = match event {
        Event::Embedded { job, .. } => Effect::Log(format!("no photo waits for {job:?}")),
        Event::Classified { job, .. } => Effect::Log(format!("no prediction waits for {job:?}")),
        Event::ModelChecked { job, .. } => Effect::Log(format!("no import waits for {job:?}")),
        Event::Evaluated { job, .. } => Effect::Log(format!("no final test waits for {job:?}")),
        Event::PhotoFailed { job, error } => photo_failure(*job, error),
        Event::TrainingFailed { error, .. } => training_failed(error),
        Event::Previewed { .. }
        | Event::Epoch { .. }
        | Event::Trained { .. }
        | Event::TrainingDiscarded { .. }
        | Event::Started { .. }
        | Event::StartFailed { .. }
        | Event::Panicked { .. }
        | Event::BackendCheck(_)
        | Event::Pong
        | Event::EmbeddingTimed { .. } => return Vec::new(),
    };
    vec![log]
}

/// The console's line for a photo job that failed, whoever it was for.
pub(crate) fn photo_failure<F, T>(job: JobId, error: &PhotoError) -> Effect<F, T> {
    Effect::Log(format!("{job:?} failed: {error:?}"))
}

/// The console's line for a training run that failed.
pub(crate) fn training_failed<F, T>(error: &TrainingError) -> Effect<F, T> {
    Effect::Log(format!("training failed: {error}"))
}

impl<T: Clone> AppState<T> {
    /// A new identity, for a class, a photo or a job: one count for all, so that no identity
    /// comes twice in the page's lifetime.
    pub(crate) fn fresh_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// A new job's id.
    pub(crate) fn fresh_job(&mut self) -> JobId {
        JobId(self.fresh_id())
    }

    /// Hands out `job`: it waits in the pending work for its answer.
    pub(crate) fn start_job(&mut self, job: PendingJob) -> JobId {
        let id = self.fresh_job();
        self.pending.insert(id, job);
        id
    }

    /// Hands a worker's event to whoever its job belongs to (see [`JobOwner`]).
    pub(crate) fn on_event<F>(
        &mut self,
        event: Event,
        attachment: Attachment<T>,
    ) -> Vec<Effect<F, T>> {
        // The pool handles the events that name no job: start-up, replacing a worker that
        // panicked, checks.
        let Some((job, owner)) = self.owner_of(&event) else {
            return Vec::new();
        };
        match owner {
            JobOwner::Pending(PendingJob::AddPhoto {
                class,
                photo,
                file_name,
            }) => self.on_photo_event(class, photo, file_name, event, attachment),
            JobOwner::Pending(PendingJob::View { photo, key }) => {
                self.on_view_event(photo, key, event)
            }
            JobOwner::Pending(PendingJob::Classify(classifying)) => {
                self.on_classify_event(job, classifying, event, attachment)
            }
            JobOwner::Pending(PendingJob::FinalTest { way, labels }) => {
                self.on_final_test_event(job, way, labels, event)
            }
            JobOwner::Pending(PendingJob::ImportCheck { file_name, model }) => {
                self.on_import_check_event(file_name, *model, event)
            }
            JobOwner::Preview => self.on_preview_event(event, attachment.files()),
            JobOwner::TrainingRun => self.on_run_event(event),
            JobOwner::ComparisonWay(way) => self.on_way_event(way, event),
            JobOwner::Nobody => unanswered(&event),
        }
    }

    /// Who `event` is for, found once from its job: a run's reports go to the training run or
    /// to the comparison's way that trains under that job; any other answer takes its job out
    /// of the pending work, or is the augmentation preview's. `None` for the events that name
    /// no job.
    fn owner_of(&mut self, event: &Event) -> Option<(JobId, JobOwner)> {
        match *event {
            Event::Epoch { job, .. }
            | Event::Trained { job, .. }
            | Event::TrainingDiscarded { job }
            | Event::TrainingFailed { job, .. } => {
                let owner = if self.is_running(job) {
                    JobOwner::TrainingRun
                } else if let Some(way) = self.way_training(job) {
                    JobOwner::ComparisonWay(way)
                } else {
                    JobOwner::Nobody
                };
                Some((job, owner))
            }
            Event::Embedded { job, .. }
            | Event::Classified { job, .. }
            | Event::PhotoFailed { job, .. }
            | Event::Previewed { job }
            | Event::ModelChecked { job, .. }
            | Event::Evaluated { job, .. } => {
                let owner = match self.pending.remove(&job) {
                    Some(pending) => JobOwner::Pending(pending),
                    None if self.augment_preview.as_ref().is_some_and(|p| p.job == job) => {
                        JobOwner::Preview
                    }
                    None => JobOwner::Nobody,
                };
                Some((job, owner))
            }
            Event::Started { .. }
            | Event::StartFailed { .. }
            | Event::Panicked { .. }
            | Event::BackendCheck(_)
            | Event::Pong
            | Event::EmbeddingTimed { .. } => None,
        }
    }
}
