//! Why a command could not do its work (exit code 2), said in the reader's language: a flag's
//! value refused (`--lang`, `--expect`, `--input-timeout`, `--duration`), a knowledge file
//! refused (the GeoIP database, an indicator file), a file or the output that could not be
//! written. Each case is one Fluent message (`err-*` in `crates/tomskype/data/locales/*.ftl`). In Chinese it
//! says what happened in the reader's words, then the library's own English sentence as the
//! technical detail, as the lines about unreadable inputs do
//! ([`tomskype::report::people::problem_line`]); in English the line is the one it always
//! was ([`Failure`]'s `Display` and its sources, which a test keeps equal to the English
//! messages). Paths, values and details go through [`tomskype::textsafe`].
//!
//! clap's own errors (an unknown flag, a missing or ill-formed value, `--color purple`) are
//! printed by clap in English; `main` puts a line in the reader's language before them.

use std::error::Error;
use std::io;
use std::path::PathBuf;

use tomskype::knowledge::geoip::GeoIpError;
use tomskype::knowledge::indicators::IndicatorError;
use tomskype::report::lang::{Arg, Messages};
use tomskype::textsafe::safe;

/// Why a command failed. Each variant is one message; the `Display` is the English line.
/// Functions return it boxed (`Box<Failure>`): with the library's GeoIP error inside, it is
/// over 128 bytes on Windows and macOS, too large to pass back by value on every `Result`.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// `--lang` names no language of ours.
    #[error("--lang {0}: not a language of the reports (en, zh-CN, zh-TW)")]
    Lang(String),
    /// An `--expect ADDR=LABEL` whose address is not an IP address.
    #[error("--expect {value}: {detail}")]
    ExpectAddress {
        /// The flag's value.
        value: String,
        /// What stands before the `=`.
        address: String,
        /// The library's sentence.
        detail: String,
    },
    /// An `--expect` whose label is not one of the labels.
    #[error("--expect {value}: {detail}")]
    ExpectLabel {
        /// The flag's value.
        value: String,
        /// What stands after the `=` (or the whole value).
        label: String,
        /// The library's sentence.
        detail: String,
    },
    /// `--input-timeout` is not a number of seconds ≥ 0.
    #[error("--input-timeout {0}: not a number of seconds ≥ 0")]
    InputTimeout(f64),
    /// `--duration` is not a number of seconds ≥ 0 (`live`, with the `live` feature).
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    #[error("--duration {0}: not a number of seconds ≥ 0")]
    Duration(f64),
    /// The indicator set built into the binary does not load (a broken build).
    #[error("the shipped indicator set is broken")]
    ShippedIndicators(#[source] IndicatorError),
    /// An `--indicators` file was refused.
    #[error("refusing indicator file {}", .path.display())]
    Indicators {
        /// The file, as given.
        path: PathBuf,
        /// Why.
        #[source]
        source: IndicatorError,
    },
    /// The GeoIP database built into the binary does not load (a broken build).
    #[error("the shipped GeoIP database is broken")]
    ShippedGeoIp(#[source] GeoIpError),
    /// The `--geoip-db` file was refused.
    #[error("refusing GeoIP database {}", .path.display())]
    GeoIp {
        /// The file, as given.
        path: PathBuf,
        /// Why.
        #[source]
        source: GeoIpError,
    },
    /// A database at one of the standard locations (no `--geoip-db`) was refused.
    #[error("no usable GeoIP database")]
    FoundGeoIp(#[source] GeoIpError),
    /// The `--html` file could not be written.
    #[error("cannot write the HTML report to {}", .path.display())]
    Html {
        /// The file, as given.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Standard output could not be written (`lookup`, `indicators`, `export`).
    #[error("cannot write the output")]
    Output(#[source] io::Error),
    /// `tomskype generate` could not write its folder.
    #[error("cannot write to {}", .path.display())]
    Generate {
        /// The folder.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// An I/O error where a boxed failure is returned (`?` converts `Failure` into its box by
/// itself, but not through two conversions).
impl From<io::Error> for Box<Failure> {
    fn from(e: io::Error) -> Self {
        Box::new(Failure::from(e))
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Output(e)
    }
}

impl Failure {
    /// Whether it is only a closed pipe on the way (`tomskype lookup ... | head -1`): the
    /// reader's choice, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        sources(self).any(|e| {
            e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        })
    }

    /// The failure in the reader's words (without the `tomskype: error:` prefix), every text
    /// from outside terminal-safe.
    pub fn say(&self, m: &Messages) -> String {
        let text = |t: &str| safe(t).into_owned();
        let path = |p: &PathBuf| text(&p.display().to_string());
        match self {
            Failure::Lang(value) => say(m, "err-lang", &[("value", &text(value))]),
            Failure::ExpectAddress {
                value,
                address,
                detail,
            } => say(
                m,
                "err-expect-address",
                &[
                    ("value", &text(value)),
                    ("address", &text(address.trim())),
                    ("detail", &text(detail)),
                ],
            ),
            Failure::ExpectLabel {
                value,
                label,
                detail,
            } => say(
                m,
                "err-expect-label",
                &[
                    ("value", &text(value)),
                    ("label", &text(label.trim())),
                    ("detail", &text(detail)),
                ],
            ),
            Failure::InputTimeout(v) => say(m, "err-input-timeout", &[("value", &v.to_string())]),
            Failure::Duration(v) => say(m, "err-duration", &[("value", &v.to_string())]),
            Failure::ShippedIndicators(e) => {
                say(m, "err-indicators-shipped", &[("detail", &text(&chain(e)))])
            }
            Failure::Indicators { path: p, source } => say(
                m,
                "err-indicators-file",
                &[
                    ("path", &path(p)),
                    ("what", &indicators_what(m, source)),
                    ("detail", &text(&chain(source))),
                ],
            ),
            Failure::ShippedGeoIp(e) => {
                say(m, "err-geoip-shipped", &[("detail", &text(&chain(e)))])
            }
            Failure::GeoIp { path: p, source } => say(
                m,
                "err-geoip-file",
                &[
                    ("path", &path(p)),
                    ("what", &geoip_what(m, source)),
                    ("detail", &text(&chain(source))),
                ],
            ),
            Failure::FoundGeoIp(e) => say(
                m,
                "err-geoip-found",
                &[
                    ("path", &text(&geoip_name(e))),
                    ("what", &geoip_what(m, e)),
                    ("detail", &text(&chain(e))),
                ],
            ),
            Failure::Html { path: p, source } => written(m, "err-html", Some(&path(p)), source),
            Failure::Output(e) => written(m, "err-output", None, e),
            Failure::Generate { path: p, source } => {
                written(m, "err-generate", Some(&path(p)), source)
            }
        }
    }
}

/// Message `id` with text arguments.
fn say(m: &Messages, id: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Arg<'_>)> = args.iter().map(|&(k, v)| (k, Arg::Str(v))).collect();
    m.get(id, &args)
}

/// A message about a file or the output that could not be written: `$path` (when there is
/// one), `$what` (the system's error in words) and `$detail` (its English).
fn written(m: &Messages, id: &str, path: Option<&str>, e: &io::Error) -> String {
    let what = io_what(m, e, Io::Write);
    let detail = safe(&chain(e)).into_owned();
    let mut args = vec![("what", what.as_str()), ("detail", detail.as_str())];
    if let Some(p) = path {
        args.push(("path", p));
    }
    say(m, id, &args)
}

/// An error and its sources as one line, `a: b: c` (as `anyhow`'s `{:#}` shows a chain); a
/// source is left out when the text before already ends with it (some errors quote their
/// source as well as giving it).
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    for s in sources(e).skip(1) {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// `e`, then its source, its source's source and so on.
fn sources<'e>(e: &'e (dyn Error + 'static)) -> impl Iterator<Item = &'e (dyn Error + 'static)> {
    std::iter::successors(Some(e), |&e| e.source())
}

/// Whether a file was being read or written.
#[derive(Debug, Clone, Copy)]
pub enum Io {
    /// Read (a knowledge file).
    Read,
    /// Written (a report, the output, a folder).
    Write,
}

/// What the system's error means for the reader, in words (`io-*`).
pub fn io_what(m: &Messages, e: &io::Error, op: Io) -> String {
    use io::ErrorKind as K;
    let id = match e.kind() {
        K::NotFound => "io-not-found",
        K::PermissionDenied => "io-permission",
        K::IsADirectory => "io-is-a-folder",
        K::NotADirectory => "io-not-a-folder",
        K::StorageFull | K::QuotaExceeded => "io-full",
        K::ReadOnlyFilesystem => "io-read-only",
        K::InvalidData => "io-not-text",
        _ => "io-other",
    };
    let op = match op {
        Io::Read => "read",
        Io::Write => "write",
    };
    m.get(id, &[("op", op.into())])
}

/// Why an indicator file was refused, in words.
fn indicators_what(m: &Messages, e: &IndicatorError) -> String {
    match e {
        IndicatorError::Io { source, .. } => io_what(m, source, Io::Read),
        IndicatorError::Syntax { line, .. } => {
            say(m, "indicators-why-line", &[("line", &line.to_string())])
        }
    }
}

/// Why a GeoIP database was refused, in words.
fn geoip_what(m: &Messages, e: &GeoIpError) -> String {
    match e {
        GeoIpError::Read { source, .. } => io_what(m, source, Io::Read),
        GeoIpError::Malformed { .. } | GeoIpError::Reader { .. } => m.text("geoip-why-not-mmdb"),
        GeoIpError::NotCountry { database_type, .. } => say(
            m,
            "geoip-why-not-country",
            &[("type", &safe(database_type))],
        ),
    }
}

/// The database a GeoIP error is about.
fn geoip_name(e: &GeoIpError) -> String {
    match e {
        GeoIpError::Read { path, .. } => path.display().to_string(),
        GeoIpError::Malformed { name, .. }
        | GeoIpError::Reader { name, .. }
        | GeoIpError::NotCountry { name, .. } => name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tomskype::report::lang::Lang;

    fn io(kind: io::ErrorKind) -> io::Error {
        io::Error::from(kind)
    }

    /// One failure of every kind, with text from outside that a terminal must not obey.
    fn every_failure() -> Vec<Failure> {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("geo\x1b[2J.mmdb");
        std::fs::write(&text, "not a database").unwrap();
        let reader = tomskype::knowledge::geoip::GeoIp::open(&text).unwrap_err();
        assert!(matches!(reader, GeoIpError::Reader { .. }), "{reader}");
        let syntax = || IndicatorError::Syntax {
            file: "/tmp/bad.tsv".into(),
            line: 3,
            reason: "bad weight `lots`".into(),
        };
        vec![
            Failure::Lang("fr\x07".into()),
            Failure::ExpectAddress {
                value: "1.2.3=tom-skype".into(),
                address: "1.2.3".into(),
                detail: "`1.2.3` is not an IP address".into(),
            },
            Failure::ExpectLabel {
                value: "tom".into(),
                label: "tom".into(),
                detail: "`tom` is not a label".into(),
            },
            Failure::InputTimeout(-1.0),
            Failure::Duration(f64::INFINITY),
            Failure::ShippedIndicators(syntax()),
            Failure::Indicators {
                path: "/tmp/bad.tsv".into(),
                source: syntax(),
            },
            Failure::Indicators {
                path: "/tmp/gone.tsv".into(),
                source: IndicatorError::Io {
                    path: "/tmp/gone.tsv".into(),
                    source: io(io::ErrorKind::NotFound),
                },
            },
            Failure::ShippedGeoIp(GeoIpError::Malformed {
                name: "embedded".into(),
                reason: "a record points nowhere".into(),
            }),
            Failure::GeoIp {
                path: text.clone(),
                source: reader,
            },
            Failure::GeoIp {
                path: "/tmp/asn.mmdb".into(),
                source: GeoIpError::NotCountry {
                    name: "/tmp/asn.mmdb".into(),
                    database_type: "GeoLite2-ASN".into(),
                },
            },
            Failure::FoundGeoIp(GeoIpError::Read {
                path: "/usr/share/GeoIP/GeoLite2-Country.mmdb".into(),
                source: io(io::ErrorKind::PermissionDenied),
            }),
            Failure::Html {
                path: "/nonexistent/report.html".into(),
                source: io(io::ErrorKind::NotFound),
            },
            Failure::Output(io(io::ErrorKind::StorageFull)),
            Failure::Generate {
                path: "/proc/x".into(),
                source: io(io::ErrorKind::PermissionDenied),
            },
        ]
    }

    #[test]
    fn english_is_the_technical_line() {
        let en = Messages::new(Lang::En);
        for f in every_failure() {
            assert_eq!(f.say(&en), safe(&chain(&f)), "{f:?}");
        }
    }

    #[test]
    fn chinese_says_what_happened_and_keeps_the_english_as_detail() {
        let is_cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
        for lang in [Lang::ZhCn, Lang::ZhTw] {
            let m = Messages::new(lang);
            let en = Messages::new(Lang::En);
            for f in every_failure() {
                let text = f.say(&m);
                assert!(text.chars().any(is_cjk), "{lang:?}: {text}");
                assert!(!text.contains('{') && !text.contains('\x1b'), "{text}");
                assert!(!text.contains('\x07'), "{text}");
                assert_ne!(text, f.say(&en));
                // What it concerns is named, terminal-safe.
                match &f {
                    Failure::Indicators { path, .. }
                    | Failure::GeoIp { path, .. }
                    | Failure::Html { path, .. }
                    | Failure::Generate { path, .. } => {
                        let shown = safe(&path.display().to_string()).into_owned();
                        assert!(text.contains(&shown), "{text}");
                    }
                    Failure::FoundGeoIp(_) => {
                        assert!(text.contains("/usr/share/GeoIP/GeoLite2-Country.mmdb"));
                        assert!(text.contains("--geoip-db embedded"), "{text}");
                    }
                    Failure::Lang(_) => assert!(text.contains("--lang fr\\x07"), "{text}"),
                    _ => {}
                }
                // The English sentence behind it, where there is one, as the detail.
                if let Some(source) = f.source() {
                    let detail = safe(&chain(source)).into_owned();
                    assert!(text.contains(&detail), "{text}");
                }
            }
        }
        let zh = Messages::new(Lang::ZhCn);
        let tw = Messages::new(Lang::ZhTw);
        let html = &every_failure()[12];
        assert!(html.say(&zh).contains("要保存到的文件夹不存在"));
        assert!(html.say(&tw).contains("要儲存到的資料夾不存在"));
        let line = &every_failure()[6];
        assert!(line.say(&zh).contains("第 3 行"), "{}", line.say(&zh));
        assert!(line.say(&tw).contains("指標檔案"), "{}", line.say(&tw));
    }

    #[test]
    fn every_system_error_has_words_in_every_language() {
        use io::ErrorKind as K;
        let kinds = [
            K::NotFound,
            K::PermissionDenied,
            K::IsADirectory,
            K::NotADirectory,
            K::StorageFull,
            K::QuotaExceeded,
            K::ReadOnlyFilesystem,
            K::InvalidData,
            K::Other,
        ];
        for lang in Lang::ALL {
            let m = Messages::new(lang);
            for kind in kinds {
                for op in [Io::Read, Io::Write] {
                    let text = io_what(&m, &io(kind), op);
                    assert!(
                        !text.starts_with("io-") && !text.contains('{'),
                        "{lang:?} {kind:?}: {text}"
                    );
                }
            }
        }
        let m = Messages::new(Lang::ZhCn);
        assert_ne!(
            io_what(&m, &io(K::NotFound), Io::Read),
            io_what(&m, &io(K::NotFound), Io::Write)
        );
    }

    #[test]
    fn a_chain_says_each_sentence_once() {
        let e = IndicatorError::Io {
            path: "/x.tsv".into(),
            source: io(io::ErrorKind::NotFound),
        };
        // The library quotes its source and gives it as the source too.
        assert_eq!(
            chain(&e),
            "cannot read indicator file /x.tsv: entity not found"
        );
        let f = Failure::Indicators {
            path: "/x.tsv".into(),
            source: e,
        };
        assert_eq!(
            chain(&f),
            "refusing indicator file /x.tsv: cannot read indicator file /x.tsv: entity not found"
        );
    }

    #[test]
    fn only_a_closed_pipe_is_quiet() {
        assert!(Failure::Output(io(io::ErrorKind::BrokenPipe)).is_broken_pipe());
        assert!(!Failure::Output(io(io::ErrorKind::StorageFull)).is_broken_pipe());
        assert!(!Failure::Lang("fr".into()).is_broken_pipe());
    }
}
