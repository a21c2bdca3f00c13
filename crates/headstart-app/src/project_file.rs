//! The project file (`.hsp`): a whole project (its classes and photos, and if asked their
//! embeddings and the model in use) as one file a teacher hands to a class. Like the model
//! file it is a [safetensors](https://github.com/huggingface/safetensors) file, so any
//! safetensors reader opens it:
//!
//! - `__metadata__` (all strings): `format` = `headstart-project`, `format_version` = `2`,
//!   `backbone`, `backbone_sha256` and `preprocessing` as in the model file (the embeddings are
//!   that backbone's), `project`: JSON with `classes` (each a `name` and its photos'
//!   `file_names`, in order), `settings` (the training settings) and `train_way`; and the
//!   checksums `data_sha256` and `header_sha256` ([`headstart_core::checksum`]). Version 1
//!   files, from before the checksums, are read as before.
//! - Tensors, U8 `[bytes]` unless said: `photo.NNNNNN.thumbnail` (a JPEG) and
//!   `photo.NNNNNN.input` (the 224×224 model input, a PNG) for each photo, numbered from 0
//!   across the classes in order; if included, `embeddings`, F32 `[photos, 1280]` in the same
//!   order, and `model`, the model in use as a whole model file (`.hsm`).
//!
//! The page writes it without holding more than one photo: [`AppState::project_file`] gives
//! the parts in order, the browser feeds each to a digest and then asks for the header
//! ([`ProjectFileDraft::header`]), and joins header and parts into one file. Reading goes the
//! other way: [`header_length`] from the first 8 bytes, then [`read_layout`] checks the whole
//! header against the file's size, and the page checks the data against its checksum
//! ([`ProjectLayout::integrity`]) before it takes anything out of the file.

use crate::Blocker;
use crate::{AppState, ClassId, Effect, Notice, Photo, PhotoId};
use headstart_core::checksum::{DataDigest, Integrity};
use headstart_core::embedding::{EMBEDDING_DIM, Embedding};
use headstart_core::model_file::{
    BACKBONE, BACKBONE_SHA256, FormatVersions, HeaderEntry, IdentityProblem, PREPROCESSING,
    check_identity, safetensors_header,
};
use headstart_core::protocol::Request;
use headstart_core::training::{TrainingSettings, Way};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

/// The `format` a project file names.
pub const FORMAT: &str = "headstart-project";

/// The versions of the project file this build reads: it writes the current one.
pub const VERSIONS: FormatVersions = FormatVersions {
    oldest: 1,
    checksummed: 2,
    current: 2,
};

/// Largest header read: 20,000 photos need about 2 MB.
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

/// Most photos a project file may hold.
pub const MAX_PHOTOS: usize = 20_000;

/// Most classes a project file may hold.
const MAX_CLASSES: usize = 1000;
/// Longest file name kept from a project file.
const MAX_FILE_NAME_CHARS: usize = 200;

/// The suggested name of an exported project file.
pub const FILE_NAME: &str = "headstart-project.hsp";

/// Why a file is not a project this page can open.
#[derive(Debug, Clone, PartialEq)]
pub enum ProjectFileError {
    /// Not a Headstart project file (another file, or one cut short).
    NotAProjectFile(String),
    /// A project file of another format version.
    OtherVersion(String),
    /// Embeddings of another backbone.
    OtherBackbone(String),
    /// Parts that do not fit together (edited or damaged).
    Damaged(String),
}

impl std::fmt::Display for ProjectFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAProjectFile(detail) => write!(f, "not a Headstart project file ({detail})"),
            Self::OtherVersion(version) => write!(f, "project file format version {version}"),
            Self::OtherBackbone(backbone) => {
                write!(f, "embeddings of another backbone ({backbone})")
            }
            Self::Damaged(detail) => write!(f, "a damaged project file ({detail})"),
        }
    }
}

impl std::error::Error for ProjectFileError {}

/// What to put in a project file besides the classes and photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectFileOptions {
    /// The photos' embeddings (5 KB a photo): the file opens without embedding anything.
    pub embeddings: bool,
    /// The model in use, if there is one.
    pub model: bool,
}

/// One piece of a project file after its header, in order: bytes made here, or an image the
/// state holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FilePart<T> {
    /// Bytes (the embeddings, the model file).
    Bytes(Vec<u8>),
    /// A thumbnail or a model input, whole.
    Image(T),
}

