//! Step 1: the classes, each a card with its photos, and the buttons that add classes and
//! photos. The camera and the project file follow in the same section (as children).

use super::{PageAction, SharedState, allow_drop, dropped_files, input_files};
use crate::browser::ObjectUrl;
use crate::text::tr;
use headstart_app::{Action, ClassId, MAX_CLASS_NAME_CHARS, PhotoId, SplitCounts};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What a class's capture button tells the root.
#[derive(Clone, PartialEq)]
pub struct CaptureCallbacks {
    /// The button went down: one frame now, more while it is held.
    pub start: Callback<ClassId>,
    /// The button went up (or the pointer left it).
    pub stop: Callback<()>,
    /// The button pressed from the keyboard: one frame.
    pub one: Callback<ClassId>,
}

#[derive(Properties, PartialEq)]
pub struct ClassesProps {
    pub state: SharedState,
    /// Whether the camera is on (every class can then capture from it).
    pub camera_on: bool,
    pub act: Callback<PageAction>,
    /// "Try sample photos".
    pub on_load_samples: Callback<()>,
    pub capture: CaptureCallbacks,
    /// What follows in the section: the camera and the project file.
    #[prop_or_default]
    pub children: Html,
}

#[function_component]
pub fn Classes(props: &ClassesProps) -> Html {
    let state = &props.state;
    let pending = state.photos_being_added() + state.photos_being_classified();
    let splits = state.split_per_class();
    html! {
        <section class="step classes">
            <h2>{ tr!("classes-heading") }</h2>
            <div class="class-list">
                { for state.classes.iter().map(|class| {
                    let split = splits.iter().find(|(id, _)| *id == class.id).map(|(_, counts)| *counts);
                    html! {
                        <ClassCard key={class.id.0} state={state.clone()} id={class.id} {split}
                            camera_on={props.camera_on} act={props.act.clone()} capture={props.capture.clone()} />
                    }
                }) }
            </div>
            <div class="row">
                <button data-testid="add-class" onclick={props.act.reform(|_| Action::AddClass)}>{ tr!("add-class") }</button>
                <button data-testid="load-samples" disabled={!state.is_ready()}
                    onclick={props.on_load_samples.reform(|_| ())}>{ tr!("load-samples") }</button>
                if pending > 0 {
                    <span class="working" data-testid="pending-photos" role="status">{ tr!("photos-pending", count = pending) }</span>
                }
            </div>
            { props.children.clone() }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ClassCardProps {
    state: SharedState,
    id: ClassId,
    /// How the next run splits its photos, once it has any.
    split: Option<SplitCounts>,
    camera_on: bool,
    act: Callback<PageAction>,
    capture: CaptureCallbacks,
}

/// One class: its name, its photos, how they split, and ways to add more (a drop on the card
/// counts too).
#[function_component]
fn ClassCard(props: &ClassCardProps) -> Html {
    let Some(class) = props
        .state
        .classes
        .iter()
        .find(|class| class.id == props.id)
    else {
        return html! {};
    };
    let (id, act) = (class.id, &props.act);
    html! {
        <div class="class-card" data-testid="class-card"
            ondragover={Callback::from(allow_drop)}
            ondrop={act.reform(move |event: DragEvent| Action::AddPhotos(id, dropped_files(&event)))}>
            <div class="class-head">
                // Every keystroke goes to the state: yew rewrites the input from the state on
                // each render, which would wipe a half-typed name when a photo finishes.
                <input data-testid="class-name" aria-label={tr!("class-name-label")} value={class.name.clone()}
                    maxlength={MAX_CLASS_NAME_CHARS.to_string()}
                    oninput={act.reform(move |event: InputEvent| {
                        let input: HtmlInputElement = event.target_unchecked_into();
                        Action::RenameClass(id, input.value())
                    })} />
                <span class="count" data-testid="class-count">{ tr!("photo-count", count = class.photos.len()) }</span>
                <button class="delete" data-testid="delete-class" title={tr!("delete-class-title")}
                    aria-label={tr!("delete-class-label", name = class.label())}
                    onclick={act.reform(move |_| Action::DeleteClass(id))}>{ "✕" }</button>
            </div>
            <div class="thumbs">
                { for class.photos.iter().map(|photo| html! {
                    <PhotoThumb key={photo.id.0} id={photo.id} file_name={photo.file_name.clone()}
                        thumbnail={photo.thumbnail.clone()} act={act.clone()} />
                }) }
            </div>
            if let Some(split) = props.split {
                <p class="class-split" data-testid="class-split" data-train={split.train.to_string()}
                    data-validation={split.validation.to_string()} data-test={split.test.to_string()}
                    data-by-folds={split.by_folds.to_string()}>
                    if split.by_folds {
                        { tr!("class-split-folds", train = split.train, test = split.test) }
                    } else {
                        { tr!("class-split", train = split.train, validation = split.validation, test = split.test) }
                    }
                </p>
            }
            <label class="upload">
                { tr!("add-photos") }
                <input type="file" accept="image/*" multiple=true data-testid="class-upload"
                    onchange={act.reform(move |event: Event| Action::AddPhotos(id, input_files(&event)))} />
            </label>
            if props.camera_on {
                <CaptureButton {id} capture={props.capture.clone()} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct PhotoThumbProps {
    id: PhotoId,
    file_name: AttrValue,
    thumbnail: ObjectUrl,
    act: Callback<PageAction>,
}

/// A photo of a class: tap it to see what the model sees, or remove it.
#[function_component]
fn PhotoThumb(props: &PhotoThumbProps) -> Html {
    let (id, file_name) = (props.id, &props.file_name);
    html! {
        <figure class="thumb">
            <button class="inspect" title={tr!("inspect-photo-title")}
                aria-label={tr!("inspect-photo-label", file_name = file_name.as_str())}
                onclick={props.act.reform(move |_| Action::InspectPhoto(id))}>
                <img src={props.thumbnail.as_str().to_string()} alt={file_name.clone()} title={file_name.clone()} />
            </button>
            <button class="remove" title={tr!("remove-photo-title")}
                aria-label={tr!("remove-photo-label", file_name = file_name.as_str())}
                onclick={props.act.reform(move |_| Action::DeletePhoto(id))}>{ "✕" }</button>
        </figure>
    }
}

#[derive(Properties, PartialEq)]
struct CaptureButtonProps {
    id: ClassId,
    capture: CaptureCallbacks,
}

/// Takes photos for a class from the camera. Pointer down takes a frame and keeps taking them
/// while held; a key press (a click with no pointer) takes one.
#[function_component]
fn CaptureButton(props: &CaptureButtonProps) -> Html {
    let (id, capture) = (props.id, &props.capture);
    let one = capture.one.clone();
    html! {
        <button class="capture" data-testid="capture" title={tr!("capture-title")}
            onpointerdown={capture.start.reform(move |event: PointerEvent| {
                let _ = event.target_unchecked_into::<web_sys::Element>().set_pointer_capture(event.pointer_id());
                id
            })}
            onpointerup={capture.stop.reform(|_: PointerEvent| ())}
            onpointercancel={capture.stop.reform(|_: PointerEvent| ())}
            oncontextmenu={|event: MouseEvent| event.prevent_default()}
            onclick={move |event: MouseEvent| if event.detail() == 0 { one.emit(id) }}>
            { tr!("capture") }
        </button>
    }
}
