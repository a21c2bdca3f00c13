//! `headstart`: Headstart on the command line, on the same core as the page. Folders of photos
//! in, the page's model file out; the page's models evaluated and used here.

mod convert;
mod device;
mod engine;
mod photos;

use clap::{Parser, Subcommand, ValueEnum};
use convert::ConvertError;
use device::{DeviceChoice, PlaceError};
use engine::{Engine, EngineError};
use headstart_core::augment::AugmentationSettings;
use headstart_core::evaluation::ConfusionMatrix;
use headstart_core::model_file::{self, ModelFileError};
use headstart_core::preprocess::{decode_model_input, decode_to_rgba};
use headstart_core::training::{
    EpochReport, ModelVersion, TrainedModel, TrainingSettings, ValidationPrediction, Way, top1,
};
use headstart_core::weights::BACKBONE_FILE;
use indicatif::{ProgressBar, ProgressStyle};
use photos::{Photo, Skipped};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_CODES: &str = "Exit codes: 0 done; 1 the work failed (missing weights, a file that cannot be written); 2 wrong arguments; 3 the photos cannot be used (no usable photo, fewer than two classes); 4 the model file is refused; 5 --device gpu and no GPU can be used.";

#[derive(Parser)]
#[command(name = "headstart", version, about = "Transfer learning on EfficientNet-Lite0: embed photos, train any way the page trains, evaluate and predict with the page's model files.", after_help = EXIT_CODES)]
struct Cli {
    /// The converted backbone weights (made by scripts/setup.sh).
    #[arg(long, global = true, default_value_os_t = default_weights())]
    weights: PathBuf,
    /// Print results as JSON on stdout (progress stays on stderr).
    #[arg(long, global = true)]
    json: bool,
    /// Where to compute: `auto` takes a hardware GPU where one works (in a build with the `gpu`
    /// feature), the CPU otherwise.
    #[arg(long, global = true, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Photos run through the network at a time [default: 1 on the CPU, the fastest on a
    /// 2-core machine (see scripts/bench-cli.sh); 16 on a GPU, which fits any GPU's buffers].
    #[arg(long, global = true)]
    batch: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

/// Where `scripts/setup.sh` puts the converted backbone weights.
fn default_weights() -> PathBuf {
    Path::new("data/weights").join(BACKBONE_FILE)
}

/// A name that is no way to train.
#[derive(Debug)]
struct UnknownWay;

impl std::fmt::Display for UnknownWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = Way::ALL.iter().map(|way| way.name()).collect();
        write!(f, "one of {}", names.join(", "))
    }
}

impl std::error::Error for UnknownWay {}

/// A way to train by its name (the page's `train-mode` names).
fn parse_way(name: &str) -> Result<Way, UnknownWay> {
    Way::from_name(name).ok_or(UnknownWay)
}

/// Augmentations, as the page's switches name them.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Augmentation {
    Crop,
    Flip,
    Color,
    Rotation,
}

