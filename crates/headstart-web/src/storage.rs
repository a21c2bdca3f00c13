//! The saved work in the browser's IndexedDB (through the `idb` crate), and the Web Lock that
//! lets one tab at a time save it.
//!
//! Two object stores: `photos`, one record per photo keyed by its id (file name, thumbnail and
//! model input as their bytes and types, embedding as a `Float32Array`), and `project`, holding
//! the project's record as JSON under `record` and the model file's bytes under `model`.
//! Images are kept as bytes, not `Blob`s: WebKit refuses a transaction that puts a `Blob` in a
//! private window (and in its automation sessions), never one that puts an `ArrayBuffer`.
//! Records saved as blobs by earlier versions are still read.
//!
//! The changes of one action are one readwrite transaction over both stores, so a crash leaves
//! each action's changes whole or not at all. Reading an image's bytes takes a wait, so each
//! save reads its images first and then waits for the save before it to end: the transactions
//! start in the order the page made the changes.

use crate::browser::{ObjectUrl, window};
use headstart_app::{ProjectStorage, SaveChange, SavedPhoto, SavedProject, SavedWork};
use headstart_browser::describe;
use headstart_core::embedding::Embedding;
use idb::{
    Database, DatabaseEvent, Factory, KeyPath, KeyRange, ObjectStore, ObjectStoreParams, Query,
    Transaction, TransactionMode,
};
use js_sys::{Array, ArrayBuffer, Float32Array, Function, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag};

const DATABASE: &str = "headstart";
const DATABASE_VERSION: u32 = 1;
const PHOTOS: &str = "photos";
const PROJECT: &str = "project";
const PROJECT_RECORD: &str = "record";
const MODEL_FILE: &str = "model";
/// Photo records read from IndexedDB at once when the saved work is restored (about 18 MB).
const PHOTOS_READ_AT_ONCE: u32 = 200;
/// The Web Lock the saving tab holds for as long as it is open.
const LOCK: &str = "headstart-project";

/// Why storage failed.
#[derive(Debug)]
pub enum StorageError {
    /// The browser's storage for this page is full.
    Full(String),
    /// Anything else, in the browser's words.
    Failed(String),
}

impl StorageError {
    fn from_idb(error: idb::Error) -> Self {
        let detail = error.to_string();
        match detail.contains("Quota") {
            true => Self::Full(detail),
            false => Self::Failed(detail),
        }
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Full(detail) => write!(f, "storage is full: {detail}"),
            Self::Failed(detail) => f.write_str(detail),
        }
    }
}

thread_local! {
    /// Set by a test hook: every save fails as on a device whose storage is full. (Chromium's
    /// quota override did not limit IndexedDB in the tests' private browser profiles.)
    static PRETEND_FULL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes every save fail as if storage were full (`true`), or stops (`false`); `?test-hooks`.
pub fn pretend_full(on: bool) {
    PRETEND_FULL.with(|full| full.set(on));
}

/// The page's saved work in IndexedDB.
pub struct IndexedDbStorage {
    database: Database,
    /// Settles when the last save asked for has ended: the next one waits for it.
    last_save: RefCell<Option<Promise>>,
}

/// A save's place in line: ends its turn when dropped, whatever became of it.
struct Turn(Option<Function>);

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(end) = self.0.take() {
            let _ = end.call0(&JsValue::NULL);
        }
    }
}

impl IndexedDbStorage {
    /// Opens (and on first use creates) the page's database.
    pub async fn open() -> Result<Self, StorageError> {
        let factory = Factory::new().map_err(StorageError::from_idb)?;
        let mut request = factory
            .open(DATABASE, Some(DATABASE_VERSION))
            .map_err(StorageError::from_idb)?;
        request.on_upgrade_needed(|event| {
            let Ok(database) = event.database() else {
                return;
            };
            let mut photos = ObjectStoreParams::new();
            photos.key_path(Some(KeyPath::new_single("id")));
            let _ = database.create_object_store(PHOTOS, photos);
            let _ = database.create_object_store(PROJECT, ObjectStoreParams::new());
        });
        let database = request.await.map_err(StorageError::from_idb)?;
        Ok(Self {
            database,
            last_save: RefCell::new(None),
        })
    }

