//! Step 2: choosing the way to train, training, the run's status and curves, the settings,
//! the model in use and its file.

use super::curves::view_curves;
use super::number_setting::{NumberSetting, edit_with};
use super::settings::Settings;
use super::{
    PageAction, SettingsEdit, SharedState, StateProps, act_on_select, on_file_chosen, way_label,
    way_short_label,
};
use crate::browser::ObjectUrl;
use crate::text::{self, tr};
use headstart_app::{Action, AppState, RunPurpose, TrainingState, Way};
use headstart_core::training::{EpochReport, TrainedModel};
use headstart_text::{Arg, Message, text};
use web_sys::Blob;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TrainProps {
    pub state: SharedState,
    pub act: Callback<PageAction>,
    pub on_edit: Callback<SettingsEdit>,
    /// A model file was chosen to import, as `(file name, file)`.
    pub on_import_model: Callback<(String, Blob)>,
}

#[function_component]
pub fn Train(props: &TrainProps) -> Html {
    let (state, act) = (&props.state, &props.act);
    let busy = state.training_busy();
    let stopping = matches!(
        state.training,
        TrainingState::Running { stopping: true, .. }
    );
    let on_way = act_on_select(act, |way| Way::from_name(&way).map(Action::ChooseTrainWay));
    html! {
        <section class="step training">
            <h2>{ tr!("train-heading") }</h2>
            <div class="row">
                <label class="setting way">
                    <span class="setting-name">{ tr!("train-way") }</span>
                    <select name="train_mode" data-testid="train-mode" disabled={busy} onchange={on_way}>
                        { for Way::ALL.into_iter().map(|way| html! {
                            <option value={way.name()} selected={way == state.train_way}>{ way_label(way) }</option>
                        }) }
                    </select>
                </label>
                <button data-testid="train" class="primary" disabled={state.training_blocker().is_some()}
                    onclick={act.reform(|_| Action::Train)}>{ tr!("train") }</button>
                if busy {
                    <button data-testid="stop-training" disabled={stopping}
                        onclick={act.reform(|_| Action::StopTraining)}>{ tr!("stop") }</button>
                }
                <NumberSetting name="epochs" label={tr!("epochs")} help={tr!("epochs-help")}
                    value={state.settings.epochs as f64} step={1.0} disabled={busy}
                    on_value={edit_with(&props.on_edit, |s, v| s.epochs = v as usize)} />
            </div>
            <TrainStatus state={state.clone()} />
            <Settings state={state.clone()} act={act.clone()} on_edit={props.on_edit.clone()} />
            <ModelInfo state={state.clone()} />
            <div class="row model-file">
                <button data-testid="export-model" disabled={state.model.is_none()}
                    title={tr!("export-model-title")}
                    onclick={act.reform(|_| Action::ExportModel)}>{ tr!("export-model") }</button>
                <label class="upload">
                    { tr!("import-model") }
                    <input type="file" accept=".hsm" data-testid="import-model"
                        onchange={on_file_chosen(&props.on_import_model)} />
                </label>
            </div>
            if state.classes_changed_since_training() {
                <p class="hint">{ tr!("classes-changed") }</p>
            }
        </section>
    }
}

/// Where the run stands, in a sentence, with its progress and curves.
#[function_component]
fn TrainStatus(props: &StateProps) -> Html {
    let state = &props.state;
    let model = state.model.as_deref();
    let kept = model.and_then(|m| m.kept_epoch());
    let folds = model.and_then(TrainedModel::fold_spread);
    let RunSummary {
        detail,
        progress,
        curves,
    } = run_summary(state);
    html! {
        <div class="train-status" data-testid="train-status" data-state={state.training.name()}
            data-train-accuracy={kept.map(|r| r.train.accuracy.to_string())}
            data-validation-accuracy={model.and_then(TrainedModel::validation_accuracy).map(|a| a.to_string())}
            data-stopped-early={model.map(|m| m.stopped_early.to_string())}
            data-views={model.map(|m| m.split.views.to_string())}
            data-folds={folds.map(|(folds, _)| folds.to_string())}
            data-validation-spread={folds.map(|(_, spread)| spread.to_string())}>
            if let Some((done, total)) = progress {
                <progress value={done.to_string()} max={total.max(1).to_string()}></progress>
            }
            <p>{ detail }</p>
            if let (Some((folds, _)), Some(model), TrainingState::Done) = (folds, model, &state.training) {
                <p class="hint" data-testid="folds-why">{ tr!("train-folds-why", folds = folds, train = model.split.train) }</p>
            }
            { curves }
        </div>
    }
}

/// The model in use: its version, classes, way and size.
#[function_component]
fn ModelInfo(props: &StateProps) -> Html {
    let Some(model) = &props.state.model else {
        return html! {};
    };
    html! {
        <p class="model-info" data-testid="model-info" data-version={model.version.to_string()}
            data-classes={model.class_names.join("\n")} data-way={model.weights.way().name()}
            data-trainable-params={model.trainable_params.to_string()}>
            { tr!("model-in-use", version = model.version.0, classes = model.class_names.join(&tr!("class-list-separator")), way = way_short_label(model.weights.way()), params = model.trainable_params) }
        </p>
    }
}

