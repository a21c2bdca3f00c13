//! What the model in use confuses on its validation photos: the matrix, the photos of a cell,
//! and the mistakes, most confident first, to move or remove.

use super::{PageAction, StateActProps, StateProps, act_on_select, percent_or_dash};
use crate::browser::ObjectUrl;
use crate::text::tr;
use headstart_app::{Action, ClassId, ValidationPhoto};
use headstart_core::evaluation::ConfusionMatrix;
use headstart_text::Arg;
use yew::prelude::*;

#[function_component]
pub fn Confusion(props: &StateActProps) -> Html {
    let state = &props.state;
    let (Some(model), Some(matrix)) = (&state.model, state.confusion()) else {
        return html! {};
    };
    let body = if matrix.total() == 0 {
        html! { <p>{ tr!("confusion-no-validation") }</p> }
    } else {
        confusion_table(props, &model.class_names, &matrix)
    };
    html! {
        <section class="step confusion" data-testid="confusion-matrix">
            <h2>{ tr!("confusion-heading", version = model.version.0, photos = matrix.total()) }</h2>
            { body }
            <CellPhotos state={state.clone()} />
            <Mistakes state={state.clone()} act={props.act.clone()} />
        </section>
    }
}

/// Rows the true class, columns what the model said: each count a button showing its photos.
fn confusion_table(props: &StateActProps, names: &[String], matrix: &ConfusionMatrix) -> Html {
    let cell = |truth: usize, truth_name: &String, predicted: usize, predicted_name: &String| {
        let count = matrix.count(truth, predicted);
        let selected = props.state.shown_cell == Some((truth, predicted));
        html! {
            <td>
                <button data-testid="confusion-cell" data-true={truth_name.clone()} data-predicted={predicted_name.clone()}
                    data-count={count.to_string()} aria-pressed={selected.to_string()}
                    class={classes!((truth == predicted).then_some("right"), selected.then_some("selected"))}
                    disabled={count == 0}
                    onclick={props.act.reform(move |_| Action::ShowCell(truth, predicted))}>
                    { count }
                </button>
            </td>
        }
    };
    html! {
        <div class="table-scroll">
        <table>
            <caption>{ tr!("confusion-caption") }</caption>
            <thead>
                <tr>
                    <th></th>
                    { for names.iter().map(|name| html! { <th scope="col">{ name.clone() }</th> }) }
                    <th scope="col">{ tr!("confusion-right") }</th>
                </tr>
            </thead>
            <tbody>
                { for names.iter().enumerate().map(|(truth, truth_name)| html! {
                    <tr>
                        <th scope="row">{ truth_name.clone() }</th>
                        { for names.iter().enumerate().map(|(predicted, predicted_name)| cell(truth, truth_name, predicted, predicted_name)) }
                        <td class="class-accuracy">{ percent_or_dash(matrix.class_accuracy(truth)) }</td>
                    </tr>
                }) }
            </tbody>
        </table>
        </div>
    }
}

/// The photos of the cell tapped, with the probability the model gave what it said.
#[function_component]
fn CellPhotos(props: &StateProps) -> Html {
    let state = &props.state;
    let (Some(model), Some((truth, predicted))) = (&state.model, state.shown_cell) else {
        return html! {};
    };
    let photos = state.cell_photos(truth, predicted);
    let (truth_name, predicted_name) = (&model.class_names[truth], &model.class_names[predicted]);
    html! {
        <div class="cell-photos" data-testid="cell-photos" data-count={photos.len().to_string()}>
            <p>{ tr!("cell-photos", count = photos.len(), truth = truth_name, predicted = predicted_name) }</p>
            <div class="thumbs">
                { for photos.iter().map(|(photo, probability)| html! {
                    <figure class="thumb" data-file={photo.file_name.clone()}>
                        <img src={photo.thumbnail.as_str().to_string()} alt={photo.file_name.clone()} title={photo.file_name.clone()} />
                        <figcaption>{ tr!("percent", share = Arg::percent(*probability)) }</figcaption>
                    </figure>
                }) }
            </div>
        </div>
    }
}

/// The validation photos the model got wrong, most confident first.
#[function_component]
fn Mistakes(props: &StateActProps) -> Html {
    let state = &props.state;
    let Some(model) = &state.model else {
        return html! {};
    };
    let mistakes = state.mistakes();
    if mistakes.is_empty() {
        return html! {};
    }
    let classes: Vec<(ClassId, String)> = state
        .classes
        .iter()
        .map(|class| (class.id, class.label().to_string()))
        .collect();
    html! {
        <div class="mistakes" data-testid="mistakes">
            <h3>{ tr!("mistakes-heading") }</h3>
            <p class="hint">{ tr!("mistakes-hint") }</p>
            <ul>
                { for mistakes.iter().map(|mistake| mistake_item(mistake, &model.class_names, &classes, &props.act)) }
            </ul>
        </div>
    }
}

/// One mistake: the photo, what the model said, and moving or removing it. `classes` are the
/// classes to move it to, as `(id, label)`.
fn mistake_item(
    mistake: &ValidationPhoto<'_, ObjectUrl>,
    names: &[String],
    classes: &[(ClassId, String)],
    act: &Callback<PageAction>,
) -> Html {
    let id = mistake.photo.id;
    let (truth, predicted) = (&names[mistake.truth], &names[mistake.predicted]);
    let targets = classes.to_vec();
    let on_move = act_on_select(act, move |index| {
        let index: usize = index.parse().ok()?;
        targets
            .get(index)
            .map(|(class, _)| Action::MovePhoto(id, *class))
    });
    html! {
        <li class="mistake" data-testid="mistake" data-file={mistake.photo.file_name.clone()}
            data-true={truth.clone()} data-predicted={predicted.clone()}>
            <img src={mistake.photo.thumbnail.as_str().to_string()} alt={mistake.photo.file_name.clone()} />
            <span>{ tr!("mistake", truth = truth, predicted = predicted, confidence = Arg::percent(mistake.confidence)) }</span>
            <select data-testid="move-photo" aria-label={tr!("move-photo-label")} onchange={on_move}>
                <option value="" selected=true>{ tr!("move-photo") }</option>
                { for classes.iter().enumerate().map(|(index, (_, name))| html! {
                    <option value={index.to_string()}>{ name.clone() }</option>
                }) }
            </select>
            <button data-testid="remove-photo" onclick={act.reform(move |_| Action::DeletePhoto(id))}>{ tr!("remove-photo") }</button>
        </li>
    }
}
