//! The project as one file: saving it (with or without the model and embeddings), opening
//! one, and the question opening one into existing work asks.

use super::{PageAction, SharedState, StateActProps, checked, on_file_chosen};
use crate::text::tr;
use headstart_app::{Action, ImportChoice, ProjectFileOptions};
use web_sys::Blob;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ProjectFileProps {
    pub state: SharedState,
    /// What the next project file holds besides the photos.
    pub options: ProjectFileOptions,
    /// "Save project file".
    pub on_save: Callback<()>,
    pub on_options: Callback<ProjectFileOptions>,
    /// A project file was chosen to open, as `(file name, file)`.
    pub on_open: Callback<(String, Blob)>,
    pub act: Callback<PageAction>,
}

#[function_component]
pub fn ProjectFile(props: &ProjectFileProps) -> Html {
    let state = &props.state;
    let options = props.options;
    let has_photos = state.classes.iter().any(|c| !c.photos.is_empty());
    let ready = state.is_ready();
    html! {
        <div class="project-file">
            <div class="row">
                <button data-testid="export-project" disabled={!has_photos}
                    title={tr!("project-save-title")}
                    onclick={props.on_save.reform(|_| ())}>{ tr!("project-save") }</button>
                <OptionSwitch name="project-with-model" label={tr!("project-with-model")} on={options.model}
                    on_change={props.on_options.reform(move |model| ProjectFileOptions { model, ..options })} />
                <OptionSwitch name="project-with-embeddings" label={tr!("project-with-embeddings")} on={options.embeddings}
                    on_change={props.on_options.reform(move |embeddings| ProjectFileOptions { embeddings, ..options })} />
                <label class={classes!("upload", (!ready).then_some("disabled"))}>
                    { tr!("project-open") }
                    <input type="file" accept=".hsp" data-testid="import-project" disabled={!ready}
                        onchange={on_file_chosen(&props.on_open)} />
                </label>
            </div>
            <ImportQuestion state={state.clone()} act={props.act.clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct OptionSwitchProps {
    /// Its test id.
    name: &'static str,
    label: AttrValue,
    on: bool,
    on_change: Callback<bool>,
}

/// One thing the project file may hold besides the photos.
#[function_component]
fn OptionSwitch(props: &OptionSwitchProps) -> Html {
    html! {
        <label class="switch">
            <input type="checkbox" data-testid={props.name} checked={props.on}
                onchange={props.on_change.reform(checked)} />
            { props.label.clone() }
        </label>
    }
}

/// A project file opened into work: replace the work, add to it, or cancel.
#[function_component]
fn ImportQuestion(props: &StateActProps) -> Html {
    let Some(import) = &props.state.pending_import else {
        return html! {};
    };
    let photos: usize = import.classes.iter().map(|(_, p)| p.len()).sum();
    let resolve = |choice: ImportChoice| props.act.reform(move |_| Action::ResolveImport(choice));
    html! {
        <div class="import-choice" data-testid="import-choice" role="alertdialog" aria-label={tr!("project-open-label")}>
            <p>{ tr!("project-into-work", file_name = &import.file_name, photos = photos, classes = import.classes.len()) }</p>
            <button data-testid="import-replace" onclick={resolve(ImportChoice::Replace)}>
                { tr!("project-replace") }</button>
            <button data-testid="import-merge" onclick={resolve(ImportChoice::Merge)}>
                { tr!("project-merge") }</button>
            <button data-testid="import-cancel" onclick={resolve(ImportChoice::Cancel)}>
                { tr!("project-cancel") }</button>
        </div>
    }
}
