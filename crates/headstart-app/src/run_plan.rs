//! What a run trains on: the seeded split of the current photos and the embeddings it needs,
//! made by the workers before the training starts (each view once: photos keep them).

use crate::RunFailure;
use crate::jobs::{PendingJob, photo_failure, unanswered};
use crate::{AppState, Effect, Photo, PhotoId, RunPurpose, TrainingState, ViewKey};
use headstart_core::dataset::{RunSplit, Validation};
use headstart_core::protocol::{Event, JobId, Request, ViewAugmentation};
use headstart_core::run::{RunSpec, TrainingExamples};
use headstart_core::training::{
    AugmentedView, LabeledEmbedding, ModelVersion, TrainingSettings, Way,
};

/// What a run trains on, from the seeded split of the current photos: its examples (the
/// training and validation photos, in class order), their labels, how they validate,
/// the embedding of each example it needs (every example under the run's normalization, and
/// with augmentation the views of each training photo), and the test photos it must never see.
pub(crate) struct RunPlan<'a, T> {
    pub(crate) photos: Vec<&'a Photo<T>>,
    pub(crate) labels: Vec<usize>,
    pub(crate) validation: Validation,
    pub(crate) needs: Vec<(usize, ViewKey)>,
    pub(crate) test: Vec<(PhotoId, usize)>,
}

impl<T> RunPlan<'_, T> {
    /// The embeddings the run trains on: each example's under the run's normalization, and the
    /// views of the training photos; `None` while one is missing.
    pub(crate) fn embeddings(&self) -> Option<(Vec<LabeledEmbedding>, Vec<AugmentedView>)> {
        let mut examples = Vec::with_capacity(self.photos.len());
        let mut views = Vec::new();
        for &(example, key) in &self.needs {
            let embedding = self.photos[example].embedding_for(&key)?.clone();
            if key.augmentation.is_some() {
                views.push(AugmentedView { example, embedding });
            } else {
                examples.push(LabeledEmbedding {
                    embedding,
                    label: self.labels[example],
                });
            }
        }
        Some((examples, views))
    }
}

/// What a run's request carries, whichever way trains: the class names in label order, each
/// example's embedding and label, the augmented views (a head's run), each example's label and
/// model input (a network run), and how the examples validate.
#[derive(Clone)]
pub(crate) struct RunData<T> {
    pub(crate) class_names: Vec<String>,
    pub(crate) examples: Vec<LabeledEmbedding>,
    pub(crate) views: Vec<AugmentedView>,
    pub(crate) labels: Vec<usize>,
    pub(crate) inputs: Vec<T>,
    pub(crate) validation: Validation,
}

impl<T> RunData<T> {
    /// The request that trains `way` on this data as run `job`, its model to be `version`.
    pub(crate) fn request<F>(
        self,
        way: Way,
        job: JobId,
        version: ModelVersion,
        settings: TrainingSettings,
    ) -> Effect<F, T> {
        let RunData {
            class_names,
            examples,
            views,
            labels,
            inputs,
            validation,
        } = self;
        let run = RunSpec {
            way,
            version,
            class_names,
            validation,
            settings,
        };
        let examples = TrainingExamples::for_way(way, labels, || (examples, views));
        if examples.needs_model_inputs() {
            Effect::SendWithInputs(Request::Train { job, run, examples }, inputs)
        } else {
            Effect::Send(Request::Train { job, run, examples }, None)
        }
    }
}

impl<T: Clone> AppState<T> {
    /// The way a run of `purpose` trains: the experiment and the comparison's run retrain the
    /// frozen backbone's head; the model's run trains as the student chose.
    pub(crate) fn run_way(&self, purpose: RunPurpose) -> Way {
        match purpose {
            RunPurpose::Model => self.train_way,
            RunPurpose::WrongPreprocessing(_) | RunPurpose::Comparison => Way::Frozen,
        }
    }

