//! Transfer learning on real photos: a head trained on frozen-backbone embeddings of 5 photos
//! per class classifies held-out photos of those classes well above chance.

mod support;

use burn::tensor::Device;
use burn::tensor::Tensor;
use headstart_core::augment::{AugmentationSettings, augment_rgba, view_seed};
use headstart_core::backbone::EfficientNetLite0;
use headstart_core::dataset::stratified_split;
use headstart_core::embedding::Embedding;
use headstart_core::few_photos::{
    HeadRecipe, PhotoSetEmbeddings, Recipe, shot_split, test_accuracy,
};
use headstart_core::head::HeadTrainer;
use headstart_core::inference::classify;
use headstart_core::preprocess::Normalization;
use headstart_core::preprocess::{batch_tensor, normalize_rgba};
use headstart_core::protocol::NetworkTraining;
use headstart_core::training::AugmentedView;
use headstart_core::training::{
    EpochReport, LabeledEmbedding, SplitSizes, TrainingSettings, mean_and_spread, top1,
};
use headstart_core::tune::{TuneTrainer, classify_prefix_outputs, frozen_blocks, scratch_input};
use support::{backbone, class_folders, decode_files, embed_files, embed_inputs, repo_root};

fn labeled(
    folder: &str,
    normalization: Normalization,
    device: &Device,
) -> (Vec<String>, Vec<LabeledEmbedding>) {
    let backbone = backbone(device);
    let classes = class_folders(&repo_root().join(folder));
    let mut examples = Vec::new();
    for (label, (_, files)) in classes.iter().enumerate() {
        for embedding in embed_files(&backbone, files, normalization, device) {
            examples.push(LabeledEmbedding { embedding, label });
        }
    }
    (
        classes.into_iter().map(|(name, _)| name).collect(),
        examples,
    )
}

/// The validation part of the page's split with `settings` (no test part: held-out photos test).
fn validation_of(examples: &[LabeledEmbedding], settings: &TrainingSettings) -> Vec<usize> {
    let labels: Vec<usize> = examples.iter().map(|e| e.label).collect();
    stratified_split(&labels, settings.validation_fraction, 0.0, settings.seed).validation
}

fn train(examples: &[LabeledEmbedding], device: &Device) -> (HeadTrainer, Vec<EpochReport>) {
    let settings = TrainingSettings::default();
    let validation = validation_of(examples, &settings);
    let mut trainer = HeadTrainer::new(examples, &validation, &[], 3, settings, device).unwrap();
    let mut reports = Vec::new();
    while !trainer.is_finished() {
        reports.push(pollster::block_on(trainer.run_epoch()).unwrap());
    }
    (trainer, reports)
}

/// Share of `examples` the trained head classifies right.
fn accuracy_on(trainer: &HeadTrainer, examples: &[LabeledEmbedding], device: &Device) -> f32 {
    let embeddings: Vec<Embedding> = examples.iter().map(|e| e.embedding.clone()).collect();
    let probabilities = pollster::block_on(classify(&trainer.head(), &embeddings, device)).unwrap();
    let correct = probabilities
        .iter()
        .zip(examples)
        .filter(|(p, example)| top1(p).0 == example.label)
        .count();
    correct as f32 / examples.len() as f32
}

#[test]
fn head_on_five_shots_classifies_held_out_photos() {
    let device = Device::flex();
    let (names, train_set) = labeled("www/samples", Normalization::Model, &device);
    let (held_out_names, held_out) =
        labeled("tests/photos/held-out", Normalization::Model, &device);
    assert_eq!(names, vec!["bird", "flower", "fruit"]);
    assert_eq!(held_out_names, names);
    assert_eq!(train_set.len(), 15);

    let (trainer, reports) = train(&train_set, &device);
    assert_eq!(
        trainer.split_sizes(),
        SplitSizes {
            train: 12,
            views: 0,
            validation: 3
        }
    );
    let first = reports.first().unwrap();
    let last = reports.last().unwrap();
    println!("first epoch {first:?}\nlast epoch {last:?}");
    assert!(
        last.train.loss < first.train.loss / 2.0,
        "training loss fell"
    );
    assert_eq!(last.train.accuracy, 1.0);

    let accuracy = accuracy_on(&trainer, &held_out, &device);
    println!("held-out accuracy {accuracy}");
    assert!(
        accuracy >= 0.8,
        "held-out accuracy {accuracy} (chance is 0.33)"
    );

    // Same seed, same data: the same run, epoch for epoch.
    let (_, again) = train(&train_set, &device);
    assert_eq!(again, reports);
}

