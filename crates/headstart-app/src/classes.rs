//! The student's classes and their photos: adding, naming, deleting and moving them, and how
//! the next run splits them. A photo comes in as a job for the workers (its embedding) and
//! takes its place in its class when the answer arrives.

use crate::jobs::{PendingJob, photo_failure, unanswered};
use crate::{AppState, Effect, Notice, RunPurpose};
use headstart_core::dataset::{RunSplit, run_split};
use headstart_core::embedding::Embedding;
use headstart_core::preprocess::Normalization;
use headstart_core::protocol::{Attachment, Event, JobId, Request, ViewAugmentation};
use std::collections::HashMap;

/// Identity of a class for the page's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassId(pub u32);

/// Identity of a photo for the page's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhotoId(pub u32);

/// A photo in a class, reduced to what training and display need.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo<T> {
    /// Identity within the session.
    pub id: PhotoId,
    /// The name of the file it came from.
    pub file_name: String,
    /// Its small thumbnail.
    pub thumbnail: T,
    /// The exact 224x224 image the backbone saw (lossless).
    pub input: T,
    /// Cached backbone embedding, computed once when the photo was added.
    pub embedding: Embedding,
    /// Cached embeddings of its other views (augmented, or normalized otherwise), made when a
    /// run first needed them.
    pub views: HashMap<ViewKey, Embedding>,
}

/// One way of showing a photo to the backbone other than the plain one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ViewKey {
    /// How its pixel values became input numbers.
    pub normalization: Normalization,
    /// The augmented view, if it is one.
    pub augmentation: Option<ViewAugmentation>,
}

impl<T> Photo<T> {
    /// A photo with its images and embedding, and no other views yet.
    pub fn new(
        id: PhotoId,
        file_name: String,
        thumbnail: T,
        input: T,
        embedding: Embedding,
    ) -> Self {
        Self {
            id,
            file_name,
            thumbnail,
            input,
            embedding,
            views: HashMap::new(),
        }
    }

    /// The photo's embedding under `key`, if it has been made.
    pub fn embedding_for(&self, key: &ViewKey) -> Option<&Embedding> {
        if key.normalization == Normalization::Model && key.augmentation.is_none() {
            Some(&self.embedding)
        } else {
            self.views.get(key)
        }
    }
}

/// How many photos of a class go to each part of the split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplitCounts {
    /// Photos the model learns from.
    pub train: usize,
    /// Photos that measure it while it trains (none held out when they validate by folds).
    pub validation: usize,
    /// Photos kept for the final test.
    pub test: usize,
    /// Whether the training photos take turns at validating (cross-validation).
    pub by_folds: bool,
}

/// A class the student defines.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassEntry<T> {
    /// Identity within the session.
    pub id: ClassId,
    /// The name exactly as the student is typing it (see [`ClassEntry::label`]).
    pub name: String,
    /// Its photos, in the order they were added.
    pub photos: Vec<Photo<T>>,
}

/// Longest class name, in characters: longer names are cut as they are typed (a project file
/// holds names up to this long).
pub const MAX_CLASS_NAME_CHARS: usize = 200;

impl<T> ClassEntry<T> {
    /// The name as training and predictions use it: without surrounding spaces.
    pub fn label(&self) -> &str {
        self.name.trim()
    }

