//! Keeping the student's work across reloads. After an action the view asks the state for its
//! [`AppState::unsaved_changes`]: what changed since storage was last asked to hold it, as
//! [`SaveChange`]s: each new photo once, removed photos, the model file when the model changes
//! and the project's small record (classes, settings, the model's bookkeeping) whole. The page
//! opens its storage first and hands back what it holds as one [`crate::Action::Restore`]; nothing is
//! saved before that, so a reload never overwrites saved work with an empty page.
//!
//! Storage itself is a platform need: [`ProjectStorage`] is what the page's IndexedDB store
//! provides, and [`MemoryStorage`] the same in memory for native tests.

use crate::Blocker;
use crate::{
    AppState, ClassEntry, ClassId, Comparison, Effect, FinalTest, ModelTest, Notice, Photo,
    PhotoId, WayResult, WayState,
};
use headstart_core::embedding::Embedding;
use headstart_core::model_file;
use headstart_core::protocol::JobId;
use headstart_core::training::{
    EpochReport, ModelVersion, TrainedModel, TrainingSettings, ValidationPrediction, Way,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

/// A class as saved: its identity, its name and its photos in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedClass {
    /// [`ClassId`]'s number.
    pub id: u32,
    /// The name as typed.
    pub name: String,
    /// Its photos' [`PhotoId`] numbers, in order.
    pub photos: Vec<u32>,
}

/// What the model in use was trained on, to keep its final test and its examples' photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModelRecord {
    /// Its version in the page.
    pub version: u32,
    /// The photo behind each of its examples (centroid and neighbour models).
    pub example_photos: Vec<u32>,
    /// Its test photos with their class index.
    pub test_photos: Vec<(u32, usize)>,
    /// How it classified its validation photos (the model file leaves them out: they name this
    /// page's photos), for the confusion matrix and the mistakes.
    pub validation: Vec<ValidationPrediction>,
}

/// One way's result in a saved comparison (its model stays behind: network layers are
/// megabytes, and the result is what the class looks at).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedWayResult {
    /// The way.
    pub way: Way,
    /// Whether it finished (a run cut short by the reload counts as failed).
    pub done: bool,
    /// Numbers it learned.
    pub trainable_params: usize,
    /// Its training time in milliseconds.
    pub training_ms: Option<f64>,
    /// Its validation accuracy.
    pub validation_accuracy: Option<f32>,
    /// Its final test accuracy.
    pub test_accuracy: Option<f32>,
    /// Its learning curves.
    pub history: Vec<EpochReport>,
}

/// The comparison as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedComparison {
    /// The student's predicted ranking.
    pub predicted: Vec<Way>,
    /// One result per way.
    pub results: Vec<SavedWayResult>,
    /// The test photos of its split, with their class index.
    pub test_photos: Vec<(u32, usize)>,
    /// The settings it ran with.
    pub settings: TrainingSettings,
    /// Whether the photos and classes are still those it ran on.
    pub current: bool,
}

/// The final test's result as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedFinalTest {
    /// The model it tested.
    pub model_version: u32,
    /// Test photos it got right.
    pub correct: usize,
    /// Test photos.
    pub total: usize,
    /// The settings when it ran.
    pub settings: TrainingSettings,
    /// Whether the photos and classes are still those it ran on.
    pub current: bool,
}

/// Everything but the photos' images and the model's weights: small, saved whole on a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedProject {
    /// The classes, in the page's order.
    pub classes: Vec<SavedClass>,
    /// The next run's settings.
    pub settings: TrainingSettings,
    /// The way the Train button trains.
    pub train_way: Way,
    /// The student's predicted ranking.
    pub predicted_places: Vec<Option<Way>>,
    /// The last identity handed out.
    pub next_id: u32,
    /// Training runs started (the next model's version follows it).
    pub runs_started: u32,
    /// Final tests run so far.
    pub final_tests_run: u32,
    /// The model in use, whose file is saved beside the project.
    pub model: Option<SavedModelRecord>,
    /// The comparison's results.
    #[serde(default)]
    pub comparison: Option<SavedComparison>,
    /// The final test's result.
    #[serde(default)]
    pub final_test: Option<SavedFinalTest>,
}

