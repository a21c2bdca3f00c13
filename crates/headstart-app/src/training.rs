//! The training run: what it is for, where it stands, starting it once what it trains on is
//! embedded, stopping it, and what comes of its end. One run trains at a time; the settings and
//! the way are fixed while it does.

use crate::jobs::{training_failed, unanswered};
use crate::run_plan::{RunData, RunPlan};
use crate::{AppState, Blocker, ClassEntry, Effect, ModelTest, Notice, PhotoId, RunFailure};
use headstart_core::preprocess::Normalization;
use headstart_core::protocol::{Event, JobId, Request};
use headstart_core::training::{EpochReport, ModelVersion, TrainedModel, TrainingSettings, Way};
use std::rc::Rc;

/// Fewest photos a class needs before the comparison starts: it ranks the ways on validation
/// photos, so one of each class must be held back. (The model in use trains on one a class.)
pub const MIN_PHOTOS_TO_COMPARE: usize = 2;

/// What a training run is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPurpose {
    /// The model the student classifies with.
    Model,
    /// The lesson's experiment: the same training with wrongly normalized inputs, to compare
    /// with the model; its result never replaces the model.
    WrongPreprocessing(Normalization),
    /// The frozen-backbone way of the comparison; its result never replaces the model.
    Comparison,
}

impl RunPurpose {
    /// How the run's inputs are normalized: wrongly for the experiment, as the model expects
    /// otherwise.
    pub(crate) fn normalization(self) -> Normalization {
        match self {
            Self::Model | Self::Comparison => Normalization::Model,
            Self::WrongPreprocessing(normalization) => normalization,
        }
    }
}

/// Where the training run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingState {
    /// No run since the page opened.
    Idle,
    /// The run's augmented or re-normalized views are being embedded by the workers.
    Preparing {
        /// What the run is for.
        purpose: RunPurpose,
        /// Views embedded so far.
        done: usize,
        /// Views asked for.
        total: usize,
    },
    /// Epochs are running in the training worker.
    Running {
        /// What the run is for.
        purpose: RunPurpose,
        /// How it trains.
        way: Way,
        /// The run's job.
        job: JobId,
        /// The version its model will have.
        version: ModelVersion,
        /// Total epochs of the run.
        epochs: usize,
        /// Every finished epoch's metrics, in order.
        history: Vec<EpochReport>,
        /// The photo behind each of the run's examples, by example index.
        examples: Vec<PhotoId>,
        /// The photos kept for the final test, with their labels.
        test_photos: Vec<(PhotoId, usize)>,
        /// [`AppState::revision`] when the run started.
        revision: u32,
        /// The student pressed Stop; the worker ends the run after the current epoch.
        stopping: bool,
    },
    /// The run ended with a model ([`AppState::model`]), complete or stopped early.
    Done,
    /// The student stopped the run before its first epoch ended: no model came of it.
    Discarded,
    /// The run failed, for this reason.
    Failed(RunFailure),
}

impl TrainingState {
    /// The `data-state` the automation contract exposes.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Preparing { .. } => "preparing",
            Self::Running { .. } => "running",
            Self::Done => "done",
            Self::Discarded => "stopped",
            Self::Failed(_) => "error",
        }
    }
}

impl<T: Clone> AppState<T> {
    /// A training setting changed: the next run uses `settings`; the augmentation preview
    /// follows a change of augmentation.
    pub(crate) fn change_settings<F>(&mut self, settings: TrainingSettings) -> Vec<Effect<F, T>> {
        let augmentation_changed = settings.augmentation != self.settings.augmentation;
        self.settings = settings;
        if augmentation_changed {
            self.preview_augmentation(0).into_iter().collect()
        } else {
            Vec::new()
        }
    }

    /// Starts a run: first the views it needs that are not cached yet, then the training.
    pub(crate) fn train<F>(&mut self, purpose: RunPurpose) -> Vec<Effect<F, T>> {
        if let Some(blocker) = self.training_blocker() {
            self.notify(Notice::Blocked(blocker));
            return Vec::new();
        }
        self.training = TrainingState::Preparing {
            purpose,
            done: 0,
            total: 0,
        };
        self.continue_run()
    }

