//! What the page tells the student, as typed values: a [`Notice`] in the notices list, a
//! [`Blocker`] saying why something cannot start, a [`RunFailure`] saying why a run ended
//! without a model. Each turns into a [`Message`] of the catalog here (ids and arguments, never
//! words); the view renders it in the page's language. The detail a developer needs goes to the
//! console through [`crate::Effect::Log`].

use crate::{AppState, ProjectFileError};
use headstart_core::image_size::MAX_PHOTO_PIXELS;
use headstart_core::model_file::ModelFileError;
use headstart_core::neighbours::DEFAULT_K;
use headstart_core::preprocess::SCRATCH_INPUT_SIZE;
use headstart_core::protocol::{ComputeReason, GpuDisagreement, PhotoError, TrainingError};
use headstart_core::training::{ModelVersion, Way};
use headstart_text::{Arg, Message, text};

/// Most notices kept; older ones scroll away.
pub const MAX_NOTICES: usize = 20;

/// Something the student should know about, shown in the notices list.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A photo could not be added to a class.
    PhotoSkipped {
        /// Its file name.
        file_name: String,
        /// Why.
        error: PhotoError,
    },
    /// A photo could not be classified.
    PhotoNotClassified {
        /// Its file name.
        file_name: String,
        /// Why.
        error: PhotoError,
    },
    /// Photos were given before the model was ready.
    ModelStillLoading,
    /// Photos were given to classify before any model was trained.
    TrainFirst,
    /// Something the student asked for cannot start now.
    Blocked(Blocker),
    /// The final test did not come back whole.
    FinalTestFailed,
    /// The built-in sample photos could not be fetched.
    SamplesUnavailable,
    /// A model file was imported and is now the model in use.
    ModelImported {
        /// Its number in this page.
        version: ModelVersion,
        /// The file's name.
        file_name: String,
    },
    /// A file could not be imported as a model; the model in use is unchanged.
    ModelNotImported {
        /// The file's name.
        file_name: String,
        /// Why.
        error: ModelFileError,
    },
    /// The saved work came back after a reload.
    Restored {
        /// Photos restored.
        photos: usize,
        /// Whether a trained model came back too.
        model: bool,
    },
    /// Another tab of the page holds the saved project; this one does not save.
    OpenInAnotherTab,
    /// The browser keeps nothing for this page.
    NotSaving,
    /// The camera could not start.
    CameraUnavailable,
    /// A project file was opened.
    ProjectOpened {
        /// Its name.
        file_name: String,
        /// Photos it brought.
        photos: usize,
    },
    /// A file could not be opened as a project; nothing changed.
    ProjectNotOpened {
        /// Its name.
        file_name: String,
        /// Why.
        error: ProjectFileError,
    },
    /// The graphics processor stopped working (its WebGPU device was lost); the CPU took over.
    GpuStopped,
    /// A change could not be saved; `quota` when the device's storage is full.
    NotSaved {
        /// Whether storage is full.
        quota: bool,
        /// Whether storage still holds work an earlier save kept.
        earlier_kept: bool,
    },
}

impl Notice {
    /// What the student reads.
    pub fn message(&self) -> Message {
        match self {
            Self::PhotoSkipped { file_name, error } => text!(
                "notice-photo-skipped",
                file_name = file_name,
                reason = photo_reason(file_name, error)
            ),
            Self::PhotoNotClassified { file_name, error } => text!(
                "notice-photo-not-classified",
                file_name = file_name,
                reason = photo_reason(file_name, error)
            ),
            Self::ModelStillLoading => text!("notice-model-still-loading"),
            Self::TrainFirst => text!("notice-train-first"),
            Self::Blocked(blocker) => blocker.message(),
            Self::FinalTestFailed => text!("notice-final-test-failed"),
            Self::SamplesUnavailable => text!("notice-samples-unavailable"),
            Self::ModelImported { version, file_name } => text!(
                "notice-model-imported",
                file_name = file_name,
                version = version.0
            ),
            Self::ModelNotImported { file_name, error } => text!(
                "notice-model-not-imported",
                file_name = file_name,
                reason = model_file_reason(error)
            ),
            Self::Restored { photos, model } => text!(
                "notice-restored",
                photos = *photos,
                model = if *model { "yes" } else { "no" }
            ),
            Self::OpenInAnotherTab => text!("notice-open-in-another-tab"),
            Self::NotSaving => text!("notice-not-saving"),
            Self::CameraUnavailable => text!("notice-camera-unavailable"),
            Self::ProjectOpened { file_name, photos } => text!(
                "notice-project-opened",
                file_name = file_name,
                photos = *photos
            ),
            Self::ProjectNotOpened { file_name, error } => text!(
                "notice-project-not-opened",
                file_name = file_name,
                reason = project_file_reason(error)
            ),
            Self::GpuStopped => text!("notice-gpu-stopped"),
            Self::NotSaved {
                quota,
                earlier_kept,
            } => match (quota, earlier_kept) {
                (true, true) => text!("notice-not-saved-full"),
                (true, false) => text!("notice-not-saved-full-first"),
                (false, true) => text!("notice-not-saved"),
                (false, false) => text!("notice-not-saved-first"),
            },
        }
    }
}