#[test]
fn inputs_normalized_otherwise_than_the_weights_expect_cost_held_out_accuracy() {
    // Over 20 seeded 5-photo splits of the 30 real photos (one split of 15 test photos moved
    // by a photo either way).
    let device = Device::flex();
    let recipe = Recipe::Head(HeadRecipe::plain(TrainingSettings::default()));
    let mut accuracies = Vec::new();
    for normalization in Normalization::ALL {
        let (_, samples) = labeled("www/samples", normalization, &device);
        let (_, held_out) = labeled("tests/photos/held-out", normalization, &device);
        let examples: Vec<&LabeledEmbedding> = samples.iter().chain(&held_out).collect();
        let set = PhotoSetEmbeddings {
            labels: examples.iter().map(|e| e.label).collect(),
            photos: examples.iter().map(|e| e.embedding.clone()).collect(),
            // The page's plain head uses neither mirror images nor views.
            mirrored: Vec::new(),
            views: Vec::new(),
        };
        let per_split: Vec<f32> = (0..20)
            .filter_map(|seed| shot_split(&set.labels, 5, seed))
            .map(|split| pollster::block_on(test_accuracy(&set, &split, &recipe, &device)).unwrap())
            .collect();
        accuracies.push((normalization, mean_and_spread(&per_split)));
    }
    println!("test accuracy (mean, spread) by normalization: {accuracies:?}");
    let [(_, (right, _)), (_, (zero_to_one, _)), (_, (raw, _)), _] = accuracies[..] else {
        unreachable!()
    };
    assert!(zero_to_one < right, "{accuracies:?}");
    assert!(raw < right, "{accuracies:?}");
}

#[test]
fn augmented_views_of_the_training_photos_train_a_head_that_still_generalizes() {
    let device = Device::flex();
    let backbone = backbone(&device);
    let (_, train_set) = labeled("www/samples", Normalization::Model, &device);
    let (_, held_out) = labeled("tests/photos/held-out", Normalization::Model, &device);
    let inputs: Vec<Vec<u8>> = class_folders(&repo_root().join("www/samples"))
        .iter()
        .flat_map(|(_, files)| decode_files(files))
        .collect();
    let settings = TrainingSettings::default();
    let labels: Vec<usize> = train_set.iter().map(|e| e.label).collect();
    let split = stratified_split(&labels, settings.validation_fraction, 0.0, settings.seed);
    let augmentation = AugmentationSettings {
        crop: true,
        flip: true,
        color: true,
        rotation: true,
        views_per_photo: 4,
    };
    let mut views = Vec::new();
    for &example in &split.train {
        let made: Vec<Vec<u8>> = (1..=augmentation.views_per_photo)
            .map(|view| {
                let seed = view_seed(settings.seed, example as u32, view);
                augment_rgba(&inputs[example], &augmentation, seed)
            })
            .collect();
        for embedding in embed_inputs(&backbone, &made, Normalization::Model, &device) {
            views.push(AugmentedView { example, embedding });
        }
    }
    let mut trainer =
        HeadTrainer::new(&train_set, &split.validation, &views, 3, settings, &device).unwrap();
    while !trainer.is_finished() {
        pollster::block_on(trainer.run_epoch()).unwrap();
    }
    assert_eq!(trainer.split_sizes().views, 48);
    let (plain, _) = train(&train_set, &device);
    let with_views = accuracy_on(&trainer, &held_out, &device);
    let without = accuracy_on(&plain, &held_out, &device);
    println!(
        "held-out accuracy without augmentation {without}, with 4 views per photo {with_views}"
    );
    assert!(
        with_views >= 0.8,
        "held-out accuracy {with_views} (chance is 0.33)"
    );
}

