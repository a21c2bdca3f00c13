//! The page's rules as plain data: the state the page shows, the [`Action`]s that change it
//! and the [`Effect`]s the view must carry out (messages to the model workers, console logs).
//! No browser types and no burn: the view (`headstart-web`) renders [`AppState`], turns clicks,
//! uploads and worker events into actions, and carries out what [`AppState::apply`] returns, so
//! every rule below is tested natively.
//!
//! Two things stay opaque here: a photo file the student gave (`F`, a browser `Blob` in the
//! page) and an image a worker made (`T`, a self-revoking object URL of its blob in the page):
//! a thumbnail, a photo's model input (the exact 224x224 image the backbone sees) or an
//! augmented view. The state holds images only as long as something needs them and hands files
//! straight back in effects.

mod classes;
mod classify;
mod comparison;
mod final_test;
mod jobs;
mod live;
mod model;
mod notice;
mod preview;
mod project_file;
mod run_plan;
mod samples;
mod saved;
#[cfg(test)]
mod test_support;
mod training;
mod workers;

pub use classes::{
    ClassEntry, ClassId, MAX_CLASS_NAME_CHARS, Photo, PhotoId, SplitCounts, ViewKey,
};
pub use classify::Prediction;
pub use comparison::{Comparison, WayResult, WayState};
pub use final_test::FinalTest;
use final_test::ModelTest;
pub use live::LiveClassification;
pub use model::ValidationPhoto;
pub use notice::{Notice, training_failure};
pub use preview::{AugmentPreview, PREVIEW_VIEWS, PreprocessingExperiment};
pub use project_file::{
    ClassLayout, FilePart, ImportChoice, ImportedPhoto, ImportedProject, PhotoLayout,
    ProjectFileError, ProjectFileOptions, ProjectLayout, embeddings_of, header_length, read_layout,
};
pub use project_file::{FILE_NAME as PROJECT_FILE_NAME, MAX_HEADER_BYTES};
pub use samples::{SampleClass, parse_sample_index};
pub use saved::{
    MemoryStorage, ProjectStorage, SaveChange, SavedClass, SavedModelRecord, SavedPhoto,
    SavedProject, SavedWork, StorageAccess, StorageState,
};
pub use training::{MIN_PHOTOS_PER_CLASS, RunPurpose, TrainingState};
pub use workers::{MAX_WORKERS, ModelStatus, worker_count};

use headstart_core::preprocess::Normalization;
use headstart_core::protocol::{ComputePath, Event, JobId, Request};
pub use headstart_core::training::Way;
use headstart_core::training::{TrainedModel, TrainingSettings};
use jobs::PendingJob;
use std::collections::BTreeMap;

/// Most notices kept; older ones scroll away.
pub const MAX_NOTICES: usize = 20;