/// One photo as saved, with its images (`T`) and its embedding: what training and display need,
/// never the original file.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedPhoto<T> {
    /// Its identity.
    pub id: PhotoId,
    /// The file it came from.
    pub file_name: String,
    /// Its thumbnail.
    pub thumbnail: T,
    /// The exact 224x224 image the backbone saw.
    pub input: T,
    /// Its backbone embedding.
    pub embedding: Embedding,
}

/// A change to the saved work, in the order the state asks for them.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveChange<T> {
    /// Forget everything saved (a new project).
    Clear,
    /// New photos.
    PutPhotos(Vec<SavedPhoto<T>>),
    /// Photos that are gone.
    DeletePhotos(Vec<PhotoId>),
    /// The model in use as a model file, or none.
    Model(Option<Vec<u8>>),
    /// The project's record.
    Project(Box<SavedProject>),
}

/// What storage held when the page opened.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedWork<T> {
    /// The project's record.
    pub project: SavedProject,
    /// Its photos, in any order.
    pub photos: Vec<SavedPhoto<T>>,
    /// The model file, if a model was saved.
    pub model_file: Option<Vec<u8>>,
}

/// Whether this page may save.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageAccess {
    /// The page saves as the student works.
    Granted,
    /// The project is open in another tab, which saves it; this tab saves nothing.
    HeldByAnotherTab,
    /// The browser keeps nothing for this page (detail for the console).
    Unavailable(String),
}

/// Where saving stands.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageState {
    /// Waiting for what storage holds; nothing is saved yet.
    Opening,
    /// Every change is saved.
    Saving,
    /// Another tab saves the project; this one does not.
    HeldByAnotherTab,
    /// Nothing can be saved in this browser.
    Unavailable,
}

/// The saved work's storage: the page's is IndexedDB; [`MemoryStorage`] serves native tests.
#[allow(async_fn_in_trait)]
pub trait ProjectStorage<T> {
    /// Why storage failed.
    type Error: std::fmt::Display;
    /// Carries out the changes of one action, all or none; calls are applied in the order
    /// they were made.
    async fn save(&self, changes: Vec<SaveChange<T>>) -> Result<(), Self::Error>;
    /// What is saved, if anything.
    async fn load(&self) -> Result<Option<SavedWork<T>>, Self::Error>;
}

/// Saved work in memory.
#[derive(Debug, Default)]
pub struct MemoryStorage<T> {
    held: std::cell::RefCell<MemoryHeld<T>>,
}

#[derive(Debug)]
struct MemoryHeld<T> {
    project: Option<SavedProject>,
    photos: BTreeMap<PhotoId, SavedPhoto<T>>,
    model_file: Option<Vec<u8>>,
}

impl<T> Default for MemoryHeld<T> {
    fn default() -> Self {
        Self {
            project: None,
            photos: BTreeMap::new(),
            model_file: None,
        }
    }
}

impl<T: Clone> MemoryStorage<T> {
    /// Photos held, including any the project no longer lists.
    pub fn photos_held(&self) -> usize {
        self.held.borrow().photos.len()
    }
}

impl<T: Clone> ProjectStorage<T> for MemoryStorage<T> {
    type Error = std::convert::Infallible;

    async fn save(&self, changes: Vec<SaveChange<T>>) -> Result<(), Self::Error> {
        let mut held = self.held.borrow_mut();
        for change in changes {
            match change {
                SaveChange::Clear => *held = MemoryHeld::default(),
                SaveChange::PutPhotos(photos) => {
                    held.photos.extend(photos.into_iter().map(|p| (p.id, p)))
                }
                SaveChange::DeletePhotos(ids) => held.photos.retain(|id, _| !ids.contains(id)),
                SaveChange::Model(file) => held.model_file = file,
                SaveChange::Project(project) => held.project = Some(*project),
            }
        }
        Ok(())
    }

