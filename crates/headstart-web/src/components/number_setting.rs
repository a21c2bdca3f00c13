//! One number input of the training settings, which keeps what is being typed until it is
//! applied.

use super::SettingsEdit;
use headstart_core::training::TrainingSettings;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct NumberSettingProps {
    /// The input's `name` and test id.
    pub name: &'static str,
    pub label: AttrValue,
    /// One line for the student.
    pub help: AttrValue,
    pub value: f64,
    pub step: f64,
    /// Settings are locked while a run prepares or trains.
    pub disabled: bool,
    /// A number was entered (the app then keeps it within limits).
    pub on_value: Callback<f64>,
}

#[function_component]
pub fn NumberSetting(props: &NumberSettingProps) -> Html {
    // The text typed so far, until it is applied. Yew rewrites an input from its `value` on
    // every render, so without it a photo or a preview finishing mid-typing would wipe what was
    // typed before it was applied.
    let typed = use_state(|| None::<String>);
    let shown = (*typed).clone().unwrap_or_else(|| props.value.to_string());
    let oninput = {
        let typed = typed.clone();
        move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            typed.set(Some(input.value()));
        }
    };
    let onchange = {
        let on_value = props.on_value.clone();
        move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            typed.set(None);
            // Not a number: the input shows the setting as it was.
            if let Ok(value) = input.value().parse::<f64>() {
                on_value.emit(value);
            }
        }
    };
    html! {
        <label class="setting" title={props.help.clone()}>
            <span class="setting-name">{ props.label.clone() }</span>
            <input type="number" name={props.name} data-testid={props.name} step={props.step.to_string()} min="0"
                value={shown} disabled={props.disabled} {oninput} {onchange} />
            <span class="setting-help">{ props.help.clone() }</span>
        </label>
    }
}

/// The edit a number setting's value makes, for its `on_value`.
pub fn edit_with(
    on_edit: &Callback<SettingsEdit>,
    apply: fn(&mut TrainingSettings, f64),
) -> Callback<f64> {
    on_edit
        .reform(move |value| -> SettingsEdit { Box::new(move |settings| apply(settings, value)) })
}