/// The project's record in the file's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    classes: Vec<ManifestClass>,
    settings: TrainingSettings,
    train_way: Way,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ManifestClass {
    name: String,
    file_names: Vec<String>,
}

/// The byte ranges of a project file's parts, checked against each other and the file's size.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectLayout {
    /// The classes, in order.
    pub classes: Vec<ClassLayout>,
    /// The settings it was made with.
    pub settings: TrainingSettings,
    /// The way its Train button trained.
    pub train_way: Way,
    /// Where the embeddings are, if included: `photos × 1280` little-endian floats.
    pub embeddings: Option<Range<u64>>,
    /// Where the model file is, if included.
    pub model: Option<Range<u64>>,
    /// Every byte after the header, to the end of the file.
    pub data: Range<u64>,
    /// What those bytes must hash to.
    pub integrity: Integrity,
}

/// One class of a project file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassLayout {
    /// Its name.
    pub name: String,
    /// Its photos, in order.
    pub photos: Vec<PhotoLayout>,
}

/// Where one photo's images are in a project file.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoLayout {
    /// The file it came from.
    pub file_name: String,
    /// Its thumbnail (a JPEG).
    pub thumbnail: Range<u64>,
    /// Its model input (a PNG).
    pub input: Range<u64>,
}

impl ProjectLayout {
    /// Photos in the file.
    pub fn photos(&self) -> usize {
        self.classes.iter().map(|c| c.photos.len()).sum()
    }

    /// Whether the bytes after the header ([`Self::data`], fed to `digest`) are the ones the
    /// header names.
    pub fn check_data(&self, digest: DataDigest) -> Result<(), ProjectFileError> {
        match self.integrity.holds(digest) {
            true => Ok(()),
            false => Err(ProjectFileError::Damaged("its data changed".into())),
        }
    }
}

fn photo_tensor(index: usize, part: &str) -> String {
    format!("photo.{index:06}.{part}")
}

fn metadata(manifest: &Manifest) -> BTreeMap<&'static str, String> {
    [
        ("format", FORMAT.to_string()),
        ("format_version", VERSIONS.current.to_string()),
        ("backbone", BACKBONE.to_string()),
        ("backbone_sha256", BACKBONE_SHA256.to_string()),
        ("preprocessing", PREPROCESSING.to_string()),
        (
            "project",
            serde_json::to_string(manifest).expect("the manifest serializes"),
        ),
    ]
    .into_iter()
    .collect()
}

/// The header's length from a project file's first 8 bytes, checked against the file's size.
pub fn header_length(first: &[u8], file_bytes: u64) -> Result<u64, ProjectFileError> {
    let not_one = |detail: &str| ProjectFileError::NotAProjectFile(detail.into());
    let first: [u8; 8] = (first.get(..8))
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| not_one("shorter than a header"))?;
    let length = u64::from_le_bytes(first);
    if length > MAX_HEADER_BYTES || length.saturating_add(8) > file_bytes {
        return Err(not_one("no header of that size fits"));
    }
    Ok(length)
}

/// One tensor's entry as the header says it.
#[derive(Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