/// What a network run of `kind` takes of each photo under `folder` (the frozen prefix's
/// outputs, or scaled-down images from scratch), and the photos' labels.
fn network_inputs(
    backbone: &EfficientNetLite0,
    kind: NetworkTraining,
    folder: &str,
    device: &Device,
) -> (Tensor<4>, Vec<usize>) {
    let mut labels = Vec::new();
    let mut images = Vec::new();
    for (label, (_, files)) in class_folders(&repo_root().join(folder)).iter().enumerate() {
        for rgba in decode_files(files) {
            images.push(normalize_rgba(&rgba, Normalization::Model));
            labels.push(label);
        }
    }
    let images = batch_tensor(&images, device);
    let inputs = match kind {
        NetworkTraining::FromScratch => scratch_input(images),
        NetworkTraining::FineTune | NetworkTraining::Lora => {
            let frozen = frozen_blocks(backbone, &TrainingSettings::default().fine_tuning);
            backbone.prefix(images, frozen)
        }
    };
    (inputs, labels)
}

/// A network run of `kind` on the sample photos with the default settings, not started.
fn network_trainer(
    backbone: &EfficientNetLite0,
    kind: NetworkTraining,
    device: &Device,
) -> TuneTrainer {
    let (inputs, labels) = network_inputs(backbone, kind, "www/samples", device);
    let settings = TrainingSettings::default();
    let validation =
        stratified_split(&labels, settings.validation_fraction, 0.0, settings.seed).validation;
    TuneTrainer::start(
        kind,
        backbone,
        inputs,
        &labels,
        &validation,
        3,
        settings,
        device,
    )
    .unwrap()
}

/// Runs every epoch, then measures the trained network on the held-out photos.
fn held_out_accuracy_after_training(
    trainer: &mut TuneTrainer,
    backbone: &EfficientNetLite0,
    kind: NetworkTraining,
    device: &Device,
) -> f32 {
    while !trainer.is_finished() {
        pollster::block_on(trainer.run_epoch()).unwrap();
    }
    let (inputs, labels) = network_inputs(backbone, kind, "tests/photos/held-out", device);
    let probabilities =
        pollster::block_on(classify_prefix_outputs(&trainer.tail(), inputs)).unwrap();
    let correct = probabilities
        .iter()
        .zip(&labels)
        .filter(|(p, label)| top1(p).0 == **label)
        .count();
    correct as f32 / labels.len() as f32
}

#[test]
fn fine_tuning_the_last_blocks_on_cached_prefix_outputs_still_generalizes() {
    let device = Device::flex();
    let backbone = backbone(&device).folded();
    let kind = NetworkTraining::FineTune;
    let mut trainer = network_trainer(&backbone, kind, &device);
    let accuracy = held_out_accuracy_after_training(&mut trainer, &backbone, kind, &device);
    println!(
        "held-out accuracy fine-tuning 2 blocks: {accuracy} ({} trainable numbers); last epoch {:?}",
        trainer.trainable_params(),
        trainer.history().last()
    );
    assert!(
        accuracy >= 0.8,
        "held-out accuracy {accuracy} (chance is 0.33)"
    );
}

#[test]
fn a_network_trained_from_scratch_on_these_few_photos_scores_below_the_frozen_head() {
    let device = Device::flex();
    let backbone = backbone(&device).folded();
    let kind = NetworkTraining::FromScratch;
    let started = std::time::Instant::now();
    let mut trainer = network_trainer(&backbone, kind, &device);
    let scratch = held_out_accuracy_after_training(&mut trainer, &backbone, kind, &device);
    let elapsed = started.elapsed();
    let (_, train_set) = labeled("www/samples", Normalization::Model, &device);
    let (_, held_out) = labeled("tests/photos/held-out", Normalization::Model, &device);
    let (frozen_trainer, _) = train(&train_set, &device);
    let frozen = accuracy_on(&frozen_trainer, &held_out, &device);
    println!(
        "held-out accuracy from scratch (112 px, {} numbers, {elapsed:?}): {scratch}; frozen head: {frozen}",
        trainer.trainable_params()
    );
    assert!(scratch < frozen, "scratch {scratch}, frozen {frozen}");
}

