//! Classifying photos with the model in use: each photo is a job for the workers, and its
//! prediction keeps the version and class names of the model that made it, whatever was
//! trained meanwhile.

use crate::jobs::{PendingJob, photo_failure, unanswered};
use crate::{AppState, Effect, Notice};
use headstart_core::protocol::{Attachment, Event, JobId, Request};
use headstart_core::training::{ModelVersion, TrainedModel, top1};

/// One classified photo, labelled by the model that classified it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction<T> {
    /// The file it came from.
    pub file_name: String,
    /// Its thumbnail.
    pub thumbnail: T,
    /// The model that made it.
    pub model_version: ModelVersion,
    /// `(class name, probability)` for every class of that model, in its order.
    pub probabilities: Vec<(String, f32)>,
}

impl<T> Prediction<T> {
    /// The most probable class and its probability.
    pub fn top(&self) -> (&str, f32) {
        let values: Vec<f32> = self.probabilities.iter().map(|(_, p)| *p).collect();
        let (index, probability) = top1(&values);
        (self.probabilities[index].0.as_str(), probability)
    }
}

/// A photo being classified: what its prediction is shown with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Classifying {
    file_name: String,
    version: ModelVersion,
    class_names: Vec<String>,
    /// Whether it is a frame of the camera.
    live: bool,
}

impl<T: Clone> AppState<T> {
    /// Photo files to classify with the model in use (once there is one).
    pub(crate) fn classify<F>(&mut self, files: Vec<(String, F)>) -> Vec<Effect<F, T>> {
        let Some(model) = self.model.clone().filter(|_| self.is_ready()) else {
            self.notify(Notice::TrainFirst);
            return Vec::new();
        };
        files
            .into_iter()
            .map(|(file_name, file)| self.classify_file(&model, file_name, file, false).1)
            .collect()
    }

    /// Starts classifying one file (a photo, or a camera frame when `live`) with `model`.
    pub(crate) fn classify_file<F>(
        &mut self,
        model: &TrainedModel,
        file_name: String,
        file: F,
        live: bool,
    ) -> (JobId, Effect<F, T>) {
        let job = self.start_job(PendingJob::Classify(Classifying {
            file_name,
            version: model.version,
            class_names: model.class_names.clone(),
            live,
        }));
        let request = Request::Classify {
            job,
            version: model.version,
            model: Some(Box::new(TrainedModel::clone(model))),
        };
        (job, Effect::Send(request, Some(file)))
    }

    /// Photos still being classified.
    pub fn photos_being_classified(&self) -> usize {
        self.pending
            .values()
            .filter(|job| matches!(job, PendingJob::Classify(Classifying { live: false, .. })))
            .count()
    }

    /// A photo or a camera frame was classified, or could not be.
    pub(crate) fn on_classify_event<F>(
        &mut self,
        job: JobId,
        classifying: Classifying,
        event: Event,
        attachment: Attachment<T>,
    ) -> Vec<Effect<F, T>> {
        let Classifying {
            file_name,
            version,
            class_names,
            live,
        } = classifying;
        match event {
            Event::Classified { probabilities, .. } => {
                let prediction = attachment
                    .decoded()
                    .map(|(thumbnail, _)| thumbnail)
                    .filter(|_| probabilities.len() == class_names.len())
                    .map(|thumbnail| Prediction {
                        file_name: file_name.clone(),
                        thumbnail,
                        model_version: version,
                        probabilities: class_names
                            .iter()
                            .cloned()
                            .zip(probabilities.clone())
                            .collect(),
                    });
                match prediction {
                    _ if live => self.live_classified(job, prediction),
                    Some(prediction) => self.predictions.insert(0, prediction),
                    None => {
                        return vec![Effect::Log(format!(
                            "{file_name}: {} probabilities for {} classes, or no thumbnail",
                            probabilities.len(),
                            class_names.len()
                        ))];
                    }
                }
                Vec::new()
            }
            Event::PhotoFailed { job, error } => {
                let log = photo_failure(job, &error);
                match live {
                    true => self.live_classified(job, None),
                    false => self.notify(Notice::PhotoNotClassified { file_name, error }),
                }
                vec![log]
            }
            other => unanswered(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{Effects, files, finish, report, sent_jobs, trainable};
    use crate::{Action, Effect, Notice, TrainingState};
    use headstart_core::protocol::Attachment;
    use headstart_core::protocol::Event;
    use headstart_core::training::ModelVersion;

    #[test]
    fn each_run_gets_a_new_version_and_predictions_keep_the_model_that_made_them() {
        let (mut state, a) = trainable();
        let refused: Effects = state.apply(Action::Classify(files(&["early.png"])));
        assert!(refused.is_empty());
        assert_eq!(state.notices.last(), Some(&Notice::TrainFirst));

        let effects = state.apply(Action::Train);
        state.apply::<&str>(Action::Worker(
            Event::Epoch {
                job: sent_jobs(&effects)[0],
                report: report(1),
            },
            Attachment::Nothing,
        ));
        assert!(matches!(
            state.training,
            TrainingState::Running { ref history, .. } if history.len() == 1
        ));
        assert_eq!(finish(&mut state, &effects), ModelVersion(1));
        assert_eq!(state.training.name(), "done");
        assert!(!state.classes_changed_since_training());

        // A batch is classified by model 1 while the student renames a class and retrains.
        let first_batch = sent_jobs(&state.apply(Action::Classify(files(&["x.png", "y.png"]))));
        assert_eq!(state.photos_being_classified(), 2);
        state.apply::<&str>(Action::RenameClass(a, "Cats".into()));
        assert!(state.classes_changed_since_training());
        assert_eq!(
            state.training_blocker(),
            None,
            "classifying does not block training"
        );
        let retrain = state.apply(Action::Train);
        assert_eq!(finish(&mut state, &retrain), ModelVersion(2));
        let second_batch = sent_jobs(&state.apply(Action::Classify(files(&["z.png"]))));
        for job in first_batch.iter().chain(&second_batch) {
            state.apply::<&str>(Action::Worker(
                Event::Classified {
                    job: *job,
                    probabilities: vec![0.25, 0.75],
                },
                Attachment::Decoded {
                    thumbnail: "thumb".into(),
                    input: "input".into(),
                },
            ));
        }
        let labelled: Vec<(u32, &str)> = state
            .predictions
            .iter()
            .map(|p| (p.model_version.0, p.probabilities[0].0.as_str()))
            .collect();
        assert_eq!(labelled, vec![(2, "Cats"), (1, "Class 1"), (1, "Class 1")]);
        assert_eq!(state.predictions[0].top(), ("Class 2", 0.75));
        assert_eq!(state.photos_being_classified(), 0);
        state.apply::<&str>(Action::ClearPredictions);
        assert!(state.predictions.is_empty());
    }

    #[test]
    fn a_prediction_that_does_not_fit_its_model_is_logged_not_shown() {
        let (mut state, _) = trainable();
        let train = state.apply(Action::Train);
        finish(&mut state, &train);
        let jobs = sent_jobs(&state.apply(Action::Classify(files(&["x.png"]))));
        let effects: Effects = state.apply(Action::Worker(
            Event::Classified {
                job: jobs[0],
                probabilities: vec![1.0],
            },
            Attachment::Decoded {
                thumbnail: "thumb".into(),
                input: "input".into(),
            },
        ));
        assert!(matches!(effects[0], Effect::Log(_)));
        assert!(state.predictions.is_empty());
    }
}
