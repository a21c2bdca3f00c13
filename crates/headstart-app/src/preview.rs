//! Seeing what training does to photos: the augmentation preview (views of one photo, as
//! training would make them) and the wrong-preprocessing experiment (the model's training again
//! with wrongly normalized inputs, to compare with the model).

use crate::Blocker;
use crate::jobs::unanswered;
use crate::{AppState, ClassEntry, Effect, Notice, Photo, PhotoId, RunPurpose};
use headstart_core::augment::{AugmentationSettings, view_seed};
use headstart_core::preprocess::Normalization;
use headstart_core::protocol::{Event, JobId, Request};
use headstart_core::training::{ModelVersion, TrainedModel, Way};

/// Augmented views the preview shows.
pub const PREVIEW_VIEWS: usize = 6;

/// The augmentation preview: views of one photo, as training would make them.
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentPreview<T> {
    /// The photo shown.
    pub photo: PhotoId,
    /// The augmentations the views were made with.
    pub settings: AugmentationSettings,
    /// Which set of views ("Show other views" asks for the next); round 0 shows the first
    /// views training makes of this photo.
    pub round: u64,
    /// The views, once made.
    pub views: Vec<T>,
    pub(crate) job: JobId,
}

/// The wrong-preprocessing experiment: validation accuracy with the right inputs and with wrong
/// ones, on the same photos, split and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PreprocessingExperiment {
    /// The wrong normalization tried.
    pub normalization: Normalization,
    /// The model it is compared with.
    pub model_version: ModelVersion,
    /// That model's validation accuracy (at its kept epoch).
    pub correct_accuracy: Option<f32>,
    /// Validation accuracy with the wrong inputs; `None` while the run is going.
    pub wrong_accuracy: Option<f32>,
}

impl<T: Clone> AppState<T> {
    /// The photo the preprocessing view and the augmentation preview show: the one the student
    /// tapped, else the first.
    pub fn shown_photo(&self) -> Option<(&ClassEntry<T>, &Photo<T>)> {
        self.inspected.and_then(|id| self.photo(id)).or_else(|| {
            let class = self.classes.iter().find(|c| !c.photos.is_empty())?;
            Some((class, class.photos.first()?))
        })
    }

    /// Asks for views of the shown photo under the current augmentation settings.
    pub(crate) fn preview_augmentation<F>(&mut self, round: u64) -> Option<Effect<F, T>> {
        let (_, photo) = self.shown_photo()?;
        let (id, input) = (photo.id, photo.input.clone());
        let settings = self.settings.augmentation;
        let run_seed = self.settings.seed.wrapping_add(round);
        let seeds = (1..=PREVIEW_VIEWS)
            .map(|view| view_seed(run_seed, id.0, view))
            .collect();
        let job = self.fresh_job();
        self.augment_preview = Some(AugmentPreview {
            photo: id,
            settings,
            round,
            views: Vec::new(),
            job,
        });
        let request = Request::PreviewAugmentation {
            job,
            settings,
            seeds,
        };
        Some(Effect::SendWithInput(request, input))
    }

    /// The augmentation preview's views came.
    pub(crate) fn on_preview_event<F>(&mut self, event: Event, views: Vec<T>) -> Vec<Effect<F, T>> {
        let Event::Previewed { .. } = event else {
            return unanswered(&event);
        };
        if let Some(preview) = &mut self.augment_preview {
            preview.views = views;
        }
        Vec::new()
    }

    /// Runs the wrong-preprocessing experiment: the head of the model in use trained again on
    /// inputs normalized with `normalization`.
    pub(crate) fn run_experiment<F>(&mut self, normalization: Normalization) -> Vec<Effect<F, T>> {
        let Some(model) = &self.model else {
            self.notify(Notice::Blocked(Blocker::ExperimentNeedsModel));
            return Vec::new();
        };
        if model.weights.way() != Way::Frozen {
            self.notify(Notice::Blocked(Blocker::ExperimentNeedsHead));
            return Vec::new();
        }
        let experiment = PreprocessingExperiment {
            normalization,
            model_version: model.version,
            correct_accuracy: model.validation_accuracy(),
            wrong_accuracy: None,
        };
        let effects = self.train(RunPurpose::WrongPreprocessing(normalization));
        if self.training_busy() {
            self.experiment = Some(experiment);
        }
        effects
    }

    /// "Show other views": the next set of views of the shown photo.
    pub(crate) fn show_other_views<F>(&mut self) -> Vec<Effect<F, T>> {
        let round = self.augment_preview.as_ref().map_or(0, |p| p.round + 1);
        self.preview_augmentation(round).into_iter().collect()
    }

    /// Shows what the model sees of a photo (the same photo again hides it); the preview, if
    /// shown, follows.
    pub(crate) fn inspect_photo<F>(&mut self, photo: PhotoId) -> Vec<Effect<F, T>> {
        self.inspected = (self.inspected != Some(photo)).then_some(photo);
        if self.augment_preview.is_some() {
            return self.preview_augmentation(0).into_iter().collect();
        }
        Vec::new()
    }

