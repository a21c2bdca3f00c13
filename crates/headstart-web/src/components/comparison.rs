//! Step 4: the ways to train side by side: the student's predicted ranking, the runs, their
//! results and curves, and the final test of them all.

use super::curves::view_ways_curves;
use super::number_setting::{NumberSetting, edit_with};
use super::{
    PageAction, SettingsEditProps, SharedState, StateActProps, StateProps, act_on_select,
    format_count, percent_or_dash,
};
use headstart_app::{Action, Way, WayResult, WayState};
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
        .map(|way| way.short_label())
        .collect::<Vec<_>>()
        .join(" > ")
}

#[function_component]
pub fn Comparison(props: &SettingsEditProps) -> Html {
    let (state, act) = (&props.state, &props.act);
    let chosen = state
        .predicted_ranking()
        .map(|ranking| ranking_name(&ranking));
    let comparing = (state.comparison.as_ref())
        .is_some_and(|c| c.results.iter().any(|r| r.state == WayState::Running));
    let blocked = state.training_blocker().is_some() || chosen.is_none();
    html! {
        <section class="step compare" data-testid="compare">
            <h2>{ "4. Compare ways to train" }</h2>
            <p>{ "The same photos and split, six ways: the class average of the pretrained features (nearest centroid), the 5 most similar training photos voting (nearest neighbours), a new head on top of the frozen network, a new head trained together with the network's last blocks (fine-tuning), small LoRA corrections to those blocks while they stay frozen, and the same network learning from your photos alone (from scratch, at half resolution so that it finishes in a few minutes). Which will do best on photos it never saw? Predict first, then run." }</p>
            <FineTuningSettings state={state.clone()} act={act.clone()} on_edit={props.on_edit.clone()} />
            <div class="row">
                <PredictedRanking state={state.clone()} act={act.clone()} chosen={chosen.clone()} />
                <button data-testid="compare-run" class="primary" disabled={blocked || comparing}
                    title={if chosen.is_none() { "Choose your prediction first" } else { "Train every way on the same split" }}
                    onclick={act.reform(|_| Action::RunComparison)}>{ "Compare" }</button>
                if comparing {
                    <button data-testid="compare-stop" onclick={act.reform(|_| Action::StopTraining)}>{ "Stop" }</button>
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
            <NumberSetting name="unfreeze-blocks" label="Blocks to fine-tune" help="How many of the network's last blocks (of 16) learn too. Their BatchNorm statistics stay as pretrained: a few photos are too few to re-estimate them."
                value={fine_tuning.unfrozen_blocks as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.fine_tuning.unfrozen_blocks = v as usize)} />
            <NumberSetting name="backbone_learning_rate" label="Their learning rate" help="Pretrained layers learn with smaller steps than the new head, so they keep what they know."
                value={fine_tuning.backbone_learning_rate} step={0.00001} disabled={busy} on_value={edit_with(on_edit, |s, v| s.fine_tuning.backbone_learning_rate = v)} />
            <NumberSetting name="lora-rank" label="LoRA rank" help="LoRA keeps those blocks frozen and learns a small correction beside each 1x1 layer: rank r adds r numbers per channel in and out (1 to 64)."
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
                <span>{ format!("{}.", place + 1) }</span>
                <select data-testid="predicted-place" data-place={(place + 1).to_string()}
                    aria-label={format!("Place {}", place + 1)} onchange={on_choose}>
                    <option value="" selected={way.is_none()} disabled=true>{ "choose…" }</option>
                    { for Way::ALL.into_iter().map(|option| html! {
                        <option value={option.name()} selected={*way == Some(option)}>{ option.short_label() }</option>
                    }) }
                </select>
            </label>
        }
    };
    html! {
        <fieldset class="prediction-places" data-testid="predicted-ranking" data-ranking={props.chosen.clone()}>
            <legend>{ "Your prediction, best first" }</legend>
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
        .map(|r| (r.way.name(), r.way.short_label(), r.history.as_slice()))
        .collect::<Vec<_>>();
    html! {
        <>
            <div class="table-scroll">
                <table class="compare-table">
                    <thead><tr>
                        <th scope="col">{ "Way" }</th>
                        <th scope="col">{ "Numbers learned" }</th>
                        <th scope="col">{ "Training time" }</th>
                        <th scope="col">{ "Validation" }</th>
                        <th scope="col">{ "Final test" }</th>
                    </tr></thead>
                    <tbody>
                        { for comparison.results.iter().map(|result| html! {
                            <tr data-testid="compare-result" data-mode={result.way.name()} data-state={result.state.name()}
                                data-trainable-params={result.trainable_params.to_string()}
                                data-train-ms={result.training_ms.map(|ms| ms.to_string())}
                                data-validation-accuracy={result.validation_accuracy.map(|a| a.to_string())}
                                data-test-accuracy={result.test_accuracy.map(|a| a.to_string())}>
                                <th scope="row">{ result.way.label() }</th>
                                <td>{ format_count(result.trainable_params) }</td>
                                <td>{ training_time(result, state.settings.epochs) }</td>
                                <td>{ percent_or_dash(result.validation_accuracy) }</td>
                                <td>{ percent_or_dash(result.test_accuracy) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <p class="setting-help">{ "Nearest centroid and nearest neighbours learn nothing: they keep the training photos' features (or their class averages) and compare. The head learns 1,281 numbers per class; fine-tuning also changes the last blocks; LoRA learns only small corrections beside them (compare the counts); from scratch, every number of the network is learned from these photos alone. Their learning curves:" }</p>
            { view_ways_curves(&curves, comparison.settings().epochs) }
            if state.comparison_is_stale() {
                <p class="hint" data-testid="compare-stale">{ "Photos, classes or settings changed since this comparison ran: compare again for results that match them." }</p>
            }
            <p data-testid="ranking" data-predicted={ranking_name(&comparison.predicted)}
                data-measured={comparison.ranking().map(|r| ranking_name(&r))}>
                { format!("You predicted: {}.", ranking_label(&comparison.predicted)) }
                { match comparison.ranking() {
                    Some(measured) => format!(" Measured on the test photos: {}.", ranking_label(&measured)),
                    None => " Press Final test below to measure every way on the test photos.".to_string(),
                } }
            </p>
        </>
    }
}

/// A way's training time, or how far it got of `epochs` while it trains.
fn training_time(result: &WayResult, epochs: usize) -> String {
    match (result.state, result.training_ms) {
        (WayState::Running, _) if !result.history.is_empty() => {
            format!("epoch {} of {epochs}…", result.history.len())
        }
        (WayState::Running, _) => "training…".to_string(),
        (WayState::Failed, _) => "stopped".to_string(),
        (WayState::Done, Some(ms)) if ms < 1000.0 => format!("{ms:.0} ms"),
        (WayState::Done, Some(ms)) => format!("{:.1} s", ms / 1000.0),
        (WayState::Done, None) => "–".to_string(),
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
                title={blocker.unwrap_or("Measure the model once on the photos kept aside")}
                onclick={props.act.reform(|_| Action::FinalTest)}>{ "Final test" }</button>
            <span class="setting-help">{ "Use it once, at the end: the test photos were never used while training or choosing settings." }</span>
            if let Some(test) = &state.final_test {
                <p data-testid="final-test-result" data-model-version={test.model_version.to_string()}
                    data-accuracy={test.accuracy().map(|a| a.to_string())} data-total={test.total.to_string()}
                    data-stale={stale.to_string()} data-tests-run={state.final_tests_run.to_string()}
                    class={classes!("final-result", stale.then_some("stale"))}>
                    { match test.correct {
                        None => "Testing…".to_string(),
                        Some(correct) => format!("Final test of model {}: {correct} of {} test photos right ({:.0}%).", test.model_version, test.total, test.accuracy().unwrap_or(0.0) * 100.0),
                    } }
                    if stale {
                        { " Photos, classes, settings or the model changed since: this result is out of date." }
                    }
                    if reused {
                        { format!(" The test photos have now been used {} times: choosing by them makes this number too hopeful.", state.final_tests_run) }
                    }
                </p>
            }
        </div>
    }
}
