//! `tomskype`: the command line. Parses flags (`cli`), builds the working objects (`config`),
//! runs the library's pipeline (`analyze` here; `live` and `interfaces` in `live_cmd`, which
//! also catches Ctrl-C and draws the status line) and prints the report. Exit codes: 1 when a host is
//! `tom-skype` (or, with `--expect`, when a verdict differs), 2 when an input could not be read
//! at all, when nothing was read (no packets or log records in any input) or when the report
//! could not be written, 0 otherwise.
//!
//! Everything said on stderr is in the reader's language (`--lang` where the command has it,
//! else `LC_ALL`, `LC_MESSAGES`, `LANG`): the lines after the report, live's messages, and why
//! a command failed ([`failure::Failure`]); clap's own errors about the flags and `--help` stay
//! in English. Everything printed for people that came from input (paths, problem details,
//! errors that quote them) goes through [`tomskype::textsafe`]. Messages to stderr never panic:
//! a full or closed stderr loses the message, not the exit code. A closed stdout (`| head -1`)
//! ends the run quietly.

mod alloc;
mod assets;
mod cli;
mod config;
mod failure;
mod live_cmd;
mod progress;

use std::io::{self, Write};
use std::process::ExitCode;

/// The system allocator, counting what it holds (for `--max-memory`).
#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

use cli::{Cli, Command, Format, ReportArgs, ReportFormat};
use failure::{Failure, Io};
use tomskype::analyze::Keep;
use tomskype::classify::Label;
use tomskype::report::lang::{Lang, Messages};
use tomskype::report::{self, expect, Report};
use tomskype::textsafe::{Safe, SafeDisplay};

/// `eprintln!` that cannot panic: a message that cannot be written to stderr (a full device,
/// a closed pipe) is dropped, and the run goes on to its exit code.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

/// Prints `message` as an error line (`tomskype: error: …`) in the reader's language.
fn say_error(m: &Messages, message: &str) {
    say!("{}", m.get("msg-error", &[("message", message.into())]));
}

/// Prints `message` as a warning line (`tomskype: warning: …`) in the reader's language.
fn say_warning(m: &Messages, message: &str) {
    say!("{}", m.get("msg-warning", &[("message", message.into())]));
}

/// Prints a note line (`tomskype: note: …`) in the reader's language.
fn say_note(m: &Messages, message: &str) {
    say!("{}", m.get("msg-note", &[("message", message.into())]));
}

fn main() -> ExitCode {
    let cli = parse();
    // The language comes first: every later message is in it. A `--lang` that names none of
    // ours is said in the environment's.
    let lang = match config::lang(lang_flag(&cli)) {
        Ok(lang) => lang,
        Err(failure) => {
            let m = Messages::new(Lang::from_env());
            say_error(&m, &failure.say(&m));
            return ExitCode::from(2);
        }
    };
    let m = Messages::new(lang);
    match run(cli, &m) {
        Ok(code) => code,
        Err(failure) if failure.is_broken_pipe() => ExitCode::SUCCESS,
        Err(failure) => {
            say_error(&m, &failure.say(&m));
            ExitCode::from(2)
        }
    }
}

/// The `--lang` of the commands that have one.
fn lang_flag(cli: &Cli) -> Option<&str> {
    match &cli.command {
        Command::Analyze(args) => args.report.lang.as_deref(),
        Command::Live(args) => args.report.lang.as_deref(),
        _ => None,
    }
}

/// Parses the command line; `--version` also names the shipped knowledge (indicator set,
/// GeoIP database), so that a report can be matched to the tool that made it.
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    // Loading the knowledge for its names is work only `--version` needs: not on every start.
    if std::env::args_os().skip(1).any(|a| a == "--version") {
        command = command.long_version(long_version());
    }
    let matches = command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    match matches {
        Ok(cli) => cli,
        Err(e) => command_line_error(e),
    }
}

