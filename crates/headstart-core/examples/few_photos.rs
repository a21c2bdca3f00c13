//! The few-photo measurements behind the head's defaults: every candidate recipe (and
//! scikit-learn's logistic-regression probe) on seeded k-shot splits of each photo set, at 1,
//! 3, 5 and 10 photos a class, printed as the README's table (mean ± spread over the splits, in
//! points of test accuracy). Run by `scripts/bench-few-photos.sh`:
//!
//! `cargo run --release --example few_photos --features image -- [--splits N] NAME=DIR[,DIR]...`
//! where each DIR holds one folder of photos per class (a set's DIRs pooled by class name).

#[path = "../tests/support/mod.rs"]
mod support;

use burn::tensor::Device;
use headstart_core::few_photos::{
    HeadRecipe, PhotoSetEmbeddings, Recipe, ShotSplit, accuracy, imbalanced_split,
    mean_class_accuracy, shot_split, test_accuracy, test_predictions,
};
use headstart_core::training::{OptimizerKind, TrainingSettings, mean_and_spread};
use std::path::PathBuf;
use std::time::Instant;
use support::{backbone, logistic_probe, photo_set_embeddings};

const SHOTS: [usize; 4] = [1, 3, 5, 10];

/// The imbalanced splits: one of these many photos of one class train (each class in turn),
/// and [`SMALL_CLASS_SHOTS`] of each other class.
const LARGE_CLASS_SHOTS: [usize; 2] = [8, 20];
const SMALL_CLASS_SHOTS: usize = 2;

/// The candidates, each named as the table shows it.
fn candidates() -> Vec<(&'static str, Recipe)> {
    let defaults = TrainingSettings::default();
    let head = |change: &dyn Fn(&mut HeadRecipe)| {
        let mut recipe = HeadRecipe::plain(defaults.clone());
        change(&mut recipe);
        Recipe::Head(recipe)
    };
    let sgd = |r: &mut HeadRecipe| {
        r.settings.optimizer.kind = OptimizerKind::SgdMomentum;
        r.settings.optimizer.learning_rate = 0.1;
        r.settings.optimizer.weight_decay = 0.05;
    };
    vec![
        ("new head, the page's settings", head(&|_| {})),
        ("+ unit-length embeddings", head(&|r| r.unit_length = true)),
        ("+ 4 augmented views a photo", head(&|r| r.views = true)),
        ("+ mirror-image mean", head(&|r| r.mirrored_mean = true)),
        (
            "+ weight decay 0.05",
            head(&|r| r.settings.optimizer.weight_decay = 0.05),
        ),
        (
            "+ label smoothing 0.1",
            head(&|r| r.settings.label_smoothing = 0.1),
        ),
        (
            "+ learning rate 0.01",
            head(&|r| r.settings.optimizer.learning_rate = 0.01),
        ),
        (
            "+ SGD with momentum, learning rate 0.1, weight decay 0.05",
            head(&sgd),
        ),
        (
            "+ SGD as above, all photos in one batch, 100 epochs, no dropout",
            head(&|r| {
                sgd(r);
                r.settings.batch_size = 1024;
                r.settings.epochs = 100;
                r.settings.dropout = 0.0;
            }),
        ),
        (
            "+ SGD as above, mirror-image mean",
            head(&|r| {
                sgd(r);
                r.mirrored_mean = true;
            }),
        ),
        ("nearest centroid", Recipe::NearestCentroid),
    ]
}

fn cell(accuracies: &[f32]) -> String {
    if accuracies.is_empty() {
        return "–".into();
    }
    let (mean, spread) = mean_and_spread(accuracies);
    format!("{:.1} ± {:.1}", mean * 100.0, spread * 100.0)
}