    async fn load(&self) -> Result<Option<SavedWork<T>>, Self::Error> {
        let held = self.held.borrow();
        Ok(held.project.clone().map(|project| SavedWork {
            project,
            photos: held.photos.values().cloned().collect(),
            model_file: held.model_file.clone(),
        }))
    }
}

/// What the state last asked storage to hold, so that it asks only for changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SavedMarks {
    /// Whether storage must forget everything first (a new project).
    clear_first: bool,
    /// The photos saved, as of [`Self::revision`].
    photos: HashSet<PhotoId>,
    revision: Option<u32>,
    model_version: Option<Option<ModelVersion>>,
    project: Option<SavedProject>,
}

/// The saved classes with their photos, taken from `photos`; also how many photos they list
/// that storage did not hold.
fn restored_classes<T>(
    classes: Vec<SavedClass>,
    photos: &mut HashMap<u32, SavedPhoto<T>>,
) -> (Vec<ClassEntry<T>>, usize) {
    let mut missing = 0;
    let classes = classes
        .into_iter()
        .map(|class| ClassEntry {
            id: ClassId(class.id),
            name: class.name,
            photos: class
                .photos
                .into_iter()
                .filter_map(|id| {
                    let photo = photos.remove(&id);
                    missing += usize::from(photo.is_none());
                    photo
                })
                .map(|saved| {
                    Photo::new(
                        saved.id,
                        saved.file_name,
                        saved.thumbnail,
                        saved.input,
                        saved.embedding,
                    )
                })
                .collect(),
        })
        .collect();
    (classes, missing)
}

impl<T: Clone> AppState<T> {
    /// What the page's storage held when it opened, and whether this page may save: the saved
    /// project replaces the empty one, and from then on every change is saved.
    pub(crate) fn restore<F>(
        &mut self,
        work: Option<Box<SavedWork<T>>>,
        access: StorageAccess,
    ) -> Vec<Effect<F, T>> {
        if self.storage != StorageState::Opening {
            return vec![Effect::Log("storage opened twice".into())];
        }
        let mut effects = Vec::new();
        if let Some(work) = work {
            self.storage_holds_work = true;
            effects.extend(self.adopt_saved(*work));
        }
        self.storage = match access {
            StorageAccess::Granted => StorageState::Saving,
            StorageAccess::HeldByAnotherTab => {
                self.notify(Notice::OpenInAnotherTab);
                StorageState::HeldByAnotherTab
            }
            StorageAccess::Unavailable(detail) => {
                self.notify(Notice::NotSaving);
                effects.push(Effect::Log(format!("storage unavailable: {detail}")));
                StorageState::Unavailable
            }
        };
        effects
    }