    /// Takes the next turn to save: the save before it, to wait for, and this one's turn.
    fn take_turn(&self) -> (Option<Promise>, Turn) {
        let mut end = None;
        let this_save = Promise::new(&mut |resolve, _| end = Some(resolve));
        (self.last_save.replace(Some(this_save)), Turn(end))
    }

    /// A transaction over both stores, and the two stores in it.
    fn stores(
        &self,
        mode: TransactionMode,
    ) -> Result<(Transaction, ObjectStore, ObjectStore), StorageError> {
        let transaction = (self.database)
            .transaction(&[PHOTOS, PROJECT], mode)
            .map_err(StorageError::from_idb)?;
        let store = |name| {
            transaction
                .object_store(name)
                .map_err(StorageError::from_idb)
        };
        let (photos, project) = (store(PHOTOS)?, store(PROJECT)?);
        Ok((transaction, photos, project))
    }
}

/// An image as IndexedDB keeps it: `{ bytes, type }`.
async fn image_record(image: &ObjectUrl) -> Result<JsValue, StorageError> {
    let blob = image.blob();
    let bytes = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|e| StorageError::Failed(describe(e)))?;
    record(&[("bytes", bytes), ("type", blob.type_().into())])
}

/// The image an [`image_record`] keeps (or, from an earlier version, a blob).
fn image_from_record(value: JsValue) -> Result<ObjectUrl, String> {
    let blob = match value.dyn_into::<Blob>() {
        Ok(blob) => blob,
        Err(value) => {
            let field = |name: &str| Reflect::get(&value, &name.into()).map_err(describe);
            let bytes: ArrayBuffer = field("bytes")?
                .dyn_into()
                .map_err(|_| "a saved image has no bytes".to_string())?;
            let options = BlobPropertyBag::new();
            options.set_type(&field("type")?.as_string().unwrap_or_default());
            Blob::new_with_buffer_source_sequence_and_options(&Array::of1(&bytes), &options)
                .map_err(describe)?
        }
    };
    ObjectUrl::new(&blob)
}

/// An object of these fields.
fn record(fields: &[(&str, JsValue)]) -> Result<JsValue, StorageError> {
    let record = Object::new();
    for (name, value) in fields {
        Reflect::set(&record, &(*name).into(), value)
            .map_err(|e| StorageError::Failed(describe(e)))?;
    }
    Ok(record.into())
}

async fn photo_record(photo: &SavedPhoto<ObjectUrl>) -> Result<JsValue, StorageError> {
    record(&[
        ("id", photo.id.0.into()),
        ("fileName", photo.file_name.as_str().into()),
        ("thumbnail", image_record(&photo.thumbnail).await?),
        ("input", image_record(&photo.input).await?),
        (
            "embedding",
            Float32Array::from(photo.embedding.values()).into(),
        ),
    ])
}

fn saved_photo(record: &JsValue) -> Result<SavedPhoto<ObjectUrl>, String> {
    let field = |name: &str| Reflect::get(record, &name.into()).map_err(describe);
    let values: Float32Array = field("embedding")?
        .dyn_into()
        .map_err(|_| "a saved photo has no embedding".to_string())?;
    Ok(SavedPhoto {
        id: headstart_app::PhotoId(field("id")?.as_f64().ok_or("a saved photo has no id")? as u32),
        file_name: field("fileName")?.as_string().unwrap_or_default(),
        thumbnail: image_from_record(field("thumbnail")?)?,
        input: image_from_record(field("input")?)?,
        embedding: Embedding::try_from(values.to_vec()).map_err(|e| e.to_string())?,
    })
}