/// Everything the student can do, and everything the workers report.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<F, T> {
    /// Weight bytes arrived.
    ModelProgress {
        /// Bytes received.
        received: u64,
        /// Bytes expected.
        total: Option<u64>,
    },
    /// The worker pool is up.
    WorkersStarted {
        /// Their compute path.
        path: ComputePath,
        /// Why that path.
        reason: String,
        /// How many embed.
        workers: usize,
    },
    /// The model could not start.
    ModelFailed(String),
    /// Adds an empty class.
    AddClass,
    /// The class's name input changed.
    RenameClass(ClassId, String),
    /// Deletes a class and its photos.
    DeleteClass(ClassId),
    /// Removes one photo.
    DeletePhoto(PhotoId),
    /// Moves a photo to another class (fixing a wrong label); it keeps its embedding.
    MovePhoto(PhotoId, ClassId),
    /// Photo files for a class, as `(file name, file)`.
    AddPhotos(ClassId, Vec<(String, F)>),
    /// Sample photos for the class of that name (made if needed).
    AddSamples(String, Vec<(String, F)>),
    /// The sample photos could not be fetched (detail for the console).
    SamplesFailed(String),
    /// A training setting changed: the next run uses `settings`, kept within
    /// [`TrainingSettings::within_limits`].
    ChangeSettings(TrainingSettings),
    /// "Reset to defaults".
    ResetSettings,
    /// "Show other views" in the augmentation preview.
    PreviewAugmentation,
    /// The way the Train button trains the model in use.
    ChooseTrainWay(Way),
    /// The Train button.
    Train,
    /// The wrong-preprocessing switch: `Some` runs the experiment with that normalization,
    /// `None` hides its result.
    WrongPreprocessing(Option<Normalization>),
    /// Shows what the model sees of a photo (the same photo again hides it).
    InspectPhoto(PhotoId),
    /// The Final test button: the model in use and every way of the comparison, on the test
    /// photos.
    FinalTest,
    /// The student's prediction: this way at this place (0 = best). A way already at another
    /// place swaps with the one that was here.
    PredictPlace(usize, Way),
    /// The Compare button: every way on the same split.
    RunComparison,
    /// "Export model": the model in use as a model file.
    ExportModel,
    /// A model file chosen to import, as `(file name, bytes)`.
    ImportModel(String, Vec<u8>),
    /// The Stop button.
    StopTraining,
    /// A confusion-matrix cell was chosen (`(true class, predicted class)`); the same again hides it.
    ShowCell(usize, usize),
    /// Photo files to classify with the current model.
    Classify(Vec<(String, F)>),
    /// Removes all predictions.
    ClearPredictions,
    /// Live classification of the camera on or off.
    Live(bool),
    /// A frame of the camera for live classification (dropped unless one is wanted, see
    /// [`AppState::wants_live_frame`]).
    LiveFrame(F),
    /// The camera could not start (detail for the console).
    CameraFailed(String),
    /// A worker's event, with the images it carries: for a photo embedded or classified, its
    /// thumbnail then its model input; for a preview, the views.
    Worker(Event, Vec<T>),
    /// The page's storage opened: what it held, and whether this page may save.
    Restore {
        /// The saved work, if any.
        work: Option<Box<SavedWork<T>>>,
        /// Whether this page saves.
        access: StorageAccess,
    },
    /// "New project" (after the student confirmed): everything goes, saved work included.
    NewProject,
    /// A project file was opened and read.
    OpenProject(Box<ImportedProject<T>>),
    /// A file could not be opened as a project (its name, and why).
    ProjectFileRefused(String, ProjectFileError),
    /// The answer to "replace or merge?" for the project file waiting.
    ResolveImport(ImportChoice),
    /// A save failed (detail for the console); `quota` when storage is full.
    SaveFailed {
        /// What failed.
        detail: String,
        /// Whether the browser's storage is full.
        quota: bool,
    },
}

/// What the view must do after an action.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect<F, T> {
    /// Send a request to the workers, with the photo file it is about.
    Send(Request, Option<F>),
    /// Send a request to the workers with a photo's model input (an image of the state's).
    SendWithInput(Request, T),
    /// Send a request to the workers with several photos' model inputs, in order.
    SendWithInputs(Request, Vec<T>),
    /// Offer a file to save.
    Download {
        /// Its suggested name.
        file_name: String,
        /// Its contents.
        bytes: Vec<u8>,
    },
    /// Tell a developer something in the console.
    Log(String),
}

/// Everything the page shows, with `T` the thumbnail handle.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState<T> {
    /// Loading the model.
    pub model_status: ModelStatus,
    /// The student's classes.
    pub classes: Vec<ClassEntry<T>>,
    /// The settings the next training run uses.
    pub settings: TrainingSettings,
    /// The way the Train button trains the model in use.
    pub train_way: Way,
    /// The training run.
    pub training: TrainingState,
    /// The model predictions use: the last run's that produced one.
    pub model: Option<TrainedModel>,
    /// The photo behind each of [`Self::model`]'s examples, by example index.
    model_examples: Vec<PhotoId>,
    /// What [`Self::model`] was trained on, for its final test.
    model_test: ModelTest,
    /// The final test's result.
    pub final_test: Option<FinalTest>,
    /// The student's predicted place of each way in the comparison, best first.
    pub predicted_places: Vec<Option<Way>>,
    /// The comparison of ways to train.
    pub comparison: Option<Comparison>,
    /// Final tests run so far (the test photos should be used once).
    pub final_tests_run: u32,
    /// Counts every change to the classes or photos (what makes results stale).
    revision: u32,
    /// The confusion-matrix cell whose photos are shown: `(true class, predicted class)`.
    pub shown_cell: Option<(usize, usize)>,
    /// The photo whose preprocessing is shown.
    pub inspected: Option<PhotoId>,
    /// The augmentation preview.
    pub augment_preview: Option<AugmentPreview<T>>,
    /// The wrong-preprocessing experiment's result.
    pub experiment: Option<PreprocessingExperiment>,
    /// Classified photos, newest first.
    pub predictions: Vec<Prediction<T>>,
    /// Messages for the student, newest last.
    pub notices: Vec<Notice>,
    /// Whether the work is being saved.
    pub storage: StorageState,
    /// A project file waiting for the student to choose replace or merge.
    pub pending_import: Option<Box<ImportedProject<T>>>,
    /// Live classification of the camera, while on.
    pub live: Option<LiveClassification<T>>,
    /// What was last saved.
    saved: saved::SavedMarks,
    /// Work handed to the workers, by job, until it is answered.
    pending: BTreeMap<JobId, PendingJob>,
    /// Training runs started; run N makes model version N.
    runs_started: u32,
    next_id: u32,
}

