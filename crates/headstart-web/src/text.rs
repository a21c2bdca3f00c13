//! The page's words: every sentence comes from the catalog of `headstart-text`, for the first
//! of the browser's languages that it has (English otherwise). Components write
//! `tr!("message-id", name = value)`; nothing else in the view holds a sentence.

use headstart_text::{Catalog, Message};

thread_local! {
    static CATALOG: Catalog = Catalog::for_languages(browser_languages().iter().map(String::as_str));
}

/// The browser's preferred languages, most preferred first.
fn browser_languages() -> Vec<String> {
    web_sys::window()
        .map(|window| window.navigator().languages())
        .map(|languages| languages.iter().filter_map(|l| l.as_string()).collect())
        .unwrap_or_default()
}

/// The sentence `message` says in the page's language.
pub fn render(message: &Message) -> String {
    CATALOG.with(|catalog| catalog.render(message))
}

/// The page's language tag (`en`, …), for `<html lang>`.
pub fn language() -> &'static str {
    CATALOG.with(Catalog::language)
}

/// Renders a message in the page's language: `tr!("train")`, `tr!("photo-count", count = n)`.
macro_rules! tr {
    ($($message:tt)*) => {
        $crate::text::render(&headstart_text::text!($($message)*))
    };
}
pub(crate) use tr;