#[test]
fn lora_on_real_photos_trains_only_its_adapters_and_the_head_and_still_generalizes() {
    let device = Device::flex();
    let backbone = backbone(&device).folded();
    let kind = NetworkTraining::Lora;
    let mut trainer = network_trainer(&backbone, kind, &device);
    let start = trainer.tail();
    let accuracy = held_out_accuracy_after_training(&mut trainer, &backbone, kind, &device);
    let tuned = trainer.tail();
    let values = |tensor: Tensor<4>| tensor.into_data().try_to_vec::<f32>().unwrap();
    let (before, after) = (&start.blocks[1].project, &tuned.blocks[1].project);
    let (adapter_0, adapter_1) = (
        before.adapter.as_ref().unwrap(),
        after.adapter.as_ref().unwrap(),
    );
    assert_eq!(
        values(before.conv.weight.val()),
        values(after.conv.weight.val())
    );
    assert_eq!(
        values(start.blocks[0].depthwise.conv.weight.val()),
        values(tuned.blocks[0].depthwise.conv.weight.val())
    );
    assert_eq!(
        values(start.head.conv.weight.val()),
        values(tuned.head.conv.weight.val())
    );
    assert_ne!(
        values(adapter_0.up.weight.val()),
        values(adapter_1.up.weight.val())
    );
    assert_ne!(
        values(adapter_0.down.weight.val()),
        values(adapter_1.down.weight.val())
    );
    println!(
        "held-out accuracy LoRA (default rank) on 2 blocks: {accuracy} ({} trainable numbers)",
        trainer.trainable_params()
    );
    assert!(
        accuracy >= 0.8,
        "held-out accuracy {accuracy} (chance is 0.33)"
    );
}

/// Accuracy and mean cross-entropy of `probabilities` for the photos `test` (indices into
/// `labels`).
fn scored(probabilities: &[Vec<f32>], test: &[usize], labels: &[usize]) -> (f32, f32) {
    let n = test.len() as f32;
    probabilities
        .iter()
        .zip(test)
        .fold((0.0, 0.0), |(right, loss), (p, &i)| {
            let label = labels[i];
            (
                right + f32::from(u8::from(top1(p).0 == label)) / n,
                loss - p[label].max(1e-7).ln() / n,
            )
        })
}