/// Reads a project file's header (the JSON after the first 8 bytes) and checks that every
/// part it names lies inside a file of `file_bytes` bytes, with the type and size it must have.
pub fn read_layout(header: &[u8], file_bytes: u64) -> Result<ProjectLayout, ProjectFileError> {
    let damaged = |detail: String| ProjectFileError::Damaged(detail);
    let mut entries: HashMap<String, serde_json::Value> = serde_json::from_slice(header)
        .map_err(|e| ProjectFileError::NotAProjectFile(format!("header: {e}")))?;
    let metadata: HashMap<String, String> = entries
        .remove("__metadata__")
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default();
    let field = |key: &str| metadata.get(key).map(String::as_str);
    let integrity =
        check_identity(header, field, FORMAT, VERSIONS).map_err(|problem| match problem {
            IdentityProblem::NotOurs => {
                ProjectFileError::NotAProjectFile("it does not say it is one".into())
            }
            IdentityProblem::OtherVersion(version) => ProjectFileError::OtherVersion(version),
            IdentityProblem::OtherBackbone(backbone) => ProjectFileError::OtherBackbone(backbone),
            IdentityProblem::Damaged(problem) => damaged(format!("{problem:?}")),
        })?;
    let manifest: Manifest = serde_json::from_str(field("project").unwrap_or(""))
        .map_err(|e| damaged(format!("project: {e}")))?;
    let data_start = 8 + header.len() as u64;
    let mut tensors = tensor_table(entries, file_bytes - data_start.min(file_bytes))?;
    let mut take = |name: &str, dtype: &str| -> Result<Option<(Vec<u64>, Range<u64>)>, _> {
        match tensors.remove(name) {
            Some((kind, shape, range)) if kind == dtype => Ok(Some((
                shape,
                data_start + range.start..data_start + range.end,
            ))),
            Some((kind, ..)) => Err(damaged(format!("{name} is {kind}"))),
            None => Ok(None),
        }
    };
    if !(1..=MAX_CLASSES).contains(&manifest.classes.len()) {
        return Err(damaged(format!("{} classes", manifest.classes.len())));
    }
    let mut index = 0;
    let mut classes = Vec::new();
    for class in &manifest.classes {
        if class.name.chars().count() > crate::MAX_CLASS_NAME_CHARS {
            return Err(damaged("a class name that long".into()));
        }
        let mut photos = Vec::new();
        for file_name in &class.file_names {
            if index == MAX_PHOTOS {
                return Err(damaged(format!("more than {MAX_PHOTOS} photos")));
            }
            let mut image = |part: &str| {
                let name = photo_tensor(index, part);
                take(&name, "U8")?
                    .map(|(_, range)| range)
                    .ok_or_else(|| damaged(format!("no {name}")))
            };
            let (thumbnail, input) = (image("thumbnail")?, image("input")?);
            photos.push(PhotoLayout {
                file_name: file_name.chars().take(MAX_FILE_NAME_CHARS).collect(),
                thumbnail,
                input,
            });
            index += 1;
        }
        classes.push(ClassLayout {
            name: class.name.clone(),
            photos,
        });
    }
    let embeddings = match take("embeddings", "F32")? {
        Some((shape, range)) if shape == [index as u64, EMBEDDING_DIM as u64] => Some(range),
        Some((shape, _)) => return Err(damaged(format!("embeddings of shape {shape:?}"))),
        None => None,
    };
    let model = take("model", "U8")?.map(|(_, range)| range);
    if let Some(extra) = tensors.keys().next() {
        return Err(damaged(format!("an unknown part {extra}")));
    }
    Ok(ProjectLayout {
        classes,
        settings: manifest.settings.within_limits(),
        train_way: manifest.train_way,
        embeddings,
        model,
        data: data_start..file_bytes,
        integrity,
    })
}

/// A tensor the header lists: its type, its shape and its place inside the data.
type TensorEntry = (String, Vec<u64>, Range<u64>);

/// Every tensor of the header's `entries`, by name, its length checked against its shape and
/// the data (`data_bytes` long).
fn tensor_table(
    entries: HashMap<String, serde_json::Value>,
    data_bytes: u64,
) -> Result<HashMap<String, TensorEntry>, ProjectFileError> {
    let damaged = |detail: String| ProjectFileError::Damaged(detail);
    let mut tensors = HashMap::new();
    for (name, value) in entries {
        let entry: Entry =
            serde_json::from_value(value).map_err(|e| damaged(format!("{name}: {e}")))?;
        let [start, end] = entry.data_offsets;
        let element = match entry.dtype.as_str() {
            "U8" => 1,
            "F32" => 4,
            other => return Err(damaged(format!("{name} is {other}"))),
        };
        let length = (entry.shape.iter())
            .try_fold(element, |n: u64, d| n.checked_mul(*d))
            .ok_or_else(|| damaged(format!("{name} is too large")))?;
        if start > end || end > data_bytes || end - start != length {
            return Err(damaged(format!("{name} lies outside the file")));
        }
        tensors.insert(name, (entry.dtype, entry.shape, start..end));
    }
    Ok(tensors)
}

/// The embeddings of a project file's `photos` photos, from the bytes of its `embeddings` part.
pub fn embeddings_of(bytes: &[u8], photos: usize) -> Result<Vec<Embedding>, ProjectFileError> {
    if bytes.len() != photos * EMBEDDING_DIM * 4 {
        return Err(ProjectFileError::Damaged("embeddings cut short".into()));
    }
    (bytes.chunks_exact(EMBEDDING_DIM * 4))
        .map(|row| {
            let values: Vec<f32> = (row.chunks_exact(4))
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            Embedding::try_from(values)
                .map_err(|e| ProjectFileError::Damaged(format!("an embedding: {e}")))
        })
        .collect()
}

