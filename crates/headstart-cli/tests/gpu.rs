//! `headstart --device gpu` against `--device cpu` on real photos: the same embeddings, and
//! models trained on the GPU (a new head; fine-tuning the last blocks) classifying on both
//! devices as the models trained on the CPU with the same seed do. Built only with the `gpu`
//! feature: scripts/test-gpu.sh runs it on whatever adapter the machine has (Mesa's llvmpipe
//! where there is no GPU).
#![cfg(feature = "gpu")]

mod support;

use headstart_core::inference::max_abs_difference;
use serde_json::Value;
use support::{headstart_command, repo_root};

/// Runs `headstart --device DEVICE ARGS --json`; its JSON, after checking that it computed
/// where it was asked to.
fn headstart_json(device: &str, args: &[&str]) -> Value {
    let output = headstart_command(&["--device", device, "--json"])
        .args(args)
        .output()
        .expect("the command runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let expected = match device {
        "gpu" => "computing on the GPU",
        _ => "computing on the CPU",
    };
    assert!(stderr.contains(expected), "{stderr}");
    eprint!("{stderr}");
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// Every photo file under `folder`'s class folders, sorted.
fn photo_files(folder: &str) -> Vec<String> {
    let mut files = Vec::new();
    for class in std::fs::read_dir(repo_root().join(folder)).unwrap() {
        let class = class.unwrap().path();
        if class.is_dir() {
            for photo in std::fs::read_dir(class).unwrap() {
                files.push(photo.unwrap().path().to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

fn floats(value: &Value) -> Vec<f32> {
    serde_json::from_value(value.clone()).unwrap()
}

/// The probabilities of a prediction, in class-name order.
fn probabilities(prediction: &Value) -> Vec<f32> {
    let by_class = prediction["probabilities"].as_object().unwrap();
    by_class
        .values()
        .map(|p| p.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn embeddings_on_the_gpu_equal_the_cpus() {
    let files = photo_files("tests/photos/held-out");
    let mut args = vec!["embed"];
    args.extend(files.iter().map(String::as_str));
    let gpu = headstart_json("gpu", &args);
    let cpu = headstart_json("cpu", &args);
    let (gpu, cpu) = (gpu.as_array().unwrap(), cpu.as_array().unwrap());
    assert_eq!(gpu.len(), files.len());
    let mut worst = 0.0f32;
    for (on_gpu, on_cpu) in gpu.iter().zip(cpu) {
        assert_eq!(on_gpu["file"], on_cpu["file"]);
        let file = &on_gpu["file"];
        let (on_gpu, on_cpu) = (floats(&on_gpu["embedding"]), floats(&on_cpu["embedding"]));
        assert_eq!((on_gpu.len(), on_cpu.len()), (1280, 1280));
        let difference = max_abs_difference(&on_gpu, &on_cpu);
        assert!(difference < 1e-2, "{file}: {difference}");
        worst = worst.max(difference);
    }
    println!("{} photos: largest GPU-CPU difference {worst}", files.len());
}

/// Predictions of `model` for the held-out photos, computed on `device`.
fn predictions(device: &str, model: &str) -> Vec<Value> {
    let files = photo_files("tests/photos/held-out");
    let mut args = vec!["predict", model];
    args.extend(files.iter().map(String::as_str));
    let rows = headstart_json(device, &args).as_array().unwrap().clone();
    assert_eq!(rows.len(), files.len());
    rows
}

/// The same labels and the same probabilities within float tolerance, photo by photo.
fn assert_same_predictions(expected: &[Value], actual: &[Value], what: &str) {
    for (expected, actual) in expected.iter().zip(actual) {
        assert_eq!(expected["file"], actual["file"]);
        assert_eq!(
            expected["label"], actual["label"],
            "{what}: {}",
            actual["file"]
        );
        let (wanted, got) = (probabilities(expected), probabilities(actual));
        assert_eq!(wanted.len(), got.len());
        let difference = max_abs_difference(&wanted, &got);
        assert!(
            difference < 1e-3,
            "{what}: {}: {difference}",
            actual["file"]
        );
    }
}

/// Trains `way` with the same seed on the GPU and on the CPU: the GPU's model predicts the
/// held-out photos on the GPU as it does on the CPU, and as the CPU's model does.
fn trained_on_the_gpu_as_on_the_cpu(way: &str, epochs: &str) {
    let dir = std::env::temp_dir().join(format!("headstart-gpu-{way}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model_of = |device: &str| {
        let model = dir.join(format!("{device}.hsm"));
        let model = model.to_str().unwrap().to_string();
        let trained = headstart_json(
            device,
            &[
                "train",
                "www/samples",
                "-o",
                &model,
                "--way",
                way,
                "--epochs",
                epochs,
                "--seed",
                "7",
            ],
        );
        assert_eq!(trained["training"]["way"], way);
        model
    };
    let (gpu_model, cpu_model) = (model_of("gpu"), model_of("cpu"));
    let on_gpu = predictions("gpu", &gpu_model);
    assert_same_predictions(&on_gpu, &predictions("cpu", &gpu_model), "GPU model, CPU");
    assert_same_predictions(
        &predictions("cpu", &cpu_model),
        &on_gpu,
        "CPU model, GPU model",
    );
    let right = on_gpu
        .iter()
        .filter(|row| {
            let label = row["label"].as_str().unwrap();
            row["file"]
                .as_str()
                .unwrap()
                .contains(&format!("/{label}/"))
        })
        .count();
    println!(
        "{way} trained on the GPU: {right}/{} held-out photos right, as trained on the CPU",
        on_gpu.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_head_trained_on_the_gpu_is_the_head_trained_on_the_cpu() {
    trained_on_the_gpu_as_on_the_cpu("frozen", "50");
}

#[test]
fn a_network_fine_tuned_on_the_gpu_is_the_network_fine_tuned_on_the_cpu() {
    trained_on_the_gpu_as_on_the_cpu("finetune", "3");
}

/// `auto` takes a hardware GPU and passes a software adapter over for the CPU; with no adapter
/// at all (the Vulkan and EGL drivers hidden), `auto` computes on the CPU and `--device gpu` is
/// refused.
#[test]
fn without_a_hardware_gpu_auto_computes_on_the_cpu_and_without_any_gpu_is_refused() {
    let run = |args: &[&str], hide_drivers: bool| {
        let mut command = headstart_command(args);
        if hide_drivers {
            command
                .env("VK_ICD_FILENAMES", "/nonexistent.json")
                .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent.json");
        }
        let output = command.output().expect("the command runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr)
    };
    let photo = "www/samples/bird/crow.png";
    let software_adapter = gpu_adapter_is_software();
    let (code, stderr) = run(&["embed", photo], false);
    assert_eq!(code, Some(0), "{stderr}");
    let expected = match software_adapter {
        true => "computing on the CPU",
        false => "computing on the GPU",
    };
    assert!(stderr.contains(expected), "{stderr}");
    let (code, stderr) = run(&["embed", photo], true);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("computing on the CPU"), "{stderr}");
    let (code, stderr) = run(&["--device", "gpu", "embed", photo], true);
    assert_eq!(code, Some(5), "{stderr}");
    assert!(
        stderr.contains("no GPU adapter was found; use --device cpu"),
        "{stderr}"
    );
    println!("software adapter here: {software_adapter}");
}

/// Whether the adapter `--device gpu` takes here is a software one (llvmpipe), as it reports.
fn gpu_adapter_is_software() -> bool {
    let output = headstart_command(&["--device", "gpu", "embed", "www/samples/bird/crow.png"])
        .output()
        .expect("the command runs");
    String::from_utf8_lossy(&output.stderr).contains("a software adapter")
}