    /// Makes the saved work the page's: its classes and photos, settings, model and results.
    fn adopt_saved<F>(&mut self, work: SavedWork<T>) -> Vec<Effect<F, T>> {
        let SavedWork {
            project,
            photos,
            model_file,
        } = work;
        let mut photos: HashMap<u32, SavedPhoto<T>> =
            photos.into_iter().map(|p| (p.id.0, p)).collect();
        let (classes, missing) = restored_classes(project.classes, &mut photos);
        self.classes = classes;
        self.settings = project.settings.within_limits();
        self.train_way = project.train_way;
        if project.predicted_places.len() == self.predicted_places.len() {
            self.predicted_places = project.predicted_places;
        }
        self.next_id = self.next_id.max(project.next_id);
        self.runs_started = project.runs_started;
        self.final_tests_run = project.final_tests_run;
        self.revision += 1;
        let mut effects = Vec::new();
        if let (Some(record), Some(file)) = (project.model, model_file) {
            effects.extend(self.adopt_saved_model(record, &file));
        }
        // Storage holds what was just read: only what differs from it is saved again. Photos
        // it holds that no class lists (a crash between two saves) are deleted by the next save;
        // a model file that could not be read is replaced.
        self.saved = SavedMarks {
            clear_first: false,
            photos: (self.all_photos().map(|p| p.id))
                .chain(photos.values().map(|p| p.id))
                .collect(),
            revision: Some(self.revision),
            model_version: self.model.as_ref().map(|m| Some(m.version)),
            project: Some(self.saved_project()),
        };
        self.adopt_saved_results(project.comparison, project.final_test);
        let restored = self.classes.iter().map(|c| c.photos.len()).sum();
        self.notify(Notice::Restored {
            photos: restored,
            model: self.model.is_some(),
        });
        if missing > 0 || !photos.is_empty() {
            effects.push(Effect::Log(format!(
                "restored {restored} photos; {missing} listed were missing and {} held were not listed",
                photos.len()
            )));
        }
        effects
    }

    /// Makes the saved model the model in use, with what it was trained on; a model file that
    /// cannot be read is logged.
    fn adopt_saved_model<F>(
        &mut self,
        record: SavedModelRecord,
        file: &[u8],
    ) -> Option<Effect<F, T>> {
        match model_file::read(file, ModelVersion(record.version)) {
            Ok(model) => {
                self.model = Some(Rc::new(TrainedModel {
                    validation: record.validation,
                    ..model
                }));
                self.model_examples = record.example_photos.into_iter().map(PhotoId).collect();
                self.model_test = ModelTest {
                    photos: (record.test_photos.into_iter())
                        .map(|(id, class)| (PhotoId(id), class))
                        .collect(),
                    revision: self.revision,
                };
                None
            }
            Err(error) => Some(Effect::Log(format!(
                "the saved model could not be read: {error}"
            ))),
        }
    }

    /// The saved comparison's and final test's results; those that described other photos
    /// stay, marked out of date.
    fn adopt_saved_results(
        &mut self,
        comparison: Option<SavedComparison>,
        final_test: Option<SavedFinalTest>,
    ) {
        let revision_then = |current: bool| match current {
            true => self.revision,
            false => self.revision - 1,
        };
        self.comparison = comparison.map(|saved| Comparison {
            predicted: saved.predicted,
            results: (saved.results.into_iter())
                .map(|result| WayResult {
                    way: result.way,
                    state: if result.done {
                        WayState::Done
                    } else {
                        WayState::Failed
                    },
                    trainable_params: result.trainable_params,
                    training_ms: result.training_ms,
                    validation_accuracy: result.validation_accuracy,
                    test_accuracy: result.test_accuracy,
                    history: result.history,
                    model: None,
                    job: None,
                })
                .collect(),
            test_photos: (saved.test_photos.into_iter())
                .map(|(id, class)| (PhotoId(id), class))
                .collect(),
            settings: saved.settings,
            revision: revision_then(saved.current),
        });
        self.final_test = final_test.map(|saved| FinalTest {
            model_version: ModelVersion(saved.model_version),
            correct: Some(saved.correct),
            total: saved.total,
            settings: saved.settings,
            revision: revision_then(saved.current),
            job: JobId(0),
        });
    }

    /// "New project": every class, photo, model and result goes; the model stays loaded. The
    /// next [`Self::unsaved_changes`] starts with [`SaveChange::Clear`].
    pub(crate) fn new_project<F>(&mut self) -> Vec<Effect<F, T>> {
        if self.training_busy() {
            self.notify(Notice::Blocked(Blocker::StopBeforeNewProject));
            return Vec::new();
        }
        self.reset_project();
        self.storage_holds_work = false;
        self.saved = SavedMarks {
            clear_first: true,
            ..SavedMarks::default()
        };
        Vec::new()
    }