/// A project file opened by the page: its classes with their photos, ready to add.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedProject<T> {
    /// The file's name.
    pub file_name: String,
    /// Its classes, in order, each with its photos.
    pub classes: Vec<(String, Vec<ImportedPhoto<T>>)>,
    /// The settings it was made with.
    pub settings: TrainingSettings,
    /// The way its Train button trained.
    pub train_way: Way,
    /// Its model file, if it holds one.
    pub model_file: Option<Vec<u8>>,
}

impl<T> ImportedProject<T> {
    fn photos(&self) -> usize {
        self.classes.iter().map(|(_, photos)| photos.len()).sum()
    }
}

/// One photo of a project file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPhoto<T> {
    /// The file it came from.
    pub file_name: String,
    /// Its thumbnail.
    pub thumbnail: T,
    /// Its model input.
    pub input: T,
    /// Its embedding, when the file holds them; otherwise a worker embeds the model input.
    pub embedding: Option<Embedding>,
}

/// What to do with a project file opened into a project that has work in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportChoice {
    /// The file's project replaces this one (its model too, if it has one).
    Replace,
    /// The file's photos join this project's classes of the same name; new classes are added.
    Merge,
    /// Nothing changes.
    Cancel,
}

/// A project file but its header, which names the parts' checksum: the parts, in order, and
/// what the header needs besides.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectFileDraft<T> {
    /// Everything after the header, in order.
    pub parts: Vec<FilePart<T>>,
    metadata: BTreeMap<&'static str, String>,
    entries: Vec<HeaderEntry>,
}

impl<T> ProjectFileDraft<T> {
    /// The header, given the SHA-256 of the parts in order (their bytes as the file holds them).
    pub fn header(&self, data_sha256: &str) -> Vec<u8> {
        safetensors_header(&self.metadata, &self.entries, data_sha256)
    }
}

impl<T: Clone> AppState<T> {
    /// The project as a project file's parts, in order, and its header once they are hashed.
    /// `image_bytes` tells an image's size (the header states every part's length first).
    pub fn project_file(
        &self,
        options: ProjectFileOptions,
        image_bytes: impl Fn(&T) -> u64,
    ) -> ProjectFileDraft<T> {
        let photos: Vec<&Photo<T>> = self.classes.iter().flat_map(|c| &c.photos).collect();
        let manifest = Manifest {
            classes: (self.classes.iter())
                .map(|class| ManifestClass {
                    name: class.name.clone(),
                    file_names: class.photos.iter().map(|p| p.file_name.clone()).collect(),
                })
                .collect(),
            settings: self.settings.clone(),
            train_way: self.train_way,
        };
        let mut entries = Vec::new();
        let mut parts = Vec::new();
        let mut add = |entry: HeaderEntry, part: FilePart<T>| {
            entries.push(entry);
            parts.push(part);
        };
        let bytes_entry = |name: String, dtype, shape, bytes| HeaderEntry {
            name,
            dtype,
            shape,
            bytes,
        };
        for (index, photo) in photos.iter().enumerate() {
            for (part, image) in [("thumbnail", &photo.thumbnail), ("input", &photo.input)] {
                let bytes = image_bytes(image);
                let entry =
                    bytes_entry(photo_tensor(index, part), "U8", vec![bytes as usize], bytes);
                add(entry, FilePart::Image(image.clone()));
            }
        }
        if options.embeddings && !photos.is_empty() {
            let values: Vec<u8> = (photos.iter())
                .flat_map(|p| p.embedding.values())
                .flat_map(|v| v.to_le_bytes())
                .collect();
            let shape = vec![photos.len(), EMBEDDING_DIM];
            let entry = bytes_entry("embeddings".into(), "F32", shape, values.len() as u64);
            add(entry, FilePart::Bytes(values));
        }
        if let Some(model) = self.model.as_ref().filter(|_| options.model) {
            let file = headstart_core::model_file::write(model);
            let entry = bytes_entry("model".into(), "U8", vec![file.len()], file.len() as u64);
            add(entry, FilePart::Bytes(file));
        }
        ProjectFileDraft {
            parts,
            metadata: metadata(&manifest),
            entries,
        }
    }