/// One change as IndexedDB requests take it: photos as their records.
enum PreparedChange {
    Clear,
    PutPhotos(Vec<JsValue>),
    DeletePhotos(Vec<headstart_app::PhotoId>),
    Model(Option<Vec<u8>>),
    Project(String),
}

/// Reads what a change needs before its transaction starts: each photo's image bytes.
async fn prepare(change: SaveChange<ObjectUrl>) -> Result<PreparedChange, StorageError> {
    Ok(match change {
        SaveChange::Clear => PreparedChange::Clear,
        SaveChange::PutPhotos(saved) => {
            let mut records = Vec::with_capacity(saved.len());
            for photo in &saved {
                records.push(photo_record(photo).await?);
            }
            PreparedChange::PutPhotos(records)
        }
        SaveChange::DeletePhotos(ids) => PreparedChange::DeletePhotos(ids),
        SaveChange::Model(file) => PreparedChange::Model(file),
        SaveChange::Project(saved) => PreparedChange::Project(
            serde_json::to_string(&*saved).map_err(|e| StorageError::Failed(e.to_string()))?,
        ),
    })
}

/// Queues one change's requests in a transaction's stores.
fn queue_change(
    change: PreparedChange,
    photos: &ObjectStore,
    project: &ObjectStore,
) -> Result<(), StorageError> {
    match change {
        PreparedChange::Clear => {
            photos.clear().map_err(StorageError::from_idb)?;
            project.clear().map_err(StorageError::from_idb)?;
        }
        PreparedChange::PutPhotos(records) => {
            for record in &records {
                photos.put(record, None).map_err(StorageError::from_idb)?;
            }
        }
        PreparedChange::DeletePhotos(ids) => {
            for id in ids {
                photos
                    .delete(Query::Key(id.0.into()))
                    .map_err(StorageError::from_idb)?;
            }
        }
        PreparedChange::Model(Some(file)) => {
            let bytes = Uint8Array::from(file.as_slice());
            project
                .put(&bytes, Some(&MODEL_FILE.into()))
                .map_err(StorageError::from_idb)?;
        }
        PreparedChange::Model(None) => {
            project
                .delete(Query::Key(MODEL_FILE.into()))
                .map_err(StorageError::from_idb)?;
        }
        PreparedChange::Project(json) => {
            project
                .put(&json.into(), Some(&PROJECT_RECORD.into()))
                .map_err(StorageError::from_idb)?;
        }
    }
    Ok(())
}

impl ProjectStorage<ObjectUrl> for IndexedDbStorage {
    type Error = StorageError;

    async fn save(&self, changes: Vec<SaveChange<ObjectUrl>>) -> Result<(), StorageError> {
        let (previous, _turn) = self.take_turn();
        let mut prepared = Vec::with_capacity(changes.len());
        for change in changes {
            prepared.push(prepare(change).await?);
        }
        if let Some(previous) = previous {
            let _ = JsFuture::from(previous).await;
        }
        if PRETEND_FULL.with(|full| full.get()) {
            return Err(StorageError::Full("QuotaExceededError (test hook)".into()));
        }
        let (transaction, photos, project) = self.stores(TransactionMode::ReadWrite)?;
        // The requests are queued in the transaction; its outcome says whether all were kept.
        for change in prepared {
            queue_change(change, &photos, &project)?;
        }
        let outcome = transaction.await.map_err(StorageError::from_idb)?;
        match outcome.is_committed() {
            true => Ok(()),
            false => Err(StorageError::Failed("the browser aborted the save".into())),
        }
    }

