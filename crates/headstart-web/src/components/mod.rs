//! The page's parts, as function components. Each takes the state (a [`SharedState`]) or the
//! small values it shows, and callbacks for what the student does there; the root
//! ([`crate::app`]) owns what lives across renders and wires the two together.

mod camera;
mod checks;
mod classes;
mod classify;
mod comparison;
mod confusion;
mod curves;
mod header;
mod notices;
mod number_setting;
mod preprocessing;
mod project_file;
mod settings;
mod train;

pub use camera::{Camera, CameraShown};
pub use checks::{BackendCheckReport, MessageCheckReport, PINGS};
pub use classes::{CaptureCallbacks, Classes};
pub use classify::Classify;
pub use comparison::Comparison;
pub use confusion::Confusion;
pub use header::{Header, KeptOnDevice, OfflineCopy};
pub use notices::Notices;
pub use preprocessing::Preprocessing;
pub use project_file::ProjectFile;
pub use train::Train;

use crate::browser::ObjectUrl;
use crate::text::tr;
use headstart_app::{Action, AppState, Way};
use headstart_core::training::TrainingSettings;
use headstart_text::Arg;
use std::ops::Deref;
use std::rc::Rc;
use web_sys::{Blob, DragEvent, File, FileList, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The page's actions, with browser files and self-revoking thumbnails.
pub type PageAction = Action<Blob, ObjectUrl>;

/// One edit of the training settings, applied to the settings as they are when the root
/// handles it, so that two quick edits (before the page re-renders) both count.
pub type SettingsEdit = Box<dyn FnOnce(&mut TrainingSettings)>;

/// The state as the root last rendered it, shared with every component. Props compare it by
/// pointer, never by walking it: the root changes it only through [`Rc::make_mut`], which
/// makes a new one while components still hold the old.
#[derive(Clone)]
pub struct SharedState(pub Rc<AppState<ObjectUrl>>);

impl PartialEq for SharedState {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for SharedState {
    type Target = AppState<ObjectUrl>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The props of a part that only shows the state.
#[derive(Properties, PartialEq)]
pub struct StateProps {
    pub state: SharedState,
}

/// The props of a part that shows the state and acts on it.
#[derive(Properties, PartialEq)]
pub struct StateActProps {
    pub state: SharedState,
    pub act: Callback<PageAction>,
}

/// The props of a part that shows the state, acts on it and edits the training settings.
#[derive(Properties, PartialEq)]
pub struct SettingsEditProps {
    pub state: SharedState,
    pub act: Callback<PageAction>,
    pub on_edit: Callback<SettingsEdit>,
}

/// Photos from a file list, as `(file name, file)`.
fn files_of(list: Option<FileList>) -> Vec<(String, Blob)> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file: File| (file.name(), Blob::from(file)))
        .collect()
}

/// The files chosen in a file input, which is emptied so that choosing them again counts.
fn input_files(event: &Event) -> Vec<(String, Blob)> {
    let input: HtmlInputElement = event.target_unchecked_into();
    let files = files_of(input.files());
    input.set_value("");
    files
}

/// A file input's change, as the first file chosen (`(file name, file)`) when there is one.
fn on_file_chosen(on_file: &Callback<(String, Blob)>) -> Callback<Event> {
    let on_file = on_file.clone();
    Callback::from(move |event: Event| {
        if let Some(file) = input_files(&event).into_iter().next() {
            on_file.emit(file);
        }
    })
}

fn dropped_files(event: &DragEvent) -> Vec<(String, Blob)> {
    event.prevent_default();
    files_of(event.data_transfer().and_then(|transfer| transfer.files()))
}

fn allow_drop(event: DragEvent) {
    event.prevent_default();
}

/// The value a select changed to.
fn selected(event: Event) -> String {
    event.target_unchecked_into::<HtmlSelectElement>().value()
}

/// A select's change, as the action its new value makes (none for a value that makes none).
fn act_on_select(
    act: &Callback<PageAction>,
    action: impl Fn(String) -> Option<PageAction> + 'static,
) -> Callback<Event> {
    let act = act.clone();
    Callback::from(move |event: Event| {
        if let Some(action) = action(selected(event)) {
            act.emit(action);
        }
    })
}

/// Whether a checkbox's change turned it on.
fn checked(event: Event) -> bool {
    event.target_unchecked_into::<HtmlInputElement>().checked()
}

/// A share as a whole percentage ("87%"), or a dash when there is none.
fn percent_or_dash(share: Option<f32>) -> String {
    share.map_or_else(
        || tr!("no-value"),
        |share| tr!("percent", share = Arg::percent(share)),
    )
}

/// What the page calls a way.
fn way_label(way: Way) -> String {
    crate::text::render(&headstart_app::way_name(way))
}

/// A way's short name, in rankings and the comparison's curves.
fn way_short_label(way: Way) -> String {
    crate::text::render(&headstart_app::way_short_name(way))
}