impl<T: Clone> Default for AppState<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> AppState<T> {
    /// Two empty classes, as a student first sees the page, and the model loading.
    pub fn new() -> Self {
        let mut state = Self {
            model_status: ModelStatus::Loading {
                received: 0,
                total: None,
            },
            classes: Vec::new(),
            settings: TrainingSettings::default(),
            train_way: Way::Frozen,
            training: TrainingState::Idle,
            model: None,
            model_examples: Vec::new(),
            model_test: ModelTest::default(),
            final_test: None,
            predicted_places: vec![None; Way::ALL.len()],
            comparison: None,
            final_tests_run: 0,
            revision: 0,
            shown_cell: None,
            inspected: None,
            augment_preview: None,
            experiment: None,
            predictions: Vec::new(),
            notices: Vec::new(),
            storage: StorageState::Opening,
            pending_import: None,
            live: None,
            saved: saved::SavedMarks::default(),
            pending: BTreeMap::new(),
            runs_started: 0,
            next_id: 0,
        };
        state.add_class();
        state.add_class();
        state
    }

    /// Applies one action and returns what the view must carry out, in order. What storage
    /// must do comes separately, from [`Self::unsaved_changes`].
    pub fn apply<F>(&mut self, action: Action<F, T>) -> Vec<Effect<F, T>> {
        match action {
            Action::ModelProgress { received, total } => {
                self.model_status = ModelStatus::Loading { received, total };
            }
            Action::WorkersStarted {
                path,
                reason,
                workers,
            } => self.workers_started(path, reason, workers),
            Action::ModelFailed(detail) => return self.model_failed(detail),
            Action::AddClass => {
                self.add_class();
            }
            Action::RenameClass(id, name) => self.rename_class(id, &name),
            Action::DeleteClass(id) => self.delete_class(id),
            Action::DeletePhoto(id) => self.delete_photo(id),
            Action::MovePhoto(photo, to) => self.move_photo(photo, to),
            Action::AddPhotos(class, files) => return self.add_photos(class, files),
            Action::AddSamples(name, files) => return self.add_samples(&name, files),
            Action::SamplesFailed(detail) => return self.samples_failed(detail),
            Action::ChangeSettings(settings) => {
                return self.change_settings(settings.within_limits());
            }
            Action::ResetSettings => return self.change_settings(TrainingSettings::default()),
            Action::PreviewAugmentation => return self.show_other_views(),
            Action::ChooseTrainWay(way) => self.choose_train_way(way),
            Action::Train => return self.train(RunPurpose::Model),
            Action::WrongPreprocessing(normalization) => {
                return self.wrong_preprocessing(normalization);
            }
            Action::FinalTest => return self.final_test(),
            Action::PredictPlace(place, way) => self.predict_place(place, way),
            Action::RunComparison => return self.run_comparison(),
            Action::ExportModel => return self.export_model().into_iter().collect(),
            Action::ImportModel(file_name, bytes) => {
                return self.import_model(file_name, &bytes).into_iter().collect();
            }
            Action::InspectPhoto(photo) => return self.inspect_photo(photo),
            Action::StopTraining => return self.stop_training(),
            Action::ShowCell(truth, predicted) => self.show_cell(truth, predicted),
            Action::Classify(files) => return self.classify(files),
            Action::ClearPredictions => self.predictions.clear(),
            Action::Live(on) => self.set_live(on),
            Action::LiveFrame(frame) => return self.live_frame(frame),
            Action::CameraFailed(detail) => {
                self.notify(Notice::CameraUnavailable);
                self.live = None;
                return vec![Effect::Log(format!("camera: {detail}"))];
            }
            Action::Worker(event, images) => return self.on_event(event, images),
            Action::Restore { work, access } => return self.restore(work, access),
            Action::NewProject => return self.new_project(),
            Action::OpenProject(project) => return self.import_project(*project),
            Action::ProjectFileRefused(file_name, error) => {
                self.notify(Notice::ProjectNotOpened { file_name, error })
            }
            Action::ResolveImport(choice) => return self.resolve_import(choice),
            Action::SaveFailed { detail, quota } => return self.save_failed(detail, quota),
        }
        Vec::new()
    }