// The training options make one variant large; the command is parsed once per run.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Print the 1280-number embedding of each photo.
    #[command(after_help = "Example: headstart embed photo.jpg")]
    Embed {
        /// Photo files.
        #[arg(required = true)]
        photos: Vec<PathBuf>,
        /// The files are 224x224 model inputs as the page keeps them (in its storage or a
        /// project file): used exactly as they are, not cropped or resized.
        #[arg(long)]
        model_inputs: bool,
    },
    /// Train a model on FOLDER/<class>/<photos> and write the page's model file.
    #[command(
        after_help = "Example: headstart train photos/ -o model.hsm --way finetune --epochs 20\n\nThe photos are split as the page splits them (seeded, per class): training, validation (curves, early stopping) and test photos, measured once at the end. Defaults are the page's."
    )]
    Train {
        /// A folder with one subfolder of photos per class.
        folder: PathBuf,
        /// The model file to write.
        #[arg(short, long, default_value = "model.hsm")]
        output: PathBuf,
        /// How to train: centroid, knn, frozen, finetune, lora or scratch.
        #[arg(long, value_parser = parse_way, default_value = "frozen")]
        way: Way,
        /// A JSON file of training settings (as in a model file's manifest); the options below override it.
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Passes over the training photos.
        #[arg(long)]
        epochs: Option<usize>,
        /// Seed of the split, the initialization and the shuffling.
        #[arg(long)]
        seed: Option<u64>,
        /// Share of each class held back for validation.
        #[arg(long)]
        validation_fraction: Option<f64>,
        /// Share of each class kept for the test.
        #[arg(long)]
        test_fraction: Option<f64>,
        /// Step size of the new head (and of LoRA's adapters and a new network).
        #[arg(long)]
        learning_rate: Option<f64>,
        /// Early stopping: epochs without a better validation loss before the run ends (0: off).
        #[arg(long)]
        patience: Option<usize>,
        /// Fine-tuning and LoRA: backbone blocks trained, counted from the last.
        #[arg(long)]
        unfrozen_blocks: Option<usize>,
        /// Fine-tuning: step size of the pretrained layers.
        #[arg(long)]
        backbone_learning_rate: Option<f64>,
        /// LoRA: rank of the adapters.
        #[arg(long)]
        lora_rank: Option<usize>,
        /// Augmentations of the training photos (new head only), e.g. --augment crop,flip.
        #[arg(long, value_enum, value_delimiter = ',')]
        augment: Vec<Augmentation>,
        /// Augmented views made of each training photo.
        #[arg(long)]
        views_per_photo: Option<usize>,
    },
    /// Measure a model file on FOLDER/<class>/<photos>: accuracy, per class, confusion matrix.
    #[command(after_help = "Example: headstart eval model.hsm test-photos/")]
    Eval {
        /// The model file.
        model: PathBuf,
        /// A folder with one subfolder per class, named as the model's classes.
        folder: PathBuf,
    },
    /// Classify photos with a model file: label and probabilities of each.
    #[command(after_help = "Example: headstart predict model.hsm a.jpg b.jpg")]
    Predict {
        /// The model file.
        model: PathBuf,
        /// Photo files.
        #[arg(required = true)]
        photos: Vec<PathBuf>,
    },
    /// Convert the reference PyTorch checkpoint into the page's weights (checks its SHA-256).
    #[command(after_help = "Example: headstart convert data/efficientnet-lite0.pth data/weights")]
    Convert {
        /// The reference checkpoint.
        checkpoint: PathBuf,
        /// Where to write efficientnet-lite0.bpk and imagenet-classifier.bpk.
        out_dir: PathBuf,
    },
}

/// A file or folder that could not be read, written or made.
#[derive(Debug)]
pub enum FileError {
    /// It could not be read.
    Read(PathBuf, std::io::Error),
    /// It could not be written.
    Write(PathBuf, std::io::Error),
    /// The folder could not be made.
    Create(PathBuf, std::io::Error),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (action, path, error) = match self {
            Self::Read(path, error) => ("read", path, error),
            Self::Write(path, error) => ("write", path, error),
            Self::Create(path, error) => ("create", path, error),
        };
        write!(f, "cannot {action} {}: {error}", path.display())
    }
}

impl std::error::Error for FileError {}

/// Why the photos given cannot be used.
#[derive(Debug)]
enum PhotosUnusable {
    /// None of the files is a usable photo.
    NoneUsable,
    /// The class folders cannot be read.
    Unreadable(FileError),
    /// No photo in the folder is of the model's classes.
    NoneOfTheModels(PathBuf),
    /// Fewer than two class folders of the folder hold a usable photo: how many do.
    TooFewClasses(PathBuf, usize),
}

impl std::fmt::Display for PhotosUnusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoneUsable => write!(f, "no usable photo"),
            Self::Unreadable(error) => write!(f, "{error}"),
            Self::NoneOfTheModels(folder) => write!(
                f,
                "no photo in {} is of the model's classes",
                folder.display()
            ),
            Self::TooFewClasses(folder, classes) => write!(
                f,
                "{} has {classes} class folder(s) with usable photos; training needs at least two",
                folder.display()
            ),
        }
    }
}

