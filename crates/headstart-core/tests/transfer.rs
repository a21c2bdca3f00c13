//! Transfer learning on real photos: a head trained on frozen-backbone embeddings of 5 photos
//! per class classifies held-out photos of those classes well above chance.

mod support;

use burn::tensor::Device;
use headstart_core::embedding::Embedding;
use headstart_core::head::HeadTrainer;
use headstart_core::inference::classify;
use headstart_core::training::{EpochReport, LabeledEmbedding, SplitSizes, TrainingSettings, top1};
use support::{backbone, class_folders, embed_files, repo_root};

fn labeled(folder: &str, device: &Device) -> (Vec<String>, Vec<LabeledEmbedding>) {
    let backbone = backbone(device);
    let classes = class_folders(&repo_root().join(folder));
    let mut examples = Vec::new();
    for (label, (_, files)) in classes.iter().enumerate() {
        for embedding in embed_files(&backbone, files, device) {
            examples.push(LabeledEmbedding { embedding, label });
        }
    }
    (
        classes.into_iter().map(|(name, _)| name).collect(),
        examples,
    )
}

fn train(examples: &[LabeledEmbedding], device: &Device) -> (HeadTrainer, Vec<EpochReport>) {
    let mut trainer = HeadTrainer::new(examples, 3, TrainingSettings::default(), device).unwrap();
    let mut reports = Vec::new();
    while !trainer.is_finished() {
        reports.push(pollster::block_on(trainer.run_epoch()).unwrap());
    }
    (trainer, reports)
}

#[test]
fn head_on_five_shots_classifies_held_out_photos() {
    let device = Device::flex();
    let (names, train_set) = labeled("www/samples", &device);
    let (held_out_names, held_out) = labeled("tests/photos/held-out", &device);
    assert_eq!(names, vec!["bird", "flower", "fruit"]);
    assert_eq!(held_out_names, names);
    assert_eq!(train_set.len(), 15);

    let (trainer, reports) = train(&train_set, &device);
    assert_eq!(
        trainer.split_sizes(),
        SplitSizes {
            train: 12,
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

    let embeddings: Vec<Embedding> = held_out.iter().map(|e| e.embedding.clone()).collect();
    let probabilities =
        pollster::block_on(classify(&trainer.head(), &embeddings, &device)).unwrap();
    let correct = probabilities
        .iter()
        .zip(&held_out)
        .filter(|(p, example)| top1(p).0 == example.label)
        .count();
    let accuracy = correct as f32 / held_out.len() as f32;
    println!(
        "held-out accuracy {accuracy} ({correct}/{})",
        held_out.len()
    );
    assert!(
        accuracy >= 0.8,
        "held-out accuracy {accuracy} (chance is 0.33)"
    );

    // Same seed, same data: the same run, epoch for epoch.
    let (_, again) = train(&train_set, &device);
    assert_eq!(again, reports);
}