    /// What a run trains on now (see [`RunPlan`]).
    pub(crate) fn run_plan(&self, purpose: RunPurpose) -> RunPlan<'_, T> {
        let (all_photos, all_labels) = self.labeled_photos();
        let RunSplit {
            split,
            run,
            validation,
        } = self.split(&all_labels, purpose);
        let photos: Vec<&Photo<T>> = run.examples.iter().map(|&i| all_photos[i]).collect();
        let labels: Vec<usize> = run.examples.iter().map(|&i| all_labels[i]).collect();
        let test = split
            .test
            .iter()
            .map(|&i| (all_photos[i].id, all_labels[i]))
            .collect();
        let normalization = purpose.normalization();
        let plain = ViewKey {
            normalization,
            augmentation: None,
        };
        let mut needs: Vec<(usize, ViewKey)> = (0..photos.len()).map(|i| (i, plain)).collect();
        let views = self
            .run_way(purpose)
            .planned_views(&self.settings, &run.train, |example| photos[example].id.0);
        needs.extend(views.into_iter().map(|view| {
            let augmentation = Some(ViewAugmentation {
                settings: self.settings.augmentation,
                seed: view.seed,
            });
            let key = ViewKey {
                normalization,
                augmentation,
            };
            (view.example, key)
        }));
        RunPlan {
            photos,
            labels,
            validation,
            needs,
            test,
        }
    }

    /// Embeds what the preparing run still lacks, or starts its training once nothing is
    /// missing (photos added meanwhile are included).
    pub(crate) fn continue_run<F>(&mut self) -> Vec<Effect<F, T>> {
        let TrainingState::Preparing { purpose, .. } = self.training else {
            return Vec::new();
        };
        let waiting: Vec<(PhotoId, ViewKey)> = self
            .pending
            .values()
            .filter_map(|job| match job {
                PendingJob::View { photo, key } => Some((*photo, *key)),
                _ => None,
            })
            .collect();
        let RunPlan { photos, needs, .. } = self.run_plan(purpose);
        let missing: Vec<(PhotoId, ViewKey, T)> = needs
            .iter()
            .map(|&(example, key)| (photos[example], key))
            .filter(|(photo, key)| photo.embedding_for(key).is_none())
            .filter(|(photo, key)| !waiting.contains(&(photo.id, *key)))
            .map(|(photo, key)| (photo.id, key, photo.input.clone()))
            .collect();
        if missing.is_empty() && waiting.is_empty() {
            return self.start_training(purpose).into_iter().collect();
        }
        if let TrainingState::Preparing { total, .. } = &mut self.training {
            *total += missing.len();
        }
        missing
            .into_iter()
            .map(|(photo, key, input)| {
                let job = self.start_job(PendingJob::View { photo, key });
                let request = Request::EmbedInput {
                    job,
                    normalization: key.normalization,
                    augmentation: key.augmentation,
                };
                Effect::SendWithInput(request, input)
            })
            .collect()
    }

    /// A view a run needs was embedded, or could not be.
    pub(crate) fn on_view_event<F>(
        &mut self,
        photo: PhotoId,
        key: ViewKey,
        event: Event,
    ) -> Vec<Effect<F, T>> {
        match event {
            Event::Embedded { embedding, .. } => {
                if let Some(photo) = self.photo_mut(photo) {
                    photo.views.insert(key, embedding);
                }
                if let TrainingState::Preparing { done, .. } = &mut self.training {
                    *done += 1;
                }
                self.continue_run()
            }
            Event::PhotoFailed { job, error } => {
                if matches!(self.training, TrainingState::Preparing { .. }) {
                    self.training = TrainingState::Failed(RunFailure::View);
                }
                vec![photo_failure(job, &error)]
            }
            other => unanswered(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::run_embeddings;
    use crate::test_support::{Effects, answer_views, finish, trainable, view_requests};
    use crate::{Action, Effect, RunPurpose, TrainingState};
    use headstart_core::dataset::Validation;
    use headstart_core::preprocess::Normalization;
    use headstart_core::protocol::Request;
    use headstart_core::run::RunSpec;

    #[test]
    fn augmented_views_are_embedded_once_from_training_photos_then_train_with_them() {
        let (mut state, _) = trainable();
        let mut settings = state.settings.clone();
        settings.augmentation.flip = true;
        settings.augmentation.views_per_photo = 3;
        state.apply::<&str>(Action::ChangeSettings(settings));

        let effects: Effects = state.apply(Action::Train);
        let requests = view_requests(&effects);
        // Two classes of two photos validate by folds: every photo trains in one of them, so
        // 4 photos x 3 views (a fold leaves out the views of the photos it validates).
        assert_eq!(requests.len(), 12);
        assert_eq!(
            state.training,
            TrainingState::Preparing {
                purpose: RunPurpose::Model,
                done: 0,
                total: 12
            }
        );
        assert!(
            requests
                .iter()
                .all(|(_, n, a, input)| *n == Normalization::Model
                    && a.is_some_and(|a| a.settings.flip)
                    && input.starts_with("input-"))
        );
        let seeds: std::collections::HashSet<u64> =
            requests.iter().map(|r| r.2.unwrap().seed).collect();
        assert_eq!(seeds.len(), 12, "every view has its own seed");

        let effects = answer_views(&mut state, &requests[..11]);
        assert!(effects.is_empty(), "still waiting for one view");
        let effects = answer_views(&mut state, &requests[11..]);
        let [
            Effect::Send(
                Request::Train {
                    run: RunSpec { validation, .. },
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
        assert_eq!(examples.len(), 4);
        assert_eq!(*validation, Validation::Folds(vec![1, 0, 0, 1]));
        assert_eq!(views.len(), 12);
        assert!(views.iter().all(|v| v.embedding.values()[0] >= 1000.0));
        finish(&mut state, &effects);

        // Training again reuses the cached views: no embedding, straight to training.
        let again: Effects = state.apply(Action::Train);
        assert!(view_requests(&again).is_empty());
        assert!(
            matches!(again.as_slice(), [Effect::Send(Request::Train { examples, .. }, None)] if run_embeddings(examples).1.len() == 12)
        );
    }

    #[test]
    fn stopping_while_views_are_made_keeps_them_and_trains_nothing() {
        let (mut state, _) = trainable();
        let mut settings = state.settings.clone();
        settings.augmentation.crop = true;
        state.apply::<&str>(Action::ChangeSettings(settings));
        let effects: Effects = state.apply(Action::Train);
        let requests = view_requests(&effects);
        assert!(!requests.is_empty());
        let stop: Effects = state.apply(Action::StopTraining);
        assert!(stop.is_empty());
        assert_eq!(state.training, TrainingState::Discarded);
        assert!(
            answer_views(&mut state, &requests).is_empty(),
            "no run starts"
        );
        let cached: usize = state
            .classes
            .iter()
            .flat_map(|c| &c.photos)
            .map(|p| p.views.len())
            .sum();
        assert_eq!(cached, requests.len());
    }
}
