//! Stage 6, report: the languages of the reports for people. Every sentence a person reads in
//! the text and HTML reports is a Fluent message (`data/locales/*.ftl`, compiled in), in English,
//! Simplified Chinese (`zh-CN`) or Traditional Chinese (`zh-TW`), chosen with `--lang` or from
//! `LC_ALL`, `LC_MESSAGES` and `LANG` as POSIX orders them. Plurals follow each language's CLDR
//! rules (Fluent's). A message missing from a translation falls back to English; a test fails
//! when any translation lacks a message English has.
//!
//! JSON reports are not translated: their words are stable identifiers.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language of the people's reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    ZhCn,
    /// Traditional Chinese.
    ZhTw,
}

/// The English messages.
const EN: &str = include_str!("../../data/locales/en.ftl");
/// The Simplified Chinese messages.
const ZH_CN: &str = include_str!("../../data/locales/zh-CN.ftl");
/// The Traditional Chinese messages.
const ZH_TW: &str = include_str!("../../data/locales/zh-TW.ftl");

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::ZhCn, Lang::ZhTw];

    /// The language a tag names: `en`, `zh-CN`, `zh_CN.UTF-8`, `zh-Hans`, `zh-SG` (Simplified),
    /// `zh-TW`, `zh-HK`, `zh-MO`, `zh-Hant` (Traditional); `C` and `POSIX` are English.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.split(['.', '@']).next().unwrap_or("").replace('_', "-");
        let lower = tag.to_ascii_lowercase();
        let mut parts = lower.split('-');
        match parts.next()? {
            "en" | "c" | "posix" => Some(Lang::En),
            "zh" => {
                let rest: Vec<&str> = parts.collect();
                let traditional = rest
                    .iter()
                    .any(|p| matches!(*p, "tw" | "hk" | "mo" | "hant"));
                Some(if traditional { Lang::ZhTw } else { Lang::ZhCn })
            }
            _ => None,
        }
    }

    /// The language the environment asks for (`LC_ALL`, then `LC_MESSAGES`, then `LANG`: the
    /// first that is set and not empty decides), English when it names none of ours.
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .and_then(|v| Lang::parse(&v))
            .unwrap_or(Lang::En)
    }

    /// The language's tag, as in `--lang` and HTML's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
            Lang::ZhTw => "zh-TW",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => EN,
            Lang::ZhCn => ZH_CN,
            Lang::ZhTw => ZH_TW,
        }
    }
}

/// An argument of a message.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Text, inserted as it is.
    Str(&'a str),
    /// A number (plurals select on it).
    Num(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Str(s)
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Num(n as f64)
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Num(n as f64)
    }
}

/// The messages of one language, with English behind them.
pub struct Messages {
    lang: Lang,
    bundle: FluentBundle<FluentResource>,
    english: Option<Box<Messages>>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages")
            .field("lang", &self.lang)
            .finish()
    }
}

impl Messages {
    /// The messages of `lang`.
    pub fn new(lang: Lang) -> Messages {
        Messages {
            lang,
            bundle: bundle(lang),
            english: (lang != Lang::En).then(|| Box::new(Messages::new(Lang::En))),
        }
    }

    /// Their language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Message `id` with `args`; English when this language lacks it, the id itself when
    /// English lacks it too (a test keeps that from happening).
    pub fn get(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            return match &self.english {
                Some(en) => en.get(id, args),
                None => id.to_owned(),
            };
        };
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            match *value {
                Arg::Str(s) => fargs.set(*name, FluentValue::from(s)),
                Arg::Num(n) => fargs.set(*name, FluentValue::from(n)),
            }
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&fargs), &mut errors)
            .into_owned()
    }

    /// Message `id` without arguments.
    pub fn text(&self, id: &str) -> String {
        self.get(id, &[])
    }
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = lang.tag().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new(vec![id]);
    // No Unicode isolation marks around arguments: terminals show them, and they are exactly
    // the bidi controls that output must not carry.
    bundle.set_use_isolating(false);
    // The files are ours and checked by tests: a syntax error keeps the entries that parsed.
    let resource = match FluentResource::try_new(lang.source().to_owned()) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    // Message ids are unique within a file (tested), so adding cannot clash.
    let _ = bundle.add_resource(resource);
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(src: &str) -> Vec<String> {
        let resource = FluentResource::try_new(src.to_owned()).expect("file parses");
        let mut ids: Vec<String> = resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn every_translation_has_every_message_and_no_other() {
        let en = ids(EN);
        assert!(en.len() > 20);
        for lang in [Lang::ZhCn, Lang::ZhTw] {
            let theirs = ids(lang.source());
            let missing: Vec<&String> = en.iter().filter(|id| !theirs.contains(id)).collect();
            let extra: Vec<&String> = theirs.iter().filter(|id| !en.contains(id)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, not in English {extra:?}",
                lang.tag()
            );
            let mut unique = theirs.clone();
            unique.dedup();
            assert_eq!(unique.len(), theirs.len(), "{}: duplicate ids", lang.tag());
        }
    }

    #[test]
    fn messages_format_with_plurals_and_no_isolation_marks() {
        let en = Messages::new(Lang::En);
        let one = en.get("n-machines", &[("count", 1usize.into())]);
        let many = en.get("n-machines", &[("count", 5usize.into())]);
        assert_eq!((one.as_str(), many.as_str()), ("1 machine", "5 machines"));
        let zh = Messages::new(Lang::ZhCn);
        assert_eq!(
            zh.get("n-machines", &[("count", 5usize.into())]),
            "5 台机器"
        );
        for m in [&one, &many] {
            assert!(!m.contains('\u{2068}') && !m.contains('\u{2069}'));
        }
        assert_eq!(en.text("no-such-message"), "no-such-message");
    }

    #[test]
    fn languages_come_from_tags_and_the_environment_order() {
        assert_eq!(Lang::parse("zh_CN.UTF-8"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("zh_TW.Big5"), Some(Lang::ZhTw));
        assert_eq!(Lang::parse("zh-Hant-HK"), Some(Lang::ZhTw));
        assert_eq!(Lang::parse("zh"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("en_GB.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("C"), Some(Lang::En));
        assert_eq!(Lang::parse("fr_FR"), None);
    }
}