impl std::error::Error for PhotosUnusable {}

/// Why a command failed; each kind has its exit code (see [`EXIT_CODES`]).
#[derive(Debug)]
enum Failure {
    /// A file could not be read or written (1).
    File(FileError),
    /// The settings file is not training settings (1).
    Settings(PathBuf, serde_json::Error),
    /// The checkpoint could not be converted (1).
    Convert(ConvertError),
    /// The backbone could not be placed (1; 5 when the GPU asked for cannot be used).
    Place(PlaceError),
    /// The model work failed (1).
    Engine(EngineError),
    /// The photos cannot be used (3).
    Photos(PhotosUnusable),
    /// The model file is refused (4).
    Refused(PathBuf, ModelFileError),
}

impl Failure {
    /// The exit code that says what kind of failure it is.
    fn exit_code(&self) -> u8 {
        match self {
            Self::Place(PlaceError::NoGpu(_)) => 5,
            Self::Refused(..) => 4,
            Self::Photos(_) => 3,
            Self::File(_)
            | Self::Settings(..)
            | Self::Convert(_)
            | Self::Place(_)
            | Self::Engine(_) => 1,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(error) => write!(f, "{error}"),
            Self::Settings(path, error) => {
                write!(f, "{} is not training settings: {error}", path.display())
            }
            Self::Convert(error) => write!(f, "{error}"),
            Self::Place(error) => write!(f, "{error}"),
            Self::Engine(error) => write!(f, "{error}"),
            Self::Photos(unusable) => write!(f, "{unusable}"),
            Self::Refused(path, error) => write!(f, "{} was refused: {error}", path.display()),
        }
    }
}

impl std::error::Error for Failure {}

impl From<FileError> for Failure {
    fn from(error: FileError) -> Self {
        Self::File(error)
    }
}

impl From<ConvertError> for Failure {
    fn from(error: ConvertError) -> Self {
        Self::Convert(error)
    }
}

impl From<PlaceError> for Failure {
    fn from(error: PlaceError) -> Self {
        Self::Place(error)
    }
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        Self::Engine(error)
    }
}

