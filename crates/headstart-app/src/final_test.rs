//! The final test: the model in use and every trained way of the comparison on the photos each
//! kept aside, used once, at the end; its result goes stale when anything it measured changes.

use crate::Blocker;
use crate::jobs::{PendingJob, unanswered};
use crate::{AppState, Effect, Notice, Photo, PhotoId};
use headstart_core::embedding::Embedding;
use headstart_core::protocol::{Event, JobId, Request};
use headstart_core::training::{ModelVersion, TrainedModel, TrainingSettings, Way, top1};
use std::collections::HashMap;
use std::rc::Rc;

/// The test photos of the model in use, and the data it was trained on.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ModelTest {
    pub(crate) photos: Vec<(PhotoId, usize)>,
    pub(crate) revision: u32,
}

/// The final test: the model in use on the photos kept aside, used once, at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalTest {
    /// The model tested.
    pub model_version: ModelVersion,
    /// Test photos it got right; `None` while it runs.
    pub correct: Option<usize>,
    /// Test photos.
    pub total: usize,
    /// The settings when it ran.
    pub(crate) settings: TrainingSettings,
    /// [`AppState::revision`] when it ran.
    pub(crate) revision: u32,
    pub(crate) job: JobId,
}

impl FinalTest {
    /// Share of the test photos the model got right, once known.
    pub fn accuracy(&self) -> Option<f32> {
        Some(self.correct? as f32 / self.total.max(1) as f32)
    }
}

/// One test of the final test: what it tests (the model in use: `None`), with what model, on
/// which test photos with their labels.
type Test = (Option<Way>, Rc<TrainedModel>, Vec<(PhotoId, usize)>);

impl<T: Clone> AppState<T> {
    /// Sends the model in use and every trained way of the comparison for the final test,
    /// each with its own split's test photos.
    pub(crate) fn final_test<F>(&mut self) -> Vec<Effect<F, T>> {
        if let Some(blocker) = self.final_test_blocker() {
            self.notify(Notice::Blocked(blocker));
            return Vec::new();
        }
        let tests = self.final_tests();
        self.final_tests_run += 1;
        tests
            .into_iter()
            .map(|test| self.start_final_test(test))
            .collect()
    }

    /// What the final test tests: the model in use, if it kept test photos, and every way of
    /// the comparison that made a model.
    fn final_tests(&self) -> Vec<Test> {
        let mut tests: Vec<Test> = Vec::new();
        if let Some(model) = &self.model
            && !self.model_test.photos.is_empty()
        {
            tests.push((None, model.clone(), self.model_test.photos.clone()));
        }
        if let Some(comparison) = &self.comparison {
            for result in &comparison.results {
                if let Some(model) = &result.model {
                    let photos = comparison.test_photos.clone();
                    tests.push((Some(result.way), model.clone(), photos));
                }
            }
        }
        tests
    }

    /// Starts one test: its job, its result waiting on the page, and its request.
    fn start_final_test<F>(&mut self, (way, model, photos): Test) -> Effect<F, T> {
        // Network layers need the photos themselves; the other ways their embeddings.
        let photos = self.photos_of(&photos);
        let labels: Vec<usize> = photos.iter().map(|(_, label)| *label).collect();
        let needs_inputs = model.weights.needs_model_input();
        let (embeddings, inputs): (Vec<Embedding>, Vec<T>) = if needs_inputs {
            (
                Vec::new(),
                photos.iter().map(|(p, _)| p.input.clone()).collect(),
            )
        } else {
            (
                photos.iter().map(|(p, _)| p.embedding.clone()).collect(),
                Vec::new(),
            )
        };
        let total = labels.len();
        let job = self.start_job(PendingJob::FinalTest { way, labels });
        match way {
            None => {
                self.final_test = Some(FinalTest {
                    model_version: model.version,
                    correct: None,
                    total,
                    settings: self.settings.clone(),
                    revision: self.revision,
                    job,
                })
            }
            Some(way) => {
                if let Some(comparison) = &mut self.comparison {
                    let result = comparison.result_mut(way);
                    result.test_accuracy = None;
                    result.job = Some(job);
                }
            }
        }
        let request = Request::Evaluate {
            job,
            model: Box::new(TrainedModel::clone(&model)),
            embeddings,
        };
        match needs_inputs {
            true => Effect::SendWithInputs(request, inputs),
            false => Effect::Send(request, None),
        }
    }

    /// `photos` with their labels; photos deleted since are left out.
    fn photos_of(&self, photos: &[(PhotoId, usize)]) -> Vec<(&Photo<T>, usize)> {
        let by_id: HashMap<PhotoId, &Photo<T>> = self
            .classes
            .iter()
            .flat_map(|class| class.photos.iter().map(|photo| (photo.id, photo)))
            .collect();
        photos
            .iter()
            .filter_map(|(id, label)| Some((*by_id.get(id)?, *label)))
            .collect()
    }

