//! The page's state as plain data with plain methods: classes and their photos, the training
//! run and the predictions. No browser types: the view (`headstart-web`) renders this state and
//! turns user actions into calls here, so every rule below is tested natively.

use headstart_core::dataset::LabeledEmbedding;
use headstart_core::head::EpochReport;
use headstart_core::inference::top1;

/// Fewest photos a class needs before training starts (one can go to validation).
pub const MIN_PHOTOS_PER_CLASS: usize = 2;

/// Stable identity of a class or photo for the page's lifetime.
pub type Id = u32;

/// A photo in a class, reduced to what training needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    /// Identity within the session.
    pub id: Id,
    /// The name of the file it came from.
    pub file_name: String,
    /// Where the view finds its thumbnail (a browser object URL in the page).
    pub thumbnail: String,
    /// Cached backbone embedding, computed once when the photo was added.
    pub embedding: Vec<f32>,
}

/// A class the student defines.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassEntry {
    /// Identity within the session.
    pub id: Id,
    /// The name exactly as the student is typing it (see [`ClassEntry::label`]).
    pub name: String,
    /// Its photos, in the order they were added.
    pub photos: Vec<Photo>,
}

impl ClassEntry {
    /// The name as training and predictions use it: without surrounding spaces.
    pub fn label(&self) -> &str {
        self.name.trim()
    }
}

/// Where the training run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingState {
    /// Not started since the page opened.
    Idle,
    /// Epochs are running; the last finished one is reported.
    Running {
        /// Total epochs of the run.
        epochs: usize,
        /// Last finished epoch, if any.
        last: Option<EpochReport>,
    },
    /// Finished; predictions use the head it produced.
    Done {
        /// The final epoch's report.
        last: EpochReport,
        /// Training and validation example counts.
        split: (usize, usize),
    },
    /// Stopped with a message for the user.
    Failed(String),
}

impl TrainingState {
    /// The `data-state` the automation contract exposes.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running { .. } => "running",
            Self::Done { .. } => "done",
            Self::Failed(_) => "error",
        }
    }
}

/// One classified photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The file it came from.
    pub file_name: String,
    /// Thumbnail location, as for [`Photo::thumbnail`].
    pub thumbnail: String,
    /// `(class name, probability)` for every class the head knows, in class order.
    pub probabilities: Vec<(String, f32)>,
}

impl Prediction {
    /// The most probable class and its probability.
    pub fn top(&self) -> (&str, f32) {
        let values: Vec<f32> = self.probabilities.iter().map(|(_, p)| *p).collect();
        let (index, probability) = top1(&values);
        (self.probabilities[index].0.as_str(), probability)
    }
}

/// Everything the page shows, minus browser handles.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// The student's classes.
    pub classes: Vec<ClassEntry>,
    /// The training run.
    pub training: TrainingState,
    /// Class names the current head was trained on, in its output order.
    pub trained_classes: Option<Vec<String>>,
    /// Classified photos, newest first.
    pub predictions: Vec<Prediction>,
    /// Messages for the user about files that could not be used, newest last.
    pub notices: Vec<String>,
    next_id: Id,
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

impl AppState {
    /// Two empty classes, as a student first sees the page.
    pub fn new() -> Self {
        let mut state = Self {
            classes: Vec::new(),
            training: TrainingState::Idle,
            trained_classes: None,
            predictions: Vec::new(),
            notices: Vec::new(),
            next_id: 0,
        };
        state.add_class();
        state.add_class();
        state
    }

    fn fresh_id(&mut self) -> Id {
        self.next_id += 1;
        self.next_id
    }

    /// Adds an empty class named "Class N" (the first free N) and returns its id.
    pub fn add_class(&mut self) -> Id {
        let name = (1..)
            .map(|n| format!("Class {n}"))
            .find(|name| self.classes.iter().all(|c| c.label() != name))
            .expect("a free name");
        self.add_named_class(name)
    }

