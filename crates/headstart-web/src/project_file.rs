//! Project files in the browser: writing one joins the header and the photos' blobs into one
//! blob (no photo is copied into wasm memory), and opening one reads only its header, its
//! embeddings and its model, and takes each photo's images as slices of the file.

use crate::browser::{ObjectUrl, read_bytes};
use headstart_app::{
    AppState, FilePart, ImportedPhoto, ImportedProject, ProjectFileError, ProjectFileOptions,
    embeddings_of, header_length, read_layout,
};
use headstart_browser::describe;
use std::ops::Range;
use web_sys::Blob;

/// The project as one project-file blob.
pub fn project_file_blob(
    state: &AppState<ObjectUrl>,
    options: ProjectFileOptions,
) -> Result<Blob, String> {
    let parts = js_sys::Array::new();
    for part in state.project_file(options, |image| image.blob().size() as u64) {
        match part {
            FilePart::Bytes(bytes) => parts.push(&js_sys::Uint8Array::from(bytes.as_slice())),
            FilePart::Image(image) => parts.push(image.blob()),
        };
    }
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