/// A command line clap refused: clap's own words (English: clap has no translations) and exit
/// code, after a line in the reader's language when that is not English. Help and version are
/// not errors and print as they are.
fn command_line_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let shown = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let lang = raw_lang_flag()
        .and_then(|tag| Lang::parse(&tag))
        .unwrap_or_else(Lang::from_env);
    if !shown {
        if lang != Lang::En {
            let m = Messages::new(lang);
            say_error(&m, &m.text("err-command-line"));
        }
        e.exit()
    }
    // Help and version go to stdout: a full disk is an error (exit 2), a closed pipe
    // (`| head`) the reader's choice.
    let written = e.print().and_then(|()| io::stdout().flush());
    match written {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            let m = Messages::new(lang);
            let reason = Safe(&failure::chain(&err)).to_string();
            let what = failure::io_what(&m, &err, Io::Write);
            say_error(
                &m,
                &m.get(
                    "msg-help-unwritable",
                    &[("reason", (&reason).into()), ("what", (&what).into())],
                ),
            );
            std::process::exit(2)
        }
        _ => std::process::exit(e.exit_code()),
    }
}

/// The value of `--lang` on a command line clap refused, read without clap.
fn raw_lang_flag() -> Option<String> {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    args.iter()
        .enumerate()
        .find_map(|(i, a)| match a.strip_prefix("--lang") {
            Some("") => args.get(i + 1).cloned(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        })
}

/// The tool's version with the names of the shipped indicator set and GeoIP database.
fn long_version() -> &'static str {
    let set = tomskype::knowledge::indicators::IndicatorSet::embedded()
        .map(|s| s.info().versions.join(" + "))
        .unwrap_or_else(|e| format!("(unreadable: {e})"));
    let geoip = tomskype::knowledge::geoip::GeoIp::embedded()
        .map(|g| {
            let i = g.info();
            format!("{} {}", i.database_type, i.build_date)
        })
        .unwrap_or_else(|e| format!("(unreadable: {e})"));
    let long = format!(
        "{}\nindicators: {set} (embedded; --indicators adds files)\nGeoIP: {geoip} (embedded; --geoip-db picks another)",
        env!("CARGO_PKG_VERSION")
    );
    // Built once per process: a leaked string keeps clap from needing its "string" feature.
    Box::leak(long.into_boxed_str())
}

