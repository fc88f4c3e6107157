//! Live capture (`live`): the session loop. Reads packets from a [`Source`] without blocking,
//! so that it sees the clock and the stop flag, hands each to a [`Gatherer`] (and to the
//! `--write` file), sends [`Event`]s to the observer, samples the owners of local sockets on a
//! background thread, and ends with the [`Traffic`] of the one input `live:<interface>`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::assess;
use super::owners::{self, Owners};
use super::{Ending, Event, LiveError, Observer, Options, Outcome, Status, Summary, STATUS_EVERY};
use crate::analyze::{Analyzer, Assessment, Gatherer, Traffic};
use crate::capture::iface::SNAPLEN;
use crate::capture::write::PcapWriter;
use crate::capture::{CaptureFormat, Packet, PacketSink, Problem, ProblemKind};
use crate::flow::Tracker;
use crate::report::model::DecodeReport;
use crate::report::InputReport;

/// How long the loop sleeps when no packet is waiting (reads are non-blocking, so the loop
/// sees the clock and the stop flag; the kernel buffer holds what arrives meanwhile).
const IDLE: Duration = Duration::from_millis(20);
/// How often local sockets are matched to programs.
const PROGRAMS_EVERY: Duration = Duration::from_secs(2);

/// Packets as they arrive, read without blocking: a network interface
/// ([`capture::iface::Capture`](crate::capture::iface), feature `live`), or anything else
/// that behaves like one (a replay, a test).
pub trait Source {
    /// The name people know it by; the report names the input `live:<name>`.
    fn name(&self) -> &str;
    /// The `LINKTYPE_*` of its packets (written to the `--write` file's header).
    fn link_type(&self) -> u32;
    /// The next packet if one is waiting, `Ok(None)` if none is. An error ends the capture,
    /// keeping what was read: it is a sentence for people, lowercase, that the report shows as
    /// the input's problem.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, String>;
    /// Packets lost before they could be read, when the source can tell.
    fn dropped(&mut self) -> Option<u64>;
}

#[cfg(feature = "live")]
impl Source for crate::capture::iface::Capture {
    fn name(&self) -> &str {
        crate::capture::iface::Capture::name(self)
    }

    fn link_type(&self) -> u32 {
        // `run` refuses negative types before a session starts.
        u32::try_from(self.datalink()).unwrap_or(u32::MAX)
    }

    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, String> {
        crate::capture::iface::Capture::next_packet(self).map_err(|e| e.to_string())
    }

    fn dropped(&mut self) -> Option<u64> {
        crate::capture::iface::Capture::dropped(self)
    }
}

/// Captures on the interface named `interface` (or the default one: see
/// [`choose`](crate::capture::iface::choose)) until the duration is over, `stop` is set or the
/// interface fails, telling `observer` how it goes; returns the traffic for
/// [`Analyzer::report`]. `analyzer` also gives the verdict so far.
#[cfg(feature = "live")]
pub fn run(
    interface: Option<&str>,
    opts: &Options,
    analyzer: &Analyzer,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) -> Result<Outcome, LiveError> {
    use crate::capture::iface;

    let interfaces = iface::list()?;
    let chosen = iface::choose(&interfaces, interface)?;
    let mut cap = iface::open(chosen)?;
    match u32::try_from(cap.datalink()) {
        Ok(t) if super::link_supported(t) => {}
        _ => {
            return Err(LiveError::UnsupportedLink {
                iface: cap.name().to_owned(),
                link_type: cap.datalink(),
                name: cap.datalink_name().to_owned(),
            })
        }
    }
    run_on(&mut cap, opts, analyzer, stop, observer)
}

/// The `--write` file, as it is being written.
struct Written<'a> {
    path: &'a std::path::Path,
    writer: PcapWriter<BufWriter<File>>,
}

impl Written<'_> {
    fn error(&self, source: std::io::Error) -> LiveError {
        LiveError::Write {
            path: self.path.to_owned(),
            source,
        }
    }
}

