//! The training settings: the optimizer, every number setting, the augmentation switches and
//! the preview of the views augmentation makes.

use super::number_setting::{NumberSetting, edit_with};
use super::{SettingsEdit, SettingsEditProps, StateActProps, checked, selected};
use headstart_app::{Action, PREVIEW_VIEWS};
use headstart_core::augment::AugmentationSettings;
use headstart_core::training::OptimizerKind;
use yew::prelude::*;

#[function_component]
pub fn Settings(props: &SettingsEditProps) -> Html {
    let settings = &props.state.settings;
    let optimizer = &settings.optimizer;
    let busy = props.state.training_busy();
    let on_edit = &props.on_edit;
    let on_optimizer = on_edit.reform(|event: Event| -> SettingsEdit {
        let kind = match selected(event).as_str() {
            "sgd" => OptimizerKind::SgdMomentum,
            _ => OptimizerKind::Adam,
        };
        Box::new(move |settings| settings.optimizer.kind = kind)
    });
    html! {
        <details class="settings" data-testid="settings">
            <summary>{ "Settings" }</summary>
            <div class="settings-grid">
                <label class="setting">
                    <span class="setting-name">{ "Optimizer" }</span>
                    <select name="optimizer" data-testid="optimizer" disabled={busy} onchange={on_optimizer}>
                        <option value="adam" selected={optimizer.kind == OptimizerKind::Adam}>{ "Adam" }</option>
                        <option value="sgd" selected={optimizer.kind == OptimizerKind::SgdMomentum}>{ "SGD with momentum" }</option>
                    </select>
                    <span class="setting-help">{ "Adam adapts the step for every weight; SGD takes plain steps and usually needs a larger learning rate (try 0.05)." }</span>
                </label>
                <NumberSetting name="learning_rate" label="Learning rate" help="How big each step is. Too big jumps around; too small learns slowly."
                    value={optimizer.learning_rate} step={0.0001} disabled={busy} on_value={edit_with(on_edit, |s, v| s.optimizer.learning_rate = v)} />
                if optimizer.kind == OptimizerKind::SgdMomentum {
                    <NumberSetting name="momentum" label="Momentum" help="How much of the last step SGD keeps going in (0 to 0.99)."
                        value={optimizer.momentum} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.optimizer.momentum = v)} />
                }
                <NumberSetting name="batch_size" label="Batch size" help="Photos per step. Smaller batches give noisier steps."
                    value={settings.batch_size as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.batch_size = v as usize)} />
                <NumberSetting name="dropout" label="Dropout" help="Share of the 1280 features hidden at random in each step, so the head cannot rely on a few (0 to 0.9)."
                    value={settings.dropout} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.dropout = v)} />
                <NumberSetting name="weight_decay" label="Weight decay" help="Pulls every weight a little towards zero each step: a simpler model that may overfit less."
                    value={optimizer.weight_decay} step={0.001} disabled={busy} on_value={edit_with(on_edit, |s, v| s.optimizer.weight_decay = v)} />
                <NumberSetting name="label_smoothing" label="Label smoothing" help="Trains towards e.g. 90% sure instead of 100%, so the model is less overconfident (0 to 0.5)."
                    value={settings.label_smoothing} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.label_smoothing = v)} />
                <NumberSetting name="patience" label="Early stopping" help="Stop when the validation loss has not improved for this many epochs, and keep the best epoch's weights (0 = off)."
                    value={settings.patience as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.patience = v as usize)} />
                <NumberSetting name="validation_fraction" label="Validation share" help="Share of each class held back to check the model on photos it never learned from, while it trains (0 to 0.5)."
                    value={settings.validation_fraction} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.validation_fraction = v)} />
                <NumberSetting name="test_fraction" label="Test share" help="Share of each class kept aside for the final test: training never sees them (0 to 0.5)."
                    value={settings.test_fraction} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.test_fraction = v)} />
                <NumberSetting name="seed" label="Seed" help="Decides the random split, start and shuffling: the same seed and photos train the same model."
                    value={settings.seed as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.seed = v as u64)} />
            </div>
            <Augmentation state={props.state.clone()} act={props.act.clone()} on_edit={on_edit.clone()} />
            <button data-testid="reset-settings" disabled={busy}
                onclick={props.act.reform(|_| Action::ResetSettings)}>{ "Reset to defaults" }</button>
        </details>
    }
}

