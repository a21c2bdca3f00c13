//! The model in use: exported and imported as a model file, and what it says of its
//! validation photos (the confusion matrix, the photos of a cell, its confident mistakes).

use crate::jobs::{PendingJob, unanswered};
use crate::{AppState, ClassEntry, Effect, ModelTest, Notice, Photo, PhotoId};
use headstart_core::evaluation::ConfusionMatrix;
use headstart_core::model_file;
use headstart_core::protocol::{Event, Request};
use headstart_core::training::{ModelVersion, TrainedModel, ValidationPrediction};
use std::collections::HashMap;
use std::rc::Rc;

/// A validation photo and what the model said of it (by class index into the model's classes).
#[derive(Debug, PartialEq)]
pub struct ValidationPhoto<'a, T> {
    /// The photo.
    pub photo: &'a Photo<T>,
    /// The class it was in when the model trained.
    pub truth: usize,
    /// The class the model chose.
    pub predicted: usize,
    /// The probability it gave that class.
    pub confidence: f32,
    /// Whether the photo has left that class since (moved, or its class renamed).
    pub moved: bool,
}

impl<T: Clone> AppState<T> {
    /// "Export model": the model in use as a model file to download.
    pub(crate) fn export_model<F>(&self) -> Option<Effect<F, T>> {
        let model = self.model.as_ref()?;
        Some(Effect::Download {
            file_name: format!("headstart-model-{}.hsm", model.version),
            bytes: model_file::write(model),
        })
    }

    /// Makes a valid model file the model in use, with the next version number; anything
    /// else leaves the model as it was and says why.
    /// A model file's network layers are checked by a worker before the model is used;
    /// anything else is used at once.
    pub(crate) fn import_model<F>(
        &mut self,
        file_name: String,
        bytes: &[u8],
    ) -> Option<Effect<F, T>> {
        match model_file::read(bytes, ModelVersion(0)) {
            Ok(model) if model.weights.needs_model_input() => {
                let model = Box::new(model);
                let pending = PendingJob::ImportCheck {
                    file_name,
                    model: model.clone(),
                };
                let job = self.start_job(pending);
                Some(Effect::Send(Request::CheckModel { job, model }, None))
            }
            Ok(model) => {
                self.use_imported(file_name, model);
                None
            }
            Err(error) => {
                self.notify(Notice::ModelNotImported { file_name, error });
                None
            }
        }
    }

    /// Makes an imported model the model in use, with the next version number.
    pub(crate) fn use_imported(&mut self, file_name: String, mut model: TrainedModel) {
        self.runs_started += 1;
        let version = ModelVersion(self.runs_started);
        model.version = version;
        self.model = Some(Rc::new(model));
        self.model_examples = Vec::new();
        self.model_test = ModelTest {
            photos: Vec::new(),
            revision: self.revision,
        };
        self.shown_cell = None;
        self.notify(Notice::ModelImported { version, file_name });
    }

    /// A worker checked an imported model's network layers.
    pub(crate) fn on_import_check_event<F>(
        &mut self,
        file_name: String,
        model: TrainedModel,
        event: Event,
    ) -> Vec<Effect<F, T>> {
        let Event::ModelChecked { problem, .. } = event else {
            return unanswered(&event);
        };
        match problem {
            None => self.use_imported(file_name, model),
            Some(detail) => self.notify(Notice::ModelNotImported {
                file_name,
                error: model_file::ModelFileError::Damaged(detail),
            }),
        }
        Vec::new()
    }

    /// The model's confusion matrix on its validation photos.
    pub fn confusion(&self) -> Option<ConfusionMatrix> {
        let model = self.model.as_ref()?;
        Some(ConfusionMatrix::new(
            model.class_names.len(),
            &model.validation,
        ))
    }

    /// The validation photos of a confusion-matrix cell, with the probability the model gave
    /// the predicted class, most confident first. Photos deleted since training are left out.
    pub fn cell_photos(&self, truth: usize, predicted: usize) -> Vec<(&Photo<T>, f32)> {
        self.validation_photos(|p| p.label == truth && p.predicted() == predicted)
            .into_iter()
            .map(|shown| (shown.photo, shown.confidence))
            .collect()
    }