    /// A save landed: storage holds the work as of the changes it carried.
    pub(crate) fn save_landed<F>(&mut self) -> Vec<Effect<F, T>> {
        self.storage_holds_work = true;
        self.last_save_failed = false;
        self.saves_in_flight = self.saves_in_flight.saturating_sub(1);
        Vec::new()
    }

    /// Whether changes are on their way to storage: "Saved on this device" waits for them.
    pub fn saving_now(&self) -> bool {
        self.saves_in_flight > 0
    }

    /// Whether the latest save failed (and none has landed since): the latest changes are
    /// not on the device.
    pub fn last_save_failed(&self) -> bool {
        self.last_save_failed
    }

    /// A change could not be saved (detail for the console): the student is told, and the
    /// next change saves everything again, since what this one held may be missing.
    pub(crate) fn save_failed<F>(&mut self, detail: String, quota: bool) -> Vec<Effect<F, T>> {
        let said = Notice::NotSaved {
            quota,
            earlier_kept: self.storage_holds_work,
        };
        if !self.notices.contains(&said) {
            self.notify(said);
        }
        self.last_save_failed = true;
        self.saves_in_flight = self.saves_in_flight.saturating_sub(1);
        self.saved = SavedMarks::default();
        vec![Effect::Log(format!("saving failed: {detail}"))]
    }

    /// The changes that bring storage up to date with the state, in order: photos before the
    /// project that lists them, so that a crash between the two loses nothing listed. None
    /// while storage is opening or this page does not save. Changes returned are a save in
    /// flight until [`crate::Action::Saved`] or [`crate::Action::SaveFailed`] says how it went.
    pub fn unsaved_changes(&mut self) -> Vec<SaveChange<T>> {
        if self.storage != StorageState::Saving {
            return Vec::new();
        }
        let mut changes = Vec::new();
        if std::mem::take(&mut self.saved.clear_first) {
            changes.push(SaveChange::Clear);
        }
        if self.saved.revision != Some(self.revision) {
            let current: HashSet<PhotoId> = self.all_photos().map(|p| p.id).collect();
            let added: Vec<SavedPhoto<T>> = self
                .all_photos()
                .filter(|p| !self.saved.photos.contains(&p.id))
                .map(|p| SavedPhoto {
                    id: p.id,
                    file_name: p.file_name.clone(),
                    thumbnail: p.thumbnail.clone(),
                    input: p.input.clone(),
                    embedding: p.embedding.clone(),
                })
                .collect();
            let mut removed: Vec<PhotoId> =
                self.saved.photos.difference(&current).copied().collect();
            removed.sort();
            if !added.is_empty() {
                changes.push(SaveChange::PutPhotos(added));
            }
            if !removed.is_empty() {
                changes.push(SaveChange::DeletePhotos(removed));
            }
            self.saved.photos = current;
            self.saved.revision = Some(self.revision);
        }
        let model_version = self.model.as_ref().map(|m| m.version);
        if self.saved.model_version != Some(model_version) {
            changes.push(SaveChange::Model(
                self.model.as_deref().map(model_file::write),
            ));
            self.saved.model_version = Some(model_version);
        }
        let project = self.saved_project();
        if self.saved.project.as_ref() != Some(&project) {
            changes.push(SaveChange::Project(Box::new(project.clone())));
            self.saved.project = Some(project);
        }
        if !changes.is_empty() {
            self.saves_in_flight += 1;
        }
        changes
    }

    fn all_photos(&self) -> impl Iterator<Item = &Photo<T>> {
        self.classes.iter().flat_map(|c| &c.photos)
    }

