//! Step 2: choosing the way to train, training, the run's status and curves, the settings,
//! the model in use and its file.

use super::curves::view_curves;
use super::number_setting::{NumberSetting, edit_with};
use super::settings::Settings;
use super::{
    PageAction, SettingsEdit, SharedState, StateProps, act_on_select, format_count, on_file_chosen,
    percent,
};
use crate::browser::ObjectUrl;
use headstart_app::{Action, AppState, RunPurpose, TrainingState, Way};
use headstart_core::training::{EpochReport, TrainedModel};
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
            <h2>{ "2. Train" }</h2>
            <div class="row">
                <label class="setting way">
                    <span class="setting-name">{ "Way to train" }</span>
                    <select name="train_mode" data-testid="train-mode" disabled={busy} onchange={on_way}>
                        { for Way::ALL.into_iter().map(|way| html! {
                            <option value={way.name()} selected={way == state.train_way}>{ way.label() }</option>
                        }) }
                    </select>
                </label>
                <button data-testid="train" class="primary" disabled={state.training_blocker().is_some()}
                    onclick={act.reform(|_| Action::Train)}>{ "Train" }</button>
                if busy {
                    <button data-testid="stop-training" disabled={stopping}
                        onclick={act.reform(|_| Action::StopTraining)}>{ "Stop" }</button>
                }
                <NumberSetting name="epochs" label="Epochs" help="How many times training goes through all the photos."
                    value={state.settings.epochs as f64} step={1.0} disabled={busy}
                    on_value={edit_with(&props.on_edit, |s, v| s.epochs = v as usize)} />
            </div>
            <TrainStatus state={state.clone()} />
            <Settings state={state.clone()} act={act.clone()} on_edit={props.on_edit.clone()} />
            <ModelInfo state={state.clone()} />
            <div class="row model-file">
                <button data-testid="export-model" disabled={state.model.is_none()}
                    title="Save the model in use as a file (nothing is uploaded)"
                    onclick={act.reform(|_| Action::ExportModel)}>{ "Export model" }</button>
                <label class="upload">
                    { "Import a model file" }
                    <input type="file" accept=".hsm" data-testid="import-model"
                        onchange={on_file_chosen(&props.on_import_model)} />
                </label>
            </div>
            if state.classes_changed_since_training() {
                <p class="hint">{ "Your classes changed since training: train again to include the changes." }</p>
            }
        </section>
    }
}

/// Where the run stands, in a sentence, with its progress and curves.
#[function_component]
fn TrainStatus(props: &StateProps) -> Html {
    let state = &props.state;
    let model = state.model.as_ref();
    let kept = model.and_then(|m| m.kept_epoch());
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
            data-views={model.map(|m| m.split.views.to_string())}>
            if let Some((done, total)) = progress {
                <progress value={done.to_string()} max={total.max(1).to_string()}></progress>
            }
            <p>{ detail }</p>
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
            { format!("In use: model {} ({}), {}, {} numbers trained", model.version, model.class_names.join(", "), model.weights.way().short_label(), format_count(model.trainable_params)) }
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
    let model = state.model.as_ref();
    match &state.training {
        TrainingState::Idle => RunSummary::text(
            state
                .training_blocker()
                .unwrap_or_else(|| "Ready to train.".into()),
        ),
        TrainingState::Preparing {
            purpose,
            done,
            total,
        } => {
            let what = match purpose {
                RunPurpose::Model | RunPurpose::Comparison => "augmented views",
                RunPurpose::WrongPreprocessing(_) => "wrongly preprocessed inputs",
            };
            RunSummary {
                detail: format!("Making {what} of the photos: {done} of {total}…"),
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
            None => RunSummary::text("Done.".into()),
        },
        TrainingState::Discarded => RunSummary::text(match model {
            Some(model) => format!(
                "Stopped before the first epoch ended: nothing was kept. Model {} is still in use.",
                model.version
            ),
            None => "Stopped before the first epoch ended: nothing was kept.".into(),
        }),
        TrainingState::Failed(reason) => RunSummary::text(format!(
            "Training stopped: {reason}. Your photos are kept; try again."
        )),
    }
}

fn running_summary(history: &[EpochReport], epochs: usize, stopping: bool) -> RunSummary {
    let detail = match (stopping, history.last()) {
        (true, _) => format!("Stopping after epoch {}…", history.len() + 1),
        (false, Some(report)) => format!(
            "Epoch {} of {epochs}: loss {:.3}, training accuracy {}",
            report.epoch,
            report.train.loss,
            percent(report.train.accuracy)
        ),
        (false, None) => format!("Starting {epochs} epochs…"),
    };
    RunSummary {
        detail,
        progress: Some((history.len(), epochs)),
        curves: view_curves("curves", history, epochs, None),
    }
}

/// A model made in one look (no epochs, no curves).
fn off_the_shelf_summary(model: &TrainedModel) -> RunSummary {
    let validation = model
        .validation_accuracy()
        .map_or("no validation photos".into(), |a| {
            format!("validation accuracy {}", percent(a))
        });
    RunSummary::text(format!(
        "{}: made from {} photos ({} held back for validation) in one look, no training: {validation}.",
        model.weights.way().label(),
        model.split.train,
        model.split.validation,
    ))
}

/// A model trained over epochs: how the run ended, what it scored, and its curves.
fn trained_summary(model: &TrainedModel) -> RunSummary {
    let (Some(last), Some(kept)) = (model.last_epoch(), model.kept_epoch()) else {
        return RunSummary::text("Done.".into());
    };
    let validation = kept.validation.map_or("no validation photos".into(), |v| {
        format!(
            "validation accuracy {} (loss {:.3})",
            percent(v.accuracy),
            v.loss
        )
    });
    let how = match (model.stopped_early, model.restored_epoch) {
        (true, _) => format!(
            "Stopped after epoch {} of {}; kept the model as it was",
            last.epoch, model.settings.epochs
        ),
        (false, Some(best)) => format!(
            "Done after {} epochs; validation loss was lowest at epoch {best}, so the model keeps that epoch's weights",
            last.epoch
        ),
        (false, None) => format!("Done after {} epochs", last.epoch),
    };
    let views = match model.split.views {
        0 => String::new(),
        views => format!(" and {views} augmented views"),
    };
    RunSummary {
        detail: format!(
            "{}: {how}, on {} photos{views} ({} held back for validation): training accuracy {}, {validation}.",
            model.weights.way().label(),
            model.split.train,
            model.split.validation,
            percent(kept.train.accuracy)
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