    /// The name as a student reads it: "Cats", "cats" and "cats  " are one name to them.
    pub(crate) fn spoken_name(&self) -> String {
        self.label()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

impl<T: Clone> AppState<T> {
    /// Adds an empty class named "Class N" (the first free N) and returns its id.
    pub(crate) fn add_class(&mut self) -> ClassId {
        let name = (1..)
            .map(|n| format!("Class {n}"))
            .find(|name| self.classes.iter().all(|c| c.label() != name))
            .expect("a free name");
        self.add_named_class(name)
    }

    /// Adds an empty class of that name and returns its id.
    pub(crate) fn add_named_class(&mut self, name: String) -> ClassId {
        let id = ClassId(self.fresh_id());
        self.classes.push(ClassEntry {
            id,
            name,
            photos: Vec::new(),
        });
        id
    }

    /// The class a named set of photos (e.g. the samples) goes into: the class of that name,
    /// else the first empty class still called "Class N" (renamed), else a new class.
    fn claim_class(&mut self, name: &str) -> ClassId {
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
            None => self.add_named_class(name.to_string()),
        }
    }

    /// Finds a class by id.
    pub fn class(&self, id: ClassId) -> Option<&ClassEntry<T>> {
        self.classes.iter().find(|c| c.id == id)
    }

    /// Finds a class by id, to change it.
    fn class_mut(&mut self, id: ClassId) -> Option<&mut ClassEntry<T>> {
        self.classes.iter_mut().find(|c| c.id == id)
    }

    /// Moves a photo to another class (fixing a wrong label); it keeps its embedding.
    pub(crate) fn move_photo(&mut self, id: PhotoId, to: ClassId) {
        self.revision += 1;
        if self.class(to).is_none() {
            return;
        }
        let Some(photo) = self.classes.iter_mut().find_map(|class| {
            let at = class.photos.iter().position(|p| p.id == id)?;
            Some(class.photos.remove(at))
        }) else {
            return;
        };
        if let Some(class) = self.class_mut(to) {
            let at = class.photos.partition_point(|p| p.id < id);
            class.photos.insert(at, photo);
        }
    }

    /// Puts a photo into its class in id order (the order the student gave photos in); a class
    /// deleted meanwhile takes no photos, and the photo's images are dropped here.
    pub(crate) fn insert_photo(&mut self, class: ClassId, photo: Photo<T>) {
        if let Some(class) = self.class_mut(class) {
            let at = class.photos.partition_point(|p| p.id < photo.id);
            class.photos.insert(at, photo);
        }
    }

    /// Photo files for a class: each goes to the workers to be embedded, once the model is
    /// ready.
    pub(crate) fn add_photos<F>(
        &mut self,
        class: ClassId,
        files: Vec<(String, F)>,
    ) -> Vec<Effect<F, T>> {
        if !self.is_ready() {
            self.notify(Notice::ModelStillLoading);
            return Vec::new();
        }
        files
            .into_iter()
            .map(|(file_name, file)| {
                let job = self.embed_into(class, file_name);
                Effect::Send(Request::Embed { job }, Some(file))
            })
            .collect()
    }

    /// Starts the job of embedding a photo into `class`; its id is taken now, so the class
    /// keeps the order photos were given in, whichever worker finishes first.
    pub(crate) fn embed_into(&mut self, class: ClassId, file_name: String) -> JobId {
        let photo = PhotoId(self.fresh_id());
        self.start_job(PendingJob::AddPhoto {
            class,
            photo,
            file_name,
        })
    }

    /// The photo of that id, with its class.
    pub fn photo(&self, id: PhotoId) -> Option<(&ClassEntry<T>, &Photo<T>)> {
        self.classes.iter().find_map(|class| {
            let photo = class.photos.iter().find(|photo| photo.id == id)?;
            Some((class, photo))
        })
    }

    /// Finds a photo by id, to change it.
    pub(crate) fn photo_mut(&mut self, id: PhotoId) -> Option<&mut Photo<T>> {
        self.classes
            .iter_mut()
            .flat_map(|class| class.photos.iter_mut())
            .find(|photo| photo.id == id)
    }

    /// Photos still being embedded into classes.
    pub fn photos_being_added(&self) -> usize {
        self.pending
            .values()
            .filter(|job| matches!(job, PendingJob::AddPhoto { .. }))
            .count()
    }

    /// A photo being added was embedded, or could not be.
    pub(crate) fn on_photo_event<F>(
        &mut self,
        class: ClassId,
        id: PhotoId,
        file_name: String,
        event: Event,
        attachment: Attachment<T>,
    ) -> Vec<Effect<F, T>> {
        match event {
            Event::Embedded { embedding, .. } => {
                let Some((thumbnail, input)) = attachment.decoded() else {
                    return vec![Effect::Log(format!(
                        "{file_name}: embedded without thumbnail or model input"
                    ))];
                };
                self.revision += 1;
                self.insert_photo(
                    class,
                    Photo::new(id, file_name, thumbnail, input, embedding),
                );
                Vec::new()
            }
            Event::PhotoFailed { job, error } => {
                let log = photo_failure(job, &error);
                self.notify(Notice::PhotoSkipped { file_name, error });
                vec![log]
            }
            other => unanswered(&other),
        }
    }

    /// Every photo of the classes that have photos, in class order, with its label (the index
    /// of its class among those).
    pub(crate) fn labeled_photos(&self) -> (Vec<&Photo<T>>, Vec<usize>) {
        self.classes
            .iter()
            .filter(|c| !c.photos.is_empty())
            .enumerate()
            .flat_map(|(label, class)| class.photos.iter().map(move |photo| (photo, label)))
            .unzip()
    }

    /// The seeded split of photos with these labels for a run of `purpose`, under the current
    /// settings ([`run_split`]): only the model in use may validate by folds; the comparison
    /// ranks every way on the same held-out photos.
    pub(crate) fn split(&self, labels: &[usize], purpose: RunPurpose) -> RunSplit {
        let folds_allowed = purpose == RunPurpose::Model;
        run_split(labels, self.run_way(purpose), &self.settings, folds_allowed)
    }

    /// How the next training run splits each class: `(class, training, validation, test)`
    /// photos.
    pub fn split_per_class(&self) -> Vec<(ClassId, SplitCounts)> {
        let (_, labels) = self.labeled_photos();
        let planned = self.split(&labels, RunPurpose::Model);
        let by_folds = planned.by_folds();
        let split = planned.split;
        let ids: Vec<ClassId> = self
            .classes
            .iter()
            .filter(|c| !c.photos.is_empty())
            .map(|c| c.id)
            .collect();
        let counts = SplitCounts {
            by_folds,
            ..SplitCounts::default()
        };
        let mut counts = vec![counts; ids.len()];
        for &i in &split.train {
            counts[labels[i]].train += 1;
        }
        for &i in &split.validation {
            counts[labels[i]].validation += 1;
        }
        for &i in &split.test {
            counts[labels[i]].test += 1;
        }
        ids.into_iter().zip(counts).collect()
    }

    /// The names of the classes that have photos, in label order.
    pub(crate) fn class_names(&self) -> Vec<String> {
        self.classes
            .iter()
            .filter(|c| !c.photos.is_empty())
            .map(|c| c.label().to_string())
            .collect()
    }

    /// The class's name input changed; names are cut to [`MAX_CLASS_NAME_CHARS`].
    pub(crate) fn rename_class(&mut self, id: ClassId, name: &str) {
        if let Some(class) = self.class_mut(id) {
            class.name = name.chars().take(MAX_CLASS_NAME_CHARS).collect();
            self.revision += 1;
        }
    }

    /// Deletes a class and its photos.
    pub(crate) fn delete_class(&mut self, id: ClassId) {
        self.classes.retain(|c| c.id != id);
        self.revision += 1;
    }

    /// Removes one photo.
    pub(crate) fn delete_photo(&mut self, id: PhotoId) {
        for class in &mut self.classes {
            class.photos.retain(|p| p.id != id);
        }
        self.revision += 1;
    }

    /// Sample photos for the class of that name (made if needed).
    pub(crate) fn add_samples<F>(
        &mut self,
        name: &str,
        files: Vec<(String, F)>,
    ) -> Vec<Effect<F, T>> {
        let class = self.claim_class(name);
        self.add_photos(class, files)
    }

    /// The sample photos could not be fetched (`detail` for the console).
    pub(crate) fn samples_failed<F>(&mut self, detail: String) -> Vec<Effect<F, T>> {
        self.notify(Notice::SamplesUnavailable);
        vec![Effect::Log(format!("sample photos: {detail}"))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Effects, State, embedding, files, ready, sent_jobs, with_photos};
    use crate::{Action, Blocker, Effect};
    use headstart_core::protocol::Attachment;
    use headstart_core::protocol::PhotoError;
    use headstart_text::Catalog;

    #[test]
    fn starts_with_two_empty_classes_and_names_new_ones_uniquely() {
        let mut state = State::new();
        assert_eq!(state.classes.len(), 2);
        assert_eq!(state.classes[1].name, "Class 2");
        let first = state.classes[0].id;
        state.apply::<&str>(Action::RenameClass(first, "  Birds ".into()));
        assert_eq!(state.classes[0].name, "  Birds ");
        assert_eq!(state.classes[0].label(), "Birds");
        state.apply::<&str>(Action::AddClass);
        assert_eq!(state.classes[2].name, "Class 1");
    }

    #[test]
    fn photos_wait_for_the_model_and_count_as_pending_until_answered() {
        let mut state = State::new();
        let class = state.classes[0].id;
        let effects = state.apply(Action::AddPhotos(class, files(&["a.png"])));
        assert!(effects.is_empty());
        assert_eq!(state.notices, vec![Notice::ModelStillLoading]);

        let mut state = ready();
        let effects = state.apply(Action::AddPhotos(class, files(&["a.png", "b.png"])));
        let jobs = sent_jobs(&effects);
        assert_eq!(jobs.len(), 2);
        assert!(matches!(
            effects[0],
            Effect::Send(Request::Embed { .. }, Some("a.png"))
        ));
        assert_eq!(state.photos_being_added(), 2);
        assert_eq!(state.training_blocker(), Some(Blocker::PhotosBeingAdded));

        state.apply::<&str>(Action::Worker(
            Event::Embedded {
                job: jobs[0],
                embedding: embedding(1.0),
            },
            Attachment::Decoded {
                thumbnail: "thumb-a".into(),
                input: "input-a".into(),
            },
        ));
        let effects: Effects = state.apply(Action::Worker(
            Event::PhotoFailed {
                job: jobs[1],
                error: PhotoError::NotAnImage,
            },
            Attachment::Nothing,
        ));
        assert!(matches!(effects[0], Effect::Log(_)));
        assert_eq!(state.photos_being_added(), 0);
        assert_eq!(state.classes[0].photos.len(), 1);
        assert_eq!(state.classes[0].photos[0].thumbnail, "thumb-a");
        assert_eq!(
            Catalog::english().render(&state.notices.last().unwrap().message()),
            "\"b.png\" was skipped: this is not an image the browser can decode."
        );
    }

    #[test]
    fn photos_keep_the_order_they_were_added_in_whichever_worker_finishes_first() {
        let mut state = ready();
        let class = state.classes[0].id;
        let jobs = sent_jobs(&state.apply(Action::AddPhotos(class, files(&["a", "b", "c"]))));
        for &job in jobs.iter().rev() {
            state.apply::<&str>(Action::Worker(
                Event::Embedded {
                    job,
                    embedding: embedding(job.0 as f32),
                },
                Attachment::Decoded {
                    thumbnail: format!("thumb-{}", job.0),
                    input: format!("input-{}", job.0),
                },
            ));
        }
        let names: Vec<&str> = state.classes[0]
            .photos
            .iter()
            .map(|p| p.file_name.as_str())
            .collect();
        assert_eq!(names, vec!["a", "b", "c"]);
    }

    #[test]
    fn a_photo_for_a_deleted_class_is_dropped() {
        let mut state = ready();
        let class = state.classes[0].id;
        let jobs = sent_jobs(&state.apply(Action::AddPhotos(class, files(&["a.png"]))));
        state.apply::<&str>(Action::DeleteClass(class));
        state.apply::<&str>(Action::Worker(
            Event::Embedded {
                job: jobs[0],
                embedding: embedding(1.0),
            },
            Attachment::Decoded {
                thumbnail: "thumb".into(),
                input: "input".into(),
            },
        ));
        assert_eq!(state.classes.len(), 1);
        assert!(state.classes[0].photos.is_empty());
        assert_eq!(state.photos_being_added(), 0);
    }

    #[test]
    fn samples_fill_unused_default_classes_before_adding_new_ones() {
        let mut state = ready();
        let first = state.classes[0].id;
        with_photos(&mut state, first, 1);
        state.apply(Action::AddSamples("bird".into(), files(&["owl.png"])));
        assert_eq!(state.classes[1].name, "bird");
        state.apply(Action::AddSamples("flower".into(), files(&["rose.png"])));
        assert_eq!(state.classes.len(), 3);
        assert_eq!(state.classes[2].name, "flower");
        state.apply(Action::AddSamples("bird".into(), files(&["hen.png"])));
        assert_eq!(state.classes.len(), 3);
        assert_eq!(state.classes[0].name, "Class 1");
        assert_eq!(state.photos_being_added(), 3);
    }
}
