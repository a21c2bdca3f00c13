//! What the page tells the student, each as one plain sentence made here and nowhere else. The
//! detail a developer needs goes to the console through [`crate::Effect::Log`].

use crate::{AppState, ProjectFileError};
use headstart_core::image_size::MAX_PHOTO_PIXELS;
use headstart_core::model_file::ModelFileError;
use headstart_core::protocol::{PhotoError, TrainingError};
use headstart_core::training::ModelVersion;

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
    /// Training cannot start; the reason says why.
    CannotTrain(String),
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
    },
}

impl Notice {
    /// The sentence the student reads.
    pub fn sentence(&self) -> String {
        match self {
            Self::PhotoSkipped { file_name, error } => {
                format!(
                    "\"{file_name}\" was skipped: {}.",
                    photo_reason(file_name, error)
                )
            }
            Self::PhotoNotClassified { file_name, error } => {
                format!(
                    "\"{file_name}\" was not classified: {}.",
                    photo_reason(file_name, error)
                )
            }
            Self::ModelStillLoading => {
                "The model is still loading; add the photos again in a moment.".into()
            }
            Self::TrainFirst => "Train the model before classifying photos.".into(),
            Self::CannotTrain(reason) => reason.clone(),
            Self::SamplesUnavailable => {
                "The sample photos could not be loaded; check the connection and try again.".into()
            }
            Self::ModelImported { version, file_name } => {
                format!("\"{file_name}\" is now model {version}: classify photos with it.")
            }
            Self::ModelNotImported { file_name, error } => format!(
                "\"{file_name}\" was not imported: {}. The model in use is unchanged.",
                model_file_reason(error)
            ),
            Self::Restored { photos, model } => format!(
                "Welcome back: your classes and {photos} photo(s){} are here as you left them.",
                if *model { " and your model" } else { "" }
            ),
            Self::OpenInAnotherTab => {
                "Headstart is open in another tab, which saves your work. Changes made in this tab will not be saved: close it and use the other one.".into()
            }
            Self::NotSaving => {
                "This browser does not let the page save, so your work will be lost on reload. Export the model to keep it.".into()
            }
            Self::CameraUnavailable => {
                "The camera could not start: allow the camera for this page (in the address bar), or add photos from files.".into()
            }
            Self::ProjectOpened { file_name, photos } => {
                format!("\"{file_name}\" is open: {photos} photo(s) added.")
            }
            Self::ProjectNotOpened { file_name, error } => format!(
                "\"{file_name}\" was not opened: {}. Nothing changed.",
                project_file_reason(error)
            ),
            Self::GpuStopped => {
                "The graphics processor stopped working, so Headstart goes on on the CPU (slower). Nothing was lost; a training run it was doing has to be started again.".into()
            }
            Self::NotSaved { quota: true } => {
                "Your latest change could not be saved: this device's storage is full. Delete some photos or free space; everything saved before is kept.".into()
            }
            Self::NotSaved { quota: false } => {
                "Your latest change could not be saved. Export the model to keep it; everything saved before is kept.".into()
            }
        }
    }
}

fn photo_reason(file_name: &str, error: &PhotoError) -> String {
    let extension = file_name.rsplit('.').next().unwrap_or("").to_lowercase();
    match error {
        // Most browsers read no HEIC/HEIF, the format iPhones save photos in by default.
        PhotoError::NotAnImage if ["heic", "heif"].contains(&extension.as_str()) => {
            "this browser cannot read HEIC photos (an iPhone's format); save it as a JPEG first"
                .into()
        }
        PhotoError::NotAnImage => "this is not an image the browser can decode".into(),
        PhotoError::TooLarge { width, height } => format!(
            "it is {width} × {height} pixels, more than the {} million a photo may have",
            MAX_PHOTO_PIXELS / 1_000_000
        ),
        PhotoError::Compute(_) => "the model failed on this photo; try it again".into(),
    }
}

fn model_file_reason(error: &ModelFileError) -> &'static str {
    match error {
        ModelFileError::TooLarge(_) => "it is far larger than any model file",
        ModelFileError::NotAModelFile(_) => "it is not a Headstart model file",
        ModelFileError::OtherVersion(_) => {
            "it was saved by another version of Headstart that this page cannot read"
        }
        ModelFileError::OtherBackbone(_) => "it was trained on another pretrained network",
        ModelFileError::Damaged(_) => "the file is damaged or was edited",
    }
}

fn project_file_reason(error: &ProjectFileError) -> &'static str {
    match error {
        ProjectFileError::NotAProjectFile(_) => "it is not a Headstart project file",
        ProjectFileError::OtherVersion(_) => {
            "it was saved by another version of Headstart that this page cannot read"
        }
        ProjectFileError::OtherBackbone(_) => "it was made for another pretrained network",
        ProjectFileError::Damaged(_) => "the file is damaged or was edited",
    }
}

/// Why a training run ended without a model, in words for the student.
pub fn training_failure(error: &TrainingError) -> &'static str {
    match error {
        TrainingError::TooFewClasses
        | TrainingError::LabelOutOfRange(_)
        | TrainingError::InvalidSplit(_) => "the photos did not make a valid training set",
        TrainingError::Compute(_) => "the computer's model engine failed",
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
