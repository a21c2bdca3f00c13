//! The comparison of ways to train: the student predicts a ranking, then every way trains on
//! the same split of the same photos; the final test ranks them.

use crate::Blocker;
use crate::jobs::unanswered;
use crate::run_plan::RunData;
use crate::{AppState, Effect, Notice, PhotoId, RunPurpose};
use headstart_core::protocol::{Event, JobId, Request};
use headstart_core::training::{
    EpochReport, LabeledEmbedding, ModelVersion, TrainedModel, TrainingSettings, Way, WayFamily,
};
use std::cmp::Reverse;
use std::rc::Rc;

/// Where one way of the comparison stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WayState {
    /// Training.
    Running,
    /// Trained; measured on validation (and on the test photos after the final test).
    Done,
    /// It failed or was stopped.
    Failed,
}

impl WayState {
    /// The `data-state` the automation contract exposes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "error",
        }
    }
}

/// One way's result in the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct WayResult {
    /// The way.
    pub way: Way,
    /// Where it stands.
    pub state: WayState,
    /// Numbers it learns (0 for the ways that only remember the training photos).
    pub trainable_params: usize,
    /// Training time in milliseconds, once done.
    pub training_ms: Option<f64>,
    /// Accuracy on the validation photos, once done.
    pub validation_accuracy: Option<f32>,
    /// Accuracy on the test photos, after the final test.
    pub test_accuracy: Option<f32>,
    /// Its learning curves (gradient-trained ways).
    pub history: Vec<EpochReport>,
    /// The model it made, once done (shared, as the model in use is).
    pub(crate) model: Option<Rc<TrainedModel>>,
    pub(crate) job: Option<JobId>,
}

impl WayResult {
    /// `way`, starting to train (each way reports its count of numbers when done).
    fn running(way: Way) -> Self {
        Self {
            way,
            state: WayState::Running,
            trainable_params: 0,
            training_ms: None,
            validation_accuracy: None,
            test_accuracy: None,
            history: Vec::new(),
            model: None,
            job: None,
        }
    }

    /// The way's run ended with `model`.
    pub(crate) fn finish(&mut self, model: TrainedModel) {
        self.state = WayState::Done;
        self.validation_accuracy = model.validation_accuracy();
        self.trainable_params = model.trainable_params;
        self.training_ms = Some(model.training_ms);
        self.history = model.history.clone();
        self.model = Some(Rc::new(model));
    }
}

/// The comparison: every way trained on the same split, next to the ranking the student
/// predicted before it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The student's predicted ranking, best first.
    pub predicted: Vec<Way>,
    /// One result per way, in [`Way::ALL`] order.
    pub results: Vec<WayResult>,
    /// The test photos of its split, with their labels.
    pub(crate) test_photos: Vec<(PhotoId, usize)>,
    /// The settings it ran with.
    pub(crate) settings: TrainingSettings,
    /// [`AppState::revision`] when it ran.
    pub(crate) revision: u32,
}

impl Comparison {
    /// The settings it ran with.
    pub fn settings(&self) -> &TrainingSettings {
        &self.settings
    }

    /// The ways by test accuracy, best first, once every way has one.
    pub fn ranking(&self) -> Option<Vec<Way>> {
        let mut scored: Vec<(Way, f32)> = self
            .results
            .iter()
            .map(|result| Some((result.way, result.test_accuracy?)))
            .collect::<Option<_>>()?;
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        Some(scored.into_iter().map(|(way, _)| way).collect())
    }

    /// The result of `way`.
    pub(crate) fn result_mut(&mut self, way: Way) -> &mut WayResult {
        let at = self.results.iter().position(|r| r.way == way);
        &mut self.results[at.expect("every way has a result")]
    }
}