    /// The validation photos the model got wrong and that are still in the class it learned
    /// them under, most confident first: a confident mistake often means a photo in the wrong
    /// class.
    pub fn mistakes(&self) -> Vec<ValidationPhoto<'_, T>> {
        let mut mistakes = self.validation_photos(|p| p.label != p.predicted());
        mistakes.retain(|mistake| !mistake.moved);
        mistakes
    }

    /// The model's validation photos that `keep` selects, with what it said, most confident
    /// first. Photos deleted since training are left out.
    fn validation_photos(
        &self,
        keep: impl Fn(&ValidationPrediction) -> bool,
    ) -> Vec<ValidationPhoto<'_, T>> {
        let Some(model) = &self.model else {
            return Vec::new();
        };
        // One pass over the photos, not one per validation example: the view asks on every
        // render.
        let by_id: HashMap<PhotoId, (&ClassEntry<T>, &Photo<T>)> = self
            .classes
            .iter()
            .flat_map(|class| {
                class
                    .photos
                    .iter()
                    .map(move |photo| (photo.id, (class, photo)))
            })
            .collect();
        let mut photos: Vec<ValidationPhoto<'_, T>> = model
            .validation
            .iter()
            .filter(|p| keep(p))
            .filter_map(|p| {
                let (class, photo) = *by_id.get(self.model_examples.get(p.example)?)?;
                let predicted = p.predicted();
                Some(ValidationPhoto {
                    photo,
                    truth: p.label,
                    predicted,
                    confidence: *p.probabilities.get(predicted)?,
                    moved: model.class_names.get(p.label).map(String::as_str)
                        != Some(class.label()),
                })
            })
            .collect();
        photos.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        photos
    }

    /// Whether the classes changed since the model was trained (names, or classes with photos).
    /// (Compares names only: the view asks on every render, and copying every embedding each
    /// time would grow with the dataset.)
    pub fn classes_changed_since_training(&self) -> bool {
        self.model.as_ref().is_some_and(|model| {
            let trained = self
                .classes
                .iter()
                .filter(|c| !c.photos.is_empty())
                .map(ClassEntry::label);
            !trained.eq(model.class_names.iter().map(String::as_str))
        })
    }

    /// Shows the photos of a confusion-matrix cell (`(true class, predicted class)`); the same
    /// cell again hides them.
    pub(crate) fn show_cell(&mut self, truth: usize, predicted: usize) {
        let cell = Some((truth, predicted));
        self.shown_cell = if self.shown_cell == cell { None } else { cell };
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{
        Effects, State, files, finish, network_model, ready, report, trainable,
    };
    use crate::{Action, Effect, Notice, PhotoId, Way};
    use headstart_core::embedding::EMBEDDING_DIM;
    use headstart_core::model_file;
    use headstart_core::protocol::Attachment;
    use headstart_core::protocol::{Event, JobId, NetworkTraining, Request};
    use headstart_core::run::RunSpec;
    use headstart_core::training::{
        HeadWeights, ModelVersion, ModelWeights, NetworkWeights, SplitSizes, TrainedModel,
        TrainingSettings, ValidationPrediction,
    };

    #[test]
    fn confusion_cells_show_the_photos_that_landed_there() {
        let (mut state, _) = trainable();
        let photo =
            |state: &State, class: usize, index: usize| state.classes[class].photos[index].id;
        let misread = photo(&state, 0, 1);
        let effects: Effects = state.apply(Action::Train);
        let Some(Effect::Send(
            Request::Train {
                job,
                run: RunSpec { class_names, .. },
                ..
            },
            None,
        )) = effects.first()
        else {
            panic!("no training request");
        };
        let validation = vec![
            ValidationPrediction {
                example: 1,
                label: 0,
                probabilities: vec![0.3, 0.7],
            },
            ValidationPrediction {
                example: 3,
                label: 1,
                probabilities: vec![0.1, 0.9],
            },
        ];
        let model = TrainedModel {
            version: ModelVersion(1),
            class_names: class_names.clone(),
            settings: TrainingSettings::default(),
            split: SplitSizes {
                train: 2,
                views: 0,
                validation: 2,
            },
            history: vec![report(1)],
            stopped_early: false,
            restored_epoch: None,
            validation,
            weights: ModelWeights::Head(HeadWeights {
                weight: vec![0.0; EMBEDDING_DIM * 2],
                bias: vec![0.0; 2],
            }),
            trainable_params: (EMBEDDING_DIM + 1) * 2,
            training_ms: 1.0,
            fold_accuracies: Vec::new(),
        };
        let job = *job;
        state.apply::<&str>(Action::Worker(
            Event::Trained {
                job,
                model: Box::new(model),
            },
            Attachment::Nothing,
        ));
        let matrix = state.confusion().unwrap();
        assert_eq!(matrix.total(), 2);
        assert_eq!((matrix.count(0, 1), matrix.count(1, 1)), (1, 1));
        let shown: Vec<(PhotoId, f32)> = state
            .cell_photos(0, 1)
            .iter()
            .map(|(p, probability)| (p.id, *probability))
            .collect();
        assert_eq!(shown, vec![(misread, 0.7)]);
        assert!(state.cell_photos(0, 0).is_empty());

        state.apply::<&str>(Action::ShowCell(0, 1));
        assert_eq!(state.shown_cell, Some((0, 1)));
        state.apply::<&str>(Action::ShowCell(0, 1));
        assert_eq!(state.shown_cell, None);
        let mistakes = state.mistakes();
        assert_eq!(mistakes.len(), 1);
        assert_eq!(
            (
                mistakes[0].photo.id,
                mistakes[0].truth,
                mistakes[0].predicted
            ),
            (misread, 0, 1)
        );

        // Fixing the label: the photo moves, embedding and all, to the class the model chose.
        let (from, to) = (state.classes[0].id, state.classes[1].id);
        state.apply::<&str>(Action::MovePhoto(misread, to));
        assert!(
            state.mistakes().is_empty(),
            "a moved photo is no longer listed"
        );
        assert_eq!(state.class(from).unwrap().photos.len(), 1);
        assert!(
            state
                .class(to)
                .unwrap()
                .photos
                .iter()
                .any(|p| p.id == misread)
        );
        let photos: usize = state.classes.iter().map(|c| c.photos.len()).sum();
        assert_eq!(photos, 4);
        state.apply::<&str>(Action::DeletePhoto(misread));
        assert!(
            state.cell_photos(0, 1).is_empty(),
            "a deleted photo is not shown"
        );
    }

    #[test]
    fn an_exported_model_imports_as_the_next_model_and_a_bad_file_changes_nothing() {
        let (mut state, _) = trainable();
        let nothing: Effects = state.apply(Action::ExportModel);
        assert!(nothing.is_empty(), "no model to export yet");
        let effects: Effects = state.apply(Action::Train);
        finish(&mut state, &effects);
        let exported: Effects = state.apply(Action::ExportModel);
        let [Effect::Download { file_name, bytes }] = exported.as_slice() else {
            panic!("no download in {exported:?}");
        };
        assert_eq!(file_name, "headstart-model-1.hsm");
        let before = state.model.clone().unwrap();

        let mut damaged = bytes.clone();
        damaged.truncate(bytes.len() / 2);
        state.apply::<&str>(Action::ImportModel("half.hsm".into(), damaged));
        assert_eq!(state.model.as_ref(), Some(&before));
        assert!(matches!(
            state.notices.last(),
            Some(Notice::ModelNotImported { file_name, .. }) if file_name == "half.hsm"
        ));

        state.apply::<&str>(Action::ImportModel("model.hsm".into(), bytes.clone()));
        let imported = state.model.clone().unwrap();
        assert_eq!(imported.version, ModelVersion(2));
        assert_eq!(imported.weights, before.weights);
        assert_eq!(imported.class_names, before.class_names);
        assert!(
            imported.validation.is_empty(),
            "its validation photos belong to another page"
        );
        // It classifies, and the next run is model 3.
        let classify: Effects = state.apply(Action::Classify(files(&["new.png"])));
        assert!(
            matches!(classify.as_slice(), [Effect::Send(Request::Classify { version, model: Some(model), .. }, _)] if *version == ModelVersion(2) && model.version == *version)
        );
        let next: Effects = state.apply(Action::Train);
        assert_eq!(finish(&mut state, &next), ModelVersion(3));
    }

    #[test]
    fn an_imported_network_model_is_used_only_once_a_worker_found_its_layers_fit() {
        let mut state = ready();
        // Its classifier fits its two classes; the rest only a worker can check.
        let mut model = network_model(JobId(1), 1_491_203);
        let classifier = |name: &str, shape: Vec<usize>| headstart_core::training::NamedTensor {
            name: format!("classifier.linear.{name}"),
            values: vec![0.0; shape.iter().product()],
            shape,
        };
        model.weights = ModelWeights::Network(NetworkWeights {
            training: NetworkTraining::FineTune,
            tensors: std::sync::Arc::new(vec![
                classifier("bias", vec![2]),
                classifier("weight", vec![EMBEDDING_DIM, 2]),
            ]),
        });
        let file = model_file::write(&model);
        let check = |state: &mut State| -> JobId {
            let effects: Effects =
                state.apply(Action::ImportModel("tuned.hsm".into(), file.clone()));
            let [Effect::Send(Request::CheckModel { job, model }, None)] = effects.as_slice()
            else {
                panic!("no check in {effects:?}");
            };
            assert_eq!(model.weights.way(), Way::Finetune);
            assert!(state.model.is_none(), "not in use before the check");
            *job
        };
        let job = check(&mut state);
        let problem = Some("blocks.0.expand.conv.weight is [1], not [1152, 192, 1, 1]".into());
        state.apply::<&str>(Action::Worker(
            Event::ModelChecked { job, problem },
            Attachment::Nothing,
        ));
        assert!(state.model.is_none());
        assert!(matches!(
            state.notices.last(),
            Some(Notice::ModelNotImported {
                error: model_file::ModelFileError::Damaged(_),
                ..
            })
        ));
        let job = check(&mut state);
        state.apply::<&str>(Action::Worker(
            Event::ModelChecked { job, problem: None },
            Attachment::Nothing,
        ));
        let model = state.model.as_ref().expect("in use once checked");
        assert_eq!(
            (model.version, model.weights.way()),
            (ModelVersion(1), Way::Finetune)
        );
    }
}
