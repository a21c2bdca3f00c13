//! The catalog: each language's Fluent files in one bundle, and the one place numbers are
//! formatted for a language (grouping, decimals, percentages).

use crate::{Arg, Message};
use fluent_bundle::types::{FluentNumber, FluentNumberOptions, FluentNumberStyle};
use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use intl_memoizer::{IntlLangMemoizer, Memoizable};
use unic_langid::LanguageIdentifier;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language every other falls back to, and whose catalog is complete by test.
pub const ENGLISH: &str = "en";

/// Every sentence of one language.
pub struct Catalog {
    language: &'static str,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("language", &self.language)
            .finish()
    }
}

impl Catalog {
    /// The languages the catalog has, by tag (`en`, …), in order.
    pub fn languages() -> impl Iterator<Item = &'static str> {
        LOCALES.iter().map(|(tag, _)| *tag)
    }

    /// The catalog of the first of `preferred` (browser language tags such as `es-ES`) that it
    /// has, matched by primary language; English when it has none of them.
    pub fn for_languages<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Self {
        let chosen = preferred
            .into_iter()
            .find_map(|wanted| {
                let primary = wanted.split(['-', '_']).next()?.to_ascii_lowercase();
                Self::languages().find(|tag| *tag == primary)
            })
            .unwrap_or(ENGLISH);
        Self::new(chosen)
    }

    /// English.
    pub fn english() -> Self {
        Self::new(ENGLISH)
    }

    fn new(language: &'static str) -> Self {
        let (_, files) = LOCALES
            .iter()
            .find(|(tag, _)| *tag == language)
            .expect("a language of the catalog");
        let langid: LanguageIdentifier = language.parse().expect("a valid language tag");
        let mut bundle = FluentBundle::new(vec![langid]);
        // Unicode isolation marks around every argument would reach the page's text (and its
        // tests' string matches); names and numbers here are not mixed-direction text.
        bundle.set_use_isolating(false);
        bundle.set_formatter(Some(format_number));
        for source in *files {
            let resource = FluentResource::try_new(source.to_string())
                .unwrap_or_else(|(_, errors)| panic!("{language}: {errors:?}"));
            bundle
                .add_resource(resource)
                .unwrap_or_else(|errors| panic!("{language}: {errors:?}"));
        }
        Self { language, bundle }
    }

    /// The language's tag.
    pub fn language(&self) -> &'static str {
        self.language
    }

    /// The sentence `message` says in this language. A message the catalog lacks shows its id
    /// (the catalog test keeps that from happening).
    pub fn render(&self, message: &Message) -> String {
        let Some(pattern) = self
            .bundle
            .get_message(message.id)
            .and_then(|found| found.value())
        else {
            return message.id.to_string();
        };
        let mut args = FluentArgs::new();
        for (name, arg) in &message.args {
            args.set(*name, self.value(arg));
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&args), &mut errors)
            .into_owned()
    }

    fn value(&self, arg: &Arg) -> FluentValue<'static> {
        let number = |value: f64, options: FluentNumberOptions| {
            FluentValue::Number(FluentNumber::new(value, options))
        };
        match arg {
            Arg::Text(text) => FluentValue::String(text.clone().into()),
            Arg::Count(count) => number(*count as f64, FluentNumberOptions::default()),
            Arg::Decimal { value, digits } => number(
                *value,
                FluentNumberOptions {
                    minimum_fraction_digits: Some(*digits),
                    maximum_fraction_digits: Some(*digits),
                    ..Default::default()
                },
            ),
            Arg::Percent(share) => number(
                *share,
                FluentNumberOptions {
                    style: FluentNumberStyle::Percent,
                    ..Default::default()
                },
            ),
            Arg::Message(inner) => FluentValue::String(self.render(inner).into()),
        }
    }
}

/// How a language writes numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NumberStyle {
    decimal: char,
    group: &'static str,
    /// Between a number and its percent sign.
    before_percent: &'static str,
}

impl Memoizable for NumberStyle {
    type Args = ();
    type Error = ();

    fn construct(language: LanguageIdentifier, _: ()) -> Result<Self, ()> {
        // CLDR's choices for the classroom languages; any other language writes numbers as
        // English does until it is added here.
        Ok(match language.language.as_str() {
            "es" | "ca" | "de" | "it" | "pt" => Self {
                decimal: ',',
                group: ".",
                before_percent: "\u{a0}",
            },
            "fr" => Self {
                decimal: ',',
                group: "\u{202f}",
                before_percent: "\u{a0}",
            },
            _ => Self {
                decimal: '.',
                group: ",",
                before_percent: "",
            },
        })
    }
}

/// Every number a message shows, in the language's style: whole numbers grouped by thousands,
/// decimals exactly as many as asked, shares as whole percentages.
fn format_number(value: &FluentValue, memoizer: &IntlLangMemoizer) -> Option<String> {
    let FluentValue::Number(number) = value else {
        return None;
    };
    let style = memoizer
        .with_try_get::<NumberStyle, _, _>((), |style| *style)
        .ok()?;
    let options = &number.options;
    Some(match options.style {
        FluentNumberStyle::Percent => format!(
            "{}{}%",
            group_thousands(&format!("{:.0}", number.value * 100.0), style),
            style.before_percent
        ),
        _ => {
            let digits = options.maximum_fraction_digits.unwrap_or(0);
            let fixed = format!("{:.digits$}", number.value);
            let (whole, fraction) = fixed.split_once('.').unwrap_or((&fixed, ""));
            let mut out = group_thousands(whole, style);
            if !fraction.is_empty() {
                out.push(style.decimal);
                out.push_str(fraction);
            }
            out
        }
    })
}

/// `whole` (digits, perhaps a leading minus) with the language's group separator every three
/// digits from the right; four-digit numbers too ("1,234").
fn group_thousands(whole: &str, style: NumberStyle) -> String {
    let (sign, digits) = whole
        .strip_prefix('-')
        .map_or(("", whole), |digits| ("-", digits));
    let mut out = String::from(sign);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(style.group);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        let english = NumberStyle::construct("en".parse().unwrap(), ()).unwrap();
        let spanish = NumberStyle::construct("es".parse().unwrap(), ()).unwrap();
        assert_eq!(group_thousands("1491203", english), "1,491,203");
        assert_eq!(group_thousands("1491203", spanish), "1.491.203");
        assert_eq!(group_thousands("-999", english), "-999");
        assert_eq!(group_thousands("1000", english), "1,000");
    }

    #[test]
    fn a_browser_language_picks_its_catalog_or_english() {
        assert_eq!(Catalog::for_languages(["en-GB"]).language(), "en");
        assert_eq!(Catalog::for_languages(["xx-YY", "en"]).language(), "en");
        assert_eq!(Catalog::for_languages([]).language(), ENGLISH);
    }

    #[test]
    fn a_missing_message_shows_its_id() {
        let catalog = Catalog::english();
        let message = crate::Message {
            id: "no-such-message",
            args: Vec::new(),
        };
        assert_eq!(catalog.render(&message), "no-such-message");
    }
}
