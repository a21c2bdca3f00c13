//! The `headstart` command on real photos: a model trained on the sample photos, its final
//! test, its evaluation on the held-out photos (the confusion matrix checked against the
//! command's own predictions, photo by photo), and its refusals.

mod support;

use serde_json::Value;
use std::process::Output;
use support::{headstart_command, repo_root};

fn headstart(args: &[&str]) -> Output {
    headstart_command(args).output().expect("the command runs")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn a_model_trained_on_folders_evaluates_with_a_confusion_matrix_that_matches_its_predictions() {
    let dir = std::env::temp_dir().join(format!("headstart-cli-{}", std::process::id()));
    let model = dir.join("model.hsm");
    std::fs::create_dir_all(&dir).unwrap();
    let model_arg = model.to_str().unwrap();
    let trained = json_of(&headstart(&[
        "train",
        "www/samples",
        "-o",
        model_arg,
        "--json",
        "--seed",
        "7",
    ]));
    // The page's split of 5 photos per class: 3 train, 1 validates, 1 is the final test.
    assert_eq!(trained["training"]["photos"]["test"], 3);
    assert_eq!(trained["training"]["way"], "frozen");
    assert_eq!(trained["photos"], 3, "the final test counted its photos");

    let held_out = repo_root().join("tests/photos/held-out");
    let evaluated = json_of(&headstart(&[
        "eval",
        model_arg,
        "tests/photos/held-out",
        "--json",
    ]));
    let classes: Vec<String> =
        serde_json::from_value(evaluated["confusion"]["classes"].clone()).unwrap();
    assert_eq!(classes, ["bird", "flower", "fruit"]);
    let rows: Vec<Vec<usize>> =
        serde_json::from_value(evaluated["confusion"]["rows_true_columns_predicted"].clone())
            .unwrap();

    // The same photos through `predict`, tallied by their folders.
    let mut expected = vec![vec![0; 3]; 3];
    for (truth, class) in classes.iter().enumerate() {
        let mut files: Vec<String> = std::fs::read_dir(held_out.join(class))
            .unwrap()
            .map(|e| e.unwrap().path().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut args = vec!["predict", model_arg, "--json"];
        args.extend(files.iter().map(String::as_str));
        for prediction in json_of(&headstart(&args)).as_array().unwrap() {
            let label = prediction["label"].as_str().unwrap();
            expected[truth][classes.iter().position(|c| c == label).unwrap()] += 1;
        }
    }
    assert_eq!(rows, expected);
    let right: usize = (0..3).map(|c| rows[c][c]).sum();
    assert_eq!(evaluated["photos"], 15);
    let accuracy = evaluated["accuracy"].as_f64().unwrap();
    assert!((accuracy - right as f64 / 15.0).abs() < 1e-6);
    println!("held-out accuracy of a CLI-trained head: {accuracy}; confusion {rows:?}");
    assert!(accuracy >= 0.8, "{accuracy}");

    // One byte of the weights changed: the file is refused, by name, as damaged.
    let mut bytes = std::fs::read(&model).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let damaged = dir.join("damaged.hsm");
    std::fs::write(&damaged, bytes).unwrap();
    let output = headstart(&["eval", damaged.to_str().unwrap(), "tests/photos/held-out"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("damaged.hsm was refused"), "{stderr}");
    assert!(stderr.contains("damaged model file"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unusable_photos_one_class_and_bad_model_files_get_a_message_and_an_exit_code() {
    let dir = std::env::temp_dir().join(format!("headstart-cli-bad-{}", std::process::id()));
    let class = dir.join("only");
    std::fs::create_dir_all(&class).unwrap();
    std::fs::copy(
        repo_root().join("www/samples/bird/crow.png"),
        class.join("crow.png"),
    )
    .unwrap();
    std::fs::write(class.join("notes.jpg"), b"not a photo").unwrap();
    let output = headstart(&["train", dir.to_str().unwrap(), "-o", "/dev/null"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("notes.jpg is not a photo"), "{stderr}");
    assert!(stderr.contains("at least two"), "{stderr}");

    let output = headstart(&[
        "predict",
        class.join("notes.jpg").to_str().unwrap(),
        "www/samples/bird/crow.png",
    ]);
    assert_eq!(output.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&output.stderr).contains("was refused"));

    // A whole photo given as a model input is refused by name, with its size.
    let output = headstart(&["embed", "--model-inputs", "www/samples/bird/crow.png"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("crow.png is not a photo"), "{stderr}");
    assert!(
        stderr.contains("a model input is 224x224, not 183x146"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without the `gpu` feature, `--device gpu` is refused with the way to get it; `auto` computes
/// on the CPU.
#[cfg(not(feature = "gpu"))]
#[test]
fn the_gpu_asked_of_a_build_without_it_is_refused_with_how_to_build_it() {
    let output = headstart(&["--device", "gpu", "embed", "www/samples/bird/crow.png"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("built without GPU support"), "{stderr}");
    assert!(stderr.contains("--features gpu"), "{stderr}");
    assert!(stderr.contains("use --device cpu"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = headstart(&["embed", "www/samples/bird/crow.png"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("computing on the CPU"), "{stderr}");
}
