//! Step 3: classifying new photos, picked or dropped, with the model in use.

use super::{SharedState, StateActProps, allow_drop, dropped_files, input_files};
use crate::text::tr;
use headstart_app::Action;
use headstart_text::Arg;
use yew::prelude::*;

#[function_component]
pub fn Classify(props: &StateActProps) -> Html {
    let (state, act) = (&props.state, &props.act);
    let ready = state.model.is_some();
    html! {
        <section class="step predict" ondragover={Callback::from(allow_drop)}
            ondrop={act.reform(|event: DragEvent| Action::Classify(dropped_files(&event)))}>
            <h2>{ tr!("classify-heading") }</h2>
            <label class={classes!("upload", (!ready).then_some("disabled"))}>
                { if ready { tr!("classify-pick") } else { tr!("classify-train-first") } }
                <input type="file" accept="image/*" multiple=true data-testid="predict-upload" disabled={!ready}
                    onchange={act.reform(|event: Event| Action::Classify(input_files(&event)))} />
            </label>
            if !state.predictions.is_empty() {
                <button data-testid="clear-predictions" onclick={act.reform(|_| Action::ClearPredictions)}>{ tr!("classify-clear") }</button>
            }
            <div class="predictions">
                { for (0..state.predictions.len()).map(|index| html! { <PredictionCard state={state.clone()} {index} /> }) }
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct PredictionCardProps {
    state: SharedState,
    /// Which of the state's predictions (newest first).
    index: usize,
}

/// One classified photo: the most probable class, and every class's probability.
#[function_component]
fn PredictionCard(props: &PredictionCardProps) -> Html {
    let Some(prediction) = props.state.predictions.get(props.index) else {
        return html! {};
    };
    let (label, confidence) = prediction.top();
    html! {
        <figure class="prediction" data-testid="prediction" data-file={prediction.file_name.clone()}
            data-label={label.to_string()} data-confidence={confidence.to_string()}
            data-model-version={prediction.model_version.to_string()}>
            <img src={prediction.thumbnail.as_str().to_string()} alt={prediction.file_name.clone()} />
            <figcaption>
                <strong>{ tr!("prediction", label = label, confidence = Arg::percent(confidence)) }</strong>
                <span class="file">{ tr!("prediction-detail", file_name = &prediction.file_name, version = prediction.model_version.0) }</span>
                { for prediction.probabilities.iter().map(|(name, probability)| html! {
                    <div class="bar">
                        <span class="bar-name">{ name.clone() }</span>
                        <meter min="0" max="1" value={probability.to_string()}></meter>
                        <span class="bar-value">{ tr!("percent", share = Arg::percent(*probability)) }</span>
                    </div>
                }) }
            </figcaption>
        </figure>
    }
}