    /// Starts the run of `purpose` in a worker, now that every embedding it needs is made.
    pub(crate) fn start_training<F>(&mut self, purpose: RunPurpose) -> Option<Effect<F, T>> {
        let plan = self.run_plan(purpose);
        // continue_run starts training only once every embedding is there.
        let Some((examples, views)) = plan.embeddings() else {
            self.training = TrainingState::Failed(RunFailure::View);
            return None;
        };
        let photo_ids = plan.photos.iter().map(|photo| photo.id).collect();
        let inputs: Vec<T> = plan
            .photos
            .iter()
            .map(|photo| photo.input.clone())
            .collect();
        let RunPlan {
            labels,
            validation,
            test,
            ..
        } = plan;
        let data = RunData {
            class_names: self.class_names(),
            examples,
            views,
            labels,
            inputs,
            validation,
        };
        let job = self.fresh_job();
        // Only the model's runs take a version number: the experiment's model is never used.
        let version = ModelVersion(self.runs_started + 1);
        if purpose == RunPurpose::Model {
            self.runs_started += 1;
        }
        let way = self.run_way(purpose);
        self.training = TrainingState::Running {
            purpose,
            way,
            job,
            version,
            epochs: self.settings.epochs,
            history: Vec::new(),
            examples: photo_ids,
            test_photos: test,
            revision: self.revision,
            stopping: false,
        };
        Some(data.request(way, job, version, self.settings.clone()))
    }

    /// The Stop button: the comparison's network runs, which train beside the training run,
    /// stop too.
    pub(crate) fn stop_training<F>(&mut self) -> Vec<Effect<F, T>> {
        let mut effects = self.stop_network_ways();
        effects.extend(self.stop_training_run());
        effects
    }

    /// Stops the training run: a running one after its current epoch, a preparing one at once.
    fn stop_training_run<F>(&mut self) -> Option<Effect<F, T>> {
        match &mut self.training {
            TrainingState::Running { job, stopping, .. } => {
                *stopping = true;
                Some(Effect::Send(Request::StopTraining { job: *job }, None))
            }
            // Views still in flight are cached when they arrive; no model comes of this run.
            TrainingState::Preparing { purpose, .. } => {
                match *purpose {
                    RunPurpose::Model => {}
                    RunPurpose::WrongPreprocessing(_) => self.experiment = None,
                    RunPurpose::Comparison => self.frozen_way_failed(),
                }
                self.training = TrainingState::Discarded;
                None
            }
            _ => None,
        }
    }

    /// A report of the training run.
    pub(crate) fn on_run_event<F>(&mut self, event: Event) -> Vec<Effect<F, T>> {
        match event {
            Event::Epoch { report, .. } => {
                if let TrainingState::Running { history, .. } = &mut self.training {
                    history.push(report);
                }
            }
            Event::Trained { model, .. } => self.run_trained(*model),
            Event::TrainingDiscarded { .. } => self.run_ended(TrainingState::Discarded),
            Event::TrainingFailed { error, .. } => {
                self.run_ended(TrainingState::Failed(RunFailure::from(&error)));
                return vec![training_failed(&error)];
            }
            other => return unanswered(&other),
        }
        Vec::new()
    }

    /// The training run ended with `model`: the model in use, or the experiment's or the
    /// comparison's result.
    fn run_trained(&mut self, model: TrainedModel) {
        let TrainingState::Running {
            purpose,
            examples,
            test_photos,
            revision,
            ..
        } = &mut self.training
        else {
            return;
        };
        let purpose = *purpose;
        match purpose {
            RunPurpose::Model => {
                self.model_examples = std::mem::take(examples);
                self.model_test = ModelTest {
                    photos: std::mem::take(test_photos),
                    revision: *revision,
                };
                self.model = Some(Rc::new(model));
                self.shown_cell = None;
            }
            RunPurpose::WrongPreprocessing(_) => self.experiment_trained(&model),
            RunPurpose::Comparison => self.frozen_way_trained(model),
        }
        // The experiment and the comparison leave the model in use as it was.
        self.training = match (purpose, &self.model) {
            (RunPurpose::Model, _) | (_, Some(_)) => TrainingState::Done,
            (_, None) => TrainingState::Idle,
        };
    }

    /// The training run ended without a model, as `ended`.
    fn run_ended(&mut self, ended: TrainingState) {
        if self.running_purpose() == Some(RunPurpose::Comparison) {
            self.frozen_way_failed();
        }
        self.training = ended;
    }

    /// What the run preparing or training is for.
    fn running_purpose(&self) -> Option<RunPurpose> {
        match &self.training {
            TrainingState::Preparing { purpose, .. } | TrainingState::Running { purpose, .. } => {
                Some(*purpose)
            }
            _ => None,
        }
    }

    /// Whether `job` is the training run's, while it trains.
    pub(crate) fn is_running(&self, job: JobId) -> bool {
        matches!(self.training, TrainingState::Running { job: running, .. } if running == job)
    }

