//! Every sentence Headstart shows a student comes from one catalog: Fluent files per language
//! in `locales/<language>/*.ftl`. Code never writes the words: the core, the workers and the
//! page's rules report typed reasons, turned at the edge into a [`Message`] (an id and its
//! arguments, made with [`text!`]), and only the view renders it with a [`Catalog`].
//!
//! A native test (`tests/catalog.rs`) reads every `text!` in the workspace's code and every
//! catalog file, and fails when code names a message the catalog lacks, passes other arguments
//! than the message uses, or when a message is used nowhere.

#[cfg(feature = "catalog")]
mod catalog;
#[cfg(feature = "catalog")]
pub use catalog::Catalog;

/// A sentence to show, as data: which message, with which arguments. Made with [`text!`].
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The message's id in the catalog.
    pub id: &'static str,
    /// Its arguments by name, as the catalog's `{ $name }` placeables use them.
    pub args: Vec<(&'static str, Arg)>,
}

/// One argument of a message. Numbers stay numbers until the catalog formats them for the
/// language (and chooses plurals by them).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Words the student typed or a file's name: shown as they are.
    Text(String),
    /// A whole number: a count of photos, epochs, numbers learned (plurals choose by it).
    Count(u64),
    /// A number shown with exactly `digits` decimals (a loss, a size in MB, seconds).
    Decimal {
        /// The value.
        value: f64,
        /// Decimals shown.
        digits: usize,
    },
    /// A share shown as a whole percentage (0.83 is "83%").
    Percent(f64),
    /// Another message, rendered first (a reason inside a sentence).
    Message(Box<Message>),
}

impl Arg {
    /// `value` with exactly `digits` decimals.
    pub fn decimal(value: impl Into<f64>, digits: usize) -> Self {
        Self::Decimal {
            value: value.into(),
            digits,
        }
    }

    /// A share in 0..1 shown as a percentage.
    pub fn percent(share: impl Into<f64>) -> Self {
        Self::Percent(share.into())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Self::Text(text.to_string())
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Self {
        Self::Text(text.clone())
    }
}

impl From<Message> for Arg {
    fn from(message: Message) -> Self {
        Self::Message(Box::new(message))
    }
}

macro_rules! count_from {
    ($($int:ty),*) => {
        $(impl From<$int> for Arg {
            fn from(count: $int) -> Self {
                Self::Count(count as u64)
            }
        })*
    };
}
count_from!(usize, u32, u64);

/// A [`Message`]: `text!("train-button")`, `text!("class-count", count = photos.len())`. The id
/// must be a literal (the catalog test finds every use by it); each argument is converted with
/// [`Arg::from`] (strings, counts, messages) or given as an [`Arg`] (`Arg::percent(0.83)`).
#[macro_export]
macro_rules! text {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::Message {
            id: $id,
            args: vec![$((stringify!($name), $crate::Arg::from($value))),*],
        }
    };
}
