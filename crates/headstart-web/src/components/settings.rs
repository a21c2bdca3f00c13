//! The training settings: the optimizer, every number setting, the augmentation switches and
//! the preview of the views augmentation makes.

use super::number_setting::{NumberSetting, edit_with};
use super::{SettingsEdit, SettingsEditProps, StateActProps, checked, selected};
use crate::text::tr;
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
    let on_balance = on_edit.reform(|event: Event| -> SettingsEdit {
        let on = checked(event);
        Box::new(move |settings| settings.balance_classes = on)
    });
    let on_optimizer = on_edit.reform(|event: Event| -> SettingsEdit {
        let kind = match selected(event).as_str() {
            "sgd" => OptimizerKind::SgdMomentum,
            _ => OptimizerKind::Adam,
        };
        Box::new(move |settings| settings.optimizer.kind = kind)
    });
    html! {
        <details class="settings" data-testid="settings">
            <summary>{ tr!("settings") }</summary>
            <div class="settings-grid">
                <label class="setting">
                    <span class="setting-name">{ tr!("optimizer") }</span>
                    <select name="optimizer" data-testid="optimizer" disabled={busy} onchange={on_optimizer}>
                        <option value="adam" selected={optimizer.kind == OptimizerKind::Adam}>{ tr!("optimizer-adam") }</option>
                        <option value="sgd" selected={optimizer.kind == OptimizerKind::SgdMomentum}>{ tr!("optimizer-sgd") }</option>
                    </select>
                    <span class="setting-help">{ tr!("optimizer-help") }</span>
                </label>
                <NumberSetting name="learning_rate" label={tr!("learning-rate")} help={tr!("learning-rate-help")}
                    value={optimizer.learning_rate} step={0.0001} disabled={busy} on_value={edit_with(on_edit, |s, v| s.optimizer.learning_rate = v)} />
                if optimizer.kind == OptimizerKind::SgdMomentum {
                    <NumberSetting name="momentum" label={tr!("momentum")} help={tr!("momentum-help")}
                        value={optimizer.momentum} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.optimizer.momentum = v)} />
                }
                <NumberSetting name="batch_size" label={tr!("batch-size")} help={tr!("batch-size-help")}
                    value={settings.batch_size as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.batch_size = v as usize)} />
                <NumberSetting name="dropout" label={tr!("dropout")} help={tr!("dropout-help")}
                    value={settings.dropout} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.dropout = v)} />
                <NumberSetting name="weight_decay" label={tr!("weight-decay")} help={tr!("weight-decay-help")}
                    value={optimizer.weight_decay} step={0.001} disabled={busy} on_value={edit_with(on_edit, |s, v| s.optimizer.weight_decay = v)} />
                <NumberSetting name="label_smoothing" label={tr!("label-smoothing")} help={tr!("label-smoothing-help")}
                    value={settings.label_smoothing} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.label_smoothing = v)} />
                <label class="setting">
                    <span class="setting-name">{ tr!("balance-classes") }</span>
                    <input type="checkbox" name="balance_classes" data-testid="balance-classes" checked={settings.balance_classes} disabled={busy} onchange={on_balance} />
                    <span class="setting-help">{ tr!("balance-classes-help") }</span>
                </label>
                <NumberSetting name="patience" label={tr!("patience")} help={tr!("patience-help")}
                    value={settings.patience as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.patience = v as usize)} />
                <NumberSetting name="validation_fraction" label={tr!("validation-share")} help={tr!("validation-share-help")}
                    value={settings.validation_fraction} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.validation_fraction = v)} />
                <NumberSetting name="test_fraction" label={tr!("test-share")} help={tr!("test-share-help")}
                    value={settings.test_fraction} step={0.05} disabled={busy} on_value={edit_with(on_edit, |s, v| s.test_fraction = v)} />
                <NumberSetting name="seed" label={tr!("seed")} help={tr!("seed-help")}
                    value={settings.seed as f64} step={1.0} disabled={busy} on_value={edit_with(on_edit, |s, v| s.seed = v as u64)} />
            </div>
            <Augmentation state={props.state.clone()} act={props.act.clone()} on_edit={on_edit.clone()} />
            <button data-testid="reset-settings" disabled={busy}
                onclick={props.act.reform(|_| Action::ResetSettings)}>{ tr!("reset-settings") }</button>
        </details>
    }
}

/// One augmentation switch: its name and test id, label, help, and the setting it turns.
type Switch = (
    &'static str,
    String,
    String,
    fn(&mut AugmentationSettings) -> &mut bool,
);

fn switches() -> [Switch; 4] {
    [
        (
            "augment-crop",
            tr!("augment-crop"),
            tr!("augment-crop-help"),
            |a| &mut a.crop,
        ),
        (
            "augment-flip",
            tr!("augment-flip"),
            tr!("augment-flip-help"),
            |a| &mut a.flip,
        ),
        (
            "augment-color",
            tr!("augment-color"),
            tr!("augment-color-help"),
            |a| &mut a.color,
        ),
        (
            "augment-rotation",
            tr!("augment-rotation"),
            tr!("augment-rotation-help"),
            |a| &mut a.rotation,
        ),
    ]
}

/// The augmentation switches, the views per photo and the preview.
#[function_component]
fn Augmentation(props: &SettingsEditProps) -> Html {
    let augmentation = props.state.settings.augmentation;
    let busy = props.state.training_busy();
    let on_edit = &props.on_edit;
    html! {
        <fieldset class="augmentation">
            <legend>{ tr!("augmentation") }</legend>
            <p class="setting-help">{ tr!("augmentation-help") }</p>
            <div class="switches">
                { for switches().into_iter().map(|(name, label, help, field)| {
                    let mut copy = augmentation;
                    let on = *field(&mut copy);
                    let onchange = on_edit.reform(move |event: Event| -> SettingsEdit {
                        let on = checked(event);
                        Box::new(move |settings| *field(&mut settings.augmentation) = on)
                    });
                    html! {
                        <label class="switch">
                            <input type="checkbox" name={name} data-testid={name} checked={on} disabled={busy} {onchange} />
                            { label }
                            <span class="setting-help">{ help }</span>
                        </label>
                    }
                }) }
            </div>
            <NumberSetting name="views_per_photo" label={tr!("views-per-photo")} help={tr!("views-per-photo-help")}
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
            html! { <p class="setting-help">{ tr!("augment-preview-off") }</p> }
        }
        Some(preview) if preview.views.is_empty() => {
            html! { <p class="setting-help">{ tr!("augment-preview-making") }</p> }
        }
        Some(preview) => html! {
            <>
                <p class="setting-help">{ if preview.settings.is_on() {
                    let file_name = state.photo(preview.photo).map_or_else(|| tr!("augment-preview-the-photo"), |(_, p)| p.file_name.clone());
                    tr!("augment-preview-views", views = preview.views.len(), file_name = file_name)
                } else {
                    tr!("augment-preview-no-augmentation")
                } }</p>
                <div class="thumbs">
                    { for preview.views.iter().enumerate().map(|(i, view)| html! {
                        <img class="view" src={view.as_str().to_string()} alt={tr!("augment-view", number = i + 1)} />
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
                { tr!("augment-more", views = PREVIEW_VIEWS) }
            </button>
        </div>
    }
}