    /// Adds an empty class with the given name and returns its id.
    pub fn add_named_class(&mut self, name: impl Into<String>) -> Id {
        let id = self.fresh_id();
        self.classes.push(ClassEntry {
            id,
            name: name.into(),
            photos: Vec::new(),
        });
        id
    }

    /// The class a named set of photos (e.g. the samples) goes into: the class of that name,
    /// else the first empty class still called "Class N" (renamed), else a new class.
    pub fn claim_class(&mut self, name: &str) -> Id {
        if let Some(class) = self.classes.iter().find(|c| c.label() == name) {
            return class.id;
        }
        let unused_default = self.classes.iter_mut().find(|c| {
            c.photos.is_empty()
                && c.label()
                    .strip_prefix("Class ")
                    .is_some_and(|n| n.parse::<u32>().is_ok())
        });
        match unused_default {
            Some(class) => {
                class.name = name.to_string();
                class.id
            }
            None => self.add_named_class(name),
        }
    }

    /// Renames a class to what the student has typed so far (kept as typed, so the view never
    /// fights the input; [`ClassEntry::label`] is the trimmed name).
    pub fn rename_class(&mut self, id: Id, name: &str) {
        if let Some(class) = self.class_mut(id) {
            class.name = name.to_string();
        }
    }

    /// Removes a class with its photos, returning the removed thumbnails so the view can free
    /// them.
    pub fn delete_class(&mut self, id: Id) -> Vec<String> {
        let Some(position) = self.classes.iter().position(|c| c.id == id) else {
            return Vec::new();
        };
        let removed = self.classes.remove(position);
        removed.photos.into_iter().map(|p| p.thumbnail).collect()
    }

    /// Adds an embedded photo to a class; returns false if the class no longer exists.
    pub fn add_photo(
        &mut self,
        class_id: Id,
        file_name: String,
        thumbnail: String,
        embedding: Vec<f32>,
    ) -> bool {
        let id = self.fresh_id();
        match self.class_mut(class_id) {
            Some(class) => {
                class.photos.push(Photo {
                    id,
                    file_name,
                    thumbnail,
                    embedding,
                });
                true
            }
            None => false,
        }
    }

    /// Removes one photo, returning its thumbnail.
    pub fn delete_photo(&mut self, photo_id: Id) -> Option<String> {
        self.classes.iter_mut().find_map(|class| {
            let position = class.photos.iter().position(|p| p.id == photo_id)?;
            Some(class.photos.remove(position).thumbnail)
        })
    }

    /// Finds a class by id.
    pub fn class(&self, id: Id) -> Option<&ClassEntry> {
        self.classes.iter().find(|c| c.id == id)
    }

    fn class_mut(&mut self, id: Id) -> Option<&mut ClassEntry> {
        self.classes.iter_mut().find(|c| c.id == id)
    }

