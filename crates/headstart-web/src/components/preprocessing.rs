//! What the model sees of one photo, and the experiment that trains again with the wrong
//! preprocessing.

use super::{PageAction, SharedState, StateActProps, checked, percent_or_dash, selected};
use crate::text::tr;
use headstart_app::Action;
use headstart_core::preprocess::{INPUT_SIZE, Normalization};
use headstart_text::{Arg, Message, text};
use yew::prelude::*;

/// Always rendered, empty while there is no photo, so that the wrong normalization chosen
/// stays chosen when the photos come back.
#[function_component]
pub fn Preprocessing(props: &StateActProps) -> Html {
    // The wrong normalization the experiment tries.
    let wrong = use_state(|| Normalization::Raw);
    let state = &props.state;
    let Some((class, photo)) = state.shown_photo() else {
        return html! {};
    };
    let model = Normalization::Model;
    let example = |value: u8| -> Message {
        text!(
            "seen-example",
            value = u32::from(value),
            becomes = Arg::decimal(model.apply(0, value), 2)
        )
    };
    let on_choose = {
        let (wrong, act) = (wrong.clone(), props.act.clone());
        let experimenting = state.experiment.is_some();
        Callback::from(move |normalization| {
            wrong.set(normalization);
            if experimenting {
                act.emit(Action::WrongPreprocessing(Some(normalization)));
            }
        })
    };
    html! {
        <section class="step preprocessing" data-testid="preprocessing-view" data-file={photo.file_name.clone()}>
            <h2>{ tr!("seen-heading") }</h2>
            <div class="seen">
                <figure>
                    <img class="original" src={photo.thumbnail.as_str().to_string()} alt={photo.file_name.clone()} />
                    <figcaption>{ tr!("seen-photo", file_name = &photo.file_name, class = class.label()) }</figcaption>
                </figure>
                <span class="arrow" aria-hidden="true">{ "→" }</span>
                <figure>
                    <img class="model-input" data-testid="model-input" src={photo.input.as_str().to_string()}
                        width={INPUT_SIZE.to_string()} height={INPUT_SIZE.to_string()} alt={tr!("seen-input-label", file_name = &photo.file_name)} />
                    <figcaption>{ tr!("seen-input-size", size = INPUT_SIZE) }</figcaption>
                </figure>
            </div>
            <p>{ tr!("seen-crop") }</p>
            <p>{ tr!("seen-normalization", formula = model.formula(), zero = example(0), middle = example(127), full = example(255)) }</p>
            <WrongPreprocessing state={state.clone()} act={props.act.clone()} chosen={*wrong} {on_choose} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct WrongPreprocessingProps {
    state: SharedState,
    act: Callback<PageAction>,
    /// The wrong normalization the experiment tries.
    chosen: Normalization,
    /// Another wrong normalization chosen.
    on_choose: Callback<Normalization>,
}

/// The experiment: its switch, which wrong preprocessing, and how it compares.
#[function_component]
fn WrongPreprocessing(props: &WrongPreprocessingProps) -> Html {
    let state = &props.state;
    let chosen = props.chosen;
    let on_switch = props
        .act
        .reform(move |event: Event| Action::WrongPreprocessing(checked(event).then_some(chosen)));
    let on_normalization = props
        .on_choose
        .reform(|event: Event| match selected(event).as_str() {
            "imagenet" => Normalization::ImageNet,
            "zero-to-one" => Normalization::ZeroToOne,
            _ => Normalization::Raw,
        });
    html! {
        <>
            <div class="row experiment">
                <label class="switch">
                    <input type="checkbox" data-testid="wrong-preprocessing" checked={state.experiment.is_some()}
                        disabled={state.model.is_none() || state.training_busy()} onchange={on_switch} />
                    { tr!("wrong-preprocessing") }
                </label>
                <select data-testid="wrong-normalization" aria-label={tr!("wrong-preprocessing-which")} disabled={state.training_busy()}
                    onchange={on_normalization}>
                    <option value="raw" selected={chosen == Normalization::Raw}>{ tr!("wrong-raw") }</option>
                    <option value="zero-to-one" selected={chosen == Normalization::ZeroToOne}>{ tr!("wrong-zero-to-one", formula = Normalization::ZeroToOne.formula()) }</option>
                    <option value="imagenet" selected={chosen == Normalization::ImageNet}>{ tr!("wrong-imagenet") }</option>
                </select>
            </div>
            if state.model.is_none() {
                <p class="hint">{ tr!("wrong-needs-model") }</p>
            }
            if let Some(experiment) = &state.experiment {
                <p class="experiment-result" data-testid="wrong-preprocessing-result"
                    data-state={if experiment.wrong_accuracy.is_some() { "done" } else { "running" }}
                    data-accuracy={experiment.wrong_accuracy.map(|a| a.to_string())}
                    data-correct-accuracy={experiment.correct_accuracy.map(|a| a.to_string())}>
                    { match experiment.wrong_accuracy {
                        Some(_) => tr!(
                            "wrong-result",
                            right = percent_or_dash(experiment.correct_accuracy),
                            version = experiment.model_version.0,
                            wrong = percent_or_dash(experiment.wrong_accuracy),
                            formula = experiment.normalization.formula()
                        ),
                        None => tr!("wrong-running"),
                    } }
                </p>
            }
        </>
    }
}