    /// Whether a run is preparing or training (settings and the way are fixed meanwhile).
    pub fn training_busy(&self) -> bool {
        matches!(
            self.training,
            TrainingState::Preparing { .. } | TrainingState::Running { .. }
        )
    }

    /// Why training cannot start now; `None` when it can.
    pub fn training_blocker(&self) -> Option<Blocker> {
        if !self.is_ready() {
            return Some(Blocker::ModelLoading);
        }
        if self.training_busy() {
            return Some(Blocker::TrainingRunning);
        }
        if self.photos_being_added() > 0 {
            return Some(Blocker::PhotosBeingAdded);
        }
        let with_photos: Vec<&ClassEntry<T>> = self
            .classes
            .iter()
            .filter(|c| !c.photos.is_empty())
            .collect();
        if with_photos.len() < 2 {
            return Some(Blocker::TwoClasses);
        }
        if self.classes.iter().any(|c| c.label().is_empty()) {
            return Some(Blocker::ClassNeedsName);
        }
        let mut names: Vec<(String, &str)> = (self.classes.iter())
            .map(|class| (class.spoken_name(), class.label()))
            .collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Some(Blocker::DuplicateName(pair[1].1.to_string()));
        }
        None
    }

    /// Why the comparison cannot start now, if it cannot: as training, or a class with too
    /// few photos to hold one back.
    pub fn comparison_blocker(&self) -> Option<Blocker> {
        self.training_blocker().or_else(|| {
            let class = (self.classes.iter())
                .find(|c| !c.photos.is_empty() && c.photos.len() < MIN_PHOTOS_TO_COMPARE)?;
            Some(Blocker::TooFewPhotos {
                class: class.label().to_string(),
                needed: MIN_PHOTOS_TO_COMPARE,
            })
        })
    }

    /// The way the Train button trains the model in use (fixed while a run trains).
    pub(crate) fn choose_train_way(&mut self, way: Way) {
        if !self.training_busy() {
            self.train_way = way;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run_embeddings;
    use crate::test_support::{
        Effects, files, finish, network_model, ready, sent_jobs, trainable, with_photos,
    };
    use crate::{Action, MAX_CLASS_NAME_CHARS, MAX_NOTICES, SplitCounts};
    use headstart_core::neighbours::{DEFAULT_K, NeighbourKind};
    use headstart_core::protocol::Attachment;
    use headstart_core::run::{RunSpec, TrainingExamples};
    use headstart_core::training::WayFamily;

    #[test]
    fn training_needs_two_named_distinct_classes_and_comparing_two_photos_a_class() {
        let mut state = ready();
        let (a, b) = (state.classes[0].id, state.classes[1].id);
        assert_eq!(state.training_blocker(), Some(Blocker::TwoClasses));
        with_photos(&mut state, a, 3);
        with_photos(&mut state, b, 1);
        assert_eq!(state.training_blocker(), None, "one photo a class trains");
        assert_eq!(
            state.comparison_blocker(),
            Some(Blocker::TooFewPhotos {
                class: "Class 2".into(),
                needed: 2
            })
        );
        with_photos(&mut state, b, 1);
        assert_eq!(state.comparison_blocker(), None);
        state.apply::<&str>(Action::RenameClass(b, "Class 1".into()));
        assert_eq!(
            state.training_blocker(),
            Some(Blocker::DuplicateName("Class 1".into()))
        );
        // Names a student reads as the same one: case and spaces aside.
        state.apply::<&str>(Action::RenameClass(a, "Wild  cats".into()));
        state.apply::<&str>(Action::RenameClass(b, " wild CATS".into()));
        assert!(matches!(
            state.training_blocker(),
            Some(Blocker::DuplicateName(_))
        ));
        state.apply::<&str>(Action::RenameClass(a, "Class 1".into()));
        state.apply::<&str>(Action::RenameClass(b, "".into()));
        assert_eq!(state.training_blocker(), Some(Blocker::ClassNeedsName));
        state.apply::<&str>(Action::RenameClass(b, "   ".into()));
        assert_eq!(state.training_blocker(), Some(Blocker::ClassNeedsName));
        let refused: Effects = state.apply(Action::Train);
        assert!(refused.is_empty());
        assert_eq!(
            state.notices.last(),
            Some(&Notice::Blocked(Blocker::ClassNeedsName))
        );
        // A 2,000-character name (a pasted paragraph) is cut to what a project file holds.
        state.apply::<&str>(Action::RenameClass(b, "é".repeat(2000)));
        assert_eq!(state.classes[1].name.chars().count(), MAX_CLASS_NAME_CHARS);
        state.apply::<&str>(Action::RenameClass(b, "Fruit".into()));
        assert_eq!(state.training_blocker(), None);
        let effects: Effects = state.apply(Action::Train);
        assert_eq!(sent_jobs(&effects).len(), 1);
        assert_eq!(state.training.name(), "running");
        assert_eq!(state.training_blocker(), Some(Blocker::TrainingRunning));
    }

    #[test]
    fn training_set_labels_only_classes_with_photos_in_order() {
        let mut state = ready();
        let b = state.classes[1].id;
        state.apply::<&str>(Action::AddClass);
        let c = state.classes[2].id;
        state.apply::<&str>(Action::RenameClass(c, "C".into()));
        with_photos(&mut state, b, 2);
        with_photos(&mut state, c, 3);
        let effects: Effects = state.apply(Action::Train);
        let [
            Effect::Send(
                Request::Train {
                    run: RunSpec { class_names, .. },
                    examples,
                    ..
                },
                None,
            ),
        ] = effects.as_slice()
        else {
            panic!("no training request in {effects:?}");
        };
        let (examples, views) = run_embeddings(examples);
        assert_eq!(class_names, &vec!["Class 2", "C"]);
        // C's third photo is kept for the final test: it never goes to training.
        assert_eq!(
            examples.iter().map(|e| e.label).collect::<Vec<_>>(),
            vec![0, 0, 1, 1]
        );
        let counts = |train, validation, test, by_folds| SplitCounts {
            train,
            validation,
            test,
            by_folds,
        };
        // So few photos validate by folds: all but the final test's train and validate.
        assert_eq!(
            state.split_per_class(),
            vec![(b, counts(2, 0, 0, true)), (c, counts(2, 0, 1, true))]
        );
        // A network way holds photos out instead (chosen past the run in flight).
        state.train_way = Way::Finetune;
        assert_eq!(
            state.split_per_class(),
            vec![(b, counts(1, 1, 0, false)), (c, counts(1, 1, 1, false))]
        );
        assert!(views.is_empty(), "augmentation is off by default");
    }

    #[test]
    fn stop_keeps_a_model_from_finished_epochs_or_discards_the_run() {
        let (mut state, _) = trainable();
        let nothing: Effects = state.apply(Action::StopTraining);
        assert!(nothing.is_empty(), "nothing to stop");
        let settings = |epochs, learning_rate| {
            let mut settings = TrainingSettings {
                epochs,
                ..TrainingSettings::default()
            };
            settings.optimizer.learning_rate = learning_rate;
            Action::ChangeSettings(settings)
        };
        state.apply::<&str>(settings(0, -1.0));
        assert_eq!(state.settings.epochs, 1);
        assert_eq!(state.settings.optimizer.learning_rate, 1e-6);
        state.apply::<&str>(settings(1_000_000, f64::NAN));
        assert_eq!(
            state.settings.epochs,
            *headstart_core::training::EPOCHS_RANGE.end()
        );
        assert_eq!(state.settings.optimizer.learning_rate, 1e-6);
        state.apply::<&str>(Action::ResetSettings);
        assert_eq!(state.settings, TrainingSettings::default());
        state.apply::<&str>(settings(300, 1e-3));
        assert!(matches!(
            state.apply::<&str>(Action::Train).as_slice(),
            [Effect::Send(Request::Train { run, .. }, None)] if run.settings.epochs == 300
        ));
        (state, _) = trainable();

        let first = state.apply(Action::Train);
        let job = sent_jobs(&first)[0];
        let stop: Effects = state.apply(Action::StopTraining);
        assert_eq!(
            stop,
            vec![Effect::Send(Request::StopTraining { job }, None)]
        );
        assert!(matches!(
            state.training,
            TrainingState::Running { stopping: true, .. }
        ));
        state.apply::<&str>(Action::Worker(
            Event::TrainingDiscarded { job },
            Attachment::Nothing,
        ));
        assert_eq!(state.training.name(), "stopped");
        assert_eq!(state.model, None);
        assert_eq!(state.classes[0].photos.len(), 2, "the photos are untouched");

        // A later run that ends with a model replaces nothing else; a stale event is ignored.
        let second = state.apply(Action::Train);
        assert_eq!(finish(&mut state, &second), ModelVersion(2));
        state.apply::<&str>(Action::Worker(
            Event::TrainingDiscarded { job },
            Attachment::Nothing,
        ));
        assert_eq!(state.training.name(), "done");
        assert_eq!(state.model.as_ref().unwrap().version, ModelVersion(2));
    }

    #[test]
    fn failures_are_sentences_for_the_student_and_detail_for_the_console() {
        let (mut state, _) = trainable();
        let train = state.apply(Action::Train);
        let job = sent_jobs(&train)[0];
        let effects: Effects = state.apply(Action::Worker(
            Event::TrainingFailed {
                job,
                error: headstart_core::protocol::TrainingError::Compute("device lost".into()),
            },
            Attachment::Nothing,
        ));
        assert_eq!(state.training.name(), "error");
        assert!(matches!(&effects[0], Effect::Log(detail) if detail.contains("device lost")));
        // The student reads the kind of failure, never the engine's own words.
        assert_eq!(state.training, TrainingState::Failed(RunFailure::Compute));

        for _ in 0..(MAX_NOTICES + 5) {
            state.apply::<&str>(Action::SamplesFailed("404".into()));
        }
        assert_eq!(state.notices.len(), MAX_NOTICES);
    }

    #[test]
    fn the_train_button_trains_the_chosen_way_and_its_model_classifies_and_is_tested() {
        let mut state = ready();
        let (a, b) = (state.classes[0].id, state.classes[1].id);
        with_photos(&mut state, a, 5);
        with_photos(&mut state, b, 5);
        let mut settings = state.settings.clone();
        settings.augmentation.flip = true;
        state.apply::<&str>(Action::ChangeSettings(settings));

        // Off-the-shelf: made from the plain embeddings, no views.
        state.apply::<&str>(Action::ChooseTrainWay(Way::Knn));
        let effects: Effects = state.apply(Action::Train);
        let [
            Effect::Send(
                Request::Train {
                    run: RunSpec { way, version, .. },
                    examples,
                    ..
                },
                None,
            ),
        ] = effects.as_slice()
        else {
            panic!("no fit in {effects:?}");
        };
        assert_eq!(
            (*version, way.family()),
            (
                ModelVersion(1),
                WayFamily::NoGradient(NeighbourKind::Knn { k: DEFAULT_K })
            )
        );
        let (examples, views) = run_embeddings(examples);
        assert_eq!(examples.len(), 8, "no test photos");
        assert!(views.is_empty(), "no augmented views");

        // Fine-tuning: the photos' model inputs go with the run; augmentation does not apply.
        state.training = TrainingState::Idle;
        state.apply::<&str>(Action::ChooseTrainWay(Way::Finetune));
        let effects: Effects = state.apply(Action::Train);
        let [
            Effect::SendWithInputs(
                Request::Train {
                    job,
                    run: RunSpec { way, version, .. },
                    examples: TrainingExamples::ModelInputs { labels },
                },
                inputs,
            ),
        ] = effects.as_slice()
        else {
            panic!("no network run in {effects:?}");
        };
        assert_eq!((*version, *way), (ModelVersion(2), Way::Finetune));
        assert_eq!((labels.len(), inputs.len()), (8, 8));
        assert!(inputs.iter().all(|input| input.starts_with("input-")));
        // The way cannot change under a running run.
        state.apply::<&str>(Action::ChooseTrainWay(Way::Frozen));
        assert_eq!(state.train_way, Way::Finetune);
        let job = *job;
        let mut model = network_model(job, 1_491_203);
        model.version = ModelVersion(2);
        let event = Event::Trained {
            job,
            model: Box::new(model),
        };
        state.apply::<&str>(Action::Worker(event, Attachment::Nothing));
        assert_eq!(state.training, TrainingState::Done);
        let model = state.model.clone().unwrap();
        assert_eq!(model.weights.way(), Way::Finetune);

        // It classifies new photos, and its final test sends the test photos' model inputs.
        let classify: Effects = state.apply(Action::Classify(files(&["new.png"])));
        assert!(matches!(
            classify.as_slice(),
            [Effect::Send(Request::Classify { model: Some(sent), .. }, Some("new.png"))] if **sent == *model
        ));
        let test: Effects = state.apply(Action::FinalTest);
        let [
            Effect::SendWithInputs(
                Request::Evaluate {
                    model: tested,
                    embeddings,
                    ..
                },
                inputs,
            ),
        ] = test.as_slice()
        else {
            panic!("no evaluation in {test:?}");
        };
        assert_eq!(
            (**tested == *model, embeddings.len(), inputs.len()),
            (true, 0, 2)
        );

        // The wrong-preprocessing experiment retrains a head, so it needs a head to compare with.
        let refused: Effects =
            state.apply(Action::WrongPreprocessing(Some(Normalization::ZeroToOne)));
        assert!(refused.is_empty() && state.experiment.is_none());
    }
}