    fn saved_project(&self) -> SavedProject {
        SavedProject {
            classes: (self.classes.iter())
                .map(|class| SavedClass {
                    id: class.id.0,
                    name: class.name.clone(),
                    photos: class.photos.iter().map(|p| p.id.0).collect(),
                })
                .collect(),
            settings: self.settings.clone(),
            train_way: self.train_way,
            predicted_places: self.predicted_places.clone(),
            next_id: self.next_id,
            runs_started: self.runs_started,
            final_tests_run: self.final_tests_run,
            model: self.model.as_ref().map(|model| SavedModelRecord {
                version: model.version.0,
                example_photos: self.model_examples.iter().map(|p| p.0).collect(),
                test_photos: (self.model_test.photos.iter())
                    .map(|(id, class)| (id.0, *class))
                    .collect(),
                validation: model.validation.clone(),
            }),
            comparison: self.comparison.as_ref().map(|comparison| SavedComparison {
                predicted: comparison.predicted.clone(),
                results: (comparison.results.iter())
                    .map(|result| SavedWayResult {
                        way: result.way,
                        done: result.state == WayState::Done,
                        trainable_params: result.trainable_params,
                        training_ms: result.training_ms,
                        validation_accuracy: result.validation_accuracy,
                        test_accuracy: result.test_accuracy,
                        history: result.history.clone(),
                    })
                    .collect(),
                test_photos: (comparison.test_photos.iter())
                    .map(|(id, class)| (id.0, *class))
                    .collect(),
                settings: comparison.settings.clone(),
                current: comparison.revision == self.revision,
            }),
            final_test: self.final_test.as_ref().and_then(|test| {
                Some(SavedFinalTest {
                    model_version: test.model_version.0,
                    correct: test.correct?,
                    total: test.total,
                    settings: test.settings.clone(),
                    current: test.revision == self.revision,
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        Effects, State, assert_new_photos_take_new_ids, files, finish, open, reopened, save,
        trainable, with_photos,
    };
    use crate::{Action, Notice};
    use headstart_core::protocol::Request;

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
        Rc::make_mut(state.model.as_mut().unwrap()).validation = vec![validation];
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
    fn saved_is_said_only_once_every_save_handed_to_storage_has_landed() {
        let (mut state, a) = trainable();
        assert!(!state.unsaved_changes().is_empty());
        state.apply::<&str>(Action::RenameClass(a, "dogs".into()));
        assert!(!state.unsaved_changes().is_empty());
        assert!(state.unsaved_changes().is_empty(), "nothing new: no save");
        assert!(state.saving_now());
        state.apply::<&str>(Action::Saved);
        assert!(state.saving_now(), "one save is still on its way");
        state.apply::<&str>(Action::SaveFailed {
            detail: "UnknownError".into(),
            quota: false,
        });
        assert!(!state.saving_now());
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
        let said = |state: &State| {
            let not_saved = |n: &&Notice| matches!(n, Notice::NotSaved { .. });
            state
                .notices
                .iter()
                .filter(not_saved)
                .cloned()
                .collect::<Vec<_>>()
        };
        // Nothing was ever saved, so the page does not say that earlier work is kept.
        let first = Notice::NotSaved {
            quota: true,
            earlier_kept: false,
        };
        assert_eq!(said(&state), std::slice::from_ref(&first));
        assert!(state.last_save_failed());
        state.apply::<&str>(Action::RenameClass(a, "dogs".into()));
        save(&mut state, &storage);
        assert!(!state.last_save_failed());
        assert_eq!(storage.photos_held(), 4);
        assert_eq!(
            reopened(&storage, StorageAccess::Granted).classes,
            state.classes
        );
        // Once a save has landed, a failure leaves that work in storage, and says so.
        state.apply::<&str>(Action::RenameClass(a, "cats".into()));
        state.unsaved_changes();
        state.apply::<&str>(Action::SaveFailed {
            detail: "UnknownError".into(),
            quota: false,
        });
        let later = Notice::NotSaved {
            quota: false,
            earlier_kept: true,
        };
        assert_eq!(said(&state), [first, later]);
    }
}
