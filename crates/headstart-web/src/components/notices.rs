//! The notices: what the page has to tell the student, newest last.

use super::StateProps;
use yew::prelude::*;

#[function_component]
pub fn Notices(props: &StateProps) -> Html {
    let notices = &props.state.notices;
    if notices.is_empty() {
        return html! {};
    }
    html! {
        <ul class="notices" data-testid="notices" role="status">
            { for notices.iter().map(|notice| html! { <li>{ crate::text::render(&notice.message()) }</li> }) }
        </ul>
    }
}