    /// Why training cannot start now, in words for the student; `None` when it can.
    pub fn training_blocker(&self) -> Option<String> {
        if matches!(self.training, TrainingState::Running { .. }) {
            return Some("Training is already running.".into());
        }
        let with_photos: Vec<&ClassEntry> = self
            .classes
            .iter()
            .filter(|c| !c.photos.is_empty())
            .collect();
        if with_photos.len() < 2 {
            return Some("Add photos to at least two classes.".into());
        }
        if self.classes.iter().any(|c| c.label().is_empty()) {
            return Some("Every class needs a name.".into());
        }
        let mut names: Vec<&str> = self.classes.iter().map(ClassEntry::label).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Some(format!(
                "Two classes are both called \"{}\"; rename one.",
                pair[0]
            ));
        }
        if let Some(class) = with_photos
            .iter()
            .find(|c| c.photos.len() < MIN_PHOTOS_PER_CLASS)
        {
            return Some(format!(
                "\"{}\" needs at least {MIN_PHOTOS_PER_CLASS} photos.",
                class.label()
            ));
        }
        None
    }

    /// The training examples and the class names in label order. Classes without photos are
    /// left out: the head only learns classes it has seen.
    pub fn training_set(&self) -> (Vec<LabeledEmbedding>, Vec<String>) {
        let classes: Vec<&ClassEntry> = self
            .classes
            .iter()
            .filter(|c| !c.photos.is_empty())
            .collect();
        let examples = classes
            .iter()
            .enumerate()
            .flat_map(|(label, class)| {
                class.photos.iter().map(move |photo| LabeledEmbedding {
                    embedding: photo.embedding.clone(),
                    label,
                })
            })
            .collect();
        (
            examples,
            classes.iter().map(|c| c.label().to_string()).collect(),
        )
    }

    /// Marks the start of a training run of `epochs` epochs.
    pub fn start_training(&mut self, epochs: usize) {
        self.training = TrainingState::Running { epochs, last: None };
    }

    /// Records a finished epoch of the running training.
    pub fn record_epoch(&mut self, report: EpochReport) {
        if let TrainingState::Running { last, .. } = &mut self.training {
            *last = Some(report);
        }
    }

    /// Marks the run finished; predictions now name `class_names`.
    pub fn finish_training(
        &mut self,
        last: EpochReport,
        split: (usize, usize),
        class_names: Vec<String>,
    ) {
        self.training = TrainingState::Done { last, split };
        self.trained_classes = Some(class_names);
    }

    /// Marks the run failed; any earlier trained head stays usable.
    pub fn fail_training(&mut self, message: String) {
        self.training = TrainingState::Failed(message);
    }

    /// Whether the classes changed since the head was trained (names, or classes with photos).
    pub fn classes_changed_since_training(&self) -> bool {
        match &self.trained_classes {
            Some(trained) => self.training_set().1 != *trained,
            None => false,
        }
    }

    /// Records the probabilities the head gave a photo, labelled with the trained class names.
    pub fn add_prediction(&mut self, file_name: String, thumbnail: String, probabilities: &[f32]) {
        let names = self.trained_classes.clone().unwrap_or_default();
        let probabilities = names
            .into_iter()
            .zip(probabilities.iter().copied())
            .collect();
        self.predictions.insert(
            0,
            Prediction {
                file_name,
                thumbnail,
                probabilities,
            },
        );
    }

    /// Removes all predictions, returning their thumbnails.
    pub fn clear_predictions(&mut self) -> Vec<String> {
        self.predictions.drain(..).map(|p| p.thumbnail).collect()
    }

    /// Tells the user something went wrong with one input, keeping the last 20 messages.
    pub fn notify(&mut self, message: String) {
        self.notices.push(message);
        let excess = self.notices.len().saturating_sub(20);
        self.notices.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use headstart_core::head::Metrics;

    fn report(epoch: usize) -> EpochReport {
        let metrics = Metrics {
            loss: 0.5,
            accuracy: 0.9,
        };
        EpochReport {
            epoch,
            train: metrics,
            validation: Some(metrics),
        }
    }

    fn with_photos(state: &mut AppState, class: Id, count: usize) {
        for i in 0..count {
            assert!(state.add_photo(
                class,
                format!("{i}.png"),
                format!("blob:{class}-{i}"),
                vec![i as f32]
            ));
        }
    }

    #[test]
    fn starts_with_two_empty_classes_and_names_new_ones_uniquely() {
        let mut state = AppState::new();
        assert_eq!(state.classes.len(), 2);
        assert_eq!(state.classes[1].name, "Class 2");
        state.rename_class(state.classes[0].id, "  Birds ");
        assert_eq!(state.classes[0].name, "  Birds ");
        assert_eq!(state.classes[0].label(), "Birds");
        let id = state.add_class();
        assert_eq!(state.class(id).unwrap().name, "Class 1");
    }

    #[test]
    fn samples_fill_unused_default_classes_before_adding_new_ones() {
        let mut state = AppState::new();
        let first = state.classes[0].id;
        with_photos(&mut state, first, 1);
        let bird = state.claim_class("bird");
        assert_eq!(bird, state.classes[1].id);
        let flower = state.claim_class("flower");
        assert_eq!(state.classes.len(), 3);
        assert_eq!(state.class(flower).unwrap().name, "flower");
        assert_eq!(state.claim_class("bird"), bird);
        assert_eq!(state.class(first).unwrap().name, "Class 1");
    }

    #[test]
    fn training_needs_two_named_distinct_classes_with_enough_photos() {
        let mut state = AppState::new();
        let (a, b) = (state.classes[0].id, state.classes[1].id);
        assert_eq!(
            state.training_blocker().unwrap(),
            "Add photos to at least two classes."
        );
        with_photos(&mut state, a, 3);
        with_photos(&mut state, b, 1);
        assert_eq!(
            state.training_blocker().unwrap(),
            "\"Class 2\" needs at least 2 photos."
        );
        with_photos(&mut state, b, 1);
        state.rename_class(b, "Class 1");
        assert!(
            state
                .training_blocker()
                .unwrap()
                .contains("both called \"Class 1\"")
        );
        state.rename_class(b, "");
        assert_eq!(
            state.training_blocker().unwrap(),
            "Every class needs a name."
        );
        state.rename_class(b, "Fruit");
        assert_eq!(state.training_blocker(), None);
        state.start_training(10);
        assert_eq!(state.training.name(), "running");
        assert!(state.training_blocker().is_some());
    }

    #[test]
    fn training_set_labels_only_classes_with_photos_in_order() {
        let mut state = AppState::new();
        let empty = state.classes[0].id;
        let b = state.classes[1].id;
        let c = state.add_named_class("C");
        with_photos(&mut state, b, 2);
        with_photos(&mut state, c, 3);
        let (examples, names) = state.training_set();
        assert_eq!(names, vec!["Class 2", "C"]);
        assert_eq!(
            examples.iter().map(|e| e.label).collect::<Vec<_>>(),
            vec![0, 0, 1, 1, 1]
        );
        let thumbnails = state.delete_class(c);
        assert_eq!(thumbnails.len(), 3);
        assert!(!state.add_photo(c, "x.png".into(), "blob:x".into(), vec![]));
        assert_eq!(state.class(empty).unwrap().photos.len(), 0);
    }

    #[test]
    fn predictions_are_named_by_the_classes_the_head_was_trained_on() {
        let mut state = AppState::new();
        let (a, b) = (state.classes[0].id, state.classes[1].id);
        with_photos(&mut state, a, 2);
        with_photos(&mut state, b, 2);
        state.start_training(1);
        state.record_epoch(report(1));
        state.finish_training(report(1), (2, 2), state.training_set().1);
        assert_eq!(state.training.name(), "done");
        state.add_prediction("new.jpg".into(), "blob:new".into(), &[0.25, 0.75]);
        assert_eq!(state.predictions[0].top(), ("Class 2", 0.75));
        assert!(!state.classes_changed_since_training());
        state.rename_class(a, "Cats");
        assert!(state.classes_changed_since_training());
        assert_eq!(state.predictions[0].top().0, "Class 2");
        assert_eq!(state.clear_predictions(), vec!["blob:new".to_string()]);
    }

    #[test]
    fn deleting_a_photo_returns_its_thumbnail_and_notices_are_bounded() {
        let mut state = AppState::new();
        let a = state.classes[0].id;
        with_photos(&mut state, a, 2);
        let photo = state.classes[0].photos[0].id;
        assert_eq!(state.delete_photo(photo), Some(format!("blob:{a}-0")));
        assert_eq!(state.classes[0].photos.len(), 1);
        for i in 0..25 {
            state.notify(format!("n{i}"));
        }
        assert_eq!(state.notices.len(), 20);
        assert_eq!(state.notices[0], "n5");
    }
}