impl From<PhotosUnusable> for Failure {
    fn from(unusable: PhotosUnusable) -> Self {
        Self::Photos(unusable)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert {
            ref checkpoint,
            ref out_dir,
        } => convert::convert(checkpoint, out_dir).map_err(Failure::Convert),
        Command::Embed {
            ref photos,
            model_inputs,
        } => embed(&cli, photos, model_inputs),
        Command::Predict {
            ref model,
            ref photos,
        } => predict(&cli, model, photos),
        Command::Eval {
            ref model,
            ref folder,
        } => evaluate(&cli, model, folder),
        Command::Train { .. } => train(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("headstart: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

/// A progress bar on stderr for `what` (hidden when stderr is not a terminal).
fn progress(what: &str, length: usize) -> ProgressBar {
    let bar = ProgressBar::new(length as u64).with_message(what.to_string());
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

fn report_skipped(skipped: &[Skipped]) {
    for file in skipped {
        eprintln!(
            "headstart: {} {}; left out",
            file.path.display(),
            file.reason
        );
    }
}

/// Decodes loose photo files; fails when none is usable.
fn read_photos(paths: &[PathBuf], decode: photos::Decode) -> Result<Vec<Photo>, Failure> {
    let bar = progress("decoding", paths.len());
    let (photos, skipped) = photos::read_files(paths, decode, &bar);
    bar.finish_and_clear();
    report_skipped(&skipped);
    if photos.is_empty() {
        return Err(PhotosUnusable::NoneUsable.into());
    }
    Ok(photos)
}

fn read_model(path: &Path) -> Result<TrainedModel, Failure> {
    let bytes = std::fs::read(path).map_err(|e| FileError::Read(path.into(), e))?;
    model_file::read(&bytes, ModelVersion(1)).map_err(|e| Failure::Refused(path.into(), e))
}

fn embed(cli: &Cli, paths: &[PathBuf], model_inputs: bool) -> Result<(), Failure> {
    let engine = Engine::load(&cli.weights, cli.device, cli.batch)?;
    let decode = match model_inputs {
        true => decode_model_input,
        false => decode_to_rgba,
    };
    let photos = read_photos(paths, decode)?;
    let bar = progress("embedding", photos.len());
    let inputs: Vec<&[u8]> = photos.iter().map(|p| p.rgba.as_slice()).collect();
    let embeddings = engine.embed(&inputs, &bar)?;
    bar.finish_and_clear();
    let rows: Vec<_> = photos
        .iter()
        .zip(&embeddings)
        .map(|(photo, embedding)| json!({ "file": photo.path, "embedding": embedding.values() }))
        .collect();
    println!("{}", serde_json::to_string(&rows).expect("JSON"));
    Ok(())
}

fn predict(cli: &Cli, model_path: &Path, paths: &[PathBuf]) -> Result<(), Failure> {
    let model = read_model(model_path)?;
    let engine = Engine::load(&cli.weights, cli.device, cli.batch)?;
    let photos = read_photos(paths, decode_to_rgba)?;
    let bar = progress("classifying", photos.len());
    let probabilities = engine.classify(&model, &photos.iter().collect::<Vec<_>>(), &bar)?;
    bar.finish_and_clear();
    if cli.json {
        let rows: Vec<_> = photos
            .iter()
            .zip(&probabilities)
            .map(|(photo, p)| {
                let (best, confidence) = top1(p);
                let by_class: serde_json::Map<String, serde_json::Value> =
                    model.class_names.iter().cloned().zip(p.iter().map(|v| json!(v))).collect();
                json!({ "file": photo.path, "label": model.class_names[best], "confidence": confidence, "probabilities": by_class })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows).expect("JSON"));
        return Ok(());
    }
    println!(
        "{:<40} {:<16} {:>10}  probabilities ({})",
        "file",
        "label",
        "confidence",
        model.class_names.join(", ")
    );
    for (photo, p) in photos.iter().zip(&probabilities) {
        let (best, confidence) = top1(p);
        let all: Vec<String> = p.iter().map(|v| format!("{v:.3}")).collect();
        println!(
            "{:<40} {:<16} {:>10.3}  {}",
            photo.path.display(),
            model.class_names[best],
            confidence,
            all.join(" ")
        );
    }
    Ok(())
}

/// Accuracy, per-class accuracy and the confusion matrix of `predictions` (labels are class
/// indices of `class_names`), as text or JSON.
fn print_measurement(
    json: bool,
    class_names: &[String],
    predictions: &[ValidationPrediction],
    extra: serde_json::Value,
) {
    let matrix = ConfusionMatrix::new(class_names.len(), predictions);
    let right: usize = (0..matrix.classes()).map(|c| matrix.count(c, c)).sum();
    let accuracy = right as f32 / matrix.total().max(1) as f32;
    let rows: Vec<Vec<usize>> = (0..matrix.classes())
        .map(|t| (0..matrix.classes()).map(|p| matrix.count(t, p)).collect())
        .collect();
    if json {
        let mut out = json!({
            "photos": matrix.total(),
            "accuracy": accuracy,
            "per_class": class_names.iter().enumerate().map(|(c, name)| (name.clone(), json!(matrix.class_accuracy(c)))).collect::<serde_json::Map<_, _>>(),
            "confusion": { "classes": class_names, "rows_true_columns_predicted": rows },
        });
        if let (Some(out), Some(extra)) = (out.as_object_mut(), extra.as_object()) {
            out.extend(extra.clone());
        }
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
        return;
    }
    println!(
        "accuracy: {:.1}% ({right} of {} photos)",
        accuracy * 100.0,
        matrix.total()
    );
    for (c, name) in class_names.iter().enumerate() {
        let class = matrix
            .class_accuracy(c)
            .map_or("no photos".into(), |a| format!("{:.1}%", a * 100.0));
        println!("  {name}: {class}");
    }
    let width = class_names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(4)
        .max(6);
    println!("confusion matrix (rows: true class, columns: predicted):");
    print!("{:width$}", "");
    for name in class_names {
        print!(" {name:>width$}");
    }
    println!();
    for (name, row) in class_names.iter().zip(&rows) {
        print!("{name:width$}");
        for count in row {
            print!(" {count:>width$}");
        }
        println!();
    }
}

fn evaluate(cli: &Cli, model_path: &Path, folder: &Path) -> Result<(), Failure> {
    let model = read_model(model_path)?;
    let engine = Engine::load(&cli.weights, cli.device, cli.batch)?;
    let bar = progress("decoding", 0);
    let dataset = photos::read_class_folders(folder, &bar).map_err(PhotosUnusable::Unreadable)?;
    bar.finish_and_clear();
    report_skipped(&dataset.skipped);
    // Folder classes by the model's class index; classes the model does not know are left out.
    let mut known = Vec::new();
    for (folder_class, name) in dataset.class_names.iter().enumerate() {
        match model.class_names.iter().position(|n| n == name) {
            Some(index) => known.push((folder_class, index)),
            None => eprintln!(
                "headstart: class folder {name} is not one of the model's classes ({}); left out",
                model.class_names.join(", ")
            ),
        }
    }
    let photos: Vec<(&Photo, usize)> = dataset
        .photos
        .iter()
        .zip(&dataset.labels)
        .filter_map(|(photo, label)| Some((photo, known.iter().find(|(f, _)| f == label)?.1)))
        .collect();
    if photos.is_empty() {
        return Err(PhotosUnusable::NoneOfTheModels(folder.into()).into());
    }
    let bar = progress("classifying", photos.len());
    let probabilities = engine.classify(
        &model,
        &photos.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        &bar,
    )?;
    bar.finish_and_clear();
    let predictions: Vec<ValidationPrediction> = photos
        .iter()
        .zip(probabilities)
        .enumerate()
        .map(
            |(example, ((_, label), probabilities))| ValidationPrediction {
                example,
                label: *label,
                probabilities,
            },
        )
        .collect();
    print_measurement(
        cli.json,
        &model.class_names,
        &predictions,
        json!({ "way": model.weights.way().name() }),
    );
    Ok(())
}

/// The training settings a `train` command asks for: the page's defaults, then the settings
/// file, then the options.
fn settings_of(cli: &Cli) -> Result<TrainingSettings, Failure> {
    let Command::Train {
        settings,
        epochs,
        seed,
        validation_fraction,
        test_fraction,
        learning_rate,
        patience,
        unfrozen_blocks,
        backbone_learning_rate,
        lora_rank,
        augment,
        views_per_photo,
        ..
    } = &cli.command
    else {
        unreachable!("only train has settings")
    };
    let mut chosen = match settings {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| FileError::Read(path.clone(), e))?;
            serde_json::from_str(&text).map_err(|e| Failure::Settings(path.clone(), e))?
        }
        None => TrainingSettings::default(),
    };
    fn set<T: Copy>(target: &mut T, value: &Option<T>) {
        if let Some(value) = value {
            *target = *value;
        }
    }
    set(&mut chosen.epochs, epochs);
    set(&mut chosen.seed, seed);
    set(&mut chosen.validation_fraction, validation_fraction);
    set(&mut chosen.test_fraction, test_fraction);
    set(&mut chosen.optimizer.learning_rate, learning_rate);
    set(&mut chosen.patience, patience);
    set(&mut chosen.fine_tuning.unfrozen_blocks, unfrozen_blocks);
    set(
        &mut chosen.fine_tuning.backbone_learning_rate,
        backbone_learning_rate,
    );
    set(&mut chosen.fine_tuning.lora_rank, lora_rank);
    set(&mut chosen.augmentation.views_per_photo, views_per_photo);
    if !augment.is_empty() {
        let has = |augmentation| augment.contains(&augmentation);
        chosen.augmentation = AugmentationSettings {
            crop: has(Augmentation::Crop),
            flip: has(Augmentation::Flip),
            color: has(Augmentation::Color),
            rotation: has(Augmentation::Rotation),
            ..chosen.augmentation
        };
    }
    Ok(chosen.within_limits())
}

fn train(cli: &Cli) -> Result<(), Failure> {
    let Command::Train {
        folder,
        output,
        way,
        ..
    } = &cli.command
    else {
        unreachable!("train")
    };
    let way = *way;
    let settings = settings_of(cli)?;
    let engine = Engine::load(&cli.weights, cli.device, cli.batch)?;
    let bar = progress("decoding", 0);
    let dataset = photos::read_class_folders(folder, &bar).map_err(PhotosUnusable::Unreadable)?;
    bar.finish_and_clear();
    report_skipped(&dataset.skipped);
    if dataset.class_names.len() < 2 {
        let classes = dataset.class_names.len();
        return Err(PhotosUnusable::TooFewClasses(folder.clone(), classes).into());
    }
    let bar = progress("embedding", dataset.photos.len());
    let json = cli.json;
    let trained = engine.train(way, &dataset, settings, &bar, |report: &EpochReport| {
        if !json {
            let validation = report.validation.map_or(String::new(), |v| {
                format!(
                    ", validation loss {:.3} accuracy {:.1}%",
                    v.loss,
                    v.accuracy * 100.0
                )
            });
            let line = format!(
                "epoch {}: loss {:.3} accuracy {:.1}%{validation}",
                report.epoch,
                report.train.loss,
                report.train.accuracy * 100.0
            );
            // Above the bar on a terminal; plain lines on stderr otherwise.
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
        }
    })?;
    bar.finish_and_clear();
    let model = &trained.model;
    let bytes = model_file::write(model);
    std::fs::write(output, &bytes).map_err(|e| FileError::Write(output.clone(), e))?;
    let summary = json!({
        "model": output,
        "bytes": bytes.len(),
        "way": way.name(),
        "classes": model.class_names,
        "photos": { "train": trained.split.train.len(), "validation": trained.split.validation.len(), "test": trained.split.test.len() },
        "trainable_params": model.trainable_params,
        "training_ms": model.training_ms,
        "validation_accuracy": model.validation_accuracy(),
        "validation_folds": model.fold_accuracies.len(),
        "validation_spread": model.fold_spread().map(|(_, spread)| spread),
        "epochs_run": model.history.len(),
        "restored_epoch": model.restored_epoch,
    });
    if !json {
        let validation = match model.fold_spread() {
            Some((folds, _)) => format!("all by turns in {folds} folds"),
            None => trained.split.validation.len().to_string(),
        };
        let accuracy = match (model.validation_accuracy(), model.fold_spread()) {
            (Some(mean), Some((_, spread))) => {
                format!("{:.1}% ± {:.1}%", mean * 100.0, spread * 100.0)
            }
            (Some(accuracy), None) => format!("{:.1}%", accuracy * 100.0),
            (None, _) => "–".into(),
        };
        println!(
            "{}: {} classes, {} photos to train, {validation} to validate, {} to test; {} numbers trained in {:.1} s; validation accuracy {accuracy}",
            way.label(),
            model.class_names.len(),
            trained.split.train.len(),
            trained.split.test.len(),
            model.trainable_params,
            model.training_ms / 1000.0,
        );
        println!("wrote {} ({} bytes)", output.display(), bytes.len());
    }
    if trained.split.test.is_empty() {
        if json {
            println!("{}", serde_json::to_string_pretty(&summary).expect("JSON"));
        }
        return Ok(());
    }
    if !json {
        println!("final test (photos never used in training):");
    }
    let predictions: Vec<ValidationPrediction> = trained
        .split
        .test
        .iter()
        .zip(trained.test_probabilities)
        .map(|(&example, probabilities)| ValidationPrediction {
            example,
            label: dataset.labels[example],
            probabilities,
        })
        .collect();
    print_measurement(
        json,
        &model.class_names,
        &predictions,
        json!({ "training": summary }),
    );
    Ok(())
}