impl<T: Clone> AppState<T> {
    /// Trains every way on the same split of the current photos, after the student recorded
    /// a predicted ranking.
    pub(crate) fn run_comparison<F>(&mut self) -> Vec<Effect<F, T>> {
        let Some(predicted) = self.predicted_ranking() else {
            self.notify(Notice::Blocked(Blocker::PredictFirst));
            return Vec::new();
        };
        if let Some(blocker) = self.comparison_blocker() {
            self.notify(Notice::Blocked(blocker));
            return Vec::new();
        }
        let plan = self.run_plan(RunPurpose::Comparison);
        let data = RunData {
            class_names: self.class_names(),
            examples: (plan.photos.iter().zip(&plan.labels))
                .map(|(photo, &label)| LabeledEmbedding {
                    embedding: photo.embedding.clone(),
                    label,
                })
                .collect(),
            views: Vec::new(),
            inputs: plan
                .photos
                .iter()
                .map(|photo| photo.input.clone())
                .collect(),
            labels: plan.labels,
            validation: plan.validation,
        };
        let mut comparison = Comparison {
            predicted,
            results: Way::ALL.into_iter().map(WayResult::running).collect(),
            test_photos: plan.test,
            settings: self.settings.clone(),
            revision: self.revision,
        };
        // The comparison's models are never used to classify: they take no version number.
        let version = ModelVersion(0);
        let mut effects = Vec::new();
        // The new head is the training run, below. The others follow their family: no gradient
        // first (at once), then the network runs longest first (the pool gives each the least
        // busy worker).
        let mut ways: Vec<(bool, Reverse<usize>, Way)> = Way::ALL
            .into_iter()
            .filter_map(|way| match way.family() {
                WayFamily::NewHead => None,
                WayFamily::NoGradient(_) => Some((false, Reverse(0), way)),
                WayFamily::Network(training) => {
                    Some((true, Reverse(training.relative_cost()), way))
                }
            })
            .collect();
        ways.sort_by_key(|&(network, cost, _)| (network, cost));
        for (_, _, way) in ways {
            let job = self.fresh_job();
            comparison.result_mut(way).job = Some(job);
            effects.push(
                data.clone()
                    .request(way, job, version, self.settings.clone()),
            );
        }
        self.comparison = Some(comparison);
        effects.extend(self.train(RunPurpose::Comparison));
        effects
    }

    /// The student's prediction: `way` at `place` (0 = best); a way already at another place
    /// swaps with the one that was here.
    pub(crate) fn predict_place(&mut self, place: usize, way: Way) {
        if place >= self.predicted_places.len() {
            return;
        }
        let previous = self.predicted_places[place];
        if let Some(elsewhere) = self.predicted_places.iter().position(|w| *w == Some(way)) {
            self.predicted_places[elsewhere] = previous;
        }
        self.predicted_places[place] = Some(way);
    }

    /// The student's predicted ranking, best first, once every place is chosen.
    pub fn predicted_ranking(&self) -> Option<Vec<Way>> {
        self.predicted_places.iter().copied().collect()
    }

    /// Stops the comparison's network runs that still train (after their current epoch).
    pub(crate) fn stop_network_ways<F>(&self) -> Vec<Effect<F, T>> {
        self.comparison
            .iter()
            .flat_map(|comparison| &comparison.results)
            .filter(|r| matches!(r.way, Way::Finetune | Way::Lora | Way::Scratch))
            .filter(|r| r.state == WayState::Running)
            .filter_map(|r| r.job)
            .map(|job| Effect::Send(Request::StopTraining { job }, None))
            .collect()
    }

    /// The comparison's frozen way, trained by the training run, ended with `model`.
    pub(crate) fn frozen_way_trained(&mut self, model: TrainedModel) {
        if let Some(comparison) = &mut self.comparison {
            comparison.result_mut(Way::Frozen).finish(model);
        }
    }

    /// Marks the comparison's frozen way as failed (its run was stopped or failed).
    pub(crate) fn frozen_way_failed(&mut self) {
        if let Some(comparison) = &mut self.comparison {
            comparison.result_mut(Way::Frozen).state = WayState::Failed;
        }
    }