    /// The wrong-preprocessing switch: `Some` runs the experiment with that normalization,
    /// `None` hides its result.
    pub(crate) fn wrong_preprocessing<F>(
        &mut self,
        normalization: Option<Normalization>,
    ) -> Vec<Effect<F, T>> {
        match normalization {
            Some(normalization) => self.run_experiment(normalization),
            None => {
                self.experiment = None;
                Vec::new()
            }
        }
    }

    /// The experiment's run ended with `model`: its accuracy is the result.
    pub(crate) fn experiment_trained(&mut self, model: &TrainedModel) {
        if let Some(experiment) = &mut self.experiment {
            experiment.wrong_accuracy = model.validation_accuracy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run_embeddings;
    use crate::test_support::{Effects, answer_views, finish, trainable, view_requests};
    use crate::{Action, Effect};
    use headstart_core::protocol::Attachment;
    use headstart_core::run::RunSpec;
    use headstart_core::training::Metrics;

    #[test]
    fn changing_augmentation_previews_views_of_the_first_photo() {
        let (mut state, _) = trainable();
        let mut settings = state.settings.clone();
        settings.optimizer.learning_rate = 0.01;
        let nothing: Effects = state.apply(Action::ChangeSettings(settings.clone()));
        assert!(nothing.is_empty(), "only augmentation changes the preview");
        settings.augmentation.color = true;
        let effects: Effects = state.apply(Action::ChangeSettings(settings));
        let first = state.classes[0].photos[0].input.clone();
        let [
            Effect::SendWithInput(
                Request::PreviewAugmentation {
                    job,
                    settings,
                    seeds,
                },
                input,
            ),
        ] = effects.as_slice()
        else {
            panic!("no preview request in {effects:?}");
        };
        assert!(settings.color);
        assert_eq!(seeds.len(), PREVIEW_VIEWS);
        assert_eq!(input, &first);
        let old_job = *job;

        // "Show other views" asks again with other seeds; the older answer is ignored.
        let more: Effects = state.apply(Action::PreviewAugmentation);
        let [
            Effect::SendWithInput(
                Request::PreviewAugmentation {
                    job, seeds: other, ..
                },
                _,
            ),
        ] = more.as_slice()
        else {
            panic!("no preview request in {more:?}");
        };
        assert!(other.iter().all(|seed| !seeds.contains(seed)));
        let views = |n: usize| (0..n).map(|i| format!("view-{i}")).collect::<Vec<_>>();
        state.apply::<&str>(Action::Worker(
            Event::Previewed { job: old_job },
            Attachment::Files(views(6)),
        ));
        assert!(state.augment_preview.as_ref().unwrap().views.is_empty());
        state.apply::<&str>(Action::Worker(
            Event::Previewed { job: *job },
            Attachment::Files(views(6)),
        ));
        let preview = state.augment_preview.as_ref().unwrap();
        assert_eq!((preview.round, preview.views.len()), (1, 6));
    }

    #[test]
    fn the_wrong_preprocessing_experiment_trains_aside_and_never_replaces_the_model() {
        let (mut state, _) = trainable();
        let refused: Effects =
            state.apply(Action::WrongPreprocessing(Some(Normalization::ZeroToOne)));
        assert!(refused.is_empty(), "it needs a model to compare with");
        let effects: Effects = state.apply(Action::Train);
        let version = finish(&mut state, &effects);

        let effects: Effects =
            state.apply(Action::WrongPreprocessing(Some(Normalization::ZeroToOne)));
        let requests = view_requests(&effects);
        assert_eq!(requests.len(), 4, "every photo, normalized wrongly");
        assert!(
            requests
                .iter()
                .all(|r| r.1 == Normalization::ZeroToOne && r.2.is_none())
        );
        let effects = answer_views(&mut state, &requests);
        let [
            Effect::Send(
                Request::Train {
                    job,
                    run:
                        RunSpec {
                            class_names,
                            version: run_version,
                            ..
                        },
                    examples,
                },
                None,
            ),
        ] = effects.as_slice()
        else {
            panic!("no training request in {effects:?}");
        };
        let examples = run_embeddings(examples).0;
        assert!(examples.iter().all(|e| e.embedding.values()[0] >= 1000.0));
        let mut model = TrainedModel::clone(state.model.as_ref().unwrap());
        model.version = *run_version;
        model.class_names = class_names.clone();
        model.history[0].validation = Some(Metrics {
            loss: 2.0,
            accuracy: 0.25,
        });
        state.apply::<&str>(Action::Worker(
            Event::Trained {
                job: *job,
                model: Box::new(model),
            },
            Attachment::Nothing,
        ));
        assert_eq!(
            state.model.as_ref().unwrap().version,
            version,
            "the model stays"
        );
        let experiment = state.experiment.clone().unwrap();
        assert_eq!(experiment.wrong_accuracy, Some(0.25));
        assert_eq!(experiment.correct_accuracy, Some(0.9));
        assert_eq!(experiment.model_version, version);
        // The next real run is model 2, not 3.
        let next: Effects = state.apply(Action::Train);
        assert_eq!(finish(&mut state, &next), ModelVersion(2));
        state.apply::<&str>(Action::WrongPreprocessing(None));
        assert!(state.experiment.is_none());
    }
}