fn main() {
    let mut splits_per_size = 20u64;
    let mut sets: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--splits" {
            splits_per_size = args
                .next()
                .and_then(|n| n.parse().ok())
                .expect("--splits N");
        } else {
            let (name, dirs) = arg.split_once('=').expect("NAME=DIR[,DIR]");
            sets.push((name.into(), dirs.split(',').map(PathBuf::from).collect()));
        }
    }
    let device = Device::flex();
    let backbone = backbone(&device);
    let candidates = candidates();
    for (name, dirs) in sets {
        let started = Instant::now();
        let (classes, set) = photo_set_embeddings(&backbone, &dirs, &device);
        eprintln!(
            "{name}: {} photos in {} classes embedded (with mirror and views) in {:.0} s",
            set.photos.len(),
            classes.len(),
            started.elapsed().as_secs_f32()
        );
        let splits: Vec<Vec<ShotSplit>> = SHOTS
            .iter()
            .map(|&shots| {
                (0..splits_per_size)
                    .filter_map(|seed| shot_split(&set.labels, shots, seed))
                    .collect()
            })
            .collect();
        println!(
            "\n{name} ({} classes, {} photos; {splits_per_size} splits a size)\n",
            classes.len(),
            set.photos.len()
        );
        println!("| candidate | 1 a class | 3 a class | 5 a class | 10 a class | ms a run (5) |");
        println!("|---|---|---|---|---|---|");
        for (label, recipe) in &candidates {
            let mut cells = Vec::new();
            let mut ms_at_5 = 0.0;
            for (size, size_splits) in SHOTS.iter().zip(&splits) {
                let started = Instant::now();
                let accuracies = measure(&set, size_splits, recipe, &device);
                if *size == 5 {
                    ms_at_5 =
                        started.elapsed().as_secs_f64() * 1e3 / size_splits.len().max(1) as f64;
                }
                cells.push(cell(&accuracies));
            }
            println!("| {label} | {} | {ms_at_5:.0} |", cells.join(" | "));
        }
        let probe: Vec<String> = splits
            .iter()
            .map(|s| {
                cell(&if s.is_empty() {
                    Vec::new()
                } else {
                    logistic_probe(&set, s)
                })
            })
            .collect();
        println!(
            "| logistic-regression probe (scikit-learn) | {} | |",
            probe.join(" | ")
        );
        for large in LARGE_CLASS_SHOTS {
            imbalanced(&set, large, splits_per_size, &device);
        }
    }
}

/// The table of splits with `large` photos of one class: test accuracy as the mean over
/// classes and over all test photos, of the head with and without balancing and of nearest
/// centroid.
fn imbalanced(set: &PhotoSetEmbeddings, large: usize, splits_per_size: u64, device: &Device) {
    let splits: Vec<ShotSplit> = (0..splits_per_size)
        .filter_map(|seed| imbalanced_split(&set.labels, large, SMALL_CLASS_SHOTS, seed))
        .collect();
    if splits.is_empty() {
        return;
    }
    println!(
        "\n| {large} photos of one class, {SMALL_CLASS_SHOTS} of each other | mean over classes | all test photos |"
    );
    println!("|---|---|---|");
    let balanced = TrainingSettings::default();
    let unbalanced = TrainingSettings {
        balance_classes: false,
        ..balanced.clone()
    };
    for (label, recipe) in [
        (
            "new head, classes balanced (the default)",
            Recipe::Head(HeadRecipe::plain(balanced)),
        ),
        (
            "new head, not balanced",
            Recipe::Head(HeadRecipe::plain(unbalanced)),
        ),
        ("nearest centroid", Recipe::NearestCentroid),
    ] {
        let (per_class, all): (Vec<f32>, Vec<f32>) = splits
            .iter()
            .map(|split| {
                let predicted = pollster::block_on(test_predictions(set, split, &recipe, device))
                    .expect("a run");
                (
                    mean_class_accuracy(set, split, &predicted),
                    accuracy(set, split, &predicted),
                )
            })
            .unzip();
        println!("| {label} | {} | {} |", cell(&per_class), cell(&all));
    }
}

fn measure(
    set: &PhotoSetEmbeddings,
    splits: &[ShotSplit],
    recipe: &Recipe,
    device: &Device,
) -> Vec<f32> {
    splits
        .iter()
        .map(|split| pollster::block_on(test_accuracy(set, split, recipe, device)).expect("a run"))
        .collect()
}
