//! Transfer learning on real photos: a head trained on frozen-backbone embeddings of 5 photos
//! per class classifies held-out photos of those classes well above chance.

mod support;

use burn::tensor::Device;
use headstart_core::embedding::Embedding;
use headstart_core::head::HeadTrainer;
use headstart_core::inference::classify;
use headstart_core::preprocess::Normalization;
use headstart_core::training::{EpochReport, LabeledEmbedding, SplitSizes, TrainingSettings, top1};
use support::{backbone, class_folders, embed_files, repo_root};

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

fn train(examples: &[LabeledEmbedding], device: &Device) -> (HeadTrainer, Vec<EpochReport>) {
    let mut trainer =
        HeadTrainer::new(examples, &[], 3, TrainingSettings::default(), device).unwrap();
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
    let device = Device::flex();
    let mut accuracies = Vec::new();
    for normalization in Normalization::ALL {
        let (_, train_set) = labeled("www/samples", normalization, &device);
        let (_, held_out) = labeled("tests/photos/held-out", normalization, &device);
        let (trainer, _) = train(&train_set, &device);
        accuracies.push((normalization, accuracy_on(&trainer, &held_out, &device)));
    }
    println!("held-out accuracy by normalization: {accuracies:?}");
    let [(_, right), (_, zero_to_one), (_, raw), (_, _imagenet)] = accuracies[..] else {
        unreachable!()
    };
    assert!(zero_to_one < right, "{accuracies:?}");
    assert!(raw < right, "{accuracies:?}");
}