/// One augmentation switch: its name and test id, label, help, and the setting it turns.
type Switch = (
    &'static str,
    &'static str,
    &'static str,
    fn(&mut AugmentationSettings) -> &mut bool,
);

const SWITCHES: [Switch; 4] = [
    (
        "augment-crop",
        "Random crop",
        "A random part of the photo, stretched back to full size.",
        |a| &mut a.crop,
    ),
    (
        "augment-flip",
        "Flip",
        "Mirrored left to right, in half of the views.",
        |a| &mut a.flip,
    ),
    (
        "augment-color",
        "Colour jitter",
        "Brightness, contrast and saturation changed a little.",
        |a| &mut a.color,
    ),
    (
        "augment-rotation",
        "Rotation",
        "Turned by up to 15 degrees.",
        |a| &mut a.rotation,
    ),
];

/// The augmentation switches, the views per photo and the preview.
#[function_component]
fn Augmentation(props: &SettingsEditProps) -> Html {
    let augmentation = props.state.settings.augmentation;
    let busy = props.state.training_busy();
    let on_edit = &props.on_edit;
    html! {
        <fieldset class="augmentation">
            <legend>{ "Augmentation" }</legend>
            <p class="setting-help">{ "Each training photo also trains as a few changed copies (views), so the model learns what stays the same. Validation photos are never changed." }</p>
            <div class="switches">
                { for SWITCHES.into_iter().map(|(name, label, help, field)| {
                    let mut copy = augmentation;
                    let on = *field(&mut copy);
                    let onchange = on_edit.reform(move |event: Event| -> SettingsEdit {
                        let on = checked(event);
                        Box::new(move |settings| *field(&mut settings.augmentation) = on)
                    });
                    html! {
                        <label class="switch" title={help}>
                            <input type="checkbox" name={name} data-testid={name} checked={on} disabled={busy} {onchange} />
                            { label }
                        </label>
                    }
                }) }
            </div>
            <NumberSetting name="views_per_photo" label="Views per photo" help="Changed copies made of each training photo; each is embedded once, then reused."
                value={augmentation.views_per_photo as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.augmentation.views_per_photo = v as usize)} />
            <AugmentPreview state={props.state.clone()} act={props.act.clone()} />
        </fieldset>
    }
}

/// Views of the shown photo as training makes them, and "Show other views".
#[function_component]
fn AugmentPreview(props: &StateActProps) -> Html {
    let state = &props.state;
    let preview = state.augment_preview.as_ref();
    let augmentations = preview.map(|p| {
        let a = p.settings;
        [
            (a.crop, "crop"),
            (a.flip, "flip"),
            (a.color, "color"),
            (a.rotation, "rotation"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect::<Vec<_>>()
        .join(",")
    });
    let views = match preview {
        None => {
            html! { <p class="setting-help">{ "Turn an augmentation on to see views of a photo (tap a photo to choose which)." }</p> }
        }
        Some(preview) if preview.views.is_empty() => {
            html! { <p class="setting-help">{ "Making views…" }</p> }
        }
        Some(preview) => html! {
            <>
                <p class="setting-help">{ if preview.settings.is_on() {
                    format!("{} views of {}, as training makes them:", preview.views.len(), state.photo(preview.photo).map_or("the photo", |(_, p)| p.file_name.as_str()))
                } else {
                    "Augmentation is off: every view is the photo itself.".to_string()
                } }</p>
                <div class="thumbs">
                    { for preview.views.iter().enumerate().map(|(i, view)| html! {
                        <img class="view" src={view.as_str().to_string()} alt={format!("View {}", i + 1)} />
                    }) }
                </div>
            </>
        },
    };
    html! {
        <div class="augment-preview" data-testid="augment-preview"
            data-augmented={preview.map(|p| p.settings.is_on().to_string())}
            data-settings={augmentations}
            data-views={preview.map(|p| p.views.len().to_string())}>
            { views }
            <button data-testid="augment-more" disabled={state.classes.iter().all(|c| c.photos.is_empty())}
                onclick={props.act.reform(|_| Action::PreviewAugmentation)}>
                { format!("Show {PREVIEW_VIEWS} other views") }
            </button>
        </div>
    }
}