/// Why something the student asked for cannot start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// The pretrained model is still loading.
    ModelLoading,
    /// A run is preparing or training.
    TrainingRunning,
    /// Photos are still being added.
    PhotosBeingAdded,
    /// Fewer than two classes have photos.
    TwoClasses,
    /// A class has no name.
    ClassNeedsName,
    /// Two classes have names a student reads as one (this one, as typed).
    DuplicateName(String),
    /// This class has fewer photos than training needs.
    TooFewPhotos {
        /// The class.
        class: String,
        /// The photos it needs at least.
        needed: usize,
    },
    /// The wrong-preprocessing experiment compares with a model: none is trained.
    ExperimentNeedsModel,
    /// The experiment retrains a head: the model in use is not one.
    ExperimentNeedsHead,
    /// The comparison waits for the student's predicted ranking.
    PredictFirst,
    /// The final test has no model to test.
    FinalTestNeedsModel,
    /// No photos were kept for the final test.
    FinalTestNoPhotos,
    /// The final test is running.
    FinalTestRunning,
    /// A new project waits until the run stops.
    StopBeforeNewProject,
    /// Opening a project file waits until the run stops.
    StopBeforeOpeningProject,
}

impl Blocker {
    /// What the student reads.
    pub fn message(&self) -> Message {
        match self {
            Self::ModelLoading => text!("blocker-model-loading"),
            Self::TrainingRunning => text!("blocker-training-running"),
            Self::PhotosBeingAdded => text!("blocker-photos-being-added"),
            Self::TwoClasses => text!("blocker-two-classes"),
            Self::ClassNeedsName => text!("blocker-class-needs-name"),
            Self::DuplicateName(name) => text!("blocker-duplicate-name", name = name),
            Self::TooFewPhotos { class, needed } => {
                text!("blocker-too-few-photos", name = class, count = *needed)
            }
            Self::ExperimentNeedsModel => text!("blocker-experiment-needs-model"),
            Self::ExperimentNeedsHead => text!("blocker-experiment-needs-head"),
            Self::PredictFirst => text!("blocker-predict-first"),
            Self::FinalTestNeedsModel => text!("blocker-final-test-needs-model"),
            Self::FinalTestNoPhotos => text!("blocker-final-test-no-photos"),
            Self::FinalTestRunning => text!("blocker-final-test-running"),
            Self::StopBeforeNewProject => text!("blocker-stop-before-new-project"),
            Self::StopBeforeOpeningProject => text!("blocker-stop-before-opening-project"),
        }
    }
}

/// Why a training run ended without a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFailure {
    /// The photos did not make a valid training set.
    InvalidSet,
    /// The model engine failed.
    Compute,
    /// A view of a photo could not be made.
    View,
}

impl RunFailure {
    /// What the student reads, inside the run's status.
    pub fn message(self) -> Message {
        match self {
            Self::InvalidSet => text!("run-failure-invalid-set"),
            Self::Compute => text!("run-failure-compute"),
            Self::View => text!("run-failure-view"),
        }
    }
}

impl From<&TrainingError> for RunFailure {
    fn from(error: &TrainingError) -> Self {
        match error {
            TrainingError::TooFewClasses
            | TrainingError::LabelOutOfRange(_)
            | TrainingError::InvalidSplit(_)
            | TrainingError::ExamplesUnfit(_)
            | TrainingError::FoldsUnfit(_) => Self::InvalidSet,
            TrainingError::Compute(_) => Self::Compute,
        }
    }
}

/// What the page (and the command line) calls a way to train.
pub fn way_name(way: Way) -> Message {
    match way {
        Way::Centroid => text!("way-centroid"),
        Way::Knn => text!("way-knn", k = DEFAULT_K),
        Way::Frozen => text!("way-frozen"),
        Way::Finetune => text!("way-finetune"),
        Way::Lora => text!("way-lora"),
        Way::Scratch => text!("way-scratch", size = SCRATCH_INPUT_SIZE),
    }
}