    /// A project file was opened: into an empty project it is added at once; otherwise the
    /// student chooses to replace or merge ([`ImportChoice`]).
    pub(crate) fn import_project<F>(&mut self, project: ImportedProject<T>) -> Vec<Effect<F, T>> {
        if self.training_busy() {
            self.notify(Notice::Blocked(Blocker::StopBeforeOpeningProject));
            return Vec::new();
        }
        if !self.is_ready() {
            self.notify(Notice::ModelStillLoading);
            return Vec::new();
        }
        let has_work = self.model.is_some() || self.classes.iter().any(|c| !c.photos.is_empty());
        if has_work {
            self.pending_import = Some(Box::new(project));
            return Vec::new();
        }
        self.adopt_project(project, ImportChoice::Replace)
    }

    /// The student's answer to "replace or merge?".
    pub(crate) fn resolve_import<F>(&mut self, choice: ImportChoice) -> Vec<Effect<F, T>> {
        match self.pending_import.take() {
            Some(project) if !self.training_busy() => self.adopt_project(*project, choice),
            _ => Vec::new(),
        }
    }

    fn adopt_project<F>(
        &mut self,
        project: ImportedProject<T>,
        choice: ImportChoice,
    ) -> Vec<Effect<F, T>> {
        let mut effects = Vec::new();
        let photos = project.photos();
        match choice {
            ImportChoice::Cancel => return effects,
            ImportChoice::Replace => {
                self.reset_project();
                self.classes.clear();
                self.settings = project.settings.within_limits();
                self.train_way = project.train_way;
            }
            ImportChoice::Merge => {}
        }
        let mut claimed = HashSet::new();
        for (name, imported) in project.classes {
            let class = self.class_for_import(&name, &mut claimed);
            for photo in imported {
                effects.extend(self.add_imported_photo(class, photo));
            }
        }
        self.revision += 1;
        self.notify(Notice::ProjectOpened {
            file_name: project.file_name.clone(),
            photos,
        });
        if let (ImportChoice::Replace, Some(file)) = (choice, project.model_file) {
            effects.extend(self.import_model(project.file_name, &file));
        }
        effects
    }

    /// The class an imported class's photos go to: on a merge the class of the same name, and
    /// otherwise (or when that class already took another of the file's classes) a new one.
    fn class_for_import(&mut self, name: &str, claimed: &mut HashSet<ClassId>) -> ClassId {
        let same_name = (self.classes.iter())
            .find(|c| c.label() == name.trim() && !claimed.contains(&c.id))
            .map(|c| c.id);
        let class = same_name.unwrap_or_else(|| self.add_named_class(name.to_string()));
        claimed.insert(class);
        class
    }

    fn add_imported_photo<F>(
        &mut self,
        class: ClassId,
        photo: ImportedPhoto<T>,
    ) -> Vec<Effect<F, T>> {
        let ImportedPhoto {
            file_name,
            thumbnail,
            input,
            embedding,
        } = photo;
        match embedding {
            Some(embedding) => {
                let id = PhotoId(self.fresh_id());
                let photo = Photo::new(id, file_name, thumbnail, input, embedding);
                self.insert_photo(class, photo);
                Vec::new()
            }
            None => {
                let job = self.embed_into(class, file_name);
                vec![Effect::SendWithInput(Request::Embed { job }, input)]
            }
        }
    }

    /// Every class, photo, model and result goes; the model stays loaded and saving goes on.
    pub(crate) fn reset_project(&mut self) {
        let fresh = Self::new();
        let kept_status = std::mem::replace(&mut self.model_status, fresh.model_status.clone());
        let storage = self.storage.clone();
        let saved = std::mem::take(&mut self.saved);
        let next_id = self.next_id;
        *self = Self {
            model_status: kept_status,
            storage,
            saved,
            ..fresh
        };
        // Identities keep counting, so that a late worker event cannot land in the new project.
        self.next_id = self.next_id.max(next_id);
        // Photos that are no longer listed are deleted from storage by the next save.
        self.revision += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        Effects, State, assert_new_photos_take_new_ids, finish, ready, reopened, save, trainable,
        with_photos,
    };
    use crate::{Action, MemoryStorage, Notice, StorageAccess};
    use headstart_core::checksum;

