//! Step 4: the ways to train side by side: the student's predicted ranking, the runs, their
//! results and curves, and the final test of them all.

use super::curves::view_ways_curves;
use super::number_setting::{NumberSetting, edit_with};
use super::{
    PageAction, SettingsEditProps, SharedState, StateActProps, StateProps, act_on_select,
    percent_or_dash, way_label, way_short_label,
};
use crate::text::{self, tr};
use headstart_app::{Action, Way, WayResult, WayState};
use headstart_core::training::BACKBONE_BLOCKS;
use headstart_text::Arg;
use yew::prelude::*;

/// Ways in order, as the ranking's `data-` attributes name them: "frozen>lora".
fn ranking_name(ranking: &[Way]) -> String {
    ranking
        .iter()
        .map(|way| way.name())
        .collect::<Vec<_>>()
        .join(">")
}

/// Ways in order, as the student reads them.
fn ranking_label(ranking: &[Way]) -> String {
    ranking
        .iter()
        .map(|way| way_short_label(*way))
        .collect::<Vec<_>>()
        .join(&tr!("ranking-separator"))
}

#[function_component]
pub fn Comparison(props: &SettingsEditProps) -> Html {
    let (state, act) = (&props.state, &props.act);
    let chosen = state
        .predicted_ranking()
        .map(|ranking| ranking_name(&ranking));
    let comparing = (state.comparison.as_ref())
        .is_some_and(|c| c.results.iter().any(|r| r.state == WayState::Running));
    let blocked = state.comparison_blocker().is_some() || chosen.is_none();
    html! {
        <section class="step compare" data-testid="compare">
            <h2>{ tr!("compare-heading") }</h2>
            <p>{ tr!("compare-intro") }</p>
            <FineTuningSettings state={state.clone()} act={act.clone()} on_edit={props.on_edit.clone()} />
            <div class="row">
                <PredictedRanking state={state.clone()} act={act.clone()} chosen={chosen.clone()} />
                <button data-testid="compare-run" class="primary" disabled={blocked || comparing}
                    title={tr!("compare-run-title")}
                    onclick={act.reform(|_| Action::RunComparison)}>{ tr!("compare-run") }</button>
                if comparing {
                    <button data-testid="compare-stop" onclick={act.reform(|_| Action::StopTraining)}>{ tr!("stop") }</button>
                }
                if chosen.is_none() {
                    <span class="hint" data-testid="compare-why">{ tr!("compare-predict-first") }</span>
                }
            </div>
            <ComparisonResults state={state.clone()} />
            <FinalTest state={state.clone()} act={act.clone()} />
        </section>
    }
}

/// The settings only the fine-tuning and LoRA ways use.
#[function_component]
fn FineTuningSettings(props: &SettingsEditProps) -> Html {
    let fine_tuning = &props.state.settings.fine_tuning;
    let busy = props.state.training_busy();
    let on_edit = &props.on_edit;
    html! {
        <div class="settings-grid">
            <NumberSetting name="unfreeze-blocks" label={tr!("unfreeze-blocks")} help={tr!("unfreeze-blocks-help", blocks = BACKBONE_BLOCKS)}
                value={fine_tuning.unfrozen_blocks as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.fine_tuning.unfrozen_blocks = v as usize)} />
            <NumberSetting name="backbone_learning_rate" label={tr!("backbone-learning-rate")} help={tr!("backbone-learning-rate-help")}
                value={fine_tuning.backbone_learning_rate} step={0.00001} disabled={busy} on_value={edit_with(on_edit, |s, v| s.fine_tuning.backbone_learning_rate = v)} />
            <NumberSetting name="lora-rank" label={tr!("lora-rank")} help={tr!("lora-rank-help")}
                value={fine_tuning.lora_rank as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.fine_tuning.lora_rank = v as usize)} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct PredictedRankingProps {
    state: SharedState,
    act: Callback<PageAction>,
    /// The ranking predicted, once every place has a way (see [`ranking_name`]).
    chosen: Option<String>,
}

/// The student's prediction: a way for each place, best first.
#[function_component]
fn PredictedRanking(props: &PredictedRankingProps) -> Html {
    let place_select = |(place, way): (usize, &Option<Way>)| {
        let on_choose = act_on_select(&props.act, move |way| {
            Way::from_name(&way).map(|way| Action::PredictPlace(place, way))
        });
        html! {
            <label class="place">
                <span>{ tr!("prediction-place", place = place + 1) }</span>
                <select data-testid="predicted-place" data-place={(place + 1).to_string()}
                    aria-label={tr!("prediction-place-label", place = place + 1)} onchange={on_choose}>
                    <option value="" selected={way.is_none()} disabled=true>{ tr!("prediction-choose") }</option>
                    { for Way::ALL.into_iter().map(|option| html! {
                        <option value={option.name()} selected={*way == Some(option)}>{ way_short_label(option) }</option>
                    }) }
                </select>
            </label>
        }
    };
    html! {
        <fieldset class="prediction-places" data-testid="predicted-ranking" data-ranking={props.chosen.clone()}>
            <legend>{ tr!("prediction-places") }</legend>
            { for props.state.predicted_places.iter().enumerate().map(place_select) }
        </fieldset>
    }
}