    /// Why the final test cannot run now; `None` when it can.
    pub fn final_test_blocker(&self) -> Option<Blocker> {
        let comparison_done = self
            .comparison
            .as_ref()
            .is_some_and(|c| c.results.iter().any(|r| r.model.is_some()));
        if self.model.is_none() && !comparison_done {
            return Some(Blocker::FinalTestNeedsModel);
        }
        if self.model_test.photos.is_empty()
            && self
                .comparison
                .as_ref()
                .is_none_or(|c| c.test_photos.is_empty())
        {
            return Some(Blocker::FinalTestNoPhotos);
        }
        if self
            .pending
            .values()
            .any(|job| matches!(job, PendingJob::FinalTest { .. }))
        {
            return Some(Blocker::FinalTestRunning);
        }
        None
    }

    /// Whether the photos, classes or settings changed since the final test ran, or the model
    /// in use is not the one tested: the result no longer describes what is on the page.
    pub fn final_test_is_stale(&self) -> bool {
        self.final_test.as_ref().is_some_and(|test| {
            test.revision != self.revision
                || test.settings != self.settings
                || self.model.as_ref().map(|m| m.version) != Some(test.model_version)
        })
    }

    /// The final test of the model in use (`way: None`) or of a way of the comparison
    /// answered, with `labels` the test photos' classes in the request's order.
    pub(crate) fn on_final_test_event<F>(
        &mut self,
        job: JobId,
        way: Option<Way>,
        labels: Vec<usize>,
        event: Event,
    ) -> Vec<Effect<F, T>> {
        let Event::Evaluated { probabilities, .. } = event else {
            return unanswered(&event);
        };
        let correct = match probabilities {
            Ok(rows) if rows.len() == labels.len() => rows
                .iter()
                .zip(&labels)
                .filter(|(row, label)| top1(row).0 == **label)
                .count(),
            outcome => {
                self.notify(Notice::FinalTestFailed);
                return vec![Effect::Log(format!("final test: {outcome:?}"))];
            }
        };
        match way {
            None => {
                if let Some(test) = self.final_test.as_mut().filter(|t| t.job == job) {
                    test.correct = Some(correct);
                }
            }
            Some(way) => {
                if let Some(comparison) = &mut self.comparison {
                    let result = comparison.result_mut(way);
                    if result.job == Some(job) {
                        result.test_accuracy = Some(correct as f32 / labels.len().max(1) as f32);
                    }
                }
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::run_embeddings;
    use crate::test_support::{Effects, finish, ready, with_photos};
    use crate::{Action, Blocker, Effect};
    use headstart_core::protocol::Attachment;
    use headstart_core::protocol::{Event, Request};

    #[test]
    fn the_final_test_uses_only_the_kept_photos_and_goes_stale_when_anything_changes() {
        let mut state = ready();
        let (a, b) = (state.classes[0].id, state.classes[1].id);
        with_photos(&mut state, a, 5);
        with_photos(&mut state, b, 5);
        assert_eq!(
            state.final_test_blocker(),
            Some(Blocker::FinalTestNeedsModel)
        );
        let effects: Effects = state.apply(Action::Train);
        let Some(Effect::Send(Request::Train { examples, .. }, None)) = effects.first() else {
            panic!("no training request");
        };
        let examples = run_embeddings(examples).0;
        assert_eq!(examples.len(), 8, "one photo per class kept for the test");
        let trained_on: Vec<f32> = examples.iter().map(|e| e.embedding.values()[0]).collect();
        let version = finish(&mut state, &effects);

        let effects: Effects = state.apply(Action::FinalTest);
        let [
            Effect::Send(
                Request::Evaluate {
                    job,
                    model,
                    embeddings,
                },
                None,
            ),
        ] = effects.as_slice()
        else {
            panic!("no evaluation in {effects:?}");
        };
        assert_eq!(model.version, version);
        assert_eq!(embeddings.len(), 2);
        assert!(
            embeddings
                .iter()
                .all(|e| !trained_on.contains(&e.values()[0]))
        );
        assert_eq!(state.final_test_blocker(), Some(Blocker::FinalTestRunning));

        // The first test photo is right, the second wrong.
        let rows = vec![vec![0.9, 0.1], vec![0.8, 0.2]];
        state.apply::<&str>(Action::Worker(
            Event::Evaluated {
                job: *job,
                probabilities: Ok(rows),
            },
            Attachment::Nothing,
        ));
        let test = state.final_test.clone().unwrap();
        assert_eq!((test.correct, test.total), (Some(1), 2));
        assert_eq!(test.accuracy(), Some(0.5));
        assert_eq!(state.final_tests_run, 1);
        assert!(!state.final_test_is_stale());

        // A setting changed back and forth is no change; a photo removed is.
        let mut settings = state.settings.clone();
        settings.dropout = 0.5;
        state.apply::<&str>(Action::ChangeSettings(settings));
        assert!(state.final_test_is_stale());
        state.apply::<&str>(Action::ResetSettings);
        assert!(!state.final_test_is_stale());
        let some_photo = state.classes[0].photos[0].id;
        state.apply::<&str>(Action::DeletePhoto(some_photo));
        assert!(state.final_test_is_stale());
    }
}