    async fn load(&self) -> Result<Option<SavedWork<ObjectUrl>>, StorageError> {
        let (_transaction, photos, project) = self.stores(TransactionMode::ReadOnly)?;
        let record = project.get(Query::Key(PROJECT_RECORD.into()));
        let Some(json) = (record.map_err(StorageError::from_idb)?.await)
            .map_err(StorageError::from_idb)?
            .and_then(|value| value.as_string())
        else {
            return Ok(None);
        };
        let project_record: SavedProject = serde_json::from_str(&json)
            .map_err(|e| StorageError::Failed(format!("the saved project is damaged: {e}")))?;
        let model_file = (project.get(Query::Key(MODEL_FILE.into())))
            .map_err(StorageError::from_idb)?
            .await
            .map_err(StorageError::from_idb)?
            .and_then(|value| value.dyn_into::<Uint8Array>().ok())
            .map(|bytes| bytes.to_vec());
        // A page of records at a time, each image made a blob before the next page is read:
        // 2,000 photos' bytes read at once took the tab's memory past 1 GB for a moment.
        let mut saved_photos = Vec::new();
        let mut after: Option<JsValue> = None;
        loop {
            let from = after
                .as_ref()
                .map(|id| KeyRange::lower_bound(id, Some(true)).map(Query::KeyRange))
                .transpose()
                .map_err(StorageError::from_idb)?;
            let records = (photos.get_all(from, Some(PHOTOS_READ_AT_ONCE)))
                .map_err(StorageError::from_idb)?
                .await
                .map_err(StorageError::from_idb)?;
            let Some(last) = records.last() else { break };
            after = Some(
                Reflect::get(last, &"id".into()).map_err(|e| StorageError::Failed(describe(e)))?,
            );
            let full_page = records.len() == PHOTOS_READ_AT_ONCE as usize;
            // A photo record that cannot be read is left out (the project says how many it
            // lists).
            saved_photos.extend(records.iter().filter_map(|r| saved_photo(r).ok()));
            if !full_page {
                break;
            }
        }
        let photos = saved_photos;
        Ok(Some(SavedWork {
            project: project_record,
            photos,
            model_file,
        }))
    }
}

/// Asks for the Web Lock that lets one tab save the project, and keeps it for the tab's life:
/// `true` when this tab holds it (or the browser has no Web Locks), `false` when another tab
/// of the page does.
pub async fn claim_saving() -> bool {
    let locks = Reflect::get(&window().navigator(), &"locks".into()).unwrap_or_default();
    let Some(request) = Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return true;
    };
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &true.into());
    let granted = js_sys::Promise::new(&mut |resolve, _reject| {
        // The lock is held until the promise this returns settles, which it never does.
        let hold = wasm_bindgen::closure::Closure::once_into_js(move |lock: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &(!lock.is_null()).into());
            js_sys::Promise::new(&mut |_, _| {})
        });
        let _ = request.call3(&locks, &LOCK.into(), &options, &hold);
    });
    JsFuture::from(granted)
        .await
        .ok()
        .and_then(|held| held.as_bool())
        .unwrap_or(true)
}

/// Calls `navigator.storage.<method>()` and waits for its answer; `None` where this browser has
/// no such method or it failed.
async fn ask_storage_manager(method: &str) -> Option<JsValue> {
    let storage = Reflect::get(&window().navigator(), &"storage".into()).ok()?;
    let answer = Reflect::get(&storage, &method.into())
        .ok()?
        .dyn_into::<Function>()
        .ok()?
        .call0(&storage)
        .ok()?;
    JsFuture::from(answer.dyn_into::<Promise>().ok()?)
        .await
        .ok()
}

/// Bytes this page keeps on the device (IndexedDB and caches), as the browser estimates them.
pub async fn bytes_used() -> Option<f64> {
    let estimate = ask_storage_manager("estimate").await?;
    Reflect::get(&estimate, &"usage".into()).ok()?.as_f64()
}

/// Whether the browser keeps this page's storage until the user deletes it
/// (`navigator.storage.persisted()`); `None` where this browser cannot say.
pub async fn kept_until_deleted() -> Option<bool> {
    ask_storage_manager("persisted").await?.as_bool()
}

/// Asks the browser to keep this page's storage until the user deletes it
/// (`navigator.storage.persist()`, from a click: some browsers want one) and returns whether it
/// will; `None` where this browser cannot say.
pub async fn ask_to_keep_until_deleted() -> Option<bool> {
    ask_storage_manager("persist").await?.as_bool()
}
