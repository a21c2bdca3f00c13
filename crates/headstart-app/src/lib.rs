//! The page's rules as plain data: the state the page shows, the [`Action`]s that change it
//! and the [`Effect`]s the view must carry out (messages to the model workers, console logs).
//! No browser types and no burn: the view (`headstart-web`) renders [`AppState`], turns clicks,
//! uploads and worker events into actions, and carries out what [`AppState::apply`] returns, so
//! every rule in this crate is tested natively.
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
pub mod scheduler;
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
pub use notice::{
    Blocker, MAX_NOTICES, Notice, RunFailure, compute_reason, way_name, way_short_name,
};
pub use preview::{AugmentPreview, PREVIEW_VIEWS, PreprocessingExperiment};
pub use project_file::{
    ClassLayout, FilePart, ImportChoice, ImportedPhoto, ImportedProject, PhotoLayout,
    ProjectFileDraft, ProjectFileError, ProjectFileOptions, ProjectLayout, embeddings_of,
    header_length, read_layout,
};
pub use project_file::{FILE_NAME as PROJECT_FILE_NAME, MAX_HEADER_BYTES};
pub use samples::{SampleClass, parse_sample_index};
pub use saved::{
    MemoryStorage, ProjectStorage, SaveChange, SavedClass, SavedModelRecord, SavedPhoto,
    SavedProject, SavedWork, StorageAccess, StorageState,
};
use std::rc::Rc;
pub use training::{MIN_PHOTOS_TO_COMPARE, RunPurpose, TrainingState};
pub use workers::{MAX_WORKERS, ModelStatus, pool_size};

use headstart_core::preprocess::Normalization;
use headstart_core::protocol::{Attachment, ComputePath, ComputeReason, Event, JobId, Request};
pub use headstart_core::training::Way;
use headstart_core::training::{TrainedModel, TrainingSettings};
use jobs::PendingJob;
use std::collections::BTreeMap;

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
        reason: ComputeReason,
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
    /// A worker's event, with the images that came beside it: for a photo embedded or
    /// classified, its thumbnail and model input; for a preview, the views.
    Worker(Event, Attachment<T>),
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
    /// A save landed (the browser committed it).
    Saved,
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
    /// The model predictions use: the last run's that produced one. Shared: the page copies
    /// its state on every change, and a model of nearest neighbours holds every photo's
    /// embedding.
    pub model: Option<Rc<TrainedModel>>,
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
    /// Whether storage holds work a save kept (or the page found there): what a failed save
    /// leaves.
    storage_holds_work: bool,
    /// Whether the latest save failed, none having landed since.
    last_save_failed: bool,
    /// Saves handed to storage whose outcome has not come back.
    saves_in_flight: usize,
    /// Work handed to the workers, by job, until it is answered.
    pending: BTreeMap<JobId, PendingJob>,
    /// Training runs started; run N makes model version N.
    runs_started: u32,
    /// The last identity handed out (see [`Self::fresh_id`]).
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
            storage_holds_work: false,
            last_save_failed: false,
            saves_in_flight: 0,
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
            Action::CameraFailed(detail) => return self.camera_failed(detail),
            Action::Worker(event, attachment) => return self.on_event(event, attachment),
            Action::Restore { work, access } => return self.restore(work, access),
            Action::NewProject => return self.new_project(),
            Action::OpenProject(project) => return self.import_project(*project),
            Action::ProjectFileRefused(file_name, error) => {
                self.notify(Notice::ProjectNotOpened { file_name, error })
            }
            Action::ResolveImport(choice) => return self.resolve_import(choice),
            Action::Saved => return self.save_landed(),
            Action::SaveFailed { detail, quota } => return self.save_failed(detail, quota),
        }
        Vec::new()
    }
}
