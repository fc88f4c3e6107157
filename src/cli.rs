//! The command line, as flags only: parsed and validated by clap, no I/O. Each flag's doc
//! comment is its `--help`. `config.rs` turns these into the objects that do the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit codes, as `--help` states them.
pub const EXIT_CODES: &str = "Exit codes:
  0  no machine ran TOM-Skype (with --expect: every verdict as expected)
  1  a machine ran TOM-Skype (with --expect: a verdict differs)
  2  an input could not be read, or nothing was read at all; or the command itself failed";

/// Tell TOM-Skype from regular Skype in network traffic, per host, with the evidence.
///
/// Nothing leaves the machine: no reverse DNS, no WHOIS, no online GeoIP, no telemetry.
#[derive(Debug, Parser)]
#[command(
    name = "tomskype",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse capture files (pcap, pcapng, gzip'd, directories, `-` for stdin) or Zeek logs.
    #[command(after_help = EXIT_CODES)]
    Analyze(AnalyzeArgs),
    /// Capture live on an interface and analyse (needs the `live` feature and the right to capture).
    #[command(after_help = EXIT_CODES)]
    Live(LiveArgs),
    /// List the interfaces live capture can use.
    Interfaces,
    /// Show what is known of addresses, names or URLs: country, indicators, sources.
    Lookup(LookupArgs),
    /// List the loaded indicator set with its sources.
    Indicators(IndicatorsArgs),
    /// Export the indicator set for Zeek, Suricata or scripts.
    Export(ExportArgs),
    /// Write the manual pages and shell completions, made from these definitions (for packages).
    #[command(hide = true)]
    Generate {
        /// Folder to write them to (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Output formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For scripts: the versioned schema of docs/REPORT.md.
    Json,
}

/// Formats of the report of `analyze` and `live`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people, in the terminal.
    Text,
    /// For scripts: the versioned schema of docs/REPORT.md.
    Json,
    /// For pipelines: the same, one object a line (a header, one per host, a footer).
    Jsonl,
    /// For people: one self-contained HTML file (no network needed to open it), with a map.
    Html,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Options shared by everything that loads the knowledge base.
#[derive(Debug, Args)]
pub struct KnowledgeArgs {
    /// A MaxMind-format country database (.mmdb): GeoLite2/GeoIP2 Country, DB-IP, ip-location-db.
    /// `embedded` forces the shipped one. Default: the first found in the standard locations
    /// (/var/lib/GeoIP, /usr/share/GeoIP, /usr/local/share/GeoIP), else the shipped one.
    #[arg(long, value_name = "PATH|embedded")]
    pub geoip_db: Option<PathBuf>,
    /// An indicator file to add to the shipped set (format: docs/INDICATORS.md). Repeatable.
    #[arg(long = "indicators", value_name = "FILE")]
    pub indicator_files: Vec<PathBuf>,
}

/// Options shared by `analyze` and `live`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Language of the text and HTML reports: en, zh-CN (简体中文), zh-TW (繁體中文).
    /// Default: from LC_ALL, LC_MESSAGES or LANG, else English.
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
    /// Also write the HTML report to this file (one self-contained page to keep or send).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also list the machines with no sign of Skype (by default they are counted).
    #[arg(long)]
    pub all_hosts: bool,
    /// Show each piece of evidence's kind, weight, basis and indicator id (for analysts).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// A network whose addresses are the local hosts (CIDR). Repeatable. Default: private and
    /// other special-purpose ranges.
    #[arg(long = "local-net", value_name = "CIDR")]
    pub local_nets: Vec<ipnetwork::IpNetwork>,
    /// Expected verdict: `LABEL` (the capture's overall verdict) or `ADDR=LABEL` (one host's).
    /// Repeatable. Exit 0 when all match, 1 otherwise. Labels: tom-skype, regular-skype,
    /// no-skype, inconclusive.
    #[arg(long, value_name = "[ADDR=]LABEL")]
    pub expect: Vec<String>,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub knowledge: KnowledgeArgs,
}

/// `tomskype analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files, folders (searched recursively) or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Threads reading the inputs (default: one per core); with fewer files than threads, a
    /// capture file of 64 MiB or more is read by several of them, each taking its share of the
    /// address pairs.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar on stderr (it shows only on a terminal, for large inputs).
    #[arg(long)]
    pub no_progress: bool,
    /// Seconds to wait for a pipe (`-`, a named pipe, `<(cmd)`, `/dev/stdin`) to give bytes:
    /// one that gives none is reported unreadable, one that stalls is analysed up to the
    /// stall, and the others are still reported. 0 waits for ever (`tcpdump -w - | ...`).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub input_timeout: f64,
    #[command(flatten)]
    pub memory: MemoryArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// How much memory reading may use (`analyze`, `live`).
#[derive(Debug, Args)]
pub struct MemoryArgs {
    /// Memory the reading's data may hold: 512M, 2G... (bytes with K, M, G or T for KiB, MiB,
    /// GiB, TiB; 0 for no limit). When reached, the state least able to change a verdict is
    /// set aside (quiet machines summarised, their DNS names that no indicator watches
    /// dropped, then long-silent flows ended) and the report says so. The process peaks
    /// higher, by the program itself and the memory it freed but still keeps: 3 million new
    /// machines streamed under 100M peaked at 131 MB.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_memory: u64,
}

/// A size in bytes: digits, then K, M, G or T for KiB, MiB, GiB, TiB (a trailing `B` or
/// `iB` allowed, any case).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = t.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 512M, 2G)"))?;
    let unit = unit.trim().to_ascii_uppercase();
    let shift = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("`{text}` is not a size (e.g. 512M, 2G)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// `tomskype live`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Interface to capture on (default: the first up, non-loopback interface with an address).
    #[arg(long, short = 'i', value_name = "IFACE")]
    pub interface: Option<String>,
    /// Stop after this many seconds (default: on Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Also write the packets to this pcap file, to replay with `analyze`.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    #[command(flatten)]
    pub memory: MemoryArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `tomskype lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Addresses, DNS names or URLs to look up (nothing is resolved or fetched).
    #[arg(required = true, value_name = "IP|NAME|URL")]
    pub queries: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub knowledge: KnowledgeArgs,
}

/// `tomskype indicators`.
#[derive(Debug, Args)]
pub struct IndicatorsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// An indicator file to add to the shipped set. Repeatable.
    #[arg(long = "indicators", value_name = "FILE")]
    pub indicator_files: Vec<PathBuf>,
}

/// Export formats of the indicator set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Zeek Intel framework file.
    ZeekIntel,
    /// Suricata rules.
    Suricata,
    /// CSV, one indicator a line.
    Csv,
    /// JSON.
    Json,
}

/// `tomskype export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// An indicator file to add to the shipped set. Repeatable.
    #[arg(long = "indicators", value_name = "FILE")]
    pub indicator_files: Vec<PathBuf>,
    /// First Suricata sid to use.
    #[arg(long, default_value_t = 9_700_000)]
    pub sid_base: u32,
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_binary_units_in_any_case() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1500"), Ok(1500));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("64kb"), Ok(64 << 10));
        assert_eq!(parse_size(" 1 T "), Ok(1 << 40));
        for bad in [
            "",
            "G",
            "1.5G",
            "-1G",
            "12X",
            "1GG",
            "99999999999999999999T",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_size("99999999T").is_err());
    }
}
