//! The converted backbone and ImageNet classifier reproduce the reference predictions on the
//! scikit-image sample photos, as an independent forward pass of the checkpoint predicts them.

mod support;

use burn::tensor::Device;
use headstart_core::backbone::BackboneConfig;
use headstart_core::inference::{GPU_TOLERANCE, GpuDistrust, check_gpu_against_cpu};
use headstart_core::preprocess::Normalization;
use headstart_core::readback::read_rows;
use headstart_core::weights::{IMAGENET_CLASSIFIER_FILE, load_imagenet_classifier};
use support::{backbone, data_file, embed_files, repo_root};

/// Top-5 ImageNet classes and probabilities of each golden photo.
fn imagenet_top5(names: &[&str]) -> Vec<Vec<(usize, f32)>> {
    let device = Device::flex();
    let backbone = backbone(&device);
    let classifier = load_imagenet_classifier(
        data_file(&format!("weights/{IMAGENET_CLASSIFIER_FILE}")),
        &device,
    )
    .unwrap();
    let files: Vec<_> = names
        .iter()
        .map(|n| repo_root().join("data/golden").join(n))
        .collect();
    let embeddings = embed_files(&backbone, &files, Normalization::Model, &device);
    let flat: Vec<f32> = embeddings
        .iter()
        .flat_map(|e| e.values().iter().copied())
        .collect();
    let input = burn::tensor::Tensor::<2>::from_data(
        burn::tensor::TensorData::new(flat, [names.len(), 1280]),
        &device,
    );
    let probabilities = burn::tensor::activation::softmax(classifier.forward(input), 1);
    pollster::block_on(read_rows(probabilities))
        .unwrap()
        .into_iter()
        .map(|row| {
            let mut ranked: Vec<(usize, f32)> = row.into_iter().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            ranked.truncate(5);
            ranked
        })
        .collect()
}

#[test]
fn golden_imagenet_predictions_on_real_photos() {
    let top5 = imagenet_top5(&["coffee.png", "chelsea.png", "rocket.jpg"]);
    for (name, ranked) in ["coffee", "chelsea", "rocket"].iter().zip(&top5) {
        println!("{name}: {ranked:?}");
    }
    // coffee.png -> 967 espresso p=0.951
    assert_eq!(top5[0][0].0, 967);
    assert!(
        (top5[0][0].1 - 0.951).abs() < 0.03,
        "espresso p={}",
        top5[0][0].1
    );
    // chelsea.png -> 282 tiger cat 0.385, 285 Egyptian cat 0.363, 281 tabby 0.167: the first
    // two are close, so a different resize filter may swap them; the three cats lead.
    let mut cats: Vec<usize> = top5[1][..3].iter().map(|(class, _)| *class).collect();
    cats.sort_unstable();
    assert_eq!(cats, vec![281, 282, 285]);
    assert!(
        (top5[1][0].1 - 0.385).abs() < 0.06,
        "top cat p={}",
        top5[1][0].1
    );
    // rocket.jpg -> 657 missile 0.32, 744 projectile 0.21
    assert_eq!(top5[2][0].0, 657);
    assert_eq!(top5[2][1].0, 744);
    assert!(
        (top5[2][0].1 - 0.32).abs() < 0.06,
        "missile p={}",
        top5[2][0].1
    );
}

/// Mean absolute difference of two equally long pixel buffers.
fn mean_abs_difference(a: &[u8], b: &[u8]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.abs_diff(*y) as f32)
        .sum::<f32>()
        / a.len() as f32
}

#[test]
fn exif_orientation_is_applied_before_cropping() {
    use headstart_core::preprocess::decode_to_rgba;
    let decode = |name: &str| {
        let path = repo_root().join("tests/photos/exif").join(name);
        decode_to_rgba(&std::fs::read(path).unwrap()).unwrap()
    };
    let upright = decode("pelican-upright.jpg");
    let tagged = decode("pelican-exif-rotated.jpg");
    let untagged = decode("pelican-rotated-no-exif.jpg");
    let with_tag = mean_abs_difference(&upright, &tagged);
    let without_tag = mean_abs_difference(&upright, &untagged);
    println!(
        "mean pixel difference to upright: EXIF-rotated {with_tag}, rotated without tag {without_tag}"
    );
    assert!(with_tag < 3.0, "{with_tag}");
    assert!(without_tag > 10.0 * with_tag, "{without_tag}");
}

#[test]
fn folding_batch_norm_into_the_convolutions_keeps_the_embeddings() {
    let device = Device::flex();
    let files: Vec<_> = ["coffee.png", "chelsea.png", "rocket.jpg"]
        .iter()
        .map(|n| repo_root().join("data/golden").join(n))
        .collect();
    let time = |model: &headstart_core::backbone::EfficientNetLite0| {
        let started = std::time::Instant::now();
        let embeddings = embed_files(model, &files, Normalization::Model, &device);
        (embeddings, started.elapsed())
    };
    let (plain, plain_time) = time(&backbone(&device));
    let (folded, folded_time) = time(&backbone(&device).folded());
    let largest = plain
        .iter()
        .flat_map(|e| e.values())
        .fold(0f32, |m, v| m.max(v.abs()));
    let difference = plain
        .iter()
        .zip(&folded)
        .map(|(a, b)| headstart_core::inference::max_abs_difference(a.values(), b.values()))
        .fold(0f32, f32::max);
    println!(
        "folded BatchNorm: embeddings differ by at most {difference} (largest value {largest}); \
         3 photos with decoding: {plain_time:?} plain, {folded_time:?} folded"
    );
    assert!(difference <= 1e-4 * largest.max(1.0), "{difference}");
}

/// The check a GPU passes before it is used (the page's workers, `headstart --device gpu`),
/// here with two CPU models standing in: the folded backbone agrees with the unfolded one
/// (folding BatchNorm keeps the function), a randomly initialized one does not.
#[test]
fn a_gpu_is_trusted_only_when_its_embedding_of_the_probe_agrees_with_the_cpus() {
    let device = Device::flex();
    let unfolded = backbone(&device);
    let folded = backbone(&device).folded();
    pollster::block_on(check_gpu_against_cpu(&unfolded, &device, &folded, &device))
        .expect("the folded backbone agrees with the unfolded one");
    let untrained = BackboneConfig::new().init(&device);
    match pollster::block_on(check_gpu_against_cpu(&folded, &device, &untrained, &device)) {
        Err(GpuDistrust::Differs(difference)) => assert!(difference > GPU_TOLERANCE),
        result => panic!("an untrained backbone was trusted: {result:?}"),
    }
}
