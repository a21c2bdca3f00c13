//! Project files in the browser: writing one hashes each part, then joins the header and the
//! photos' blobs into one blob (one photo at a time is copied into wasm memory, to hash it),
//! and opening one checks the whole file against its checksums, a few megabytes at a time,
//! reads only its header, its embeddings and its model, and takes each photo's images as
//! slices of the file.

use crate::browser::{ObjectUrl, read_bytes};
use headstart_app::{
    FilePart, ImportedPhoto, ImportedProject, ProjectFileDraft, ProjectFileError, embeddings_of,
    header_length, read_layout,
};
use headstart_browser::describe;
use headstart_core::checksum::DataDigest;
use std::ops::Range;
use wasm_bindgen::JsValue;
use web_sys::Blob;

/// How much of a project file is read at a time to check it: a few photos' worth, so that
/// a file of thousands of photos is never in memory whole.
const CHECK_CHUNK_BYTES: u64 = 4 << 20;

/// The project as one project-file blob: each part is read once to hash it (one photo at a
/// time), then the header naming the checksum goes in front.
pub async fn project_file_blob(draft: ProjectFileDraft<ObjectUrl>) -> Result<Blob, String> {
    let mut digest = DataDigest::default();
    let parts = js_sys::Array::new();
    parts.push(&JsValue::NULL);
    for part in &draft.parts {
        match part {
            FilePart::Bytes(bytes) => {
                digest.update(bytes);
                parts.push(&js_sys::Uint8Array::from(bytes.as_slice()))
            }
            FilePart::Image(image) => {
                digest.update(&read_bytes(image.blob()).await?);
                parts.push(image.blob())
            }
        };
    }
    parts.set(
        0,
        js_sys::Uint8Array::from(draft.header(&digest.finish()).as_slice()).into(),
    );
    let type_ = web_sys::BlobPropertyBag::new();
    type_.set_type("application/octet-stream");
    Blob::new_with_blob_sequence_and_options(&parts, &type_).map_err(describe)
}

fn slice(file: &Blob, range: &Range<u64>, kind: &str) -> Result<Blob, ProjectFileError> {
    file.slice_with_f64_and_f64_and_content_type(range.start as f64, range.end as f64, kind)
        .map_err(|e| ProjectFileError::NotAProjectFile(describe(e)))
}

async fn read(file: &Blob, range: &Range<u64>) -> Result<Vec<u8>, ProjectFileError> {
    read_bytes(&slice(file, range, "")?)
        .await
        .map_err(ProjectFileError::NotAProjectFile)
}

/// Opens a project file the student chose, checking it whole before anything is used.
pub async fn open_project_file(
    file_name: String,
    file: &Blob,
) -> Result<ImportedProject<ObjectUrl>, ProjectFileError> {
    let size = file.size() as u64;
    let length = header_length(&read(file, &(0..size.min(8))).await?, size)?;
    let layout = read_layout(&read(file, &(8..8 + length)).await?, size)?;
    let mut digest = DataDigest::default();
    let mut start = layout.data.start;
    while start < layout.data.end {
        let end = (start + CHECK_CHUNK_BYTES).min(layout.data.end);
        digest.update(&read(file, &(start..end)).await?);
        start = end;
    }
    layout.check_data(digest)?;
    let mut embeddings = match &layout.embeddings {
        Some(range) => Some(embeddings_of(&read(file, range).await?, layout.photos())?.into_iter()),
        None => None,
    };
    let model_file = match &layout.model {
        Some(range) => Some(read(file, range).await?),
        None => None,
    };
    let image = |range: &Range<u64>, kind: &str| {
        ObjectUrl::new(&slice(file, range, kind)?).map_err(ProjectFileError::NotAProjectFile)
    };
    let mut classes = Vec::new();
    for class in &layout.classes {
        let mut photos = Vec::new();
        for photo in &class.photos {
            photos.push(ImportedPhoto {
                file_name: photo.file_name.clone(),
                thumbnail: image(&photo.thumbnail, "image/jpeg")?,
                input: image(&photo.input, "image/png")?,
                embedding: embeddings.as_mut().and_then(Iterator::next),
            });
        }
        classes.push((class.name.clone(), photos));
    }
    Ok(ImportedProject {
        file_name,
        classes,
        settings: layout.settings,
        train_way: layout.train_way,
        model_file,
    })
}