    /// Whether the photos, classes or settings changed since the comparison ran: its results no
    /// longer describe what is on the page.
    pub fn comparison_is_stale(&self) -> bool {
        self.comparison.as_ref().is_some_and(|comparison| {
            comparison.revision != self.revision || comparison.settings != self.settings
        })
    }

    /// A report of a way of the comparison, while it trains.
    pub(crate) fn on_way_event<F>(&mut self, way: Way, event: Event) -> Vec<Effect<F, T>> {
        let Some(result) = self.comparison.as_mut().map(|c| c.result_mut(way)) else {
            return unanswered(&event);
        };
        match event {
            Event::Epoch { report, .. } => result.history.push(report),
            Event::Trained { model, .. } => result.finish(*model),
            Event::TrainingDiscarded { .. } => result.state = WayState::Failed,
            Event::TrainingFailed { error, .. } => {
                result.state = WayState::Failed;
                return vec![Effect::Log(format!("fine-tuning failed: {error}"))];
            }
            other => return unanswered(&other),
        }
        Vec::new()
    }

    /// The comparison's way whose run is `job`, while it trains.
    pub(crate) fn way_training(&self, job: JobId) -> Option<Way> {
        let comparison = self.comparison.as_ref()?;
        (comparison.results.iter())
            .find(|result| result.job == Some(job) && result.state == WayState::Running)
            .map(|result| result.way)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run_embeddings;
    use crate::test_support::{
        Effects, State, finish, network_model, ready, reopened, report, save, with_photos,
    };
    use crate::{Action, MemoryStorage, StorageAccess};
    use headstart_core::dataset::Validation;
    use headstart_core::embedding::{EMBEDDING_DIM, Embedding};
    use headstart_core::neighbours::{DEFAULT_K, NeighbourKind};
    use headstart_core::protocol::Attachment;
    use headstart_core::protocol::NetworkTraining;
    use headstart_core::run::TrainingExamples;

    #[test]
    fn the_comparison_trains_every_way_on_one_split_and_tests_them_all_at_once() {
        let mut state = ready();
        let (a, b) = (state.classes[0].id, state.classes[1].id);
        with_photos(&mut state, a, 5);
        with_photos(&mut state, b, 5);
        let refused: Effects = state.apply(Action::RunComparison);
        assert!(refused.is_empty(), "the prediction comes first");
        let predicted = vec![
            Way::Finetune,
            Way::Frozen,
            Way::Knn,
            Way::Centroid,
            Way::Lora,
            Way::Scratch,
        ];
        // Places chosen in any order; choosing a taken way swaps it.
        for (place, way) in [(4, Way::Frozen), (1, Way::Frozen), (0, Way::Finetune)] {
            state.apply::<&str>(Action::PredictPlace(place, way));
        }
        assert_eq!(
            state.predicted_places[4], None,
            "Frozen moved from 5th to 2nd"
        );
        for (place, way) in [
            (2, Way::Knn),
            (3, Way::Centroid),
            (4, Way::Lora),
            (5, Way::Scratch),
        ] {
            state.apply::<&str>(Action::PredictPlace(place, way));
        }
        assert_eq!(state.predicted_ranking(), Some(predicted.clone()));
        state.apply::<&str>(Action::PredictPlace(5, Way::Knn));
        assert_eq!(state.predicted_places[2], Some(Way::Scratch), "swapped");
        state.apply::<&str>(Action::PredictPlace(2, Way::Knn));

        let effects: Effects = state.apply(Action::RunComparison);
        let (mut fits, mut networks, mut train) = (Vec::new(), Vec::new(), None);
        for effect in &effects {
            match effect {
                Effect::Send(Request::Train { job, run, examples }, None) => {
                    let validation = run.validation.clone();
                    match run.way.family() {
                        WayFamily::NoGradient(kind) => {
                            fits.push((*job, kind, run_embeddings(examples).0.len(), validation))
                        }
                        WayFamily::NewHead => train = Some(validation),
                        WayFamily::Network(_) => panic!("a network run without inputs"),
                    }
                }
                Effect::SendWithInputs(
                    Request::Train {
                        job,
                        run,
                        examples: TrainingExamples::ModelInputs { labels },
                    },
                    inputs,
                ) => {
                    let WayFamily::Network(kind) = run.way.family() else {
                        panic!("inputs sent to {:?}", run.way);
                    };
                    let validation = run.validation.clone();
                    networks.push((*job, kind, labels.len(), validation, inputs.len()))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // Every way gets the same 8 training and validation photos and the same validation part;
        // the network runs get the photos themselves.
        let train_validation = train.expect("the frozen way trains");
        assert_eq!(fits.len(), 2);
        assert!(fits.iter().all(|f| f.2 == 8 && f.3 == train_validation));
        assert_eq!(fits[1].1, NeighbourKind::Knn { k: DEFAULT_K });
        // The longest network run first.
        let kinds: Vec<NetworkTraining> = networks.iter().map(|n| n.1).collect();
        let ways = [
            NetworkTraining::FromScratch,
            NetworkTraining::FineTune,
            NetworkTraining::Lora,
        ];
        assert_eq!(kinds, ways);
        assert!(
            networks
                .iter()
                .all(|n| n.2 == 8 && n.3 == train_validation && n.4 == 8)
        );
        let (scratch_job, tune_job, lora_job) = (networks[0].0, networks[1].0, networks[2].0);
        // Stop reaches both network runs too (this copy of the page is thrown away).
        let mut stopped = state.clone();
        let stops: Effects = stopped.apply(Action::StopTraining);
        for job in [tune_job, lora_job, scratch_job] {
            assert!(stops.contains(&Effect::Send(Request::StopTraining { job }, None)));
        }
        let results = |state: &State| state.comparison.clone().unwrap().results;
        assert!(results(&state).iter().all(|r| r.state == WayState::Running));

        let names = vec!["a".to_string(), "b".to_string()];
        // Class 0 points along the first half of the axes, class 1 along the second.
        let examples = [0, 1, 0].map(|label: usize| LabeledEmbedding {
            embedding: Embedding::try_from(
                (0..EMBEDDING_DIM)
                    .map(|i| f32::from(u8::from((i < EMBEDDING_DIM / 2) == (label == 0))))
                    .collect::<Vec<f32>>(),
            )
            .unwrap(),
            label,
        });
        for (job, kind, ..) in &fits {
            let model = headstart_core::neighbours::fit_model(
                ModelVersion(0),
                names.clone(),
                *kind,
                &examples,
                &Validation::HeldOut(vec![2]),
                TrainingSettings::default(),
            );
            let model = Box::new(model);
            state.apply::<&str>(Action::Worker(
                Event::Trained { job: *job, model },
                Attachment::Nothing,
            ));
        }
        let train_effects: Effects = effects
            .iter()
            .filter(|e| matches!(e, Effect::Send(Request::Train { run, .. }, None) if run.way == Way::Frozen))
            .cloned()
            .collect();
        finish(&mut state, &train_effects);
        for (job, params) in [
            (tune_job, 1_491_203),
            (lora_job, 25_859),
            (scratch_job, 3_374_851),
        ] {
            for event in [
                Event::Epoch {
                    job,
                    report: report(1),
                },
                Event::Trained {
                    job,
                    model: Box::new(network_model(job, params)),
                },
            ] {
                state.apply::<&str>(Action::Worker(event, Attachment::Nothing));
            }
        }
        assert!(
            state.model.is_none(),
            "the comparison never replaces the model"
        );
        let done = results(&state);
        assert!(done.iter().all(|r| r.state == WayState::Done));
        assert_eq!(
            done[0].validation_accuracy,
            Some(1.0),
            "its validation predictions"
        );
        assert_eq!(done[2].trainable_params, 2 * 1281);
        assert_eq!(done[3].trainable_params, 1_491_203);
        assert_eq!(done[4].trainable_params, 25_859);
        assert_eq!(done[5].trainable_params, 3_374_851);
        assert_eq!(done[3].validation_accuracy, Some(0.9));
        assert_eq!(done[5].history.len(), 1);

        // One final test measures every way on the same two test photos.
        let effects: Effects = state.apply(Action::FinalTest);
        assert_eq!(effects.len(), 6);
        for (i, effect) in effects.iter().enumerate() {
            let (job, count) = match effect {
                Effect::Send(
                    Request::Evaluate {
                        job, embeddings, ..
                    },
                    None,
                ) => (*job, embeddings.len()),
                Effect::SendWithInputs(
                    Request::Evaluate {
                        job,
                        model,
                        embeddings,
                    },
                    inputs,
                ) if model.weights.needs_model_input() && embeddings.is_empty() => {
                    (*job, inputs.len())
                }
                _ => panic!("no evaluation in {effect:?}"),
            };
            assert_eq!(count, 2);
            // Centroid, fine-tuning and LoRA get both right, kNN and scratch one, the head none.
            let rows = match i {
                0 | 3 | 4 => vec![vec![1.0, 0.0], vec![0.0, 1.0]],
                1 | 5 => vec![vec![1.0, 0.0], vec![1.0, 0.0]],
                _ => vec![vec![0.0, 1.0], vec![1.0, 0.0]],
            };
            state.apply::<&str>(Action::Worker(
                Event::Evaluated {
                    job,
                    probabilities: Ok(rows),
                },
                Attachment::Nothing,
            ));
        }
        let comparison = state.comparison.clone().unwrap();
        let accuracies: Vec<Option<f32>> =
            comparison.results.iter().map(|r| r.test_accuracy).collect();
        assert_eq!(
            accuracies,
            vec![
                Some(1.0),
                Some(0.5),
                Some(0.0),
                Some(1.0),
                Some(1.0),
                Some(0.5)
            ]
        );
        assert_eq!(
            comparison.ranking(),
            Some(vec![
                Way::Centroid,
                Way::Finetune,
                Way::Lora,
                Way::Knn,
                Way::Scratch,
                Way::Frozen
            ])
        );
        assert_eq!(comparison.predicted, predicted);
        assert_eq!(state.final_tests_run, 1);
        assert!(!state.comparison_is_stale());
        // A reload keeps the results (not the ways' models) and the prediction beside them.
        let storage = MemoryStorage::default();
        save(&mut state, &storage);
        let restored = reopened(&storage, StorageAccess::Granted);
        let restored_comparison = restored.comparison.as_ref().unwrap();
        assert_eq!(restored_comparison.ranking(), comparison.ranking());
        assert_eq!(restored_comparison.predicted, predicted);
        for (before, after) in comparison.results.iter().zip(&restored_comparison.results) {
            assert_eq!(
                (
                    before.way,
                    before.state,
                    before.trainable_params,
                    before.training_ms
                ),
                (
                    after.way,
                    after.state,
                    after.trainable_params,
                    after.training_ms
                )
            );
            assert_eq!(
                (
                    before.validation_accuracy,
                    before.test_accuracy,
                    &before.history
                ),
                (
                    after.validation_accuracy,
                    after.test_accuracy,
                    &after.history
                )
            );
        }
        assert!(!restored.comparison_is_stale());
        assert_eq!(restored.final_tests_run, 1);
        let some_photo = state.classes[1].photos[0].id;
        state.apply::<&str>(Action::DeletePhoto(some_photo));
        assert!(
            state.comparison_is_stale(),
            "the photos changed since it ran"
        );
    }
}
