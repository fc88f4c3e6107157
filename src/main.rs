//! `tomskype`: the command line. Parses flags (`cli`), builds the working objects (`config`),
//! runs the library's pipeline and prints the report. Exit codes: 1 when a host is
//! `tom-skype` (or, with `--expect`, when a verdict differs), 2 when an input could not be read
//! at all, 0 otherwise.

mod assets;
mod cli;
mod config;
mod progress;

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use cli::{Cli, Command, Format, ReportArgs};
use tomskype::classify::Label;
use tomskype::report::{self, expect, Report};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tomskype: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => {
            let (analyzer, expected) = config::analyzer(&args.report)?;
            let threads = args
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let inputs = tomskype::analyze::Inputs::expand(&args.paths);
            if !inputs.skipped.is_empty() {
                eprintln!(
                    "tomskype: note: skipped {} file(s) in folders that are neither captures nor Zeek logs (first: {})",
                    inputs.skipped.len(),
                    inputs.skipped[0].display()
                );
            }
            let traffic = progress::run(inputs.total_bytes(), !args.no_progress, |p| {
                inputs.read(&analyzer, threads, Some(p))
            });
            let report = analyzer.report_on(traffic, threads);
            let code = emit(&report, &args.report, &expected);
            // The process ends here: freeing the report's many small allocations one by one
            // would only delay the exit (some 20 ms on a large capture).
            std::mem::forget(report);
            code
        }
        Command::Live(args) => live(args),
        Command::Interfaces => interfaces(),
        Command::Lookup(args) => {
            let (geoip, set) = config::knowledge(&args.knowledge)?;
            let out = tomskype::lookup::lookup(&args.addrs, &geoip, &set);
            let mut stdout = io::stdout().lock();
            match args.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut stdout, &out)?;
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
        Command::Samples { out } => {
            let written = tomskype::samples::write_all(&out)
                .with_context(|| format!("cannot write samples to {}", out.display()))?;
            eprintln!("wrote {} files to {}", written.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { out } => {
            let written = assets::write_all(&out)
                .with_context(|| format!("cannot write to {}", out.display()))?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints the report and turns it into an exit code.
fn emit(report: &Report, args: &ReportArgs, expected: &[expect::Expectation]) -> Result<ExitCode> {
    {
        let mut stdout = io::stdout().lock();
        match args.format {
            Format::Json => report::json::write(report, &mut stdout)?,
            Format::Text => {
                let mut buf = io::BufWriter::new(&mut stdout);
                report::text::write(report, &mut buf, config::colour(args.color))?;
                buf.flush()?;
            }
        }
        stdout.flush()?;
    }
    for input in &report.inputs {
        if input.unreadable {
            let why = input
                .problems
                .first()
                .map(|p| p.detail.as_str())
                .unwrap_or("unreadable");
            eprintln!("tomskype: error: {}: {why}", input.path);
        } else if !input.problems.is_empty() {
            eprintln!(
                "tomskype: warning: {}: {} problem(s), analysed what could be read (first: {})",
                input.path,
                input.problems.len(),
                input.problems[0].detail
            );
        }
    }
    let unreadable = report.inputs.iter().any(|i| i.unreadable);
    if !expected.is_empty() {
        let wrong = expect::mismatches(report, expected);
        for w in &wrong {
            eprintln!("tomskype: expectation failed: {w}");
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

#[cfg(feature = "live")]
fn live(args: cli::LiveArgs) -> Result<ExitCode> {
    let (analyzer, expected) = config::analyzer(&args.report)?;
    let opts = tomskype::capture::live::Options {
        interface: args.interface.clone(),
        duration: args
            .duration
            .map(|s| {
                std::time::Duration::try_from_secs_f64(s)
                    .map_err(|_| anyhow::anyhow!("--duration {s}: not a number of seconds ≥ 0"))
            })
            .transpose()?,
        write: args.write.clone(),
        status: std::io::IsTerminal::is_terminal(&io::stderr()),
    };
    let traffic = tomskype::capture::live::run(&opts, &analyzer)?;
    let report = analyzer.report(traffic);
    emit(&report, &args.report, &expected)
}

#[cfg(not(feature = "live"))]
fn live(_args: cli::LiveArgs) -> Result<ExitCode> {
    anyhow::bail!(NO_LIVE)
}

#[cfg(feature = "live")]
fn interfaces() -> Result<ExitCode> {
    let mut stdout = io::stdout().lock();
    tomskype::capture::live::write_interfaces(&mut stdout)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "live"))]
fn interfaces() -> Result<ExitCode> {
    anyhow::bail!(NO_LIVE)
}

/// What a build without live capture says, on each system.
#[cfg(all(not(feature = "live"), target_os = "linux"))]
const NO_LIVE: &str = "this tomskype was built without live capture; install the Debian \
package or build with `apt-get install libpcap-dev` and `cargo install --path . --features live` \
(see README, \"Check your own machine\"); or capture with Wireshark and run `tomskype analyze FILE`";
#[cfg(all(not(feature = "live"), windows))]
const NO_LIVE: &str = "this tomskype.exe was built without live capture; download the release's \
tomskype.exe (see README, \"Check your own machine\"); or capture with Wireshark and run \
`tomskype analyze FILE`";
#[cfg(all(not(feature = "live"), target_os = "macos"))]
const NO_LIVE: &str = "this tomskype was built without live capture; download a release binary, \
or build with `cargo install --path . --features live` (libpcap is part of macOS); or capture \
with Wireshark and run `tomskype analyze FILE`";
#[cfg(all(
    not(feature = "live"),
    not(any(target_os = "linux", windows, target_os = "macos"))
))]
const NO_LIVE: &str = "this tomskype was built without live capture; build it with libpcap's \
development files and `cargo install --path . --features live`; or capture with Wireshark and \
run `tomskype analyze FILE`";