/// What the training status shows.
struct RunSummary {
    detail: String,
    /// The progress bar's `(done, total)`.
    progress: Option<(usize, usize)>,
    curves: Html,
}

impl RunSummary {
    fn text(detail: String) -> Self {
        Self {
            detail,
            progress: None,
            curves: Html::default(),
        }
    }
}

fn run_summary(state: &AppState<ObjectUrl>) -> RunSummary {
    let model = state.model.as_deref();
    match &state.training {
        TrainingState::Idle => RunSummary::text(state.training_blocker().map_or_else(
            || tr!("train-ready"),
            |blocker| text::render(&blocker.message()),
        )),
        TrainingState::Preparing {
            purpose,
            done,
            total,
        } => {
            let detail = match purpose {
                RunPurpose::Model | RunPurpose::Comparison => {
                    tr!("train-preparing-views", done = *done, total = *total)
                }
                RunPurpose::WrongPreprocessing(_) => {
                    tr!("train-preparing-inputs", done = *done, total = *total)
                }
            };
            RunSummary {
                detail,
                progress: Some((*done, *total)),
                curves: Html::default(),
            }
        }
        TrainingState::Running {
            epochs,
            history,
            stopping,
            ..
        } => running_summary(history, *epochs, *stopping),
        TrainingState::Done => match model {
            Some(model) if model.history.is_empty() => off_the_shelf_summary(model),
            Some(model) => trained_summary(model),
            None => RunSummary::text(tr!("train-done-unknown")),
        },
        TrainingState::Discarded => RunSummary::text(match model {
            Some(model) => tr!("train-discarded-kept", version = model.version.0),
            None => tr!("train-discarded"),
        }),
        TrainingState::Failed(reason) => {
            RunSummary::text(tr!("train-failed", reason = reason.message()))
        }
    }
}

fn running_summary(history: &[EpochReport], epochs: usize, stopping: bool) -> RunSummary {
    let detail = match (stopping, history.last()) {
        (true, _) => tr!("train-stopping", epoch = history.len() + 1),
        (false, Some(report)) => tr!(
            "train-epoch",
            epoch = report.epoch,
            epochs = epochs,
            loss = Arg::decimal(report.train.loss, 3),
            accuracy = Arg::percent(report.train.accuracy)
        ),
        (false, None) => tr!("train-starting", epochs = epochs),
    };
    RunSummary {
        detail,
        progress: Some((history.len(), epochs)),
        curves: view_curves("curves", history, epochs, None),
    }
}

/// How the photos of `model`'s run validated it: held back, or by turns.
fn held(model: &TrainedModel) -> Message {
    match model.fold_spread() {
        Some((folds, _)) => text!("train-held-by-folds", folds = folds),
        None => text!("train-held-out", validation = model.split.validation),
    }
}

/// What `model` scored on photos it did not learn from: the folds' mean ± spread, or its held
/// back photos' accuracy, with `loss` when there is one.
fn validation_result(model: &TrainedModel, loss: Option<f32>) -> Message {
    let Some(accuracy) = model.validation_accuracy() else {
        return text!("train-result-no-validation");
    };
    let accuracy = Arg::percent(accuracy);
    match (model.fold_spread(), loss) {
        (Some((_, spread)), Some(loss)) => text!(
            "train-result-validation-folds-loss",
            accuracy = accuracy,
            spread = Arg::percent(spread),
            loss = Arg::decimal(loss, 3)
        ),
        (Some((_, spread)), None) => text!(
            "train-result-validation-folds",
            accuracy = accuracy,
            spread = Arg::percent(spread)
        ),
        (None, Some(loss)) => text!(
            "train-result-validation-loss",
            accuracy = accuracy,
            loss = Arg::decimal(loss, 3)
        ),
        (None, None) => text!("train-result-validation", accuracy = accuracy),
    }
}

/// A model made in one look (no epochs, no curves).
fn off_the_shelf_summary(model: &TrainedModel) -> RunSummary {
    RunSummary::text(tr!(
        "train-done-no-training",
        way = way_label(model.weights.way()),
        train = model.split.train,
        held = held(model),
        result = validation_result(model, None)
    ))
}

/// A model trained over epochs: how the run ended, what it scored, and its curves.
fn trained_summary(model: &TrainedModel) -> RunSummary {
    let (Some(last), Some(kept)) = (model.last_epoch(), model.kept_epoch()) else {
        return RunSummary::text(tr!("train-done-unknown"));
    };
    let result = validation_result(model, kept.validation.map(|v| v.loss));
    let how = match (model.stopped_early, model.restored_epoch) {
        (true, _) => text!(
            "train-how-stopped",
            epoch = last.epoch,
            epochs = model.settings.epochs
        ),
        (false, Some(best)) => text!("train-how-restored", epochs = last.epoch, best = best),
        (false, None) => text!("train-how-done", epochs = last.epoch),
    };
    RunSummary {
        detail: tr!(
            "train-done",
            way = way_label(model.weights.way()),
            how = how,
            train = model.split.train,
            views = model.split.views,
            held = held(model),
            accuracy = Arg::percent(kept.train.accuracy),
            result = result
        ),
        progress: Some((last.epoch, model.settings.epochs)),
        curves: view_curves(
            "curves",
            &model.history,
            model.settings.epochs,
            model.restored_epoch,
        ),
    }
}