/// The measurement behind the fine-tuning defaults (blocks unfrozen, their learning rate, LoRA's
/// rank): every choice trained on the same three seeded splits of all 30 real photos (samples
/// and held-out; a third of each class tests), reporting the mean test accuracy, the mean test
/// loss (cross-entropy, finer than accuracy on 10 test photos) and the training time. Minutes
/// long, so not part of the suite: run it with
/// `cargo test --release -p headstart-core --all-features --test transfer -- --ignored --nocapture fine_tuning_defaults`.
#[test]
#[ignore = "a measurement of several minutes; see its documentation"]
fn fine_tuning_defaults_measured_on_real_photos() {
    use headstart_core::training::FineTuningSettings;
    let device = Device::flex();
    let backbone = backbone(&device).folded();
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for folder in ["www/samples", "tests/photos/held-out"] {
        for (label, (_, files)) in class_folders(&repo_root().join(folder)).iter().enumerate() {
            for rgba in decode_files(files) {
                images.push(normalize_rgba(&rgba, Normalization::Model));
                labels.push(label);
            }
        }
    }
    let normalized = images.clone();
    let images = batch_tensor(&images, &device);
    let pick = |tensor: &Tensor<4>, rows: &[usize]| {
        let index = Tensor::<1, burn::tensor::Int>::from_data(
            burn::tensor::TensorData::new(
                rows.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                [rows.len()],
            ),
            &device,
        );
        tensor.clone().select(0, index)
    };
    let mut choices: Vec<(NetworkTraining, FineTuningSettings)> = Vec::new();
    for unfrozen_blocks in [1, 2, 4] {
        for backbone_learning_rate in [1e-5, 1e-4, 1e-3] {
            let tuning = FineTuningSettings {
                unfrozen_blocks,
                backbone_learning_rate,
                ..FineTuningSettings::default()
            };
            choices.push((NetworkTraining::FineTune, tuning));
        }
    }
    for lora_rank in [1, 4, 16] {
        let tuning = FineTuningSettings {
            lora_rank,
            ..FineTuningSettings::default()
        };
        choices.push((NetworkTraining::Lora, tuning));
    }
    println!(
        "way, blocks, backbone rate, rank: test accuracy, test loss, seconds (means of 3 splits)"
    );
    // The baseline: a new head on the frozen backbone's embeddings, on the same splits.
    let embeddings = pollster::block_on(headstart_core::inference::embed(
        &backbone,
        &normalized,
        &device,
    ))
    .unwrap();
    let (mut accuracy, mut loss) = (0.0, 0.0);
    for seed in [1u64, 2, 3] {
        let settings = TrainingSettings {
            seed,
            ..TrainingSettings::default()
        };
        let split = stratified_split(&labels, settings.validation_fraction, 1.0 / 3.0, seed);
        let run = split.run_examples();
        let examples: Vec<LabeledEmbedding> = run
            .examples
            .iter()
            .map(|&i| LabeledEmbedding {
                embedding: embeddings[i].clone(),
                label: labels[i],
            })
            .collect();
        let mut trainer =
            HeadTrainer::new(&examples, &run.validation, &[], 3, settings, &device).unwrap();
        while !trainer.is_finished() {
            pollster::block_on(trainer.run_epoch()).unwrap();
        }
        let test: Vec<Embedding> = split.test.iter().map(|&i| embeddings[i].clone()).collect();
        let probabilities = pollster::block_on(classify(&trainer.head(), &test, &device)).unwrap();
        let (right, cross_entropy) = scored(&probabilities, &split.test, &labels);
        accuracy += right;
        loss += cross_entropy;
    }
    println!(
        "Frozen head, -, -, -: {:.3}, {:.3}",
        accuracy / 3.0,
        loss / 3.0
    );
    for (kind, tuning) in choices {
        let frozen = frozen_blocks(&backbone, &tuning);
        let prefix = backbone.prefix(images.clone(), frozen);
        let (mut accuracy, mut loss, mut seconds) = (0.0, 0.0, 0.0);
        let seeds = [1u64, 2, 3];
        for seed in seeds {
            let settings = TrainingSettings {
                seed,
                fine_tuning: tuning.clone(),
                ..TrainingSettings::default()
            };
            let split = stratified_split(&labels, settings.validation_fraction, 1.0 / 3.0, seed);
            let run = split.run_examples();
            let run_labels: Vec<usize> = run.examples.iter().map(|&i| labels[i]).collect();
            let started = std::time::Instant::now();
            let mut trainer = TuneTrainer::start(
                kind,
                &backbone,
                pick(&prefix, &run.examples),
                &run_labels,
                &run.validation,
                3,
                settings,
                &device,
            )
            .unwrap();
            while !trainer.is_finished() {
                pollster::block_on(trainer.run_epoch()).unwrap();
            }
            seconds += started.elapsed().as_secs_f32();
            let probabilities = pollster::block_on(classify_prefix_outputs(
                &trainer.tail(),
                pick(&prefix, &split.test),
            ))
            .unwrap();
            let (right, cross_entropy) = scored(&probabilities, &split.test, &labels);
            accuracy += right;
            loss += cross_entropy;
        }
        let n = seeds.len() as f32;
        println!(
            "{kind:?}, {}, {:e}, {}: {:.3}, {:.3}, {:.1}",
            tuning.unfrozen_blocks,
            tuning.backbone_learning_rate,
            tuning.lora_rank,
            accuracy / n,
            loss / n,
            seconds / n
        );
    }
}
