//! Photos from the file system: loose files, or a folder with one subfolder per class. Each is
//! decoded as the page decodes it (EXIF orientation, transparency on white, centre crop, resize
//! to 224x224), on every core; a file that cannot be used is reported by name and the others are
//! used.

use crate::FileError;
use headstart_core::preprocess::{DecodeError, decode_to_rgba};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};

/// A decoded photo: where it came from and its 224x224 RGBA model input.
pub struct Photo {
    /// The file.
    pub path: PathBuf,
    /// The model input.
    pub rgba: Vec<u8>,
}

/// A file that could not be used, and why.
pub struct Skipped {
    /// The file (or folder).
    pub path: PathBuf,
    /// Why, in words.
    pub reason: String,
}

/// Photos in classes, read from `folder/<class>/<files>`.
pub struct Dataset {
    /// Class names (the subfolders that hold at least one usable photo), sorted.
    pub class_names: Vec<String>,
    /// The photos, class by class.
    pub photos: Vec<Photo>,
    /// Each photo's class, as an index into `class_names`.
    pub labels: Vec<usize>,
    /// Files and folders left out.
    pub skipped: Vec<Skipped>,
}

/// How a file becomes a model input: a photo is decoded, cropped and resized as the page does
/// ([`decode_to_rgba`]); a model input the page kept is taken as it is.
pub type Decode = fn(&[u8]) -> Result<Vec<u8>, DecodeError>;

/// Decodes `paths` in order with `decode`, on every core, ticking `progress` once per file.
pub fn read_files(
    paths: &[PathBuf],
    decode: Decode,
    progress: &ProgressBar,
) -> (Vec<Photo>, Vec<Skipped>) {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = paths.len().div_ceil(threads).max(1);
    let decoded: Vec<Result<Photo, Skipped>> = std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|path| {
                            let photo = read_photo(path, decode);
                            progress.inc(1);
                            photo
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a decoding thread panicked"))
            .collect()
    });
    let (mut photos, mut skipped) = (Vec::new(), Vec::new());
    for result in decoded {
        match result {
            Ok(photo) => photos.push(photo),
            Err(file) => skipped.push(file),
        }
    }
    (photos, skipped)
}

fn read_photo(path: &Path, decode: Decode) -> Result<Photo, Skipped> {
    let skipped = |reason: String| Skipped {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| skipped(format!("cannot be read ({e})")))?;
    let rgba = decode(&bytes).map_err(|e| skipped(format!("is not a photo ({e})")))?;
    Ok(Photo {
        path: path.to_path_buf(),
        rgba,
    })
}

/// The entries of `dir`, sorted by name; hidden ones (`.name`) left out.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    let entries = std::fs::read_dir(dir).map_err(|e| FileError::Read(dir.into(), e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// Reads `folder/<class>/<files>`: every subfolder is a class, every file in it a photo of that
/// class. Files directly in `folder`, files that are not photos and classes left without any
/// photo are reported in [`Dataset::skipped`].
pub fn read_class_folders(folder: &Path, progress: &ProgressBar) -> Result<Dataset, FileError> {
    let mut skipped = Vec::new();
    let mut classes: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for path in sorted_entries(folder)? {
        if !path.is_dir() {
            skipped.push(Skipped {
                path,
                reason: "is not in a class folder".into(),
            });
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let files = sorted_entries(&path)?
            .into_iter()
            .filter(|p| p.is_file())
            .collect();
        classes.push((name, files));
    }
    let all: Vec<PathBuf> = classes
        .iter()
        .flat_map(|(_, files)| files.clone())
        .collect();
    progress.set_length(all.len() as u64);
    let (decoded, unusable) = read_files(&all, decode_to_rgba, progress);
    skipped.extend(unusable);
    let mut decoded = decoded.into_iter().peekable();
    let (mut class_names, mut photos, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (name, files) in classes {
        let before = photos.len();
        // The decoded photos are in the order of the files, less the unusable ones.
        for file in &files {
            if let Some(photo) = decoded.next_if(|photo| &photo.path == file) {
                labels.push(class_names.len());
                photos.push(photo);
            }
        }
        if photos.len() == before {
            skipped.push(Skipped {
                path: folder.join(&name),
                reason: "has no usable photo: the class is left out".into(),
            });
        } else {
            class_names.push(name);
        }
    }
    Ok(Dataset {
        class_names,
        photos,
        labels,
        skipped,
    })
}