/// Runs a session on `source`, whatever it is: the loop behind `run` (feature `live`), which
/// gives it the interface it opened.
pub fn run_on<S: Source + ?Sized>(
    source: &mut S,
    opts: &Options,
    analyzer: &Analyzer,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) -> Result<Outcome, LiveError> {
    let iface = source.name().to_owned();
    let mut written = match &opts.write {
        Some(path) => {
            let create = |source| LiveError::Create {
                path: path.clone(),
                source,
            };
            let file = File::create(path).map_err(create)?;
            let writer = PcapWriter::new(BufWriter::new(file), source.link_type(), SNAPLEN, false)
                .map_err(|source| LiveError::Write {
                    path: path.clone(),
                    source,
                })?;
            Some(Written { path, writer })
        }
        None => None,
    };
    observer.event(Event::Started {
        interface: &iface,
        duration: opts.duration,
    });

    let ctx = analyzer.context();
    let tracker = Tracker::with_watch(analyzer.indicators.watch());
    let mut gatherer = Gatherer::new(tracker, &ctx).memory(opts.memory);
    let mut packets = 0u64;
    let mut bytes = 0u64;
    let mut problems = Vec::new();
    let start = Instant::now();
    // A duration too long for the clock is no limit at all.
    let deadline = opts.duration.and_then(|d| start.checked_add(d));
    let mut next_status = start;
    let mut next_assess = start;
    let mut next_programs = start;
    let mut assessment = Assessment::default();
    let assessing = opts.progress || opts.changes;
    let (result, programs) = with_programs(|seen| -> Result<Ending, LiveError> {
        loop {
            let now = Instant::now();
            if stop.load(Ordering::Relaxed) {
                return Ok(Ending::Stopped);
            }
            if deadline.is_some_and(|d| now >= d) {
                return Ok(Ending::TimeUp);
            }
            if now >= next_programs {
                // Flows take their programs when they are gathered, which may be before the
                // session ends.
                if let Ok(seen) = seen.lock() {
                    add_programs(&mut gatherer.table_mut().programs, &seen);
                }
                next_programs = now + PROGRAMS_EVERY;
            }
            let assess_now = assessing && now >= next_assess;
            if assess_now {
                let before = assessment.verdict;
                let at_ns = wall_clock_ns();
                assessment = gatherer.assess(at_ns, &mut |change| {
                    if opts.changes {
                        observer.event(Event::HostChanged(change));
                    }
                });
                let after = Instant::now();
                let wait = assess::next_assessment(after - now);
                next_assess = after
                    .checked_add(wait)
                    .unwrap_or(after + assess::MIN_ASSESS_EVERY);
                if opts.progress && assessment.verdict != before {
                    observer.event(Event::VerdictChanged {
                        before,
                        now: assessment.verdict,
                    });
                }
            }
            // A new assessment is shown at once.
            if opts.progress && (now >= next_status || assess_now) {
                observer.event(Event::Status(Status {
                    elapsed: now - start,
                    packets,
                    bytes,
                    flows_open: gatherer.flows_going(),
                    assessment,
                }));
                next_status = now + STATUS_EVERY;
            }
            match source.next_packet() {
                Ok(Some(packet)) => {
                    packets += 1;
                    bytes += packet.data.len() as u64;
                    gatherer.packet(&packet);
                    if let Some(w) = written.as_mut() {
                        w.writer
                            .write_packet(packet.ts_nanos, packet.orig_len, packet.data)
                            .map_err(|e| w.error(e))?;
                    }
                }
                Ok(None) => std::thread::sleep(IDLE),
                Err(detail) => {
                    // The interface went away or failed: keep what was captured.
                    problems.push(Problem {
                        kind: ProblemKind::Io,
                        packet: Some(packets + 1),
                        offset: Some(bytes),
                        detail: detail.clone(),
                    });
                    return Ok(Ending::Failed { detail });
                }
            }
        }
    });
    let ending = result?;
    let elapsed = start.elapsed();
    if opts.changes {
        // A last look: every verdict the report will give has been told as a change.
        gatherer.assess(wall_clock_ns(), &mut |change| {
            observer.event(Event::HostChanged(change));
        });
    }
    if let Some(w) = written {
        let error = |source| LiveError::Write {
            path: w.path.to_owned(),
            source,
        };
        w.writer.into_inner().flush().map_err(error)?;
    }
    let summary = Summary {
        interface: iface.clone(),
        elapsed,
        packets,
        bytes,
        dropped: source.dropped(),
        ending,
    };
    observer.event(Event::Finished(&summary));

    add_programs(&mut gatherer.table_mut().programs, &programs);
    let mut input = InputReport::new(format!("live:{iface}"), CaptureFormat::Pcap);
    input.packets = packets;
    input.bytes = bytes;
    input.problems = problems;
    let (gathered, stats) = gatherer.finish();
    input.decode = DecodeReport::from(&stats);
    Ok(Outcome {
        traffic: Traffic {
            gathered,
            inputs: vec![input],
        },
        summary,
    })
}