/// Runs the command in the language of `m`; what could not be done is a [`Failure`] (exit 2).
fn run(cli: Cli, m: &Messages) -> Result<ExitCode, Box<Failure>> {
    match cli.command {
        Command::Analyze(args) => {
            let (analyzer, expected) = config::analyzer(&args.report)?;
            let threads = args
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let stream_wait = config::seconds(args.input_timeout, Failure::InputTimeout)?;
            let mut inputs = tomskype::analyze::Inputs::expand(&args.paths);
            inputs.stream_wait = Some(stream_wait);
            inputs.memory = memory(&args.memory, &args.report);
            // Verdicts told as they change while a stream is read, before the report.
            let telling = args.report.format == ReportFormat::Jsonl && inputs.has_streams();
            if telling {
                write_jsonl_header(&analyzer)?;
                inputs.on_change = Some(tomskype::analyze::OnChange(std::sync::Arc::new(
                    |c: &tomskype::analyze::Change| tell_change(c),
                )));
            }
            if !inputs.skipped.is_empty() {
                let first = SafeDisplay(inputs.skipped[0].display()).to_string();
                let text = m.get(
                    "msg-skipped-files",
                    &[
                        ("count", inputs.skipped.len().into()),
                        ("first", (&first).into()),
                    ],
                );
                say_note(m, &text);
            }
            let traffic = progress::run(inputs.total_bytes(), !args.no_progress, m, |p| {
                inputs.read(&analyzer, threads, Some(p))
            });
            // Without --all-hosts, the reports of hosts with no sign are shown nowhere: they are
            // counted, not kept (a big network has millions).
            let keep = if args.report.all_hosts {
                Keep::All
            } else {
                Keep::Signs
            };
            let report = analyzer.report_with(traffic, threads, keep);
            let code = emit(&report, &args.report, &expected, m, telling);
            // The process ends here: freeing the report's many small allocations one by one
            // would only delay the exit (some 20 ms on a large capture).
            std::mem::forget(report);
            code
        }
        Command::Live(args) => live_cmd::live(args, m),
        Command::Interfaces => live_cmd::interfaces(m),
        Command::Lookup(args) => {
            let (geoip, set) = config::knowledge(&args.knowledge)?;
            let out = tomskype::lookup::lookup(&args.queries, &geoip, &set);
            let mut stdout = io::stdout().lock();
            match args.format {
                Format::Json => {
                    tomskype::textsafe::write_json_pretty(&mut stdout, &out)?;
                    writeln!(stdout)?;
                }
                Format::Text => tomskype::lookup::write_text(&out, &mut stdout)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Indicators(args) => {
            let set = config::indicators(&args.indicator_files)?;
            let mut stdout = io::stdout().lock();
            match args.format {
                Format::Json => {
                    tomskype::export::write(&set, tomskype::export::Format::Json, 0, &mut stdout)?
                }
                Format::Text => tomskype::export::write_listing(&set, &mut stdout)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(args) => {
            let set = config::indicators(&args.indicator_files)?;
            let format = match args.format {
                cli::ExportFormat::ZeekIntel => tomskype::export::Format::ZeekIntel,
                cli::ExportFormat::Suricata => tomskype::export::Format::Suricata,
                cli::ExportFormat::Csv => tomskype::export::Format::Csv,
                cli::ExportFormat::Json => tomskype::export::Format::Json,
            };
            let mut stdout = io::stdout().lock();
            tomskype::export::write(&set, format, args.sid_base, &mut stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { out } => {
            let written = assets::write_all(&out).map_err(|source| Failure::Generate {
                path: out.clone(),
                source,
            })?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The report told for people, as the flags ask.
fn story(report: &Report, args: &ReportArgs, lang: Lang) -> report::people::Story {
    report::people::story(
        report,
        &report::people::Options {
            lang,
            all_hosts: args.all_hosts,
            local: config::local_zone(),
        },
    )
}

/// How reading keeps its memory bounded, as the flags ask: hosts with no sign are not listed
/// without --all-hosts, so past a big network's number of hosts their counters will do.
pub(crate) fn memory(args: &cli::MemoryArgs, report: &ReportArgs) -> tomskype::analyze::Memory {
    tomskype::analyze::Memory {
        summarise_past: (!report.all_hosts).then_some(tomskype::analyze::SUMMARISE_PAST),
        budget: (args.max_memory > 0).then(|| tomskype::analyze::Budget {
            limit: usize::try_from(args.max_memory).unwrap_or(usize::MAX),
            held: alloc::held,
        }),
    }
}

/// Writes the header line of `--format jsonl` on stdout before reading, when verdicts are told
/// as they change (the report's lines then follow without it).
pub(crate) fn write_jsonl_header(analyzer: &tomskype::analyze::Analyzer) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    report::json::write_header(
        &analyzer.indicators.info(),
        analyzer.geoip.info(),
        &mut stdout,
    )?;
    stdout.flush()
}

/// Writes a verdict that changed as a JSON line on stdout (`--format jsonl` while a stream or
/// a live capture is read). A line that cannot be written is let go: the report, written
/// after, says what is wrong with stdout.
pub(crate) fn tell_change(c: &tomskype::analyze::Change) {
    let mut stdout = io::stdout().lock();
    let _ = report::json::write_change(c.at_ns, c.was, &c.host, &mut stdout);
}

/// Writes the report to stdout in the format asked, in `lang` for people; in JSON lines, the
/// header only if it was not written before reading (`header_written`).
fn print_report(
    report: &Report,
    args: &ReportArgs,
    lang: Lang,
    header_written: bool,
) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match args.format {
        ReportFormat::Json => report::json::write(report, &mut stdout, args.all_hosts)?,
        ReportFormat::Jsonl => {
            report::json::write_lines(report, &mut stdout, args.all_hosts, !header_written)?
        }
        ReportFormat::Text | ReportFormat::Html => {
            let story = story(report, args, lang);
            let mut buf = io::BufWriter::new(&mut stdout);
            if args.format == ReportFormat::Html {
                report::html::write(&story, report, &mut buf)?;
            } else {
                let style = report::text::Style {
                    colour: config::colour(args.color),
                    width: config::text_width(),
                    verbose: args.verbose,
                };
                report::text::write(&story, &mut buf, style)?;
            }
            buf.flush()?;
        }
    }
    stdout.flush()
}

/// Prints the report and turns it into an exit code. A report that cannot be written (a full
/// device) is an error, but the exit code still says tom-skype (1) when a host is; a closed
/// stdout (`| head`) is the reader's choice and changes nothing.
fn emit(
    report: &Report,
    args: &ReportArgs,
    expected: &[expect::Expectation],
    m: &Messages,
    header_written: bool,
) -> Result<ExitCode, Box<Failure>> {
    let lang = m.lang();
    let mut output_failed = false;
    if let Err(err) = print_report(report, args, lang, header_written) {
        if err.kind() != io::ErrorKind::BrokenPipe {
            let reason = Safe(&failure::chain(&err)).to_string();
            let what = failure::io_what(m, &err, Io::Write);
            say_error(
                m,
                &m.get(
                    "msg-report-unwritable",
                    &[("reason", (&reason).into()), ("what", (&what).into())],
                ),
            );
            output_failed = true;
        }
    }
    if let Some(path) = &args.html {
        let story = story(report, args, lang);
        let html = |source| Failure::Html {
            path: path.clone(),
            source,
        };
        let file = std::fs::File::create(path).map_err(html)?;
        let mut buf = io::BufWriter::new(file);
        report::html::write(&story, report, &mut buf)
            .and_then(|()| buf.flush())
            .map_err(html)?;
        let path = SafeDisplay(path.display()).to_string();
        say!("{}", m.get("msg-html-written", &[("path", (&path).into())]));
    }
    for input in &report.inputs {
        let path = Safe(&input.path).to_string();
        if input.unreadable {
            let why = match input.problems.first() {
                // What kind of problem in the reader's words, then the reader's own sentence.
                Some(p) => Safe(&report::people::problem_line(input, p, m)).to_string(),
                None => m.get("msg-input-unreadable", &[("input", (&path).into())]),
            };
            say_error(m, &why);
        } else if !input.problems.is_empty() {
            let first = Safe(&input.problems[0].detail).to_string();
            let text = m.get(
                "msg-input-problems",
                &[
                    ("input", (&path).into()),
                    ("count", input.problems.len().into()),
                    ("first", (&first).into()),
                ],
            );
            say_warning(m, &text);
        }
    }
    // Reading nothing at all (an empty folder, captures without packets) is not an all-clear.
    let read_nothing = report.totals.packets == 0;
    let any_unreadable = report.inputs.iter().any(|i| i.unreadable);
    // Said only when no input was unreadable: those have their own message above.
    if read_nothing && !any_unreadable {
        let id = if report.inputs.is_empty() {
            "msg-nothing-read-no-input"
        } else {
            "msg-nothing-read-no-packets"
        };
        say_error(m, &m.text(id));
    }
    let unreadable = output_failed || read_nothing || any_unreadable;
    if !expected.is_empty() {
        let wrong: Vec<String> = expected
            .iter()
            .filter_map(|e| unmet(report, e, m))
            .collect();
        for w in &wrong {
            say!("{}", m.get("msg-expectation-failed", &[("what", w.into())]));
        }
        return Ok(if !wrong.is_empty() {
            ExitCode::from(1)
        } else if unreadable {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }
    Ok(
        if report
            .hosts
            .iter()
            .any(|h| h.verdict.label == Label::TomSkype)
        {
            ExitCode::from(1)
        } else if unreadable {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// The expectation `e`, when the report does not meet it, in the reader's words. Whether it
/// is met is the library's to say ([`expect::mismatches`], whose sentences are the English
/// messages); what the report holds instead is read here to tell it.
fn unmet(report: &Report, e: &expect::Expectation, m: &Messages) -> Option<String> {
    expect::mismatches(report, std::slice::from_ref(e)).pop()?;
    let expected = e.label.name();
    let text = match e.addr {
        None if report.host_count() == 0 => {
            m.get("expect-no-host", &[("expected", expected.into())])
        }
        None => m.get(
            "expect-overall",
            &[
                ("got", expect::overall(report).name().into()),
                ("expected", expected.into()),
            ],
        ),
        Some(addr) => {
            let host = addr.to_string();
            match report.label_of(addr) {
                None => m.get(
                    "expect-host-missing",
                    &[("host", (&host).into()), ("expected", expected.into())],
                ),
                Some(label) => m.get(
                    "expect-host",
                    &[
                        ("host", (&host).into()),
                        ("got", label.name().into()),
                        ("expected", expected.into()),
                    ],
                ),
            }
        }
    };
    Some(Safe(&text).to_string())
}