/// The comparison once it ran: a row per way, their curves, and the ranking predicted
/// against the one measured.
#[function_component]
fn ComparisonResults(props: &StateProps) -> Html {
    let state = &props.state;
    let Some(comparison) = &state.comparison else {
        return html! {};
    };
    let curves = (comparison.results.iter())
        .map(|r| (r.way.name(), way_short_label(r.way), r.history.as_slice()))
        .collect::<Vec<_>>();
    html! {
        <>
            <div class="table-scroll">
                <table class="compare-table">
                    <thead><tr>
                        <th scope="col">{ tr!("compare-way") }</th>
                        <th scope="col">{ tr!("compare-params") }</th>
                        <th scope="col">{ tr!("compare-time") }</th>
                        <th scope="col">{ tr!("compare-validation") }</th>
                        <th scope="col">{ tr!("compare-test") }</th>
                    </tr></thead>
                    <tbody>
                        { for comparison.results.iter().map(|result| html! {
                            <tr data-testid="compare-result" data-mode={result.way.name()} data-state={result.state.name()}
                                data-trainable-params={result.trainable_params.to_string()}
                                data-train-ms={result.training_ms.map(|ms| ms.to_string())}
                                data-validation-accuracy={result.validation_accuracy.map(|a| a.to_string())}
                                data-test-accuracy={result.test_accuracy.map(|a| a.to_string())}>
                                <th scope="row">{ way_label(result.way) }</th>
                                <td>{ tr!("number", value = result.trainable_params) }</td>
                                <td>{ training_time(result, state.settings.epochs) }</td>
                                <td>{ percent_or_dash(result.validation_accuracy) }</td>
                                <td>{ percent_or_dash(result.test_accuracy) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <p class="setting-help">{ tr!("compare-explained") }</p>
            { view_ways_curves(&curves, comparison.settings().epochs) }
            if state.comparison_is_stale() {
                <p class="hint" data-testid="compare-stale">{ tr!("compare-stale") }</p>
            }
            <p data-testid="ranking" data-predicted={ranking_name(&comparison.predicted)}
                data-measured={comparison.ranking().map(|r| ranking_name(&r))}>
                { tr!("ranking-predicted", ranking = ranking_label(&comparison.predicted)) }
                { match comparison.ranking() {
                    Some(measured) => tr!("ranking-measured", ranking = ranking_label(&measured)),
                    None => tr!("ranking-press-final-test"),
                } }
            </p>
        </>
    }
}

/// A way's training time, or how far it got of `epochs` while it trains.
fn training_time(result: &WayResult, epochs: usize) -> String {
    match (result.state, result.training_ms) {
        (WayState::Running, _) if !result.history.is_empty() => tr!(
            "compare-epoch",
            epoch = result.history.len(),
            epochs = epochs
        ),
        (WayState::Running, _) => tr!("compare-training"),
        (WayState::Failed, _) => tr!("compare-stopped"),
        (WayState::Done, Some(ms)) if ms < 1000.0 => tr!("duration-ms", ms = Arg::decimal(ms, 0)),
        (WayState::Done, Some(ms)) => tr!("duration-s", seconds = Arg::decimal(ms / 1000.0, 1)),
        (WayState::Done, None) => tr!("no-value"),
    }
}

/// The final test: the button, and the result once it ran.
#[function_component]
fn FinalTest(props: &StateActProps) -> Html {
    let state = &props.state;
    if state.model.is_none() && state.comparison.is_none() {
        return html! {};
    }
    let blocker = state.final_test_blocker();
    let stale = state.final_test_is_stale();
    let reused = state.final_tests_run > 1;
    html! {
        <div class="final-test">
            <button data-testid="final-test" disabled={blocker.is_some() || state.training_busy()}
                title={tr!("final-test-title")}
                onclick={props.act.reform(|_| Action::FinalTest)}>{ tr!("final-test") }</button>
            <span class="setting-help">{ tr!("final-test-help") }</span>
            if let Some(blocker) = &blocker {
                <span class="hint" data-testid="final-test-why">{ text::render(&blocker.message()) }</span>
            }
            if let Some(test) = &state.final_test {
                <p data-testid="final-test-result" data-model-version={test.model_version.to_string()}
                    data-accuracy={test.accuracy().map(|a| a.to_string())} data-total={test.total.to_string()}
                    data-stale={stale.to_string()} data-tests-run={state.final_tests_run.to_string()}
                    class={classes!("final-result", stale.then_some("stale"))}>
                    { match test.correct {
                        None => tr!("final-testing"),
                        Some(correct) => tr!("final-test-result", version = test.model_version.0, correct = correct, total = test.total, accuracy = Arg::percent(test.accuracy().unwrap_or(0.0))),
                    } }
                    if stale {
                        { tr!("final-test-stale") }
                    }
                    if reused {
                        { tr!("final-test-reused", times = state.final_tests_run) }
                    }
                </p>
            }
        </div>
    }
}