/// Adds the owners in `seen` that `programs` does not have yet (the first owner seen of a
/// socket is kept).
fn add_programs(programs: &mut Owners, seen: &Owners) {
    for (socket, program) in seen {
        if !programs.contains_key(socket) {
            programs.insert(*socket, program.clone());
        }
    }
}

/// Now, in ns since the epoch (the time of an assessment; live packets are stamped with the
/// same clock).
fn wall_clock_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Runs `work` while sampling which programs own which local sockets: once before, every
/// [`PROGRAMS_EVERY`] on a background thread, and once after. The first owner seen of a
/// socket is kept. `work` can look at those seen so far. Where the system cannot tell (see
/// [`owners`]), nothing is sampled.
fn with_programs<T>(work: impl FnOnce(&Mutex<Owners>) -> T) -> (T, Owners) {
    use std::sync::mpsc;

    if !owners::SUPPORTED {
        return (work(&Mutex::default()), Owners::default());
    }
    let seen = Mutex::new(owners::snapshot());
    let add = |snap: Owners| {
        // A poisoned lock means the other thread panicked; the scope re-raises it.
        if let Ok(mut seen) = seen.lock() {
            for (socket, program) in snap {
                seen.entry(socket).or_insert(program);
            }
        }
    };
    let (done, wait) = mpsc::channel::<()>();
    let out = std::thread::scope(|s| {
        let add = &add;
        s.spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(PROGRAMS_EVERY) {
                add(owners::snapshot());
            }
        });
        let out = work(&seen);
        drop(done);
        out
    });
    add(owners::snapshot());
    (out, seen.into_inner().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::Path;

    use super::*;
    use crate::addr::LocalNets;
    use crate::classify::Label;
    use crate::knowledge::geoip::GeoIp;
    use crate::knowledge::indicators::IndicatorSet;

    /// A recorded capture played as if it arrived now: every packet once, then nothing; it
    /// sets the stop flag after `stop_after` empty polls (never when None).
    struct Replay<'a> {
        link_type: u32,
        packets: Vec<(i64, u32, Vec<u8>)>,
        next: usize,
        empty_polls: usize,
        stop_after: Option<usize>,
        stop: &'a AtomicBool,
        fail_at_end: bool,
    }

    impl<'a> Replay<'a> {
        fn new(path: &str, stop: &'a AtomicBool) -> Replay<'a> {
            let bytes = std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../..")
                    .join(path),
            )
            .unwrap();
            Replay::of(&bytes, stop)
        }

        fn of(bytes: &[u8], stop: &'a AtomicBool) -> Replay<'a> {
            let mut packets = Vec::new();
            let mut link_type = 0;
            crate::capture::read_bytes(bytes, &mut |p: &Packet<'_>| {
                link_type = p.link_type;
                packets.push((p.ts_nanos, p.orig_len, p.data.to_vec()));
            });
            assert!(!packets.is_empty());
            Replay {
                link_type,
                packets,
                next: 0,
                empty_polls: 0,
                stop_after: Some(0),
                stop,
                fail_at_end: false,
            }
        }
    }

    impl Source for Replay<'_> {
        fn name(&self) -> &str {
            "replay0"
        }

        fn link_type(&self) -> u32 {
            self.link_type
        }

        fn next_packet(&mut self) -> Result<Option<Packet<'_>>, String> {
            let Some((ts, orig_len, data)) = self.packets.get(self.next) else {
                if self.fail_at_end {
                    return Err("capture on replay0 stopped: gone".into());
                }
                self.empty_polls += 1;
                if self.stop_after.is_some_and(|n| self.empty_polls > n) {
                    self.stop.store(true, Ordering::Relaxed);
                }
                return Ok(None);
            };
            self.next += 1;
            Ok(Some(Packet {
                number: self.next as u64,
                offset: 0,
                ts_nanos: *ts,
                link_type: self.link_type,
                orig_len: *orig_len,
                data,
            }))
        }

        fn dropped(&mut self) -> Option<u64> {
            Some(0)
        }
    }

    fn analyzer() -> Analyzer {
        Analyzer {
            geoip: GeoIp::embedded().unwrap(),
            indicators: IndicatorSet::embedded().unwrap(),
            local: LocalNets::new(Vec::new()),
        }
    }

    const BEACON: &str = "captures/tom-skype-cn-2011-login-beacon.pcap";

    /// The events a session sent, as owned values.
    #[derive(Debug, PartialEq)]
    enum Seen {
        Started(String, Option<Duration>),
        Status(u64),
        Changed(Option<(IpAddr, Label)>),
        Host(IpAddr, Label, Label),
        Finished(Summary),
    }

    fn record(seen: &mut Vec<Seen>) -> impl FnMut(Event<'_>) + '_ {
        move |e| {
            seen.push(match e {
                Event::Started {
                    interface,
                    duration,
                } => Seen::Started(interface.to_owned(), duration),
                Event::Status(s) => Seen::Status(s.packets),
                Event::VerdictChanged { now, .. } => Seen::Changed(now),
                Event::HostChanged(c) => Seen::Host(c.host.address, c.was, c.host.verdict.label),
                Event::Finished(s) => Seen::Finished(s.clone()),
            })
        }
    }

    #[test]
    fn a_session_reads_until_stopped_writes_and_gives_the_files_verdict() {
        let analyzer = analyzer();
        let stop = AtomicBool::new(false);
        let mut source = Replay::new(BEACON, &stop);
        let n = source.packets.len() as u64;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("live.pcap");
        let opts = Options {
            write: Some(out.clone()),
            ..Options::default()
        };
        let mut seen = Vec::new();
        let outcome = run_on(&mut source, &opts, &analyzer, &stop, &mut record(&mut seen)).unwrap();
        // Without progress: only the start and the end.
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0], Seen::Started("replay0".into(), None));
        let Seen::Finished(summary) = &seen[1] else {
            panic!("{seen:?}")
        };
        assert_eq!(summary, &outcome.summary);
        assert_eq!(
            (summary.packets, summary.ending.clone(), summary.dropped),
            (n, Ending::Stopped, Some(0))
        );
        let live = analyzer.report(outcome.traffic);
        assert_eq!(live.inputs[0].path, "live:replay0");
        assert_eq!(live.inputs[0].packets, n);
        assert!(live
            .hosts
            .iter()
            .any(|h| h.verdict.label == Label::TomSkype));

        // The written file is the same traffic: the same verdicts.
        let inputs = crate::analyze::Inputs::expand(&[out]);
        let replayed = analyzer.report(inputs.read(&analyzer, 1, None));
        assert_eq!(replayed.inputs[0].packets, n);
        let verdicts = |r: &crate::report::Report| -> Vec<(String, Label)> {
            r.hosts
                .iter()
                .map(|h| (h.address.to_string(), h.verdict.label))
                .collect()
        };
        assert_eq!(verdicts(&live), verdicts(&replayed));
    }

    #[test]
    fn progress_tells_the_verdict_so_far() {
        let analyzer = analyzer();
        let stop = AtomicBool::new(false);
        let mut source = Replay::new(BEACON, &stop);
        source.stop_after = None;
        let opts = Options {
            // A safety net: the observer stops the session as soon as the verdict is there.
            duration: Some(Duration::from_secs(20)),
            progress: true,
            ..Options::default()
        };
        let mut seen = Vec::new();
        let mut record = record(&mut seen);
        let outcome = run_on(&mut source, &opts, &analyzer, &stop, &mut |e: Event<'_>| {
            if let Event::VerdictChanged {
                now: Some((_, Label::TomSkype)),
                ..
            } = e
            {
                stop.store(true, Ordering::Relaxed);
            }
            record(e)
        })
        .unwrap();
        drop(record);
        assert_eq!(outcome.summary.ending, Ending::Stopped, "{seen:?}");
        // The first status comes at once, before any packet.
        assert_eq!(seen[1], Seen::Status(0));
        let changed = seen
            .iter()
            .position(|s| matches!(s, Seen::Changed(Some((_, Label::TomSkype)))))
            .unwrap();
        // Each change comes with the status that shows it.
        assert!(
            matches!(seen[changed + 1], Seen::Status(p) if p > 0),
            "{seen:?}"
        );
        assert!(matches!(seen.last(), Some(Seen::Finished(_))));
    }

    #[test]
    fn a_long_session_keeps_only_the_flows_still_going_and_tells_the_hosts_that_change() {
        let analyzer = analyzer();
        let stop = AtomicBool::new(false);
        let capture = crate::samples::watch_tests::an_hour_then_a_login();
        let mut source = Replay::of(&capture, &stop);
        source.stop_after = None;
        let n = source.packets.len() as u64;
        let opts = Options {
            // A safety net: the observer stops the session once it has seen what it waits for.
            duration: Some(Duration::from_secs(30)),
            progress: true,
            changes: true,
            ..Options::default()
        };
        let mut open_at_end = None;
        let mut hosts = Vec::new();
        let mut record = record(&mut hosts);
        let outcome = run_on(&mut source, &opts, &analyzer, &stop, &mut |e: Event<'_>| {
            if let Event::Status(s) = e {
                open_at_end = open_at_end.or((s.packets == n).then_some(s.flows_open));
            }
            let told = matches!(e, Event::HostChanged(_));
            record(e);
            if open_at_end.is_some() && told {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .unwrap();
        drop(record);
        assert_eq!(outcome.summary.packets, n);
        // The flows of the last timeout and sweep period, and the login's: not the hour's 3,600.
        let open = open_at_end.expect("a status after the last packet");
        assert!(open <= 140, "{open} flows still in the table");
        let told: Vec<&Seen> = hosts
            .iter()
            .filter(|s| matches!(s, Seen::Host(..)))
            .collect();
        let login = "10.0.0.23".parse().unwrap();
        assert_eq!(told, [&Seen::Host(login, Label::NoSkype, Label::TomSkype)]);
        let report = analyzer.report(outcome.traffic);
        let quiet = report
            .hosts
            .iter()
            .find(|h| h.address.to_string() == "10.0.0.3")
            .expect("the quiet machine, reported in full by live");
        assert_eq!(quiet.coverage.flows, 3600);
    }

    #[test]
    fn a_failing_source_or_the_clock_ends_the_session_keeping_what_was_read() {
        let analyzer = analyzer();
        let stop = AtomicBool::new(false);
        let mut source = Replay::new(BEACON, &stop);
        source.fail_at_end = true;
        let n = source.packets.len() as u64;
        let outcome = run_on(
            &mut source,
            &Options::default(),
            &analyzer,
            &stop,
            &mut |_: Event<'_>| {},
        )
        .unwrap();
        let detail = "capture on replay0 stopped: gone".to_owned();
        assert_eq!(outcome.summary.ending, Ending::Failed { detail });
        let input = &outcome.traffic.inputs[0];
        assert_eq!(input.packets, n);
        assert_eq!(input.problems[0].packet, Some(n + 1));

        let mut source = Replay::new(BEACON, &stop);
        let opts = Options {
            duration: Some(Duration::ZERO),
            ..Options::default()
        };
        let outcome = run_on(&mut source, &opts, &analyzer, &stop, &mut |_: Event<'_>| {}).unwrap();
        assert_eq!(outcome.summary.ending, Ending::TimeUp);
        assert_eq!(outcome.summary.packets, 0);
    }

    #[test]
    fn a_write_file_that_cannot_be_created_is_an_error_before_the_start() {
        let analyzer = analyzer();
        let stop = AtomicBool::new(false);
        let mut source = Replay::new(BEACON, &stop);
        let opts = Options {
            write: Some("/nonexistent-dir/live.pcap".into()),
            ..Options::default()
        };
        let mut started = false;
        let err = run_on(&mut source, &opts, &analyzer, &stop, &mut |_: Event<'_>| {
            started = true
        })
        .unwrap_err();
        assert!(matches!(err, LiveError::Create { .. }), "{err:?}");
        assert!(!started);
    }

    #[test]
    fn programs_are_sampled_around_the_work() {
        if !owners::SUPPORTED {
            return;
        }
        // Wine gives sockets no owner (see `owners::iphlp`).
        #[cfg(windows)]
        if owners::iphlp::under_wine() {
            return;
        }
        // A socket of this very process must be attributed to it.
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let (n, programs) = with_programs(|_| 7);
        assert_eq!(n, 7);
        let me = format!("(pid {})", std::process::id());
        let got = programs.get(&("127.0.0.1".parse().unwrap(), port, 17));
        assert!(got.is_some_and(|p| p.ends_with(&me)), "{got:?}");
    }
}