/// A way's short name, in rankings and the comparison's curves.
pub fn way_short_name(way: Way) -> Message {
    match way {
        Way::Centroid => text!("way-short-centroid"),
        Way::Knn => text!("way-short-knn"),
        Way::Frozen => text!("way-short-frozen"),
        Way::Finetune => text!("way-short-finetune"),
        Way::Lora => text!("way-short-lora"),
        Way::Scratch => text!("way-short-scratch"),
    }
}

/// Why the model runs where it runs, for the badge.
pub fn compute_reason(reason: &ComputeReason) -> Message {
    match reason {
        ComputeReason::CpuRequested => text!("compute-reason-cpu-requested"),
        ComputeReason::NoWebGpu => text!("compute-reason-no-webgpu"),
        ComputeReason::NoAdapter => text!("compute-reason-no-adapter"),
        ComputeReason::AdapterFailed(detail) => {
            text!("compute-reason-adapter-failed", detail = detail)
        }
        ComputeReason::SoftwareAdapter(adapter) => {
            text!("compute-reason-software-adapter", adapter = adapter)
        }
        ComputeReason::WebGpuNotLoaded => text!("compute-reason-webgpu-not-loaded"),
        ComputeReason::WebGpuFailed(detail) => {
            text!("compute-reason-webgpu-failed", detail = detail)
        }
        ComputeReason::ModelNotLoaded(detail) => {
            text!("compute-reason-model-not-loaded", detail = detail)
        }
        ComputeReason::GpuDistrusted(GpuDisagreement::CpuFailed(detail)) => {
            text!("gpu-distrust-cpu", detail = detail)
        }
        ComputeReason::GpuDistrusted(GpuDisagreement::GpuFailed(detail)) => {
            text!("gpu-distrust-failed", detail = detail)
        }
        ComputeReason::GpuDistrusted(GpuDisagreement::Differs(difference)) => text!(
            "gpu-distrust-differs",
            difference = Arg::decimal(*difference, 4)
        ),
        ComputeReason::WebGpu(adapter) => text!("compute-reason-webgpu-adapter", adapter = adapter),
        ComputeReason::GpuStopped(detail) => text!("compute-reason-gpu-stopped", detail = detail),
    }
}

fn photo_reason(file_name: &str, error: &PhotoError) -> Message {
    let extension = file_name.rsplit('.').next().unwrap_or("").to_lowercase();
    match error {
        // Most browsers read no HEIC/HEIF, the format iPhones save photos in by default.
        PhotoError::NotAnImage if ["heic", "heif"].contains(&extension.as_str()) => {
            text!("photo-reason-heic")
        }
        PhotoError::NotAnImage => text!("photo-reason-not-an-image"),
        PhotoError::TooLarge { width, height } => text!(
            "photo-reason-too-large",
            width = *width,
            height = *height,
            millions = MAX_PHOTO_PIXELS / 1_000_000
        ),
        PhotoError::Compute(_) => text!("photo-reason-compute"),
    }
}

fn model_file_reason(error: &ModelFileError) -> Message {
    match error {
        ModelFileError::TooLarge(_) => text!("model-file-reason-too-large"),
        ModelFileError::NotAModelFile(_) => text!("model-file-reason-not-a-model-file"),
        ModelFileError::OtherVersion(_) => text!("model-file-reason-other-version"),
        ModelFileError::OtherBackbone(_) => text!("model-file-reason-other-backbone"),
        ModelFileError::Damaged(_) => text!("model-file-reason-damaged"),
    }
}

fn project_file_reason(error: &ProjectFileError) -> Message {
    match error {
        ProjectFileError::NotAProjectFile(_) => text!("project-file-reason-not-a-project-file"),
        ProjectFileError::OtherVersion(_) => text!("project-file-reason-other-version"),
        ProjectFileError::OtherBackbone(_) => text!("project-file-reason-other-backbone"),
        ProjectFileError::Damaged(_) => text!("project-file-reason-damaged"),
    }
}

impl<T: Clone> AppState<T> {
    /// Tells the student `notice`; the oldest beyond [`MAX_NOTICES`] scroll away.
    pub(crate) fn notify(&mut self, notice: Notice) {
        self.notices.push(notice);
        let excess = self.notices.len().saturating_sub(MAX_NOTICES);
        self.notices.drain(..excess);
    }
}