    fn notify(&mut self, notice: Notice) {
        self.notices.push(notice);
        let excess = self.notices.len().saturating_sub(MAX_NOTICES);
        self.notices.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use headstart_core::embedding::{EMBEDDING_DIM, Embedding};
    use headstart_core::training::ValidationPrediction;

    #[test]
    fn a_reload_restores_classes_photos_settings_and_model_without_embedding_again() {
        let storage = MemoryStorage::default();
        let mut state = State::new();
        assert!(
            save(&mut state, &storage).is_empty(),
            "nothing is saved before storage opened"
        );
        open(&mut state, None, StorageAccess::Granted);
        let (a, b) = (state.classes[0].id, state.classes[1].id);
        state.apply::<&str>(Action::RenameClass(a, "cats".into()));
        with_photos(&mut state, a, 3);
        with_photos(&mut state, b, 3);
        let mut settings = state.settings.clone();
        settings.epochs = 7;
        state.apply::<&str>(Action::ChangeSettings(settings));
        let effects: Effects = state.apply(Action::Train);
        finish(&mut state, &effects);
        let validation = ValidationPrediction {
            example: 1,
            label: 0,
            probabilities: vec![0.25, 0.75],
        };
        state.model.as_mut().unwrap().validation = vec![validation];
        let first = save(&mut state, &storage);
        assert!(
            matches!(first.as_slice(), [SaveChange::PutPhotos(p), SaveChange::Model(Some(_)), SaveChange::Project(_)] if p.len() == 6)
        );
        assert!(
            save(&mut state, &storage).is_empty(),
            "only changes are saved"
        );
        let moved = state.classes[0].photos[0].id;
        state.apply::<&str>(Action::MovePhoto(moved, b));
        assert!(
            matches!(
                save(&mut state, &storage).as_slice(),
                [SaveChange::Project(_)]
            ),
            "a move changes the project's record, not the photo"
        );

        let mut restored = reopened(&storage, StorageAccess::Granted);
        assert_eq!(restored.classes, state.classes);
        assert_eq!(restored.settings.epochs, 7);
        assert_eq!(
            restored.model, state.model,
            "with its validation predictions"
        );
        assert!(matches!(
            restored.notices.last(),
            Some(Notice::Restored {
                photos: 6,
                model: true
            })
        ));
        assert!(save(&mut restored, &storage).is_empty(), "nothing changed");
        // Nothing is embedded again, and the restored model classifies and can be tested.
        assert_eq!(restored.photos_being_added(), 0);
        assert!(restored.final_test_blocker().is_none());
        let classify: Effects = restored.apply(Action::Classify(files(&["new.png"])));
        assert!(matches!(
            classify.as_slice(),
            [Effect::Send(Request::Classify { .. }, _)]
        ));
        assert_new_photos_take_new_ids(&mut restored);
    }

    #[test]
    fn deleted_photos_and_classes_leave_storage_and_a_new_project_clears_it() {
        let storage = MemoryStorage::default();
        let (mut state, a) = trainable();
        save(&mut state, &storage);
        assert_eq!(storage.photos_held(), 4);
        let gone = state.classes[1].photos[0].id;
        state.apply::<&str>(Action::DeletePhoto(gone));
        assert!(
            matches!(save(&mut state, &storage).as_slice(), [SaveChange::DeletePhotos(ids), SaveChange::Project(_)] if ids == &vec![gone])
        );
        state.apply::<&str>(Action::DeleteClass(a));
        save(&mut state, &storage);
        assert_eq!(storage.photos_held(), 1);

        state.apply::<&str>(Action::NewProject);
        let changes = save(&mut state, &storage);
        assert!(matches!(changes.first(), Some(SaveChange::Clear)));
        assert_eq!(storage.photos_held(), 0);
        let restored = reopened(&storage, StorageAccess::Granted);
        assert_eq!(restored.classes.len(), 2);
        assert!(restored.classes.iter().all(|c| c.photos.is_empty()));
        assert!(restored.model.is_none());
    }

    #[test]
    fn a_second_tab_shows_the_saved_work_but_never_writes_it() {
        let storage = MemoryStorage::default();
        let (mut state, a) = trainable();
        save(&mut state, &storage);
        let mut second = reopened(&storage, StorageAccess::HeldByAnotherTab);
        assert_eq!(second.classes, state.classes);
        assert_eq!(second.storage, StorageState::HeldByAnotherTab);
        assert!(second.notices.contains(&Notice::OpenInAnotherTab));
        second.apply::<&str>(Action::DeleteClass(a));
        second.apply::<&str>(Action::NewProject);
        assert!(save(&mut second, &storage).is_empty());
        assert_eq!(
            reopened(&storage, StorageAccess::Granted).classes,
            state.classes
        );
    }

    #[test]
    fn a_failed_save_is_said_once_and_the_next_change_saves_everything_again() {
        let storage = MemoryStorage::default();
        let (mut state, a) = trainable();
        let lost = state.unsaved_changes();
        assert!(!lost.is_empty());
        let failure = || Action::SaveFailed {
            detail: "QuotaExceededError".into(),
            quota: true,
        };
        state.apply::<&str>(failure());
        state.apply::<&str>(failure());
        let said = state
            .notices
            .iter()
            .filter(|n| **n == Notice::NotSaved { quota: true });
        assert_eq!(said.count(), 1);
        state.apply::<&str>(Action::RenameClass(a, "dogs".into()));
        save(&mut state, &storage);
        assert_eq!(storage.photos_held(), 4);
        assert_eq!(
            reopened(&storage, StorageAccess::Granted).classes,
            state.classes
        );
    }

    /// The project file's bytes, as the page joins its parts (images here are their text).
    fn project_file_bytes(state: &State, options: ProjectFileOptions) -> Vec<u8> {
        let parts = state.project_file(options, |image| image.len() as u64);
        parts
            .into_iter()
            .flat_map(|part| match part {
                FilePart::Bytes(bytes) => bytes,
                FilePart::Image(text) => text.into_bytes(),
            })
            .collect()
    }

    /// Opens project file bytes as the page does: header, layout, then the parts it names.
    fn open_project(bytes: &[u8]) -> Result<ImportedProject<String>, ProjectFileError> {
        let length = header_length(bytes, bytes.len() as u64)?;
        let header = &bytes[8..8 + length as usize];
        let layout = read_layout(header, bytes.len() as u64)?;
        let part = |range: &std::ops::Range<u64>| &bytes[range.start as usize..range.end as usize];
        let text = |range| String::from_utf8(part(range).to_vec()).unwrap();
        let mut embeddings = match &layout.embeddings {
            Some(range) => Some(embeddings_of(part(range), layout.photos())?.into_iter()),
            None => None,
        };
        Ok(ImportedProject {
            file_name: "class.hsp".into(),
            classes: (layout.classes.iter())
                .map(|class| {
                    let photos = (class.photos.iter())
                        .map(|photo| ImportedPhoto {
                            file_name: photo.file_name.clone(),
                            thumbnail: text(&photo.thumbnail),
                            input: text(&photo.input),
                            embedding: embeddings.as_mut().and_then(Iterator::next),
                        })
                        .collect();
                    (class.name.clone(), photos)
                })
                .collect(),
            settings: layout.settings.clone(),
            train_way: layout.train_way,
            model_file: layout.model.as_ref().map(|range| part(range).to_vec()),
        })
    }

    /// A trained project with named classes, as a teacher would export it.
    fn teachers_project() -> State {
        let (mut state, a) = trainable();
        let b = state.classes[1].id;
        state.apply::<&str>(Action::RenameClass(a, "cats".into()));
        state.apply::<&str>(Action::RenameClass(b, "dogs".into()));
        with_photos(&mut state, b, 1);
        let mut settings = state.settings.clone();
        settings.epochs = 9;
        state.apply::<&str>(Action::ChangeSettings(settings));
        let effects: Effects = state.apply(Action::Train);
        finish(&mut state, &effects);
        state
    }

    /// A photo as a project file carries it: file name, thumbnail, model input, embedding.
    type PhotoContents = (String, String, String, Embedding);

    /// Each class's name and photos.
    fn photo_summary(state: &State) -> Vec<(String, Vec<PhotoContents>)> {
        (state.classes.iter())
            .map(|c| {
                let photos = (c.photos.iter())
                    .map(|p| {
                        (
                            p.file_name.clone(),
                            p.thumbnail.clone(),
                            p.input.clone(),
                            p.embedding.clone(),
                        )
                    })
                    .collect();
                (c.name.clone(), photos)
            })
            .collect()
    }

    const EVERYTHING: ProjectFileOptions = ProjectFileOptions {
        embeddings: true,
        model: true,
    };

    #[test]
    fn a_project_file_opens_in_a_new_page_with_its_classes_photos_embeddings_and_model() {
        let teacher = teachers_project();
        let bytes = project_file_bytes(&teacher, EVERYTHING);
        // Any safetensors reader opens it.
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(
            file.tensor("embeddings").unwrap().shape(),
            [5, EMBEDDING_DIM]
        );
        assert_eq!(
            file.tensor("photo.000000.input").unwrap().data(),
            teacher.classes[0].photos[0].input.as_bytes()
        );

        let mut student = ready();
        let effects: Effects =
            student.apply(Action::OpenProject(Box::new(open_project(&bytes).unwrap())));
        assert!(
            effects.is_empty(),
            "nothing to embed and a head model to check: {effects:?}"
        );
        assert_eq!(photo_summary(&student), photo_summary(&teacher));
        assert_eq!(student.settings.epochs, 9);
        let model = student.model.as_ref().expect("the model came too");
        assert_eq!(model.weights, teacher.model.as_ref().unwrap().weights);
        assert!(matches!(
            student.notices.last(),
            Some(Notice::ModelImported { .. })
        ));
        assert!(
            student
                .notices
                .iter()
                .any(|n| matches!(n, Notice::ProjectOpened { photos: 5, .. }))
        );
        // The student's photos take new identities, which never collide with later ones.
        assert_new_photos_take_new_ids(&mut student);
    }

    #[test]
    fn a_project_file_without_embeddings_sends_each_model_input_to_be_embedded() {
        let teacher = teachers_project();
        let options = ProjectFileOptions {
            embeddings: false,
            model: false,
        };
        let bytes = project_file_bytes(&teacher, options);
        let mut student = ready();
        let effects: Effects =
            student.apply(Action::OpenProject(Box::new(open_project(&bytes).unwrap())));
        let inputs: Vec<&String> = effects
            .iter()
            .map(|effect| match effect {
                Effect::SendWithInput(Request::Embed { .. }, input) => input,
                other => panic!("{other:?}"),
            })
            .collect();
        let teacher_inputs: Vec<&String> = teacher
            .classes
            .iter()
            .flat_map(|c| &c.photos)
            .map(|p| &p.input)
            .collect();
        assert_eq!(inputs, teacher_inputs);
        assert_eq!(student.photos_being_added(), 5);
        assert!(student.model.is_none());
        assert_eq!(
            student
                .classes
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["cats", "dogs"]
        );
    }

    #[test]
    fn a_damaged_or_foreign_project_file_is_refused_with_its_reason() {
        let bytes = project_file_bytes(&teachers_project(), EVERYTHING);
        let mut cut = bytes.clone();
        cut.truncate(bytes.len() - 10);
        assert!(matches!(
            open_project(&cut),
            Err(ProjectFileError::Damaged(_))
        ));
        assert!(matches!(
            open_project(&bytes[..4]),
            Err(ProjectFileError::NotAProjectFile(_))
        ));
        assert!(matches!(
            open_project(b"not a project file at all"),
            Err(ProjectFileError::NotAProjectFile(_))
        ));
        let model_file =
            headstart_core::model_file::write(teachers_project().model.as_ref().unwrap());
        assert!(matches!(
            open_project(&model_file),
            Err(ProjectFileError::NotAProjectFile(_))
        ));
        let edit = |from: &str, to: &str| {
            let text = String::from_utf8_lossy(&bytes).replacen(from, to, 1);
            assert_ne!(text.as_bytes(), &bytes[..], "{from} is in the file");
            open_project(text.as_bytes())
        };
        assert!(
            matches!(edit(r#"format_version":"1"#, r#"format_version":"9"#), Err(ProjectFileError::OtherVersion(v)) if v == "9")
        );
        assert!(matches!(
            edit("efficientnet-lite0", "efficientnet-lite4"),
            Err(ProjectFileError::OtherBackbone(_))
        ));
        assert!(matches!(
            edit("[5,1280]", "[4,1280]"),
            Err(ProjectFileError::Damaged(_))
        ));
        // Claims no reader may act on (the header edited and its length written again): a
        // shape far larger than the file, one whose size overflows, a class name with script.
        let header_length = header_length(&bytes[..8], bytes.len() as u64).unwrap() as usize;
        let header = std::str::from_utf8(&bytes[8..8 + header_length]).unwrap();
        let edit_header = |from: &str, to: &str| {
            assert!(header.contains(from), "{from} is in the header");
            let header = header.replacen(from, to, 1);
            let mut file = (header.len() as u64).to_le_bytes().to_vec();
            file.extend_from_slice(header.as_bytes());
            file.extend_from_slice(&bytes[8 + header_length..]);
            open_project(&file)
        };
        for claim in ["[500000000,1280]", "[4611686018427387904,1280]"] {
            assert!(matches!(
                edit_header("[5,1280]", claim),
                Err(ProjectFileError::Damaged(_))
            ));
        }
        let scripted = edit_header("cats", "<script>alert(1)</script>").unwrap();
        assert_eq!(scripted.classes[0].0, "<script>alert(1)</script>");
        let mut state = ready();
        let before = state.clone();
        state.apply::<&str>(Action::ProjectFileRefused(
            "cut.hsp".into(),
            ProjectFileError::Damaged("x".into()),
        ));
        assert_eq!(state.classes, before.classes);
        assert!(
            matches!(state.notices.last(), Some(Notice::ProjectNotOpened { file_name, .. }) if file_name == "cut.hsp")
        );
    }

    #[test]
    fn opening_a_project_into_work_asks_first_then_merges_or_replaces() {
        let bytes = project_file_bytes(&teachers_project(), EVERYTHING);
        let (mut state, a) = trainable();
        state.apply::<&str>(Action::RenameClass(a, "cats".into()));
        let before = state.clone();
        let open = |state: &mut State| {
            let classes = state.classes.clone();
            let effects: Effects =
                state.apply(Action::OpenProject(Box::new(open_project(&bytes).unwrap())));
            assert!(effects.is_empty());
            assert!(state.pending_import.is_some(), "the student is asked first");
            assert!(
                state.classes == classes,
                "nothing changes before the answer"
            );
        };
        open(&mut state);
        state.apply::<&str>(Action::ResolveImport(ImportChoice::Cancel));
        assert!(state.pending_import.is_none());
        assert!(state.classes == before.classes);

        open(&mut state);
        state.apply::<&str>(Action::ResolveImport(ImportChoice::Merge));
        let counts: Vec<(&str, usize)> = state
            .classes
            .iter()
            .map(|c| (c.label(), c.photos.len()))
            .collect();
        assert_eq!(
            counts,
            [("cats", 4), ("Class 2", 2), ("dogs", 3)],
            "cats merged, dogs added"
        );
        assert!(
            state.model.is_none(),
            "a merge keeps this project's model (none)"
        );

        open(&mut state);
        state.apply::<&str>(Action::ResolveImport(ImportChoice::Replace));
        let counts: Vec<(&str, usize)> = state
            .classes
            .iter()
            .map(|c| (c.label(), c.photos.len()))
            .collect();
        assert_eq!(counts, [("cats", 2), ("dogs", 3)]);
        assert!(state.model.is_some());
    }

    #[test]
    fn a_replaced_project_leaves_storage_with_only_the_files_photos() {
        let storage = MemoryStorage::default();
        let bytes = project_file_bytes(&teachers_project(), EVERYTHING);
        let (mut state, _) = trainable();
        save(&mut state, &storage);
        state.apply::<&str>(Action::OpenProject(Box::new(open_project(&bytes).unwrap())));
        state.apply::<&str>(Action::ResolveImport(ImportChoice::Replace));
        save(&mut state, &storage);
        assert_eq!(storage.photos_held(), 5);
        assert_eq!(
            photo_summary(&reopened(&storage, StorageAccess::Granted)),
            photo_summary(&state)
        );
    }
}