    /// The project file's bytes, as the page joins its parts (images here are their text).
    fn project_file_bytes(state: &State, options: ProjectFileOptions) -> Vec<u8> {
        let draft = state.project_file(options, |image| image.len() as u64);
        let data: Vec<u8> = (draft.parts.iter())
            .flat_map(|part| match part {
                FilePart::Bytes(bytes) => bytes.clone(),
                FilePart::Image(text) => text.clone().into_bytes(),
            })
            .collect();
        let mut digest = DataDigest::default();
        digest.update(&data);
        [draft.header(&digest.finish()), data].concat()
    }

    /// Opens project file bytes as the page does: header, layout, the data's checksum, then
    /// the parts it names.
    fn open_project(bytes: &[u8]) -> Result<ImportedProject<String>, ProjectFileError> {
        let length = header_length(bytes, bytes.len() as u64)?;
        let header = &bytes[8..8 + length as usize];
        let layout = read_layout(header, bytes.len() as u64)?;
        let part = |range: &std::ops::Range<u64>| &bytes[range.start as usize..range.end as usize];
        let mut digest = DataDigest::default();
        digest.update(part(&layout.data));
        layout.check_data(digest)?;
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
        // Headers edited and sealed again as if by a writer (their length written again): what
        // a changed header says is checked too, not only its checksum.
        let header_length = header_length(&bytes[..8], bytes.len() as u64).unwrap() as usize;
        let header = std::str::from_utf8(&bytes[8..8 + header_length]).unwrap();
        let edit_header = |from: &str, to: &str| {
            assert!(header.contains(from), "{from} is in the header");
            let mut header = header.replacen(from, to, 1).into_bytes();
            checksum::seal(&mut header);
            let mut file = (header.len() as u64).to_le_bytes().to_vec();
            file.extend_from_slice(&header);
            file.extend_from_slice(&bytes[8 + header_length..]);
            open_project(&file)
        };
        assert!(
            matches!(edit_header(r#"format_version":"2"#, r#"format_version":"9"#), Err(ProjectFileError::OtherVersion(v)) if v == "9")
        );
        assert!(matches!(
            edit_header(r#"format_version":"2"#, r#"format_version":"1"#),
            Err(ProjectFileError::Damaged(_))
        ));
        assert!(matches!(
            edit_header("efficientnet-lite0", "efficientnet-lite4"),
            Err(ProjectFileError::OtherBackbone(_))
        ));
        assert!(matches!(
            edit_header("[5,1280]", "[4,1280]"),
            Err(ProjectFileError::Damaged(_))
        ));
        // Claims no reader may act on: a shape far larger than the file, one whose size
        // overflows, a class name with script.
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
    fn one_changed_byte_anywhere_in_a_project_file_is_refused() {
        let bytes = project_file_bytes(&teachers_project(), EVERYTHING);
        let header_end = 8 + header_length(&bytes, bytes.len() as u64).unwrap() as usize;
        // Every byte of the header and its length, then every 13th of the photos, embeddings
        // and model, and the last one.
        let offsets = (0..header_end)
            .chain((header_end..bytes.len()).step_by(13))
            .chain([bytes.len() - 1]);
        for at in offsets {
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            assert!(
                open_project(&changed).is_err(),
                "byte {at} of {}",
                bytes.len()
            );
        }
        assert!(open_project(&[bytes.as_slice(), b"!"].concat()).is_err());
    }

    #[test]
    fn a_project_file_from_before_checksums_still_opens() {
        let bytes = project_file_bytes(&teachers_project(), EVERYTHING);
        let header_end = 8 + header_length(&bytes, bytes.len() as u64).unwrap() as usize;
        let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..header_end]).unwrap();
        let metadata = header["__metadata__"].as_object_mut().unwrap();
        metadata.remove(checksum::HEADER_SHA256);
        metadata.remove(checksum::DATA_SHA256);
        metadata.insert("format_version".into(), "1".into());
        let header = serde_json::to_vec(&header).unwrap();
        let old = [
            &(header.len() as u64).to_le_bytes()[..],
            &header,
            &bytes[header_end..],
        ]
        .concat();
        assert_eq!(open_project(&old), open_project(&bytes));
        assert!(open_project(&old).is_ok());
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
